/**
 * The transaction log: append-only segment files named by their first zxid
 * (`log.<zxid hex>`), preallocated in large blocks, one record per txn:
 *
 *   u32 bodyLength | u32 crc32(body) | body = u64 durableZxid, txn
 *
 * `durableZxid` is the last zxid that was already synced when the record's batch was
 * written. At recovery it tells a torn tail (only records of the last, unsynced batch are
 * damaged) from corruption (a record that a later batch declared durable is damaged).
 */
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { JuteReader, JuteWriter } from '../jute/index.js';
import { readTxn, writeTxn } from '../tree/index.js';
import type { Txn } from '../tree/index.js';
import type { FileSystem, StorageFile } from './fs.js';
import { truncateDurably } from './fs.js';

export const LOG_MAGIC = 0x50444c47; // "PDLG"
export const LOG_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 16;
const RECORD_HEADER_BYTES = 8;
/** A record larger than this cannot be genuine (a txn is bounded by jute.maxbuffer). */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export function segmentName(firstZxid: bigint): string {
  return `log.${BigInt.asUintN(64, firstZxid).toString(16)}`;
}

export function parseSegmentName(name: string): bigint | null {
  const match = /^log\.([0-9a-f]+)$/.exec(name);
  return match ? BigInt.asIntN(64, BigInt('0x' + match[1])) : null;
}

export interface TxnLogOptions {
  dir: string;
  fs: FileSystem;
  /** Bytes the segment grows by when it runs out of room (ZooKeeper's preAllocSize). */
  preallocBytes: number;
  /** false: no fsync (forceSync=no); records are only written. */
  forceSync: boolean;
}

export function encodeRecord(txn: Txn, durableZxid: bigint, writer: JuteWriter): void {
  const start = writer.length;
  writer.writeInt(0).writeInt(0).writeLong(durableZxid);
  writeTxn(writer, txn);
  const bytes = writer.toBuffer();
  const body = bytes.subarray(start + RECORD_HEADER_BYTES);
  bytes.writeInt32BE(body.length, start);
  bytes.writeUInt32BE(crc32(body), start + 4);
}

/** The writing side: one open segment at a time. */
export class TxnLog {
  private file: StorageFile | null = null;
  private fileName = '';
  private position = 0;
  private allocated = 0;
  private durableZxid: bigint;
  private lastZxid: bigint;
  private rollRequested = false;
  /** After a failed write or sync the file's state is unknown; nothing more may be appended. */
  private failure: Error | null = null;

  constructor(
    private readonly options: TxnLogOptions,
    lastZxid: bigint,
  ) {
    this.durableZxid = lastZxid;
    this.lastZxid = lastZxid;
  }

  get currentSegment(): string {
    return this.fileName;
  }

  /** The next append starts a new segment (after a snapshot, ZooKeeper rolls the log too). */
  roll(): void {
    this.rollRequested = true;
  }

  /**
   * Appends a batch and, with forceSync, syncs it: when this resolves, every txn in the
   * batch survives a crash. Txns must continue the log's zxid order.
   */
  async append(batch: readonly Txn[]): Promise<void> {
    if (this.failure) throw new Error(`transaction log failed earlier: ${this.failure.message}`);
    if (batch.length === 0) return;
    try {
      await this.appendBatch(batch);
    } catch (error) {
      this.failure = error as Error;
      throw error;
    }
  }

  private async appendBatch(batch: readonly Txn[]): Promise<void> {
    if (batch[0]!.zxid <= this.lastZxid) {
      throw new Error(`log append out of order: zxid 0x${batch[0]!.zxid.toString(16)} after 0x${this.lastZxid.toString(16)}`);
    }
    if (!this.file || this.rollRequested) await this.openSegment(batch[0]!.zxid);
    const writer = new JuteWriter({ capacityBytes: 512 * batch.length });
    for (const txn of batch) encodeRecord(txn, this.durableZxid, writer);
    const bytes = writer.toBuffer();
    const file = this.file!;
    if (this.position + bytes.length + RECORD_HEADER_BYTES > this.allocated) {
      const needed = this.position + bytes.length + RECORD_HEADER_BYTES;
      this.allocated = Math.ceil(needed / this.options.preallocBytes) * this.options.preallocBytes;
      await file.truncate(this.allocated);
    }
    await file.write(bytes, this.position);
    this.position += bytes.length;
    this.lastZxid = batch[batch.length - 1]!.zxid;
    if (this.options.forceSync) await file.sync();
    this.durableZxid = this.lastZxid;
  }

