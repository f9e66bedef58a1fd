/**
 * Shared by the storage tests: a temp-dir FaultyFileSystem per test file, a seeded workload of
 * valid txns, a comparable dump of a tree, a recovery log that keeps its warnings, writing
 * batches to a TxnLog while remembering where each record landed, and a deadline for a promise.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after } from 'node:test';
import { JuteWriter, OpCode, Err } from '../../../src/jute/index.js';
import type { ACL } from '../../../src/jute/index.js';
import { DataTree, OPEN_ACL_UNSAFE, statOf, childPath } from '../../../src/tree/index.js';
import type { Txn, TxnBody } from '../../../src/tree/index.js';
import { TxnLog, encodeRecord, SEGMENT_HEADER_BYTES, recover } from '../../../src/storage/index.js';
import type { FileSystem, Recovered } from '../../../src/storage/index.js';
import { FaultyFileSystem } from '../../support/faulty-fs.js';

import { randInt } from '../../support/random.js';
export { prng, randInt } from '../../support/random.js';

export interface FileSystemForThisFile {
  fs: FaultyFileSystem;
  /** A new, empty, numbered subdirectory of fs.dir: no test sees another's segments or snapshots. */
  freshDir(): Promise<string>;
}

/**
 * One FaultyFileSystem for the whole test file (created at import, so that the file's helpers
 * can close over it), over a temp dir named with `prefix` and removed after the file's tests.
 */
export async function fileSystemForThisFile(prefix: string): Promise<FileSystemForThisFile> {
  const fs = await FaultyFileSystem.create(prefix);
  after(() => fs.cleanup());
  let dirCount = 0;
  return {
    fs,
    async freshDir() {
      const dir = join(fs.dir, `d${++dirCount}`);
      await fs.mkdirp(dir);
      return dir;
    },
  };
}

