/**
 * The per-session checkers (FIFO, zxids, watch order, monotonic reads), the members'
 * checkers and the lost-write cross-check on hand-written histories.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkDigestsAgree,
  checkHistory,
  checkLogsAgree,
  checkNoLostWrites,
  checkOneLeaderPerEpoch,
  checkSessionFifo,
  checkSessionMonotonicReads,
  checkWatchOrder,
  checkZxidMonotonic,
  parseZxid,
} from './index.js';
import { absent, children, created, data, fail, HistoryBuilder, multi, none, ok, stat, unknown } from './builder.js';
import type { MemberRecord, Op } from '../history.js';

const NoNode = -101;
const NodeDataChanged = 3;
const NodeChildrenChanged = 4;
const getX = (watch = true): Op => ({ type: 'getData', path: '/x', watch });
const checkers = (violations: Array<{ checker: string }>) => violations.map((v) => v.checker);

describe('session FIFO', () => {
  test('replies in request order pass; out of order is a violation', () => {
    const h = new HistoryBuilder();
    const a = h.invoke(1, getX(false));
    const b = h.invoke(1, getX(false));
    h.complete(a, ok(data('a', 0)));
    h.complete(b, ok(data('a', 0)));
    assert.deepEqual(checkSessionFifo(h.build()), []);

    const g = new HistoryBuilder();
    const c = g.invoke(1, getX(false));
    const d = g.invoke(1, getX(false));
    g.complete(d, ok(data('a', 0)));
    g.complete(c, fail(NoNode));
    assert.deepEqual(checkers(checkSessionFifo(g.build())), ['session-fifo']);
  });

  test('a syncRead sends its getData after its sync: a later op may overtake it', () => {
    const h = new HistoryBuilder();
    const a = h.invoke(1, { type: 'syncRead', path: '/x' });
    const b = h.invoke(1, getX(false));
    h.complete(b, ok(data('a', 0)));
    h.complete(a, ok(data('a', 0)));
    assert.deepEqual(checkSessionFifo(h.build()), []);
  });

  test('other sessions and replies the client made up do not count', () => {
    const h = new HistoryBuilder();
    const a = h.invoke(1, getX(false));
    const b = h.invoke(2, getX(false));
    const c = h.invoke(1, getX(false), 's1-other');
    const d = h.invoke(1, getX(false));
    h.complete(d, ok(data('a', 0)));
    h.complete(c, ok(data('a', 0)));
    h.complete(b, ok(data('a', 0)));
    h.complete(a, fail(-4));
    assert.deepEqual(checkSessionFifo(h.build()), []);
  });
});

describe('zxids per session', () => {
  test('non-decreasing zxids pass; a decrease is a violation; pings and -1 are ignored', () => {
    const h = new HistoryBuilder().zxid(1, '0x100000001').zxid(1, '0x100000001').zxid(1, '0x0', -2).zxid(1, '-1', -1).zxid(1, '0x100000005');
    assert.deepEqual(checkZxidMonotonic(h.build()), []);
    h.zxid(1, '100000004');
    assert.deepEqual(checkers(checkZxidMonotonic(h.build())), ['zxid-monotonic']);
    assert.equal(parseZxid('0x10'), 16n);
    assert.equal(parseZxid('ff'), 255n);
    assert.equal(parseZxid('-1'), null);
  });

  test('a new session starts afresh', () => {
    const h = new HistoryBuilder().zxid(1, '0x200000001').zxid(1, '0x100000001', 1, 's1b');
    assert.deepEqual(checkZxidMonotonic(h.build()), []);
  });
});

describe('watch order', () => {
  function watched(h: HistoryBuilder): void {
    h.run(1, getX(true), ok(data('a', 0, '0x10')));
  }

  test('the notification comes before the new data: fine', () => {
    const h = new HistoryBuilder();
    watched(h);
    h.watch(1, '/x', NodeDataChanged);
    h.run(1, getX(false), ok(data('b', 1, '0x11')));
    assert.deepEqual(checkWatchOrder(h.build()), []);
  });

  test('the new data before the notification is a violation', () => {
    const h = new HistoryBuilder();
    watched(h);
    h.run(1, getX(false), ok(data('b', 1, '0x11')));
    h.watch(1, '/x', NodeDataChanged);
    assert.deepEqual(checkers(checkWatchOrder(h.build())), ['watch-order']);
  });

  test('a deletion seen through exists, before NodeDeleted, is a violation', () => {
    const h = new HistoryBuilder();
    watched(h);
    h.run(1, { type: 'exists', path: '/x', watch: false }, ok(absent));
    assert.deepEqual(checkers(checkWatchOrder(h.build())), ['watch-order']);
  });

  test('same data, no watch set, another session, or a session expired in between: nothing to check', () => {
    const same = new HistoryBuilder();
    watched(same);
    same.run(1, getX(false), ok(data('a', 0, '0x10')));
    assert.deepEqual(checkWatchOrder(same.build()), []);

    const noWatch = new HistoryBuilder();
    noWatch.run(1, getX(false), ok(data('a', 0, '0x10')));
    noWatch.run(1, getX(false), ok(data('b', 1, '0x11')));
    assert.deepEqual(checkWatchOrder(noWatch.build()), []);

    const other = new HistoryBuilder();
    watched(other);
    other.run(2, getX(false), ok(data('b', 1, '0x11')));
    assert.deepEqual(checkWatchOrder(other.build()), []);

    const expired = new HistoryBuilder();
    watched(expired);
    expired.session(1, 'expired');
    expired.run(1, getX(false), ok(data('b', 1, '0x11')));
    assert.deepEqual(checkWatchOrder(expired.build()), []);
  });

  test('a child watch needs a child event; a data event does not do', () => {
    const h = new HistoryBuilder();
    h.run(1, { type: 'getChildren', path: '/x', watch: true }, ok(children(['a'])));
    h.watch(1, '/x', NodeDataChanged);
    h.run(1, { type: 'getChildren', path: '/x', watch: false }, ok(children(['a', 'b'])));
    assert.deepEqual(checkers(checkWatchOrder(h.build())), ['watch-order']);

    const g = new HistoryBuilder();
    g.run(1, { type: 'getChildren', path: '/x', watch: true }, ok(children(['a'])));
    g.watch(1, '/x', NodeChildrenChanged);
    g.run(1, { type: 'getChildren', path: '/x', watch: false }, ok(children(['a', 'b'])));
    assert.deepEqual(checkWatchOrder(g.build()), []);
  });
});

describe('monotonic reads per session', () => {
  test('an older mzxid after a newer one is a violation', () => {
    const h = new HistoryBuilder();
    h.run(1, getX(false), ok(data('b', 1, '0x11')));
    h.run(1, getX(false), ok(data('b', 1, '0x11')));
    assert.deepEqual(checkSessionMonotonicReads(h.build()), []);
    h.run(1, getX(false), ok(data('a', 0, '0x10')));
    assert.deepEqual(checkers(checkSessionMonotonicReads(h.build())), ['session-monotonic-reads']);
  });
});

describe('members', () => {
  const member = (id: number, over: Partial<MemberRecord>): MemberRecord => ({ member: id, applied: [], leaderships: [], digests: [], ...over });

  test('one leader per epoch', () => {
    const good = { operations: [], events: [], members: [member(1, { leaderships: [{ epoch: 1, leader: 1, index: 0 }, { epoch: 2, leader: 3, index: 5 }] }), member(2, { leaderships: [{ epoch: 1, leader: 1, index: 1 }] })] };
    assert.deepEqual(checkOneLeaderPerEpoch(good), []);
    const bad = { operations: [], events: [], members: [member(1, { leaderships: [{ epoch: 1, leader: 1, index: 0 }] }), member(2, { leaderships: [{ epoch: 1, leader: 2, index: 1 }] })] };
    assert.deepEqual(checkers(checkOneLeaderPerEpoch(bad)), ['one-leader-per-epoch']);
  });

  test('logs agree, and each member applies in zxid order', () => {
    const a = [{ zxid: '0x100000001', hash: 'h1' }, { zxid: '0x100000002', hash: 'h2' }];
    const good = { operations: [], events: [], members: [member(1, { applied: a }), member(2, { applied: a.slice(0, 1) })] };
    assert.deepEqual(checkLogsAgree(good), []);
    const diverged = { operations: [], events: [], members: [member(1, { applied: a }), member(2, { applied: [a[0]!, { zxid: '0x100000002', hash: 'other' }] })] };
    assert.deepEqual(checkers(checkLogsAgree(diverged)), ['logs-agree']);
    const backwards = { operations: [], events: [], members: [member(1, { applied: [a[1]!, a[0]!] })] };
    assert.deepEqual(checkers(checkLogsAgree(backwards)), ['logs-agree']);
  });

  test('digests agree at equal zxids', () => {
    const good = { operations: [], events: [], members: [member(1, { digests: [{ zxid: '0x5', digest: 'd5' }] }), member(2, { digests: [{ zxid: '5', digest: 'd5' }, { zxid: '0x6', digest: 'd6' }] })] };
    assert.deepEqual(checkDigestsAgree(good), []);
    const bad = { operations: [], events: [], members: [member(1, { digests: [{ zxid: '0x5', digest: 'd5' }] }), member(2, { digests: [{ zxid: '0x5', digest: 'dX' }] })] };
    assert.deepEqual(checkers(checkDigestsAgree(bad)), ['digests-agree']);
  });
});

describe('no lost writes', () => {
  const setX = (value: string): Op => ({ type: 'setData', path: '/x', data: value, version: -1 });
  const readX: Op = { type: 'syncRead', path: '/x' };

  test('the final read shows the last acknowledged write', () => {
    const h = new HistoryBuilder();
    h.run(1, { type: 'create', path: '/x', data: 'a', mode: 'persistent' }, ok(created('/x')));
    const w1 = h.invoke(1, setX('b'));
    const w2 = h.invoke(2, setX('c'));
    h.complete(w1, ok(stat(1)));
    h.complete(w2, ok(stat(2)));
    h.run(3, readX, ok(data('a', 0)));
    assert.deepEqual(checkers(checkNoLostWrites(h.build())), ['no-lost-writes']);
    const g = new HistoryBuilder();
    g.run(1, { type: 'create', path: '/x', data: 'a', mode: 'persistent' }, ok(created('/x')));
    const v1 = g.invoke(1, setX('b'));
    const v2 = g.invoke(2, setX('c'));
    g.complete(v1, ok(stat(2)));
    g.complete(v2, ok(stat(1)));
    g.run(3, readX, ok(data('b', 2)));
    assert.deepEqual(checkNoLostWrites(g.build()), []);
  });

  test('a lost write is reported, by this checker and by linearizability', () => {
    const h = new HistoryBuilder();
    h.run(1, { type: 'create', path: '/x', data: 'a', mode: 'persistent' }, ok(created('/x')));
    h.run(1, { type: 'multi', ops: [{ type: 'setData', path: '/x', data: 'b', version: -1 }] }, ok(multi(stat(1))));
    h.run(3, readX, ok(data('a', 0)));
    assert.deepEqual(checkers(checkHistory(h.build())).sort(), ['linearizability', 'no-lost-writes']);
  });

  test('a write in doubt, or one still running at the read, means nothing is claimed', () => {
    const h = new HistoryBuilder();
    h.run(1, { type: 'create', path: '/x', data: 'a', mode: 'persistent' }, ok(created('/x')));
    h.run(1, setX('b'), unknown);
    h.run(3, readX, ok(data('a', 0)));
    assert.deepEqual(checkNoLostWrites(h.build()), []);
    const g = new HistoryBuilder();
    g.run(1, { type: 'create', path: '/x', data: 'a', mode: 'persistent' }, ok(created('/x')));
    const w = g.invoke(1, { type: 'delete', path: '/x', version: -1 });
    g.run(3, readX, ok(data('a', 0)));
    g.complete(w, ok(none));
    assert.deepEqual(checkNoLostWrites(g.build()), []);
  });
});
