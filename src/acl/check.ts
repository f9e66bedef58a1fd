/**
 * Permission checks as ZooKeeper's ZooKeeperServer.checkACL does them: the super user and an
 * empty ACL pass; otherwise some entry that grants one of the wanted bits must match one of
 * the caller's ids (world:anyone matches everyone, digest and sasl by equality, ip by
 * address or CIDR).
 */
import { isIP } from 'node:net';
import type { ACL, Id } from '../jute/index.js';

function ipToBytes(address: string): number[] | null {
  const family = isIP(address);
  if (family === 4) return address.split('.').map(Number);
  if (family !== 6) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return ipToBytes(mapped[1]!);
  const [head, tail] = address.split('::') as [string, string | undefined];
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array<string>(8 - headParts.length - tailParts.length).fill('0');
  const groups = [...headParts, ...fill, ...tailParts];
  const bytes: number[] = [];
  for (const group of groups) {
    const value = Number.parseInt(group || '0', 16);
    bytes.push(value >> 8, value & 0xff);
  }
  return bytes;
}

export function ipMatches(clientAddress: string, aclId: string): boolean {
  const [network = '', bitsText] = aclId.split('/');
  const client = ipToBytes(clientAddress);
  const net = ipToBytes(network);
  if (!client || !net || client.length !== net.length) return false;
  const bits = bitsText === undefined ? net.length * 8 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > net.length * 8) return false;
  for (let i = 0; i < net.length; i++) {
    const maskBits = Math.max(0, Math.min(8, bits - i * 8));
    const mask = maskBits === 0 ? 0 : (0xff << (8 - maskBits)) & 0xff;
    if ((client[i]! & mask) !== (net[i]! & mask)) return false;
  }
  return true;
}

function idMatches(authId: Id, aclId: Id): boolean {
  if (authId.scheme !== aclId.scheme) return false;
  if (aclId.scheme === 'ip') return ipMatches(authId.id, aclId.id);
  return authId.id === aclId.id;
}

export function isSuper(authIds: readonly Id[]): boolean {
  return authIds.some((id) => id.scheme === 'super');
}

/** True when `authIds` may do an operation needing any of the `perm` bits on a node with `acl`. */
export function permits(acl: readonly ACL[], perm: number, authIds: readonly Id[]): boolean {
  if (acl.length === 0 || isSuper(authIds)) return true;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    if (entry.id.scheme === 'world' && entry.id.id === 'anyone') return true;
    for (const authId of authIds) if (idMatches(authId, entry.id)) return true;
  }
  return false;
}
