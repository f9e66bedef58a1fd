/**
 * Case 5: a 3-member ensemble of each system on this machine, one ensemble at a time (see
 * ensembles.ts for how the members are started). For each:
 *
 *  1. all three members start; the start time runs until one leads and two follow;
 *  2. write throughput: 6 sessions (two per member, each connected to that member only) × 16
 *     setData in flight, then the same with creates of new znodes; forceSync=yes (both
 *     defaults), so every write is fsynced by the leader and a follower before it is acked;
 *  3. read throughput: getData from the same 6 sessions × 64 in flight, spread over the three
 *     members (each member answers reads from its own tree);
 *  4. memory: VmRSS and VmHWM of each member after the load;
 *  5. failover, `--failovers` times: a writer session on a follower (connect string: that
 *     follower, then the other members) loops setData with one request outstanding; the
 *     leader (found through srvr's Mode) gets SIGKILL; the failover time runs from the kill
 *     until the first write issued after it is acknowledged. The killed member is then started
 *     again on its dataDir and the next repetition waits until all three serve.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ZooKeeperClient } from '../src/client/index.js';
import { ENSEMBLE_SIZE, ENSEMBLE_TIMING, BenchEnsemble } from './ensembles.js';
import { AbortedError, throwIfAborted } from './lifecycle.js';
import { closeClients, connectClients, runLoad } from './load.js';
import type { Operation } from './load.js';
import type { BenchOptions } from './options.js';
import { CpuMeter } from './proc.js';
import type { BenchReport } from './report.js';
import { SERVER_LABEL, versionOf } from './servers.js';
import type { ServerKind } from './servers.js';
import { PAYLOAD, loadLine } from './throughput.js';
import type { ThroughputResult } from './throughput.js';

export const ENSEMBLE_SESSIONS = 6;
const WRITE_DEPTH = 16;
const READ_DEPTH = 64;
const START_TIMEOUT_MS = 120_000;
const REJOIN_TIMEOUT_MS = 120_000;
/** The writer runs this long before the kill (and must have had a write acknowledged). */
const WRITER_WARMUP_MS = 1000;
/** A failover that takes longer than this fails the case. */
const FAILOVER_TIMEOUT_MS = 60_000;
const ELECTION_POLL_MS = 50;
const ELECTION_WATCH_GRACE_MS = 10_000;
const MAX_WRITER_LOOPS = 10_000_000;
/** The writer's client: requested session timeout (the server caps it at 20 ticks = 10 s) and reconnect pacing. */
const WRITER_SESSION_TIMEOUT_MS = 10_000;
const WRITER_MAX_RECONNECT_DELAY_MS = 100;
const WRITER_CONNECT_TIMEOUT_MS = 15_000;

export interface MemberMemory {
  id: number;
  rssBytes: number;
  peakRssBytes: number;
}

export interface FailoverRun {
  /** The member killed (the leader) and the follower the writer was connected to. */
  killedLeader: number;
  writerMember: number;
  /** SIGKILL of the leader until the first write issued after it was acknowledged. */
  failoverMs: number;
  /** SIGKILL until a surviving member's srvr said Mode: leader (polled every 50 ms). */
  electedMs: number;
  newLeader: number;
  /** Writes that failed between the kill and the first success (ConnectionLoss and the like). */
  failedWrites: number;
  /** Sessions the writer had to open anew because its session expired during the failover. */
  newSessions: number;
  /** Spawn of the killed member until all three served again. */
  rejoinMs: number;
}

export interface EnsembleResult {
  server: ServerKind;
  members: number;
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  /** Spawn of the three members until one led and two followed. */
  startMs: number;
  /** VmRSS of the three members together, once serving and before any load. */
  idleRssBytes: number;
  /** Write and read rows, in the throughput table's shape (CPU and peak RSS: all members together). */
  load: ThroughputResult[];
  /** After the load, before the failovers. */
  memory: MemberMemory[];
  rssBytes: number;
  peakRssBytes: number;
  failovers: FailoverRun[];
  failoverMedianMs: number;
  failoverMaxMs: number;
}

interface LoadCase {
  id: string;
  title: string;
  depth: number;
  op: Operation;
}

const LOAD_CASES: LoadCase[] = [
  {
    id: 'ens-setData-6x16',
    title: 'ensemble setData 6x16 over 3 members',
    depth: WRITE_DEPTH,
    op: (client, session) => client.setData(`/bench/n${session}`, PAYLOAD),
  },
  {
    id: 'ens-create-6x16',
    title: 'ensemble create 6x16 over 3 members',
    depth: WRITE_DEPTH,
    op: (client, session, seq) => client.create(`/bench/c/s${session}-${seq}`, PAYLOAD),
  },
  {
    id: 'ens-getData-6x64',
    title: 'ensemble getData 6x64 over 3 members',
    depth: READ_DEPTH,
    op: (client, session) => client.getData(`/bench/n${session}`),
  },
];

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Session s is connected to member (s mod 3) + 1 only. */
async function connectSpread(ensemble: BenchEnsemble): Promise<ZooKeeperClient[]> {
  const clients: ZooKeeperClient[] = [];
  try {
    for (let s = 0; s < ENSEMBLE_SESSIONS; s++) {
      const id = ensemble.ids[s % ensemble.ids.length]!;
      clients.push(...(await connectClients(ensemble.memberConnectString(id), 1)));
    }
  } catch (error) {
    await closeClients(clients);
    throw error;
  }
  return clients;
}

