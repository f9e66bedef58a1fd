/**
 * Snapshots: a written snapshot reads back as the tree it was taken of (every node's path,
 * data, ACL and Stat, the sessions, the zxid), with and without compression; it is exact at
 * its zxid even when the tree changes while it is being written (copy-on-write); and a
 * damaged or missing newest snapshot makes recovery fall back to the older one plus the log.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { OpCode } from '../../../src/jute/index.js';
import { DataTree } from '../../../src/tree/index.js';
import type { Txn } from '../../../src/tree/index.js';
import { SnapshotCorruptError, TxnLog, listSnapshots, readSnapshot, snapshotName, writeSnapshot } from '../../../src/storage/index.js';
import { Workload, assertSameTree, prng, randInt, recoverDir, replay, splitIntoBatches, fileSystemForThisFile } from './helpers.js';

const SEED = 0x5a5a;

const { fs, freshDir } = await fileSystemForThisFile('paddock-snap-');

async function appendAll(dir: string, txns: readonly Txn[], random: () => number, lastZxid = 0n): Promise<void> {
  const log = new TxnLog({ dir, fs, preallocBytes: 256 * 1024, forceSync: false }, lastZxid);
  try {
    for (const batch of splitIntoBatches(txns, random, 50)) await log.append(batch);
  } finally {
    await log.close();
  }
}

describe('snapshot round trip', () => {
  for (const compress of [false, true]) {
    test(`a snapshot reads back as its tree${compress ? ' (deflate)' : ''}`, async () => {
      const dir = await freshDir();
      const workload = new Workload(prng(SEED + (compress ? 1 : 0)));
      workload.batch(3000);
      const tree = workload.model;
      assert.ok(tree.nodeCount > 200 && tree.sessions().size > 3 && tree.ephemeralCount() > 0, 'a tree worth the name');
      const written = await writeSnapshot(tree, { fs, dir, compress });
      assert.equal(written.name, snapshotName(tree.lastProcessedZxid));
      assert.equal(written.zxid, tree.lastProcessedZxid);
      assert.equal(written.sizeBytes, await fs.sizeOf(join(dir, written.name)));
      const loaded = await readSnapshot(fs, dir, written.name);
      assert.equal(loaded.zxid, tree.lastProcessedZxid);
      assertSameTree(loaded.tree, tree);
      // The loaded tree goes on exactly as the original does.
      const more = workload.batch(300);
      for (const txn of more) loaded.tree.apply(txn);
      assertSameTree(loaded.tree, tree);
    });
  }

  test('an empty tree (only the system nodes) round-trips', async () => {
    const dir = await freshDir();
    const tree = new DataTree();
    const written = await writeSnapshot(tree, { fs, dir, compress: false });
    assertSameTree((await readSnapshot(fs, dir, written.name)).tree, tree);
  });

  test('compression makes a compressible tree smaller', async () => {
    const dir = await freshDir();
    const workload = new Workload(prng(SEED + 2));
    workload.push({ type: OpCode.createSession, timeoutMs: 10_000 }, 0x42n);
    for (let i = 0; i < 2000; i++) workload.createUnder('/', `n${i}`, Buffer.alloc(100, 'a'));
    const plain = await writeSnapshot(workload.model, { fs, dir: await freshDir(), compress: false });
    const packed = await writeSnapshot(workload.model, { fs, dir, compress: true });
    assert.ok(packed.sizeBytes * 4 < plain.sizeBytes, `${packed.sizeBytes} vs ${plain.sizeBytes}`);
    assertSameTree((await readSnapshot(fs, dir, packed.name)).tree, workload.model);
  });
});

// ---- copy-on-write exactness ----

const OWNER = 0x9000n;

/** A tree of ~20k nodes of 200 bytes under 100 parents: several 1 MiB chunks. */
function bigTree(random: () => number): { workload: Workload; leaves: string[] } {
  const workload = new Workload(random, { dataBytes: [150, 250] });
  workload.push({ type: OpCode.createSession, timeoutMs: 30_000 }, OWNER);
  const leaves: string[] = [];
  for (let p = 0; p < 100; p++) workload.createUnder('/', `p${p}`, Buffer.alloc(0));
  for (let p = 0; p < 100; p++) {
    for (let c = 0; c < 200; c++) {
      const data = Buffer.alloc(200, (p * 200 + c) & 0xff);
      const ephemeral = c % 20 === 19;
      workload.createUnder(`/p${p}`, `c${c}`, data, ephemeral ? OWNER : 0n);
      leaves.push(`/p${p}/c${c}`);
    }
  }
  return { workload, leaves };
}

