/**
 * Cases 1–3: a fixed-duration closed-loop load of getData, setData or create against one
 * server, measured after a warm-up. A group of cases shares one server start (same
 * forceSync setting); each server of the pair gets the same group in turn.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ZooKeeperClient } from '../src/client/index.js';
import { closeClients, connectClients, runLoad } from './load.js';
import type { LoadResult, LoadShape, Operation } from './load.js';
import { throwIfAborted } from './lifecycle.js';
import type { BenchOptions } from './options.js';
import { CpuMeter } from './proc.js';
import { SERVER_LABEL, startServer, versionOf } from './servers.js';
import type { BenchServer, ServerKind } from './servers.js';

export const DATA_BYTES = 100;
/** The same 100 pseudo-random bytes everywhere (no server compresses, but do not invite it). */
export const PAYLOAD: Buffer = Buffer.from(Array.from({ length: DATA_BYTES }, (_, i) => (i * 131 + 17) % 251));

export type OpKind = 'getData' | 'setData' | 'create';

export interface ThroughputCase {
  id: string;
  title: string;
  op: OpKind;
  shape: LoadShape;
}

export interface ThroughputGroup {
  id: 'getData' | 'setData' | 'durable';
  title: string;
  forceSync: boolean;
  cases: ThroughputCase[];
}

export const THROUGHPUT_GROUPS: ThroughputGroup[] = [
  {
    id: 'getData',
    title: 'getData, 100-byte node',
    forceSync: false,
    cases: [{ id: 'getData-8x64', title: 'getData 8 sessions x 64 in flight', op: 'getData', shape: { sessions: 8, depth: 64 } }],
  },
  {
    id: 'setData',
    title: 'setData, 100 bytes, forceSync=no on both (in-memory write path, no fsync)',
    forceSync: false,
    cases: [{ id: 'setData-nosync-8x64', title: 'setData forceSync=no 8x64', op: 'setData', shape: { sessions: 8, depth: 64 } }],
  },
  {
    id: 'durable',
    title: 'durable writes, forceSync=yes on both (ZooKeeper default: fsync before the reply)',
    forceSync: true,
    cases: [
      { id: 'durable-setData-1x1', title: 'setData fsync 1x1', op: 'setData', shape: { sessions: 1, depth: 1 } },
      { id: 'durable-setData-8x16', title: 'setData fsync 8x16', op: 'setData', shape: { sessions: 8, depth: 16 } },
      { id: 'durable-create-1x1', title: 'create fsync 1x1', op: 'create', shape: { sessions: 1, depth: 1 } },
      { id: 'durable-create-8x16', title: 'create fsync 8x16', op: 'create', shape: { sessions: 8, depth: 16 } },
    ],
  },
];

export interface ServerSample {
  server: ServerKind;
  startMs: number;
  /** VmRSS right after the start, before any load (empty tree). */
  idleRssBytes: number;
  /** VmHWM when the case ended: the peak RSS of this server process so far. */
  peakRssBytes: number;
  /** % of one core during the measured window. */
  serverCpuPct: number;
  benchCpuPct: number;
  machineCpuPct: number;
}

export interface ThroughputResult extends LoadResult, ServerSample {
  caseId: string;
  group: string;
  title: string;
  sessions: number;
  depth: number;
  forceSync: boolean;
}

const MAX_SESSIONS = 8;
const LATER_WARMUP_MS = 1000;

function operation(op: OpKind, caseIndex: number): Operation {
  switch (op) {
    case 'getData':
      return (client, session) => client.getData(`/bench/n${session}`);
    case 'setData':
      return (client, session) => client.setData(`/bench/n${session}`, PAYLOAD);
    case 'create':
      return (client, session, seq) => client.create(`/bench/c/k${caseIndex}-s${session}-${seq}`, PAYLOAD);
  }
}

