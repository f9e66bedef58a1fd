/**
 * Torn tails: a crash in the middle of the last batch's write leaves a cut, zeroed or
 * garbled end of the last segment. Recovery keeps every txn of the earlier (synced) batches
 * and every intact record before the damage, cuts the rest with a warning, and the log goes
 * on from there: a second recovery sees the old txns and the new ones, without warnings.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import type { Txn } from '../../../src/tree/index.js';
import { TxnLog, listSegments, SEGMENT_HEADER_BYTES } from '../../../src/storage/index.js';
import { Workload, assertSameTree, prng, randInt, continueAfter, recoverDir, replay, splitIntoBatches, writeBatches, fileSystemForThisFile } from './helpers.js';
import type { RecordPlace } from './helpers.js';

const SEED = 0x7042;
const TORN_MESSAGE = 'cut off a torn write at the end of the transaction log';

const { fs, freshDir } = await fileSystemForThisFile('paddock-torn-');

type Damage = 'truncate' | 'zero' | 'garbage';

interface Outcome {
  /** Records that survive: those before the first one whose bytes changed. */
  kept: RecordPlace[];
  /** Offset just past the last kept record of the last segment. */
  keepEnd: number;
  /** Whether anything but zeros follows keepEnd: then recovery must see (and cut) damage. */
  expectWarning: boolean;
}

function expectedOutcome(places: RecordPlace[], lastSegment: string, before: Buffer, after: Buffer): Outcome {
  const kept: RecordPlace[] = [];
  let keepEnd = SEGMENT_HEADER_BYTES;
  for (const place of places) {
    if (place.segment === lastSegment) {
      const intact = place.end <= after.length && before.subarray(place.offset, place.end).equals(after.subarray(place.offset, place.end));
      if (!intact) break;
      keepEnd = place.end;
    }
    kept.push(place);
  }
  const expectWarning = after.subarray(keepEnd).some((b) => b !== 0);
  return { kept, keepEnd, expectWarning };
}

/** Damages the last batch of the last segment as a crash during its write could. */
async function damage(kind: Damage, file: string, start: number, end: number, random: () => number): Promise<void> {
  const bytes = await readFile(file);
  switch (kind) {
    case 'truncate':
      await fs.truncateFile(file, randInt(random, start + 1, end - 1));
      return;
    case 'zero': {
      const from = randInt(random, start, end - 1);
      const to = randInt(random, from + 1, Math.min(end, from + 600));
      bytes.fill(0, from, to);
      await writeFile(file, bytes);
      return;
    }
    case 'garbage': {
      // Right after the last record, or a little further into the preallocated zeros.
      const at = end + (random() < 0.5 ? 0 : randInt(random, 1, 40));
      const length = randInt(random, 1, 64);
      for (let i = 0; i < length; i++) bytes[at + i] = randInt(random, 1, 255);
      await writeFile(file, bytes);
      return;
    }
  }
}

async function tornScenario(seed: number, kind: Damage, rollBeforeLast: boolean): Promise<void> {
  const random = prng(seed);
  const dir = await freshDir();
  const workload = new Workload(random);
  const batches = splitIntoBatches(workload.batch(randInt(random, 12, 60)), random, 8);
  if (batches.length < 2) batches.push(workload.batch(2));
  const last = batches.length - 1;
  const { log, places } = await writeBatches(fs, dir, batches, { rollBefore: new Set(rollBeforeLast ? [last] : []), preallocBytes: 32 * 1024 });
  await log.close();
  const lastPlaces = places.filter((p) => p.batch === last);
  const lastSegment = lastPlaces[0]!.segment;
  const before = await readFile(lastSegment);
  await damage(kind, lastSegment, lastPlaces[0]!.offset, lastPlaces.at(-1)!.end, random);
  const after = await readFile(lastSegment);
  const expected = expectedOutcome(places, lastSegment, before, after);
  const keptTxns = expected.kept.map((p) => p.txn);
  const synced = places.filter((p) => p.batch < last).map((p) => p.txn);
  assert.ok(keptTxns.length >= synced.length, 'the damage is inside the last batch');

  const first = await recoverDir(fs, dir);
  const where = `${kind} seed ${seed}`;
  assertSameTree(first.tree, replay(keptTxns), `${where}: recovered tree`);
  assert.ok(first.tree.lastProcessedZxid >= synced.at(-1)!.zxid, `${where}: every synced txn is kept`);
  if (expected.expectWarning) {
    assert.equal(first.log.warnings.length, 1, `${where}: one warning`);
    const warning = first.log.warnings[0]!;
    assert.equal(warning.msg, TORN_MESSAGE);
    assert.equal(warning.obj.file, lastSegment);
    assert.equal(warning.obj.offset, expected.keepEnd);
    const keptInLast = expected.kept.some((p) => p.segment === lastSegment);
    const names = (await listSegments(fs, dir)).map((s) => s.name);
    if (keptInLast) assert.equal(await fs.sizeOf(lastSegment), expected.keepEnd, `${where}: cut at the damage`);
    else assert.ok(!names.includes(basename(lastSegment)), `${where}: a segment left without txns is removed`);
  } else {
    assert.deepStrictEqual(first.log.warnings, [], `${where}: only zeros after the kept records`);
  }

  // The log continues after recovery.
  const more: Txn[] = continueAfter(first.tree.lastProcessedZxid, workload.batch(randInt(random, 1, 6)));
  const next = new TxnLog({ dir, fs, preallocBytes: 32 * 1024, forceSync: true }, first.tree.lastProcessedZxid);
  await next.append(more);
  await next.close();
  const second = await recoverDir(fs, dir);
  assert.deepStrictEqual(second.log.warnings, [], `${where}: the second recovery is clean`);
  assertSameTree(second.tree, replay([...keptTxns, ...more]), `${where}: second recovery`);
}

