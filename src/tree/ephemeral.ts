/**
 * What a node's ephemeralOwner means (ZooKeeper's EphemeralType): 0 is a persistent node,
 * Long.MIN_VALUE a container, a top byte of 0xFF a TTL node with the TTL in the low bits,
 * and anything else the id of the session that owns an ephemeral node.
 */
export const CONTAINER_OWNER = -(1n << 63n);
const TTL_TAG = 0xffn;
/** ZooKeeper keeps 40 bits for the TTL (EphemeralType.MAX_EXTENDED_TTL). */
export const MAX_TTL_MS = (1n << 40n) - 1n;

export type OwnerKind = 'persistent' | 'ephemeral' | 'container' | 'ttl';

export function ownerKind(owner: bigint): OwnerKind {
  if (owner === 0n) return 'persistent';
  if (owner === CONTAINER_OWNER) return 'container';
  if ((BigInt.asUintN(64, owner) >> 56n) === TTL_TAG) return 'ttl';
  return 'ephemeral';
}

export function ttlOwner(ttlMs: bigint): bigint {
  return BigInt.asIntN(64, (TTL_TAG << 56n) | ttlMs);
}

export function ttlOf(owner: bigint): bigint {
  return BigInt.asUintN(64, owner) & ((1n << 56n) - 1n);
}
