/**
 * Three-member ensembles of either server on loopback, for the ensemble case: Paddock members
 * as `paddock start --config zoo.cfg` processes, Apache ZooKeeper 3.8 members as
 * `java ... QuorumPeerMain zoo.cfg` JVMs from the Debian jars. Both get the same zoo.cfg
 * (server.N lines, tickTime, initLimit, syncLimit) and a `myid` in their dataDir. Members can
 * be SIGKILLed and started again on the same dataDir. Every process is tracked by PID
 * (lifecycle.ts), so an aborted run still kills them.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { exited, fourLetterWord, waitForExit, zooKeeperLayout } from '../test/support/apache-zookeeper.js';
import type { JavaLayout } from '../test/support/apache-zookeeper.js';
import { freePort } from '../test/support/free-port.js';
import { PADDOCK_MAIN } from '../test/support/paddock.js';
import { throwIfAborted, trackDir, trackPid } from './lifecycle.js';
import { readMemory } from './proc.js';
import type { Memory } from './proc.js';
import type { ServerKind } from './servers.js';

/** The same quorum timing for both systems (ZooKeeper's defaults are 2000 / 10 / 5). */
export const ENSEMBLE_TIMING = { tickTime: 500, initLimit: 10, syncLimit: 5 } as const;
export const ENSEMBLE_SIZE = 3;

const POLL_MS = 100;
const STOP_TIMEOUT_MS = 15_000;
const KILL_WAIT_MS = 10_000;

export type Mode = 'leader' | 'follower' | 'observer' | 'standalone' | 'not serving' | 'down';

interface MemberState {
  readonly id: number;
  readonly clientPort: number;
  readonly quorumPort: number;
  readonly electionPort: number;
  readonly dir: string;
  readonly configFile: string;
  /** stdout+stderr of the process (Paddock's JSON log; the JVM's console). */
  readonly consoleFile: string;
  /** ZooKeeper's log4j file (Paddock logs to its console file). */
  readonly logFile: string;
  child: ChildProcess | null;
  untrack: (() => void) | null;
}

export interface EnsembleSettings {
  /** -Xmx of each ZooKeeper JVM. */
  zkHeapMb: number;
  /** Extra environment for the Paddock processes (e.g. the CPU profiler preload). */
  paddockEnv?: NodeJS.ProcessEnv;
}

