/**
 * ZooKeeper's ContainerManager: every check interval, containers that have had children
 * and have none left, and TTL nodes without children unchanged for longer than their TTL,
 * are deleted through ordinary txns (so every member deletes them at the same zxid).
 */
import { ownerKind, ttlOf } from '../tree/index.js';
import type { DataTree } from '../tree/index.js';

/** Paths due for deletion now, at most `limit` of them. */
export function reapCandidates(tree: DataTree, nowMs: number, limit: number): string[] {
  const due: string[] = [];
  for (const path of tree.containerPaths()) {
    if (due.length >= limit) return due;
    const node = tree.get(path);
    if (node && node.cversion > 0 && node.children.size === 0) due.push(path);
  }
  for (const path of tree.ttlPaths()) {
    if (due.length >= limit) return due;
    const node = tree.get(path);
    if (!node || node.children.size > 0 || ownerKind(node.ephemeralOwner) !== 'ttl') continue;
    if (BigInt(nowMs - node.mtimeMs) > ttlOf(node.ephemeralOwner)) due.push(path);
  }
  return due;
}
