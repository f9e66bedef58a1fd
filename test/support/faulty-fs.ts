/**
 * A FileSystem for storage tests: Node's real one (src/storage/fs.ts) on a temp dir, with
 * faults a test switches on and off:
 *
 * - a full disk: writes succeed until a byte budget is used up; the write that crosses it
 *   writes the bytes that still fit (a partial write, as a real disk does) and then fails
 *   with ENOSPC, and so does every later write until the budget is lifted;
 * - failing fsyncs (EIO by default);
 * - slow fsyncs: a fixed delay, or a gate the test holds and releases;
 * - counters of writes, bytes and syncs, and a hook that runs before each write (to change
 *   a tree while a snapshot is being written, at a known point).
 *
 * Errors look like Node's: an Error with `code`, `errno`, `syscall` and `path`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFileSystem } from '../../src/storage/index.js';
import type { FileSystem, StorageFile } from '../../src/storage/index.js';

const ERRNO: Record<string, { errno: number; text: string }> = {
  ENOSPC: { errno: -28, text: 'no space left on device' },
  EIO: { errno: -5, text: 'i/o error' },
  EDQUOT: { errno: -122, text: 'disk quota exceeded' },
};

/** An error shaped as Node's fs errors are: `ENOSPC: no space left on device, write '/x'`. */
export function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const known = ERRNO[code] ?? { errno: -1, text: code.toLowerCase() };
  const error: NodeJS.ErrnoException = new Error(`${code}: ${known.text}, ${syscall} '${path}'`);
  error.code = code;
  error.errno = known.errno;
  error.syscall = syscall;
  error.path = path;
  return error;
}

/** What happened, in order: lets a test check that a sync covered the writes before it. */
export interface FsEvent {
  seq: number;
  kind: 'write' | 'sync-start' | 'sync-end' | 'sync-failed';
  path: string;
  bytes?: number;
}

const MAX_EVENTS = 100_000;

export class FaultyFileSystem implements FileSystem {
  /** Bytes written through this file system (only the bytes that reached the real file). */
  writtenBytes = 0;
  writes = 0;
  /** File syncs that completed (not directory syncs). */
  syncCount = 0;
  syncDirCount = 0;
  /** Sequence number of the last write, and the last write a completed sync covers. */
  lastWriteSeq = 0;
  syncedUpToSeq = 0;
  readonly events: FsEvent[] = [];
  /** Runs before each write; may change state the writer is about to read (snapshot tests). */
  beforeWrite: ((path: string, sizeBytes: number) => void) | null = null;
  /** Each sync waits this long before it starts (a slow disk). */
  syncDelayMs = 0;

  private seq = 0;
  private budgetBytes: number | null = null;
  private writeErrorCode = 'ENOSPC';
  private syncErrorCode: string | null = null;
  private syncGate: Promise<void> | null = null;
  private releaseGate: (() => void) | null = null;
  private syncsStarted = 0;
  private syncWaiters: Array<() => void> = [];

  constructor(
    /** The directory this file system's tests work in (see create()). */
    readonly dir: string,
    private readonly inner: FileSystem = nodeFileSystem,
  ) {}

  /** A faulty file system over a fresh temp dir; `cleanup()` removes the dir. */
  static async create(prefix = 'paddock-storage-'): Promise<FaultyFileSystem> {
    return new FaultyFileSystem(await mkdtemp(join(tmpdir(), prefix)));
  }

  async cleanup(): Promise<void> {
    this.releaseSyncs();
    await rm(this.dir, { recursive: true, force: true });
  }

  // ---- fault switches ----

  /** Writes fail with `code` once `bytes` more bytes were written (0: the next write fails at once). */
  failWritesAfter(bytes: number, code = 'ENOSPC'): void {
    this.budgetBytes = this.writtenBytes + Math.max(0, bytes);
    this.writeErrorCode = code;
  }

  /** A disk that holds `totalBytes` written through this file system in all. */
  setCapacity(totalBytes: number): void {
    this.budgetBytes = totalBytes;
    this.writeErrorCode = 'ENOSPC';
  }

  /** Every later sync fails with `code` (null: syncs work again). */
  failSyncs(code: string | null = 'EIO'): void {
    this.syncErrorCode = code;
  }

