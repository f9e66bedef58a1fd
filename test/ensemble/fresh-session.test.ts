/**
 * A client that got its session through one member and reconnects at once to another that
 * has not applied the session's creation yet keeps its session: ZooKeeper's learner asks the
 * leader about a session it does not know, and Paddock's catches up with the leader first.
 *
 * The members reach each other through the chaos runner's TCP proxies, so the test can hold
 * back exactly what the leader sends to one follower (a one-way stall) while that follower
 * still counts as serving (the stall stays well under syncLimit).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/index.js';
import { ConnectRequestCodec, ConnectResponseCodec, JuteReader, JuteWriter } from '../../src/jute/index.js';
import { fourLetterWord } from '../support/paddock.js';
import { RawSocket } from '../support/raw-socket.js';
import { createCluster, findLeader } from '../chaos/cluster.js';
import type { ChaosCluster } from '../chaos/cluster.js';

/** syncLimit 10 ticks of 200 ms: a follower keeps serving through a 2 s silence of its leader. */
const SETTINGS = { tickTime: '200', syncLimit: '10', maxSessionTimeout: '8000' };

/** Lets `ms` pass: a window in which the member cannot answer, by construction (a stall). */
const elapse = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

void describe('a session created a moment ago through another member', { timeout: 90_000 }, () => {
  let cluster: ChaosCluster | undefined;
  const clients: ZooKeeperClient[] = [];
  before(async () => {
    cluster = await createCluster(3, SETTINGS);
    for (const m of cluster.ensemble.members) cluster.ensemble.start(m.id);
    await cluster.ensemble.waitStable(30_000);
  });
  after(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    await cluster?.proxies.close();
    await cluster?.ensemble.stop();
  });

  /** The leader, a follower that creates sessions, and one that is kept behind. */
  async function roles() {
    const { ensemble, proxies } = cluster!;
    const leader = await findLeader(ensemble);
    assert.ok(leader !== null, 'one leader');
    const [creator, lagging] = ensemble.members.map((m) => m.id).filter((id) => id !== leader) as [number, number];
    const only = (id: number) => `127.0.0.1:${ensemble.member(id).clientPort}`;
    return { ensemble, proxies, leader, creator, lagging, only };
  }

  test('is accepted by a member that has not applied it yet, once that member has caught up', async () => {
    const { proxies, leader, creator, lagging, only } = await roles();

    // The leader's stream to `lagging` is held: the session's creation commits with the
    // leader and `creator`, and `lagging` hears nothing of it.
    proxies.stall(leader, lagging);
    const first = await ZooKeeperClient.connect({ connectString: only(creator), sessionTimeoutMs: 8000 });
    clients.push(first);
    const resumed = ZooKeeperClient.connect({
      connectString: only(lagging),
      sessionTimeoutMs: 8000,
      sessionId: first.sessionId,
      sessionPassword: first.sessionPassword,
    });
    let settled = false;
    resumed.then(
      (client) => {
        settled = true;
        clients.unshift(client);
      },
      () => (settled = true),
    );
    // Until the leader's stream flows again, `lagging` cannot know the session: it must wait,
    // not answer that the session expired.
    await elapse(400);
    assert.equal(settled, false, 'the member answered before it could know the session');
    proxies.healAll();
    const second = await resumed;
    assert.equal(second.sessionId, first.sessionId);
    await second.create('/fresh-session', 'x');
    assert.equal((await second.getData('/fresh-session')).data.toString(), 'x');
  });

  test('a bad request sent behind the waiting connect request closes that connection, not the member', async () => {
    const { ensemble, proxies, leader, creator, lagging, only } = await roles();
    proxies.stall(leader, lagging);
    const owner = await ZooKeeperClient.connect({ connectString: only(creator), sessionTimeoutMs: 8000 });
    clients.push(owner);
    const raw = await RawSocket.open(ensemble.member(lagging).clientPort);
    try {
      const connect = new JuteWriter();
      ConnectRequestCodec.write(connect, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 8000, sessionId: owner.sessionId, passwd: owner.sessionPassword, readOnly: false });
      raw.writeFrame(connect.toBuffer());
      raw.writeFrame(Buffer.from([1, 2])); // not even a request header
      await elapse(400);
      proxies.healAll();
      const answer = await raw.nextFrame(10_000);
      assert.ok(answer, 'the connect request was answered before the close');
      const response = ConnectResponseCodec.read(new JuteReader(answer));
      assert.equal(response.sessionId, owner.sessionId, 'the session was found after catching up');
      assert.equal(await raw.waitClosed(5000), true, 'the bad request closed the connection');
    } finally {
      raw.close();
    }
    assert.match(await fourLetterWord(ensemble.member(lagging).clientPort, 'srvr', 5000), /Mode: follower/);
  });
});
