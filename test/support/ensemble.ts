/**
 * A real Paddock ensemble on loopback for tests: N `paddock start --config` child processes,
 * each with its own zoo.cfg (server.N lines with free ports), data dir and myid. Members can
 * be killed (any signal), restarted on the same data dir, stopped and continued.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZooKeeperClient } from '../../src/client/index.js';
import { freePort } from './free-port.js';
import { PADDOCK_MAIN, fourLetterWord } from './paddock.js';

export interface Member {
  readonly id: number;
  readonly clientPort: number;
  readonly quorumPort: number;
  readonly electionPort: number;
  readonly observer: boolean;
  readonly dataDir: string;
  readonly configFile: string;
  child: ChildProcess | null;
  /** stderr of every run of this member, concatenated (JSON log lines). */
  stderr: string;
}

export interface EnsembleOptions {
  voters: number;
  observers?: number;
  /** Extra zoo.cfg lines for every member. */
  settings?: Record<string, string>;
  /**
   * Server lines in the 3.5+ form that carry each member's client address:
   * `server.N=127.0.0.1:q:e:participant;127.0.0.1:clientPort`, and no clientPort or
   * clientPortAddress key: each member listens where its own line says.
   */
  clientAddressOnServerLines?: boolean;
}

export type Mode = 'leader' | 'follower' | 'observer' | 'standalone' | 'not serving' | 'down';

export class Ensemble {
  private constructor(
    readonly members: Member[],
    private readonly root: string,
  ) {}

  static async create(options: EnsembleOptions): Promise<Ensemble> {
    const root = await mkdtemp(join(tmpdir(), 'paddock-ensemble-'));
    const total = options.voters + (options.observers ?? 0);
    const ports: number[] = [];
    while (ports.length < total * 3) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const members: Member[] = [];
    for (let i = 0; i < total; i++) {
      const id = i + 1;
      const dataDir = join(root, `member${id}`);
      members.push({
        id,
        clientPort: ports[i * 3]!,
        quorumPort: ports[i * 3 + 1]!,
        electionPort: ports[i * 3 + 2]!,
        observer: i >= options.voters,
        dataDir,
        configFile: join(dataDir, 'zoo.cfg'),
        child: null,
        stderr: '',
      });
    }
    const { mkdir } = await import('node:fs/promises');
    for (const m of members) {
      await mkdir(m.dataDir, { recursive: true });
      await writeFile(join(m.dataDir, 'myid'), `${m.id}\n`);
      const lines: Record<string, string> = {
        tickTime: '100',
        initLimit: '20',
        syncLimit: '5',
        dataDir: m.dataDir,
        ...(options.clientAddressOnServerLines ? {} : { clientPort: String(m.clientPort), clientPortAddress: '127.0.0.1' }),
        '4lw.commands.whitelist': '*',
        forceSync: 'yes',
        ...options.settings,
      };
      const servers = members.map((s) =>
        options.clientAddressOnServerLines
          ? `server.${s.id}=127.0.0.1:${s.quorumPort}:${s.electionPort}:${s.observer ? 'observer' : 'participant'};127.0.0.1:${s.clientPort}`
          : `server.${s.id}=127.0.0.1:${s.quorumPort}:${s.electionPort}${s.observer ? ':observer' : ''}`,
      );
      await writeFile(m.configFile, [...Object.entries(lines).map(([k, v]) => `${k}=${v}`), ...servers].join('\n') + '\n');
    }
    return new Ensemble(members, root);
  }

  get connectString(): string {
    return this.members.map((m) => `127.0.0.1:${m.clientPort}`).join(',');
  }

  member(id: number): Member {
    const m = this.members.find((x) => x.id === id);
    if (!m) throw new Error(`no member ${id}`);
    return m;
  }

