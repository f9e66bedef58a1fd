/** Majority quorums over the voting members (ZooKeeper's QuorumMaj). Observers never count. */
import type { ServerId } from './types.js';

export class Quorum {
  readonly voters: ReadonlySet<ServerId>;
  readonly observers: ReadonlySet<ServerId>;
  /** The smallest number of voters that is a majority. */
  readonly size: number;

  constructor(voters: readonly ServerId[], observers: readonly ServerId[]) {
    this.voters = new Set(voters);
    this.observers = new Set(observers);
    this.size = Math.floor(this.voters.size / 2) + 1;
  }

  isVoter(id: ServerId): boolean {
    return this.voters.has(id);
  }

  isMember(id: ServerId): boolean {
    return this.voters.has(id) || this.observers.has(id);
  }

  containsQuorum(ids: Iterable<ServerId>): boolean {
    let count = 0;
    for (const id of new Set(ids)) if (this.voters.has(id)) count++;
    return count >= this.size;
  }
}
