/**
 * The two servers under test behind one small interface: Paddock as a real `paddock start`
 * child process, and Apache ZooKeeper 3.8 (Debian package) as a real JVM. One runs at a time.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApacheZooKeeper, fourLetterWord } from '../test/support/apache-zookeeper.js';
import { freePort } from '../test/support/free-port.js';
import { PADDOCK_MAIN, startProcess } from '../test/support/paddock.js';
import { readMemory } from './proc.js';
import type { Memory } from './proc.js';
import { trackPid } from './lifecycle.js';

export type ServerKind = 'paddock' | 'zookeeper';
export const SERVER_KINDS: readonly ServerKind[] = ['paddock', 'zookeeper'];
export const SERVER_LABEL: Record<ServerKind, string> = { paddock: 'Paddock', zookeeper: 'ZooKeeper' };

export interface BenchServer {
  readonly kind: ServerKind;
  readonly pid: number;
  readonly port: number;
  readonly connectString: string;
  /** The dataDir the server was given. */
  readonly dataDir: string;
  /** Where its snapshots and txn logs are (a subfolder of dataDir). */
  readonly storageDir: string;
  /** From spawn until it answered (ruok for Paddock, srvr with a Mode for ZooKeeper). */
  readonly startMs: number;
  srvr(): Promise<string>;
  memory(): Memory | null;
  /** SIGTERM, wait (bounded, then SIGKILL); resolves with the time the process took to exit. */
  stop(): Promise<number>;
}

export interface ServerSettings {
  /** false: forceSync=no (writes are acknowledged before they reach the disk). */
  forceSync: boolean;
  /** -Xmx of the ZooKeeper JVM. */
  zkHeapMb: number;
  /** A dataDir to use and keep (the restart case); by default each server gets a temporary one. */
  dataDir?: string;
  /** Extra environment for the Paddock process (e.g. NODE_OPTIONS=--cpu-prof). */
  paddockEnv?: NodeJS.ProcessEnv;
  /** How long to wait for the server to answer. */
  startTimeoutMs?: number;
}

const TICK_TIME_MS = 2000;
const STOP_TIMEOUT_MS = 60_000;

/** A standalone zoo.cfg as both servers get it (ZooKeeper's defaults apart from these). */
export function zooCfgLines(dataDir: string, port: number, forceSync: boolean): Record<string, string> {
  return {
    tickTime: String(TICK_TIME_MS),
    dataDir,
    clientPort: String(port),
    clientPortAddress: '127.0.0.1',
    '4lw.commands.whitelist': '*',
    ...(forceSync ? {} : { forceSync: 'no' }),
  };
}

/** Resolves true once the process is gone (polling its PID), false after timeoutMs. */
async function waitForPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < timeoutMs / 20 + 1 && Date.now() < deadline; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await sleep(20);
  }
  return false;
}

function waitForChildExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function startPaddockViaHelper(settings: ServerSettings): Promise<BenchServer> {
  const started = Date.now();
  const proc = await startProcess({
    settings: { tickTime: String(TICK_TIME_MS), ...(settings.forceSync ? {} : { forceSync: 'no' }) },
    ...(settings.dataDir ? { dataDir: settings.dataDir } : {}),
    env: settings.paddockEnv ?? {},
  });
  const startMs = Date.now() - started;
  const untrack = trackPid(proc.pid);
  return {
    kind: 'paddock',
    pid: proc.pid,
    port: proc.port,
    connectString: proc.connectString,
    dataDir: proc.dataDir,
    storageDir: join(proc.dataDir, 'paddock-v1'),
    startMs,
    srvr: () => fourLetterWord('127.0.0.1', proc.port, 'srvr', 5000),
    memory: () => readMemory(proc.pid),
    async stop() {
      const t0 = Date.now();
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
      if (!(await waitForChildExit(proc.child, STOP_TIMEOUT_MS))) proc.child.kill('SIGKILL');
      const stopMs = Date.now() - t0;
      await proc.stop(); // already exited: removes its own temporary dataDir, if it made one
      untrack();
      return stopMs;
    },
  };
}

/**
 * Paddock on an existing dataDir, polled every `pollIntervalMs` until it answers ruok — the
 * same cadence as the ZooKeeper helper's srvr polling, so restart times compare fairly.
 * (test/support's startProcess gives up after 15 s; recovering a large tree may take longer.)
 */
