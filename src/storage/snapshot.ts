/**
 * Snapshots of the tree and the sessions, written while the server keeps serving.
 *
 * A snapshot is exact at its zxid, not fuzzy: nodes are written a chunk at a time between
 * turns of the event loop, and a txn about to change a node that has not been written yet
 * first hands over its pre-image (DataTree.observeChanges), so the file holds the tree as it
 * was at the zxid it is named after. Recovery then replays the log from that zxid on.
 *
 * File: `snapshot.<zxid hex>`:
 *   header  u32 magic "PDSN" | u32 version | u64 zxid | u32 flags (bit 0: deflate)
 *   frames  u32 rawLength | u32 storedLength | stored bytes ... (rawLength 0 ends them)
 *   trailer u32 crc32(everything before the trailer) | u32 magic "PDSE"
 * The frames' raw bytes: u32 sessionCount, (u64 id, u32 timeoutMs)*, then node records
 * (u8 1, path, data, acl, StatPersisted) and a final u8 0.
 */
import { crc32, deflateRaw, inflateRawSync } from 'node:zlib';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { ACLCodec, JuteReader, JuteWriter, StatPersistedCodec } from '../jute/index.js';
import { DataTree } from '../tree/index.js';
import type { NodeRecord, ZNode } from '../tree/index.js';
import type { FileSystem } from './fs.js';

const deflate = promisify(deflateRaw);

export const SNAPSHOT_MAGIC = 0x5044534e; // "PDSN"
const SNAPSHOT_END_MAGIC = 0x50445345; // "PDSE"
const SNAPSHOT_VERSION = 1;
const HEADER_BYTES = 20;
const TRAILER_BYTES = 8;
const FLAG_DEFLATE = 1;
const CHUNK_BYTES = 1024 * 1024;

export function snapshotName(zxid: bigint): string {
  return `snapshot.${BigInt.asUintN(64, zxid).toString(16)}`;
}

export function parseSnapshotName(name: string): bigint | null {
  const match = /^snapshot\.([0-9a-f]+)$/.exec(name);
  return match ? BigInt.asIntN(64, BigInt('0x' + match[1])) : null;
}

export class SnapshotCorruptError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`snapshot ${file} is unusable: ${reason}`);
    this.name = 'SnapshotCorruptError';
  }
}

function writeNode(writer: JuteWriter, path: string, node: ZNode): void {
  writer.writeBool(true).writeString(path).writeBuffer(node.data);
  writer.writeVector(node.acl, ACLCodec.write);
  StatPersistedCodec.write(writer, {
    czxid: node.czxid,
    mzxid: node.mzxid,
    ctime: BigInt(node.ctimeMs),
    mtime: BigInt(node.mtimeMs),
    version: node.version,
    cversion: node.cversion,
    aversion: node.aversion,
    ephemeralOwner: node.ephemeralOwner,
    pzxid: node.pzxid,
  });
}

export interface SnapshotWriteOptions {
  fs: FileSystem;
  dir: string;
  compress: boolean;
}

