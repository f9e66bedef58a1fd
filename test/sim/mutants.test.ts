/**
 * Proof that the checkers bite: each mutation of src/platform/mutations.ts breaks the protocol
 * on purpose, and the simulator must catch it (a checker's violation, or an invariant of
 * Paddock's own stopping the run) within MAX_SEEDS seeds of the profile most likely to show
 * it. Seeds run in order from 1 and stop at the first caught; the seed that caught each at
 * the time of writing is in the table (if the workload or nemesis changes, it may move).
 */
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { mutations, resetMutations } from '../../src/platform/index.js';
import type { Mutations } from '../../src/platform/index.js';
import type { FaultProfile } from './nemesis.js';
import { formatFailure, simulateAndCheck } from './seed.js';
import type { SeedReport } from './seed.js';

const MAX_SEEDS = 60;

interface Mutant {
  mutation: keyof Mutations;
  profile: FaultProfile;
  virtualMs: number;
  /** Why this profile, and the seed that caught it when this was written. */
  note: string;
}

const MUTANTS: Mutant[] = [
  {
    mutation: 'commitOnFirstAck',
    profile: 'network',
    virtualMs: 6000,
    note: 'partitions leave a leader with one ack: it commits what a new leader then truncates (caught at seed 2: by linearizability since drops leave no gap in a TCP stream, before that by a Paddock invariant, truncate below committed)',
  },
  {
    mutation: 'skipTrunc',
    profile: 'isolated-leader',
    virtualMs: 6000,
    note: 'an isolated leader logs writes that never commit; it is told to TRUNC, keeps them on disk, and they come back at its restart (caught at seed 21)',
  },
  {
    mutation: 'ackBeforeFsync',
    profile: 'power-cut',
    virtualMs: 6000,
    note: 'slow fsyncs, then the ensemble (or a majority with the leader) loses power: an acknowledged write was on no disk (caught at seed 1, linearizability)',
  },
  {
    mutation: 'serveReadsWhenDeposed',
    profile: 'isolated-leader',
    virtualMs: 6000,
    note: 'reader clients stay on a cut-off member that answers sync and reads from its stale tree (caught at seed 3, linearizability)',
  },
];

async function firstCaught(m: Mutant): Promise<{ report: SeedReport | null; tried: number }> {
  for (let seed = 1; seed <= MAX_SEEDS; seed++) {
    try {
      const report = await simulateAndCheck({ seed, members: 3, profile: m.profile, virtualMs: m.virtualMs, mutation: m.mutation });
      if (report.violations.length > 0) return { report, tried: seed };
    } finally {
      resetMutations();
    }
  }
  return { report: null, tried: MAX_SEEDS };
}

describe('mutants: the simulator catches each deliberate protocol bug', () => {
  for (const m of MUTANTS) {
    test(`${m.mutation} (${m.profile}): ${m.note}`, async () => {
      const { report, tried } = await firstCaught(m);
      assert.equal(mutations[m.mutation], false, 'the mutation was left switched on');
      assert.ok(report !== null, `${m.mutation} was not caught in ${tried} seeds of profile ${m.profile}`);
      // What caught it, for the test log.
      process.stdout.write(`# ${m.mutation}: caught at seed ${report.options.seed} by ${[...new Set(report.violations.map((v) => v.checker))].join(', ')}\n${formatFailure(report, 2).split('\n').slice(0, 4).join('\n')}\n`);
    });
  }
});
