/** Broadcast: commit at a quorum of durable acks, in order, pipelined; liveness by ticks. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ZabInvariantError, ZabNode, makeZxid } from '../../../src/zab/index.js';
import { Cluster, setData } from './harness.js';

function settled3(autoFsync = true): Cluster {
  const c = new Cluster({ voters: [1, 2, 3], autoFsync });
  c.runUntil(() => c.settled(), 50, 'settled');
  assert.equal(c.leader(), 3);
  return c;
}

describe('zab broadcast', () => {
  test('nothing commits before a quorum has the txn durably, the leader included', () => {
    const c = settled3(false);
    const txn = c.propose(3, setData(1));
    assert.equal(txn?.zxid, makeZxid(1, 1));
    c.deliverAll();
    assert.deepEqual(c.committed(3), [], 'no fsync anywhere: no commit');
    c.fsync(1);
    c.deliverAll();
    assert.deepEqual(c.committed(3), [], 'one follower ack and an unsynced leader is not a quorum of 3');
    c.fsync(3);
    c.deliverAll();
    assert.deepEqual(c.committed(3), [makeZxid(1, 1)]);
    assert.deepEqual(c.committed(1), [makeZxid(1, 1)]);
    assert.deepEqual(c.committed(2), [makeZxid(1, 1)], 'a follower commits on COMMIT even before its own fsync');
  });

  test('pipelined proposals commit in zxid order', () => {
    const c = settled3(false);
    for (let i = 1; i <= 10; i++) c.propose(3, setData(i));
    c.deliverAll();
    c.fsync(2);
    c.deliverAll();
    assert.deepEqual(c.committed(3), []);
    c.fsync(3);
    c.deliverAll();
    const expected = Array.from({ length: 10 }, (_, i) => makeZxid(1, i + 1));
    for (const id of [1, 2, 3]) assert.deepEqual(c.committed(id), expected);
    for (let i = 11; i <= 15; i++) {
      c.propose(3, setData(i));
      c.deliverAll();
      c.fsync(1);
      c.deliverAll();
      assert.equal(c.committed(3).length, 10, 'the leader has not fsynced: still no quorum');
    }
    c.fsync(3);
    c.deliverAll();
    assert.equal(c.committed(2).length, 15);
    assert.deepEqual(c.committed(1), c.committed(2));
  });

  test('with one of three members down commits continue; with two down nothing commits', () => {
    const c = settled3();
    c.crash(1);
    c.propose(3, setData(1));
    c.deliverAll();
    assert.deepEqual(c.committed(3), [makeZxid(1, 1)]);
    c.crash(2);
    c.propose(3, setData(2));
    c.deliverAll();
    assert.deepEqual(c.committed(3), [makeZxid(1, 1)]);
    for (let i = 0; i < 6; i++) c.tickAll();
    assert.equal(c.node(3).zab.status().state, 'looking', 'the lone leader steps down after syncLimit');
    assert.equal(c.propose(3, setData(3)), null);
  });

  test('a deposed leader in a minority cannot commit, steps down, and its proposal is dropped', () => {
    const c = new Cluster({ voters: [1, 2, 3, 4, 5], syncLimit: 3 });
    c.runUntil(() => c.settled(), 50, 'settled');
    c.propose(5, setData(1));
    c.deliverAll();
    c.partition([5, 4], [1, 2, 3]);
    const lost = c.propose(5, setData(2));
    assert.ok(lost !== null);
    c.deliverAll();
    assert.equal(c.committed(5).length, 1, 'two of five acks do not commit');
    let ticks = 0;
    while (c.node(5).zab.status().state === 'leading' && ticks < 10) {
      c.tickAll();
      c.deliverAll();
      ticks++;
    }
    assert.ok(ticks <= 4, `stepped down after ${ticks} ticks`);
    assert.equal(c.propose(5, setData(3)), null, 'propose refused when not an established leader');
    c.runUntil(() => c.settled([1, 2, 3]) && [1, 2, 3].includes(c.leader() ?? 0), 100, 'majority elects');
    const leader = c.leader() as number;
    c.propose(leader, setData(4));
    c.heal();
    c.runUntil(() => c.settled() && c.committed(5).length === 2, 100, 'everyone converges');
    for (const id of [1, 2, 3, 4]) assert.deepEqual(c.committed(id), c.committed(5));
    assert.ok(!c.committed(5).includes(lost.zxid), 'the deposed leader uncommitted txn is gone');
  });

  test('a follower that hears nothing for syncLimit ticks goes looking', () => {
    const c = new Cluster({ voters: [1, 2, 3], syncLimit: 2 });
    c.runUntil(() => c.settled(), 50, 'settled');
    c.partition([1], [3]);
    for (let i = 0; i < 3; i++) {
      c.tickAll();
      c.deliverAll();
    }
    assert.equal(c.node(1).zab.status().state, 'looking');
    assert.equal(c.node(3).zab.status().state, 'leading', 'the leader keeps 2 and itself: a quorum');
  });
});

describe('zab assertions', () => {
  test('NEWLEADER for one epoch from two members stops the member loudly', () => {
    const node = new ZabNode({
      id: 1,
      voters: [1, 2, 3],
      tickLimits: { initLimit: 5, syncLimit: 2 },
      persisted: { acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0n, lastCommittedZxid: 0n },
    });
    node.step(2, { type: 'newLeader', epoch: 4, lastZxid: 0n });
    assert.throws(() => node.step(3, { type: 'newLeader', epoch: 4, lastZxid: 0n }), ZabInvariantError);
  });

  test('a leader that sees another member propose in its own epoch stops loudly', () => {
    const c = settled3();
    const rival = { sessionId: 1n, cxid: 1, zxid: makeZxid(1, 7), timeMs: 1, body: setData(1).body };
    assert.throws(() => c.node(3).zab.step(2, { type: 'proposal', txn: rival }), ZabInvariantError);
  });

  test('a recentLog that does not end at lastLoggedZxid is refused', () => {
    assert.throws(
      () =>
        new ZabNode({
          id: 1,
          voters: [1],
          tickLimits: { initLimit: 5, syncLimit: 2 },
          persisted: { acceptedEpoch: 1, currentEpoch: 1, lastLoggedZxid: makeZxid(1, 2), lastCommittedZxid: 0n },
          recentLog: [{ ...setData(1), zxid: makeZxid(1, 1) }],
        }),
      ZabInvariantError,
    );
  });

  test('disconnected(leader) sends a follower back to LOOKING at once', () => {
    const c = settled3();
    c.node(1).zab.disconnected(3);
    c.process(1);
    assert.equal(c.node(1).zab.status().state, 'looking');
    c.runUntil(() => c.settled(), 20, 'rejoin');
    assert.equal(c.leader(), 3);
  });
});