function randomBytes(random: () => number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

const DIGEST_ACL: ACL[] = [
  { perms: 31, id: { scheme: 'digest', id: 'alice:Zm9vYmFy' } },
  { perms: 1, id: { scheme: 'world', id: 'anyone' } },
];

export const BASE_TIME_MS = 1_700_000_000_000;

/**
 * Produces valid txns (as the leader's prep would: versions and parent cversions filled in)
 * from a model tree that it applies them to: creates (persistent and ephemeral, nested),
 * setData, setACL, deletes of leaves, sessions opening and closing, error txns and multis.
 */
export class Workload {
  readonly model = new DataTree();
  readonly txns: Txn[] = [];
  private zxid: bigint;
  private nameCounter = 0;
  private readonly paths: string[] = [];
  private readonly liveSessions: bigint[] = [];
  private nextSession = 0x1000n;
  private readonly dataBytes: [number, number];

  constructor(
    private readonly random: () => number,
    options: { firstZxid?: bigint; dataBytes?: [number, number] } = {},
  ) {
    this.zxid = (options.firstZxid ?? 1n) - 1n;
    this.dataBytes = options.dataBytes ?? [0, 48];
  }

  get lastZxid(): bigint {
    return this.zxid;
  }

  private data(): Buffer {
    const big = this.random() < 0.03;
    return randomBytes(this.random, big ? randInt(this.random, 1000, 3000) : randInt(this.random, this.dataBytes[0], this.dataBytes[1]));
  }

  private livePath(): string | null {
    for (let tries = 0; tries < 8 && this.paths.length > 0; tries++) {
      const index = randInt(this.random, 0, this.paths.length - 1);
      const path = this.paths[index]!;
      if (this.model.get(path)) return path;
      this.paths[index] = this.paths[this.paths.length - 1]!;
      this.paths.pop();
    }
    return null;
  }

  private createBody(sessionOwner: bigint): TxnBody {
    const parent = this.random() < 0.4 ? '/' : (this.livePath() ?? '/');
    const parentNode = this.model.get(parent)!;
    const ephemeral = parentNode.ephemeralOwner === 0n && sessionOwner !== 0n && this.random() < 0.3;
    const path = childPath(parent, `n${++this.nameCounter}`);
    if (parentNode.ephemeralOwner !== 0n) return { type: OpCode.error, err: Err.NoChildrenForEphemerals };
    return {
      type: OpCode.create,
      path,
      data: this.data(),
      acl: this.random() < 0.2 ? DIGEST_ACL : OPEN_ACL_UNSAFE,
      ephemeralOwner: ephemeral ? sessionOwner : 0n,
      parentCVersion: parentNode.cversion + 1,
    };
  }

  private body(sessionId: bigint): TxnBody {
    const roll = this.random();
    const path = this.livePath();
    if (roll < 0.35 || path === null) return this.createBody(sessionId);
    const node = this.model.get(path)!;
    if (roll < 0.6) return { type: OpCode.setData, path, data: this.data(), version: node.version + 1 };
    if (roll < 0.66) return { type: OpCode.setACL, path, acl: this.random() < 0.5 ? DIGEST_ACL : OPEN_ACL_UNSAFE, version: node.aversion + 1 };
    if (roll < 0.8) return node.children.size === 0 ? { type: OpCode.delete, path } : { type: OpCode.error, err: Err.NotEmpty };
    if (roll < 0.85) return { type: OpCode.error, err: Err.BadVersion };
    return {
      type: OpCode.multi,
      ops: [
        { type: OpCode.check, path, version: node.version },
        { type: OpCode.setData, path, data: this.data(), version: node.version + 1 },
      ],
    };
  }

  /** Applies a txn of the caller's making to the model (and records it). */
  push(body: TxnBody, sessionId = 0n): Txn {
    const txn: Txn = { sessionId, cxid: 0, zxid: ++this.zxid, timeMs: BASE_TIME_MS + Number(this.zxid), body };
    const { result } = this.model.apply(txn);
    if (body.type === OpCode.create && result.err === Err.Ok) this.paths.push(body.path);
    if (body.type === OpCode.createSession) this.liveSessions.push(sessionId);
    if (body.type === OpCode.closeSession && this.liveSessions.includes(sessionId)) this.liveSessions.splice(this.liveSessions.indexOf(sessionId), 1);
    this.txns.push(txn);
    return txn;
  }

  /** A create under `parent` as prep would build it (the parent's next cversion). */
  createUnder(parent: string, name: string, data: Buffer, ephemeralOwner = 0n): Txn {
    const parentNode = this.model.get(parent);
    assert.ok(parentNode, `${parent} exists`);
    return this.push({ type: OpCode.create, path: childPath(parent, name), data, acl: OPEN_ACL_UNSAFE, ephemeralOwner, parentCVersion: parentNode.cversion + 1 }, ephemeralOwner);
  }

  /** The next txn, already applied to the model. */
  next(): Txn {
    const zxid = ++this.zxid;
    let sessionId = this.liveSessions.length > 0 ? this.liveSessions[randInt(this.random, 0, this.liveSessions.length - 1)]! : 0n;
    let body: TxnBody;
    const roll = this.random();
    if (roll < 0.05 || this.liveSessions.length === 0) {
      sessionId = this.nextSession++;
      this.liveSessions.push(sessionId);
      body = { type: OpCode.createSession, timeoutMs: randInt(this.random, 4000, 40000) };
    } else if (roll < 0.08 && this.liveSessions.length > 1) {
      this.liveSessions.splice(this.liveSessions.indexOf(sessionId), 1);
      body = { type: OpCode.closeSession };
    } else {
      body = this.body(sessionId);
    }
    const txn: Txn = { sessionId, cxid: randInt(this.random, 0, 1 << 20), zxid, timeMs: BASE_TIME_MS + Number(zxid), body };
    const { result } = this.model.apply(txn);
    if (body.type === OpCode.create && result.err === Err.Ok) this.paths.push(body.path);
    this.txns.push(txn);
    return txn;
  }

  batch(count: number): Txn[] {
    return Array.from({ length: count }, () => this.next());
  }
}

/** A tree replayed from `txns` (those with zxid <= upTo). */
export function replay(txns: readonly Txn[], upTo = BigInt(Number.MAX_SAFE_INTEGER)): DataTree {
  const tree = new DataTree();
  for (const txn of txns) if (txn.zxid <= upTo) tree.apply(txn);
  return tree;
}

/**
 * Everything a tree holds, comparable with deepStrictEqual: one line per node (path, data,
 * ACL, every Stat field, children) sorted by path, the sessions, ephemerals by owner, the zxid.
 */
export function dumpTree(tree: DataTree): { nodes: string[]; sessions: Array<[bigint, number]>; zxid: bigint; ephemerals: string[] } {
  const nodes: string[] = [];
  for (const [path, node] of tree.entries()) {
    const stat = statOf(node);
    const acl = node.acl.map((a) => `${a.perms}:${a.id.scheme}:${a.id.id}`).join(',');
    const stats = [stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime, stat.version, stat.cversion, stat.aversion, stat.ephemeralOwner, stat.dataLength, stat.numChildren].join(' ');
    nodes.push(`${path} data=${node.data.toString('base64')} acl=${acl} stat=${stats} children=${[...node.children].sort().join(',')}`);
  }
  nodes.sort();
  const sessions = [...tree.sessions()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const owners = new Set<bigint>();
  for (const [, node] of tree.entries()) if (node.ephemeralOwner > 0n) owners.add(node.ephemeralOwner);
  const ephemerals = [...owners].sort((a, b) => (a < b ? -1 : 1)).map((owner) => `${owner}:${[...tree.ephemeralsOf(owner)].sort().join(',')}`);
  return { nodes, sessions, zxid: tree.lastProcessedZxid, ephemerals };
}

export function assertSameTree(actual: DataTree, expected: DataTree, message?: string): void {
  const a = dumpTree(actual);
  const e = dumpTree(expected);
  const where = message ? `${message}: ` : '';
  assert.equal(a.zxid, e.zxid, `${where}lastProcessedZxid`);
  assert.deepStrictEqual(a.sessions, e.sessions, `${where}sessions`);
  assert.deepStrictEqual(a.ephemerals, e.ephemerals, `${where}ephemerals`);
  // Line by line (deepStrictEqual on 20k nodes is slow); the first difference in full.
  const count = Math.max(a.nodes.length, e.nodes.length);
  for (let i = 0; i < count; i++) {
    if (a.nodes[i] !== e.nodes[i]) assert.equal(a.nodes[i], e.nodes[i], `${where}node ${i} of ${count} (${a.nodes.length} vs ${e.nodes.length} nodes)`);
  }
}

export interface Warning {
  obj: Record<string, unknown>;
  msg: string;
}

/** A RecoveryLog that keeps what it was told. */
export class CapturingLog {
  readonly warnings: Warning[] = [];
  readonly infos: Warning[] = [];
  info(obj: object, msg: string): void {
    this.infos.push({ obj: obj as Record<string, unknown>, msg });
  }
  warn(obj: object, msg: string): void {
    this.warnings.push({ obj: obj as Record<string, unknown>, msg });
  }
  error(obj: object, msg: string): void {
    this.warnings.push({ obj: obj as Record<string, unknown>, msg });
  }
}

export async function recoverDir(fs: FileSystem, dir: string, options: { truncateCorrupt?: boolean; log?: CapturingLog } = {}): Promise<Recovered & { log: CapturingLog }> {
  const log = options.log ?? new CapturingLog();
  const recovered = await recover({ fs, snapDir: dir, logDir: dir, truncateCorrupt: options.truncateCorrupt ?? false, log });
  return { ...recovered, log };
}

/** Bytes one txn takes in the log (header and body); the durableZxid does not change it. */
export function recordBytes(txn: Txn): number {
  const writer = new JuteWriter({ capacityBytes: 256 });
  encodeRecord(txn, 0n, writer);
  return writer.length;
}

export interface RecordPlace {
  txn: Txn;
  batch: number;
  segment: string;
  offset: number;
  end: number;
}

/**
 * Appends `batches` to a TxnLog in `dir` (a new segment before each batch index in
 * `rollBefore`) and returns where each record is.
 */
export async function writeBatches(
  fs: FileSystem,
  dir: string,
  batches: readonly Txn[][],
  options: { rollBefore?: ReadonlySet<number>; preallocBytes?: number; lastZxid?: bigint } = {},
): Promise<{ log: TxnLog; places: RecordPlace[] }> {
  const log = new TxnLog({ dir, fs, preallocBytes: options.preallocBytes ?? 16 * 1024, forceSync: true }, options.lastZxid ?? batches[0]![0]!.zxid - 1n);
  const places: RecordPlace[] = [];
  let segment = '';
  let offset = 0;
  for (let b = 0; b < batches.length; b++) {
    const batch = batches[b]!;
    if (options.rollBefore?.has(b)) log.roll();
    await log.append(batch);
    if (log.currentSegment !== segment) {
      segment = log.currentSegment;
      offset = SEGMENT_HEADER_BYTES;
    }
    for (const txn of batch) {
      const size = recordBytes(txn);
      places.push({ txn, batch: b, segment: join(dir, segment), offset, end: offset + size });
      offset += size;
    }
  }
  return { log, places };
}

/** Txns renumbered to follow `lastZxid` (as a restarted server numbers its next txns). */
export function continueAfter(lastZxid: bigint, txns: readonly Txn[]): Txn[] {
  return txns.map((txn, i) => ({ ...txn, zxid: lastZxid + 1n + BigInt(i) }));
}

export function splitIntoBatches(txns: readonly Txn[], random: () => number, maxBatch: number): Txn[][] {
  const batches: Txn[][] = [];
  for (let i = 0; i < txns.length; ) {
    const size = Math.min(txns.length - i, randInt(random, 1, maxBatch));
    batches.push(txns.slice(i, i + size));
    i += size;
  }
  return batches;
}

const DEADLINE_MS = 10_000;

/** `promise`, or a rejection naming `what` when it has not settled within `timeoutMs`. */
export async function bounded<T>(promise: Promise<T>, what: string, timeoutMs = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
