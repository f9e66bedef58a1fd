/**
 * The ACL table (ZooKeeper's ReferenceCountedACLCache): nodes with equal ACLs share one
 * array, counted by the nodes that use it, so a million nodes with the default ACL hold
 * one copy of it. Shared arrays are never changed; a node that gets a new ACL takes
 * another entry.
 */
import type { ACL } from '../jute/index.js';

function keyOf(acl: readonly ACL[]): string {
  return acl.map((entry) => `${entry.perms}\u0000${entry.id.scheme}\u0000${entry.id.id}`).join('\u0001');
}

export class AclCache {
  private readonly byKey = new Map<string, { acl: ACL[]; refs: number }>();
  private readonly keys = new WeakMap<ACL[], string>();

  /** The shared array equal to `acl`, counted once more. */
  intern(acl: readonly ACL[]): ACL[] {
    const key = this.keys.get(acl as ACL[]) ?? keyOf(acl);
    let entry = this.byKey.get(key);
    if (!entry) {
      const shared = Object.freeze(acl.map((e) => Object.freeze({ perms: e.perms, id: Object.freeze({ ...e.id }) }))) as ACL[];
      entry = { acl: shared, refs: 0 };
      this.byKey.set(key, entry);
      this.keys.set(shared, key);
    }
    entry.refs++;
    return entry.acl;
  }

  /** A node stopped using a shared array. */
  release(acl: ACL[]): void {
    const key = this.keys.get(acl);
    if (key === undefined) return;
    const entry = this.byKey.get(key);
    if (!entry) return;
    entry.refs--;
    if (entry.refs <= 0) this.byKey.delete(key);
  }

  /** Distinct ACLs in use. */
  get size(): number {
    return this.byKey.size;
  }
}
