/**
 * ACL validation (ZooKeeper's fixupACL): the `auth` scheme expands to the caller's ids,
 * other schemes must be known and their ids well-formed. Permission checks come with the
 * auth providers.
 */
import type { ACL, Id } from '../jute/index.js';
import { isIP } from 'node:net';
import { createHash } from 'node:crypto';

const DIGEST_ID = /^[^:]+:[A-Za-z0-9+/=]+$/;

function validIpId(id: string): boolean {
  const [address, bits, ...rest] = id.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d+$/.test(bits)) return false;
  const mask = Number(bits);
  return mask >= 0 && mask <= (family === 4 ? 32 : 128);
}

export function validId(id: Id): boolean {
  switch (id.scheme) {
    case 'world':
      return id.id === 'anyone';
    case 'digest':
      return DIGEST_ID.test(id.id);
    case 'ip':
      return validIpId(id.id);
    case 'super':
    case 'sasl':
    case 'x509':
      return id.id.length > 0;
    default:
      return false;
  }
}

/**
 * Returns the ACL to store, or null when it is invalid (InvalidACL): empty, an unknown
 * scheme, a malformed id, or `auth` with no authenticated ids on the connection.
 */
export function fixupAcl(acl: readonly ACL[], authIds: readonly Id[]): ACL[] | null {
  if (acl.length === 0) return null;
  const result: ACL[] = [];
  for (const entry of acl) {
    if (entry.perms < 0 || entry.perms > 31) return null;
    if (entry.id.scheme === 'auth') {
      const expandable = authIds.filter((id) => id.scheme !== 'ip' && id.scheme !== 'world');
      if (expandable.length === 0) return null;
      for (const id of expandable) result.push({ perms: entry.perms, id: { scheme: id.scheme, id: id.id } });
      continue;
    }
    if (!validId(entry.id)) return null;
    result.push({ perms: entry.perms, id: { scheme: entry.id.scheme, id: entry.id.id } });
  }
  return dedupe(result);
}

function dedupe(acl: ACL[]): ACL[] {
  const seen = new Set<string>();
  return acl.filter((entry) => {
    const key = `${entry.perms}\u0000${entry.id.scheme}\u0000${entry.id.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The digest scheme's id for a user: user:base64(sha1("user:password")). */
export function digestId(userAndPassword: string): string {
  const user = userAndPassword.split(':', 1)[0]!;
  const hash = createHash('sha1').update(userAndPassword, 'utf8').digest('base64');
  return `${user}:${hash}`;
}