/** Writes a snapshot of `tree` as of now; resolves with its file name once it is durable. */
export async function writeSnapshot(tree: DataTree, options: SnapshotWriteOptions): Promise<{ name: string; zxid: bigint; sizeBytes: number }> {
  const zxid = tree.lastProcessedZxid;
  const sessions = [...tree.sessions()];
  let pending = new JuteWriter({ capacityBytes: CHUNK_BYTES + 64 * 1024 });
  const preImages = new JuteWriter();
  // Nodes this snapshot has written; a set of its own, so snapshots can overlap (an ensemble
  // leader serialising a SNAP while the periodic snapshot runs).
  const written = new WeakSet<object>();
  const stopObserving = tree.observeChanges((path, node) => {
    if (written.has(node) || node.czxid > zxid) return;
    writeNode(preImages, path, node);
    written.add(node);
  });
  const name = snapshotName(zxid);
  const tmpPath = join(options.dir, `${name}.tmp`);
  await options.fs.remove(tmpPath);
  const file = await options.fs.create(tmpPath);
  let position = 0;
  let crc = 0;
  const put = async (bytes: Buffer) => {
    crc = crc32(bytes, crc);
    await file.write(bytes, position);
    position += bytes.length;
  };
  const putFrame = async (raw: Buffer) => {
    const stored = options.compress ? await deflate(raw) : raw;
    const head = Buffer.alloc(8);
    head.writeUInt32BE(raw.length, 0);
    head.writeUInt32BE(stored.length, 4);
    await put(Buffer.concat([head, stored]));
  };
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32BE(SNAPSHOT_MAGIC, 0);
    header.writeUInt32BE(SNAPSHOT_VERSION, 4);
    header.writeBigInt64BE(zxid, 8);
    header.writeUInt32BE(options.compress ? FLAG_DEFLATE : 0, 16);
    await put(header);
    pending.writeInt(sessions.length);
    for (const [id, timeoutMs] of sessions) pending.writeLong(id).writeInt(timeoutMs);
    for (const [path, node] of tree.entries()) {
      if (written.has(node) || node.czxid > zxid) continue;
      writeNode(pending, path, node);
      written.add(node);
      if (pending.length >= CHUNK_BYTES) {
        const chunk = pending.toBuffer();
        pending = new JuteWriter({ capacityBytes: CHUNK_BYTES + 64 * 1024 });
        // Awaiting the write lets the event loop serve requests between chunks.
        await putFrame(Buffer.from(chunk));
      }
    }
    stopObserving();
    pending.writeRaw(preImages.toBuffer());
    pending.writeBool(false);
    await putFrame(Buffer.from(pending.toBuffer()));
    // The end frame is never compressed: it is eight bytes of zeros.
    await put(Buffer.alloc(8));
    const trailer = Buffer.alloc(TRAILER_BYTES);
    trailer.writeUInt32BE(crc, 0);
    trailer.writeUInt32BE(SNAPSHOT_END_MAGIC, 4);
    await file.write(trailer, position);
    position += TRAILER_BYTES;
    await file.sync();
  } finally {
    stopObserving();
    await file.close();
  }
  await options.fs.rename(tmpPath, join(options.dir, name));
  await options.fs.syncDir(options.dir);
  return { name, zxid, sizeBytes: position };
}

export interface LoadedSnapshot {
  zxid: bigint;
  tree: DataTree;
}

/** Reads and verifies a snapshot file; throws SnapshotCorruptError when it cannot be trusted. */
export async function readSnapshot(fs: FileSystem, dir: string, name: string): Promise<LoadedSnapshot> {
  const file = join(dir, name);
  const bytes = await fs.readFile(file);
  return parseSnapshot(bytes, file);
}

export function verifySnapshotBytes(bytes: Buffer, file: string): { zxid: bigint; compressed: boolean } {
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) throw new SnapshotCorruptError(file, `only ${bytes.length} bytes`);
  if (bytes.readUInt32BE(0) !== SNAPSHOT_MAGIC) throw new SnapshotCorruptError(file, 'bad magic');
  if (bytes.readUInt32BE(4) !== SNAPSHOT_VERSION) throw new SnapshotCorruptError(file, `unknown version ${bytes.readUInt32BE(4)}`);
  const trailerAt = bytes.length - TRAILER_BYTES;
  if (bytes.readUInt32BE(trailerAt + 4) !== SNAPSHOT_END_MAGIC) throw new SnapshotCorruptError(file, 'no trailer (incomplete file)');
  if (crc32(bytes.subarray(0, trailerAt)) !== bytes.readUInt32BE(trailerAt)) throw new SnapshotCorruptError(file, 'checksum mismatch');
  return { zxid: bytes.readBigInt64BE(8), compressed: (bytes.readUInt32BE(16) & FLAG_DEFLATE) !== 0 };
}