async function runLoads(
  ensemble: BenchEnsemble,
  startMs: number,
  idleRssBytes: number,
  options: BenchOptions,
  log: (line: string) => void,
): Promise<ThroughputResult[]> {
  const clients = await connectSpread(ensemble);
  const results: ThroughputResult[] = [];
  try {
    const first = clients[0]!;
    await first.create('/bench');
    await first.create('/bench/c');
    await first.create('/bench/failover', PAYLOAD);
    await Promise.all(Array.from({ length: ENSEMBLE_SESSIONS }, (_, s) => first.create(`/bench/n${s}`, PAYLOAD)));
    // Every session reads its own znode from its own member: make sure each member has them.
    await Promise.all(clients.map((client) => client.sync('/bench')));
    for (const loadCase of LOAD_CASES) {
      throwIfAborted();
      const meter = new CpuMeter(ensemble.pids());
      const load = await runLoad(clients, {
        sessions: ENSEMBLE_SESSIONS,
        depth: loadCase.depth,
        // The full warm-up before every case (not 1 s as for later standalone cases): three JVMs
        // on two cores take longer to compile a new request path than one.
        warmupMs: options.warmupMs,
        measureMs: options.measureMs,
        op: loadCase.op,
      });
      const cpu = meter.read();
      const peaks = ensemble.ids.map((id) => ensemble.memory(id)?.peakRssBytes ?? NaN);
      results.push({
        caseId: loadCase.id,
        group: 'ensemble',
        title: loadCase.title,
        sessions: ENSEMBLE_SESSIONS,
        depth: loadCase.depth,
        forceSync: true,
        ...load,
        server: ensemble.kind,
        startMs,
        idleRssBytes,
        peakRssBytes: peaks.reduce((a, b) => a + b, 0),
        serverCpuPct: cpu.serverPct,
        benchCpuPct: cpu.benchPct,
        machineCpuPct: cpu.machinePct,
      });
      log(loadLine(ensemble.kind, loadCase.id, load));
    }
  } finally {
    await closeClients(clients);
  }
  return results;
}

function connectWriter(connectString: string): Promise<ZooKeeperClient> {
  return withTimeout(
    ZooKeeperClient.connect({
      connectString,
      sessionTimeoutMs: WRITER_SESSION_TIMEOUT_MS,
      maxReconnectDelayMs: WRITER_MAX_RECONNECT_DELAY_MS,
    }),
    WRITER_CONNECT_TIMEOUT_MS,
    'writer connect',
  ).then((client) => {
    client.on('error', (error) => process.stderr.write(`bench: writer client error: ${error.message}\n`));
    return client;
  });
}

/** Polls the surviving members' srvr until one says leader; resolves with its id and the ms since `killedAt`. */
async function watchElection(
  ensemble: BenchEnsemble,
  survivors: number[],
  killedAt: bigint,
  stopped: () => boolean,
): Promise<{ id: number; ms: number } | null> {
  for (let i = 0; i < FAILOVER_TIMEOUT_MS / ELECTION_POLL_MS && !stopped(); i++) {
    const modes = await Promise.all(survivors.map((id) => ensemble.mode(id)));
    const index = modes.indexOf('leader');
    if (index !== -1) return { id: survivors[index]!, ms: Number(process.hrtime.bigint() - killedAt) / 1e6 };
    await sleep(ELECTION_POLL_MS);
  }
  return null;
}

