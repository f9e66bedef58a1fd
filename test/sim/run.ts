/**
 * One simulated run: an ensemble of real PaddockServers and real ZooKeeperClients inside
 * one process under one seed.
 *
 *   setup        start the members, wait for a leader, create the parents (not recorded)
 *                and the keys (recorded ops)
 *   faults       clients run the workload while the nemesis injects faults (virtualMs)
 *   heal         every fault lifted, every member that is down started; wait until all
 *                serve at the same lastProcessedZxid
 *   power cycle  every member loses power at once (nothing torn) and starts again from its
 *                disk; wait until all serve at the same lastProcessedZxid. What each member
 *                reads back must agree with the others (a txn that never committed, kept on
 *                a disk, comes back here)
 *   final        a fresh client syncReads every key; digests of every member; clients close
 *
 * The same seed (and options) gives the same history, byte for byte.
 */
import { mutations, resetMutations } from '../../src/platform/index.js';
import type { Mutations } from '../../src/platform/index.js';
import { SimClient } from './client.js';
import { Recorder } from './recording.js';
import { SimCluster } from './cluster.js';
import type { History, Op } from './history.js';
import { Kernel } from './kernel.js';
import { Nemesis } from './nemesis.js';
import type { FaultProfile } from './nemesis.js';
import { SimNetwork } from './network.js';
import { DEFAULT_MIX, LAYOUT, READ_MIX, ephemeralParent, finalReadPaths, nextOp, roundLayout } from './workload.js';
import type { Layout, Mix } from './workload.js';

/**
 * Long enough for several faults and a change of round; longer runs put more ops in doubt per
 * round, which the linearizability search pays for exponentially (see docs/testing.md).
 */
export const DEFAULT_VIRTUAL_MS = 6000;

export interface SimulationOptions {
  seed: number;
  /** Voting members: 3 or 5. Default 3. */
  members?: number;
  /** Observers besides. Default 0. */
  observers?: number;
  profile?: FaultProfile;
  /** Virtual ms of the fault phase. Default DEFAULT_VIRTUAL_MS. */
  virtualMs?: number;
  /** Virtual ms clients spend on one round's key space before moving to the next. Default 4000. */
  roundMs?: number;
  /** Concurrent client slots. Default 4. */
  clients?: number;
  /**
   * Client slots besides that only read (mostly syncRead), one op at a time. Default 2. A
   * reader never has a write in flight, so a member that stops serving has no reason to drop
   * it: it is the client that sees what a deposed member answers.
   */
  readers?: number;
  /** Ops each client keeps in flight (pipelined on its session). Default 2. */
  pipeline?: number;
  /** Switch one Paddock mutation on for the run (test/sim/mutants). */
  mutation?: keyof Mutations;
  mix?: Mix;
  layout?: Layout;
  extendedTypes?: boolean;
  snapCount?: number;
  /**
   * Committed txns a member keeps for DIFF. Default: drawn per seed from COMMIT_LOG_WINDOWS,
   * so that many seeds bring members back by SNAP (with ZooKeeper's 500 few ever do).
   */
  commitLogWindow?: number;
  /** Requested session timeout. Default 4000. */
  sessionTimeoutMs?: number;
  tearWrites?: boolean;
  allowMajorityCrash?: boolean;
  /** Mean virtual ms between client ops of one pipeline slot. Default 60. */
  thinkMs?: number;
  /** Power-cycle the whole ensemble after the heal (see above). Default true. */
  finalPowerCycle?: boolean;
}

export interface SimulationStats {
  seed: number;
  virtualMs: number;
  realMs: number;
  events: number;
  eventsPerSecond: number;
  operations: number;
  completedOk: number;
  failed: number;
  unknown: number;
  clientsCreated: number;
  faults: Record<string, number>;
  memberStarts: number[];
  appliedTxns: number[];
  commitLogWindow: number;
  /** Snapshots members installed from a leader (SNAP). */
  snapsInstalled: number;
  finalZxid: string;
  network: SimNetwork['stats'];
}

export interface SimulationResult {
  history: History;
  trace: string[];
  stats: SimulationStats;
}

const COMMIT_LOG_WINDOWS = [500, 40, 8] as const;
const SETUP_LIMIT_MS = 30_000;
const CONVERGE_LIMIT_MS = 60_000;
const MAX_OPS_PER_WORKER = 100_000;

export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  resetMutations();
  if (options.mutation) mutations[options.mutation] = true;
  try {
    return await simulate(options);
  } finally {
    resetMutations();
  }
}

