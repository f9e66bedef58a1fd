/**
 * Properties of the checkers over generated histories: what a correct store produces always
 * passes (sequential or concurrent, with outcomes in doubt and expiries), a read of a value
 * never written is always caught, and a long history checks within the default budget.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkHistoryDetailed, checkLinearizable } from './index.js';
import { generateHistory } from './generate.js';
import type { History } from '../history.js';

function assertClean(h: History): void {
  const { violations, stats } = checkHistoryDetailed(h);
  assert.deepEqual(violations, []);
  assert.equal(stats.gaveUp, 0);
  assert.equal(stats.skipped, 0);
}

const shape = fc.record({
  seed: fc.integer(),
  clients: fc.integer({ min: 1, max: 6 }),
  keys: fc.integer({ min: 1, max: 4 }),
  // Every op in doubt may take effect at any later point: many of them grow the search
  // exponentially (a 120-op history with a fifth in doubt can pass a million states).
  ops: fc.integer({ min: 1, max: 100 }),
  inDoubtRate: fc.constantFrom(0, 0.05, 0.1),
  expiryRate: fc.constantFrom(0, 0.01),
});

describe('checkers on generated histories', () => {
  test('sequential histories from the store pass every checker', () => {
    fc.assert(
      fc.property(shape, (s) => assertClean(generateHistory({ ...s, concurrent: false }))),
      { numRuns: 150 },
    );
  });

  test('concurrent histories, each op taking effect inside its interval, pass every checker', () => {
    fc.assert(
      fc.property(shape, (s) => assertClean(generateHistory({ ...s, concurrent: true }))),
      { numRuns: 150 },
    );
  });

  test('a syncRead made to show data never written is caught', () => {
    fc.assert(
      fc.property(shape, fc.boolean(), fc.nat(), (s, concurrent, pick) => {
        const h = generateHistory({ ...s, concurrent });
        const reads = h.operations.filter((o) => o.op.type === 'syncRead' && o.outcome?.type === 'ok');
        fc.pre(reads.length > 0);
        const victim = reads[pick % reads.length]!;
        assert.equal(victim.outcome?.type === 'ok' && victim.outcome.value.kind, 'data');
        if (victim.outcome?.type === 'ok' && victim.outcome.value.kind === 'data') victim.outcome.value.data = 'never written';
        const violations = checkLinearizable(h);
        assert.equal(violations.length, 1);
        assert.ok(violations[0]!.operations?.includes(victim.id));
      }),
      { numRuns: 100 },
    );
  });

  test('2000 ops over 5 keys from 8 clients check within the default budget', () => {
    const h = generateHistory({ seed: 6, clients: 8, keys: 5, ops: 2000, concurrent: true, inDoubtRate: 0.02, expiryRate: 0.002 });
    const { violations, stats } = checkHistoryDetailed(h);
    assert.deepEqual(violations, []);
    assert.equal(stats.gaveUp, 0);
    assert.ok(stats.checkedOps > 1000, `checked ${stats.checkedOps} ops`);
  });
});