async function prepareTree(client: ZooKeeperClient): Promise<void> {
  await client.create('/bench');
  await client.create('/bench/c');
  await Promise.all(Array.from({ length: MAX_SESSIONS }, (_, s) => client.create(`/bench/n${s}`, PAYLOAD)));
}

/** The progress line of one measured case: server, case, ops/s, latency and any errors. */
export function loadLine(kind: ServerKind, caseId: string, load: LoadResult): string {
  return (
    `  ${SERVER_LABEL[kind].padEnd(9)} ${caseId.padEnd(22)} ${Math.round(load.opsPerSecond).toLocaleString('en-US').padStart(9)} ops/s` +
    `  p50 ${load.latency.p50Ms.toFixed(2)} ms  p99 ${load.latency.p99Ms.toFixed(2)} ms` +
    (load.errors > 0 ? `  ${load.errors} errors (${load.firstError})` : '')
  );
}

export interface GroupRun {
  results: ThroughputResult[];
  /** srvr's version line of each server (ZooKeeper's goes into the header). */
  versions: Partial<Record<ServerKind, string>>;
}

async function runOnServer(
  group: ThroughputGroup,
  server: BenchServer,
  options: BenchOptions,
  log: (line: string) => void,
): Promise<ThroughputResult[]> {
  const idleRssBytes = server.memory()?.rssBytes ?? NaN;
  const clients = await connectClients(server.connectString, MAX_SESSIONS);
  const results: ThroughputResult[] = [];
  try {
    await prepareTree(clients[0]!);
    for (const [index, testCase] of group.cases.entries()) {
      throwIfAborted();
      const meter = new CpuMeter(server.pid);
      const load = await runLoad(clients, {
        ...testCase.shape,
        // Later cases on the same server find it warm (JIT, caches): a short warm-up settles the new shape.
        warmupMs: index === 0 ? options.warmupMs : Math.min(options.warmupMs, LATER_WARMUP_MS),
        measureMs: options.measureMs,
        op: operation(testCase.op, index),
      });
      const cpu = meter.read();
      results.push({
        caseId: testCase.id,
        group: group.id,
        title: testCase.title,
        ...testCase.shape,
        forceSync: group.forceSync,
        ...load,
        server: server.kind,
        startMs: server.startMs,
        idleRssBytes,
        peakRssBytes: server.memory()?.peakRssBytes ?? NaN,
        serverCpuPct: cpu.serverPct,
        benchCpuPct: cpu.benchPct,
        machineCpuPct: cpu.machinePct,
      });
      log(loadLine(server.kind, testCase.id, load));
    }
  } finally {
    await closeClients(clients);
  }
  return results;
}

export async function runThroughputGroup(
  group: ThroughputGroup,
  options: BenchOptions,
  log: (line: string) => void,
): Promise<GroupRun> {
  const run: GroupRun = { results: [], versions: {} };
  for (const kind of options.servers) {
    throwIfAborted();
    const server = await startServer(kind, {
      forceSync: group.forceSync,
      zkHeapMb: options.zkHeapMb,
      paddockEnv: profileEnv(options, group.id),
    });
    try {
      run.versions[kind] = versionOf(await server.srvr());
      run.results.push(...(await runOnServer(group, server, options, log)));
    } finally {
      await server.stop();
    }
  }
  return run;
}

const PROFILER_MODULE = join(dirname(fileURLToPath(import.meta.url)), 'cpu-profiler.js');
let profileSerial = 0;

/** Environment for Paddock when --cpu-prof was given: a preload that writes a .cpuprofile at exit. */
export function profileEnv(options: BenchOptions, name: string): NodeJS.ProcessEnv {
  if (options.cpuProfDir === null) return {};
  const existing = process.env.NODE_OPTIONS ?? '';
  return {
    NODE_OPTIONS: `${existing} --import ${PROFILER_MODULE}`.trim(),
    PADDOCK_CPU_PROFILE: join(options.cpuProfDir, `paddock-${name}-${++profileSerial}.cpuprofile`),
  };
}