async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const started = performance.now();
  const kernel = new Kernel({ seed: options.seed });
  const network = new SimNetwork(kernel);
  const recorder = new Recorder(() => kernel.elapsed);
  const virtualMs = options.virtualMs ?? DEFAULT_VIRTUAL_MS;
  const roundMs = options.roundMs ?? 4000;
  const baseLayout = options.layout ?? LAYOUT;
  const layouts = Array.from({ length: Math.max(1, Math.ceil(virtualMs / roundMs)) }, (_, round) => roundLayout(baseLayout, round));
  const mix = options.mix ?? DEFAULT_MIX;
  const commitLogWindow = options.commitLogWindow ?? kernel.prng('commit-log-window').pick(COMMIT_LOG_WINDOWS);
  const cluster = new SimCluster(kernel, network, recorder, {
    voters: options.members ?? 3,
    observers: options.observers ?? 0,
    snapCount: options.snapCount ?? 100,
    commitLogWindow,
    extendedTypes: options.extendedTypes ?? false,
  });
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 4000;
  const clients: SimClient[] = [];
  const prng = kernel.prng('workload');
  let nextClientId = 0;
  const newClient = (): SimClient => {
    const id = nextClientId++;
    const host = `c${id}`;
    const incarnation = kernel.incarnation(host);
    // Each client tries the members in its own order.
    const hosts = prng.shuffle(cluster.hosts.map((h) => `${h}:2181`));
    const client = new SimClient({
      id,
      host,
      platform: kernel.platformFor(incarnation, { net: network.host(host, incarnation) }),
      connectString: hosts.join(','),
      sessionTimeoutMs,
      recorder,
      kernel,
    });
    clients.push(client);
    client.start();
    kernel.trace(`client ${id}: new`);
    return client;
  };
  const ready = (client: SimClient) => client.state !== 'connecting';

  // ---- setup ----
  for (const member of cluster.members) cluster.start(member);
  if (!(await kernel.runUntil(() => cluster.converged() && cluster.leader !== undefined, SETUP_LIMIT_MS))) {
    kernel.fail('no leader with every member serving within the setup time');
  }
  const setup = newClient();
  await kernel.runUntil(() => ready(setup), SETUP_LIMIT_MS);
  if (setup.state !== 'ready') kernel.fail('the setup client got no session');
  // Parents are not recorded: the checkers take them to exist throughout (no checked op
  // touches them), so the partitions of their children stay apart. Keys are recorded creates.
  for (const layout of layouts) {
    for (const path of layout.parents) {
      if (!(await kernel.settle(setup.createUnrecorded(path), SETUP_LIMIT_MS, `setup create ${path}`))) kernel.fail(`setup could not create ${path}`);
    }
    for (const path of layout.keys) {
      await kernel.settle(setup.run({ type: 'create', path, data: 'init', mode: 'persistent' }), SETUP_LIMIT_MS, `setup create ${path}`);
    }
  }
  if (kernel.failed) throw kernel.failed;

  // ---- faults ----
  const faultStart = kernel.now;
  let phase: 'faults' | 'final' = 'faults';
  const writerSlots = options.clients ?? 4;
  const slotCount = writerSlots + (options.readers ?? 2);
  const slots: SimClient[] = Array.from({ length: slotCount }, () => newClient());
  const thinkMs = options.thinkMs ?? 60;
  const sleep = (ms: number) => new Promise<void>((resolve) => kernel.schedule(ms, resolve));
  let opSerial = 0;
  const worker = async (slot: number): Promise<void> => {
    for (let i = 0; i < MAX_OPS_PER_WORKER && phase === 'faults'; i++) {
      await sleep(prng.between(0, 2 * thinkMs));
      if (phase !== 'faults') return;
      let client = slots[slot]!;
      if (client.state === 'gone') {
        client = slots[slot] = newClient();
        continue;
      }
      if (client.state !== 'ready') continue;
      // A request made while disconnected waits in the client and fails in doubt if the
      // connection does not come back: it proves nothing and costs the checker dearly.
      if (client.zk?.state !== 'connected') continue;
      const layout = layouts[Math.min(layouts.length - 1, Math.floor((kernel.now - faultStart) / roundMs))]!;
      const op: Op = nextOp(slot < writerSlots ? mix : READ_MIX, {
        prng,
        layout,
        value: `c${client.id}.${opSerial++}`,
        versions: client.versions,
        created: client.created,
        slot,
        extendedTypes: options.extendedTypes ?? false,
      });
      // Only one close per client; other slots of this client stop issuing then.
      if (op.type === 'closeSession' && client.inFlight > 0) continue;
      await client.run(op);
    }
  };
  const workers: Array<Promise<void>> = [];
  for (let slot = 0; slot < slotCount; slot++) {
    const pipeline = slot < writerSlots ? (options.pipeline ?? 2) : 1;
    for (let p = 0; p < pipeline; p++) workers.push(worker(slot).catch((error: Error) => kernel.fail(`worker: ${error.stack ?? error.message}`)));
  }
  const nemesis = new Nemesis(kernel, cluster, {
    profile: options.profile ?? 'all',
    clientHosts: () => clients.filter((c) => c.state !== 'gone').map((c) => c.options.host),
    tearWrites: options.tearWrites,
    allowMajorityCrash: options.allowMajorityCrash,
  });
  nemesis.start();
  const faultEnd = faultStart + virtualMs;
  while (kernel.now < faultEnd) {
    await kernel.runFor(Math.min(1000, faultEnd - kernel.now));
    cluster.digestIfAligned();
  }

  // ---- heal ----
  phase = 'final';
  nemesis.healAll();
  if (!(await kernel.runUntil(() => cluster.converged(), CONVERGE_LIMIT_MS))) {
    kernel.fail(`the members did not converge within ${CONVERGE_LIMIT_MS} virtual ms after the heal`);
    throw kernel.failed!;
  }

  // ---- power cycle ----
  if (options.finalPowerCycle ?? true) {
    kernel.trace('power cycle: every member');
    for (const member of cluster.members) cluster.crash(member, false);
    for (const member of cluster.members) cluster.start(member);
    if (!(await kernel.runUntil(() => cluster.converged(), CONVERGE_LIMIT_MS))) {
      kernel.fail(`the members did not converge within ${CONVERGE_LIMIT_MS} virtual ms after the power cycle`);
      throw kernel.failed!;
    }
    cluster.digestIfAligned();
  }

  // ---- final reads ----
  const reader = newClient();
  await kernel.runUntil(() => ready(reader), SETUP_LIMIT_MS);
  if (reader.state !== 'ready') kernel.fail('the final reader got no session after the heal');
  for (const layout of layouts) {
    for (const path of finalReadPaths(layout)) await kernel.settle(reader.run({ type: 'syncRead', path }), SETUP_LIMIT_MS, `final syncRead ${path}`);
    for (const path of [ephemeralParent(layout), layout.sequentialParent]) {
      await kernel.settle(reader.run({ type: 'getChildren', path, watch: false }), SETUP_LIMIT_MS, `final getChildren ${path}`);
    }
  }
  await kernel.runUntil(() => cluster.converged() && workersIdle(clients), CONVERGE_LIMIT_MS);
  if (!(await kernel.runUntil(() => cluster.converged(), CONVERGE_LIMIT_MS))) kernel.fail('the members did not converge after the final reads');
  cluster.digestIfAligned();

  // ---- close ----
  for (const client of clients) void client.shutdown();
  await kernel.runFor(2000);
  await Promise.race([Promise.all(workers), Promise.resolve()]);
  if (kernel.failed) throw kernel.failed;

  const realMs = performance.now() - started;
  const ops = recorder.operations;
  const last = cluster.members[0]!.server?.tree.lastProcessedZxid ?? 0n;
  return {
    history: { operations: ops, events: recorder.events, members: cluster.records() },
    trace: kernel.traceLines(),
    stats: {
      seed: options.seed,
      virtualMs: kernel.elapsed,
      realMs: Math.round(realMs),
      events: kernel.eventsRun,
      eventsPerSecond: Math.round(kernel.eventsRun / (realMs / 1000)),
      operations: ops.length,
      completedOk: ops.filter((o) => o.outcome?.type === 'ok').length,
      failed: ops.filter((o) => o.outcome?.type === 'fail').length,
      unknown: ops.filter((o) => o.outcome === null || o.outcome.type === 'unknown').length,
      clientsCreated: nextClientId,
      faults: Object.fromEntries([...nemesis.counts].sort()),
      memberStarts: cluster.members.map((m) => m.starts),
      appliedTxns: cluster.members.map((m) => m.record.applied.length),
      commitLogWindow,
      snapsInstalled: cluster.members.reduce((n, m) => n + m.record.resets.filter((r) => r.reason === 'snap').length, 0),
      finalZxid: last.toString(16),
      network: network.stats,
    },
  };
}

function workersIdle(clients: SimClient[]): boolean {
  return clients.every((c) => c.inFlight === 0);
}