async function startPaddockDirect(settings: ServerSettings & { dataDir: string }): Promise<BenchServer> {
  const port = await freePort();
  const configFile = join(settings.dataDir, 'zoo.cfg');
  const lines = zooCfgLines(settings.dataDir, port, settings.forceSync);
  await writeFile(configFile, Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const started = Date.now();
  const child = spawn(process.execPath, [PADDOCK_MAIN, 'start', '--config', configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...settings.paddockEnv },
  });
  const pid = child.pid!;
  const untrack = trackPid(pid);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-200_000);
  });
  const timeoutMs = settings.startTimeoutMs ?? 300_000;
  const deadline = started + timeoutMs;
  let ready = false;
  for (let i = 0; i < timeoutMs / 100 + 1 && Date.now() < deadline; i++) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    const reply = await fourLetterWord('127.0.0.1', port, 'ruok', 1000).catch(() => '');
    if (reply === 'imok') {
      ready = true;
      break;
    }
    await sleep(100);
  }
  if (!ready) {
    child.kill('SIGKILL');
    untrack();
    throw new Error(`paddock did not answer within ${timeoutMs} ms (exit ${child.exitCode}):\n${stderr.slice(-4000)}`);
  }
  const startMs = Date.now() - started;
  return {
    kind: 'paddock',
    pid,
    port,
    connectString: `127.0.0.1:${port}`,
    dataDir: settings.dataDir,
    storageDir: join(settings.dataDir, 'paddock-v1'),
    startMs,
    srvr: () => fourLetterWord('127.0.0.1', port, 'srvr', 5000),
    memory: () => readMemory(pid),
    async stop() {
      const t0 = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      if (!(await waitForChildExit(child, STOP_TIMEOUT_MS))) child.kill('SIGKILL');
      untrack();
      return Date.now() - t0;
    },
  };
}

async function startZooKeeper(settings: ServerSettings): Promise<BenchServer> {
  const started = Date.now();
  const zk = await startApacheZooKeeper({
    tickTime: TICK_TIME_MS,
    forceSync: settings.forceSync,
    heapMb: settings.zkHeapMb,
    startTimeoutMs: settings.startTimeoutMs ?? 60_000,
    ...(settings.dataDir ? { extraConfig: { dataDir: settings.dataDir } } : {}),
  });
  const startMs = Date.now() - started;
  const untrack = trackPid(zk.pid);
  const dataDir = settings.dataDir ?? zk.dataDir;
  return {
    kind: 'zookeeper',
    pid: zk.pid,
    port: zk.port,
    connectString: zk.connectString,
    dataDir,
    storageDir: join(dataDir, 'version-2'),
    startMs,
    srvr: () => fourLetterWord('127.0.0.1', zk.port, 'srvr', 5000),
    memory: () => readMemory(zk.pid),
    async stop() {
      const t0 = Date.now();
      zk.signal('SIGTERM');
      if (!(await waitForPidExit(zk.pid, STOP_TIMEOUT_MS))) zk.signal('SIGKILL');
      const stopMs = Date.now() - t0;
      await zk.stop(); // removes the helper's own directory (not a dataDir we passed in)
      untrack();
      return stopMs;
    },
  };
}

/**
 * Starts one server. Paddock without a dataDir goes through test/support's startProcess;
 * with one (the restart case) it is spawned here, so that a long recovery is waited for.
 */
export async function startServer(kind: ServerKind, settings: ServerSettings): Promise<BenchServer> {
  if (kind === 'zookeeper') return startZooKeeper(settings);
  if (settings.dataDir !== undefined) return startPaddockDirect({ ...settings, dataDir: settings.dataDir });
  return startPaddockViaHelper(settings);
}

/** The "Node count: N" line of srvr; NaN when missing. */
export function nodeCountOf(srvr: string): number {
  const match = /^Node count: (\d+)/m.exec(srvr);
  return match ? Number(match[1]) : NaN;
}

/** The "Zookeeper version: ..." line of srvr (without the label). */
export function versionOf(srvr: string): string {
  return /^Zookeeper version: (.*)$/m.exec(srvr)?.[1]?.trim() ?? 'unknown';
}
