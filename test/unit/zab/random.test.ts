/**
 * Seeded randomized runs: message drops, random delivery order (FIFO per link), partitions,
 * crashes that lose unsynced appends, restarts from disk, lazy fsyncs. The harness asserts on
 * every effect that there is at most one established leader per epoch and that every commit
 * extends one global history; at the end the cluster heals and must converge.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Cluster, rng, setData } from './harness.js';

const STEPS = 120;

function chaos(seed: number, voters: number[], observers: number[], splitChannels = false): void {
  const random = rng(seed);
  const c = new Cluster({ voters, observers, autoFsync: random() < 0.5, syncLimit: 3, initLimit: 6, commitLogWindow: 8, splitChannels });
  const ids = [...voters, ...observers];
  const pick = (): number => ids[Math.floor(random() * ids.length)] as number;
  let proposals = 0;
  for (let step = 0; step < STEPS; step++) {
    const r = random();
    if (r < 0.35) c.deliverAll(50, random, 0.05);
    else if (r < 0.5) c.tickAll();
    else if (r < 0.7) {
      const leader = c.leader();
      if (leader !== null) for (let i = 0; i < 3; i++) c.propose(leader, setData(proposals++));
    } else if (r < 0.78) c.fsync(pick());
    else if (r < 0.83) c.crash(pick());
    else if (r < 0.88) c.restart(pick());
    else if (r < 0.92) {
      const a = pick();
      c.partition([a], ids.filter((x) => x !== a && random() < 0.5));
    } else if (r < 0.96) c.heal();
    else for (const id of ids) c.fsync(id);
  }
  c.heal();
  c.autoFsync = true;
  for (const id of ids) if (!c.node(id).alive) c.restart(id);
  for (const id of ids) c.fsync(id);
  c.runUntil(() => c.settled(), 300, `convergence (seed ${seed})`);
  const leader = c.leader() as number;
  c.propose(leader, setData(proposals++));
  c.runUntil(() => ids.every((id) => c.committed(id).length === c.committed(leader).length), 50, `final commit (seed ${seed})`);
  for (const id of ids) assert.deepEqual(c.committed(id), c.committed(leader), `member ${id} (seed ${seed})`);
  assert.ok(c.history.length >= c.committed(leader).length);
}

describe('zab randomized', () => {
  test('3 voters and an observer under drops, partitions and restarts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => chaos(seed, [1, 2, 3], [4])),
      { seed: 20240601, numRuns: 60, includeErrorInReport: true },
    );
  });

  test('votes on their own channel (election port), unordered with FOLLOWERINFO and the rest', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => chaos(seed, [1, 2, 3], [4], true)),
      { seed: 20260105, numRuns: 60, includeErrorInReport: true },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => chaos(seed, [1, 2, 3, 4, 5], [], true)),
      { seed: 7654321, numRuns: 40, includeErrorInReport: true },
    );
  });

  test('5 voters under drops, partitions and restarts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => chaos(seed, [1, 2, 3, 4, 5], [])),
      { seed: 1234567, numRuns: 40, includeErrorInReport: true },
    );
  });
});
