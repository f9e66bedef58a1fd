/**
 * Real `paddock start` processes forming ensembles on loopback: election, replication of
 * every op with writes forwarded from followers, failover under write load (SIGKILL of the
 * leader), catch-up of restarted members (DIFF, SNAP, TRUNC), SIGSTOP of the leader, a
 * minority that cannot write, observers. After each test the members' trees are identical.
 * Every member shows the ensemble in /zookeeper/config as ZooKeeper 3.8's members do, also
 * after a leader change, a restart, a DIFF and a SNAP.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, connect } from 'node:net';
import { after, describe, test } from 'node:test';
import { ZooKeeperClient, ZooKeeperError } from '../../src/client/index.js';
import { Ensemble } from '../support/ensemble.js';
import { fourLetterWord } from '../support/paddock.js';

const ensembles: Ensemble[] = [];
after(async () => {
  for (const e of ensembles) await e.stop();
});

async function ensemble(voters: number, observers = 0, settings: Record<string, string> = {}, clientAddressOnServerLines = false): Promise<Ensemble> {
  const e = await Ensemble.create({ voters, observers, settings, clientAddressOnServerLines });
  ensembles.push(e);
  e.startAll();
  return e;
}

async function client(e: Ensemble, ids: number[] = e.members.map((m) => m.id), sessionTimeoutMs = 6000): Promise<ZooKeeperClient> {
  const connectString = ids.map((id) => `127.0.0.1:${e.member(id).clientPort}`).join(',');
  return ZooKeeperClient.connect({ connectString, sessionTimeoutMs, maxReconnectDelayMs: 200 });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** True when something accepts a TCP connection on 127.0.0.1:port. */
function accepts(port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => finish(false), timeoutMs);
    function finish(ok: boolean): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    }
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/**
 * What a ZooKeeper 3.8 member of this ensemble shows in /zookeeper/config: a line per member,
 * the role always written, the client address only where the server line has one, then
 * `version=0`, no trailing newline (observed; test/unit/config/quorum-config.test.ts).
 */
function zooKeeperConfigText(e: Ensemble, clientAddressOnServerLines: boolean): string {
  const lines = e.members.map((m) => {
    const line = `server.${m.id}=127.0.0.1:${m.quorumPort}:${m.electionPort}:${m.observer ? 'observer' : 'participant'}`;
    return clientAddressOnServerLines ? `${line};127.0.0.1:${m.clientPort}` : line;
  });
  return [...lines, 'version=0'].join('\n');
}

/**
 * Every running member's /zookeeper/config (getData and getACL, from that member alone) against
 * ZooKeeper's: the Stat a member gives the node, except mtime, which ZooKeeper stamps with each
 * member's clock and Paddock leaves 0 so that the members' trees stay identical.
 */
