/**
 * Purge keeps the newest N snapshots and the log segments needed to replay from the oldest
 * of them: after it, recovery yields the same tree, and does so from each kept snapshot
 * (the newer ones being lost), not only from the newest.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { Storage, TxnLog, listSegments, listSnapshots, purge, scanSegment, storageDirs, writeSnapshot } from '../../../src/storage/index.js';
import { CapturingLog, Workload, assertSameTree, prng, randInt, recoverDir, fileSystemForThisFile } from './helpers.js';

const SEED = 0x9e29e;

const { fs, freshDir } = await fileSystemForThisFile('paddock-purge-');

/** The largest zxid in each segment. */
async function segmentEnds(dir: string): Promise<Map<string, bigint>> {
  const ends = new Map<string, bigint>();
  for (const { name } of await listSegments(fs, dir)) {
    const scan = await scanSegment(fs, dir, name);
    ends.set(name, scan.txns.at(-1)?.zxid ?? -1n);
  }
  return ends;
}

/** Recovers from each snapshot in turn, newest first, deleting each after its turn. */
async function recoverFromEachSnapshot(dir: string, expected: Workload, where: string): Promise<number> {
  const snapshots = (await listSnapshots(fs, dir)).reverse();
  for (const snapshot of snapshots) {
    const recovered = await recoverDir(fs, dir);
    assert.equal(recovered.snapshotZxid, snapshot.zxid, `${where}: recovered from ${snapshot.name}`);
    assert.deepStrictEqual(recovered.log.warnings, [], `${where}: no warnings`);
    assertSameTree(recovered.tree, expected.model, `${where}: from ${snapshot.name}`);
    await fs.remove(join(dir, snapshot.name));
  }
  return snapshots.length;
}

describe('purge', () => {
  test('through Storage: keeps the newest N snapshots and the segments to replay from the oldest', async () => {
    const dataDir = await freshDir();
    const dataLogDir = await freshDir();
    const options = {
      dataDir,
      dataLogDir,
      forceSync: true,
      preallocBytes: 16 * 1024,
      snapCount: 1_000_000,
      compressSnapshots: false,
      truncateCorrupt: false,
      log: new CapturingLog(),
      fs,
    };
    const { storage, recovered } = await Storage.open(options);
    const tree = recovered.tree;
    const workload = new Workload(prng(SEED));
    for (let round = 0; round < 6; round++) {
      for (let b = 0; b < 3; b++) {
        const batch = workload.batch(10);
        await storage.append(batch);
        for (const txn of batch) tree.apply(txn);
      }
      await storage.snapshot(tree);
    }
    const tail = workload.batch(7);
    await storage.append(tail);
    for (const txn of tail) tree.apply(txn);
    await storage.close();
    const { snapDir, logDir } = storageDirs(dataDir, dataLogDir);
    const snapshotsBefore = await listSnapshots(fs, snapDir);
    const endsBefore = await segmentEnds(logDir);
    assert.equal(snapshotsBefore.length, 6);
    assert.equal(endsBefore.size, 7, 'a segment per snapshot interval (the log rolls at each snapshot)');

    const result = await purge(fs, snapDir, logDir, 3);
    const kept = await listSnapshots(fs, snapDir);
    assert.deepStrictEqual(kept, snapshotsBefore.slice(-3));
    assert.deepStrictEqual(result.removedSnapshots, snapshotsBefore.slice(0, 3).map((s) => s.name));
    const oldestKept = kept[0]!.zxid;
    for (const name of result.removedSegments) {
      assert.ok(endsBefore.get(name)! <= oldestKept, `${name} held only txns the oldest kept snapshot covers`);
    }
    const keptSegments = await listSegments(fs, logDir);
    assert.ok(keptSegments[0]!.firstZxid <= oldestKept + 1n, 'the oldest kept segment reaches back to the oldest kept snapshot');
    assert.equal(result.removedSegments.length + keptSegments.length, endsBefore.size);
    assert.equal(result.removedSegments.length, 4, 'the segments of the first four intervals (up to the oldest kept snapshot)');

    // Purging again changes nothing.
    assert.deepStrictEqual(await purge(fs, snapDir, logDir, 3), { removedSnapshots: [], removedSegments: [] });

    const reopened = await Storage.open({ ...options, log: new CapturingLog() });
    assertSameTree(reopened.recovered.tree, workload.model, 'after purge');
    await reopened.storage.close();
    assert.equal(reopened.recovered.snapshotZxid, kept.at(-1)!.zxid);
  });

  test('any mix of snapshots and rolls: after purge(N) every kept snapshot plus the log rebuilds the tree', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), fc.integer({ min: 0, max: 4 }), async (seed, retain) => {
        const random = prng(seed);
        const dir = await freshDir();
        const workload = new Workload(random);
        const log = new TxnLog({ dir, fs, preallocBytes: 8 * 1024, forceSync: false }, 0n);
        const rounds = randInt(random, 3, 14);
        let snapshots = 0;
        for (let round = 0; round < rounds; round++) {
          if (random() < 0.4) log.roll();
          await log.append(workload.batch(randInt(random, 1, 12)));
          if (random() < 0.5) {
            await writeSnapshot(workload.model, { fs, dir, compress: false });
            snapshots++;
          }
        }
        await log.append(workload.batch(3));
        await log.close();
        await purge(fs, dir, dir, retain);
        const keep = Math.min(snapshots, Math.max(1, retain));
        assert.equal((await listSnapshots(fs, dir)).length, keep, `seed ${seed}: snapshots kept`);
        assert.equal(await recoverFromEachSnapshot(dir, workload, `seed ${seed} retain ${retain}`), keep);
      }),
      { seed: SEED + 1, numRuns: 30, includeErrorInReport: true },
    );
  });
});
