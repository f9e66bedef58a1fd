/**
 * Damage to a stopped server's files, against real `paddock start` processes. Unlike a crash,
 * this models the disk losing or changing bytes that were already synced, so acknowledged
 * writes may be lost; what is checked is the documented behaviour:
 *
 *  (a) the last log segment cut at a byte inside its records: the server starts, warns that
 *      it "cut off a torn write" at the damaged record, and holds exactly the txns before it
 *      (a prefix in zxid order, nothing after a gap); the log goes on cleanly from there;
 *  (b) a flipped byte in an early record that later batches declared durable: the server
 *      refuses to start (LogCorruptError naming the file and the record's offset) and changes
 *      no file; `paddock start --truncate-corrupt-log` then starts and holds the txns before
 *      the damage, and a plain restart afterwards is clean;
 *  (c) the newest snapshot deleted: the server recovers everything from the older snapshot
 *      plus the log;
 *  (d) the newest snapshot damaged: it is skipped with a warning, same result as (c).
 *
 * Seeded: PADDOCK_CRASH_SEED=<seed> replays the same offsets and bytes.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ZooKeeperClient } from '../../src/client/index.js';
import { startProcess } from '../support/paddock.js';
import type { PaddockProcess } from '../support/paddock.js';
import {
  connectClient,
  hex,
  logEntries,
  prng,
  randInt,
  recoveredZxid,
  runDatadir,
  seedFromEnv,
  segmentRecords,
  spawnPaddock,
  srvrZxid,
  storageFiles,
  withDeadline,
} from './helpers.js';
import type { LogRecord } from './helpers.js';

const SEED = seedFromEnv();
const random = prng(SEED);
const TORN_MESSAGE = 'cut off a torn write at the end of the transaction log';
const TRUNCATED_MESSAGE = 'operator asked to truncate the corrupt transaction log here; later segments are removed';

const dirs: string[] = [];
const running = new Set<PaddockProcess>();
let failed = false;

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'paddock-damage-'));
  dirs.push(dir);
  return dir;
}

async function start(dataDir: string, settings: Record<string, string> = {}, port?: number): Promise<PaddockProcess> {
  const proc = await startProcess({ dataDir, settings, port });
  running.add(proc);
  return proc;
}

async function kill(proc: PaddockProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  await proc.kill(signal);
  running.delete(proc);
}

after(async () => {
  for (const proc of running) await proc.kill('SIGKILL').catch(() => undefined);
  if (failed) console.log(`# log-damage: FAILED with seed=${SEED}; data dirs kept: ${dirs.join(' ')}`);
  else for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

interface Written {
  path: string;
  data: string;
  czxid: bigint;
  /** Version and mzxid after the last acknowledged setData (0 and czxid without one). */
  version: number;
  mzxid: bigint;
}

/** Creates `count` nodes under `parent`, `inFlight` at a time (1: one batch per write). */
async function writeNodes(zk: ZooKeeperClient, parent: string, count: number, inFlight: number, prefix = 'n'): Promise<Written[]> {
  const written: Written[] = [];
  for (let i = 0; i < count; i += inFlight) {
    const group = Array.from({ length: Math.min(inFlight, count - i) }, (_, j) => {
      const path = `${parent}/${prefix}${String(i + j).padStart(4, '0')}`;
      const data = `${path}:${Math.floor(random() * 2 ** 32).toString(16)}:${'x'.repeat(randInt(random, 0, 60))}`;
      return zk.create2(path, data).then(({ stat }) => ({ path, data, czxid: stat.czxid, version: 0, mzxid: stat.czxid }));
    });
    written.push(...(await Promise.all(group)));
  }
  return written;
}

