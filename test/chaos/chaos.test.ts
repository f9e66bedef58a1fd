/**
 * The short chaos run CI makes: a real 5-member ensemble for about 50 s under the nemesis
 * (SIGKILL, SIGSTOP, partitions), six clients, then the heal phase and the checkers.
 * PADDOCK_CHAOS_SEED replays a run, PADDOCK_CHAOS_SECONDS makes it longer. `npm run chaos`
 * is the same run from the command line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runChaos } from './runner.js';

const seed = Number(process.env['PADDOCK_CHAOS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const seconds = Number(process.env['PADDOCK_CHAOS_SECONDS'] ?? 50);

void test(`5 members under the nemesis for ${seconds} s: no violations, members converge (seed ${seed})`, { timeout: (seconds + 180) * 1000 }, async (t) => {
  const result = await runChaos({ seconds, seed, members: 5, clients: 6, removeOnSuccess: true, log: (line) => t.diagnostic(line) });
  const where = `seed ${seed}; history in ${result.historyFile}`;
  t.diagnostic(`ops ${JSON.stringify(result.counts)}; faults ${result.faultCount} ${JSON.stringify(result.faults)}`);
  assert.deepEqual(result.crashes, [], `members exited on their own (${where})`);
  assert.equal(result.convergence, null, `members did not converge (${where})`);
  assert.deepEqual(result.violations, [], `the checkers found violations (${where})`);
  assert.ok(result.faultCount >= 5, `only ${result.faultCount} faults injected (${where})`);
  assert.ok(result.counts.ok >= 200, `only ${result.counts.ok} ops succeeded (${where})`);
});
