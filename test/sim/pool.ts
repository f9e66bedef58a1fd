/**
 * Runs many seeds on worker threads (each seed is CPU-bound and single-threaded; node --test
 * runs test files one at a time, so a 2-core machine does twice the seeds in the same time),
 * and sums their reports up.
 */
import { Worker } from 'node:worker_threads';
import { replayCommand } from './seed.js';
import type { SeedOptions, SeedReport } from './seed.js';

type Reply = { report: SeedReport } | { error: string; options: SeedOptions };

/** Runs every seed once on `workers` threads; reports come back in the order of `seeds`. */
export async function runSeeds(seeds: SeedOptions[], workers: number, onReport?: (report: SeedReport) => void): Promise<SeedReport[]> {
  const reports: SeedReport[] = new Array<SeedReport>(seeds.length);
  let next = 0;
  const thread = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(new URL('./worker.js', import.meta.url));
      let current = -1;
      const feed = () => {
        if (next >= seeds.length) {
          void worker.terminate().then(() => resolve(), reject);
          return;
        }
        current = next++;
        worker.postMessage(seeds[current]);
      };
      worker.on('message', (reply: Reply) => {
        // An error that escaped the simulation (a harness bug) fails that seed, not the pool.
        reports[current] =
          'error' in reply
            ? { options: reply.options, violations: [{ checker: 'harness', message: reply.error }], known: [], replay: replayCommand(reply.options), trace: [], realMs: 0 }
            : reply.report;
        onReport?.(reports[current]!);
        feed();
      });
      worker.on('error', reject);
      feed();
    });
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, seeds.length)) }, thread));
  return reports;
}

export interface Summary {
  seeds: number;
  failures: number;
  ok: number;
  failed: number;
  unknown: number;
  faults: Record<string, number>;
  /** Linearizability search: partitions checked, proved, given up (budget), skipped (container/ttl). */
  partitions: number;
  gaveUp: number;
  skipped: number;
  statesExplored: number;
  /** Violations of known, reported bugs (known-bugs.ts), by bug id. */
  known: Record<string, number>;
  virtualMs: number;
  /** Snapshots installed from a leader (SNAP), over all seeds. */
  snaps: number;
  /** Summed over seeds (CPU time of the runs, not the wall clock when run in parallel). */
  seedMs: number;
}

export function summarize(reports: SeedReport[]): Summary {
  const s: Summary = { seeds: reports.length, failures: 0, ok: 0, failed: 0, unknown: 0, faults: {}, partitions: 0, gaveUp: 0, skipped: 0, statesExplored: 0, known: {}, virtualMs: 0, snaps: 0, seedMs: 0 };
  for (const r of reports) {
    if (r.violations.length > 0) s.failures++;
    s.seedMs += r.realMs;
    for (const k of r.known) s.known[k.bug] = (s.known[k.bug] ?? 0) + 1;
    if (r.stats) {
      s.ok += r.stats.completedOk;
      s.failed += r.stats.failed;
      s.unknown += r.stats.unknown;
      s.virtualMs += r.stats.virtualMs;
      s.snaps += r.stats.snapsInstalled;
      for (const [fault, n] of Object.entries(r.stats.faults)) s.faults[fault] = (s.faults[fault] ?? 0) + n;
    }
    if (r.checker) {
      s.partitions += r.checker.partitions;
      s.gaveUp += r.checker.gaveUp;
      s.skipped += r.checker.skipped;
      s.statesExplored += r.checker.statesExplored;
    }
  }
  return s;
}

export function formatSummary(s: Summary, wallMs: number): string {
  const faults = Object.entries(s.faults)
    .sort()
    .map(([f, n]) => `${f} ${n}`)
    .join(', ');
  const known = Object.entries(s.known)
    .map(([b, n]) => `${b} in ${n} seeds`)
    .join(', ');
  return [
    `seeds ${s.seeds}, failed ${s.failures}`,
    `ops: ok ${s.ok}, fail ${s.failed}, unknown ${s.unknown}`,
    `faults: ${faults || 'none'}`,
    `members brought back by SNAP: ${s.snaps}`,
    `linearizability: ${s.partitions} partitions, ${s.gaveUp} given up, ${s.skipped} skipped (container/ttl), ${s.statesExplored} states`,
    `known bugs (reported, not failing): ${known || 'none'}`,
    `time: ${(wallMs / 1000).toFixed(1)} s wall, ${(s.seedMs / 1000).toFixed(1)} s in seeds, ${(s.virtualMs / 1000).toFixed(0)} virtual s`,
  ].join('\n');
}
