/**
 * The transaction log: what goes in comes back out, record for record, across segments and
 * preallocation steps; and group commit through DurableCommitter: txns proposed while a sync
 * runs share the next sync, and none is committed before the sync that covers it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OpCode } from '../../../src/jute/index.js';
import type { ACL } from '../../../src/jute/index.js';
import type { Txn, TxnBody } from '../../../src/tree/index.js';
import { TxnLog, listSegments, scanSegment } from '../../../src/storage/index.js';
import { DurableCommitter } from '../../../src/server/commit.js';
import { Workload, assertSameTree, prng, recoverDir, splitIntoBatches, bounded, fileSystemForThisFile } from './helpers.js';

const SEED = 0x5eed_0a;

const { fs, freshDir } = await fileSystemForThisFile('paddock-txnlog-');

// ---- arbitraries: any txn the codec can carry, valid for a tree or not ----

const plain = { noNullPrototype: true } as const;
const text = fc.string({ unit: 'grapheme', maxLength: 24 });
const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const int64 = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);
const acl: fc.Arbitrary<ACL[]> = fc.array(fc.record({ perms: int32, id: fc.record({ scheme: text, id: text }, plain) }, plain), { maxLength: 3 });

const flatBody: fc.Arbitrary<TxnBody> = fc.oneof(
  fc.record({ type: fc.constant(OpCode.create), path: text, data: bytes, acl, ephemeralOwner: int64, parentCVersion: int32 }, plain),
  fc.record({ type: fc.constant(OpCode.delete), path: text }, plain),
  fc.record({ type: fc.constant(OpCode.setData), path: text, data: bytes, version: int32 }, plain),
  fc.record({ type: fc.constant(OpCode.setACL), path: text, acl, version: int32 }, plain),
  fc.record({ type: fc.constant(OpCode.check), path: text, version: int32 }, plain),
  fc.record({ type: fc.constant(OpCode.createSession), timeoutMs: int32 }, plain),
  fc.record({ type: fc.constant(OpCode.closeSession) }, plain),
  fc.record({ type: fc.constant(OpCode.error), err: int32 }, plain),
);
const body: fc.Arbitrary<TxnBody> = fc.oneof(
  { weight: 8, arbitrary: flatBody },
  { weight: 1, arbitrary: fc.record({ type: fc.constant(OpCode.multi), ops: fc.array(flatBody, { maxLength: 4 }) }, plain) },
);
const txnShape = fc.record({ sessionId: int64, cxid: int32, timeMs: fc.integer({ min: 0, max: 2 ** 52 }), body, gap: fc.bigInt(1n, 1000n) }, plain);

/** Batches of txns with increasing zxids, and where the log should roll. */
const batchesArb = fc
  .array(fc.array(txnShape, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 10 })
  .chain((shapes) => fc.tuple(fc.constant(shapes), fc.array(fc.boolean(), { minLength: shapes.length, maxLength: shapes.length }), fc.bigInt(1n, 2n ** 40n)))
  .map(([shapes, rolls, start]) => {
    let zxid = start;
    const batches = shapes.map((batch) =>
      batch.map(({ gap, ...rest }): Txn => {
        zxid += gap;
        return { ...rest, zxid };
      }),
    );
    return { batches, rolls };
  });

async function readAll(dir: string): Promise<Txn[]> {
  const txns: Txn[] = [];
  for (const { name } of await listSegments(fs, dir)) {
    const scan = await scanSegment(fs, dir, name);
    assert.equal(scan.damage, undefined, `${name} reads without damage`);
    txns.push(...scan.txns);
  }
  return txns;
}

