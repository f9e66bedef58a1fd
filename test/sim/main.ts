/**
 * The simulator's command line: `npm run sim -- [options]`.
 *
 *   --seeds N          run N seeds from --first-seed (default 1); a long soak
 *   --first-seed S     the first seed of --seeds (default 1)
 *   --seed S           replay one seed, with its whole failure report
 *   --members 3|5      voting members (default 3)
 *   --profile P        faults: none, network, crash, disk, clock, all (default),
 *                      isolated-leader, power-cut
 *   --mutation M       switch one mutation of src/platform/mutations.ts on
 *   --virtual-ms MS    virtual ms of the fault phase (default 6000)
 *   --jobs J           worker threads (default 2)
 *   --quiet            only failures and the summary
 *
 * One line per seed (failures always), then a summary. A failure prints its violations, the
 * command that replays it and the trace that led to it. Exit code 1 on any failure.
 */
import { parseArgs } from 'node:util';
import type { Mutations } from '../../src/platform/index.js';
import { PROFILES } from './nemesis.js';
import { DEFAULT_VIRTUAL_MS } from './run.js';
import type { FaultProfile } from './nemesis.js';
import { formatSummary, runSeeds, summarize } from './pool.js';
import { formatFailure } from './seed.js';
import type { SeedOptions, SeedReport } from './seed.js';

const MUTATIONS: ReadonlyArray<keyof Mutations> = ['commitOnFirstAck', 'skipTrunc', 'ackBeforeFsync', 'serveReadsWhenDeposed'];
const MAX_SEEDS = 1_000_000;

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run sim -- [--seeds N [--first-seed S] | --seed S] [--members 3|5] [--profile ${PROFILES.join('|')}] [--mutation ${MUTATIONS.join('|')}] [--virtual-ms MS] [--jobs J] [--quiet]\n`);
  process.exit(2);
}

function integer(text: string | undefined, name: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) usage(`--${name} must be an integer in [${min}, ${max}], not '${text}'`);
  return value;
}

function parse(): { seeds: SeedOptions[]; jobs: number; quiet: boolean; replay: boolean } {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      'first-seed': { type: 'string' },
      seed: { type: 'string' },
      members: { type: 'string' },
      profile: { type: 'string' },
      mutation: { type: 'string' },
      'virtual-ms': { type: 'string' },
      jobs: { type: 'string' },
      quiet: { type: 'boolean' },
    },
    strict: true,
  });
  const members = integer(values.members, 'members', 3, 5) ?? 3;
  if (members !== 3 && members !== 5) usage('--members must be 3 or 5');
  const profile = (values.profile ?? 'all') as FaultProfile;
  if (!PROFILES.includes(profile)) usage(`--profile must be one of ${PROFILES.join(', ')}`);
  const mutation = values.mutation as keyof Mutations | undefined;
  if (mutation !== undefined && !MUTATIONS.includes(mutation)) usage(`--mutation must be one of ${MUTATIONS.join(', ')}`);
  const virtualMs = integer(values['virtual-ms'], 'virtual-ms', 0, 3_600_000) ?? DEFAULT_VIRTUAL_MS;
  const jobs = integer(values.jobs, 'jobs', 1, 64) ?? 2;
  const one = integer(values.seed, 'seed', 0, 2 ** 32 - 1);
  const count = integer(values.seeds, 'seeds', 1, MAX_SEEDS);
  if (one !== undefined && count !== undefined) usage('--seed and --seeds do not go together');
  const first = integer(values['first-seed'], 'first-seed', 0, 2 ** 32 - 1) ?? 1;
  const list = one !== undefined ? [one] : Array.from({ length: count ?? 1 }, (_, i) => first + i);
  const seeds = list.map((seed): SeedOptions => ({ seed, members, profile, mutation, virtualMs }));
  return { seeds, jobs, quiet: values.quiet ?? false, replay: one !== undefined };
}

function seedLine(r: SeedReport): string {
  const s = r.stats;
  const what = s ? `ops ${s.operations} (ok ${s.completedOk}, fail ${s.failed}, unknown ${s.unknown}), ${Object.values(s.faults).reduce((a, b) => a + b, 0)} faults` : 'no stats';
  const known = r.known.length > 0 ? `, known bugs: ${[...new Set(r.known.map((k) => k.bug))].join(', ')}` : '';
  return `seed ${r.options.seed}: ${r.violations.length === 0 ? 'ok' : 'FAILED'} in ${r.realMs} ms, ${what}${known}`;
}

async function main(): Promise<void> {
  const { seeds, jobs, quiet, replay } = parse();
  const started = performance.now();
  const reports = await runSeeds(seeds, jobs, (r) => {
    if (r.violations.length > 0) {
      process.stdout.write(`${seedLine(r)}\n${formatFailure(r, replay ? 50 : 5)}\n`);
    } else if (!quiet) process.stdout.write(`${seedLine(r)}\n`);
    if (replay && r.known.length > 0) for (const k of r.known) process.stdout.write(`  known bug ${k.bug}: [${k.violation.checker}] ${k.violation.message}\n`);
  });
  const summary = summarize(reports);
  process.stdout.write(`--- summary ---\n${formatSummary(summary, performance.now() - started)}\n`);
  const failed = reports.filter((r) => r.violations.length > 0);
  if (failed.length > 0) {
    process.stdout.write(`failing seeds (replay one with):\n${failed.map((r) => `  ${r.replay}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

await main();