/** Reads every node of `expected`; returns which exist, checking the data of those that do. */
async function presentNodes(zk: ZooKeeperClient, parent: string, expected: Written[]): Promise<Set<string>> {
  const exists = await zk.exists(parent);
  if (!exists) return new Set();
  const children = new Set((await zk.getChildren(parent)).map((name) => `${parent}/${name}`));
  const known = new Set(expected.map((w) => w.path));
  for (const child of children) assert.ok(known.has(child), `${child} exists but was never written`);
  const reads = await Promise.all(expected.filter((w) => children.has(w.path)).map(async (w) => ({ w, got: await zk.getData(w.path) })));
  for (const { w, got } of reads) {
    assert.equal(got.data.toString('utf8'), w.data, `${w.path} holds its acknowledged data`);
    assert.equal(got.stat.czxid, w.czxid, `${w.path} has its acknowledged czxid`);
  }
  return children;
}

/** The nodes present are exactly those whose create came before `cutZxid`: a prefix, no gaps. */
function assertPrefix(present: Set<string>, written: Written[], cutZxid: bigint, where: string): void {
  const inOrder = [...written].sort((a, b) => (a.czxid < b.czxid ? -1 : 1));
  let gapAt: Written | null = null;
  for (const w of inOrder) {
    const has = present.has(w.path);
    if (!has && gapAt === null) gapAt = w;
    assert.ok(!(has && gapAt !== null), `${where}: ${w.path} (czxid ${hex(w.czxid)}) exists after a gap at ${gapAt?.path} (czxid ${hex(gapAt?.czxid ?? 0n)})`);
    assert.equal(has, w.czxid < cutZxid, `${where}: ${w.path} (czxid ${hex(w.czxid)}) ${has ? 'exists' : 'is missing'}; the cut is at zxid ${hex(cutZxid)}`);
  }
}

async function lastSegment(dataDir: string): Promise<{ file: string; bytes: Buffer; records: LogRecord[] }> {
  const { dir, segments } = await storageFiles(dataDir);
  assert.ok(segments.length > 0, 'there is a log segment');
  const file = join(dir, segments[segments.length - 1]!);
  const bytes = await readFile(file);
  return { file, bytes, records: segmentRecords(bytes) };
}

function track<T>(promise: Promise<T>): Promise<T> {
  return promise.catch((error: unknown) => {
    failed = true;
    throw error;
  });
}

