/**
 * Quotas as ZooKeeper keeps them: a node /zookeeper/quota/<path>/zookeeper_limits holds the
 * limits of the subtree at <path> ("count=N,bytes=M", -1 for none), and its sibling
 * zookeeper_stats holds what the subtree uses, kept up to date by every create, delete and
 * setData below it. Limits are soft: going over is reported (logged and counted), not refused.
 */
import { baseName, parentOf } from './paths.js';

export const QUOTA_ROOT = '/zookeeper/quota';
export const LIMITS_NODE = 'zookeeper_limits';
export const STATS_NODE = 'zookeeper_stats';

export interface StatsTrack {
  count: number;
  bytes: number;
}

/** Parses "count=N,bytes=M" (also the 3.7+ hard-limit keys, which are read as limits too). */
export function parseStatsTrack(data: Buffer): StatsTrack {
  const track: StatsTrack = { count: -1, bytes: -1 };
  for (const pair of data.toString('utf8').split(',')) {
    const [key, value] = pair.split('=');
    const number = Number.parseInt(value ?? '', 10);
    if (Number.isNaN(number)) continue;
    if (key === 'count' || (key === 'countHardLimit' && track.count === -1)) track.count = number;
    if (key === 'bytes' || (key === 'byteHardLimit' && track.bytes === -1)) track.bytes = number;
  }
  return track;
}

export function formatStatsTrack(track: StatsTrack): Buffer {
  return Buffer.from(`count=${track.count},bytes=${track.bytes}`);
}

export interface QuotaHost {
  dataOf(path: string): Buffer | undefined;
  /** Replaces a stats node's data in place (no version change, as ZooKeeper's updateQuotaStat). */
  setStatsData(path: string, data: Buffer): void;
  /** Nodes and data bytes of the subtree at `path`, the node itself included. */
  usage(path: string): StatsTrack;
}

export class QuotaTracker {
  /** Paths that have a limits node. */
  private readonly roots = new Set<string>();
  /** Times a change left a subtree over its limits; a metric. */
  exceededCount = 0;
  readonly warnings: string[] = [];

  constructor(private readonly host: QuotaHost) {}

  get rootCount(): number {
    return this.roots.size;
  }

  /** The quota'd path that covers `path`: the longest root that is `path` or an ancestor. */
  private rootOf(path: string): string | null {
    if (this.roots.size === 0 || path.startsWith(QUOTA_ROOT + '/') || path === QUOTA_ROOT) return null;
    for (let current = path; current !== ''; current = parentOf(current)) {
      if (this.roots.has(current)) return current;
      if (current === '/') break;
    }
    return null;
  }

  /** A node was created; `path` may be a quota bookkeeping node itself. */
  created(path: string, dataBytes: number): void {
    const parent = parentOf(path);
    if (parent.startsWith(QUOTA_ROOT + '/')) {
      const quotaed = parent.slice(QUOTA_ROOT.length);
      if (baseName(path) === LIMITS_NODE) this.roots.add(quotaed);
      if (baseName(path) === STATS_NODE) this.host.setStatsData(path, formatStatsTrack(this.host.usage(quotaed)));
      return;
    }
    this.change(path, 1, dataBytes);
  }

  deleted(path: string, dataBytes: number): void {
    if (baseName(path) === LIMITS_NODE && path.startsWith(QUOTA_ROOT + '/')) {
      this.roots.delete(parentOf(path).slice(QUOTA_ROOT.length));
      return;
    }
    this.change(path, -1, -dataBytes);
  }

  dataChanged(path: string, bytesDelta: number): void {
    this.change(path, 0, bytesDelta);
  }

  private change(path: string, countDelta: number, bytesDelta: number): void {
    const root = this.rootOf(path);
    if (root === null) return;
    const statsPath = `${QUOTA_ROOT}${root}/${STATS_NODE}`;
    const statsData = this.host.dataOf(statsPath);
    if (statsData === undefined) return;
    const stats = parseStatsTrack(statsData);
    stats.count += countDelta;
    stats.bytes += bytesDelta;
    this.host.setStatsData(statsPath, formatStatsTrack(stats));
    const limitsData = this.host.dataOf(`${QUOTA_ROOT}${root}/${LIMITS_NODE}`);
    if (!limitsData) return;
    const limits = parseStatsTrack(limitsData);
    const over =
      (limits.count > -1 && stats.count > limits.count && countDelta > 0) ||
      (limits.bytes > -1 && stats.bytes > limits.bytes && bytesDelta > 0);
    if (over) {
      this.exceededCount++;
      this.warnings.push(`Quota exceeded: ${root} count=${stats.count},bytes=${stats.bytes} limit=count=${limits.count},bytes=${limits.bytes}`);
    }
  }

  /** Rebuilds the roots from the tree's paths (after a snapshot load). */
  rebuild(paths: Iterable<string>): void {
    this.roots.clear();
    for (const path of paths) {
      if (path.startsWith(QUOTA_ROOT + '/') && baseName(path) === LIMITS_NODE) this.roots.add(parentOf(path).slice(QUOTA_ROOT.length));
    }
  }
}
