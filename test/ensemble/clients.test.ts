/**
 * Other people's clients through a failover: kazoo (Debian's python3-kazoo) and
 * node-zookeeper-client connect to a real 3-member ensemble with a connect string of every
 * member, write while the leader is SIGKILLed, reconnect on their own and keep their session
 * and its ephemeral node. Every write they saw acknowledged is on every member afterwards.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/index.js';
import { kazooAvailable, spawnKazooPython } from '../support/cli-tools.js';
import { Ensemble } from '../support/ensemble.js';
import { CreateMode, NodeZk, codeOf, once } from '../support/node-zookeeper-client.js';

const ensembles: Ensemble[] = [];
after(async () => {
  for (const e of ensembles) await e.stop();
});

async function threeMembers(): Promise<{ e: Ensemble; hosts: string; leader: number }> {
  const e = await Ensemble.create({ voters: 3 });
  ensembles.push(e);
  e.startAll();
  const leader = await e.waitStable();
  return { e, hosts: e.members.map((m) => `127.0.0.1:${m.clientPort}`).join(','), leader };
}

/** Kills the leader, waits for a new one among the others, then brings the old one back. */
async function failover(e: Ensemble, leader: number): Promise<void> {
  await e.signal(leader, 'SIGKILL');
  const survivors = e.members.map((m) => m.id).filter((id) => id !== leader);
  assert.notEqual(await e.waitStable(20_000, survivors), leader);
}

async function assertAllPresent(e: Ensemble, hosts: string, paths: readonly string[]): Promise<void> {
  const check = await ZooKeeperClient.connect({ connectString: hosts, sessionTimeoutMs: 6000, maxReconnectDelayMs: 200 });
  try {
    await check.sync('/');
    for (const path of paths) assert.notEqual(await check.exists(path), null, `${path} was acknowledged but is missing`);
  } finally {
    await check.close();
  }
  await e.assertTreesIdentical(e.members.map((m) => m.id).filter((id) => e.member(id).child !== null));
}

// Writes until it has seen the connection suspended and 20 more writes succeed (bounded by a
// deadline); a create whose reply was lost is not counted as acknowledged.
const KAZOO_WRITER = `
import os, sys, time
from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss, NodeExistsError, OperationTimeoutError
from kazoo.retry import KazooRetry
zk = KazooClient(hosts=os.environ['ZK_HOSTS'], timeout=8.0,
                 connection_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.2))
states = []
zk.add_listener(lambda state: states.append(str(state)))
zk.start(timeout=15)
session = zk.client_id[0]
zk.create('/kazoo-ephemeral', b'mine', ephemeral=True)
print('READY %x' % session, flush=True)
after = 0
deadline = time.time() + 45
i = 0
while time.time() < deadline and after < 20:
    path = '/kazoo-%d' % i
    i += 1
    try:
        zk.create(path, b'v')
        print('ACK ' + path, flush=True)
        if 'SUSPENDED' in states:
            after += 1
    except NodeExistsError:
        pass
    except (ConnectionLoss, OperationTimeoutError):
        time.sleep(0.05)
print('AFTER %d' % after)
print('SESSION %x' % zk.client_id[0])
print('STATES ' + ','.join(states))
print('EPHEMERAL %s' % (zk.exists('/kazoo-ephemeral') is not None))
zk.stop()
zk.close()
`;

void describe('clients of other projects through a leader failover', { timeout: 180_000 }, () => {
  test('kazoo keeps its session and ephemeral; its acknowledged writes survive', { skip: !kazooAvailable() && 'python3-kazoo is not installed' }, async () => {
    const { e, hosts, leader } = await threeMembers();
    const writer = spawnKazooPython(KAZOO_WRITER, { ZK_HOSTS: hosts }, 90_000);
    try {
      assert.ok(await writer.waitForStdout((out) => out.includes('READY'), 30_000), `kazoo did not connect: ${writer.stderr()}`);
      // Writes before the kill, so the failover happens under load.
      assert.ok(await writer.waitForStdout((out) => out.split('ACK ').length > 10, 30_000), 'kazoo is writing');
      await failover(e, leader);
      const result = await writer.done;
      assert.equal(result.code, 0, `kazoo script failed: ${result.stderr}`);
      const out = result.stdout;
      const field = (name: string): string => out.split('\n').find((line) => line.startsWith(`${name} `))?.slice(name.length + 1) ?? '';
      assert.equal(field('SESSION'), /READY (\w+)/.exec(out)?.[1], 'kazoo kept its session');
      assert.match(field('STATES'), /SUSPENDED/, 'kazoo saw the connection go during the failover');
      assert.doesNotMatch(field('STATES'), /LOST/, 'the session was not lost');
      assert.equal(field('AFTER'), '20', 'kazoo wrote again after reconnecting');
      assert.equal(field('EPHEMERAL'), 'True');
      const acked = out.split('\n').filter((line) => line.startsWith('ACK ')).map((line) => line.slice(4));
      await assertAllPresent(e, hosts, acked);
    } finally {
      writer.signal('SIGKILL');
      await writer.done;
    }
  });

  test('node-zookeeper-client keeps its session and ephemeral; its acknowledged writes survive', async () => {
    const { e, hosts, leader } = await threeMembers();
    const zk = await NodeZk.connect(hosts, { sessionTimeout: 8000 });
    let expired = false;
    zk.client.on('expired', () => (expired = true));
    const session = zk.sessionId;
    await zk.create('/nzc-ephemeral', Buffer.from('mine'), CreateMode.EPHEMERAL);
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) acked.push(await zk.create(`/nzc-before-${i}`, Buffer.from('v')));
    const disconnected = once(zk.client, 'disconnected', 30_000);
    await failover(e, leader);
    await disconnected;
    let after = 0;
    const deadline = Date.now() + 45_000;
    for (let i = 0; after < 20 && Date.now() < deadline && i < 100_000; i++) {
      const path = `/nzc-after-${i}`;
      const code = await codeOf(zk.create(path, Buffer.from('v')));
      if (code === 0) {
        acked.push(path);
        after++;
      } else {
        // Connection loss while it reconnects: wait for the next 'connected' (bounded) and retry.
        await once(zk.client, 'connected', 10_000).catch(() => undefined);
      }
    }
    assert.equal(after, 20, 'node-zookeeper-client wrote again after reconnecting');
    assert.equal(zk.sessionId, session, 'it kept its session');
    assert.equal(expired, false);
    assert.notEqual(await zk.exists('/nzc-ephemeral'), null);
    await assertAllPresent(e, hosts, acked);
    await zk.close();
  });
});
