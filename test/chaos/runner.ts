/**
 * One chaos run: a real ensemble behind PeerProxies, workers running the workload while the
 * nemesis injects faults, then a heal phase (everything continued, restarted, connected; all
 * members on one zxid), final linearizable reads of every key from a fresh client, a
 * comparison of the members' trees, and the checkers over the recorded history.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LinearizabilityStats } from '../sim/check/index.js';
import type { History, Violation } from '../sim/history.js';
import { check } from './check.js';
import { createCluster, waitConverged } from './cluster.js';
import type { ChaosCluster } from './cluster.js';
import { Nemesis } from './nemesis.js';
import type { Crash, FaultKind } from './nemesis.js';
import { Prng } from '../sim/prng.js';
import { Recorder } from '../sim/recording.js';
import { ZooKeeperClient } from '../../src/client/index.js';
import { ClientNumbers, Worker, keySpace } from './workload.js';
import type { WorkloadOptions } from './workload.js';

export interface ChaosOptions {
  /** Seconds of faults and workload (the heal phase comes after). */
  seconds: number;
  seed: number;
  members: number;
  clients: number;
  /** Where the history (and, on failure, the member logs) go; a fresh temp dir by default. */
  outDir?: string;
  /** Remove outDir when the run passed (the CI test; the CLI keeps the history). */
  removeOnSuccess?: boolean;
  log?: (line: string) => void;
}

export interface ChaosResult {
  seed: number;
  counts: { ok: number; fail: number; unknown: number; pending: number };
  faults: Record<FaultKind, number>;
  faultCount: number;
  crashes: Crash[];
  /** Restarts that failed on a port another socket took (the test host's doing; retried). */
  portClashes: number;
  /** A heal or tree-compare failure: the ensemble did not converge, or members differ. */
  convergence: string | null;
  violations: Violation[];
  /** The linearizability search's statistics (gaveUp > 0: some partitions neither passed nor failed). */
  stats: LinearizabilityStats;
  history: History;
  historyFile: string;
  outDir: string;
  ok: boolean;
}

/** Bounds of the phases around the faults. */
const STABLE_TIMEOUT_MS = 30_000;
const HEAL_TIMEOUT_MS = 60_000;
const TREE_COMPARE_ATTEMPTS = 5;
const SESSION_TIMEOUT_MS = 4000;
/** Workers move to a fresh key space this often (see keySpace in workload.ts). */
const ROUND_SECONDS = 60;

/** zoo.cfg lines on top of test/support/ensemble.ts's defaults (tickTime 100). */
const SETTINGS: Record<string, string> = { maxSessionTimeout: '6000' };

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => undefined);
  const outDir = options.outDir ?? (await mkdtemp(join(tmpdir(), `paddock-chaos-${options.seed}-`)));
  await mkdir(outDir, { recursive: true });
  log(`seed ${options.seed}: ${options.members} members, ${options.clients} clients, ${options.seconds} s of faults; output in ${outDir}`);
  const cluster = await createCluster(options.members, SETTINGS);
  const runStarted = Date.now();
  const recorder = new Recorder(() => Date.now() - runStarted);
  const nemesis = new Nemesis(cluster, new Prng(options.seed), log);
  let convergence: string | null = null;
  let completed = false;
  let initial: Record<string, { data: string; version: number }> = {};
  try {
    nemesis.startAll();
    const leader = await cluster.ensemble.waitStable(STABLE_TIMEOUT_MS);
    log(`ensemble up, leader ${leader}`);
    const rounds = Math.max(1, Math.ceil(options.seconds / ROUND_SECONDS));
    initial = await createKeySpaces(cluster.ensemble.connectString, rounds);
    const startMs = Date.now();
    const workload: WorkloadOptions = { connectString: cluster.ensemble.connectString, sessionTimeoutMs: SESSION_TIMEOUT_MS, thinkMs: 5, startMs, roundMs: ROUND_SECONDS * 1000, rounds };
    const numbers = new ClientNumbers();
    const deadlineMs = startMs + options.seconds * 1000;
    const workers = Array.from({ length: options.clients }, (_, i) => new Worker(recorder, numbers, new Prng((options.seed + i + 1) * 7919), workload));
    await Promise.all([nemesis.run(deadlineMs), ...workers.map((w) => w.run(deadlineMs))]);
    log(`faults over: ${JSON.stringify(recorder.counts())}; healing`);

    convergence = await heal(cluster, nemesis, recorder, numbers, workload, log);
    completed = true;
  } finally {
    nemesis.stopWatching();
    await writeFile(join(outDir, 'history.json'), JSON.stringify(recorder.history()));
    await cluster.proxies.close();
    // The members' logs stay in memory after they stop; written below if the run failed.
    await cluster.ensemble.stop();
    if (!completed) await saveLogs(cluster, outDir);
  }
  const historyFile = join(outDir, 'history.json');
  const checkStarted = Date.now();
  const { violations, stats } = check(recorder.history(), initial);
  log(`checked in ${Date.now() - checkStarted} ms: ${JSON.stringify(stats)}`);
  if (violations.length > 0) await writeFile(join(outDir, 'violations.json'), JSON.stringify(violations, null, 2));
  const ok = violations.length === 0 && convergence === null && nemesis.crashes.length === 0;
  if (!ok) await saveLogs(cluster, outDir);
  if (ok && options.removeOnSuccess === true) await rm(outDir, { recursive: true, force: true });
  return {
    seed: options.seed,
    counts: recorder.counts(),
    faults: nemesis.summary(),
    faultCount: nemesis.faults.length,
    crashes: nemesis.crashes,
    portClashes: nemesis.portClashes,
    convergence,
    violations,
    stats,
    history: recorder.history(),
    historyFile,
    outDir,
    ok,
  };
}

