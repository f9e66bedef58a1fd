/**
 * The linearizability checker on hand-written histories: each classic anomaly, and the
 * nearest history that is fine.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinearizable, checkLinearizableDetailed } from './index.js';
import { created, data, fail, HistoryBuilder, multi, none, ok, stat, unknown } from './builder.js';
import type { History, Op } from '../history.js';

const NoNode = -101;
const BadVersion = -103;
const NodeExists = -110;
const NotEmpty = -111;
const ConnectionLoss = -4;

const createX = (value = 'a', mode: Extract<Op, { type: 'create' }>['mode'] = 'persistent', path = '/x'): Op => ({ type: 'create', path, data: value, mode });
const setX = (value: string, version = -1, path = '/x'): Op => ({ type: 'setData', path, data: value, version });
const readX = (path = '/x'): Op => ({ type: 'syncRead', path });

function assertLinearizable(h: History): void {
  const result = checkLinearizableDetailed(h);
  assert.deepEqual(result.violations, []);
  assert.equal(result.stats.gaveUp, 0);
}

function assertViolation(h: History, blockedId?: number): void {
  const violations = checkLinearizable(h);
  assert.equal(violations.length, 1, JSON.stringify(violations));
  assert.equal(violations[0]!.checker, 'linearizability');
  if (blockedId !== undefined) assert.equal(violations[0]!.operations?.[0], blockedId, violations[0]!.message);
}

describe('linearizability: sequential histories', () => {
  test('create, setData, syncRead, delete in order is linearizable', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), ok(created('/x')));
    h.run(2, setX('b'), ok(stat(1)));
    h.run(1, readX(), ok(data('b', 1)));
    h.run(2, { type: 'delete', path: '/x', version: 1 }, ok(none));
    h.run(1, readX(), fail(NoNode));
    assertLinearizable(h.build());
  });

  test('a read of a value never written is not', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), ok(created('/x')));
    const bad = h.run(2, readX(), ok(data('z', 0)));
    assertViolation(h.build(), bad);
  });

  test('a wrong version in a setData reply is not', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), ok(created('/x')));
    const bad = h.run(2, setX('b'), ok(stat(5)));
    assertViolation(h.build(), bad);
  });

  test('create of an existing node must fail with NodeExists, and does not change it', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), ok(created('/x')));
    h.run(2, createX('b'), fail(NodeExists));
    h.run(1, readX(), ok(data('a', 0)));
    assertLinearizable(h.build());
    const g = new HistoryBuilder();
    g.run(1, createX('a'), ok(created('/x')));
    const bad = g.run(2, createX('b'), fail(NoNode));
    assertViolation(g.build(), bad);
  });

  test('an unmodelled failure code is left out', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), fail(-112));
    h.run(2, readX(), fail(NoNode));
    assertLinearizable(h.build());
  });
});

describe('linearizability: real-time order', () => {
  test('a stale syncRead after a completed write is not linearizable', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), ok(created('/x')));
    h.run(1, setX('b'), ok(stat(1)));
    const stale = h.run(2, readX(), ok(data('a', 0)));
    assertViolation(h.build(), stale);
  });

  test('a syncRead overlapping the write may see either value', () => {
    for (const seen of [data('a', 0), data('b', 1)]) {
      const h = new HistoryBuilder();
      h.run(1, createX('a'), ok(created('/x')));
      const w = h.invoke(1, setX('b'));
      const r = h.invoke(2, readX());
      h.complete(r, ok(seen));
      h.complete(w, ok(stat(1)));
      assertLinearizable(h.build());
    }
  });

  test('a write visible before it was invoked is not linearizable', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), ok(created('/x')));
    const early = h.run(2, readX(), ok(data('b', 1)));
    h.run(1, setX('b'), ok(stat(1)));
    assertViolation(h.build(), early);
  });

  test('two conditional setData at the same version cannot both succeed', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), ok(created('/x')));
    const a = h.invoke(1, setX('b', 0));
    const b = h.invoke(2, setX('c', 0));
    h.complete(a, ok(stat(1)));
    h.complete(b, ok(stat(1)));
    assertViolation(h.build());
  });

  test('two conditional setData at the same version: one wins, one gets BadVersion', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), ok(created('/x')));
    const a = h.invoke(1, setX('b', 0));
    const b = h.invoke(2, setX('c', 0));
    h.complete(a, fail(BadVersion));
    h.complete(b, ok(stat(1)));
    h.run(3, readX(), ok(data('c', 1)));
    assertLinearizable(h.build());
  });

  test('a lost acknowledged write is not linearizable', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), ok(created('/x')));
    h.run(1, setX('b'), ok(stat(1)));
    h.run(2, setX('c'), ok(stat(2)));
    const lost = h.run(3, readX(), ok(data('b', 1)));
    assertViolation(h.build(), lost);
  });
});

describe('linearizability: outcomes in doubt', () => {
  test('a write in doubt may have taken effect ...', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), ok(created('/x')));
    h.run(1, setX('b'), unknown);
    h.run(2, readX(), ok(data('b', 1)));
    assertLinearizable(h.build());
  });

  test('... or not', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), ok(created('/x')));
    h.run(1, setX('b'), fail(ConnectionLoss));
    h.run(2, readX(), ok(data('a', 0)));
    assertLinearizable(h.build());
  });

  test('... or later than its completion, and an op never completed likewise', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), ok(created('/x')));
    h.run(1, setX('b'), unknown);
    h.run(2, readX(), ok(data('a', 0)));
    h.run(2, readX(), ok(data('b', 1)));
    h.invoke(3, setX('c'));
    h.run(2, readX(), ok(data('c', 2)));
    assertLinearizable(h.build());
  });

  test('but not before it was invoked', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), ok(created('/x')));
    const early = h.run(2, readX(), ok(data('b', 1)));
    h.run(1, setX('b'), unknown);
    assertViolation(h.build(), early);
  });

  test('and not twice', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), ok(created('/x')));
    h.run(1, setX('b'), unknown);
    h.run(2, readX(), ok(data('b', 1)));
    const twice = h.run(2, readX(), ok(data('b', 2)));
    assertViolation(h.build(), twice);
  });
});

describe('linearizability: multi', () => {
  const both = (value: string): Op => ({ type: 'multi', ops: [{ type: 'setData', path: '/x', data: value, version: -1 }, { type: 'setData', path: '/y', data: value, version: -1 }] });

  function setup(h: HistoryBuilder): void {
    h.run(1, createX('a'), ok(created('/x')));
    h.run(1, createX('a', 'persistent', '/y'), ok(created('/y')));
  }

  test('an ok multi is seen whole', () => {
    const h = new HistoryBuilder();
    setup(h);
    h.run(1, both('b'), ok(multi(stat(1), stat(1))));
    h.run(2, readX('/x'), ok(data('b', 1)));
    h.run(2, readX('/y'), ok(data('b', 1)));
    assertLinearizable(h.build());
  });

  test('half a multi seen is not linearizable', () => {
    const h = new HistoryBuilder();
    setup(h);
    const m = h.invoke(1, both('b'));
    h.run(2, readX('/x'), ok(data('b', 1)));
    h.run(2, readX('/y'), ok(data('a', 0)));
    h.complete(m, ok(multi(stat(1), stat(1))));
    assertViolation(h.build());
  });

  test('a failed multi takes no effect, and fails with its first failing op code', () => {
    const failing: Op = { type: 'multi', ops: [{ type: 'setData', path: '/x', data: 'b', version: -1 }, { type: 'check', path: '/y', version: 7 }] };
    const good = new HistoryBuilder();
    setup(good);
    good.run(1, failing, fail(BadVersion));
    good.run(2, readX('/x'), ok(data('a', 0)));
    assertLinearizable(good.build());

    const leaked = new HistoryBuilder();
    setup(leaked);
    leaked.run(1, failing, fail(BadVersion));
    leaked.run(2, readX('/x'), ok(data('b', 1)));
    assertViolation(leaked.build());

    const wrongCode = new HistoryBuilder();
    setup(wrongCode);
    const bad = wrongCode.run(1, failing, fail(NoNode));
    assertViolation(wrongCode.build(), bad);
  });
});

describe('linearizability: sessions and ephemerals', () => {
  test('closeSession deletes the session ephemerals', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a', 'ephemeral'), ok(created('/x')));
    h.run(1, { type: 'closeSession' }, ok(none));
    h.run(2, readX(), fail(NoNode));
    assertLinearizable(h.build());
  });

  test('an ephemeral still visible after closeSession is not linearizable', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a', 'ephemeral'), ok(created('/x')));
    h.run(1, { type: 'closeSession' }, ok(none));
    const seen = h.run(2, readX(), ok(data('a', 0)));
    assertViolation(h.build(), seen);
  });

  test('closeSession does not delete persistent nodes or other sessions ephemerals', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a', 'persistent'), ok(created('/x')));
    h.run(2, createX('a', 'ephemeral', '/y'), ok(created('/y')));
    h.run(1, createX('a', 'ephemeral', '/z'), ok(created('/z')));
    h.run(1, { type: 'closeSession' }, ok(none));
    h.run(3, readX('/x'), ok(data('a', 0)));
    const seen = h.run(3, readX('/y'), fail(NoNode));
    assertViolation(h.build(), seen);
  });

  test('an ephemeral may vanish when its session is shown expired, not otherwise', () => {
    const expired = new HistoryBuilder();
    expired.run(1, createX('a', 'ephemeral'), ok(created('/x')));
    expired.run(2, readX(), ok(data('a', 0)));
    expired.run(2, readX(), fail(NoNode));
    expired.session(1, 'expired');
    assertLinearizable(expired.build());

    const alive = new HistoryBuilder();
    alive.run(1, createX('a', 'ephemeral'), ok(created('/x')));
    alive.run(2, readX(), fail(NoNode));
    assertViolation(alive.build());
    assert.deepEqual(checkLinearizable(alive.build(), { unobservedExpiry: true }), []);
  });

  test('an expired session cannot create an ephemeral after its expiry removed the others', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a', 'ephemeral'), ok(created('/x')));
    h.run(2, readX(), fail(NoNode));
    h.run(1, createX('a', 'ephemeral', '/y'), ok(created('/y')));
    h.session(1, 'expired');
    assertViolation(h.build());
  });
});

describe('linearizability: parents, sequential names, limits', () => {
  test('a child of a missing tracked parent cannot be created; a parent with a child cannot be deleted', () => {
    const h = new HistoryBuilder();
    const bad = h.run(1, createX('a', 'persistent', '/p/c'), ok(created('/p/c')));
    h.run(1, createX('a', 'persistent', '/p'), ok(created('/p')));
    assertViolation(h.build(), bad);

    const g = new HistoryBuilder();
    g.run(1, createX('a', 'persistent', '/p'), ok(created('/p')));
    g.run(1, createX('a', 'persistent', '/p/c'), ok(created('/p/c')));
    g.run(2, { type: 'delete', path: '/p', version: -1 }, fail(NotEmpty));
    g.run(2, { type: 'delete', path: '/p/c', version: -1 }, ok(none));
    g.run(2, { type: 'delete', path: '/p', version: -1 }, ok(none));
    assertLinearizable(g.build());
  });

  test('sequential creates: the name comes from the result', () => {
    const h = new HistoryBuilder();
    const a = h.invoke(1, createX('a', 'persistent_sequential', '/q/n-'));
    const b = h.invoke(2, createX('b', 'persistent_sequential', '/q/n-'));
    h.complete(b, ok(created('/q/n-0000000000')));
    h.complete(a, ok(created('/q/n-0000000001')));
    h.run(3, readX('/q/n-0000000001'), ok(data('a', 0)));
    assertLinearizable(h.build());
    h.run(3, readX('/q/n-0000000000'), ok(data('a', 0)));
    assertViolation(h.build());
  });

  test('container and ttl partitions are skipped, not passed', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a', 'container'), ok(created('/x')));
    h.run(2, readX(), fail(NoNode));
    const result = checkLinearizableDetailed(h.build());
    assert.deepEqual(result.violations, []);
    assert.equal(result.stats.skipped, 1);
  });

  test('a search out of budget says nothing unless asked, and is counted', () => {
    const h = new HistoryBuilder();
    h.run(1, createX('a'), ok(created('/x')));
    const ids = [1, 2, 3, 4].map((c) => h.invoke(c, setX(`v${c}`)));
    for (const id of ids) h.complete(id, ok(none));
    h.run(5, readX(), ok(data('v9', 5)));
    const quiet = checkLinearizableDetailed(h.build(), { maxStates: 3 });
    assert.deepEqual(quiet.violations, []);
    assert.equal(quiet.stats.gaveUp, 1);
    const loud = checkLinearizable(h.build(), { maxStates: 3, reportBudget: true });
    assert.equal(loud[0]?.checker, 'linearizability-budget');
    assertViolation(h.build());
  });

  test('independent keys are checked apart', () => {
    const h = new HistoryBuilder();
    for (const k of ['/a', '/b', '/c']) h.run(1, createX('a', 'persistent', k), ok(created(k)));
    const result = checkLinearizableDetailed(h.build());
    assert.equal(result.stats.partitions, 3);
  });
});
