/**
 * An operator's look at a stopped server's data: every snapshot and log segment, their zxid
 * ranges and whether their checksums hold. Reads only; changes nothing.
 */
import { join } from 'node:path';
import type { FileSystem } from './fs.js';
import { listSnapshots, verifySnapshotBytes } from './snapshot.js';
import { listSegments, scanSegment } from './txnlog.js';

export interface SnapshotReport {
  name: string;
  zxid: bigint;
  sizeBytes: number;
  ok: boolean;
  problem?: string;
}

export interface SegmentReport {
  name: string;
  firstZxid: bigint;
  lastZxid: bigint | null;
  txnCount: number;
  sizeBytes: number;
  usedBytes: number;
  damage?: { offset: number; reason: string };
}

export interface DataDirReport {
  snapDir: string;
  logDir: string;
  snapshots: SnapshotReport[];
  segments: SegmentReport[];
  /** Zxids missing between consecutive segments (a hole in the log). */
  gaps: string[];
  ok: boolean;
}

export async function inspectDataDir(fs: FileSystem, snapDir: string, logDir: string): Promise<DataDirReport> {
  const snapshots: SnapshotReport[] = [];
  for (const { name, zxid } of await listSnapshots(fs, snapDir)) {
    const bytes = await fs.readFile(join(snapDir, name));
    try {
      verifySnapshotBytes(bytes, name);
      snapshots.push({ name, zxid, sizeBytes: bytes.length, ok: true });
    } catch (error) {
      snapshots.push({ name, zxid, sizeBytes: bytes.length, ok: false, problem: (error as Error).message });
    }
  }
  const segments: SegmentReport[] = [];
  const gaps: string[] = [];
  let previousLast: bigint | null = null;
  for (const { name, firstZxid } of await listSegments(fs, logDir)) {
    const scan = await scanSegment(fs, logDir, name);
    const lastZxid = scan.txns.length > 0 ? scan.txns[scan.txns.length - 1]!.zxid : null;
    const report: SegmentReport = {
      name,
      firstZxid,
      lastZxid,
      txnCount: scan.txns.length,
      sizeBytes: await fs.sizeOf(join(logDir, name)),
      usedBytes: scan.goodEnd,
    };
    if (scan.damage) report.damage = { offset: scan.damage.offset, reason: scan.damage.reason };
    if (previousLast !== null && scan.txns.length > 0 && firstZxid > previousLast + 1n) {
      gaps.push(`0x${(previousLast + 1n).toString(16)}..0x${(firstZxid - 1n).toString(16)} before ${name}`);
    }
    if (lastZxid !== null) previousLast = lastZxid;
    segments.push(report);
  }
  const ok = snapshots.every((s) => s.ok) && segments.every((s) => !s.damage) && gaps.length === 0;
  return { snapDir, logDir, snapshots, segments, gaps, ok };
}