  start(id: number): void {
    const m = this.member(id);
    if (m.child !== null) throw new Error(`member ${id} is running`);
    const child = spawn(process.execPath, [PADDOCK_MAIN, 'start', '--config', m.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (chunk: Buffer) => {
      m.stderr += chunk.toString('utf8');
      if (m.stderr.length > 2_000_000) m.stderr = m.stderr.slice(-1_000_000);
    });
    child.once('exit', () => {
      if (m.child === child) m.child = null;
    });
    m.child = child;
  }

  startAll(): void {
    for (const m of this.members) this.start(m.id);
  }

  /** Sends `signal`; for SIGKILL/SIGTERM waits until the process is gone. */
  async signal(id: number, signal: NodeJS.Signals): Promise<void> {
    const m = this.member(id);
    const child = m.child;
    if (child === null) return;
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
      child.kill(signal);
      return;
    }
    const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    m.child = null;
  }

  async mode(id: number): Promise<Mode> {
    const m = this.member(id);
    if (m.child === null) return 'down';
    const reply = await fourLetterWord(m.clientPort, 'srvr', 1000).catch(() => '');
    const match = /Mode: (\w+)/.exec(reply);
    if (match) return match[1] as Mode;
    return 'not serving';
  }

  async modes(): Promise<Map<number, Mode>> {
    const result = new Map<number, Mode>();
    for (const m of this.members) result.set(m.id, await this.mode(m.id));
    return result;
  }

  /** Waits until exactly one running member leads and every other running one serves; returns the leader's id. */
  async waitStable(timeoutMs = 20_000, ids?: number[]): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last = new Map<number, Mode>();
    for (let attempt = 0; attempt < 2000 && Date.now() < deadline; attempt++) {
      last = await this.modes();
      const running = [...last].filter(([id, mode]) => mode !== 'down' && (ids === undefined || ids.includes(id)));
      const leaders = running.filter(([, mode]) => mode === 'leader');
      if (leaders.length === 1 && running.every(([id, mode]) => mode === 'leader' || mode === 'follower' || mode === (this.member(id).observer ? 'observer' : 'follower'))) {
        return leaders[0]![0];
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`ensemble not stable within ${timeoutMs} ms: ${JSON.stringify([...last])}\n${this.tails()}`);
  }

  tails(lines = 15): string {
    return this.members.map((m) => `--- member ${m.id}\n${m.stderr.trim().split('\n').slice(-lines).join('\n')}`).join('\n');
  }

  /** The whole tree (below /, without /zookeeper) as seen by one member, after a sync. */
  async dumpTree(id: number): Promise<string> {
    const client = await ZooKeeperClient.connect({ connectString: `127.0.0.1:${this.member(id).clientPort}`, sessionTimeoutMs: 4000 });
    try {
      await client.sync('/');
      const out: string[] = [];
      const walk = async (path: string): Promise<void> => {
        const { data, stat } = await client.getData(path);
        out.push(`${path} ${Buffer.from(data ?? Buffer.alloc(0)).toString('hex')} ${JSON.stringify(stat, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
        const children = (await client.getChildren(path)).sort();
        for (const child of children) {
          const full = path === '/' ? `/${child}` : `${path}/${child}`;
          if (full === '/zookeeper') continue;
          await walk(full);
        }
      };
      await walk('/');
      return out.join('\n');
    } finally {
      await client.close();
    }
  }

  /** Every running member's tree, compared: throws with the first difference. */
  async assertTreesIdentical(ids?: number[]): Promise<string> {
    const running = this.members.filter((m) => m.child !== null && (ids === undefined || ids.includes(m.id)));
    const dumps = await Promise.all(running.map((m) => this.dumpTree(m.id)));
    for (let i = 1; i < dumps.length; i++) {
      if (dumps[i] !== dumps[0]) {
        const a = dumps[0]!.split('\n');
        const b = dumps[i]!.split('\n');
        const at = a.findIndex((line, k) => line !== b[k]);
        throw new Error(`member ${running[i]!.id} differs from member ${running[0]!.id} at line ${at}:\n${a[at]}\n${b[at]}`);
      }
    }
    return dumps[0] ?? '';
  }

  async stop(): Promise<void> {
    for (const m of this.members) {
      if (m.child !== null) {
        m.child.kill('SIGCONT');
        await this.signal(m.id, 'SIGKILL');
      }
    }
    await rm(this.root, { recursive: true, force: true });
  }
}
