/**
 * The client's side of the wire protocol against a scripted server: the handshake bytes,
 * what happens to calls when a connection breaks, what a new connection sends first, and
 * how a misbehaving server is survived.
 */
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import {
  CheckVersionRequestCodec,
  Err,
  EventType,
  GetDataResponseCodec,
  JuteReader,
  JuteWriter,
  MultiRequestCodec,
  MultiResponseCodec,
  OpCode,
  PathWatchRequestCodec,
  SetWatchesCodec,
  StatCodec,
  Xid,
  encode,
} from '../../../src/jute/index.js';
import type { MultiResult, Stat } from '../../../src/jute/index.js';
import { ZooKeeperClient } from '../../../src/client/index.js';
import { FAKE_PASSWORD, FAKE_SESSION_ID, FakeServer, sessionResponse } from './fake-server.js';
import { Recorder, nextEvent, rejectsWith, waitFor } from './helpers.js';

const STAT: Stat = {
  czxid: 1n,
  mzxid: 2n,
  ctime: 3n,
  mtime: 4n,
  version: 5,
  cversion: 6,
  aversion: 7,
  ephemeralOwner: 0n,
  dataLength: 1,
  numChildren: 0,
  pzxid: 1n,
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(options: Partial<Parameters<typeof ZooKeeperClient.connect>[0]> = {}, fakeOptions = {}): Promise<{ fake: FakeServer; zk: ZooKeeperClient }> {
  const fake = await FakeServer.start(fakeOptions);
  cleanups.push(() => fake.close());
  const zk = await ZooKeeperClient.connect({ connectString: fake.connectString, sessionTimeoutMs: 2000, ...options });
  cleanups.push(async () => {
    zk.testHooks.holdReconnects(true);
    zk.testHooks.destroySocket();
    await zk.close();
  });
  return { fake, zk };
}

void describe('client protocol (scripted server)', { timeout: 30_000 }, () => {
  void test('the ConnectRequest: protocol 0, zxid 0, timeout, no session, 16-byte password, readOnly byte', async () => {
    const { fake, zk } = await setUp({ sessionTimeoutMs: 3000 });
    const connection = await fake.connection(0);
    assert.deepEqual(connection.connectRequest, {
      protocolVersion: 0,
      lastZxidSeen: 0n,
      timeOut: 3000,
      sessionId: 0n,
      passwd: Buffer.alloc(16),
      readOnly: false,
    });
    assert.equal(connection.handshakeBytes?.length, 4 + 8 + 4 + 8 + 4 + 16 + 1);
    assert.equal(zk.sessionId, FAKE_SESSION_ID);
    assert.deepEqual(zk.sessionPassword, FAKE_PASSWORD);
    assert.equal(zk.negotiatedTimeoutMs, 3000);
    assert.equal(zk.state, 'connected');
  });

  void test('readOnly: false leaves the trailing byte out; canBeReadOnly sets it', async () => {
    const { fake: withoutByte } = await setUp({ readOnly: false });
    assert.equal((await withoutByte.connection(0)).connectRequest?.readOnly, undefined);
    const { fake: readOnly } = await setUp({ canBeReadOnly: true });
    assert.equal((await readOnly.connection(0)).connectRequest?.readOnly, true);
  });

  void test('frames of one tick leave in one socket write', async () => {
    const { fake, zk } = await setUp();
    const connection = await fake.connection(0);
    const localPort = zk.testHooks.localPort;
    let writes = 0;
    const original = Socket.prototype.write;
    Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
      if (this.localPort === localPort) writes++;
      return (original as (...a: unknown[]) => boolean).apply(this, args);
    } as typeof Socket.prototype.write;
    try {
      const calls = Array.from({ length: 100 }, (_, i) => zk.getData(`/n${i}`));
      await connection.waitForCalls(100);
      assert.equal(writes, 1);
      const xids = connection.calls().map((request) => request.xid);
      assert.deepEqual(xids, Array.from({ length: 100 }, (_, i) => xids[0]! + i));
      for (const request of connection.calls()) connection.reply(request.xid, 10n, Err.NoNode);
      for (const call of calls) await rejectsWith(call, 'NoNode');
    } finally {
      Socket.prototype.write = original;
    }
  });

  void test('replies settle calls in order; lastZxidSeen follows reply headers', async () => {
    const { fake, zk } = await setUp();
    const connection = await fake.connection(0);
    const first = zk.getData('/a');
    const second = zk.exists('/b');
    const [a, b] = await connection.waitForCalls(2);
    assert.equal(a!.type, OpCode.getData);
    assert.deepEqual(PathWatchRequestCodec.read(new JuteReader(a!.body)), { path: '/a', watch: false });
    connection.reply(a!.xid, 0x10n, 0, encode(GetDataResponseCodec, { data: Buffer.from('x'), stat: STAT }));
    connection.reply(b!.xid, 0x11n, Err.NoNode);
    const data = await first;
    assert.equal(data.data.toString(), 'x');
    assert.deepEqual(data.stat, STAT);
    assert.equal(await second, null);
    assert.equal(zk.lastZxidSeen, 0x11n);
  });

  void test('calls in flight fail with ConnectionLoss when the connection breaks; the session is resumed', async () => {
    const { fake, zk } = await setUp();
    const connection = await fake.connection(0);
    const calls = [zk.getData('/a'), zk.setData('/b', 'x'), zk.delete('/c')];
    const [first] = await connection.waitForCalls(3);
    connection.reply(first!.xid, 0x42n, Err.NoNode);
    await rejectsWith(calls[0]!, 'NoNode');
    const disconnected = nextEvent(zk, 'disconnected');
    const reconnected = nextEvent(zk, 'connected');
    connection.destroy();
    await disconnected;
    const loss = await rejectsWith(calls[1]!, 'ConnectionLoss');
    assert.equal(loss.code, -4);
    assert.equal(loss.path, '/b');
    await rejectsWith(calls[2]!, 'ConnectionLoss');
    const [info] = (await reconnected) as [{ resumed: boolean; sessionId: bigint }];
    assert.equal(info.resumed, true);
    const second = await fake.connection(1);
    assert.equal(second.connectRequest?.sessionId, FAKE_SESSION_ID);
    assert.deepEqual(second.connectRequest?.passwd, FAKE_PASSWORD);
    assert.equal(second.connectRequest?.lastZxidSeen, 0x42n);
  });

  void test('a new connection sends auth, then SetWatches, then the calls queued meanwhile', async () => {
    const { fake, zk } = await setUp();
    const connection = await fake.connection(0);
    const auth = zk.addAuth('digest', 'u:p');
    const watched = [zk.getData('/d', () => undefined), zk.exists('/e', () => undefined), zk.exists('/missing', () => undefined), zk.getChildren('/c', () => undefined)];
    const calls = await connection.waitForCalls(5);
    connection.reply(Xid.auth, 0n, 0);
    await auth;
    connection.reply(calls[1]!.xid, 0x20n, 0, encode(GetDataResponseCodec, { data: Buffer.alloc(0), stat: STAT }));
    connection.reply(calls[2]!.xid, 0x21n, 0, encode(StatCodec, STAT));
    connection.reply(calls[3]!.xid, 0x22n, Err.NoNode);
    const children = new JuteWriter().writeVector(['x'], (w, s) => void w.writeString(s)).toBuffer();
    connection.reply(calls[4]!.xid, 0x23n, 0, children);
    await Promise.all(watched);
    assert.equal(zk.watchCount, 4);

    zk.testHooks.holdReconnects(true);
    zk.testHooks.destroySocket();
    const queued = zk.sync('/queued');
    zk.testHooks.holdReconnects(false);
    const second = await fake.connection(1);
    const sent = await second.waitForCalls(3, 'auth, SetWatches and the queued sync');
    assert.deepEqual(
      sent.map((request) => [request.xid, request.type]),
      [
        [Xid.auth, OpCode.auth],
        [Xid.setWatches, OpCode.setWatches],
        [sent[2]!.xid, OpCode.sync],
      ],
    );
    assert.deepEqual(SetWatchesCodec.read(new JuteReader(sent[1]!.body)), {
      relativeZxid: 0x23n,
      dataWatches: ['/d', '/e'],
      existWatches: ['/missing'],
      childWatches: ['/c'],
    });
    second.reply(Xid.auth, 0n, 0);
    second.reply(Xid.setWatches, 0x23n, 0);
    second.reply(sent[2]!.xid, 0x23n, 0, new JuteWriter().writeString('/queued').toBuffer());
    await queued;
  });

  void test('watch events fire their callbacks once, before replies that follow them', async () => {
    const { fake, zk } = await setUp();
    const connection = await fake.connection(0);
    const recorder = new Recorder();
    const order: string[] = [];
    const watch = zk.exists('/w', (event) => {
      recorder.callback(event);
      order.push('event');
    });
    const [call] = await connection.waitForCalls(1);
    assert.deepEqual(PathWatchRequestCodec.read(new JuteReader(call!.body)), { path: '/w', watch: true });
    connection.reply(call!.xid, 5n, Err.NoNode);
    assert.equal(await watch, null);
    const after = zk.getData('/w').then(() => order.push('reply'));
    const [, read] = await connection.waitForCalls(2);
    // One chunk: the event, a duplicate event, then the reply.
    connection.notify(EventType.NodeCreated, '/w');
    connection.notify(EventType.NodeCreated, '/w');
    connection.reply(read!.xid, 6n, 0, encode(GetDataResponseCodec, { data: null, stat: STAT }));
    await after;
    assert.deepEqual(order, ['event', 'reply']);
    assert.deepEqual(recorder.events, [{ type: EventType.NodeCreated, state: 3, path: '/w' }]);
  });

  void test('a reply out of order drops the connection: ConnectionLoss, then a new connection', async () => {
    const { fake, zk } = await setUp();
    const connection = await fake.connection(0);
    const calls = [zk.getData('/a'), zk.getData('/b')];
    const [, second] = await connection.waitForCalls(2);
    connection.reply(second!.xid, 1n, Err.NoNode);
    for (const call of calls) await rejectsWith(call, 'ConnectionLoss');
    await fake.connection(1);
    await waitFor(() => zk.state === 'connected', 'connected again');
  });

  for (const [name, bytes] of [
    ['a negative frame length', Buffer.from([0xff, 0xff, 0xff, 0xfb])],
    ['a frame larger than maxFrameBytes', Buffer.from([0x7f, 0, 0, 0])],
    ['a truncated reply header', Buffer.from([0, 0, 0, 3, 1, 2, 3])],
    ['a notification with a truncated event', Buffer.from([0, 0, 0, 20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1])],
  ] as const) {
    void test(`${name} from the server: reconnect, no exception`, async () => {
      const { fake, zk } = await setUp();
      const connection = await fake.connection(0);
      const call = zk.getData('/a');
      await connection.waitForCalls(1);
      connection.sendRaw(bytes);
      await rejectsWith(call, 'ConnectionLoss');
      await fake.connection(1);
      await waitFor(() => zk.state === 'connected', 'reconnected');
    });
  }

  void test('a reply body that does not decode: that call fails with ConnectionLoss, reconnect', async () => {
    const { fake, zk } = await setUp();
    const connection = await fake.connection(0);
    const call = zk.getData('/a');
    const [request] = await connection.waitForCalls(1);
    connection.reply(request!.xid, 1n, 0, Buffer.from([0, 0, 0, 9, 1]));
    await rejectsWith(call, 'ConnectionLoss');
    await fake.connection(1);
  });

  void test('an expired answer to the reconnect: state expired, calls fail with SessionExpired', async () => {
    const { fake, zk } = await setUp();
    const connection = await fake.connection(0);
    const recorder = new Recorder();
    const watch = zk.exists('/x', recorder.callback);
    const [request] = await connection.waitForCalls(1);
    connection.reply(request!.xid, 1n, Err.NoNode);
    await watch;
    fake.handshake = (req) => ({ ...sessionResponse(req), timeOut: 0, sessionId: 0n, passwd: Buffer.alloc(16) });
    zk.testHooks.holdReconnects(true);
    zk.testHooks.destroySocket();
    const queued = zk.getData('/queued');
    const expired = nextEvent(zk, 'expired');
    zk.testHooks.holdReconnects(false);
    await expired;
    assert.equal(zk.state, 'expired');
    const error = await rejectsWith(queued, 'SessionExpired');
    assert.equal(error.code, -112);
    await rejectsWith(zk.getData('/later'), 'SessionExpired');
    assert.deepEqual(recorder.events, [{ type: EventType.None, state: -112, path: '/x' }]);
  });

  void test('connect() to an expired session rejects with SessionExpired', async () => {
    const fake = await FakeServer.start({ handshake: (req) => ({ ...sessionResponse(req), timeOut: 0, sessionId: 0n }) });
    cleanups.push(() => fake.close());
    await rejectsWith(ZooKeeperClient.connect({ connectString: fake.connectString, sessionId: 5n, sessionPassword: Buffer.alloc(16, 1) }), 'SessionExpired');
  });

  void test('the next host in the connect string is tried when one does not answer', async () => {
    const silent = await FakeServer.start({ handshake: () => null });
    cleanups.push(() => silent.close());
    const fake = await FakeServer.start();
    cleanups.push(() => fake.close());
    const zk = await ZooKeeperClient.connect({ connectString: `${silent.connectString},${fake.connectString}`, sessionTimeoutMs: 2000, connectTimeoutMs: 300 });
    cleanups.push(() => zk.close());
    assert.equal(silent.connections.length, 1);
    assert.equal(fake.connections.length, 1);
    // Round robin: when this connection breaks the next attempt goes to the first host again.
    (await fake.connection(0)).destroy();
    await waitFor(() => silent.connections.length === 2, 'an attempt on the first host');
    await fake.connection(1);
    await waitFor(() => zk.state === 'connected', 'connected again');
  });

  void test('connect() gives up with ConnectionLoss when no host answers within the session timeout', async () => {
    const silent = await FakeServer.start({ handshake: () => null });
    cleanups.push(() => silent.close());
    const started = Date.now();
    const error = await rejectsWith(ZooKeeperClient.connect({ connectString: silent.connectString, sessionTimeoutMs: 600, connectTimeoutMs: 250 }), 'ConnectionLoss');
    assert.ok(Date.now() - started < 5000);
    assert.ok(error.cause instanceof Error);
  });

  void test('pings when idle; a server that stops answering is left after 2/3 of the timeout', async () => {
    const { fake, zk } = await setUp({ sessionTimeoutMs: 600 });
    const connection = await fake.connection(0);
    await waitFor(() => connection.requests.some((r) => r.xid === Xid.ping && r.type === OpCode.ping), 'a ping');
    fake.answerPings = false;
    const started = Date.now();
    const reason = await nextEvent(zk, 'disconnected');
    assert.match(String(reason[0]), /no reply/);
    assert.ok(Date.now() - started < 2000);
  });

  void test('while disconnected: the queue is bounded, and waits at most one session timeout', async () => {
    const { fake, zk } = await setUp({ sessionTimeoutMs: 500, maxQueuedRequests: 2 });
    zk.testHooks.holdReconnects(true);
    zk.testHooks.destroySocket();
    assert.equal(zk.state, 'disconnected');
    const queued = [zk.getData('/1'), zk.getData('/2')];
    await rejectsWith(zk.getData('/3'), 'ConnectionLoss');
    const started = Date.now();
    for (const call of queued) await rejectsWith(call, 'ConnectionLoss');
    assert.ok(Date.now() - started >= 300);
    // Away for longer than a session timeout: calls fail at once until a connection is back.
    await rejectsWith(zk.getData('/4'), 'ConnectionLoss');
    zk.testHooks.holdReconnects(false);
    await waitFor(() => zk.state === 'connected', 'connected again');
    const connection = await fake.connection(1);
    const call = zk.sync('/5');
    const [request] = await connection.waitForCalls(1);
    connection.reply(request!.xid, 1n, 0, new JuteWriter().writeString('/5').toBuffer());
    await call;
  });

  void test('multi: encodes MultiOperationRecord, decodes results, rejects with the first error', async () => {
    const { fake, zk } = await setUp();
    const connection = await fake.connection(0);
    const ok = zk.multi([
      { type: 'create', path: '/m/a', data: 'x', mode: 'ephemeralSequential' },
      { type: 'setData', path: '/m', data: 'y', version: 3 },
      { type: 'check', path: '/m', version: 4 },
      { type: 'delete', path: '/m/b' },
    ]);
    const [request] = await connection.waitForCalls(1);
    assert.equal(request!.type, OpCode.multi);
    const ops = MultiRequestCodec.read(new JuteReader(request!.body));
    assert.deepEqual(
      ops.map((op) => op.type),
      [OpCode.create, OpCode.setData, OpCode.check, OpCode.delete],
    );
    assert.deepEqual(ops[2]!.request, CheckVersionRequestCodec.read(new JuteReader(encode(CheckVersionRequestCodec, { path: '/m', version: 4 }))));
    const results: MultiResult[] = [
      { type: OpCode.create, path: '/m/a0000000001' },
      { type: OpCode.setData, stat: STAT },
      { type: OpCode.check },
      { type: OpCode.delete },
    ];
    connection.reply(request!.xid, 9n, 0, encode(MultiResponseCodec, results));
    assert.deepEqual(await ok, [{ type: 'create', path: '/m/a0000000001' }, { type: 'setData', stat: STAT }, { type: 'check' }, { type: 'delete' }]);

    const failing = zk.multi([
      { type: 'create', path: '/m/c' },
      { type: 'delete', path: '/m/d', version: 2 },
    ]);
    const [, second] = await connection.waitForCalls(2);
    const failed: MultiResult[] = [
      { type: OpCode.error, err: 0 },
      { type: OpCode.error, err: Err.BadVersion },
    ];
    connection.reply(second!.xid, 10n, 0, encode(MultiResponseCodec, failed));
    const error = await rejectsWith(failing, 'BadVersion');
    assert.equal(error.path, '/m/d');
    assert.deepEqual(error.results, [
      { type: 'error', code: 0, codeName: 'Ok' },
      { type: 'error', code: -103, codeName: 'BadVersion' },
    ]);
  });

  void test('a throwing watch callback is reported on "error" and breaks nothing', async () => {
    const { fake, zk } = await setUp();
    const connection = await fake.connection(0);
    const errors: Error[] = [];
    zk.on('error', (error) => errors.push(error));
    const watch = zk.exists('/t', () => {
      throw new Error('callback bug');
    });
    const [request] = await connection.waitForCalls(1);
    connection.reply(request!.xid, 1n, 0, encode(StatCodec, STAT));
    await watch;
    const next = zk.getData('/t');
    const [, read] = await connection.waitForCalls(2);
    connection.notify(EventType.NodeDataChanged, '/t');
    connection.reply(read!.xid, 2n, 0, encode(GetDataResponseCodec, { data: Buffer.from('ok'), stat: STAT }));
    assert.equal((await next).data.toString(), 'ok');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.message, 'callback bug');
    assert.equal(zk.state, 'connected');
  });
});
