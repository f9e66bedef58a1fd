/** Fast leader election among 3 and 5 voters, with observers, and re-election. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { betterVote, makeZxid } from '../../../src/zab/index.js';
import { Cluster, setData, txnAt } from './harness.js';

function history(epoch: number, count: number): ReturnType<typeof txnAt>[] {
  return Array.from({ length: count }, (_, i) => txnAt(makeZxid(epoch, i + 1)));
}

describe('zab election', () => {
  test('votes order by (peerEpoch, zxid, id)', () => {
    assert.equal(betterVote({ leader: 1, zxid: 1n, peerEpoch: 2 }, { leader: 3, zxid: 9n, peerEpoch: 1 }), true);
    assert.equal(betterVote({ leader: 1, zxid: 9n, peerEpoch: 1 }, { leader: 3, zxid: 8n, peerEpoch: 1 }), true);
    assert.equal(betterVote({ leader: 3, zxid: 9n, peerEpoch: 1 }, { leader: 1, zxid: 9n, peerEpoch: 1 }), true);
    assert.equal(betterVote({ leader: 1, zxid: 9n, peerEpoch: 1 }, { leader: 3, zxid: 9n, peerEpoch: 1 }), false);
  });

  test('votes on their own channel: FOLLOWERINFO may overtake the votes that decide the leader', () => {
    const c = new Cluster({ voters: [1, 2, 3], observers: [4], splitChannels: true });
    // Deliver quorum-channel messages before any vote whenever both wait: a follower's
    // FOLLOWERINFO reaches the leader before the leader has itself decided.
    for (let round = 0; round < 60 && !c.settled(); round++) {
      for (let i = 0; i < 10_000 && c.queue.length > 0; i++) {
        const nonVote = c.queue.findIndex((e) => e.channel === 'quorum');
        c.deliverAt(nonVote >= 0 ? nonVote : c.queue.length - 1);
      }
      c.tickAll();
    }
    assert.ok(c.settled(), c.describe());
    assert.equal(c.leader(), 3);
    const leader = c.leader() as number;
    c.propose(leader, setData(1));
    c.runUntil(() => [1, 2, 3, 4].every((id) => c.committed(id).length === 1), 20, 'commit');
    // Re-election after the leader crashes, votes again last.
    c.crash(3);
    for (let round = 0; round < 80 && !c.settled([1, 2, 4]); round++) {
      for (let i = 0; i < 10_000 && c.queue.length > 0; i++) {
        const nonVote = c.queue.findIndex((e) => e.channel === 'quorum');
        c.deliverAt(nonVote >= 0 ? nonVote : c.queue.length - 1);
      }
      c.tickAll();
    }
    assert.ok(c.settled([1, 2, 4]), c.describe());
    assert.equal(c.leader(), 2);
  });

  test('three fresh voters elect the highest id', () => {
    const c = new Cluster({ voters: [1, 2, 3] });
    c.runUntil(() => c.settled(), 50, 'settled');
    assert.equal(c.leader(), 3);
    assert.equal(c.node(3).zab.status().epoch, 1);
  });

  test('five voters elect the one with the highest zxid, then currentEpoch wins over zxid', () => {
    const disks = new Map([
      [1, Cluster.diskWith(history(1, 3), { acceptedEpoch: 1, currentEpoch: 1 })],
      [2, Cluster.diskWith(history(1, 5), { acceptedEpoch: 1, currentEpoch: 1 })],
      [3, Cluster.diskWith(history(1, 4), { acceptedEpoch: 1, currentEpoch: 1 })],
      [4, Cluster.diskWith(history(1, 2), { acceptedEpoch: 1, currentEpoch: 1 })],
      [5, Cluster.diskWith(history(1, 5), { acceptedEpoch: 1, currentEpoch: 1 })],
    ]);
    const c = new Cluster({ voters: [1, 2, 3, 4, 5], disks });
    c.runUntil(() => c.settled(), 50, 'settled');
    assert.equal(c.leader(), 5, 'zxid 1.5 held by 2 and 5: the higher id wins');
    for (const id of [1, 2, 3, 4, 5]) assert.deepEqual(c.committed(id), history(1, 5).map((t) => t.zxid));

    const epochFirst = new Map([
      [1, Cluster.diskWith([...history(1, 2), ...history(2, 1)], { acceptedEpoch: 2, currentEpoch: 2 })],
      [2, Cluster.diskWith(history(1, 9), { acceptedEpoch: 1, currentEpoch: 1 })],
      [3, Cluster.diskWith(history(1, 2), { acceptedEpoch: 1, currentEpoch: 1 })],
    ]);
    const c2 = new Cluster({ voters: [1, 2, 3], disks: epochFirst });
    c2.runUntil(() => c2.settled(), 50, 'settled');
    assert.equal(c2.leader(), 1, 'currentEpoch 2 beats a longer epoch-1 log');
  });

  test('an observer learns the leader but never votes, and follows the committed log', () => {
    const c = new Cluster({ voters: [1, 2, 3], observers: [9] });
    c.runUntil(() => c.settled(), 50, 'settled');
    assert.equal(c.leader(), 3, 'the observer, despite the highest id, is not elected');
    assert.equal(c.node(9).zab.status().state, 'observing');
    for (let i = 0; i < 5; i++) c.propose(3, setData(i));
    c.runUntil(() => c.committed(9).length === 5, 20, 'observer commits');
    assert.deepEqual(c.committed(9), c.committed(3));
  });

  test('when the leader is cut off, the rest elect a new leader in a later epoch', () => {
    const c = new Cluster({ voters: [1, 2, 3, 4, 5] });
    c.runUntil(() => c.settled(), 50, 'settled');
    assert.equal(c.leader(), 5);
    c.propose(5, setData(1));
    c.runUntil(() => c.committed(1).length === 1, 10, 'commit');
    c.isolate(5);
    c.runUntil(() => c.settled([1, 2, 3, 4]) && c.leader() !== 5, 100, 'reelection');
    assert.equal(c.leader(), 4);
    assert.equal(c.node(4).zab.status().epoch, 2);
    c.heal();
    c.runUntil(() => c.settled(), 100, 'old leader rejoins');
    assert.equal(c.leader(), 4);
    assert.equal(c.node(5).zab.status().state, 'following');
  });

  test('a single voter is an ensemble of one: it leads and commits on its own fsync', () => {
    const c = new Cluster({ voters: [1] });
    assert.equal(c.leader(), 1);
    const t = c.propose(1, setData(1));
    assert.equal(t?.zxid, makeZxid(1, 1));
    assert.deepEqual(c.committed(1), [makeZxid(1, 1)]);
  });
});
