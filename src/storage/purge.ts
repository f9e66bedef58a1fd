/**
 * Housekeeping (ZooKeeper's PurgeTxnLog): keep the newest `retainCount` snapshots and the
 * log segments needed to replay from the oldest of them; remove the rest.
 */
import { join } from 'node:path';
import type { FileSystem } from './fs.js';
import { listSnapshots, verifySnapshotBytes } from './snapshot.js';
import { listSegments } from './txnlog.js';

export interface PurgeResult {
  removedSnapshots: string[];
  removedSegments: string[];
}

export async function purge(fs: FileSystem, snapDir: string, logDir: string, retainCount: number): Promise<PurgeResult> {
  const keep = Math.max(1, retainCount);
  // Only snapshots that verify count towards those kept: purging must never leave only bad ones.
  const snapshots: Array<{ name: string; zxid: bigint }> = [];
  for (const snapshot of await listSnapshots(fs, snapDir)) {
    try {
      verifySnapshotBytes(await fs.readFile(join(snapDir, snapshot.name)), snapshot.name);
      snapshots.push(snapshot);
    } catch {
      // A damaged snapshot is left for the operator to look at; it is never counted as kept.
    }
  }
  if (snapshots.length <= keep) return { removedSnapshots: [], removedSegments: [] };
  const removedSnapshots = snapshots.slice(0, snapshots.length - keep).map((s) => s.name);
  const oldestKept = snapshots[snapshots.length - keep]!.zxid;
  const segments = await listSegments(fs, logDir);
  let needed = 0;
  for (let i = 0; i < segments.length; i++) if (segments[i]!.firstZxid <= oldestKept + 1n) needed = i;
  const removedSegments = segments.slice(0, needed).map((s) => s.name);
  for (const name of removedSnapshots) await fs.remove(join(snapDir, name));
  for (const name of removedSegments) await fs.remove(join(logDir, name));
  await fs.syncDir(snapDir);
  if (logDir !== snapDir) await fs.syncDir(logDir);
  return { removedSnapshots, removedSegments };
}
