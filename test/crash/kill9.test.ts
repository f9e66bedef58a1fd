/**
 * kill -9 under load: a real `paddock start` process takes concurrent writes from several
 * clients (creates of new nodes with unique data, and conditional setData on a few counter
 * nodes with the version each client last saw), is SIGKILLed at a random moment, and is
 * restarted on the same data dir, many times over. A model of every write and its outcome
 * (acknowledged, refused, or unknown after ConnectionLoss) is checked after each restart:
 *
 *  - every acknowledged create exists with its data and the czxid the server returned;
 *  - a counter's version is at least the newest acknowledged (or observed) one, its data is
 *    that write's when the versions are equal, and whatever state it is in was produced by a
 *    write we issued that was not refused (nothing half-applied, nothing invented);
 *  - a create with an unknown outcome either exists with exactly its data or does not exist,
 *    and once seen one way after a restart it stays that way;
 *  - zxids never go backwards: recovery (and `srvr`) reach at least the largest zxid any client
 *    saw before the kill, and every write after the restart gets a larger zxid;
 *  - the server restarts every time (a SIGKILL only tears the tail; no LogCorruptError);
 *  - `paddock datadir` on the killed server reports damage at most in the last segment, and
 *    exits 0 after a restart and a clean stop.
 *
 * The seed is printed; PADDOCK_CRASH_SEED=<seed> replays the same kill schedule and op mix
 * (the interleaving of the server's batches still depends on timing). PADDOCK_CRASH_CYCLES
 * changes the number of kills. A failing run keeps its data dir and names it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Err, ZooKeeperClient, ZooKeeperError } from '../../src/client/index.js';
import type { Stat } from '../../src/client/index.js';
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
  sleep,
  spawnPaddock,
  srvrZxid,
  waitUntil,
  withDeadline,
} from './helpers.js';

const SEED = seedFromEnv();
const CYCLES = Number(process.env.PADDOCK_CRASH_CYCLES ?? 24);
const CLIENTS = 4;
/** Writes each client keeps in flight. */
const LANES = 4;
const COUNTERS = 8;
const LOAD_MS: [number, number] = [50, 400];
const SESSION_TIMEOUT_MS = 4000;
const TEST_TIMEOUT_MS = 170_000;
const SETTINGS = { preAllocSize: '64', snapCount: '300' };
/**
 * Ballast created before the counters, so a snapshot is more than one 1 MiB chunk: the
 * snapshot writer then yields between chunks while writes go on, and the counters (written
 * after the ballast) are changed while it runs: their pre-images keep the snapshot exact.
 */
const BALLAST_NODES = 190;
const BALLAST_BYTES = 8 * 1024;
/** Share of cycles with an extra kill of a server that is still starting (recovery, start-up snapshot). */
const EARLY_KILL_SHARE = 0.3;
const EARLY_KILL_MS: [number, number] = [0, 1000];

/** Codes after which the write may or may not have happened. */
const UNKNOWN_CODES = new Set<number>([Err.ConnectionLoss, Err.SessionExpired, Err.OperationTimeout, Err.SessionMoved]);

type Outcome = 'pending' | 'acked' | 'refused' | 'unknown';

interface CreateRecord {
  path: string;
  data: string;
  client: number;
  cycle: number;
  outcome: Outcome;
  code?: string;
  czxid?: bigint;
  /** What verification after a restart found, for a create whose outcome is unknown. */
  seen?: 'present' | 'absent';
}

interface SetRecord {
  path: string;
  data: string;
  expectedVersion: number;
  client: number;
  cycle: number;
  outcome: Outcome;
  code?: string;
  stat?: Stat;
}

interface Counter {
  path: string;
  initialData: string;
  initialMzxid: bigint;
  /** Every setData issued on this counter, by its (unique) data. */
  writes: Map<string, SetRecord>;
  /** The acknowledged setData with the largest version. */
  latestAcked: SetRecord | null;
  /** The version the node must have at least: the largest acknowledged or observed one. */
  floor: number;
  floorWhy: string;
}

interface Worker {
  id: number;
  zk: ZooKeeperClient;
  nextSeq: number;
  /** Counter index → the version this client last read or wrote. */
  known: Map<number, number>;
  /** The zxid of this client's last acknowledged write (replies come in order). */
  lastAckZxid: bigint;
  generation: number;
}