  private async openSegment(firstZxid: bigint): Promise<void> {
    await this.close();
    this.rollRequested = false;
    const name = segmentName(firstZxid);
    const file = await this.options.fs.create(join(this.options.dir, name));
    const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
    header.writeUInt32BE(LOG_MAGIC, 0);
    header.writeUInt32BE(LOG_VERSION, 4);
    header.writeBigInt64BE(firstZxid, 8);
    this.allocated = this.options.preallocBytes;
    await file.truncate(this.allocated);
    await file.write(header, 0);
    await file.sync();
    await this.options.fs.syncDir(this.options.dir);
    this.file = file;
    this.fileName = name;
    this.position = SEGMENT_HEADER_BYTES;
  }

  /**
   * Drops every logged txn after `zxid` (a TRUNC from an ensemble's leader): later segments
   * are removed, the one holding `zxid` is cut after its record, and the next append starts a
   * new segment. Durable when it resolves. The caller waits for appends in flight first.
   */
  async truncateAfter(zxid: bigint): Promise<void> {
    await this.close();
    const { fs, dir } = this.options;
    const segments = await listSegments(fs, dir);
    for (const segment of segments) if (segment.firstZxid > zxid) await fs.remove(join(dir, segment.name));
    const keep = segments.filter((segment) => segment.firstZxid <= zxid).at(-1);
    if (keep !== undefined) {
      const file = join(dir, keep.name);
      const bytes = await fs.readFile(file);
      let offset = SEGMENT_HEADER_BYTES;
      for (;;) {
        const record = readRecord(bytes, offset);
        if (record === null || typeof record === 'string' || record.txn.zxid > zxid) break;
        offset = record.next;
      }
      await truncateDurably(fs, file, offset);
    }
    await fs.syncDir(dir);
    this.lastZxid = zxid;
    this.durableZxid = zxid;
    this.rollRequested = true;
  }

  /** Forgets the whole log (a SNAP replaced the state): the next append starts after `zxid`. */
  async resetTo(zxid: bigint): Promise<void> {
    await this.close();
    const { fs, dir } = this.options;
    for (const segment of await listSegments(fs, dir)) await fs.remove(join(dir, segment.name));
    await fs.syncDir(dir);
    this.lastZxid = zxid;
    this.durableZxid = zxid;
    this.rollRequested = true;
  }

  async close(): Promise<void> {
    const file = this.file;
    this.file = null;
    if (file) await file.close();
  }
}

// ---- reading ----

export interface SegmentScan {
  file: string;
  firstZxid: bigint;
  txns: Txn[];
  /** Offset just past the last good record. */
  goodEnd: number;
  /** Where reading stopped on a damaged record, if it did. */
  damage?: { offset: number; reason: string; laterDurableZxid: bigint | null | 'unknown' };
}

export class LogCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`transaction log ${file} is corrupt at offset ${offset}: ${reason}`);
    this.name = 'LogCorruptError';
  }
}

interface RecordAt {
  txn: Txn;
  durableZxid: bigint;
  next: number;
}

/** Reads the record at `offset`; null at the end (zero length), a string when damaged. */
function readRecord(bytes: Buffer, offset: number): RecordAt | null | string {
  if (offset + RECORD_HEADER_BYTES > bytes.length) {
    return bytes.subarray(offset).every((b) => b === 0) ? null : 'truncated record header';
  }
  const length = bytes.readInt32BE(offset);
  if (length === 0) return bytes.readUInt32BE(offset + 4) === 0 ? null : 'zero length with a checksum';
  if (length < 8 || length > MAX_RECORD_BYTES || offset + RECORD_HEADER_BYTES + length > bytes.length) {
    return `impossible record length ${length}`;
  }
  const body = bytes.subarray(offset + RECORD_HEADER_BYTES, offset + RECORD_HEADER_BYTES + length);
  if (crc32(body) !== bytes.readUInt32BE(offset + 4)) return 'checksum mismatch';
  try {
    const reader = new JuteReader(body);
    const durableZxid = reader.readLong();
    const txn = readTxn(reader);
    if (reader.remaining !== 0) return 'trailing bytes in record';
    return { txn, durableZxid, next: offset + RECORD_HEADER_BYTES + length };
  } catch (error) {
    return `undecodable record: ${(error as Error).message}`;
  }
}

