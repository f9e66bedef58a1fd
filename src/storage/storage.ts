/**
 * A server's durable state: the transaction log it appends to, the snapshots it takes every
 * `snapCount`-ish txns, recovery at start and purging of old files.
 */
import { join } from 'node:path';
import type { DataTree, Txn } from '../tree/index.js';
import { nodeFileSystem } from './fs.js';
import type { FileSystem } from './fs.js';
import { purge } from './purge.js';
import type { PurgeResult } from './purge.js';
import { recover } from './recovery.js';
import type { Recovered, RecoveryLog } from './recovery.js';
import { listSnapshots, snapshotName, verifySnapshotBytes, writeSnapshot } from './snapshot.js';
import { TxnLog } from './txnlog.js';

/** Paddock's files live in a folder of their own, so a ZooKeeper dataDir is never mixed in. */
export const STORAGE_SUBDIR = 'paddock-v1';

export interface StorageOptions {
  dataDir: string;
  dataLogDir: string;
  forceSync: boolean;
  preallocBytes: number;
  snapCount: number;
  compressSnapshots: boolean;
  truncateCorrupt: boolean;
  log: RecoveryLog & { error(obj: object, msg: string): void };
  fs?: FileSystem;
  /** Randomness for the snapshot point; injected so a simulation replays exactly. */
  random?: () => number;
  /** Recovery returns the logged txns instead of applying them (an ensemble member). */
  collectLogged?: boolean;
}

export function storageDirs(dataDir: string, dataLogDir: string): { snapDir: string; logDir: string } {
  return { snapDir: join(dataDir, STORAGE_SUBDIR), logDir: join(dataLogDir, STORAGE_SUBDIR) };
}

export class Storage {
  readonly fs: FileSystem;
  readonly snapDir: string;
  readonly logDir: string;
  private readonly log: TxnLog;
  private txnsSinceSnapshot = 0;
  private snapshotThreshold: number;
  private snapshotInFlight: Promise<void> | null = null;
  private readonly random: () => number;
  snapshotsTaken = 0;

  private constructor(
    private readonly options: StorageOptions,
    lastZxid: bigint,
  ) {
    this.fs = options.fs ?? nodeFileSystem;
    ({ snapDir: this.snapDir, logDir: this.logDir } = storageDirs(options.dataDir, options.dataLogDir));
    this.random = options.random ?? Math.random;
    this.log = new TxnLog({ dir: this.logDir, fs: this.fs, preallocBytes: options.preallocBytes, forceSync: options.forceSync }, lastZxid);
    this.snapshotThreshold = this.nextThreshold();
  }

  static async open(options: StorageOptions): Promise<{ storage: Storage; recovered: Recovered }> {
    const fs = options.fs ?? nodeFileSystem;
    const { snapDir, logDir } = storageDirs(options.dataDir, options.dataLogDir);
    await fs.mkdirp(snapDir);
    await fs.mkdirp(logDir);
    if (!options.forceSync) options.log.warn({}, 'forceSync=no: writes are acknowledged before they are on disk; for tests only');
    const recovered = await recover({ fs, snapDir, logDir, truncateCorrupt: options.truncateCorrupt, collectLogged: options.collectLogged, log: options.log });
    return { storage: new Storage(options, recovered.lastZxid), recovered };
  }

  /** ZooKeeper snaps at a random point in [snapCount/2 + 1, snapCount] so members do not snap at once. */
  private nextThreshold(): number {
    const half = Math.floor(this.options.snapCount / 2);
    return half + 1 + Math.floor(this.random() * Math.max(1, this.options.snapCount - half));
  }

  /** Appends and syncs a batch; resolves when every txn in it is durable. */
  append(batch: readonly Txn[]): Promise<void> {
    return this.log.append(batch);
  }

  /** Counts committed txns and starts a snapshot in the background when it is time. */
  committed(tree: DataTree, count: number): void {
    this.txnsSinceSnapshot += count;
    if (this.txnsSinceSnapshot < this.snapshotThreshold) return;
    if (this.snapshotInFlight) {
      this.options.log.warn({}, 'too busy to snapshot: the previous one is still being written');
      return;
    }
    // Its failures are logged where it is started; the log keeps every txn meanwhile.
    void this.startSnapshot(tree);
  }

  /** Starts a snapshot now unless one is running; resolves when it is durable. */
  snapshot(tree: DataTree): Promise<void> {
    return this.snapshotInFlight ?? this.startSnapshot(tree);
  }

  private startSnapshot(tree: DataTree): Promise<void> {
    this.txnsSinceSnapshot = 0;
    this.snapshotThreshold = this.nextThreshold();
    this.log.roll();
    const started = Date.now();
    const work = writeSnapshot(tree, { fs: this.fs, dir: this.snapDir, compress: this.options.compressSnapshots }).then(
      (written) => {
        this.snapshotsTaken++;
        this.options.log.info({ snapshot: written.name, sizeBytes: written.sizeBytes, ms: Date.now() - started }, 'snapshot written');
      },
      (error: Error) => this.options.log.error({ err: error.message }, 'snapshot failed; the log still holds every txn'),
    );
    this.snapshotInFlight = work.finally(() => {
      this.snapshotInFlight = null;
    });
    return this.snapshotInFlight;
  }

  /** Ensemble TRUNC: drops logged txns after `zxid`. */
  async truncateAfter(zxid: bigint): Promise<void> {
    await this.snapshotInFlight;
    await this.log.truncateAfter(zxid);
  }

  /**
   * Ensemble SNAP: stores the leader's snapshot (verified) as our newest and drops the whole
   * log; the log continues after its zxid.
   */
  async installSnapshot(bytes: Buffer): Promise<bigint> {
    await this.snapshotInFlight;
    const { zxid } = verifySnapshotBytes(bytes, 'snapshot from the leader');
    const name = snapshotName(zxid);
    const tmpPath = join(this.snapDir, `${name}.tmp`);
    await this.fs.remove(tmpPath);
    const file = await this.fs.create(tmpPath);
    try {
      await file.write(bytes, 0);
      await file.sync();
    } finally {
      await file.close();
    }
    // Older snapshots could be newer than this one's zxid only on a member being truncated.
    for (const old of await listSnapshots(this.fs, this.snapDir)) if (old.zxid >= zxid) await this.fs.remove(join(this.snapDir, old.name));
    await this.fs.rename(tmpPath, join(this.snapDir, name));
    await this.fs.syncDir(this.snapDir);
    await this.log.resetTo(zxid);
    this.txnsSinceSnapshot = 0;
    return zxid;
  }

  async hasSnapshot(): Promise<boolean> {
    return (await listSnapshots(this.fs, this.snapDir)).length > 0;
  }

  purge(retainCount: number): Promise<PurgeResult> {
    return purge(this.fs, this.snapDir, this.logDir, retainCount);
  }

  async close(): Promise<void> {
    await this.snapshotInFlight;
    await this.log.close();
  }
}
