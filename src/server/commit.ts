/**
 * The commit stage of a standalone server (an ensemble of one): txns proposed during one
 * turn of the event loop are committed together on the next, in zxid order. This is where
 * the transaction log's group commit (append all, one fsync, then commit all) plugs in.
 */
import type { Txn } from '../tree/index.js';
import type { Committer } from './pipeline.js';

export class LocalCommitter implements Committer {
  private batch: Txn[] = [];
  private scheduled = false;

  constructor(private readonly commit: (txn: Txn) => void) {}

  propose(txn: Txn): void {
    this.batch.push(txn);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.batch;
    this.batch = [];
    for (const txn of batch) this.commit(txn);
  }
}