  /** Syncs block (after starting) until releaseSyncs(). */
  holdSyncs(): void {
    if (this.syncGate) return;
    this.syncGate = new Promise<void>((resolve) => (this.releaseGate = resolve));
  }

  releaseSyncs(): void {
    const release = this.releaseGate;
    this.syncGate = null;
    this.releaseGate = null;
    release?.();
  }

  /** Lifts every fault. */
  heal(): void {
    this.budgetBytes = null;
    this.syncErrorCode = null;
    this.syncDelayMs = 0;
    this.beforeWrite = null;
    this.releaseSyncs();
  }

  /** Resolves once `count` file syncs have started in all; fails after `timeoutMs`. */
  async waitForSyncStarts(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.syncsStarted < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.syncsStarted} of ${count} syncs started within ${timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        timer = setTimeout(resolve, left);
        this.syncWaiters.push(resolve);
      });
      clearTimeout(timer);
    }
  }

  get startedSyncs(): number {
    return this.syncsStarted;
  }

  // ---- what the file handles call ----

  private record(kind: FsEvent['kind'], path: string, bytes?: number): number {
    const seq = ++this.seq;
    if (this.events.length < MAX_EVENTS) this.events.push({ seq, kind, path, bytes });
    return seq;
  }

  /** How many of `size` bytes may be written now. */
  private allowance(size: number): number {
    if (this.budgetBytes === null) return size;
    return Math.max(0, Math.min(size, this.budgetBytes - this.writtenBytes));
  }

  async writeAt(file: StorageFile, path: string, data: Buffer, position: number): Promise<void> {
    this.beforeWrite?.(path, data.length);
    const allowed = this.allowance(data.length);
    if (allowed > 0) {
      await file.write(allowed === data.length ? data : data.subarray(0, allowed), position);
      this.writtenBytes += allowed;
      this.writes++;
      this.lastWriteSeq = this.record('write', path, allowed);
    }
    if (allowed < data.length) throw errnoError(this.writeErrorCode, 'write', path);
  }

  async syncFile(file: StorageFile, path: string): Promise<void> {
    const covers = this.seq;
    this.record('sync-start', path);
    this.syncsStarted++;
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const wake of waiters) wake();
    if (this.syncDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.syncDelayMs));
    if (this.syncGate) await this.syncGate;
    if (this.syncErrorCode !== null) {
      this.record('sync-failed', path);
      throw errnoError(this.syncErrorCode, 'fdatasync', path);
    }
    await file.sync();
    this.syncCount++;
    this.syncedUpToSeq = Math.max(this.syncedUpToSeq, covers);
    this.record('sync-end', path);
  }

  // ---- FileSystem ----

  async create(path: string): Promise<StorageFile> {
    return new FaultyFile(this, await this.inner.create(path), path);
  }

  async openExisting(path: string): Promise<StorageFile> {
    return new FaultyFile(this, await this.inner.openExisting(path), path);
  }

  readFile(path: string): Promise<Buffer> {
    return this.inner.readFile(path);
  }

  list(dir: string): Promise<string[]> {
    return this.inner.list(dir);
  }

  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }

  remove(path: string): Promise<void> {
    return this.inner.remove(path);
  }

  mkdirp(dir: string): Promise<void> {
    return this.inner.mkdirp(dir);
  }

  async syncDir(dir: string): Promise<void> {
    await this.inner.syncDir(dir);
    this.syncDirCount++;
  }

  sizeOf(path: string): Promise<number> {
    return this.inner.sizeOf(path);
  }

  truncateFile(path: string, sizeBytes: number): Promise<void> {
    return this.inner.truncateFile(path, sizeBytes);
  }
}

class FaultyFile implements StorageFile {
  constructor(
    private readonly fs: FaultyFileSystem,
    private readonly file: StorageFile,
    private readonly path: string,
  ) {}

  write(data: Buffer, position: number): Promise<void> {
    return this.fs.writeAt(this.file, this.path, data, position);
  }

  sync(): Promise<void> {
    return this.fs.syncFile(this.file, this.path);
  }

  // Growing a file with truncate allocates nothing (a sparse file), so a full disk allows it.
  truncate(sizeBytes: number): Promise<void> {
    return this.file.truncate(sizeBytes);
  }

  size(): Promise<number> {
    return this.file.size();
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
