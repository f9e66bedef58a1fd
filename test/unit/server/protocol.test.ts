/**
 * The wire protocol of a real in-process server, byte for byte: the handshake, sessions,
 * per-session order, watches before replies, and bad input of every kind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CreateRequestCodec,
  Err,
  EventType,
  GetDataResponseCodec,
  OpCode,
  PathRecordCodec,
  PathWatchRequestCodec,
  SetDataRequestCodec,
  StatResponseCodec,
  WatcherEventCodec,
} from '../../../src/jute/index.js';
import { OPEN_ACL_UNSAFE } from '../../../src/tree/index.js';
import { startInProcess } from '../../support/paddock.js';
import type { InProcessPaddock } from '../../support/paddock.js';
import { RawSocket } from '../../support/raw-socket.js';

let paddock: InProcessPaddock;
const opened: RawSocket[] = [];

before(async () => {
  paddock = await startInProcess({ tickTime: '100' });
});
after(async () => {
  for (const socket of opened) socket.close();
  await paddock.stop();
});

async function open(): Promise<RawSocket> {
  const socket = await RawSocket.open(paddock.port);
  opened.push(socket);
  return socket;
}

async function session(): Promise<RawSocket> {
  const socket = await open();
  const response = await socket.handshake();
  assert.notEqual(response.sessionId, 0n);
  return socket;
}

/** Proves the server still serves: a new session can create and read a node. */
async function assertServing(): Promise<void> {
  const socket = await session();
  const path = `/alive-${Math.random().toString(36).slice(2)}`;
  socket.sendRequest(1, OpCode.create, CreateRequestCodec, { path, data: Buffer.from('ok'), acl: OPEN_ACL_UNSAFE, flags: 0 });
  const reply = await socket.reply();
  assert.equal(reply?.header.err, Err.Ok);
  socket.close();
}

describe('handshake', () => {
  test('with the readOnly byte the reply has it too (37 bytes), without it 36', async () => {
    const withByte = await open();
    await withByte.handshake({ readOnly: false });
    const without = await open();
    const writerless = await without.handshake({ readOnly: undefined });
    assert.notEqual(writerless.sessionId, 0n);
    assert.equal(writerless.readOnly, undefined);
    // Re-read the raw sizes through a fresh pair of handshakes.
    const a = await open();
    a.writeFrame(Buffer.concat([Buffer.alloc(4), Buffer.alloc(8), int32(30000), Buffer.alloc(8), int32(16), Buffer.alloc(16), Buffer.from([0])]));
    assert.equal((await a.nextFrame())!.length, 37);
    const b = await open();
    b.writeFrame(Buffer.concat([Buffer.alloc(4), Buffer.alloc(8), int32(30000), Buffer.alloc(8), int32(16), Buffer.alloc(16)]));
    assert.equal((await b.nextFrame())!.length, 36);
  });

  test('the session timeout is clamped to [2, 20] x tickTime', async () => {
    assert.equal((await (await open()).handshake({ timeOut: 1 })).timeOut, 200);
    assert.equal((await (await open()).handshake({ timeOut: 1_000_000 })).timeOut, 2000);
    assert.equal((await (await open()).handshake({ timeOut: 1500 })).timeOut, 1500);
  });

  test('a reconnect with id and password resumes the session; a wrong password is refused and closed', async () => {
    const first = await open();
    const created = await first.handshake({ timeOut: 2000 });
    assert.equal(created.passwd.length, 16);
    first.close();
    const again = await open();
    const resumed = await again.handshake({ sessionId: created.sessionId, passwd: created.passwd, timeOut: 2000 });
    assert.equal(resumed.sessionId, created.sessionId);
    const wrong = await open();
    const refused = await wrong.handshake({ sessionId: created.sessionId, passwd: Buffer.alloc(16, 7) });
    assert.equal(refused.sessionId, 0n);
    assert.equal(refused.timeOut, 0);
    assert.equal(await wrong.waitClosed(), true);
  });

  test('a client that has seen a newer zxid than the server is refused', async () => {
    const socket = await open();
    socket.writeFrame(Buffer.concat([Buffer.alloc(4), int64(1n << 40n), int32(30000), Buffer.alloc(8), int32(16), Buffer.alloc(16), Buffer.from([0])]));
    assert.equal(await socket.nextFrame(), null);
  });

  test('a request before the handshake closes the connection', async () => {
    const socket = await open();
    socket.sendRequest(1, OpCode.getData, PathWatchRequestCodec, { path: '/', watch: false });
    assert.equal(await socket.nextFrame(), null);
    await assertServing();
  });
});

