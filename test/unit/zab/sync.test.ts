/** Synchronisation: DIFF, TRUNC and SNAP, chosen as LearnerHandler.syncFollower does. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeZxid, planSync } from '../../../src/zab/index.js';
import { Cluster, setData, txnAt } from './harness.js';

function history(epoch: number, from: number, to: number): ReturnType<typeof txnAt>[] {
  return Array.from({ length: to - from + 1 }, (_, i) => txnAt(makeZxid(epoch, from + i)));
}

describe('zab sync', () => {
  test('planSync: equal, ahead, inside the window, between entries, below the window', () => {
    const log = [5n, 6n, 7n, 9n];
    const has = (z: bigint): boolean => log.includes(z);
    const prev = (z: bigint): bigint | null => [...log].reverse().find((x) => x < z) ?? null;
    assert.deepEqual(planSync(9n, 9n, 5n, has, prev), { mode: 'diff', zxid: 9n });
    assert.deepEqual(planSync(12n, 9n, 5n, has, prev), { mode: 'trunc', zxid: 9n });
    assert.deepEqual(planSync(6n, 9n, 5n, has, prev), { mode: 'diff', zxid: 6n });
    assert.deepEqual(planSync(8n, 9n, 5n, has, prev), { mode: 'trunc', zxid: 7n });
    assert.equal(planSync(3n, 9n, 5n, has, prev).mode, 'snap');
    assert.equal(planSync(3n, 9n, null, has, prev).mode, 'snap');
  });

  test('a follower that fell behind gets a DIFF with the txns it missed', () => {
    const c = new Cluster({ voters: [1, 2, 3] });
    c.runUntil(() => c.settled(), 50, 'settled');
    for (let i = 0; i < 3; i++) c.propose(3, setData(i));
    c.runUntil(() => c.committed(1).length === 3, 10, 'first commits');
    c.crash(1);
    for (let i = 3; i < 8; i++) c.propose(3, setData(i));
    c.runUntil(() => c.committed(3).length === 8, 10, 'commits without 1');
    c.sent.length = 0;
    c.restart(1);
    c.runUntil(() => c.settled(), 50, 'rejoined');
    const types = c.sentTypes(3, 1);
    assert.equal(types.find((t) => t === 'diff' || t === 'trunc' || t === 'snap'), 'diff');
    assert.equal(types.filter((t) => t === 'proposal').length, 5);
    assert.deepEqual(c.committed(1), c.committed(3));
  });

  test('a follower with uncommitted txns of an old epoch gets TRUNC, then the leader history', () => {
    const disks = new Map([
      [1, Cluster.diskWith([...history(1, 1, 3), ...history(1, 4, 5)], { acceptedEpoch: 1, currentEpoch: 1 })],
      [2, Cluster.diskWith([...history(1, 1, 3), ...history(2, 1, 2)], { acceptedEpoch: 2, currentEpoch: 2 })],
      [3, Cluster.diskWith([...history(1, 1, 3), ...history(2, 1, 2)], { acceptedEpoch: 2, currentEpoch: 2 })],
    ]);
    const c = new Cluster({ voters: [1, 2, 3], disks });
    c.runUntil(() => c.settled(), 50, 'settled');
    assert.equal(c.leader(), 3);
    const sync = c.sent.find((s) => s.from === 3 && s.to === 1 && ['diff', 'trunc', 'snap'].includes(s.message.type));
    assert.deepEqual(sync?.message, { type: 'trunc', zxid: makeZxid(1, 3), lastZxid: makeZxid(2, 2) });
    const expected = [...history(1, 1, 3), ...history(2, 1, 2)].map((t) => t.zxid);
    assert.deepEqual(c.committed(1), expected);
    assert.deepEqual(c.node(1).disk.durable.map((t) => t.zxid), expected, 'the old-epoch txns left the disk');
    c.propose(3, setData(9));
    c.runUntil(() => c.committed(1).length === 6, 10, 'new commit');
    assert.deepEqual(c.committed(1), c.committed(2));
  });

  test('an established leader truncates a member that comes back with txns the quorum never committed, without stepping down', () => {
    // Found by the simulator (profile isolated-leader, seed 1): the leader used to step down.
    const disks = new Map([
      [1, Cluster.diskWith(history(1, 1, 5), { acceptedEpoch: 1, currentEpoch: 1 })],
      [2, Cluster.diskWith(history(1, 1, 3), { acceptedEpoch: 1, currentEpoch: 1 })],
      [3, Cluster.diskWith(history(1, 1, 3), { acceptedEpoch: 1, currentEpoch: 1 })],
    ]);
    const c = new Cluster({ voters: [1, 2, 3], disks });
    c.crash(1);
    c.runUntil(() => c.settled([2, 3]), 50, 'settled without 1');
    const leader = c.leader();
    const changesBefore = c.node(leader!).roleChanges.length;
    c.restart(1);
    c.runUntil(() => c.settled(), 50, 'rejoined');
    assert.equal(c.leader(), leader, 'the same leader');
    assert.equal(c.node(leader!).roleChanges.length, changesBefore, 'the leader did not step down');
    const sync = c.sent.find((s) => s.from === leader && s.to === 1 && ['diff', 'trunc', 'snap'].includes(s.message.type));
    assert.equal(sync?.message.type, 'trunc');
    assert.deepEqual(c.committed(1), c.committed(leader!));
  });

  test('a follower with txns beyond the leader log is truncated to the leader end', () => {
    const disks = new Map([
      [1, Cluster.diskWith(history(1, 1, 6), { acceptedEpoch: 1, currentEpoch: 1 })],
      [2, Cluster.diskWith(history(1, 1, 3), { acceptedEpoch: 2, currentEpoch: 2 })],
      [3, Cluster.diskWith(history(1, 1, 3), { acceptedEpoch: 2, currentEpoch: 2 })],
    ]);
    const c = new Cluster({ voters: [1, 2, 3], disks });
    c.runUntil(() => c.settled(), 50, 'settled');
    const sync = c.sent.find((s) => s.from === 3 && s.to === 1 && ['diff', 'trunc', 'snap'].includes(s.message.type));
    assert.deepEqual(sync?.message, { type: 'trunc', zxid: makeZxid(1, 3), lastZxid: makeZxid(1, 3) });
    assert.deepEqual(c.committed(1), history(1, 1, 3).map((t) => t.zxid));
  });

  test('a follower far behind the commit log window gets SNAP, then the txns after it', () => {
    const c = new Cluster({ voters: [1, 2, 3], commitLogWindow: 4 });
    c.runUntil(() => c.settled(), 50, 'settled');
    c.propose(3, setData(0));
    c.runUntil(() => c.committed(1).length === 1, 10, 'first commit');
    c.crash(1);
    for (let i = 1; i < 20; i++) c.propose(3, setData(i));
    c.runUntil(() => c.committed(3).length === 20, 10, 'commits without 1');
    c.sent.length = 0;
    c.restart(1);
    c.runUntil(() => c.settled(), 50, 'rejoined');
    assert.ok(c.sentTypes(3, 1).includes('snap'));
    assert.deepEqual(c.committed(1), c.committed(3));
    assert.equal(c.node(1).disk.snapshot.zxid, makeZxid(1, 20));
    c.propose(3, setData(20));
    c.runUntil(() => c.committed(1).length === 21, 10, 'after snap');
    c.restart(1);
    c.runUntil(() => c.settled() && c.committed(1).length === 21, 50, 'restart after snap');
  });

  test('an observer syncs with DIFF and SNAP too', () => {
    const c = new Cluster({ voters: [1, 2, 3], observers: [7], commitLogWindow: 3 });
    c.runUntil(() => c.settled(), 50, 'settled');
    c.crash(7);
    for (let i = 0; i < 10; i++) c.propose(3, setData(i));
    c.runUntil(() => c.committed(3).length === 10, 10, 'commits');
    c.restart(7);
    c.runUntil(() => c.settled() && c.committed(7).length === 10, 50, 'observer back');
    assert.ok(c.sentTypes(3, 7).includes('snap'));
    assert.deepEqual(c.committed(7), c.committed(3));
  });
});