const ZERO_BLOCK = Buffer.alloc(64 * 1024);

/** Offset just past the last non-zero byte at or after `from`; `from` when all are zero. */
function endOfData(bytes: Buffer, from: number): number {
  let end = bytes.length;
  while (end > from) {
    const start = Math.max(from, end - ZERO_BLOCK.length);
    if (!bytes.subarray(start, end).equals(ZERO_BLOCK.subarray(0, end - start))) {
      while (bytes[end - 1] === 0) end--;
      return end;
    }
    end = start;
  }
  return from;
}

/** Bytes of checksum work the search for later records may do before it gives up. */
const LATER_RECORD_SEARCH_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * After a damaged record: the largest durableZxid of any intact record further on. It first
 * follows the damaged record's own length (a flipped payload byte leaves it intact), then
 * tries every offset, since a damaged length field hides where the next record starts.
 * 'unknown' when the search ran out of budget.
 */
function laterDurableZxid(bytes: Buffer, damagedAt: number): bigint | null | 'unknown' {
  const end = endOfData(bytes, damagedAt);
  let best: bigint | null = null;
  const consider = (zxid: bigint) => {
    if (best === null || zxid > best) best = zxid;
  };
  if (damagedAt + RECORD_HEADER_BYTES <= end) {
    const claimed = bytes.readInt32BE(damagedAt);
    let offset = damagedAt + RECORD_HEADER_BYTES + claimed;
    for (let record = claimed >= 8 ? readRecord(bytes, offset) : null; record !== null && typeof record !== 'string'; record = readRecord(bytes, offset)) {
      consider(record.durableZxid);
      offset = record.next;
    }
    if (best !== null) return best;
  }
  let budget = LATER_RECORD_SEARCH_BUDGET_BYTES;
  for (let offset = damagedAt + 1; offset + RECORD_HEADER_BYTES < end; offset++) {
    const length = bytes.readInt32BE(offset);
    if (length < 8 || offset + RECORD_HEADER_BYTES + length > end) continue;
    budget -= length;
    if (budget < 0) return best ?? 'unknown';
    const found = readRecord(bytes, offset);
    if (found !== null && typeof found !== 'string') consider(found.durableZxid);
  }
  return best;
}

export async function scanSegment(fs: FileSystem, dir: string, name: string): Promise<SegmentScan> {
  const file = join(dir, name);
  const bytes = await fs.readFile(file);
  const firstZxid = parseSegmentName(name) ?? 0n;
  const scan: SegmentScan = { file, firstZxid, txns: [], goodEnd: Math.min(bytes.length, SEGMENT_HEADER_BYTES) };
  if (bytes.length < SEGMENT_HEADER_BYTES || bytes.readUInt32BE(0) !== LOG_MAGIC) {
    // A segment whose header never reached the disk holds no acknowledged txn.
    const blank = endOfData(bytes, 0) === 0;
    scan.damage = { offset: 0, reason: blank ? 'empty segment' : 'bad segment header', laterDurableZxid: blank ? null : laterDurableZxid(bytes, 0) };
    scan.goodEnd = 0;
    return scan;
  }
  let offset = SEGMENT_HEADER_BYTES;
  for (;;) {
    const record = readRecord(bytes, offset);
    if (record === null) {
      // A zero header ends the log only if nothing but zeros follows: a zeroed sector in the
      // middle of the log is damage like any other, not a silent end.
      if (endOfData(bytes, offset) > offset) {
        scan.damage = { offset, reason: 'zeroed record header with data after it', laterDurableZxid: laterDurableZxid(bytes, offset) };
      }
      break;
    }
    if (typeof record === 'string') {
      scan.damage = { offset, reason: record, laterDurableZxid: laterDurableZxid(bytes, offset) };
      break;
    }
    scan.txns.push(record.txn);
    offset = record.next;
  }
  scan.goodEnd = offset;
  return scan;
}

export async function listSegments(fs: FileSystem, dir: string): Promise<Array<{ name: string; firstZxid: bigint }>> {
  const names = await fs.list(dir);
  return names
    .map((name) => ({ name, firstZxid: parseSegmentName(name) }))
    .filter((entry): entry is { name: string; firstZxid: bigint } => entry.firstZxid !== null)
    .sort((a, b) => (a.firstZxid < b.firstZxid ? -1 : a.firstZxid > b.firstZxid ? 1 : 0));
}
