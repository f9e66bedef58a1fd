/**
 * Starting Paddock for tests: in this process (fast, for unit and protocol tests) or as a
 * real `paddock start` child process on a free port (for interop and crash tests).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PaddockServer, buildConfig, parseProperties, silentLogger } from '../../src/server/index.js';

export interface InProcessPaddock {
  readonly server: PaddockServer;
  readonly port: number;
  readonly connectString: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

/** `settings` are zoo.cfg lines (key → value) on top of a fast-ticking loopback default. */
export async function startInProcess(settings: Record<string, string> = {}): Promise<InProcessPaddock> {
  const dataDir = await mkdtemp(join(tmpdir(), 'paddock-test-'));
  const entries = parseProperties(`tickTime=100\ndataDir=${dataDir}\nclientPort=0\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\n`);
  for (const [key, value] of Object.entries(settings)) entries.set(key, value);
  const config = buildConfig(entries, { baseDir: dataDir, env: {} });
  const server = new PaddockServer(config, silentLogger());
  await server.start();
  const port = server.address().port;
  return {
    server,
    port,
    connectString: `127.0.0.1:${port}`,
    dataDir,
    async stop() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
export const PADDOCK_MAIN = join(REPO_ROOT, 'dist/src/cli/main.js');

export interface PaddockProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly connectString: string;
  readonly dataDir: string;
  readonly configFile: string;
  /** Everything the process wrote to stderr so far (its JSON log). */
  log(): string;
  /** SIGKILL, no cleanup: for crash tests. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM, wait, remove the data dir. */
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; Date.now() < deadline && attempt < 1000; attempt++) {
    if (child.exitCode !== null) throw new Error(`paddock exited with code ${child.exitCode} before serving`);
    const reply = await fourLetterWord(port, 'ruok', 1000).catch(() => '');
    if (reply === 'imok') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`paddock did not answer on port ${port} within ${timeoutMs} ms`);
}

/** Sends a four-letter word and returns the whole reply. */
export function fourLetterWord(port: number, word: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolveReply, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${word}: no reply in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(word));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolveReply(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

export interface ProcessOptions {
  /** Extra zoo.cfg lines. */
  settings?: Record<string, string>;
  /** Reuse a data dir (restart after a crash); it is then not removed by stop(). */
  dataDir?: string;
  port?: number;
  env?: NodeJS.ProcessEnv;
}

export async function startProcess(options: ProcessOptions = {}): Promise<PaddockProcess> {
  const { freePort } = await import('./free-port.js');
  const port = options.port ?? (await freePort());
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'paddock-proc-')));
  const lines: Record<string, string> = {
    tickTime: '200',
    dataDir,
    clientPort: String(port),
    clientPortAddress: '127.0.0.1',
    '4lw.commands.whitelist': '*',
    ...options.settings,
  };
  const configFile = join(dataDir, 'zoo.cfg');
  await writeFile(configFile, Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const child = spawn(process.execPath, [PADDOCK_MAIN, 'start', '--config', configFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  try {
    await waitForPort(port, child, 15_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    process.off('exit', killOnExit);
  };
  return {
    child,
    pid: child.pid!,
    port,
    connectString: `127.0.0.1:${port}`,
    dataDir,
    configFile,
    log: () => stderr,
    kill: (signal = 'SIGKILL') => stopWith(signal),
    async stop() {
      await stopWith('SIGTERM');
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Waits until the process log matches `pattern` (the log is written asynchronously); false after `timeoutMs`. */
export async function waitForLog(paddock: PaddockProcess, pattern: RegExp, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 1000 && Date.now() < deadline; attempt++) {
    if (pattern.test(paddock.log())) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return pattern.test(paddock.log());
}