/** Changes aimed at nodes the snapshot has not reached yet (the end of the tree's order). */
function lateChanges(workload: Workload, leaves: string[]): void {
  const late = leaves.slice(-300);
  for (let i = 0; i < 60; i++) workload.push({ type: OpCode.delete, path: late[i]! });
  for (let i = 60; i < 120; i++) {
    const node = workload.model.get(late[i]!);
    if (node) workload.push({ type: OpCode.setData, path: late[i]!, data: Buffer.from(`changed ${i}`), version: node.version + 1 });
  }
  for (let i = 120; i < 140; i++) {
    // Deleted and created again: the snapshot must hold the old node, not the new one.
    workload.push({ type: OpCode.delete, path: late[i]! });
    workload.createUnder('/p99', late[i]!.split('/').pop()!, Buffer.from('reborn'));
  }
  for (let i = 0; i < 20; i++) workload.createUnder('/p99', `new${i}`, Buffer.from('new'));
  workload.createUnder('/', 'brand-new', Buffer.from('x'));
  workload.createUnder('/brand-new', 'child', Buffer.from('y'));
  workload.push({ type: OpCode.setACL, path: '/p98', acl: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }], version: 1 });
  // The ephemerals' session ends: every ephemeral node goes, most of them not written yet.
  workload.push({ type: OpCode.closeSession }, OWNER);
}

describe('copy-on-write snapshot', () => {
  for (const compress of [false, true]) {
    test(`changes made while the snapshot is written do not reach it${compress ? ' (deflate)' : ''}`, async () => {
      const random = prng(SEED + 10 + (compress ? 1 : 0));
      const dir = await freshDir();
      const { workload, leaves } = bigTree(random);
      const live = workload.model;
      const snapshotZxid = live.lastProcessedZxid;
      assert.ok(live.nodeCount > 20_000);
      let writes = 0;
      let changed = 0;
      fs.beforeWrite = (path) => {
        if (!path.endsWith('.tmp')) return;
        writes++;
        const before = workload.txns.length;
        if (writes === 2) lateChanges(workload, leaves);
        else for (let i = 0; i < 150; i++) workload.next();
        changed += workload.txns.length - before;
      };
      let written: Awaited<ReturnType<typeof writeSnapshot>>;
      try {
        written = await writeSnapshot(live, { fs, dir, compress });
      } finally {
        fs.beforeWrite = null;
      }
      assert.equal(written.zxid, snapshotZxid);
      assert.ok(writes >= 5, `the snapshot was written in ${writes} pieces (header, several 1 MiB chunks, ...)`);
      assert.ok(changed > 500, `${changed} txns were applied while it was written`);
      assert.ok(live.lastProcessedZxid > snapshotZxid);
      const loaded = await readSnapshot(fs, dir, written.name);
      assertSameTree(loaded.tree, replay(workload.txns, snapshotZxid), 'the snapshot is the tree at its zxid');
      // And recovery (this snapshot plus the log after it) rebuilds the live tree.
      await appendAll(dir, workload.txns, random);
      const recovered = await recoverDir(fs, dir);
      assert.equal(recovered.snapshotZxid, snapshotZxid);
      assert.equal(recovered.replayedTxns, workload.txns.length - Number(snapshotZxid));
      assertSameTree(recovered.tree, live, 'recovered = live');
    });
  }
});

