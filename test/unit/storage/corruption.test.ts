/**
 * Corruption: damage that a later synced record proves was once durable (or damage in a
 * segment that is not the last) is never cut silently. Recovery throws LogCorruptError
 * naming the file and the offset of the damaged record; with truncateCorrupt it keeps what
 * comes before the damage, removes what follows (later segments included), and the log goes
 * on from there.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { LogCorruptError, RecoveryError, TxnLog, listSegments } from '../../../src/storage/index.js';
import { Workload, assertSameTree, prng, randInt, continueAfter, recoverDir, replay, splitIntoBatches, writeBatches, fileSystemForThisFile } from './helpers.js';
import type { RecordPlace } from './helpers.js';

const SEED = 0xc0ffee;
const TRUNCATED_MESSAGE = 'operator asked to truncate the corrupt transaction log here; later segments are removed';

const { fs, freshDir } = await fileSystemForThisFile('paddock-corrupt-');

async function expectCorrupt(dir: string, victim: RecordPlace, where: string): Promise<LogCorruptError> {
  const sizes = await Promise.all((await listSegments(fs, dir)).map((s) => fs.sizeOf(join(dir, s.name))));
  let caught: unknown;
  try {
    await recoverDir(fs, dir);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof LogCorruptError, `${where}: expected LogCorruptError, got ${String(caught)}`);
  assert.equal(caught.file, victim.segment, `${where}: names the file`);
  assert.equal(caught.offset, victim.offset, `${where}: names the damaged record's offset`);
  assert.ok(caught.message.includes(victim.segment), `${where}: the message names the file: ${caught.message}`);
  assert.ok(caught.message.includes(`offset ${victim.offset}`), `${where}: the message names the offset: ${caught.message}`);
  const after = await Promise.all((await listSegments(fs, dir)).map((s) => fs.sizeOf(join(dir, s.name))));
  assert.deepStrictEqual(after, sizes, `${where}: a refused recovery changes no file`);
  return caught;
}

/** With truncateCorrupt: keeps the records before the victim, drops the rest; the log goes on. */
async function expectTruncated(dir: string, places: RecordPlace[], victim: RecordPlace, workload: Workload, where: string): Promise<void> {
  const keep = places.slice(0, places.indexOf(victim));
  const segmentsBefore = (await listSegments(fs, dir)).map((s) => join(dir, s.name));
  const recovered = await recoverDir(fs, dir, { truncateCorrupt: true });
  assertSameTree(recovered.tree, replay(keep.map((p) => p.txn)), `${where}: tree up to the damage`);
  assert.equal(recovered.log.warnings.length, 1, `${where}: one warning`);
  assert.equal(recovered.log.warnings[0]!.msg, TRUNCATED_MESSAGE);
  assert.equal(recovered.log.warnings[0]!.obj.file, victim.segment);
  assert.equal(recovered.log.warnings[0]!.obj.offset, victim.offset);
  const victimKeepsTxns = keep.some((p) => p.segment === victim.segment);
  const expectedSegments = segmentsBefore.slice(0, segmentsBefore.indexOf(victim.segment) + (victimKeepsTxns ? 1 : 0));
  assert.deepStrictEqual((await listSegments(fs, dir)).map((s) => join(dir, s.name)), expectedSegments, `${where}: later segments removed`);
  if (victimKeepsTxns) assert.equal(await fs.sizeOf(victim.segment), victim.offset, `${where}: cut at the damage`);

  const more = continueAfter(recovered.tree.lastProcessedZxid, workload.batch(3));
  const log = new TxnLog({ dir, fs, preallocBytes: 16 * 1024, forceSync: true }, recovered.tree.lastProcessedZxid);
  await log.append(more);
  await log.close();
  const second = await recoverDir(fs, dir);
  assert.deepStrictEqual(second.log.warnings, [], `${where}: the second recovery is clean`);
  assertSameTree(second.tree, replay([...keep.map((p) => p.txn), ...more]), `${where}: second recovery`);
}

async function flipByte(place: RecordPlace, random: () => number): Promise<void> {
  const bytes = await readFile(place.segment);
  bytes[randInt(random, place.offset, place.end - 1)] ^= randInt(random, 1, 255);
  await writeFile(place.segment, bytes);
}

