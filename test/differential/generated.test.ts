/**
 * Generated scripts: fast-check makes random op mixes (arbitraries.ts), each runs on Paddock
 * and on Apache ZooKeeper 3.8 at once, and the two traces must be equal step by step.
 *
 *   PADDOCK_DIFF_SEED   the seed (default: a fixed one, so CI runs are reproducible)
 *   PADDOCK_DIFF_RUNS   how many scripts (default 1000)
 *   PADDOCK_DIFF_PATH   fast-check's counterexample path, to replay one failure directly
 *   PADDOCK_DIFF_SHRINK_MS  time spent shrinking a failure (default 60000)
 *   PADDOCK_DIFF_STATS  set to 1 to print how often each op got each outcome (on ZooKeeper)
 *
 * On a mismatch the test fails with the seed, the shortest failing script fast-check found
 * (one step a line) and the first step where the servers disagree.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { script } from './arbitraries.js';
import { showScript, scriptSource } from './model.js';
import type { Script } from './model.js';
import type { Trace } from './runner.js';
import { KNOWN_BUG_AVOIDANCE, KNOWN_DIFFERENCES } from './known-differences.js';
import { SKIP_WITHOUT_ZOOKEEPER, pairForSuite } from './servers.js';

const DEFAULT_SEED = 20_240_611;
const SEED = process.env.PADDOCK_DIFF_SEED ? Number(process.env.PADDOCK_DIFF_SEED) : DEFAULT_SEED;
const RUNS = process.env.PADDOCK_DIFF_RUNS ? Number(process.env.PADDOCK_DIFF_RUNS) : 1000;
const PATH = process.env.PADDOCK_DIFF_PATH || undefined;
const SHRINK_MS = process.env.PADDOCK_DIFF_SHRINK_MS ? Number(process.env.PADDOCK_DIFF_SHRINK_MS) : 60_000;
const STATS = process.env.PADDOCK_DIFF_STATS === '1';

/** Counts `<op> <ok|error code>` of ZooKeeper's outcomes (multi: also each op inside). */
function tally(counts: Map<string, number>, generated: Script, trace: Trace): void {
  const add = (key: string): void => void counts.set(key, (counts.get(key) ?? 0) + 1);
  generated.steps.forEach((step, index) => {
    step.ops.forEach((op, opIndex) => {
      const outcome = trace.steps[index]?.outcomes[opIndex] ?? '';
      add(`${op.op} ${outcome.startsWith('ok') ? 'ok' : (outcome.split(' ')[1] ?? '?')}`);
    });
    if (trace.steps[index]?.events.some((events) => events.length > 0)) add('(step with watch events)');
  });
}

void describe('differential: generated scripts', { skip: SKIP_WITHOUT_ZOOKEEPER, timeout: 900_000 }, () => {
  const pair = pairForSuite({ extendedTypes: true });

  void test(`${RUNS} generated scripts: Paddock answers as Apache ZooKeeper (seed ${SEED})`, async (t) => {
    assert.ok(Number.isInteger(SEED) && Number.isInteger(RUNS) && RUNS > 0, 'PADDOCK_DIFF_SEED and PADDOCK_DIFF_RUNS must be integers');
    t.diagnostic(`seed ${SEED}, ${RUNS} scripts (replay: PADDOCK_DIFF_SEED=${SEED} PADDOCK_DIFF_RUNS=${RUNS})`);
    let firstFailureMs: number | null = null;
    const tolerated = new Map<string, number>();
    const outcomes = new Map<string, number>();
    let steps = 0;
    let ops = 0;
    const started = Date.now();
    const avoidKnownBugs = ([generated, coin]: [Script, boolean]): Script => KNOWN_BUG_AVOIDANCE.reduce((current, bug) => bug.rewrite(current, coin), generated);
    const property = fc.asyncProperty(fc.tuple(script({ ttl: true }), fc.boolean()).map(avoidKnownBugs), async (generated: Script) => {
      // Once a failure is found, shrinking gets SHRINK_MS; after that every candidate "passes",
      // so fast-check stops with the shortest failing script found so far.
      if (firstFailureMs !== null && Date.now() - firstFailureMs > SHRINK_MS) return true;
      const result = await pair.run(generated, { tolerate: KNOWN_DIFFERENCES, onTolerated: (id) => tolerated.set(id, (tolerated.get(id) ?? 0) + 1) });
      if (STATS) tally(outcomes, generated, result.zookeeper);
      steps += generated.steps.length;
      ops += generated.steps.reduce((sum, step) => sum + step.ops.length, 0);
      if (result.mismatch) {
        firstFailureMs ??= Date.now();
        throw new Error(result.mismatch.report);
      }
      return true;
    });
    const details = await fc.check(property, { seed: SEED, numRuns: RUNS, path: PATH });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    t.diagnostic(`${details.numRuns} scripts (${steps} steps, ${ops} ops, shrinks included) in ${seconds} s`);
    for (const [id, count] of tolerated) t.diagnostic(`known Paddock bug tolerated ${count} times: ${id}`);
    for (const bug of KNOWN_BUG_AVOIDANCE) t.diagnostic(`known Paddock bug avoided by the generator: ${bug.id}`);
    if (STATS) for (const [key, count] of [...outcomes].sort()) t.diagnostic(`${String(count).padStart(7)} ${key}`);
    if (!details.failed) {
      assert.equal(details.numRuns, RUNS, `only ${details.numRuns} of ${RUNS} scripts ran`);
      return;
    }
    const shortest = details.counterexample?.[0];
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    assert.fail(
      [
        `Paddock and Apache ZooKeeper disagree (seed ${SEED}, fast-check path ${details.counterexamplePath}, ${details.numShrinks} shrinks).`,
        `Replay: PADDOCK_DIFF_SEED=${SEED} PADDOCK_DIFF_PATH=${details.counterexamplePath} node --test dist/test/differential/generated.test.js`,
        'Shortest failing script:',
        shortest ? showScript(shortest) : '(none)',
        shortest ? `As data: ${scriptSource(shortest)}` : '',
        cause,
      ].join('\n'),
    );
  });
});