/**
 * Every round's key space, created before the recorded history starts (so not recorded): the
 * checkers are told these nodes are there at the start (`initial`). Runs on a stable
 * ensemble before the nemesis starts, so any error here ends the run.
 */
async function createKeySpaces(connectString: string, rounds: number): Promise<Record<string, { data: string; version: number }>> {
  const initial: Record<string, { data: string; version: number }> = {};
  const c = await ZooKeeperClient.connect({ connectString, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  try {
    for (let round = 0; round < rounds; round++) {
      const space = keySpace(round);
      await c.create(space.root, '');
      for (const path of [...space.keys, space.ephemeralParent, space.sequentialParent]) {
        await c.create(path, '');
        initial[path] = { data: '', version: 0 };
      }
    }
  } finally {
    await c.close();
  }
  return initial;
}

/**
 * Everything continued, restarted and connected; all members serving on one zxid; a final
 * syncRead of every round's keys (and the children of its /e and /s) from a fresh client; the members'
 * trees compared. Returns what did not converge, or null.
 */
async function heal(cluster: ChaosCluster, nemesis: Nemesis, recorder: Recorder, numbers: ClientNumbers, workload: WorkloadOptions, log: (line: string) => void): Promise<string | null> {
  await nemesis.recoverAll();
  try {
    await waitConverged(cluster.ensemble, HEAL_TIMEOUT_MS);
  } catch (error) {
    return (error as Error).message;
  }
  const final = new Worker(recorder, numbers, new Prng(1), workload);
  const spaces = Array.from({ length: workload.rounds }, (_, round) => keySpace(round));
  await final.finalReads(
    spaces.flatMap((s) => s.keys),
    spaces.flatMap((s) => [s.ephemeralParent, s.sequentialParent]),
  );
  let lastError = '';
  for (let attempt = 0; attempt < TREE_COMPARE_ATTEMPTS; attempt++) {
    try {
      // Sessions the workers abandoned may still expire (a write): compare on one zxid.
      await waitConverged(cluster.ensemble, HEAL_TIMEOUT_MS);
      const tree = await cluster.ensemble.assertTreesIdentical();
      log(`members converged: ${tree.split('\n').length} nodes, identical on every member`);
      return null;
    } catch (error) {
      lastError = (error as Error).message;
      log(`tree compare attempt ${attempt + 1}: ${lastError.split('\n')[0]}`);
    }
  }
  return lastError;
}

async function saveLogs(cluster: ChaosCluster, outDir: string): Promise<void> {
  for (const m of cluster.ensemble.members) await writeFile(join(outDir, `member${m.id}.log`), m.stderr);
}