function parseSnapshot(bytes: Buffer, file: string): LoadedSnapshot {
  const { zxid, compressed } = verifySnapshotBytes(bytes, file);
  const trailerAt = bytes.length - TRAILER_BYTES;
  const raws: Buffer[] = [];
  let offset = HEADER_BYTES;
  for (;;) {
    if (offset + 8 > trailerAt) throw new SnapshotCorruptError(file, `frame header past the end at ${offset}`);
    const rawLength = bytes.readUInt32BE(offset);
    const storedLength = bytes.readUInt32BE(offset + 4);
    offset += 8;
    if (rawLength === 0) {
      offset += storedLength;
      break;
    }
    if (offset + storedLength > trailerAt) throw new SnapshotCorruptError(file, `frame past the end at ${offset}`);
    const stored = bytes.subarray(offset, offset + storedLength);
    try {
      raws.push(compressed ? inflateRawSync(stored) : stored);
    } catch (error) {
      throw new SnapshotCorruptError(file, `frame at ${offset} does not inflate: ${(error as Error).message}`);
    }
    offset += storedLength;
  }
  if (offset !== trailerAt) throw new SnapshotCorruptError(file, `${trailerAt - offset} stray bytes before the trailer`);
  const reader = new JuteReader(Buffer.concat(raws));
  try {
    const sessions: Array<[bigint, number]> = [];
    const sessionCount = reader.readInt();
    for (let i = 0; i < sessionCount; i++) sessions.push([reader.readLong(), reader.readInt()]);
    const records: NodeRecord[] = [];
    while (reader.readBool()) {
      const path = reader.readText();
      const data = Buffer.from(reader.readBuffer() ?? Buffer.alloc(0));
      const acl = reader.readVector(ACLCodec.read);
      const stat = StatPersistedCodec.read(reader);
      records.push({
        path,
        data,
        acl,
        czxid: stat.czxid,
        mzxid: stat.mzxid,
        pzxid: stat.pzxid,
        ctimeMs: Number(stat.ctime),
        mtimeMs: Number(stat.mtime),
        version: stat.version,
        cversion: stat.cversion,
        aversion: stat.aversion,
        ephemeralOwner: stat.ephemeralOwner,
      });
    }
    return { zxid, tree: DataTree.restore(records, sessions, zxid) };
  } catch (error) {
    throw new SnapshotCorruptError(file, (error as Error).message);
  }
}

export async function listSnapshots(fs: FileSystem, dir: string): Promise<Array<{ name: string; zxid: bigint }>> {
  const names = await fs.list(dir);
  return names
    .map((name) => ({ name, zxid: parseSnapshotName(name) }))
    .filter((entry): entry is { name: string; zxid: bigint } => entry.zxid !== null)
    .sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
}

/** Parses verified snapshot bytes (e.g. a SNAP from an ensemble's leader) into a tree. */
export function parseSnapshotBytes(bytes: Buffer, source: string): LoadedSnapshot {
  return parseSnapshot(bytes, source);
}

/**
 * The tree as of now, as snapshot bytes handed to `sink` in order (for an ensemble's SNAP,
 * streamed to a learner). Like a snapshot to disk it is written a chunk at a time, so the event
 * loop keeps serving meanwhile, it is exact at the zxid the tree had when this was called, and
 * the next piece is not produced before `sink` resolves (the sink paces the serialisation). A
 * sink that throws stops it.
 */
export async function streamSnapshot(tree: DataTree, compress: boolean, sink: (bytes: Buffer) => Promise<void>): Promise<{ zxid: bigint; sizeBytes: number }> {
  let streamed = 0;
  const file = {
    write: async (data: Buffer, position: number) => {
      // writeSnapshot writes front to back; a sink cannot seek.
      if (position !== streamed) throw new Error(`snapshot write at ${position}, streamed ${streamed}`);
      streamed += data.length;
      await sink(Buffer.from(data));
    },
    sync: async () => undefined,
    truncate: async () => undefined,
    size: async () => streamed,
    close: async () => undefined,
  };
  const stream: FileSystem = {
    create: async () => file,
    openExisting: async () => file,
    readFile: async () => Buffer.alloc(0),
    list: async () => [],
    rename: async () => undefined,
    remove: async () => undefined,
    mkdirp: async () => undefined,
    syncDir: async () => undefined,
    sizeOf: async () => 0,
    truncateFile: async () => undefined,
  };
  const { zxid, sizeBytes } = await writeSnapshot(tree, { fs: stream, dir: '/stream', compress });
  return { zxid, sizeBytes };
}

/** The tree as of now, as snapshot bytes in memory (see streamSnapshot). */
export async function snapshotToBuffer(tree: DataTree, compress: boolean): Promise<Buffer> {
  const parts: Buffer[] = [];
  await streamSnapshot(tree, compress, async (bytes) => void parts.push(bytes));
  return Buffer.concat(parts);
}