async function assertConfigNode(e: Ensemble, expected: string): Promise<void> {
  for (const m of e.members.filter((x) => x.child !== null)) {
    const c = await ZooKeeperClient.connect({ connectString: `127.0.0.1:${m.clientPort}`, sessionTimeoutMs: 4000 });
    try {
      const { data, stat } = await c.getData('/zookeeper/config');
      assert.equal(Buffer.from(data).toString('utf8'), expected, `member ${m.id}`);
      assert.deepEqual(stat, {
        czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: -1, cversion: 0, aversion: -1,
        ephemeralOwner: 0n, dataLength: Buffer.byteLength(expected), numChildren: 0, pzxid: 0n,
      }, `member ${m.id}`);
      assert.deepEqual((await c.getACL('/zookeeper/config')).acl, [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
    } finally {
      await c.close();
    }
  }
}

async function writeN(c: ZooKeeperClient, prefix: string, n: number): Promise<void> {
  const pending: Array<Promise<unknown>> = [];
  for (let i = 0; i < n; i++) pending.push(c.create(`${prefix}-${i}`, `v${i}`));
  await Promise.all(pending);
}

void describe('ensemble of 3', { timeout: 120_000 }, () => {
  test('elects one leader; srvr and mntr show the mode; every op replicates from every member', async () => {
    const e = await ensemble(3);
    const leader = await e.waitStable();
    const modes = await e.modes();
    assert.equal([...modes.values()].filter((m) => m === 'leader').length, 1);
    assert.equal([...modes.values()].filter((m) => m === 'follower').length, 2);
    const mntr = await fourLetterWord(e.member(leader).clientPort, 'mntr');
    assert.match(mntr, /zk_server_state\tleader/);
    assert.match(mntr, /zk_peer_state\tleading - broadcast/);
    // From the leader role's learners and log, not from sockets.
    assert.match(mntr, /zk_learners\t2\n/);
    assert.match(mntr, /zk_synced_followers\t2\n/);
    assert.match(mntr, /zk_synced_observers\t0\n/);
    assert.match(mntr, /zk_pending_proposals\t0\n/);
    assert.match(mntr, /zk_cnt_election_time\t[1-9]/);
    assert.match(mntr, /zk_avg_election_time\t\d+(\.\d+)?\n/);
    // Every member listens on its election port (votes) as well as its quorum port.
    for (const m of e.members) {
      assert.equal(await accepts(m.electionPort), true, `member ${m.id} election port`);
      assert.equal(await accepts(m.quorumPort), true, `member ${m.id} quorum port`);
    }
    const follower = e.members.find((m) => m.id !== leader)!;
    assert.match(await fourLetterWord(follower.clientPort, 'srvr'), /Mode: follower/);

    const clients = await Promise.all(e.members.map((m) => client(e, [m.id])));
    for (const [i, c] of clients.entries()) {
      const base = `/m${i + 1}`;
      await c.create(base, 'a');
      await c.setData(base, 'b');
      await c.create(`${base}/eph`, 'e', { mode: 'ephemeral' });
      const seq = await c.create(`${base}/seq-`, 's', { mode: 'persistentSequential' });
      assert.match(seq, /seq-0000000001$/);
      await c.create(`${base}/gone`, 'g');
      await c.delete(`${base}/gone`);
      await c.setACL(`${base}`, [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }]);
      await c.multi([
        { type: 'create', path: `${base}/multi`, data: 'm' },
        { type: 'setData', path: base, data: 'c' },
      ]);
      // A failing write is an error txn everywhere, answered with its code.
      await assert.rejects(c.create(`${base}/no/parent`, 'x'), (err: unknown) => err instanceof ZooKeeperError);
      await assert.rejects(c.setData(base, 'z', 99), (err: unknown) => err instanceof ZooKeeperError);
      // read-your-writes behind the session's writes, on the member that holds the session
      assert.equal(Buffer.from((await c.getData(base)).data ?? '').toString(), 'c');
    }
    // sync then read: a write made through another member is visible
    await clients[0]!.setData('/m1', 'after-sync');
    for (const c of clients) {
      await c.sync('/m1');
      assert.equal(Buffer.from((await c.getData('/m1')).data ?? '').toString(), 'after-sync');
    }
    // ephemerals of every session are everywhere, and go everywhere when the session closes
    for (const c of clients) for (let i = 1; i <= 3; i++) assert.notEqual(await c.exists(`/m${i}/eph`), null);
    await e.assertTreesIdentical();
    await clients[1]!.close();
    await clients[0]!.sync('/');
    assert.equal(await clients[0]!.exists('/m2/eph'), null);
    await clients[0]!.close();
    await clients[2]!.close();
    await e.assertTreesIdentical();
  });

  test('SIGKILL of the leader under write load: a new leader, the same sessions, no acknowledged write lost', async () => {
    const e = await ensemble(3);
    const leader = await e.waitStable();
    const writers = await Promise.all([0, 1, 2].map(() => client(e, undefined, 8000)));
    const sessions = writers.map((w) => w.sessionId);
    let expired = 0;
    for (const w of writers) w.on('expired', () => expired++);
    const acknowledged: string[] = [];
    let running = true;
    const loops = writers.map(async (w, k) => {
      for (let i = 0; running && i < 100_000; i++) {
        const path = `/w${k}-${i}`;
        try {
          await w.create(path, `${i}`);
          acknowledged.push(path);
        } catch {
          await sleep(20); // connection loss during the failover: not acknowledged
        }
      }
    });
    await sleep(1000);
    const before = acknowledged.length;
    await e.signal(leader, 'SIGKILL');
    const survivors = e.members.map((m) => m.id).filter((id) => id !== leader);
    const newLeader = await e.waitStable(20_000, survivors);
    assert.notEqual(newLeader, leader);
    const atFailover = acknowledged.length;
    for (let i = 0; i < 100 && acknowledged.length < atFailover + 50; i++) await sleep(100);
    running = false;
    await Promise.all(loops);
    assert.ok(acknowledged.length > atFailover, `writes go on after the failover (${before} before, ${atFailover} at, ${acknowledged.length} after)`);
    assert.deepEqual(writers.map((w) => w.sessionId), sessions, 'clients keep their sessions');
    assert.equal(expired, 0);
    const check = await client(e, survivors);
    for (const path of acknowledged) assert.notEqual(await check.exists(path), null, `${path} was acknowledged`);
    await check.close();
    await e.assertTreesIdentical();
    for (const w of writers) await w.close();
    // The old leader comes back as a follower and catches up (truncating what it alone logged).
    e.start(leader);
    await e.waitStable();
    assert.notEqual(await e.mode(leader), 'leader');
    await e.assertTreesIdentical();
    await assertConfigNode(e, zooKeeperConfigText(e, false));
  });

  test('a restarted follower catches up by DIFF; a very stale one by SNAP', async () => {
    const e = await ensemble(3);
    const leader = await e.waitStable();
    const config = zooKeeperConfigText(e, false);
    await assertConfigNode(e, config);
    const follower = e.members.map((m) => m.id).find((id) => id !== leader)!;
    const others = e.members.map((m) => m.id).filter((id) => id !== follower);
    const c = await client(e, others);
    await writeN(c, '/before', 20);
    await e.signal(follower, 'SIGKILL');
    await writeN(c, '/diff', 100);
    e.start(follower);
    await e.waitStable();
    await e.assertTreesIdentical();
    assert.doesNotMatch(e.member(follower).stderr, /installed the leader's snapshot/);
    await assertConfigNode(e, config);
    await e.signal(follower, 'SIGKILL');
    await writeN(c, '/snap', 700); // more than the leader keeps for DIFF (500)
    // Incompressible megabytes, so that the snapshot streams in several pieces.
    for (let i = 0; i < 6; i++) await c.create(`/snap-big-${i}`, randomBytes(900 * 1024));
    e.start(follower);
    await e.waitStable();
    await e.assertTreesIdentical();
    assert.match(e.member(follower).stderr, /installed the leader's snapshot/);
    const sent = /"pieces":(\d+)[^\n]*"msg":"sent a snapshot \(SNAP\)"/.exec(e.member(leader).stderr);
    assert.ok(sent, 'the leader logged the SNAP it sent');
    assert.ok(Number(sent[1]) >= 5, `a snapshot of over 5 MiB in ${sent[1]} pieces`);
    await assertConfigNode(e, config);
    // and it serves: a client there writes and reads
    const there = await client(e, [follower]);
    await there.create('/after-snap', 'x');
    await there.close();
    await c.close();
    await e.assertTreesIdentical();
    // restarted after the SNAP, it recovers from the installed snapshot and its log
    await e.signal(follower, 'SIGKILL');
    e.start(follower);
    await e.waitStable();
    await e.assertTreesIdentical();
    await assertConfigNode(e, config);
  });
});

void describe('ensemble faults', { timeout: 180_000 }, () => {
  test('a member with an uncommitted txn from an old epoch is truncated when it comes back', async () => {
    const e = await ensemble(3);
    const leader = await e.waitStable();
    const followers = e.members.map((m) => m.id).filter((id) => id !== leader);
    const c = await client(e, [leader], 6000);
    await writeN(c, '/base', 10);
    for (const id of followers) await e.signal(id, 'SIGSTOP');
    // The leader logs this proposal; the stopped followers never read it (killed while
    // stopped, what their sockets buffered is gone): it is never committed.
    const lost = c.create('/uncommitted', 'x').catch(() => 'failed');
    await sleep(300);
    for (const id of followers) await e.signal(id, 'SIGKILL');
    await e.signal(leader, 'SIGKILL');
    assert.notEqual(await within(lost, 5000), undefined);
    for (const id of followers) e.start(id);
    await e.waitStable(20_000, followers);
    const c2 = await client(e, followers);
    await writeN(c2, '/epoch2', 10);
    e.start(leader);
    await e.waitStable();
    await e.assertTreesIdentical();
    assert.equal(await c2.exists('/uncommitted'), null);
    assert.match(e.member(leader).stderr, /truncating the transaction log/);
    await c2.close();
    await c.close().catch(() => undefined);
  });

  test('a leader stopped past syncLimit is replaced, and after SIGCONT it does not accept writes as a leader', async () => {
    const e = await ensemble(3);
    const leader = await e.waitStable();
    const others = e.members.map((m) => m.id).filter((id) => id !== leader);
    await e.signal(leader, 'SIGSTOP');
    const newLeader = await e.waitStable(20_000, others);
    const c = await client(e, others);
    await c.create('/during-stop', 'x');
    await e.signal(leader, 'SIGCONT');
    // A write sent straight to the old leader right after it continues: it must not be
    // acknowledged unless it went through the new leader (then it is everywhere).
    const direct = await ZooKeeperClient.connect({ connectString: `127.0.0.1:${e.member(leader).clientPort}`, sessionTimeoutMs: 4000 }).catch(() => null);
    let acked = false;
    if (direct !== null) {
      const result = await within(direct.create('/via-old-leader', 'x').then(() => true, () => false), 3000);
      acked = result === true;
      await within(direct.close().catch(() => undefined), 2000);
    }
    await e.waitStable();
    assert.notEqual(await e.mode(leader), 'leader');
    assert.equal(await e.mode(newLeader), 'leader');
    await c.sync('/');
    if (acked) assert.notEqual(await c.exists('/via-old-leader'), null, 'an acknowledged write is in the new leader\'s tree');
    await c.close();
    await e.assertTreesIdentical();
  });

  test('a leader cut off from its followers cannot complete writes', async () => {
    const e = await ensemble(3);
    const leader = await e.waitStable();
    const followers = e.members.map((m) => m.id).filter((id) => id !== leader);
    const c = await client(e, [leader], 4000);
    await c.create('/ok', 'x');
    for (const id of followers) await e.signal(id, 'SIGSTOP');
    const result = await within(c.create('/minority', 'x').then(() => 'acked', () => 'failed'), 3000);
    assert.notEqual(result, 'acked');
    for (const id of followers) await e.signal(id, 'SIGCONT');
    await e.waitStable();
    await c.close().catch(() => undefined);
    await e.assertTreesIdentical();
  });
});

void describe('larger ensembles', { timeout: 180_000 }, () => {
  test('3 voters and an observer: the observer serves reads, forwards writes, catches up', async () => {
    // Server lines with client addresses, the other form ZooKeeper's /zookeeper/config shows.
    const e = await ensemble(3, 1, {}, true);
    await e.waitStable();
    assert.equal(await e.mode(4), 'observer');
    const config = zooKeeperConfigText(e, true);
    await assertConfigNode(e, config);
    const leaderMntr = await fourLetterWord(e.member(await e.waitStable()).clientPort, 'mntr');
    assert.match(leaderMntr, /zk_learners\t3\n/);
    assert.match(leaderMntr, /zk_synced_followers\t2\n/);
    assert.match(leaderMntr, /zk_synced_observers\t1\n/);
    const obs = await client(e, [4]);
    await obs.create('/from-observer', 'o');
    await obs.sync('/');
    assert.equal(Buffer.from((await obs.getData('/from-observer')).data ?? '').toString(), 'o');
    const voters = await client(e, [1, 2, 3]);
    await writeN(voters, '/v', 30);
    await obs.sync('/');
    assert.notEqual(await obs.exists('/v-29'), null);
    await e.assertTreesIdentical();
    await obs.close();
    await e.signal(4, 'SIGKILL');
    await writeN(voters, '/while-down', 30);
    e.start(4);
    await e.waitStable();
    await voters.close();
    await e.assertTreesIdentical();
    await assertConfigNode(e, config);
  });

  test('a member that cannot listen on its election port does not start; the others elect without it', async () => {
    const e = await Ensemble.create({ voters: 3 });
    ensembles.push(e);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(e.member(3).electionPort, '127.0.0.1', resolve));
    try {
      e.startAll();
      await e.waitStable(20_000, [1, 2]);
      const deadline = Date.now() + 10_000;
      while (e.member(3).child !== null && Date.now() < deadline) await sleep(100);
      assert.equal(e.member(3).child, null, 'member 3 exited');
      assert.match(e.member(3).stderr, /EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    e.start(3);
    await e.waitStable();
    assert.equal(await accepts(e.member(3).electionPort), true);
    const c = await client(e, [3]);
    await c.create('/after-port-freed', 'x');
    await c.close();
    await e.assertTreesIdentical();
  });

  test('5 members survive losing the leader and a follower, and the two catch up', async () => {
    const e = await ensemble(5);
    const leader = await e.waitStable();
    const follower = e.members.map((m) => m.id).find((id) => id !== leader)!;
    const c = await client(e);
    await writeN(c, '/five', 50);
    await e.signal(leader, 'SIGKILL');
    await e.signal(follower, 'SIGKILL');
    await e.waitStable(20_000, e.members.map((m) => m.id).filter((id) => id !== leader && id !== follower));
    await writeN(c, '/three', 50);
    e.start(leader);
    e.start(follower);
    await e.waitStable();
    await c.close();
    const tree = await e.assertTreesIdentical();
    assert.match(tree, /\/three-49 /);
  });
});

void describe('sessions across the ensemble', { timeout: 120_000 }, () => {
  test('a session on a follower stays alive past its timeout; one whose client died expires everywhere', async () => {
    const e = await ensemble(3);
    const leader = await e.waitStable();
    const follower = e.members.find((m) => m.id !== leader)!;
    const live = await client(e, [follower.id], 2000); // the most tickTime 100 allows
    await live.create('/live', 'x', { mode: 'ephemeral' });
    // A client in another process that dies without closing its session.
    const { spawn } = await import('node:child_process');
    const clientModule = new URL('../../src/client/index.js', import.meta.url).href;
    const script = `const { ZooKeeperClient } = await import(${JSON.stringify(clientModule)});
      const c = await ZooKeeperClient.connect({ connectString: '127.0.0.1:${follower.clientPort}', sessionTimeoutMs: 2000 });
      await c.create('/doomed', 'x', { mode: 'ephemeral' });
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`client process exited with ${code}`)));
    });
    child.kill('SIGKILL');
    await sleep(5000);
    assert.notEqual(await live.exists('/live'), null, 'the live session kept its ephemeral');
    await live.sync('/');
    assert.equal(await live.exists('/doomed'), null, 'the dead session expired');
    await e.assertTreesIdentical();
    await live.close();
  });
});