class Model {
  readonly creates = new Map<string, CreateRecord>();
  readonly counters: Counter[] = [];
  readonly violations: string[] = [];
  /** Largest zxid of any acknowledged write. */
  maxAckedZxid = 0n;
  stats = { creates: 0, createsAcked: 0, createsUnknown: 0, sets: 0, setsAcked: 0, badVersion: 0, setsUnknown: 0, reads: 0 };

  violation(message: string): void {
    if (this.violations.length < 200) this.violations.push(message);
  }

  counterState(counter: Counter, version: number, data: string, mzxid: bigint, where: string): void {
    if (version === 0) {
      if (data !== counter.initialData || mzxid !== counter.initialMzxid) {
        this.violation(`${where}: ${counter.path} at version 0 holds '${data}' mzxid ${hex(mzxid)}, not its initial data (mzxid ${hex(counter.initialMzxid)})`);
      }
      return;
    }
    const write = counter.writes.get(data);
    if (!write) {
      this.violation(`${where}: ${counter.path} v${version} holds '${data}', which no setData wrote`);
      return;
    }
    if (write.outcome === 'refused') {
      this.violation(`${where}: ${counter.path} v${version} holds '${data}' of a setData refused with ${write.code} (cycle ${write.cycle})`);
    }
    if (write.expectedVersion !== version - 1) {
      this.violation(`${where}: ${counter.path} v${version} holds '${data}', written by setData(version=${write.expectedVersion}), which would make v${write.expectedVersion + 1}`);
    }
    if (write.outcome === 'acked' && write.stat && (write.stat.version !== version || write.stat.mzxid !== mzxid)) {
      this.violation(
        `${where}: ${counter.path} holds '${data}' at v${version} mzxid ${hex(mzxid)}, but its setData was acknowledged as v${write.stat.version} mzxid ${hex(write.stat.mzxid)}`,
      );
    }
  }

  raiseFloor(counter: Counter, version: number, why: string): void {
    if (version > counter.floor) {
      counter.floor = version;
      counter.floorWhy = why;
    }
  }
}

function errorCode(error: unknown): number | null {
  return error instanceof ZooKeeperError ? error.code : null;
}