describe('txn log round trip', () => {
  test('any batches of txns scan back identical, across rolls and preallocation steps', async () => {
    await fc.assert(
      fc.asyncProperty(batchesArb, fc.integer({ min: 1, max: 8 }), async ({ batches, rolls }, preallocKiB) => {
        const dir = await freshDir();
        const log = new TxnLog({ dir, fs, preallocBytes: preallocKiB * 1024, forceSync: true }, batches[0]![0]!.zxid - 1n);
        for (let b = 0; b < batches.length; b++) {
          if (rolls[b]) log.roll();
          await log.append(batches[b]!);
        }
        await log.close();
        assert.deepStrictEqual(await readAll(dir), batches.flat());
        const segments = await listSegments(fs, dir);
        assert.equal(segments.length, 1 + rolls.slice(1).filter(Boolean).length, 'one segment, plus one per roll');
        for (const segment of segments) {
          // Each segment is named by its first txn's zxid.
          const scan = await scanSegment(fs, dir, segment.name);
          assert.equal(scan.txns[0]!.zxid, segment.firstZxid);
        }
      }),
      { seed: SEED, numRuns: 40, includeErrorInReport: true },
    );
  });

  test('a workload of valid txns recovers to the tree that applied them', async () => {
    const random = prng(SEED + 1);
    const workload = new Workload(random);
    const batches = splitIntoBatches(workload.batch(600), random, 40);
    const dir = await freshDir();
    const log = new TxnLog({ dir, fs, preallocBytes: 4096, forceSync: true }, 0n);
    for (let b = 0; b < batches.length; b++) {
      if (b % 5 === 4) log.roll();
      await log.append(batches[b]!);
    }
    await log.close();
    assert.deepStrictEqual(await readAll(dir), workload.txns);
    const recovered = await recoverDir(fs, dir);
    assert.deepStrictEqual(recovered.log.warnings, []);
    assert.equal(recovered.replayedTxns, workload.txns.length);
    assertSameTree(recovered.tree, workload.model);
    const kinds = new Set(workload.txns.map((t) => t.body.type));
    for (const kind of [OpCode.create, OpCode.delete, OpCode.setData, OpCode.setACL, OpCode.error, OpCode.createSession, OpCode.closeSession, OpCode.multi]) {
      assert.ok(kinds.has(kind), `the workload holds op ${kind}`);
    }
  });

  test('an append out of zxid order is refused', async () => {
    const dir = await freshDir();
    const workload = new Workload(prng(SEED + 2));
    const log = new TxnLog({ dir, fs, preallocBytes: 4096, forceSync: true }, 0n);
    const [a, b] = workload.batch(2);
    await log.append([b!]);
    await assert.rejects(log.append([a!]), /out of order/);
    await log.close();
  });

  test('with forceSync=false nothing is synced after the segment header', async () => {
    const dir = await freshDir();
    const workload = new Workload(prng(SEED + 3));
    const log = new TxnLog({ dir, fs, preallocBytes: 4096, forceSync: false }, 0n);
    await log.append(workload.batch(3));
    const syncs = fs.syncCount;
    await log.append(workload.batch(3));
    await log.append(workload.batch(3));
    assert.equal(fs.syncCount, syncs);
    await log.close();
    assert.deepStrictEqual(await readAll(dir), workload.txns);
  });
});

/** A DurableCommitter over a TxnLog on the faulty fs, recording what it commits and when. */
function committerOn(log: TxnLog) {
  const committed: Txn[][] = [];
  const fatal: Error[] = [];
  const violations: string[] = [];
  const committer = new DurableCommitter(
    log,
    (batch) => {
      // Every byte written so far (this batch's records included) is covered by a finished sync.
      if (fs.syncedUpToSeq < fs.lastWriteSeq) violations.push(`batch at 0x${batch[0]!.zxid.toString(16)} committed before its sync`);
      committed.push([...batch]);
    },
    (error) => fatal.push(error),
  );
  return { committer, committed, fatal, violations };
}