describe('sessions and order', () => {
  test('a ping is answered with xid -2', async () => {
    const socket = await session();
    socket.sendRequest(-2, OpCode.ping);
    const reply = await socket.reply();
    assert.equal(reply?.header.xid, -2);
    assert.equal(reply?.header.err, 0);
  });

  test('per-session FIFO: a pipelined read sees the writes sent before it', async () => {
    const socket = await session();
    const path = '/fifo';
    socket.sendRequest(1, OpCode.create, CreateRequestCodec, { path, data: Buffer.from('0'), acl: OPEN_ACL_UNSAFE, flags: 0 });
    for (let i = 0; i < 50; i++) {
      socket.sendRequest(2 + 2 * i, OpCode.setData, SetDataRequestCodec, { path, data: Buffer.from(String(i + 1)), version: i });
      socket.sendRequest(3 + 2 * i, OpCode.getData, PathWatchRequestCodec, { path, watch: false });
    }
    const created = await socket.reply();
    assert.equal(created?.header.err, Err.Ok);
    let lastZxid = created!.header.zxid;
    for (let i = 0; i < 50; i++) {
      const set = (await socket.reply())!;
      assert.equal(set.header.xid, 2 + 2 * i);
      assert.equal(set.header.err, Err.Ok);
      assert.ok(set.header.zxid > lastZxid, 'zxids of writes go up');
      lastZxid = set.header.zxid;
      const get = (await socket.reply())!;
      assert.equal(get.header.xid, 3 + 2 * i);
      const data = GetDataResponseCodec.read(get.body);
      assert.equal(data.stat.version, i + 1);
      assert.equal(data.data?.toString(), String(i + 1));
    }
  });

  test('a watch event reaches the client before the reply that reveals the change', async () => {
    const watcher = await session();
    const writer = await session();
    writer.sendRequest(1, OpCode.create, CreateRequestCodec, { path: '/watched', data: null, acl: OPEN_ACL_UNSAFE, flags: 0 });
    assert.equal((await writer.reply())?.header.err, 0);
    watcher.sendRequest(1, OpCode.getData, PathWatchRequestCodec, { path: '/watched', watch: true });
    assert.equal((await watcher.reply())?.header.err, 0);
    // The watcher changes the node itself and reads it, pipelined: event, then set reply, then get.
    watcher.sendRequest(2, OpCode.setData, SetDataRequestCodec, { path: '/watched', data: Buffer.from('n'), version: -1 });
    watcher.sendRequest(3, OpCode.getData, PathWatchRequestCodec, { path: '/watched', watch: false });
    const first = (await watcher.reply())!;
    assert.equal(first.header.xid, -1);
    const event = WatcherEventCodec.read(first.body);
    assert.deepEqual(event, { type: EventType.NodeDataChanged, state: 3, path: '/watched' });
    assert.equal((await watcher.reply())?.header.xid, 2);
    assert.equal((await watcher.reply())?.header.xid, 3);
  });

  test('exists on a missing node sets a watch that fires NodeCreated', async () => {
    const watcher = await session();
    watcher.sendRequest(1, OpCode.exists, PathWatchRequestCodec, { path: '/later', watch: true });
    assert.equal((await watcher.reply())?.header.err, Err.NoNode);
    const writer = await session();
    writer.sendRequest(1, OpCode.create, CreateRequestCodec, { path: '/later', data: null, acl: OPEN_ACL_UNSAFE, flags: 0 });
    const event = (await watcher.reply())!;
    assert.equal(event.header.xid, -1);
    assert.equal(WatcherEventCodec.read(event.body).type, EventType.NodeCreated);
  });

  test('closeSession removes the session ephemerals and closes the connection after its reply', async () => {
    const owner = await session();
    owner.sendRequest(1, OpCode.create, CreateRequestCodec, { path: '/eph', data: null, acl: OPEN_ACL_UNSAFE, flags: 1 });
    assert.equal((await owner.reply())?.header.err, 0);
    owner.sendRequest(2, OpCode.closeSession);
    assert.equal((await owner.reply())?.header.xid, 2);
    assert.equal(await owner.waitClosed(), true);
    const other = await session();
    other.sendRequest(1, OpCode.exists, PathWatchRequestCodec, { path: '/eph', watch: false });
    assert.equal((await other.reply())?.header.err, Err.NoNode);
  });

  test('an expired session loses its ephemerals', async () => {
    const owner = await open();
    const created = await owner.handshake({ timeOut: 200 });
    owner.sendRequest(1, OpCode.create, CreateRequestCodec, { path: '/expiring', data: null, acl: OPEN_ACL_UNSAFE, flags: 1 });
    assert.equal((await owner.reply())?.header.err, 0);
    // No pings: the server expires the session within timeout + one tick and closes the socket.
    assert.equal(await owner.waitClosed(3000), true);
    const other = await session();
    other.sendRequest(1, OpCode.exists, PathWatchRequestCodec, { path: '/expiring', watch: false });
    assert.equal((await other.reply())?.header.err, Err.NoNode);
    const late = await open();
    const refused = await late.handshake({ sessionId: created.sessionId, passwd: created.passwd });
    assert.equal(refused.sessionId, 0n, 'an expired session cannot be resumed');
  });
});