test(`kill -9 under concurrent write load, ${CYCLES} cycles (seed ${SEED})`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
  console.log(`# kill9: seed=${SEED} (replay with PADDOCK_CRASH_SEED=${SEED})`);
  t.diagnostic(`seed=${SEED}`);
  assert.ok(CYCLES >= 1);
  const schedule = prng(SEED);
  const opRandom = prng(SEED ^ 0x5eed5eed);
  const dataDir = await mkdtemp(join(tmpdir(), 'paddock-kill9-'));
  const model = new Model();
  const workers: Worker[] = [];
  let proc: PaddockProcess | null = null;
  let cycle = 0;
  let active = false;
  const lanes: Promise<void>[] = [];
  const laneErrors: unknown[] = [];
  const startedAt = Date.now();
  const timings = { restartMs: 0, verifyMs: 0, settleMs: 0, loadMs: 0 };
  const tornReasons: string[] = [];
  let datadirRuns = 0;
  let earlyKills = 0;
  let earlyKillsServing = 0;
  let datadirDamaged = 0;
  let snapshotsWritten = 0;
  let passed = false;
  let port = 0;
  const stderrOf: string[] = [];
  const ballastModel: Array<{ path: string; data: string }> = [];

  const context = () => `seed=${SEED} cycle=${cycle} dataDir=${dataDir}`;

  function failWith(message: string): never {
    const logTail = proc ? proc.log().slice(-6000) : (stderrOf[stderrOf.length - 1] ?? '').slice(-6000);
    throw new assert.AssertionError({ message: `${message}\n[${context()}]\nserver log tail:\n${logTail}` });
  }

  const checkViolations = (where: string) => {
    if (model.violations.length > 0) {
      failWith(`${where}: ${model.violations.length} violation(s):\n  ${model.violations.slice(0, 40).join('\n  ')}`);
    }
  };

  const noteAck = (worker: Worker, zxid: bigint, issuedAfterZxid: bigint | null, what: string) => {
    if (zxid <= worker.lastAckZxid) {
      model.violation(`cycle ${cycle}: client ${worker.id} got zxid ${hex(zxid)} for ${what} after an earlier write of its own got ${hex(worker.lastAckZxid)}`);
    }
    if (issuedAfterZxid !== null && zxid <= issuedAfterZxid) {
      model.violation(`cycle ${cycle}: ${what} issued after the restart got zxid ${hex(zxid)}, not above the recovered zxid ${hex(issuedAfterZxid)}`);
    }
    if (zxid > worker.lastAckZxid) worker.lastAckZxid = zxid;
    if (zxid > model.maxAckedZxid) model.maxAckedZxid = zxid;
  };

  async function doCreate(worker: Worker, runCycle: number, recovered: bigint): Promise<void> {
    const seq = worker.nextSeq++;
    const path = `/crash/n/c${worker.id}-${seq}`;
    const data = `c${worker.id}.${seq}@${runCycle}:${Math.floor(opRandom() * 2 ** 32).toString(16)}`;
    const record: CreateRecord = { path, data, client: worker.id, cycle: runCycle, outcome: 'pending' };
    model.creates.set(path, record);
    model.stats.creates++;
    try {
      const { stat } = await worker.zk.create2(path, data);
      record.outcome = 'acked';
      record.czxid = stat.czxid;
      model.stats.createsAcked++;
      if (stat.version !== 0 || stat.czxid !== stat.mzxid) model.violation(`create ${path} acknowledged with version ${stat.version}, czxid ${hex(stat.czxid)} mzxid ${hex(stat.mzxid)}`);
      noteAck(worker, stat.czxid, recovered, `create ${path}`);
    } catch (error) {
      const code = errorCode(error);
      if (code === null) throw error;
      record.code = (error as ZooKeeperError).codeName;
      if (UNKNOWN_CODES.has(code)) {
        record.outcome = 'unknown';
        model.stats.createsUnknown++;
      } else {
        record.outcome = 'refused';
        model.violation(`cycle ${runCycle}: create of the fresh path ${path} failed with ${record.code}`);
      }
    }
  }

  async function doSet(worker: Worker, runCycle: number, recovered: bigint): Promise<void> {
    const index = randInt(opRandom, 0, COUNTERS - 1);
    const counter = model.counters[index]!;
    let version = worker.known.get(index);
    if (version === undefined) {
      const floorAtCall = counter.floor;
      let read: { data: Buffer; stat: Stat };
      try {
        read = await worker.zk.getData(counter.path);
      } catch (error) {
        if (errorCode(error) !== null && UNKNOWN_CODES.has(errorCode(error)!)) return;
        throw error;
      }
      model.stats.reads++;
      const data = read.data.toString('utf8');
      model.counterState(counter, read.stat.version, data, read.stat.mzxid, `cycle ${runCycle} client ${worker.id} read`);
      if (read.stat.version < floorAtCall) {
        model.violation(`cycle ${runCycle}: client ${worker.id} read ${counter.path} at v${read.stat.version}, older than v${floorAtCall} (${counter.floorWhy}) known before the read`);
      }
      model.raiseFloor(counter, read.stat.version, `read by client ${worker.id} in cycle ${runCycle}`);
      version = read.stat.version;
      worker.known.set(index, version);
      if (!active) return;
    }
    const seq = worker.nextSeq++;
    const data = `s${worker.id}.${seq}@${runCycle}:${Math.floor(opRandom() * 2 ** 32).toString(16)}`;
    const record: SetRecord = { path: counter.path, data, expectedVersion: version, client: worker.id, cycle: runCycle, outcome: 'pending' };
    counter.writes.set(data, record);
    model.stats.sets++;
    try {
      const stat = await worker.zk.setData(counter.path, data, version);
      record.outcome = 'acked';
      record.stat = stat;
      model.stats.setsAcked++;
      if (stat.version !== version + 1) model.violation(`setData(${counter.path}, version=${version}) acknowledged with version ${stat.version}`);
      noteAck(worker, stat.mzxid, recovered, `setData ${counter.path} v${stat.version}`);
      if (!counter.latestAcked || stat.version > counter.latestAcked.stat!.version) counter.latestAcked = record;
      model.raiseFloor(counter, stat.version, `setData '${data}' acknowledged to client ${worker.id} in cycle ${runCycle}`);
      worker.known.set(index, stat.version);
    } catch (error) {
      const code = errorCode(error);
      if (code === null) throw error;
      record.code = (error as ZooKeeperError).codeName;
      worker.known.delete(index);
      if (UNKNOWN_CODES.has(code)) {
        record.outcome = 'unknown';
        model.stats.setsUnknown++;
      } else {
        record.outcome = 'refused';
        if (code === Err.BadVersion) model.stats.badVersion++;
        else model.violation(`cycle ${runCycle}: setData(${counter.path}, version=${version}) failed with ${record.code}`);
      }
    }
  }

  async function lane(worker: Worker, runCycle: number, recovered: bigint): Promise<void> {
    for (let ops = 0; active && ops < 100_000; ops++) {
      if (opRandom() < 0.5) await doCreate(worker, runCycle, recovered);
      else await doSet(worker, runCycle, recovered);
    }
  }

  /** Waits until every worker has a live session, replacing expired ones. */
  async function reconnectWorkers(round = 1): Promise<void> {
    for (const worker of workers) {
      if (worker.zk.state === 'expired' || worker.zk.state === 'closed') {
        await worker.zk.close();
        worker.zk = await connectClient(proc!.connectString, SESSION_TIMEOUT_MS);
        worker.known.clear();
        worker.generation++;
      }
    }
    try {
      await waitUntil(() => workers.every((w) => w.zk.state === 'connected' || w.zk.state === 'expired'), 12_000, 'worker clients reconnecting');
    } catch (error) {
      const server = await srvrZxid(proc!.port).catch(() => -1n);
      const states = workers.map((w) => `client ${w.id}: ${w.zk.state}, lastZxidSeen ${hex(w.zk.lastZxidSeen)}`).join('; ');
      failWith(`${(error as Error).message}; server zxid ${hex(server)}; ${states} (a client ahead of the server is refused: acknowledged state lost?)`);
    }
    if (workers.some((w) => w.zk.state === 'expired')) {
      if (round >= 3) failWith('worker sessions keep expiring right after the restart');
      await reconnectWorkers(round + 1);
    }
  }

  /** Starts the server on the same data dir and port; retries only when the port is taken meanwhile. */
  async function restart(): Promise<PaddockProcess> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await startProcess({ dataDir, port, settings: SETTINGS });
      } catch (error) {
        const message = (error as Error).message;
        if (!message.includes('EADDRINUSE') || attempt >= 4) throw error;
        console.log(`# kill9: port ${port} is taken by another socket; retrying the restart (attempt ${attempt})`);
        await sleep(1500);
      }
    }
  }

  async function verify(where: string, verifier: ZooKeeperClient): Promise<void> {
    const listing = await withDeadline(verifier.getChildren2('/crash/n'), 10_000, 'getChildren2 /crash/n');
    const children = new Set(listing.children);
    // Only creates ever change /crash/n: each adds one child and bumps cversion once.
    if (listing.stat.cversion !== children.size || listing.stat.numChildren !== children.size) {
      model.violation(`${where}: /crash/n has ${children.size} children but cversion ${listing.stat.cversion}, numChildren ${listing.stat.numChildren} (a create replayed twice or lost?)`);
    }
    for (const name of children) {
      if (!model.creates.has(`/crash/n/${name}`)) model.violation(`${where}: /crash/n/${name} exists but no client ever created it`);
    }
    const toRead: CreateRecord[] = [];
    for (const record of model.creates.values()) {
      const present = children.has(record.path.slice('/crash/n/'.length));
      if (record.outcome === 'acked') {
        if (!present) model.violation(`${where}: acknowledged create ${record.path} (czxid ${hex(record.czxid!)}, cycle ${record.cycle}) is missing`);
        else toRead.push(record);
      } else if (record.outcome === 'refused') {
        if (present) model.violation(`${where}: ${record.path} exists although its create failed with ${record.code}`);
      } else {
        if (record.outcome === 'unknown') {
          const seen = present ? 'present' : 'absent';
          if (record.seen !== undefined && record.seen !== seen) {
            model.violation(`${where}: ${record.path} (create got ${record.code} in cycle ${record.cycle}) was ${record.seen} after an earlier restart and is ${seen} now`);
          }
          record.seen = seen;
        }
        if (present) toRead.push(record);
      }
    }
    const CHUNK = 2000;
    for (let i = 0; i < toRead.length; i += CHUNK) {
      const chunk = toRead.slice(i, i + CHUNK);
      const results = await withDeadline(
        Promise.all(chunk.map((r) => verifier.getData(r.path).then((v) => v, (e: unknown) => e as Error))),
        20_000,
        `reading ${chunk.length} nodes`,
      );
      results.forEach((result, j) => {
        const record = chunk[j]!;
        if (result instanceof Error) {
          model.violation(`${where}: reading ${record.path} (listed as a child) failed: ${result.message}`);
          return;
        }
        const data = result.data.toString('utf8');
        if (data !== record.data) model.violation(`${where}: ${record.path} holds '${data}', its create (${record.outcome}) sent '${record.data}'`);
        if (result.stat.version !== 0) model.violation(`${where}: ${record.path} has version ${result.stat.version}; nobody ever set it`);
        if (record.outcome === 'acked' && result.stat.czxid !== record.czxid) {
          model.violation(`${where}: ${record.path} has czxid ${hex(result.stat.czxid)}, its create was acknowledged with ${hex(record.czxid!)}`);
        }
      });
    }
    let newestChild = 0n;
    for (const record of toRead) if (record.czxid !== undefined && record.czxid > newestChild) newestChild = record.czxid;
    if (children.size > 0 && listing.stat.pzxid < newestChild) {
      model.violation(`${where}: /crash/n has pzxid ${hex(listing.stat.pzxid)}, older than its child created at ${hex(newestChild)}`);
    }
    const ballastReads = await withDeadline(Promise.all(ballastModel.map((b) => verifier.getData(b.path))), 10_000, 'reading the ballast');
    ballastReads.forEach((read, i) => {
      if (read.data.toString('utf8') !== ballastModel[i]!.data || read.stat.version !== 0) model.violation(`${where}: ballast node ${ballastModel[i]!.path} changed`);
    });
    for (const counter of model.counters) {
      const { data: raw, stat } = await withDeadline(verifier.getData(counter.path), 5000, `getData ${counter.path}`);
      const data = raw.toString('utf8');
      model.counterState(counter, stat.version, data, stat.mzxid, where);
      if (stat.version < counter.floor) {
        model.violation(`${where}: ${counter.path} is at v${stat.version} '${data}', older than v${counter.floor} (${counter.floorWhy})`);
      }
      const latest = counter.latestAcked;
      if (latest && stat.version === latest.stat!.version && data !== latest.data) {
        model.violation(`${where}: ${counter.path} v${stat.version} holds '${data}', but '${latest.data}' was acknowledged as v${stat.version}`);
      }
      model.raiseFloor(counter, stat.version, `seen after the restart of cycle ${cycle}`);
    }
  }

  try {
    proc = await startProcess({ dataDir, settings: SETTINGS });
    port = proc.port;
    const setup = await connectClient(proc.connectString, SESSION_TIMEOUT_MS);
    await withDeadline(
      (async () => {
        await setup.create('/crash');
        await setup.create('/crash/n');
        await setup.create('/crash/ballast');
        const ballast = Array.from({ length: BALLAST_NODES }, (_, i) => ({ path: `/crash/ballast/b${i}`, data: `${i}:`.padEnd(BALLAST_BYTES, String.fromCharCode(97 + (i % 26))) }));
        await Promise.all(ballast.map((b) => setup.create(b.path, b.data)));
        ballastModel.push(...ballast);
        for (let i = 0; i < COUNTERS; i++) {
          const path = `/crash/k${i}`;
          const initialData = `initial-${i}`;
          const { stat } = await setup.create2(path, initialData);
          model.counters.push({ path, initialData, initialMzxid: stat.mzxid, writes: new Map(), latestAcked: null, floor: 0, floorWhy: 'created' });
        }
        await setup.close();
      })(),
      20_000,
      'creating the initial nodes',
    );
    for (let id = 0; id < CLIENTS; id++) {
      workers.push({ id, zk: await connectClient(proc.connectString, SESSION_TIMEOUT_MS), nextSeq: 0, known: new Map(), lastAckZxid: 0n, generation: 0 });
    }

    const datadirCycles = new Set([randInt(schedule, 1, Math.max(1, Math.floor(CYCLES / 2))), randInt(schedule, Math.floor(CYCLES / 2) + 1, CYCLES)]);
    const cleanStopCycle = Math.floor(CYCLES / 2);
    let recovered = 0n;

    for (cycle = 1; cycle <= CYCLES; cycle++) {
      try {
        // ---- load, then kill at a random moment ----
        const loadMs = randInt(schedule, LOAD_MS[0], LOAD_MS[1]);
        active = true;
        lanes.length = 0;
        for (const worker of workers) for (let l = 0; l < LANES; l++) lanes.push(lane(worker, cycle, recovered).catch((error: unknown) => void laneErrors.push(error)));
        await sleep(loadMs);
        timings.loadMs += loadMs;
        active = false;
        const killed = proc;
        await withDeadline(killed.kill('SIGKILL'), 10_000, 'SIGKILL of the server');
        stderrOf.push(killed.log());
        snapshotsWritten += logEntries(killed.log()).filter((e) => e.msg === 'snapshot written').length;
        proc = null;

        if (datadirCycles.has(cycle)) {
          const report = await runDatadir(dataDir);
          datadirRuns++;
          if (report.code !== 0 && report.code !== 1) failWith(`paddock datadir exited ${report.code} (signal ${report.signal}) after a kill:\n${report.stdout}\n${report.stderr}`);
          if (report.code === 1) datadirDamaged++;
          const last = report.segmentLines[report.segmentLines.length - 1];
          if (report.damagedSnapshots.length > 0 || report.gaps.length > 0 || report.damagedSegments.some((l) => l !== last)) {
            failWith(`paddock datadir after a SIGKILL reports damage beyond a torn tail of the last segment:\n${report.stdout}`);
          }
          if (report.segmentLines.length === 0) failWith(`paddock datadir lists no log segment:\n${report.stdout}`);
        }

        // ---- sometimes: kill a restarting server while it recovers or takes its start-up snapshot ----
        const earlyKill = schedule() < EARLY_KILL_SHARE;
        const earlyKillMs = randInt(schedule, EARLY_KILL_MS[0], EARLY_KILL_MS[1]);
        if (earlyKill) {
          const early = spawnPaddock(['start', '--config', join(dataDir, 'zoo.cfg')]);
          await sleep(earlyKillMs);
          await early.kill('SIGKILL');
          stderrOf.push(early.stderr());
          earlyKills++;
          if (early.stderr().includes('"serving clients"')) earlyKillsServing++;
          if (/LogCorruptError|is corrupt at offset/.test(early.stderr())) failWith(`a server started after a kill reports a corrupt log:\n${early.stderr()}`);
        }

        // Everything any client saw came from a reply sent after its fsync.
        const seenBeforeKill = workers.reduce((max, w) => (w.zk.lastZxidSeen > max ? w.zk.lastZxidSeen : max), model.maxAckedZxid);

        // ---- restart on the same data ----
        const restartStarted = Date.now();
        try {
          proc = await restart();
        } catch (error) {
          failWith(`restart after SIGKILL failed (a kill may only tear the tail; nothing may refuse to start): ${(error as Error).message}`);
        }
        timings.restartMs += Date.now() - restartStarted;
        const log = proc!.log();
        if (/LogCorruptError|is corrupt at offset|operator asked to truncate/.test(log)) failWith('the restart reports a corrupt log');
        for (const entry of logEntries(log)) if (entry.msg === 'cut off a torn write at the end of the transaction log') tornReasons.push(String(entry.reason));
        recovered = recoveredZxid(log);
        const srvr = await srvrZxid(port);
        if (recovered < seenBeforeKill) {
          failWith(`recovery ended at zxid ${hex(recovered)}, but zxid ${hex(seenBeforeKill)} was acknowledged/seen before the kill`);
        }
        if (srvr < seenBeforeKill) failWith(`srvr reports Zxid ${hex(srvr)} after the restart, below ${hex(seenBeforeKill)} seen before the kill`);

        // ---- let the old cycle's calls settle (queued calls may go out after the reconnect) ----
        const settleStarted = Date.now();
        await withDeadline(Promise.all(lanes), SESSION_TIMEOUT_MS + 8000, 'the writes of the killed server settling');
        timings.settleMs += Date.now() - settleStarted;
        if (laneErrors.length > 0) failWith(`a client call failed unexpectedly: ${String((laneErrors[0] as Error)?.stack ?? laneErrors[0])}`);

        // ---- verify ----
        const verifyStarted = Date.now();
        const verifier = await connectClient(proc!.connectString, SESSION_TIMEOUT_MS);
        try {
          await verify(`after restart ${cycle}`, verifier);
        } finally {
          await verifier.close();
        }
        timings.verifyMs += Date.now() - verifyStarted;
        checkViolations(`after restart ${cycle}`);

        if (cycle === cleanStopCycle) {
          // A clean stop after the restart leaves a log without any damage.
          await proc!.kill('SIGTERM');
          stderrOf.push(proc!.log());
          if (proc!.child.exitCode !== 0) failWith(`SIGTERM stop exited with ${proc!.child.exitCode} (signal ${proc!.child.signalCode})`);
          proc = null;
          const report = await runDatadir(dataDir);
          datadirRuns++;
          if (report.code !== 0) failWith(`paddock datadir after a restart and a clean stop exited ${report.code}:\n${report.stdout}\n${report.stderr}`);
          proc = await restart();
          if (!proc.log().includes('"recovered"')) failWith('no recovery line after the clean restart');
          recovered = recoveredZxid(proc.log());
        }
        await reconnectWorkers();
        if (Date.now() - startedAt > TEST_TIMEOUT_MS - 30_000) failWith(`only ${cycle} cycles fit in the time budget`);
      } catch (error) {
        if (error instanceof assert.AssertionError) throw error;
        const server = proc === null ? 'not running' : proc.child.exitCode !== null || proc.child.signalCode !== null ? `EXITED (code ${proc.child.exitCode}, signal ${proc.child.signalCode})` : 'running';
        failWith(`cycle ${cycle} failed: ${(error as Error)?.stack ?? String(error)}\nserver process: ${server}`);
      }
    }

    // ---- final: new writes still work and go above everything, then a clean stop ----
    const final = await connectClient(proc!.connectString, SESSION_TIMEOUT_MS);
    const before = await srvrZxid(port);
    const { stat } = await withDeadline(final.create2('/crash/final', 'done'), 10_000, 'a write after the last restart');
    assert.ok(stat.czxid > before && stat.czxid > model.maxAckedZxid, `a new write gets a larger zxid: ${hex(stat.czxid)} vs ${hex(before)}`);
    await final.close();
    for (const worker of workers) await worker.zk.close();
    await proc!.kill('SIGTERM');
    assert.equal(proc!.child.exitCode, 0, 'the clean stop exits 0');
    proc = null;
    const report = await runDatadir(dataDir);
    datadirRuns++;
    assert.equal(report.code, 0, `paddock datadir after a clean stop exits 0:\n${report.stdout}\n${report.stderr}`);
    assert.ok(report.segmentLines.length > 1, `the log rolled during the run:\n${report.stdout}`);
    assert.ok(report.snapshotLines.length > 1, `snapshots were taken during the run:\n${report.stdout}`);

    const s = model.stats;
    const summary =
      `${CYCLES} kills in ${((Date.now() - startedAt) / 1000).toFixed(1)} s ` +
      `(load ${(timings.loadMs / 1000).toFixed(1)} s, restarts ${(timings.restartMs / 1000).toFixed(1)} s, settle ${(timings.settleMs / 1000).toFixed(1)} s, verify ${(timings.verifyMs / 1000).toFixed(1)} s); ` +
      `creates ${s.creates} (acked ${s.createsAcked}, unknown ${s.createsUnknown}), ` +
      `setData ${s.sets} (acked ${s.setsAcked}, BadVersion ${s.badVersion}, unknown ${s.setsUnknown}), reads ${s.reads}; ` +
      `unknown creates found present ${[...model.creates.values()].filter((r) => r.seen === 'present').length} / absent ${[...model.creates.values()].filter((r) => r.seen === 'absent').length}; ` +
      `extra kills while starting ${earlyKills} (${earlyKillsServing} already serving); ` +
      `torn tails cut ${tornReasons.length} (${[...new Set(tornReasons)].join(', ')}), snapshots written ${snapshotsWritten}, datadir runs ${datadirRuns} (damage shown ${datadirDamaged}), ` +
      `max acked zxid ${hex(model.maxAckedZxid)}`;
    console.log(`# kill9: ${summary}`);
    t.diagnostic(summary);
    assert.ok(s.setsAcked > 0 && s.createsAcked > 0 && s.badVersion > 0, 'the load did some of everything');
    passed = true;
  } finally {
    active = false;
    for (const worker of workers) await worker.zk.close().catch(() => undefined);
    if (proc) await proc.kill('SIGKILL').catch(() => undefined);
    if (passed) await rm(dataDir, { recursive: true, force: true });
    else console.log(`# kill9: FAILED with seed=${SEED}; data dir kept at ${dataDir}`);
  }
});
