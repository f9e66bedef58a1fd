/**
 * An in-memory disk for one simulated member, behind storage's FileSystem, with crash
 * semantics:
 *
 * - every file (inode) has durable bytes and current bytes; `StorageFile.sync()` makes the
 *   current bytes (and size) durable;
 * - directory entries (create, rename, remove) are volatile until `syncDir` of their
 *   directory; directories themselves are durable once made;
 * - `crash()` loses everything not durable: files revert to their durable bytes, volatile
 *   entries vanish and removed ones come back. It may keep a random prefix of the last
 *   unsynced write of one file (a torn write). Operations of the crashed incarnation never
 *   complete: their promises stay pending for ever. `fs()` hands out the next incarnation's
 *   FileSystem;
 * - a full disk (`setFull`, `capacityBytes`) makes writes fail with ENOSPC;
 * - every operation completes through the kernel after a small random delay (a slow fsync
 *   takes longer), so interleavings of concurrent I/O vary with the seed.
 *
 * Errors are shaped as Node's (code, errno, syscall, path): ENOENT, EEXIST, ENOSPC, EBADF.
 */
import { posix } from 'node:path';
import type { FileSystem, StorageFile } from '../../src/storage/index.js';
import { errnoError } from '../support/faulty-fs.js';
import type { Incarnation, Kernel, Prng } from './kernel.js';

class Inode {
  current: Buffer;
  durable: Buffer;
  dirty = false;
  /** The last write since the last sync (for torn writes). */
  lastWrite: { position: number; bytes: Buffer } | null = null;
  constructor(readonly id: number) {
    this.current = Buffer.alloc(0);
    this.durable = Buffer.alloc(0);
  }
}

class Directory {
  entries = new Map<string, Inode>();
  durable = new Map<string, Inode>();
}

export interface DiskOptions {
  /** Delay of an ordinary operation, uniform in [0, maxOpDelayMs]. Default 0.2. */
  maxOpDelayMs?: number;
  /** Delay of a sync, uniform in [minSyncMs, maxSyncMs]. Defaults 0.5 and 3. */
  minSyncMs?: number;
  maxSyncMs?: number;
}

export interface CrashOptions {
  /** Keep a random prefix of the last unsynced write of one file. */
  tearLastWrite?: boolean;
}

const EXTRA_ERRNO: Record<string, number> = { ENOENT: -2, EEXIST: -17, EBADF: -9, ENOTDIR: -20 };

function fsError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const error = errnoError(code, syscall, path);
  if (EXTRA_ERRNO[code] !== undefined) error.errno = EXTRA_ERRNO[code];
  return error;
}

/** One member's disk: survives crashes; hands out a FileSystem per incarnation. */
export class SimDisk {
  private readonly dirs = new Map<string, Directory>();
  private readonly prng: Prng;
  private inodes = 0;
  private incarnation: Incarnation;
  private handle: SimFileSystem;
  private full = false;
  /** Sum of current file sizes the disk holds at most (null: unlimited). */
  capacityBytes: number | null = null;
  /** Extra sync delay, uniform in [0, slowSyncMs] (a slow disk). */
  slowSyncMs = 0;
  readonly maxOpDelayMs: number;
  readonly minSyncMs: number;
  readonly maxSyncMs: number;
  stats = { writes: 0, bytes: 0, syncs: 0, crashes: 0, torn: 0, enospc: 0 };

  constructor(
    readonly kernel: Kernel,
    readonly name: string,
    options: DiskOptions = {},
  ) {
    this.prng = kernel.prng(`disk:${name}`);
    this.maxOpDelayMs = options.maxOpDelayMs ?? 0.2;
    this.minSyncMs = options.minSyncMs ?? 0.5;
    this.maxSyncMs = options.maxSyncMs ?? 3;
    this.dirs.set('/', new Directory());
    this.incarnation = kernel.incarnation(`${name}.disk`);
    this.handle = new SimFileSystem(this, this.incarnation);
  }

  /** The FileSystem of the current incarnation. */
  fs(): SimFileSystem {
    return this.handle;
  }

  setFull(full: boolean): void {
    this.full = full;
    this.kernel.trace(`disk ${this.name}: ${full ? 'full' : 'space freed'}`);
  }

  get isFull(): boolean {
    return this.full;
  }

  /** Writes a file and makes it durable at once (setup: myid). */
  writeDurable(path: string, bytes: Buffer): void {
    const p = posix.normalize(path);
    this.mkdirpNow(posix.dirname(p));
    const dir = this.dirs.get(posix.dirname(p))!;
    const inode = new Inode(++this.inodes);
    inode.current = Buffer.from(bytes);
    inode.durable = Buffer.from(bytes);
    dir.entries.set(posix.basename(p), inode);
    dir.durable.set(posix.basename(p), inode);
  }