async function zeroHeader(place: RecordPlace): Promise<void> {
  const bytes = await readFile(place.segment);
  bytes.fill(0, place.offset, place.offset + 8);
  await writeFile(place.segment, bytes);
}

type Corruption = 'flip' | 'zero-header';

/** One segment; a record of a batch that later batches follow is damaged. */
async function sameSegmentScenario(seed: number, how: Corruption): Promise<void> {
  const random = prng(seed);
  const dir = await freshDir();
  const workload = new Workload(random);
  const batches = splitIntoBatches(workload.batch(randInt(random, 15, 60)), random, 6);
  while (batches.length < 3) batches.push(workload.batch(2));
  const { log, places } = await writeBatches(fs, dir, batches);
  await log.close();
  const candidates = places.filter((p) => p.batch < batches.length - 1);
  const victim = candidates[randInt(random, 0, candidates.length - 1)]!;
  if (how === 'flip') await flipByte(victim, random);
  else await zeroHeader(victim);
  const where = `${how} seed ${seed} record 0x${victim.txn.zxid.toString(16)}`;
  await expectCorrupt(dir, victim, where);
  await expectTruncated(dir, places, victim, workload, where);
}

/** Several segments; a record anywhere in a segment that is not the last is damaged. */
async function earlierSegmentScenario(seed: number): Promise<void> {
  const random = prng(seed);
  const dir = await freshDir();
  const workload = new Workload(random);
  const batches = splitIntoBatches(workload.batch(randInt(random, 20, 60)), random, 6);
  while (batches.length < 4) batches.push(workload.batch(2));
  const rolls = new Set<number>([randInt(random, 1, batches.length - 1)]);
  for (let b = 1; b < batches.length; b++) if (random() < 0.3) rolls.add(b);
  const { log, places } = await writeBatches(fs, dir, batches, { rollBefore: rolls });
  await log.close();
  const lastSegment = places.at(-1)!.segment;
  const candidates = places.filter((p) => p.segment !== lastSegment);
  const victim = candidates[randInt(random, 0, candidates.length - 1)]!;
  await flipByte(victim, random);
  const where = `seed ${seed} ${basename(victim.segment)} record 0x${victim.txn.zxid.toString(16)}`;
  await expectCorrupt(dir, victim, where);
  await expectTruncated(dir, places, victim, workload, where);
}

describe('corruption of the transaction log', () => {
  test('a flipped byte in a record that later batches follow, in the same segment', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), (seed) => sameSegmentScenario(seed, 'flip')),
      { seed: SEED, numRuns: 30, includeErrorInReport: true },
    );
  });

  test('a flipped byte in a segment that is not the last, even in its last record', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), (seed) => earlierSegmentScenario(seed)),
      { seed: SEED + 1, numRuns: 30, includeErrorInReport: true },
    );
  });

  test('a zeroed record header that later batches follow is damage, not the end of the log', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), (seed) => sameSegmentScenario(seed, 'zero-header')),
      { seed: SEED + 2, numRuns: 15, includeErrorInReport: true },
    );
  });

  test(
    'a missing segment in the middle of the log is a RecoveryError, not a silent jump',
    async () => {
      const dir = await freshDir();
      const workload = new Workload(prng(SEED + 4));
      const batches = [workload.batch(4), workload.batch(4), workload.batch(4)];
      const { log, places } = await writeBatches(fs, dir, batches, { rollBefore: new Set([1, 2]) });
      await log.close();
      await fs.remove(places[4]!.segment);
      await assert.rejects(recoverDir(fs, dir), RecoveryError);
    },
  );

  test('a gap between the snapshot (none: zxid 0) and the oldest segment is a RecoveryError', async () => {
    const dir = await freshDir();
    const workload = new Workload(prng(SEED + 3));
    const batches = [workload.batch(4), workload.batch(4), workload.batch(4)];
    const { log, places } = await writeBatches(fs, dir, batches, { rollBefore: new Set([1, 2]) });
    await log.close();
    await fs.remove(places[0]!.segment);
    await assert.rejects(recoverDir(fs, dir), (error: unknown) => {
      assert.ok(error instanceof RecoveryError, String(error));
      assert.match(error.message, /log gap/);
      assert.ok(error.message.includes(basename(places[4]!.segment)), error.message);
      return true;
    });
  });
});