// ---- damaged snapshots ----

interface History {
  dir: string;
  workload: Workload;
  older: bigint;
  newer: bigint;
}

/** Log of every txn; snapshots at two points; more txns after the newer one. */
async function history(seed: number, compress: boolean): Promise<History> {
  const random = prng(seed);
  const dir = await freshDir();
  const workload = new Workload(random);
  workload.batch(randInt(random, 50, 300));
  const older = (await writeSnapshot(workload.model, { fs, dir, compress })).zxid;
  workload.batch(randInt(random, 1, 200));
  const newer = (await writeSnapshot(workload.model, { fs, dir, compress })).zxid;
  workload.batch(randInt(random, 0, 100));
  await appendAll(dir, workload.txns, random);
  return { dir, workload, older, newer };
}

type SnapshotDamage = 'truncate' | 'flip' | 'delete';

async function damageSnapshot(file: string, kind: SnapshotDamage, random: () => number): Promise<void> {
  if (kind === 'delete') return fs.remove(file);
  const bytes = await readFile(file);
  if (kind === 'truncate') return fs.truncateFile(file, randInt(random, 0, bytes.length - 1));
  bytes[randInt(random, 0, bytes.length - 1)] ^= randInt(random, 1, 255);
  await writeFile(file, bytes);
}

describe('damaged snapshots', () => {
  for (const kind of ['truncate', 'flip', 'delete'] as const) {
    test(`a ${kind === 'delete' ? 'deleted' : kind === 'flip' ? 'bit-flipped' : 'truncated'} newest snapshot: recovery uses the older one and the log`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), fc.boolean(), async (seed, compress) => {
          const { dir, workload, older, newer } = await history(seed, compress);
          const random = prng(seed + 1);
          const newest = snapshotName(newer);
          await damageSnapshot(join(dir, newest), kind, random);
          if (kind !== 'delete') {
            await assert.rejects(readSnapshot(fs, dir, newest), (error: unknown) => {
              assert.ok(error instanceof SnapshotCorruptError, String(error));
              assert.ok(error.message.includes(newest), error.message);
              return true;
            });
          }
          const recovered = await recoverDir(fs, dir);
          assert.equal(recovered.snapshotZxid, older);
          assertSameTree(recovered.tree, workload.model);
          const skipped = recovered.log.warnings.filter((w) => w.msg === 'skipping unusable snapshot');
          assert.equal(skipped.length, kind === 'delete' ? 0 : 1);
          if (kind !== 'delete') assert.equal(skipped[0]!.obj.snapshot, newest);
        }),
        { seed: SEED + kind.length, numRuns: 12, includeErrorInReport: true },
      );
    });
  }

  test('with every snapshot unusable, recovery replays the whole log', async () => {
    const { dir, workload } = await history(SEED + 20, false);
    for (const { name } of await listSnapshots(fs, dir)) await fs.truncateFile(join(dir, name), 100);
    const recovered = await recoverDir(fs, dir);
    assert.equal(recovered.snapshotZxid, 0n);
    assert.equal(recovered.log.warnings.length, 2);
    assertSameTree(recovered.tree, workload.model);
  });

  test('a snapshot that fails on a full disk leaves no snapshot file; the next one is complete', async () => {
    const { dir, workload, newer } = await history(SEED + 21, false);
    workload.batch(50);
    fs.failWritesAfter(3000);
    try {
      await assert.rejects(writeSnapshot(workload.model, { fs, dir, compress: false }), { code: 'ENOSPC' });
    } finally {
      fs.heal();
    }
    assert.equal((await listSnapshots(fs, dir)).at(-1)!.zxid, newer, 'only the .tmp file of the failed one exists');
    // The failed snapshot no longer watches the tree: a later snapshot writes every node.
    workload.batch(20);
    const written = await writeSnapshot(workload.model, { fs, dir, compress: false });
    assertSameTree((await readSnapshot(fs, dir, written.name)).tree, workload.model);
  });
});