async function failoverOnce(ensemble: BenchEnsemble, log: (line: string) => void): Promise<FailoverRun> {
  const leader = await ensemble.waitAllServing(REJOIN_TIMEOUT_MS);
  const writerMember = ensemble.ids.find((id) => id !== leader)!;
  const connectString = ensemble.connectString(writerMember);
  const clients = [await connectWriter(connectString)];
  let killedAt = 0n;
  let acknowledgedAt = 0n;
  let successes = 0;
  let failedWrites = 0;
  let newSessions = 0;
  let stop = false;
  const writer = (async (): Promise<void> => {
    for (let i = 0; i < MAX_WRITER_LOOPS && !stop; i++) {
      const client = clients[clients.length - 1]!;
      const issuedAt = process.hrtime.bigint();
      try {
        await client.setData('/bench/failover', PAYLOAD);
        successes++;
        if (killedAt !== 0n && issuedAt >= killedAt) {
          acknowledgedAt = process.hrtime.bigint();
          return;
        }
      } catch (error) {
        if (killedAt === 0n) throw error; // before the kill every write must succeed
        failedWrites++;
        if (client.state === 'expired' || client.state === 'closed') {
          newSessions++;
          try {
            clients.push(await connectWriter(connectString));
          } catch {
            // no member gives a session yet: try again
          }
        }
        await sleep(1);
      }
    }
  })();
  try {
    await Promise.race([writer, sleep(WRITER_WARMUP_MS)]);
    if (successes === 0) throw new Error('the failover writer had no write acknowledged before the kill');
    const survivors = ensemble.ids.filter((id) => id !== leader);
    killedAt = process.hrtime.bigint();
    const killed = ensemble.kill(leader); // sends SIGKILL at once, then waits for the exit
    const election = watchElection(ensemble, survivors, killedAt, () => stop);
    await killed;
    await withTimeout(writer, FAILOVER_TIMEOUT_MS, `${SERVER_LABEL[ensemble.kind]} failover (no write acknowledged after the leader's SIGKILL)`);
    const failoverMs = Number(acknowledgedAt - killedAt) / 1e6;
    // Informational only: a watch that has not seen the leader yet gets a short bound, not a failure.
    const elected = await withTimeout(election, ELECTION_WATCH_GRACE_MS, 'election watch').catch(() => null);
    stop = true;
    const rejoinStarted = Date.now();
    ensemble.start(leader);
    const newLeader = await ensemble.waitAllServing(REJOIN_TIMEOUT_MS);
    const run: FailoverRun = {
      killedLeader: leader,
      writerMember,
      failoverMs,
      electedMs: elected?.ms ?? NaN,
      newLeader,
      failedWrites,
      newSessions,
      rejoinMs: Date.now() - rejoinStarted,
    };
    log(
      `  ${SERVER_LABEL[ensemble.kind].padEnd(9)} failover: killed leader ${leader}, writer on ${writerMember}: write ok after ${failoverMs.toFixed(0)} ms` +
        ` (new leader ${newLeader} seen after ${run.electedMs.toFixed(0)} ms, ${failedWrites} failed writes${newSessions > 0 ? `, ${newSessions} new sessions` : ''}); rejoined in ${run.rejoinMs} ms`,
    );
    return run;
  } finally {
    stop = true;
    await closeClients(clients);
    await writer.catch(() => undefined);
  }
}

async function runOnEnsemble(kind: ServerKind, root: string, options: BenchOptions, report: BenchReport, log: (line: string) => void): Promise<EnsembleResult> {
  const ensemble = await BenchEnsemble.create(kind, root, { zkHeapMb: options.zkHeapMb });
  try {
    const started = Date.now();
    ensemble.startAll();
    const firstLeader = await ensemble.waitAllServing(START_TIMEOUT_MS);
    const startMs = Date.now() - started;
    log(`  ${SERVER_LABEL[kind].padEnd(9)} 3 members serving after ${(startMs / 1000).toFixed(2)} s (leader ${firstLeader})`);
    report.meta.versions[kind] ??= versionOf(await ensemble.srvr(firstLeader));
    const idleRssBytes = ensemble.ids.map((id) => ensemble.memory(id)?.rssBytes ?? NaN).reduce((a, b) => a + b, 0);
    const load = await runLoads(ensemble, startMs, idleRssBytes, options, log);
    const memory = ensemble.ids.map((id) => {
      const m = ensemble.memory(id);
      return { id, rssBytes: m?.rssBytes ?? NaN, peakRssBytes: m?.peakRssBytes ?? NaN };
    });
    const failovers: FailoverRun[] = [];
    for (let i = 0; i < options.failovers; i++) {
      throwIfAborted();
      failovers.push(await failoverOnce(ensemble, log));
    }
    const times = failovers.map((run) => run.failoverMs);
    return {
      server: kind,
      members: ENSEMBLE_SIZE,
      ...ENSEMBLE_TIMING,
      startMs,
      idleRssBytes,
      load,
      memory,
      rssBytes: memory.reduce((sum, m) => sum + m.rssBytes, 0),
      peakRssBytes: memory.reduce((sum, m) => sum + m.peakRssBytes, 0),
      failovers,
      failoverMedianMs: median(times),
      failoverMaxMs: times.length === 0 ? NaN : Math.max(...times),
    };
  } catch (error) {
    if (error instanceof AbortedError) throw error;
    throw new Error(`${(error as Error).message}\n${ensemble.tails()}`, { cause: error });
  } finally {
    await ensemble.stop();
  }
}

/** Runs the case on each server kind in turn; a failure of one is recorded and the next still runs. */
export async function runEnsembleCase(root: string, options: BenchOptions, report: BenchReport, log: (line: string) => void): Promise<void> {
  for (const kind of options.servers) {
    throwIfAborted();
    try {
      report.ensemble.push(await runOnEnsemble(kind, root, options, report, log));
    } catch (error) {
      if (error instanceof AbortedError) throw error;
      report.failures.push({ group: `ensemble (${SERVER_LABEL[kind]})`, error: String((error as Error).stack ?? error) });
      log(`case ensemble FAILED for ${SERVER_LABEL[kind]}: ${(error as Error).message}`);
    }
  }
}
