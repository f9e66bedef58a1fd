/** The commit stage: the durable log stands between prep and apply. */
import type { Txn } from '../tree/index.js';
import type { Committer } from './pipeline.js';
import { nodePlatform } from '../platform/index.js';
import type { Timers } from '../platform/index.js';

/** What the durable committer needs from storage. */
export interface TxnSink {
  append(batch: readonly Txn[]): Promise<void>;
}

/**
 * Group commit: txns that arrive while a batch is being written and synced wait, and go to
 * disk together in the next batch with one fsync. A txn is applied (and its client answered)
 * only after the sync that covers it.
 */
export class DurableCommitter implements Committer {
  private pending: Txn[] = [];
  private writing = false;
  private failed = false;

  constructor(
    private readonly sink: TxnSink,
    private readonly commit: (batch: readonly Txn[]) => void,
    private readonly fatal: (error: Error) => void,
    private readonly timers: Timers = nodePlatform.timers,
  ) {}

  propose(txn: Txn): void {
    if (this.failed) return;
    this.pending.push(txn);
    if (!this.writing) {
      this.writing = true;
      // Let the rest of this turn's requests join the batch.
      this.timers.soon(() => void this.writeBatches());
    }
  }

  private async writeBatches(): Promise<void> {
    while (this.pending.length > 0 && !this.failed) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.sink.append(batch);
        this.commit(batch);
      } catch (error) {
        // A failed write, or an impossible state while applying: nothing more may be acknowledged.
        this.failed = true;
        this.pending = [];
        this.fatal(error as Error);
        break;
      }
    }
    this.writing = false;
  }
}
