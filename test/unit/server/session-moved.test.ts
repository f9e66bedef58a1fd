/**
 * Session ownership across an ensemble (ZooKeeper's SessionMoved): three in-process members on
 * loopback. A write a follower took for a session before the session's client moved to another
 * member, and forwarded only afterwards (held here by replacing that member's forward), is an
 * error txn with SessionMoved answered on that follower, which then closes the stale connection;
 * it is never applied after the writes of the member the session moved to. The leader's own
 * connections are owners too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Err, OpCode, SetDataRequestCodec } from '../../../src/jute/index.js';
import { ZooKeeperClient, ZooKeeperError } from '../../../src/client/index.js';
import { PaddockServer, buildConfig, parseProperties, silentLogger } from '../../../src/server/index.js';
import { Replicator } from '../../../src/server/quorum/replicator.js';
import type { ForwardedRequest } from '../../../src/server/quorum/messages.js';
import { freePort } from '../../support/free-port.js';
import { RawSocket } from '../../support/raw-socket.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let root = '';
const servers = new Map<number, PaddockServer>();
const clients: ZooKeeperClient[] = [];
const raws: RawSocket[] = [];

async function until(what: string, done: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1500 && Date.now() < deadline; i++) {
    if (done()) return;
    await sleep(10);
  }
  assert.fail(`${what} not reached within ${timeoutMs} ms`);
}

function port(id: number): number {
  return servers.get(id)!.address().port;
}

function dataOf(id: number, path: string): string | undefined {
  return servers.get(id)!.tree.get(path)?.data.toString('utf8');
}

async function rawSession(id: number, sessionId = 0n, passwd?: Buffer): Promise<{ raw: RawSocket; sessionId: bigint; passwd: Buffer }> {
  const raw = await RawSocket.open(port(id));
  raws.push(raw);
  const response = await raw.handshake({ sessionId, passwd, timeOut: 4000 });
  assert.notEqual(response.sessionId, 0n, `member ${id} refused the session`);
  return { raw, sessionId: response.sessionId, passwd: Buffer.from(response.passwd) };
}

async function rawSetData(raw: RawSocket, xid: number, path: string, data: string): Promise<number | null> {
  raw.sendRequest(xid, OpCode.setData, SetDataRequestCodec, { path, data: Buffer.from(data), version: -1 });
  const reply = await raw.reply();
  if (reply === null) return null;
  assert.equal(reply.header.xid, xid);
  return reply.header.err;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'paddock-moved-'));
  const ports = new Set<number>();
  while (ports.size < 6) ports.add(await freePort());
  const [q1, e1, q2, e2, q3, e3] = [...ports];
  const lines = [`server.1=127.0.0.1:${q1}:${e1}`, `server.2=127.0.0.1:${q2}:${e2}`, `server.3=127.0.0.1:${q3}:${e3}`];
  for (const id of [1, 2, 3]) {
    const dataDir = join(root, `m${id}`);
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'myid'), `${id}\n`);
    const text = [`tickTime=200`, `initLimit=10`, `syncLimit=5`, `dataDir=${dataDir}`, `clientPort=0`, `clientPortAddress=127.0.0.1`, ...lines].join('\n');
    const config = buildConfig(parseProperties(text), { baseDir: dataDir, env: {} });
    servers.set(id, new PaddockServer(config, silentLogger()));
  }
  await Promise.all([...servers.values()].map((s) => s.start()));
  await until('a serving ensemble', () => {
    const all = [...servers.values()];
    return all.every((s) => s.replicator!.serving) && all.filter((s) => s.replicator!.isLeader).length === 1;
  });
});

after(async () => {
  for (const raw of raws) raw.close();
  for (const c of clients) await c.close().catch(() => undefined);
  await Promise.all([...servers.values()].map((s) => s.stop()));
  await rm(root, { recursive: true, force: true });
});

void describe('session ownership (SessionMoved)', { timeout: 60_000 }, () => {
  test('a write a follower forwards after its session moved away is refused with SessionMoved and not applied', async () => {
    const leader = [...servers].find(([, s]) => s.replicator!.isLeader)![0];
    const [a, b] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
    const setup = await ZooKeeperClient.connect({ connectString: `127.0.0.1:${port(leader)}`, sessionTimeoutMs: 4000 });
    clients.push(setup);
    await setup.create('/x', 'v0');

    // The session starts on follower A.
    const onA = await rawSession(a);
    // A takes a write for it but its forward is held back.
    const replicatorA = servers.get(a)!.replicator!;
    const held: ForwardedRequest[] = [];
    replicatorA.forward = (request) => {
      held.push(request);
      return true;
    };
    const staleReply = rawSetData(onA.raw, 1, '/x', 'stale-from-A');
    await until('A took the write', () => held.length === 1);

    // The client moves to B (REVALIDATE), and writes there.
    const onB = await ZooKeeperClient.connect({ connectString: `127.0.0.1:${port(b)}`, sessionTimeoutMs: 4000, sessionId: onA.sessionId, sessionPassword: onA.passwd });
    clients.push(onB);
    await onB.setData('/x', 'from-B');

    // Now A's write reaches the leader.
    replicatorA.forward = Replicator.prototype.forward;
    assert.equal(replicatorA.forward(held[0]!), true);
    assert.equal(await staleReply, Err.SessionMoved);
    assert.equal(await onA.raw.waitClosed(), true, 'A closes the stale connection');

    await onB.sync('/x');
    assert.equal(Buffer.from((await onB.getData('/x')).data ?? '').toString(), 'from-B');
    await setup.sync('/x');
    const target = servers.get(leader)!.tree.lastProcessedZxid;
    await until('every member applied everything', () => [1, 2, 3].every((id) => servers.get(id)!.tree.lastProcessedZxid >= target));
    for (const id of [1, 2, 3]) assert.equal(dataOf(id, '/x'), 'from-B', `member ${id}`);
  });

  test('the leader owns the sessions of its own connections; the client surfaces SessionMoved', async () => {
    const leader = [...servers].find(([, s]) => s.replicator!.isLeader)![0];
    const b = [1, 2, 3].find((id) => id !== leader)!;
    const onB = await ZooKeeperClient.connect({ connectString: `127.0.0.1:${port(b)}`, sessionTimeoutMs: 4000 });
    clients.push(onB);
    await onB.create('/y', 'v0');

    // The session moves to the leader: B's connection is now stale, and its write is refused.
    const onLeader = await rawSession(leader, onB.sessionId, onB.sessionPassword);
    assert.equal(await rawSetData(onLeader.raw, 1, '/y', 'from-leader'), Err.Ok);
    await assert.rejects(onB.setData('/y', 'late-from-B'), (err: unknown) => err instanceof ZooKeeperError && err.code === Err.SessionMoved);

    // B closed that stale connection; the client reconnects to B (REVALIDATE) and writes there:
    // now the leader's own connection is the stale one.
    let written = false;
    for (let attempt = 0; attempt < 100 && !written; attempt++) {
      written = await onB.setData('/y', 'back-on-B').then(
        () => true,
        async () => {
          await sleep(50);
          return false;
        },
      );
    }
    assert.ok(written, 'the client resumed its session on B');
    assert.equal(await rawSetData(onLeader.raw, 2, '/y', 'stale-from-leader'), Err.SessionMoved);
    assert.equal(await onLeader.raw.waitClosed(), true, 'the leader closes its stale connection');

    const target = servers.get(leader)!.tree.lastProcessedZxid;
    await until('every member applied everything', () => [1, 2, 3].every((id) => servers.get(id)!.tree.lastProcessedZxid >= target));
    for (const id of [1, 2, 3]) assert.equal(dataOf(id, '/y'), 'back-on-B', `member ${id}`);
  });
});
