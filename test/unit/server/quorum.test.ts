/**
 * The ensemble shell's pieces that need no processes: the quorum payload codec, session
 * touches in PINGs, TxnLog.truncateAfter (TRUNC) and resetTo (SNAP), in-memory snapshots that
 * overlap with a snapshot to disk, DataTree.replaceWith, and the quorum transport's paced
 * sends that carry a SNAP over loopback.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpCode } from '../../../src/jute/index.js';
import { DataTree } from '../../../src/tree/index.js';
import type { Txn } from '../../../src/tree/index.js';
import { TxnLog, listSegments, nodeFileSystem, parseSnapshotBytes, recover, scanSegment, snapshotToBuffer, streamSnapshot } from '../../../src/storage/index.js';
import { decodePayload, decodeTouches, encodePayload, encodeTouches } from '../../../src/server/quorum/messages.js';
import { QuorumTransport } from '../../../src/server/quorum/transport.js';
import { silentLogger } from '../../../src/server/log.js';
import { freePort } from '../../support/free-port.js';
import { waitFor } from '../client/helpers.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Creates of distinct children of /: the parent's cversion is not checked by apply. */
function createTxn(zxid: bigint, path: string): Txn {
  const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
  return { sessionId: 1n, cxid: 0, zxid, timeMs: 1000, body: { type: OpCode.create, path, data: Buffer.from('x'), acl, ephemeralOwner: 0n, parentCVersion: 1 } };
}

void describe('quorum payloads', () => {
  test('round-trip REQUEST, SYNC, SYNC_DONE, REVALIDATE and a ZAB message; reject junk', () => {
    const request = { sessionId: -5n, cxid: 0x01000002, type: OpCode.setData, body: Buffer.from([1, 2, 3]), authIds: [{ scheme: 'ip', id: '127.0.0.1' }] };
    assert.deepEqual(decodePayload(encodePayload({ kind: 'request', request })), { kind: 'request', request });
    assert.deepEqual(decodePayload(encodePayload({ kind: 'sync', id: 7 })), { kind: 'sync', id: 7 });
    assert.deepEqual(decodePayload(encodePayload({ kind: 'syncDone', id: 7, zxid: 0x100000003n })), { kind: 'syncDone', id: 7, zxid: 0x100000003n });
    assert.deepEqual(decodePayload(encodePayload({ kind: 'revalidate', sessionId: -9n })), { kind: 'revalidate', sessionId: -9n });
    const part = { kind: 'snapPart' as const, zxid: 0x200000007n, offset: 3 * 1024 * 1024, bytes: Buffer.from('piece') };
    assert.deepEqual(decodePayload(encodePayload(part)), part);
    const negative = encodePayload(part);
    negative.writeBigInt64BE(-1n, 9);
    assert.throws(() => decodePayload(negative), /offset/);
    const ping = { kind: 'zab' as const, message: { type: 'ping' as const, zxid: 5n, payload: encodeTouches([1n, -2n]) } };
    const decoded = decodePayload(encodePayload(ping));
    assert.equal(decoded.kind, 'zab');
    if (decoded.kind === 'zab' && decoded.message.type === 'ping') assert.deepEqual(decodeTouches(decoded.message.payload!), [1n, -2n]);
    assert.throws(() => decodePayload(Buffer.alloc(0)));
    assert.throws(() => decodePayload(Buffer.from([9, 0, 0])));
    assert.throws(() => decodePayload(Buffer.concat([encodePayload({ kind: 'sync', id: 1 }), Buffer.from([0])])));
    assert.throws(() => decodeTouches(Buffer.from([0x7f, 0, 0, 0])));
  });
});

void describe('TxnLog for an ensemble', () => {
  test('truncateAfter cuts the log after a zxid, across segments; the log goes on from there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'paddock-trunc-'));
    dirs.push(dir);
    const log = new TxnLog({ dir, fs: nodeFileSystem, preallocBytes: 4096, forceSync: true }, 0n);
    await log.append([createTxn(0x100000001n, '/a'), createTxn(0x100000002n, '/b')]);
    log.roll();
    await log.append([createTxn(0x100000003n, '/c')]);
    log.roll();
    await log.append([createTxn(0x200000001n, '/d')]);
    await log.truncateAfter(0x100000002n);
    await log.append([createTxn(0x300000001n, '/e')]);
    await log.close();
    const zxids: bigint[] = [];
    for (const s of await listSegments(nodeFileSystem, dir)) for (const t of (await scanSegment(nodeFileSystem, dir, s.name)).txns) zxids.push(t.zxid);
    assert.deepEqual(zxids, [0x100000001n, 0x100000002n, 0x300000001n]);
  });

  test('resetTo drops the whole log', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'paddock-reset-'));
    dirs.push(dir);
    const log = new TxnLog({ dir, fs: nodeFileSystem, preallocBytes: 4096, forceSync: true }, 0n);
    await log.append([createTxn(0x100000001n, '/a')]);
    await log.resetTo(0x200000005n);
    await log.append([createTxn(0x200000006n, '/b')]);
    await log.close();
    const segments = await listSegments(nodeFileSystem, dir);
    assert.deepEqual(segments.map((s) => s.firstZxid), [0x200000006n]);
  });

  test('recovery accepts a log that starts a later epoch after the snapshot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'paddock-epoch-'));
    dirs.push(dir);
    const { writeSnapshot } = await import('../../../src/storage/index.js');
    await writeSnapshot(new DataTree(), { fs: nodeFileSystem, dir, compress: false });
    const log = new TxnLog({ dir, fs: nodeFileSystem, preallocBytes: 4096, forceSync: true }, 0n);
    await log.append([createTxn(0x100000001n, '/a')]);
    await log.close();
    const quiet = { info: () => undefined, warn: () => undefined };
    const { tree } = await recover({ fs: nodeFileSystem, snapDir: dir, logDir: dir, truncateCorrupt: false, log: quiet });
    assert.equal(tree.lastProcessedZxid, 0x100000001n);
    assert.ok(tree.get('/a'));
  });
});

