/**
 * The in-memory tail of a member's txn log: every logged txn that is not yet committed, and
 * up to `windowSize` committed ones before them (ZooKeeper's committedLog, used for DIFF).
 */
import type { Txn } from '../tree/index.js';
import { zxidHex } from './types.js';

export class TxnWindow {
  private entries: Txn[] = [];
  /** The last logged zxid; the zxid of the last entry when there are entries. */
  private last: bigint;

  constructor(lastZxid: bigint, recent: readonly Txn[], private readonly fail: (message: string) => never) {
    this.last = recent.length > 0 ? -1n : lastZxid;
    for (const txn of recent) this.append(txn);
    if (this.last !== lastZxid) fail(`recentLog ends at ${zxidHex(this.last)}, lastLoggedZxid is ${zxidHex(lastZxid)}`);
  }

  get lastZxid(): bigint {
    return this.last;
  }

  get size(): number {
    return this.entries.length;
  }

  /** The oldest zxid held in memory, or null when nothing is. */
  get firstZxid(): bigint | null {
    return this.entries[0]?.zxid ?? null;
  }

  append(txn: Txn): void {
    if (txn.zxid <= this.last) this.fail(`zxid not increasing: ${zxidHex(txn.zxid)} after ${zxidHex(this.last)}`);
    this.entries.push(txn);
    this.last = txn.zxid;
  }

  /** Index of the first entry with a zxid greater than `zxid`. */
  indexAfter(zxid: bigint): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.entries[mid] as Txn).zxid <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  contains(zxid: bigint): boolean {
    const i = this.indexAfter(zxid) - 1;
    return i >= 0 && (this.entries[i] as Txn).zxid === zxid;
  }

  /** Entries with after < zxid <= upTo. */
  range(after: bigint, upTo: bigint): Txn[] {
    return this.entries.slice(this.indexAfter(after), this.indexAfter(upTo));
  }

  /** The greatest held zxid below `zxid`, or null. */
  previous(zxid: bigint): bigint | null {
    const i = this.indexAfter(zxid - 1n) - 1;
    return i >= 0 ? (this.entries[i] as Txn).zxid : null;
  }

  truncate(zxid: bigint): void {
    this.entries.length = this.indexAfter(zxid);
    this.last = zxid;
  }

  /** After a snapshot install: nothing in memory, the log restarts after `zxid`. */
  reset(zxid: bigint): void {
    this.entries = [];
    this.last = zxid;
  }

  /** Forgets the oldest committed entries beyond `windowSize` (entries after `committed` stay). */
  trim(committed: bigint, windowSize: number): void {
    const committedCount = this.indexAfter(committed);
    const excess = committedCount - windowSize;
    if (excess > 0) this.entries.splice(0, excess);
  }
}
