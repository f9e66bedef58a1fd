/**
 * The ensemble shell's pieces that need no processes: the quorum payload codec, session
 * touches in PINGs, TxnLog.truncateAfter (TRUNC) and resetTo (SNAP), in-memory snapshots that
 * overlap with a snapshot to disk, and DataTree.replaceWith.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpCode } from '../../../src/jute/index.js';
import { DataTree } from '../../../src/tree/index.js';
import type { Txn } from '../../../src/tree/index.js';
import { TxnLog, listSegments, nodeFileSystem, parseSnapshotBytes, recover, scanSegment, snapshotToBuffer } from '../../../src/storage/index.js';
import { decodePayload, decodeTouches, encodePayload, encodeTouches } from '../../../src/server/quorum/messages.js';

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