  /** Current contents of a file, or null (for tests and digests). */
  peek(path: string): Buffer | null {
    const p = posix.normalize(path);
    return this.dirs.get(posix.dirname(p))?.entries.get(posix.basename(p))?.current ?? null;
  }

  /** Names in a directory now. */
  peekList(dir: string): string[] {
    return [...(this.dirs.get(posix.normalize(dir))?.entries.keys() ?? [])].sort();
  }

  /** Loses what is not durable; the crashed incarnation's operations never complete. */
  crash(options: CrashOptions = {}): void {
    this.stats.crashes++;
    this.incarnation.kill();
    let tornNote = '';
    if (options.tearLastWrite) tornNote = this.tear();
    const live = new Set<Inode>();
    for (const dir of this.dirs.values()) {
      dir.entries = new Map(dir.durable);
      for (const inode of dir.entries.values()) live.add(inode);
    }
    for (const inode of live) {
      inode.current = Buffer.from(inode.durable);
      inode.dirty = false;
      inode.lastWrite = null;
    }
    this.incarnation = this.kernel.incarnation(`${this.name}.disk`);
    this.handle = new SimFileSystem(this, this.incarnation);
    this.kernel.trace(`disk ${this.name}: crash${tornNote}`);
  }

  /** Applies a prefix of one file's last unsynced write to its durable bytes. */
  private tear(): string {
    const candidates: Array<{ path: string; inode: Inode }> = [];
    for (const [dirPath, dir] of [...this.dirs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      for (const [name, inode] of [...dir.durable].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (inode.dirty && inode.lastWrite) candidates.push({ path: posix.join(dirPath, name), inode });
      }
    }
    if (candidates.length === 0) return '';
    const { path, inode } = this.prng.pick(candidates);
    const { position, bytes } = inode.lastWrite!;
    const keep = this.prng.int(bytes.length + 1);
    if (keep === 0) return '';
    const end = position + keep;
    const next = Buffer.alloc(Math.max(inode.durable.length, end));
    inode.durable.copy(next, 0);
    bytes.copy(next, position, 0, keep);
    inode.durable = next;
    this.stats.torn++;
    return ` (torn: kept ${keep} of ${bytes.length} bytes at ${position} of ${path})`;
  }

  // ---- what SimFileSystem calls, at completion time ----

  mkdirpNow(dir: string): void {
    const p = posix.normalize(dir);
    if (p === '/' || p === '.') return;
    this.mkdirpNow(posix.dirname(p));
    if (!this.dirs.has(p)) this.dirs.set(p, new Directory());
  }

  dir(path: string, syscall: string): Directory {
    const dir = this.dirs.get(posix.normalize(path));
    if (!dir) throw fsError('ENOENT', syscall, path);
    return dir;
  }

  lookup(path: string, syscall: string): Inode {
    const p = posix.normalize(path);
    const inode = this.dir(posix.dirname(p), syscall).entries.get(posix.basename(p));
    if (!inode) throw fsError('ENOENT', syscall, path);
    return inode;
  }

  newInode(): Inode {
    return new Inode(++this.inodes);
  }

  usedBytes(): number {
    const seen = new Set<Inode>();
    let total = 0;
    for (const dir of this.dirs.values())
      for (const inode of dir.entries.values())
        if (!seen.has(inode)) {
          seen.add(inode);
          total += inode.current.length;
        }
    return total;
  }

  write(inode: Inode, path: string, data: Buffer, position: number): void {
    if (this.full) {
      this.stats.enospc++;
      throw fsError('ENOSPC', 'write', path);
    }
    const end = position + data.length;
    if (this.capacityBytes !== null && end > inode.current.length && this.usedBytes() + (end - inode.current.length) > this.capacityBytes) {
      this.stats.enospc++;
      throw fsError('ENOSPC', 'write', path);
    }
    if (end > inode.current.length) {
      const grown = Buffer.alloc(end);
      inode.current.copy(grown, 0);
      inode.current = grown;
    }
    data.copy(inode.current, position);
    inode.dirty = true;
    inode.lastWrite = { position, bytes: Buffer.from(data) };
    this.stats.writes++;
    this.stats.bytes += data.length;
  }

  truncate(inode: Inode, sizeBytes: number): void {
    const next = Buffer.alloc(sizeBytes);
    inode.current.copy(next, 0, 0, Math.min(sizeBytes, inode.current.length));
    inode.current = next;
    inode.dirty = true;
  }

  sync(inode: Inode): void {
    if (inode.dirty) inode.durable = Buffer.from(inode.current);
    inode.dirty = false;
    inode.lastWrite = null;
    this.stats.syncs++;
  }

  opDelay(): number {
    return this.prng.next() * this.maxOpDelayMs;
  }

  syncDelay(): number {
    return this.prng.between(this.minSyncMs, this.maxSyncMs) + (this.slowSyncMs > 0 ? this.prng.next() * this.slowSyncMs : 0);
  }
}

/** One incarnation's view of a SimDisk. */
export class SimFileSystem implements FileSystem {
  constructor(
    readonly disk: SimDisk,
    readonly incarnation: Incarnation,
  ) {}