/** Resolves when `condition` holds, checking after every turn of the event loop. */
async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let turn = 0; !condition(); turn++) {
    if (Date.now() > deadline || turn > 1_000_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('group commit (DurableCommitter)', () => {
  test('txns proposed during a slow sync go out together, committed after their sync, in zxid order', async () => {
    const dir = await freshDir();
    const workload = new Workload(prng(SEED + 4));
    const log = new TxnLog({ dir, fs, preallocBytes: 64 * 1024, forceSync: true }, 0n);
    const { committer, committed, fatal, violations } = committerOn(log);
    // A first txn opens the segment (its header has a sync of its own).
    committer.propose(workload.next());
    await until(() => committed.length === 1, 'the first batch');
    const syncsBefore = fs.startedSyncs;
    fs.holdSyncs();
    committer.propose(workload.next());
    // The second batch (one txn) is written; its sync is held.
    await fs.waitForSyncStarts(syncsBefore + 1);
    const total = 500;
    for (let turn = 0; turn < 10; turn++) {
      for (let i = 0; i < total / 10; i++) committer.propose(workload.next());
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(fs.startedSyncs, syncsBefore + 1, 'no other sync started meanwhile');
    assert.equal(committed.length, 1, 'nothing more is committed while the sync is held');
    fs.releaseSyncs();
    await until(() => committed.flat().length === total + 2 || fatal.length > 0, 'every txn to commit');
    assert.deepStrictEqual(fatal, []);
    assert.deepStrictEqual(violations, []);
    assert.deepStrictEqual(committed.flat().map((t) => t.zxid), workload.txns.map((t) => t.zxid), 'commits in zxid order, each once');
    assert.deepStrictEqual(committed.map((b) => b.length), [1, 1, total], 'the txns proposed during the held sync went out as one batch');
    const syncs = fs.startedSyncs - syncsBefore;
    assert.equal(syncs, 2, `${syncs} syncs for ${total + 1} txns`);
    await log.close();
    assert.deepStrictEqual(await readAll(dir), workload.txns);
  });

  test('a slow fsync (delayed) batches a steady stream of proposals', async () => {
    const dir = await freshDir();
    const workload = new Workload(prng(SEED + 5));
    const log = new TxnLog({ dir, fs, preallocBytes: 64 * 1024, forceSync: true }, 0n);
    const { committer, committed, fatal, violations } = committerOn(log);
    const syncsBefore = fs.startedSyncs;
    fs.syncDelayMs = 20;
    try {
      const total = 300;
      // One proposal per event-loop turn, as requests arriving one by one.
      for (let i = 0; i < total; i++) {
        committer.propose(workload.next());
        await new Promise((resolve) => setImmediate(resolve));
      }
      await until(() => committed.flat().length === total || fatal.length > 0, 'every txn to commit', 10_000);
      assert.deepStrictEqual(fatal, []);
      assert.deepStrictEqual(violations, []);
      assert.deepStrictEqual(committed.flat().map((t) => t.zxid), workload.txns.map((t) => t.zxid));
      const syncs = fs.startedSyncs - syncsBefore;
      assert.ok(syncs < total / 5, `${syncs} syncs for ${total} txns`);
    } finally {
      fs.syncDelayMs = 0;
      await log.close();
    }
  });

  test('a failed write (ENOSPC) is fatal: that batch is never committed, later proposals are dropped', async () => {
    const dir = await freshDir();
    const workload = new Workload(prng(SEED + 6));
    const log = new TxnLog({ dir, fs, preallocBytes: 64 * 1024, forceSync: true }, 0n);
    const { committer, committed, fatal } = committerOn(log);
    committer.propose(workload.next());
    await until(() => committed.length === 1, 'the first batch');
    fs.failWritesAfter(5);
    try {
      for (let i = 0; i < 10; i++) committer.propose(workload.next());
      await bounded(until(() => fatal.length > 0, 'the fatal error'), 'fatal', 5000);
      committer.propose(workload.next());
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(fatal.length, 1);
      assert.equal((fatal[0] as NodeJS.ErrnoException).code, 'ENOSPC');
      assert.match(fatal[0]!.message, /^ENOSPC: no space left on device, write/);
      assert.equal(committed.length, 1, 'only the batch before the full disk was committed');
    } finally {
      fs.heal();
      await log.close();
    }
  });

  test('a failed fsync (EIO) is fatal and commits nothing of its batch', async () => {
    const dir = await freshDir();
    const workload = new Workload(prng(SEED + 7));
    const log = new TxnLog({ dir, fs, preallocBytes: 64 * 1024, forceSync: true }, 0n);
    const { committer, committed, fatal } = committerOn(log);
    committer.propose(workload.next());
    await until(() => committed.length === 1, 'the first batch');
    fs.failSyncs('EIO');
    try {
      committer.propose(workload.next());
      committer.propose(workload.next());
      await until(() => fatal.length > 0, 'the fatal error');
      assert.equal((fatal[0] as NodeJS.ErrnoException).code, 'EIO');
      assert.equal(committed.length, 1);
    } finally {
      fs.heal();
      await log.close();
    }
  });
});