describe('torn tail of the transaction log', () => {
  for (const kind of ['truncate', 'zero', 'garbage'] as const) {
    for (const roll of [false, true]) {
      test(`${kind} inside the last batch${roll ? ' (alone in its segment)' : ''}: synced batches kept, the rest cut`, async () => {
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), (seed) => tornScenario(seed, kind, roll)),
          { seed: SEED + kind.length * 10 + (roll ? 1 : 0), numRuns: 25, includeErrorInReport: true },
        );
      });
    }
  }

  test('a segment created and preallocated whose header never reached the disk is removed', async () => {
    const dir = await freshDir();
    const workload = new Workload(prng(SEED + 1));
    const batches = [workload.batch(3), workload.batch(3)];
    const { log } = await writeBatches(fs, dir, batches);
    await log.close();
    // The next segment: created and preallocated, all zeros.
    const orphan = join(dir, 'log.7');
    const file = await fs.create(orphan);
    await file.truncate(4096);
    await file.close();
    const recovered = await recoverDir(fs, dir);
    assertSameTree(recovered.tree, replay(batches.flat()));
    assert.equal(recovered.log.warnings.length, 1);
    assert.equal(recovered.log.warnings[0]!.obj.file, orphan);
    assert.deepStrictEqual((await listSegments(fs, dir)).map((s) => s.name), ['log.1']);
    const next = new TxnLog({ dir, fs, preallocBytes: 4096, forceSync: true }, recovered.tree.lastProcessedZxid);
    const more = workload.batch(2);
    await next.append(more);
    await next.close();
    assertSameTree((await recoverDir(fs, dir)).tree, replay([...batches.flat(), ...more]));
  });

  test('a half-written segment header is a torn tail', async () => {
    const dir = await freshDir();
    const workload = new Workload(prng(SEED + 2));
    const batches = [workload.batch(4)];
    const { log } = await writeBatches(fs, dir, batches);
    await log.close();
    const orphan = join(dir, 'log.5');
    await writeFile(orphan, Buffer.concat([Buffer.from([0x50, 0x44, 0x4c]), Buffer.alloc(4093)]));
    const recovered = await recoverDir(fs, dir);
    assertSameTree(recovered.tree, replay(batches.flat()));
    assert.equal(recovered.log.warnings.length, 1);
    assert.deepStrictEqual((await listSegments(fs, dir)).map((s) => s.name), ['log.1']);
  });

  test('a segment whose header was synced but whose first batch never got written: the log goes on', async () => {
    const dir = await freshDir();
    const workload = new Workload(prng(SEED + 3));
    const synced = workload.batch(5);
    const log = new TxnLog({ dir, fs, preallocBytes: 4096, forceSync: true }, 0n);
    await log.append(synced);
    log.roll();
    // The disk fills up right after the new segment's header: the batch write fails.
    fs.failWritesAfter(SEGMENT_HEADER_BYTES);
    try {
      await assert.rejects(log.append(workload.batch(3)), { code: 'ENOSPC' });
    } finally {
      fs.heal();
      await log.close();
    }
    assert.equal((await listSegments(fs, dir)).length, 2, 'the new segment exists, holding only its header');
    const recovered = await recoverDir(fs, dir);
    assertSameTree(recovered.tree, replay(synced));
    // Restarted, the server appends the next txn (its zxid is the empty segment's name).
    const next = new TxnLog({ dir, fs, preallocBytes: 4096, forceSync: true }, recovered.tree.lastProcessedZxid);
    const more = [{ ...workload.batch(1)[0]!, zxid: recovered.tree.lastProcessedZxid + 1n }];
    try {
      await next.append(more);
    } finally {
      await next.close();
    }
    const second = await recoverDir(fs, dir);
    assert.deepStrictEqual(second.log.warnings, []);
    assertSameTree(second.tree, replay([...synced, ...more]));
  });
});