function log4jProperties(logFile: string): string {
  return [
    'log4j.rootLogger=INFO, FILE',
    'log4j.appender.FILE=org.apache.log4j.FileAppender',
    `log4j.appender.FILE.File=${logFile}`,
    'log4j.appender.FILE.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n',
    '',
  ].join('\n');
}

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export class BenchEnsemble {
  private constructor(
    readonly kind: ServerKind,
    private readonly members: MemberState[],
    private readonly dir: string,
    private readonly settings: EnsembleSettings,
    private readonly java: JavaLayout | undefined,
    private readonly untrackDir: () => void,
  ) {}

  /** Writes the members' configs under `root` (a fresh folder); starts nothing. */
  static async create(kind: ServerKind, root: string, settings: EnsembleSettings): Promise<BenchEnsemble> {
    const java = kind === 'zookeeper' ? zooKeeperLayout() : undefined;
    if (kind === 'zookeeper' && java === undefined) throw new Error('Apache ZooKeeper is not installed (java and /usr/share/java/zookeeper.jar)');
    const dir = join(root, `${kind}-ensemble`);
    await mkdir(dir, { recursive: true });
    const untrackDir = trackDir(dir);
    const ports: number[] = [];
    for (let attempt = 0; ports.length < ENSEMBLE_SIZE * 3 && attempt < 100; attempt++) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    if (ports.length < ENSEMBLE_SIZE * 3) throw new Error('could not find free ports');
    const members: MemberState[] = [];
    for (let i = 0; i < ENSEMBLE_SIZE; i++) {
      const memberDir = join(dir, `member${i + 1}`);
      members.push({
        id: i + 1,
        clientPort: ports[3 * i]!,
        quorumPort: ports[3 * i + 1]!,
        electionPort: ports[3 * i + 2]!,
        dir: memberDir,
        configFile: join(memberDir, 'zoo.cfg'),
        consoleFile: join(memberDir, 'console.log'),
        logFile: join(memberDir, 'zookeeper.log'),
        child: null,
        untrack: null,
      });
    }
    const serverLines = members.map((m) => `server.${m.id}=127.0.0.1:${m.quorumPort}:${m.electionPort}`);
    for (const m of members) {
      const dataDir = join(m.dir, 'data');
      await mkdir(dataDir, { recursive: true });
      await writeFile(join(dataDir, 'myid'), `${m.id}\n`);
      const lines: Record<string, string> = {
        tickTime: String(ENSEMBLE_TIMING.tickTime),
        initLimit: String(ENSEMBLE_TIMING.initLimit),
        syncLimit: String(ENSEMBLE_TIMING.syncLimit),
        dataDir,
        clientPort: String(m.clientPort),
        clientPortAddress: '127.0.0.1',
        '4lw.commands.whitelist': '*',
        ...(kind === 'zookeeper' ? { 'admin.enableServer': 'false' } : {}),
      };
      await writeFile(m.configFile, [...Object.entries(lines).map(([k, v]) => `${k}=${v}`), ...serverLines].join('\n') + '\n');
      if (kind === 'zookeeper') await writeFile(join(m.dir, 'log4j.properties'), log4jProperties(m.logFile));
    }
    return new BenchEnsemble(kind, members, dir, settings, java, untrackDir);
  }

  get ids(): number[] {
    return this.members.map((m) => m.id);
  }

  /** All members, `first` (if given) first and the others in id order. */
  connectString(first?: number): string {
    const ordered = [...this.members].sort((a, b) => (a.id === first ? -1 : b.id === first ? 1 : a.id - b.id));
    return ordered.map((m) => `127.0.0.1:${m.clientPort}`).join(',');
  }

  /** Only this member. */
  memberConnectString(id: number): string {
    return `127.0.0.1:${this.member(id).clientPort}`;
  }

  pid(id: number): number | null {
    return this.member(id).child?.pid ?? null;
  }

  pids(): number[] {
    return this.members.flatMap((m) => (m.child?.pid === undefined ? [] : [m.child.pid]));
  }

  memory(id: number): Memory | null {
    const pid = this.pid(id);
    return pid === null ? null : readMemory(pid);
  }

  private member(id: number): MemberState {
    const found = this.members.find((m) => m.id === id);
    if (!found) throw new Error(`no member ${id}`);
    return found;
  }

  /** Spawns the member (its dataDir is kept between runs). */
  start(id: number): void {
    const m = this.member(id);
    if (m.child !== null) throw new Error(`member ${id} is running`);
    const out = openSync(m.consoleFile, 'a');
    let child: ChildProcess;
    try {
      if (this.kind === 'paddock') {
        child = spawn(process.execPath, [PADDOCK_MAIN, 'start', '--config', m.configFile], {
          stdio: ['ignore', out, out],
          env: { ...process.env, ...this.settings.paddockEnv },
        });
      } else {
        const props: Record<string, string> = {
          'log4j.configuration': `file:${join(m.dir, 'log4j.properties')}`,
          'zookeeper.log.dir': m.dir,
          'zookeeper.jmx.log4j.disable': 'true',
          'java.net.preferIPv4Stack': 'true',
        };
        const args = [
          `-Xmx${this.settings.zkHeapMb}m`,
          '-XX:-UsePerfData',
          ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
          '-cp',
          this.java!.classpath,
          'org.apache.zookeeper.server.quorum.QuorumPeerMain',
          m.configFile,
        ];
        child = spawn(this.java!.java, args, { cwd: m.dir, stdio: ['ignore', out, out] });
      }
    } finally {
      closeSync(out);
    }
    if (child.pid === undefined) throw new Error(`could not spawn member ${id}`);
    child.on('error', () => undefined); // a spawn failure shows as 'down' and in the wait's error
    const untrack = trackPid(child.pid);
    m.child = child;
    m.untrack = untrack;
    child.once('exit', () => {
      untrack();
      if (m.child === child) {
        m.child = null;
        m.untrack = null;
      }
    });
  }

  startAll(): void {
    for (const m of this.members) this.start(m.id);
  }

  /** SIGKILL (by PID) and wait until the process is gone. */
  async kill(id: number): Promise<void> {
    const m = this.member(id);
    const child = m.child;
    if (child === null) return;
    child.kill('SIGKILL');
    if (!(await waitForExit(child, KILL_WAIT_MS))) throw new Error(`member ${id} (pid ${child.pid}) did not exit after SIGKILL`);
  }

  async mode(id: number): Promise<Mode> {
    const m = this.member(id);
    if (m.child === null || exited(m.child)) return 'down';
    const reply = await fourLetterWord('127.0.0.1', m.clientPort, 'srvr', 1000).catch(() => '');
    const match = /^Mode: (\w+)/m.exec(reply);
    return match ? (match[1] as Mode) : 'not serving';
  }

  async srvr(id: number): Promise<string> {
    return fourLetterWord('127.0.0.1', this.member(id).clientPort, 'srvr', 5000);
  }

  /**
   * Waits until every member runs and serves: one leader, the others followers. Resolves
   * with the leader's id; throws after `timeoutMs` with the modes and the members' log tails.
   */
  async waitAllServing(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let modes: Mode[] = [];
    for (let attempt = 0; attempt < timeoutMs / POLL_MS + 1 && Date.now() < deadline; attempt++) {
      throwIfAborted();
      modes = await Promise.all(this.members.map((m) => this.mode(m.id)));
      const leaders = modes.flatMap((mode, i) => (mode === 'leader' ? [this.members[i]!.id] : []));
      if (leaders.length === 1 && modes.every((mode) => mode === 'leader' || mode === 'follower')) return leaders[0]!;
      await sleep(POLL_MS);
    }
    throw new Error(`${this.kind} ensemble not serving within ${timeoutMs} ms (modes ${modes.join(', ')})\n${this.tails()}`);
  }

  /** The last lines each member logged (for error messages). */
  tails(lines = 12): string {
    return this.members
      .map((m) => `--- member ${m.id}\n${tailOf(this.kind === 'zookeeper' ? m.logFile : m.consoleFile, lines)}${this.kind === 'zookeeper' ? '\n' + tailOf(m.consoleFile, 5) : ''}`)
      .join('\n');
  }

  /** SIGTERM every member (SIGKILL after a bound), then removes the ensemble's folder. */
  async stop(): Promise<void> {
    const running = this.members.flatMap((m) => (m.child === null ? [] : [m.child]));
    for (const child of running) child.kill('SIGTERM');
    for (const child of running) {
      if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
        child.kill('SIGKILL');
        await waitForExit(child, KILL_WAIT_MS);
      }
    }
    await rm(this.dir, { recursive: true, force: true });
    this.untrackDir();
  }
}
