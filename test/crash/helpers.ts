/**
 * Shared by the crash tests: a seeded PRNG, deadlines, four-letter-word and `paddock datadir`
 * helpers, a plain `paddock start` spawner (for CLI flags startProcess does not pass), and a
 * reader of the log segment format that tells where each record starts and ends.
 *
 * Every wait here has a deadline; every process spawned here is killed by its PID.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { JuteReader } from '../../src/jute/index.js';
import { readTxn } from '../../src/tree/index.js';
import { ZooKeeperClient } from '../../src/client/index.js';
import { PADDOCK_MAIN, fourLetterWord } from '../support/paddock.js';

export { prng, randInt } from '../support/random.js';

/** The seed from PADDOCK_CRASH_SEED (decimal or 0x hex), or a fresh one. */
export function seedFromEnv(): number {
  const raw = process.env.PADDOCK_CRASH_SEED;
  if (raw !== undefined && raw !== '') return Number(raw) >>> 0;
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects with a message naming `what` when `promise` does not settle within `ms`. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`deadline: ${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` every `everyMs` until it holds; throws after `ms`. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, ms: number, what: string, everyMs = 20): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`deadline: ${what} not reached within ${ms} ms`);
    await sleep(everyMs);
  }
}

export const hex = (zxid: bigint): string => '0x' + BigInt.asUintN(64, zxid).toString(16);

/** The server's last zxid as `srvr` reports it ("Zxid: 0x..."). */
export async function srvrZxid(port: number): Promise<bigint> {
  const reply = await fourLetterWord(port, 'srvr', 3000);
  const match = /^Zxid: (0x[0-9a-fA-F]+|-?\d+)\s*$/m.exec(reply);
  if (!match) throw new Error(`srvr reply has no Zxid line:\n${reply}`);
  return BigInt.asIntN(64, BigInt(match[1]!));
}

/** Parsed JSON lines of a pino log; lines that are not JSON are skipped. */
export function logEntries(log: string): Array<Record<string, unknown>> {
  const entries: Array<Record<string, unknown>> = [];
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      entries.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by the kill
    }
  }
  return entries;
}

/** The `recovered` entry of a server's log: the zxid recovery ended at. */
export function recoveredZxid(log: string): bigint {
  const entry = logEntries(log).find((e) => e.msg === 'recovered');
  if (!entry || typeof entry.lastZxid !== 'string') throw new Error(`no 'recovered' line with lastZxid in the server log:\n${log.slice(-4000)}`);
  return BigInt.asIntN(64, BigInt('0x' + entry.lastZxid));
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/src/cli/main.js ...args` to its end (killed by PID after `timeoutMs`). */
export function runPaddock(args: string[], timeoutMs = 20_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PADDOCK_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`paddock ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface DatadirReport extends CommandResult {
  segmentLines: string[];
  snapshotLines: string[];
  damagedSegments: string[];
  damagedSnapshots: string[];
  gaps: string[];
}

/** `paddock datadir --data-dir DIR`, with its report split into lines of interest. */
export async function runDatadir(dataDir: string): Promise<DatadirReport> {
  const result = await runPaddock(['datadir', '--data-dir', dataDir]);
  const lines = result.stdout.split('\n');
  const segmentLines = lines.filter((l) => /^\s+log\.[0-9a-f]+\s/.test(l));
  const snapshotLines = lines.filter((l) => /^\s+snapshot\.[0-9a-f]+\s/.test(l));
  return {
    ...result,
    segmentLines,
    snapshotLines,
    damagedSegments: segmentLines.filter((l) => l.includes('DAMAGED')),
    damagedSnapshots: snapshotLines.filter((l) => l.includes('DAMAGED')),
    gaps: lines.filter((l) => l.startsWith('GAP')),
  };
}

/** A `paddock start` child spawned with arbitrary arguments; kill() only ever signals its PID. */
export interface SpawnedPaddock {
  readonly child: ChildProcess;
  readonly pid: number;
  stderr(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when `ruok` answers `imok`; rejects if the process exits first or after `ms`. */
  ready(port: number, ms?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const spawned = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export function spawnPaddock(args: string[]): SpawnedPaddock {
  const child = spawn(process.execPath, [PADDOCK_MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  spawned.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      spawned.delete(child);
      resolve({ code, signal });
    }),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    child,
    pid: child.pid!,
    stderr: () => stderr,
    exited,
    async ready(port: number, ms = 15_000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (gone) throw new Error(`paddock exited before serving:\n${stderr}`);
        const reply = await fourLetterWord(port, 'ruok', 1000).catch(() => '');
        if (reply === 'imok') return;
        await sleep(50);
      }
      throw new Error(`paddock did not answer on port ${port} within ${ms} ms:\n${stderr}`);
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (!gone) child.kill(signal);
      await withDeadline(exited, 10_000, `exit of paddock pid ${child.pid}`).catch(async (error: Error) => {
        child.kill('SIGKILL');
        await exited;
        throw error;
      });
    },
  };
}

export async function connectClient(connectString: string, sessionTimeoutMs = 4000): Promise<ZooKeeperClient> {
  return withDeadline(
    ZooKeeperClient.connect({ connectString, sessionTimeoutMs, connectTimeoutMs: 1000, maxReconnectDelayMs: 50 }),
    sessionTimeoutMs + 2000,
    `connect to ${connectString}`,
  );
}

// ---- the log segment format (see src/storage/txnlog.ts) ----

export const STORAGE_SUBDIR = 'paddock-v1';
export const SEGMENT_HEADER_BYTES = 16;
const RECORD_HEADER_BYTES = 8;

export interface LogRecord {
  /** Offset of the record's length field. */
  offset: number;
  /** Offset just past the record. */
  end: number;
  zxid: bigint;
  durableZxid: bigint;
}

/** The records of a segment, in order, up to the first zero length (the preallocated tail). */
export function segmentRecords(bytes: Buffer): LogRecord[] {
  const records: LogRecord[] = [];
  let offset = SEGMENT_HEADER_BYTES;
  while (offset + RECORD_HEADER_BYTES <= bytes.length) {
    const length = bytes.readInt32BE(offset);
    if (length <= 0 || offset + RECORD_HEADER_BYTES + length > bytes.length) break;
    const reader = new JuteReader(bytes.subarray(offset + RECORD_HEADER_BYTES, offset + RECORD_HEADER_BYTES + length));
    const durableZxid = reader.readLong();
    const txn = readTxn(reader);
    records.push({ offset, end: offset + RECORD_HEADER_BYTES + length, zxid: txn.zxid, durableZxid });
    offset += RECORD_HEADER_BYTES + length;
  }
  return records;
}

/** Storage files of a data dir, oldest first. */
export async function storageFiles(dataDir: string): Promise<{ dir: string; segments: string[]; snapshots: string[] }> {
  const dir = join(dataDir, STORAGE_SUBDIR);
  const names = await readdir(dir);
  const byZxid = (prefix: string) =>
    names
      .filter((n) => new RegExp(`^${prefix}\\.[0-9a-f]+$`).test(n))
      .sort((a, b) => {
        const za = BigInt('0x' + a.slice(prefix.length + 1));
        const zb = BigInt('0x' + b.slice(prefix.length + 1));
        return za < zb ? -1 : za > zb ? 1 : 0;
      });
  return { dir, segments: byZxid('log'), snapshots: byZxid('snapshot') };
}
