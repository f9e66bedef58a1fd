/**
 * ACL validation (ZooKeeper's fixupACL): the `auth` scheme expands to the caller's ids,
 * other schemes must be known and their ids well-formed. Permission checks come with the
 * auth providers.
 */
import type { ACL, Id } from '../jute/index.js';
import { isIP } from 'node:net';
import { createHash } from 'node:crypto';

/** DigestAuthenticationProvider.isValid: Java's id.split(":") must give two parts. */
function validDigestId(id: string): boolean {
  const parts = id.split(':');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.length === 2;
}

/** IPv4 as IPAuthenticationProvider.addr2Bytes reads it: four Integer.parseInt bytes. */
function ipv4Bytes(address: string): boolean {
  const parts = address.split('.');
  return parts.length === 4 && parts.every((part) => /^[+-]?\d+$/.test(part) && Number(part) >= 0 && Number(part) <= 255);
}

function validIpId(id: string): boolean {
  const slash = id.indexOf('/');
  const address = slash === -1 ? id : id.slice(0, slash);
  const bits = slash === -1 ? undefined : id.slice(slash + 1);
  // IPv6 ids are ZooKeeper 3.9's; 3.8 takes IPv4 only.
  const width = ipv4Bytes(address) ? 32 : isIP(address) === 6 ? 128 : 0;
  if (width === 0) return false;
  if (bits === undefined) return true;
  if (!/^[+-]?\d+$/.test(bits)) return false;
  const mask = Number(bits);
  return mask >= 0 && mask <= width;
}

export interface AclProviders {
  /** SASLAuthenticationProvider is configured: `sasl` ids are valid. */
  sasl: boolean;
}

/** An id of a scheme with a server provider, well formed (the provider's isValid). */
export function validId(id: Id, providers: AclProviders = { sasl: false }): boolean {
  switch (id.scheme) {
    case 'world':
      return id.id === 'anyone';
    case 'digest':
      return validDigestId(id.id);
    case 'ip':
      return validIpId(id.id);
    case 'sasl':
      return providers.sasl && id.id.length > 0;
    default:
      // super and x509 have no provider in a default ZooKeeper server either.
      return false;
  }
}

/**
 * Returns the ACL to store, or null when it is invalid (InvalidACL): empty, an unknown
 * scheme, a malformed id, or `auth` with no authenticated ids on the connection.
 */
export function fixupAcl(acl: readonly ACL[], authIds: readonly Id[], providers: AclProviders = { sasl: false }): ACL[] | null {
  if (acl.length === 0) return null;
  const result: ACL[] = [];
  for (const entry of acl) {
    if (entry.id.scheme === 'auth') {
      // Only providers whose ids prove who the caller is expand (isAuthenticated): not ip.
      const expandable = authIds.filter((id) => id.scheme === 'digest' || id.scheme === 'sasl');
      if (expandable.length === 0) return null;
      for (const id of expandable) result.push({ perms: entry.perms, id: { scheme: id.scheme, id: id.id } });
      continue;
    }
    if (!validId(entry.id, providers)) return null;
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