describe(`log damage on real processes (seed ${SEED})`, { timeout: 120_000 }, () => {
  test('(a) the last segment cut inside its records: a torn tail, a prefix survives', () =>
    track(
      (async () => {
        console.log(`# log-damage: seed=${SEED} (replay with PADDOCK_CRASH_SEED=${SEED})`);
        const pristine = await freshDir();
        const proc = await start(pristine);
        const zk = await connectClient(proc.connectString);
        await zk.create('/t', 'parent');
        const written = await writeNodes(zk, '/t', 150, 8);
        await kill(proc);
        await zk.close();

        const { file: pristineFile, records } = await lastSegment(pristine);
        const nodeRecords = records.filter((r) => written.some((w) => w.czxid === r.zxid));
        assert.equal(nodeRecords.length, written.length, 'every create is a record of the last segment');
        const cuts = 5;
        for (let k = 0; k < cuts; k++) {
          const victim = k === 0 ? nodeRecords[nodeRecords.length - 1]! : nodeRecords[randInt(random, 0, nodeRecords.length - 1)]!;
          const cutAt = randInt(random, victim.offset + 1, victim.end - 1);
          const dataDir = await freshDir();
          await cp(pristine, dataDir, { recursive: true });
          const segment = join(dataDir, pristineFile.slice(pristine.length));
          const kept = (await readFile(segment)).subarray(victim.offset, cutAt);
          await truncate(segment, cutAt);
          const where = `cut ${k} at byte ${cutAt} inside the record of zxid ${hex(victim.zxid)} (offset ${victim.offset}..${victim.end})`;

          const restarted = await start(dataDir);
          const entries = logEntries(restarted.log());
          const torn = entries.filter((e) => e.msg === TORN_MESSAGE);
          // A cut that leaves only zero bytes of the record looks like the preallocated end.
          if (kept.some((b) => b !== 0)) {
            assert.equal(torn.length, 1, `${where}: one torn-write warning:\n${restarted.log()}`);
            assert.equal(torn[0]!.file, segment, `${where}: the warning names the segment`);
            assert.equal(torn[0]!.offset, victim.offset, `${where}: the warning names the damaged record's offset`);
          } else {
            assert.equal(torn.length, 0, `${where}: a cut leaving only zeros is a clean end`);
          }
          assert.equal(recoveredZxid(restarted.log()), victim.zxid - 1n, `${where}: recovery ends just before the damaged record`);
          const check = await connectClient(restarted.connectString);
          assertPrefix(await presentNodes(check, '/t', written), written, victim.zxid, where);

          if (k === 0) {
            // The log goes on after the cut: a new write survives the next kill, without warnings.
            const { stat } = await check.create2('/t/after-cut', 'more');
            assert.ok(stat.czxid >= victim.zxid, `${where}: zxids continue from the cut (${hex(stat.czxid)})`);
            await kill(restarted);
            await check.close();
            const again = await start(dataDir, {}, restarted.port);
            assert.ok(!again.log().includes(TORN_MESSAGE), `${where}: the second restart is clean:\n${again.log()}`);
            const zk2 = await connectClient(again.connectString);
            const afterCut: Written = { path: '/t/after-cut', data: 'more', czxid: stat.czxid, version: 0, mzxid: stat.czxid };
            const present = await presentNodes(zk2, '/t', [...written, afterCut]);
            assert.ok(present.delete(afterCut.path), `${where}: the write after the cut survived the next kill`);
            assertPrefix(present, written, victim.zxid, `${where}, second restart`);
            await zk2.close();
            await kill(again, 'SIGTERM');
            const report = await runDatadir(dataDir);
            assert.equal(report.code, 0, `${where}: datadir after a clean stop:\n${report.stdout}${report.stderr}`);
          } else {
            await check.close();
            await kill(restarted, 'SIGTERM');
          }
        }
      })(),
    ));

  test('(b) a flipped byte in an early synced record: refused, then --truncate-corrupt-log keeps the prefix', () =>
    track(
      (async () => {
        const dataDir = await freshDir();
        const proc = await start(dataDir);
        const port = proc.port;
        const zk = await connectClient(proc.connectString);
        await zk.create('/b', 'parent');
        // One write at a time: every record is its own synced batch.
        const written = await writeNodes(zk, '/b', 40, 1);
        await kill(proc);
        await zk.close();

        const { file, bytes, records } = await lastSegment(dataDir);
        const nodeRecords = records.filter((r) => written.some((w) => w.czxid === r.zxid));
        const victim = nodeRecords[randInt(random, 2, 8)]!;
        assert.ok(
          records.some((r) => r.durableZxid >= victim.zxid),
          'a later batch declared the victim durable',
        );
        const at = randInt(random, victim.offset + 8, victim.end - 1);
        const damaged = Buffer.from(bytes);
        damaged[at] = damaged[at]! ^ randInt(random, 1, 255);
        await writeFile(file, damaged);
        const where = `byte ${at} flipped in the record of zxid ${hex(victim.zxid)} at offset ${victim.offset} of ${file}`;

        // paddock datadir sees it too.
        const report = await runDatadir(dataDir);
        assert.equal(report.code, 1, `${where}: datadir exits 1:\n${report.stdout}`);
        assert.ok(report.damagedSegments.some((l) => l.includes(`DAMAGED at offset ${victim.offset}`)), `${where}: datadir names the offset:\n${report.stdout}`);

        const configFile = join(dataDir, 'zoo.cfg');
        const refused = spawnPaddock(['start', '--config', configFile]);
        const outcome = await withDeadline(
          Promise.race([refused.exited, refused.ready(port).then(() => 'serving' as const)]),
          20_000,
          'the server on a corrupt log exiting',
        );
        if (outcome === 'serving') {
          await refused.kill('SIGKILL');
          assert.fail(`${where}: the server started on a corrupt log instead of refusing:\n${refused.stderr()}`);
        }
        const exit = outcome;
        assert.equal(exit.code, 1, `${where}: the server refuses to start:\n${refused.stderr()}`);
        assert.match(refused.stderr(), /LogCorruptError/, `${where}: the error is a LogCorruptError`);
        assert.ok(refused.stderr().includes(file), `${where}: stderr names the file:\n${refused.stderr()}`);
        assert.ok(refused.stderr().includes(`offset ${victim.offset}`), `${where}: stderr names the offset:\n${refused.stderr()}`);
        assert.ok((await readFile(file)).equals(damaged), `${where}: a refused start changes no file`);

        const truncating = spawnPaddock(['start', '--config', configFile, '--truncate-corrupt-log']);
        try {
          await truncating.ready(port);
          const warnings = logEntries(truncating.stderr()).filter((e) => e.msg === TRUNCATED_MESSAGE);
          assert.equal(warnings.length, 1, `${where}: one truncation warning:\n${truncating.stderr()}`);
          assert.equal(warnings[0]!.file, file);
          assert.equal(warnings[0]!.offset, victim.offset);
          assert.equal(recoveredZxid(truncating.stderr()), victim.zxid - 1n, `${where}: recovery ends before the damage`);
          const check = await connectClient(`127.0.0.1:${port}`);
          assertPrefix(await presentNodes(check, '/b', written), written, victim.zxid, where);
          await check.close();
        } finally {
          await truncating.kill('SIGTERM');
        }
        assert.equal((await readFile(file)).length, victim.offset, `${where}: the segment was cut at the damaged record`);

        const plain = await start(dataDir, {}, port);
        assert.ok(!/LogCorruptError|torn write|truncate/.test(plain.log()), `${where}: a plain restart after the truncation is clean:\n${plain.log()}`);
        const check = await connectClient(plain.connectString);
        assertPrefix(await presentNodes(check, '/b', written), written, victim.zxid, `${where}, plain restart`);
        await check.close();
        await kill(plain, 'SIGTERM');
        const clean = await runDatadir(dataDir);
        assert.equal(clean.code, 0, `${where}: datadir after the truncation and a clean stop:\n${clean.stdout}${clean.stderr}`);
      })(),
    ));

  interface SnapshotWorkload {
    /** A copy of the data dir the workload left, for the test to damage. */
    dataDir: string;
    /** Its storage directory, and its newest and second newest snapshot files there. */
    dir: string;
    newest: string;
    older: string;
    written: Written[];
    maxZxid: bigint;
  }

  /** Many snapshots over a log with creates and setData: the model, and a copy of the data dir. */
  async function snapshotWorkload(): Promise<SnapshotWorkload> {
    const pristine = await freshDir();
    const proc = await start(pristine, { snapCount: '20', preAllocSize: '64' });
    const zk = await connectClient(proc.connectString);
    await zk.create('/s', 'parent');
    const written = await writeNodes(zk, '/s', 120, 4);
    let maxZxid = written.reduce((m, w) => (w.czxid > m ? w.czxid : m), 0n);
    for (let i = 0; i < 80; i++) {
      const w = written[randInt(random, 0, written.length - 1)]!;
      w.data = `${w.path}:set${i}:${Math.floor(random() * 2 ** 32).toString(16)}`;
      const stat = await zk.setData(w.path, w.data, w.version);
      w.version = stat.version;
      w.mzxid = stat.mzxid;
      if (stat.mzxid > maxZxid) maxZxid = stat.mzxid;
    }
    // Write on until no snapshot is in progress and the log has rolled after the newest one:
    // replay from the older snapshot then has to cross segment boundaries.
    let extra = 0;
    for (;;) {
      const { dir, segments, snapshots } = await storageFiles(pristine);
      const pending = (await readdir(dir)).some((name) => name.endsWith('.tmp'));
      const newestSnapshot = snapshots.length > 0 ? BigInt('0x' + snapshots[snapshots.length - 1]!.slice('snapshot.'.length)) : -1n;
      const newestSegment = BigInt('0x' + segments[segments.length - 1]!.slice('log.'.length));
      if (!pending && snapshots.length >= 3 && newestSegment > newestSnapshot) break;
      assert.ok(extra < 200, `the log did not roll after the newest snapshot: ${snapshots.join(' ')} / ${segments.join(' ')}`);
      written.push(...(await writeNodes(zk, '/s', 1, 1, `x${extra++}`)));
      maxZxid = written[written.length - 1]!.czxid;
    }
    await kill(proc);
    await zk.close();
    const dataDir = await freshDir();
    await cp(pristine, dataDir, { recursive: true });
    const { dir, snapshots } = await storageFiles(dataDir);
    assert.ok(snapshots.length >= 3, `several snapshots: ${snapshots.join(' ')}`);
    return { dataDir, dir, newest: snapshots[snapshots.length - 1]!, older: snapshots[snapshots.length - 2]!, written, maxZxid };
  }

  async function assertEverything(proc: PaddockProcess, written: Written[], maxZxid: bigint, where: string): Promise<void> {
    assert.ok(recoveredZxid(proc.log()) >= maxZxid, `${where}: recovery reaches the last acknowledged zxid ${hex(maxZxid)}`);
    assert.ok((await srvrZxid(proc.port)) >= maxZxid, `${where}: srvr Zxid`);
    const zk = await connectClient(proc.connectString);
    try {
      const present = await presentNodes(zk, '/s', written);
      for (const w of written) {
        assert.ok(present.has(w.path), `${where}: ${w.path} exists`);
        const { stat } = await zk.getData(w.path);
        assert.equal(stat.version, w.version, `${where}: ${w.path} version`);
        assert.equal(stat.mzxid, w.mzxid, `${where}: ${w.path} mzxid`);
      }
    } finally {
      await zk.close();
    }
  }

  test('(c) the newest snapshot deleted: recovery from the older snapshot and the log', () =>
    track(
      (async () => {
        const { dataDir, dir, newest, older, written, maxZxid } = await snapshotWorkload();
        const olderZxid = BigInt('0x' + older.slice('snapshot.'.length));
        const later = (await storageFiles(dataDir)).segments.filter((name) => BigInt('0x' + name.slice('log.'.length)) > olderZxid + 1n);
        assert.ok(later.length >= 1, `replay from ${older} crosses into later segments: ${later.join(' ')}`);
        await unlink(join(dir, newest));
        const proc = await start(dataDir, { snapCount: '20', preAllocSize: '64' });
        const loaded = logEntries(proc.log()).filter((e) => e.msg === 'loaded snapshot');
        assert.deepEqual(
          loaded.map((e) => e.snapshot),
          [older],
          `recovery loads the older snapshot ${older} once the newest ${newest} is gone:\n${proc.log()}`,
        );
        await assertEverything(proc, written, maxZxid, `without ${newest}`);
        await kill(proc, 'SIGTERM');
      })(),
    ));

  test('(d) the newest snapshot damaged: skipped with a warning, recovery from the older one', () =>
    track(
      (async () => {
        const { dataDir, dir, newest, older, written, maxZxid } = await snapshotWorkload();
        const bytes = await readFile(join(dir, newest));
        const at = randInt(random, 20, bytes.length - 9);
        bytes[at] = bytes[at]! ^ randInt(random, 1, 255);
        await writeFile(join(dir, newest), bytes);
        const proc = await start(dataDir, { snapCount: '20', preAllocSize: '64' });
        const entries = logEntries(proc.log());
        assert.ok(
          entries.some((e) => e.msg === 'skipping unusable snapshot' && e.snapshot === newest),
          `a warning names the damaged snapshot ${newest} (byte ${at} flipped):\n${proc.log()}`,
        );
        assert.deepEqual(entries.filter((e) => e.msg === 'loaded snapshot').map((e) => e.snapshot), [older]);
        await assertEverything(proc, written, maxZxid, `with ${newest} damaged at byte ${at}`);
        await kill(proc, 'SIGTERM');
      })(),
    ));
});