  /** Runs `effect` after `delayMs` through the kernel; never settles if this incarnation dies first. */
  op<T>(effect: () => T, delayMs = this.disk.opDelay()): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.disk.kernel.schedule(
        delayMs,
        () => {
          try {
            resolve(effect());
          } catch (error) {
            reject(error as Error);
          }
        },
        this.incarnation,
      );
    });
  }

  create(path: string): Promise<StorageFile> {
    return this.op(() => {
      const p = posix.normalize(path);
      const dir = this.disk.dir(posix.dirname(p), 'open');
      if (dir.entries.has(posix.basename(p))) throw fsError('EEXIST', 'open', path);
      const inode = this.disk.newInode();
      dir.entries.set(posix.basename(p), inode);
      return new SimFile(this, inode, p);
    });
  }

  openExisting(path: string): Promise<StorageFile> {
    return this.op(() => new SimFile(this, this.disk.lookup(path, 'open'), posix.normalize(path)));
  }

  readFile(path: string): Promise<Buffer> {
    return this.op(() => Buffer.from(this.disk.lookup(path, 'open').current));
  }

  list(dir: string): Promise<string[]> {
    return this.op(() => [...this.disk.dir(dir, 'scandir').entries.keys()].sort());
  }

  rename(from: string, to: string): Promise<void> {
    return this.op(() => {
      const f = posix.normalize(from);
      const t = posix.normalize(to);
      const inode = this.disk.lookup(f, 'rename');
      const target = this.disk.dir(posix.dirname(t), 'rename');
      this.disk.dir(posix.dirname(f), 'rename').entries.delete(posix.basename(f));
      target.entries.set(posix.basename(t), inode);
    });
  }

  /** As nodeFileSystem's: a missing file is not an error (rm with force). */
  remove(path: string): Promise<void> {
    return this.op(() => {
      const p = posix.normalize(path);
      this.disk.dir(posix.dirname(p), 'rm').entries.delete(posix.basename(p));
    });
  }

  mkdirp(dir: string): Promise<void> {
    return this.op(() => this.disk.mkdirpNow(dir));
  }

  syncDir(dir: string): Promise<void> {
    return this.op(() => {
      const d = this.disk.dir(dir, 'fsync');
      d.durable = new Map(d.entries);
    }, this.disk.syncDelay());
  }

  sizeOf(path: string): Promise<number> {
    return this.op(() => this.disk.lookup(path, 'stat').current.length);
  }

  truncateFile(path: string, sizeBytes: number): Promise<void> {
    return this.op(() => this.disk.truncate(this.disk.lookup(path, 'truncate'), sizeBytes));
  }
}

class SimFile implements StorageFile {
  private closed = false;

  constructor(
    private readonly fs: SimFileSystem,
    private readonly inode: Inode,
    private readonly path: string,
  ) {}

  private check(syscall: string): void {
    if (this.closed) throw fsError('EBADF', syscall, this.path);
  }

  write(data: Buffer, position: number): Promise<void> {
    const bytes = Buffer.from(data);
    return this.fs.op(() => {
      this.check('write');
      this.fs.disk.write(this.inode, this.path, bytes, position);
    });
  }

  sync(): Promise<void> {
    return this.fs.op(() => {
      this.check('fdatasync');
      this.fs.disk.sync(this.inode);
    }, this.fs.disk.syncDelay());
  }

  truncate(sizeBytes: number): Promise<void> {
    return this.fs.op(() => {
      this.check('ftruncate');
      this.fs.disk.truncate(this.inode, sizeBytes);
    });
  }

  size(): Promise<number> {
    return this.fs.op(() => {
      this.check('fstat');
      return this.inode.current.length;
    });
  }

  close(): Promise<void> {
    return this.fs.op(() => {
      this.closed = true;
    });
  }
}
