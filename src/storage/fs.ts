/**
 * The small file-system surface storage needs. The real one is Node's; tests and the
 * simulator put their own behind it (a full disk, a slow fsync, a crash that loses what
 * was not synced).
 */
import { open as openFile, readFile, readdir, rename, rm, mkdir, stat, truncate } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

export interface StorageFile {
  /** Writes all of `data` at `position`. */
  write(data: Buffer, position: number): Promise<void>;
  /** fdatasync: data (and the size) is on disk when it resolves. */
  sync(): Promise<void>;
  truncate(sizeBytes: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export interface FileSystem {
  /** Creates a new file; fails if it exists. */
  create(path: string): Promise<StorageFile>;
  /** Opens an existing file for reading and writing. */
  openExisting(path: string): Promise<StorageFile>;
  readFile(path: string): Promise<Buffer>;
  list(dir: string): Promise<string[]>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  mkdirp(dir: string): Promise<void>;
  /** Makes a directory's entries (created, renamed, removed files) durable. */
  syncDir(dir: string): Promise<void>;
  sizeOf(path: string): Promise<number>;
  truncateFile(path: string, sizeBytes: number): Promise<void>;
}

class NodeFile implements StorageFile {
  constructor(private readonly handle: FileHandle) {}

  async write(data: Buffer, position: number): Promise<void> {
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await this.handle.write(data, written, data.length - written, position + written);
      if (bytesWritten <= 0) throw new Error('write made no progress');
      written += bytesWritten;
    }
  }

  sync(): Promise<void> {
    return this.handle.datasync();
  }

  truncate(sizeBytes: number): Promise<void> {
    return this.handle.truncate(sizeBytes);
  }

  async size(): Promise<number> {
    return (await this.handle.stat()).size;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

export const nodeFileSystem: FileSystem = {
  async create(path) {
    return new NodeFile(await openFile(path, 'wx+'));
  },
  async openExisting(path) {
    return new NodeFile(await openFile(path, 'r+'));
  },
  readFile: (path) => readFile(path),
  list: (dir) => readdir(dir),
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { force: true }),
  async mkdirp(dir) {
    await mkdir(dir, { recursive: true });
  },
  async syncDir(dir) {
    const handle = await openFile(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  async sizeOf(path) {
    return (await stat(path)).size;
  },
  truncateFile: (path, sizeBytes) => truncate(path, sizeBytes),
};

/**
 * Cuts a file and makes the cut durable: a truncation that only reached the page cache
 * comes undone in a crash, bringing back records that recovery or a TRUNC removed.
 */
export async function truncateDurably(fs: FileSystem, path: string, sizeBytes: number): Promise<void> {
  const file = await fs.openExisting(path);
  try {
    await file.truncate(sizeBytes);
    await file.sync();
  } finally {
    await file.close();
  }
}