describe('bad input', () => {
  test('a negative frame length closes the connection; others are served', async () => {
    const socket = await session();
    socket.write(int32(-5));
    assert.equal(await socket.waitClosed(), true);
    await assertServing();
  });

  test('a frame longer than jute.maxbuffer closes the connection', async () => {
    const socket = await session();
    socket.write(int32(0xfffff + 1));
    assert.equal(await socket.waitClosed(), true);
    await assertServing();
  });

  test('a frame too short for a request header closes the connection', async () => {
    const socket = await session();
    socket.writeFrame(Buffer.from([1, 2, 3]));
    assert.equal(await socket.waitClosed(), true);
    await assertServing();
  });

  test('an unknown op code gets Unimplemented, then the connection is closed', async () => {
    const socket = await session();
    socket.sendRequest(7, 9999);
    const reply = (await socket.reply())!;
    assert.equal(reply.header.xid, 7);
    assert.equal(reply.header.err, Err.Unimplemented);
    assert.equal(await socket.waitClosed(), true);
    await assertServing();
  });

  test('a body that does not decode gets MarshallingError and the session goes on', async () => {
    const socket = await session();
    socket.writeFrame(Buffer.concat([int32(1), int32(OpCode.getData), int32(1000)]));
    assert.equal((await socket.reply())?.header.err, Err.MarshallingError);
    socket.writeFrame(Buffer.concat([int32(2), int32(OpCode.create), int32(-7)]));
    assert.equal((await socket.reply())?.header.err, Err.MarshallingError);
    socket.sendRequest(3, OpCode.exists, PathWatchRequestCodec, { path: '/', watch: false });
    const ok = (await socket.reply())!;
    assert.equal(ok.header.err, 0);
    assert.equal(StatResponseCodec.read(ok.body).stat.numChildren > 0, true);
  });

  test('invalid paths get BadArguments for writes', async () => {
    const socket = await session();
    const bad = ['/trailing/', '/a//b', '/a/..', 'relative', '/nul\u0000'];
    for (const [i, path] of bad.entries()) {
      socket.sendRequest(i + 1, OpCode.setData, SetDataRequestCodec, { path, data: null, version: -1 });
      assert.equal((await socket.reply())?.header.err, Err.BadArguments, path);
    }
    socket.sendRequest(99, OpCode.sync, PathRecordCodec, { path: '/' });
    assert.equal((await socket.reply())?.header.err, 0);
  });

  test('random bytes, before or after the handshake, never stop the server', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 300 }), async (afterHandshake, bytes) => {
        const socket = afterHandshake ? await session() : await open();
        socket.write(Buffer.from(bytes));
        // Whatever the server answers, it must keep answering others.
        socket.close();
      }),
      { numRuns: 60, seed: 20261122 },
    );
    await assertServing();
  });
});

function int32(value: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeInt32BE(value);
  return buf;
}

function int64(value: bigint): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeBigInt64BE(value);
  return buf;
}
