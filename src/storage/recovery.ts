/**
 * Recovery at start: the newest snapshot that verifies, then every logged txn after its
 * zxid. A damaged record that only the last, unsynced batch could hold (a torn tail) is cut
 * off with a warning; any other damage stops the server with the file and offset, unless the
 * operator asked to truncate there.
 */
import { join } from 'node:path';
import { DataTree } from '../tree/index.js';
import type { Txn } from '../tree/index.js';
import type { FileSystem } from './fs.js';
import { truncateDurably } from './fs.js';
import { listSnapshots, readSnapshot, SnapshotCorruptError } from './snapshot.js';
import { listSegments, LogCorruptError, scanSegment } from './txnlog.js';

export interface RecoveryLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RecoveryOptions {
  fs: FileSystem;
  snapDir: string;
  logDir: string;
  /** Cut the log at the first damaged record even when it is not a torn tail. */
  truncateCorrupt: boolean;
  /**
   * Hand back the logged txns after the snapshot instead of applying them: an ensemble member
   * may hold txns that were never committed, which only the ZAB core may decide to apply.
   */
  collectLogged?: boolean;
  log: RecoveryLog;
}

export interface Recovered {
  /** The snapshot's tree with the logged txns applied (only the snapshot's with collectLogged). */
  tree: DataTree;
  snapshotZxid: bigint;
  replayedTxns: number;
  /** With collectLogged: the valid logged txns after the snapshot, in zxid order. */
  logged: Txn[];
  /** The last valid zxid in the log (or the snapshot's): where the next append follows. */
  lastZxid: bigint;
}

export class RecoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecoveryError';
  }
}

async function newestValidSnapshot(options: RecoveryOptions): Promise<{ tree: DataTree; zxid: bigint } | null> {
  const snapshots = (await listSnapshots(options.fs, options.snapDir)).reverse();
  for (const { name } of snapshots) {
    try {
      const loaded = await readSnapshot(options.fs, options.snapDir, name);
      options.log.info({ snapshot: name, zxid: loaded.zxid.toString(16) }, 'loaded snapshot');
      return loaded;
    } catch (error) {
      if (!(error instanceof SnapshotCorruptError)) throw error;
      options.log.warn({ snapshot: name, reason: error.message }, 'skipping unusable snapshot');
    }
  }
  return null;
}

export async function recover(options: RecoveryOptions): Promise<Recovered> {
  const { fs, logDir, log } = options;
  const snapshot = await newestValidSnapshot(options);
  const tree = snapshot?.tree ?? new DataTree();
  const snapshotZxid = snapshot?.zxid ?? 0n;
  const segments = await listSegments(fs, logDir);
  // The segment that holds snapshotZxid + 1 is the last one starting at or before it.
  let first = 0;
  for (let i = 0; i < segments.length; i++) if (segments[i]!.firstZxid <= snapshotZxid + 1n) first = i;
  // In an ensemble a new epoch's log starts at counter 1 of that epoch, past the snapshot's.
  const startsLaterEpoch = (zxid: bigint): boolean => (zxid & 0xffffffffn) === 1n && zxid >> 32n > snapshotZxid >> 32n;
  if (segments.length > 0 && segments[first]!.firstZxid > snapshotZxid + 1n && !startsLaterEpoch(segments[first]!.firstZxid)) {
    throw new RecoveryError(
      `log gap: the snapshot ends at zxid 0x${snapshotZxid.toString(16)} but the oldest log segment ${segments[first]!.name} starts later`,
    );
  }
  let replayedTxns = 0;
  const logged: Txn[] = [];
  let last = tree.lastProcessedZxid;
  for (let i = first; i < segments.length; i++) {
    const segment = segments[i]!;
    const expected = last + 1n;
    // Zxids run on within an epoch; a segment starting past the next one means one went missing.
    if (i > first && segment.firstZxid > expected && segment.firstZxid >> 32n === expected >> 32n) {
      throw new RecoveryError(
        `log gap: segment ${segment.name} starts at zxid 0x${segment.firstZxid.toString(16)}, but the log before it ends at 0x${last.toString(16)}`,
      );
    }
    const scan = await scanSegment(fs, logDir, segment.name);
    for (const txn of scan.txns) {
      if (txn.zxid <= last) continue;
      if (options.collectLogged) logged.push(txn);
      else tree.apply(txn);
      last = txn.zxid;
      replayedTxns++;
    }
    if (!scan.damage) {
      if (scan.txns.length === 0 && i === segments.length - 1) {
        // Created, but its first batch never reached the disk: it holds nothing, and the next
        // append would create a segment of the same name.
        await fs.remove(scan.file);
        await fs.syncDir(logDir);
        log.info({ file: scan.file }, 'removed a log segment that holds no txn');
      }
      continue;
    }
    const isLast = i === segments.length - 1;
    const later = scan.damage.laterDurableZxid;
    const lastGood = last;
    const torn = isLast && later !== 'unknown' && (later === null || later <= lastGood);
    const where = { file: scan.file, offset: scan.damage.offset, reason: scan.damage.reason };
    if (!torn && !options.truncateCorrupt) {
      throw new LogCorruptError(
        scan.file,
        scan.damage.offset,
        `${scan.damage.reason} (records after it were synced, so this is not a torn write; ` +
          'start with --truncate-corrupt-log to cut the log here and lose what follows)',
      );
    }
    if (scan.txns.length === 0) {
      await fs.remove(scan.file);
    } else {
      await truncateDurably(fs, scan.file, scan.damage.offset);
    }
    if (torn) {
      log.warn(where, 'cut off a torn write at the end of the transaction log');
    } else {
      log.warn(where, 'operator asked to truncate the corrupt transaction log here; later segments are removed');
      for (const later of segments.slice(i + 1)) await fs.remove(join(logDir, later.name));
    }
    await fs.syncDir(logDir);
    break;
  }
  log.info({ snapshotZxid: snapshotZxid.toString(16), replayedTxns, lastZxid: last.toString(16) }, 'recovered');
  return { tree, snapshotZxid, replayedTxns, logged, lastZxid: last };
}