void describe('snapshots for SNAP', () => {
  test('an in-memory snapshot is exact at its zxid while the tree changes, and replaceWith installs it', async () => {
    const tree = new DataTree();
    for (let i = 1; i <= 50; i++) tree.apply(createTxn(BigInt(i), `/n${i}`));
    const a = snapshotToBuffer(tree, false);
    const b = snapshotToBuffer(tree, true);
    tree.apply(createTxn(51n, '/late'));
    const [bytesA, bytesB] = await Promise.all([a, b]);
    for (const bytes of [bytesA, bytesB]) {
      const loaded = parseSnapshotBytes(bytes, 'test');
      assert.equal(loaded.zxid, 50n);
      assert.equal(loaded.tree.get('/late'), undefined);
      assert.ok(loaded.tree.get('/n50'));
    }
    const target = new DataTree();
    target.replaceWith(parseSnapshotBytes(bytesA, 'test').tree);
    assert.equal(target.lastProcessedZxid, 50n);
    assert.deepEqual(target.childrenOf('/')?.filter((c) => c.startsWith('n')).length, 50);
  });
});

void describe('a streamed snapshot', () => {
  test('comes front to back in pieces that make the same snapshot, and a failing sink stops it', async () => {
    const tree = new DataTree();
    for (let i = 1; i <= 300; i++) tree.apply(createTxn(BigInt(i), `/n${i}`));
    const pieces: Buffer[] = [];
    const { zxid, sizeBytes } = await streamSnapshot(tree, false, async (bytes) => void pieces.push(bytes));
    assert.equal(zxid, 300n);
    assert.ok(pieces.length >= 3, 'header, frames, trailer');
    const whole = Buffer.concat(pieces);
    assert.equal(whole.length, sizeBytes);
    assert.equal(parseSnapshotBytes(whole, 'stream').tree.get('/n300')?.czxid, 300n);
    let calls = 0;
    await assert.rejects(
      streamSnapshot(tree, false, async () => {
        calls++;
        throw new Error('peer gone');
      }),
      /peer gone/,
    );
    assert.equal(calls, 1);
  });
});

void describe('paced quorum sends', () => {
  async function pair(t: { after(fn: () => Promise<void>): void }) {
    const [port1, port2] = [await freePort(), await freePort()];
    const received: Buffer[] = [];
    const peers = [
      { id: 1, host: '127.0.0.1', port: port1 },
      { id: 2, host: '127.0.0.1', port: port2 },
    ];
    const one = new QuorumTransport(1, { host: '127.0.0.1', port: port1 }, [peers[1]!], { onFrame: (_p, f) => void received.push(Buffer.from(f)), onDisconnected: () => undefined }, silentLogger());
    const two = new QuorumTransport(2, { host: '127.0.0.1', port: port2 }, [peers[0]!], { onFrame: () => undefined, onDisconnected: () => undefined }, silentLogger());
    t.after(async () => {
      await one.stop();
      await two.stop();
    });
    await one.start();
    await two.start();
    await waitFor(() => one.isConnected(2) && two.isConnected(1), 'the members connect');
    return { one, two, received, port1 };
  }

  test('wait for the socket to drain, arrive whole and in order', async (t) => {
    const { two, received } = await pair(t);
    const sender = two.pacedSender(1);
    assert.ok(sender);
    const piece = 1024 * 1024;
    let waited = 0;
    for (let i = 0; i < 48; i++) {
      const payload = Buffer.alloc(piece, i);
      const send: Promise<boolean> = sender.send(payload);
      let settledAtOnce = false;
      void send.then(() => (settledAtOnce = true));
      await Promise.resolve();
      if (!settledAtOnce) waited++;
      assert.equal(await send, true);
    }
    assert.ok(waited > 0, 'a 48 MiB stream never met backpressure');
    await waitFor(() => received.length === 48, 'all 48 frames arrive', 10_000);
    received.forEach((frame, i) => {
      assert.equal(frame.length, piece);
      assert.equal(frame[0], i);
      assert.equal(frame[piece - 1], i);
    });
  });

  test('say false once their connection is gone, and never go on on a newer one', async (t) => {
    const { one, two, received, port1 } = await pair(t);
    const sender = two.pacedSender(1);
    assert.ok(sender);
    assert.equal(await sender.send(Buffer.from('before')), true);
    await waitFor(() => received.length === 1, 'the first frame arrives');
    // Member 1 stops and comes back: member 2 redials, a new connection.
    await one.stop();
    const again = new QuorumTransport(1, { host: '127.0.0.1', port: port1 }, [{ id: 2, host: '127.0.0.1', port: 0 }], { onFrame: (_p, f) => void received.push(Buffer.from(f)), onDisconnected: () => undefined }, silentLogger());
    t.after(() => again.stop());
    await again.start();
    await waitFor(() => two.isConnected(1) && again.isConnected(2), 'member 2 reconnects');
    assert.equal(await sender.send(Buffer.from('after')), false);
    const fresh = two.pacedSender(1);
    assert.ok(fresh, 'a new sender for the new connection');
    assert.equal(await fresh.send(Buffer.from('fresh')), true);
    await waitFor(() => received.length === 2, 'the frame on the new connection arrives');
    assert.deepEqual(received.map((f) => f.toString()), ['before', 'fresh']);
  });
});
