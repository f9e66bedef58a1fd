/**
 * ZooKeeperClient: ZooKeeper's operations as promises over the pipelined connection of
 * ClientCore. Each op validates its path, encodes its frame at once (header and body, one
 * buffer sized up front) and submits it; its promise settles when the reply comes back.
 */
import {
  ACLCodec,
  AddWatchMode,
  AuthPacketCodec,
  CreateFlag,
  Err,
  EventType,
  KeeperState,
  MultiRequestCodec,
  MultiResponseCodec,
  OpCode,
  WatcherType,
  Xid,
  errorName,
} from '../jute/index.js';
import type { ACL, ClientInfo, JuteReader, JuteWriter, MultiOp, MultiResult, Stat } from '../jute/index.js';
import { invalidPathReason } from '../tree/index.js';
import { ClientCore } from './core.js';
import { ZooKeeperError } from './errors.js';
import {
  AuthEntry,
  EMPTY_DATA,
  Request,
  decodeACL,
  decodeChildren,
  decodeChildren2,
  decodeCreate2,
  decodeData,
  decodeEphemerals,
  decodeInt,
  decodeNothing,
  decodePath,
  decodeStat,
  decodeWhoAmI,
  maxUtf8Bytes,
  requestWriter,
} from './requests.js';
import type { ACLResult, ChildrenResult, CreateResult, DataResult, Decoder } from './requests.js';
import { OPEN_ACL_UNSAFE } from './types.js';
import type {
  ConnectOptions,
  CreateMode,
  CreateOptions,
  Data,
  Op,
  OpResult,
  PersistentWatchMode,
  ReadOp,
  WatchCallback,
  WatchedEvent,
  WatchType,
} from './types.js';
import { WatchKind } from './watches.js';
import type { TimerHandle, Timers } from '../platform/index.js';

const ANY_VERSION = -1;
/** Largest TTL ZooKeeper accepts (EphemeralType.TTL: 40 bits of milliseconds). */
const MAX_TTL_MS = 2 ** 40 - 1;
const ACL_BYTES_ESTIMATE = 64;

const ADD_WATCH_MODES: Readonly<Record<PersistentWatchMode, number>> = {
  persistent: AddWatchMode.persistent,
  persistentRecursive: AddWatchMode.persistentRecursive,
};
const WATCHER_TYPES: Readonly<Record<WatchType, number>> = {
  children: WatcherType.Children,
  data: WatcherType.Data,
  any: WatcherType.Any,
  persistent: WatcherType.Persistent,
  persistentRecursive: WatcherType.PersistentRecursive,
};

/** The number a name stands for in `table`, or null for a name it does not know. */
function lookup<K extends string>(table: Readonly<Record<K, number>>, name: unknown): number | null {
  return typeof name === 'string' && Object.hasOwn(table, name) ? table[name as K] : null;
}

function toBytes(data: Data | undefined): Uint8Array {
  if (data === undefined) return EMPTY_DATA;
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** The CreateRequest.flags of a mode, or null for a mode ZooKeeper does not know. */
function createFlag(mode: CreateMode | undefined): number | null {
  if (mode === undefined) return CreateFlag.persistent;
  if (typeof mode === 'number') return Number.isInteger(mode) && mode >= 0 && mode <= 6 ? mode : null;
  return Object.hasOwn(CreateFlag, mode) ? CreateFlag[mode] : null;
}

interface CreatePlan {
  opCode: number;
  flags: number;
  ttl: bigint | null;
}

/** The op code, flags and TTL of a create, or the error ZooKeeper's client would raise. */
function planCreate(path: string, options: CreateOptions, withStat: boolean): CreatePlan | ZooKeeperError {
  const flags = createFlag(options.mode);
  if (flags === null) return new ZooKeeperError(Err.BadArguments, path);
  const sequential = flags === CreateFlag.persistentSequential || flags === CreateFlag.ephemeralSequential || flags === CreateFlag.persistentSequentialWithTtl;
  if (invalidPathReason(path, sequential) !== null) return new ZooKeeperError(Err.BadArguments, path);
  const withTtl = flags === CreateFlag.persistentWithTtl || flags === CreateFlag.persistentSequentialWithTtl;
  const ttlMs = options.ttlMs;
  if (withTtl !== (ttlMs !== undefined)) return new ZooKeeperError(Err.BadArguments, path);
  if (ttlMs !== undefined && (!Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TTL_MS)) {
    return new ZooKeeperError(Err.BadArguments, path);
  }
  const opCode = flags === CreateFlag.container ? OpCode.createContainer : withTtl ? OpCode.createTTL : withStat ? OpCode.create2 : OpCode.create;
  return { opCode, flags, ttl: ttlMs === undefined ? null : BigInt(ttlMs) };
}

function writeAcls(writer: JuteWriter, acl: readonly ACL[]): void {
  writer.writeVector(acl, ACLCodec.write);
}

function badPath(path: string, sequential = false): ZooKeeperError | null {
  return invalidPathReason(path, sequential) === null ? null : new ZooKeeperError(Err.BadArguments, path);
}

/** A multi result as the client reports it. */
export function toOpResult(result: MultiResult): OpResult {
  switch (result.type) {
    case OpCode.create:
      return { type: 'create', path: result.path };
    case OpCode.create2:
      return { type: 'create', path: result.path, stat: result.stat };
    case OpCode.delete:
      return { type: 'delete' };
    case OpCode.check:
      return { type: 'check' };
    case OpCode.setData:
      return { type: 'setData', stat: result.stat };
    case OpCode.getData:
      return { type: 'getData', data: result.data ?? EMPTY_DATA, stat: result.stat };
    case OpCode.getChildren:
      return { type: 'getChildren', children: result.children };
    case OpCode.error:
      return { type: 'error', code: result.err, codeName: errorName(result.err) };
  }
}

/** A multi() op as MultiOperationRecord carries it, or the error of a bad op. */
function toMultiOp(op: Op): MultiOp | ZooKeeperError {
  switch (op.type) {
    case 'create': {
      const plan = planCreate(op.path, { mode: op.mode, ttlMs: op.ttlMs }, false);
      if (plan instanceof ZooKeeperError) return plan;
      const request = { path: op.path, data: Buffer.from(toBytes(op.data)), acl: [...(op.acl ?? OPEN_ACL_UNSAFE)], flags: plan.flags };
      if (plan.opCode === OpCode.createTTL) return { type: OpCode.createTTL, request: { ...request, ttl: plan.ttl ?? 0n } };
      return { type: plan.opCode === OpCode.createContainer ? OpCode.createContainer : OpCode.create, request };
    }
    case 'delete':
      return badPath(op.path) ?? { type: OpCode.delete, request: { path: op.path, version: op.version ?? ANY_VERSION } };
    case 'setData':
      return badPath(op.path) ?? { type: OpCode.setData, request: { path: op.path, data: Buffer.from(toBytes(op.data)), version: op.version ?? ANY_VERSION } };
    case 'check':
      return badPath(op.path) ?? { type: OpCode.check, request: { path: op.path, version: op.version } };
  }
}

function withTimeout(promise: Promise<unknown>, timeoutMs: number, timers: Timers): Promise<unknown> {
  let timer: TimerHandle | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = timers.after(timeoutMs, resolve, true);
  });
  return Promise.race([promise, expired]).finally(() => timer?.cancel());
}

export class ZooKeeperClient extends ClientCore {
  private closed: Promise<void> | null = null;

  /** Connects to one of the hosts and resolves once a session is established (or resumed). */
  static async connect(options: ConnectOptions): Promise<ZooKeeperClient> {
    const client = new ZooKeeperClient(options);
    await client.start();
    return client;
  }

  private constructor(options: ConnectOptions) {
    super(options);
  }

  private call<T>(xid: number, opCode: number, frame: Buffer, path: string, decode: Decoder, watchKind: WatchKind = WatchKind.none, watch?: WatchCallback): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // `decode` produces the T of this op, so resolving with its result is type-safe.
      this.submit(new Request(xid, opCode, frame, path, decode, watchKind, watch, resolve as (value: unknown) => void, reject));
    });
  }

  /** getData, exists, getChildren, getChildren2: a path and the watch flag. */
  private pathWatchCall<T>(opCode: number, path: string, decode: Decoder, watchKind: WatchKind, watch: WatchCallback | undefined): Promise<T> {
    const bad = badPath(path);
    if (bad) return Promise.reject(bad);
    const xid = this.nextXid();
    const frame = requestWriter(xid, opCode, 5 + maxUtf8Bytes(path)).writeString(path).writeBool(watch !== undefined).toBuffer();
    return this.call<T>(xid, opCode, frame, path, decode, watchKind, watch);
  }

  /** getACL, sync, getAllChildrenNumber, getEphemerals: one path. */
  private pathCall<T>(opCode: number, path: string, decode: Decoder): Promise<T> {
    const bad = badPath(path);
    if (bad) return Promise.reject(bad);
    const xid = this.nextXid();
    const frame = requestWriter(xid, opCode, 4 + maxUtf8Bytes(path)).writeString(path).toBuffer();
    return this.call<T>(xid, opCode, frame, path, decode);
  }

  /** Creates a znode; resolves with its path (with the sequence suffix for sequential modes). */
  create(path: string, data?: Data, options: CreateOptions = {}): Promise<string> {
    return this.createCall<string>(path, data, options, false, decodePath);
  }

  /** Creates a znode; resolves with its path and Stat. */
  create2(path: string, data?: Data, options: CreateOptions = {}): Promise<CreateResult> {
    return this.createCall<CreateResult>(path, data, options, true, decodeCreate2);
  }

  private createCall<T>(path: string, data: Data | undefined, options: CreateOptions, withStat: boolean, decode: Decoder): Promise<T> {
    const plan = planCreate(path, options, withStat);
    if (plan instanceof ZooKeeperError) return Promise.reject(plan);
    const bytes = toBytes(data);
    const acl = options.acl ?? OPEN_ACL_UNSAFE;
    const xid = this.nextXid();
    const writer = requestWriter(xid, plan.opCode, 24 + maxUtf8Bytes(path) + bytes.length + acl.length * ACL_BYTES_ESTIMATE);
    writer.writeString(path).writeBuffer(bytes);
    writeAcls(writer, acl);
    writer.writeInt(plan.flags);
    if (plan.ttl !== null) writer.writeLong(plan.ttl);
    // createContainer and createTTL are answered with a Create2Response, whose path comes first.
    return this.call<T>(xid, plan.opCode, writer.toBuffer(), path, decode);
  }

  delete(path: string, version = ANY_VERSION): Promise<void> {
    const bad = badPath(path);
    if (bad) return Promise.reject(bad);
    const xid = this.nextXid();
    const frame = requestWriter(xid, OpCode.delete, 8 + maxUtf8Bytes(path)).writeString(path).writeInt(version).toBuffer();
    return this.call<void>(xid, OpCode.delete, frame, path, decodeNothing);
  }

  /** The Stat, or null for a missing node. The watch is set in both cases (a data or an exist watch). */
  exists(path: string, watch?: WatchCallback): Promise<Stat | null> {
    return this.pathWatchCall<Stat | null>(OpCode.exists, path, decodeStat, WatchKind.data, watch);
  }

  /** `data` is a view of the received bytes (no copy); copy it to keep it apart from them. */
  getData(path: string, watch?: WatchCallback): Promise<DataResult> {
    return this.pathWatchCall<DataResult>(OpCode.getData, path, decodeData, WatchKind.data, watch);
  }

  setData(path: string, data: Data, version = ANY_VERSION): Promise<Stat> {
    const bad = badPath(path);
    if (bad) return Promise.reject(bad);
    const bytes = toBytes(data);
    const xid = this.nextXid();
    const writer = requestWriter(xid, OpCode.setData, 12 + maxUtf8Bytes(path) + bytes.length);
    const frame = writer.writeString(path).writeBuffer(bytes).writeInt(version).toBuffer();
    return this.call<Stat>(xid, OpCode.setData, frame, path, decodeStat);
  }

  getChildren(path: string, watch?: WatchCallback): Promise<string[]> {
    return this.pathWatchCall<string[]>(OpCode.getChildren, path, decodeChildren, WatchKind.child, watch);
  }

  getChildren2(path: string, watch?: WatchCallback): Promise<ChildrenResult> {
    return this.pathWatchCall<ChildrenResult>(OpCode.getChildren2, path, decodeChildren2, WatchKind.child, watch);
  }

  getACL(path: string): Promise<ACLResult> {
    return this.pathCall<ACLResult>(OpCode.getACL, path, decodeACL);
  }

  setACL(path: string, acl: readonly ACL[], version = ANY_VERSION): Promise<Stat> {
    const bad = badPath(path);
    if (bad) return Promise.reject(bad);
    const xid = this.nextXid();
    const writer = requestWriter(xid, OpCode.setACL, 12 + maxUtf8Bytes(path) + acl.length * ACL_BYTES_ESTIMATE).writeString(path);
    writeAcls(writer, acl);
    const frame = writer.writeInt(version).toBuffer();
    return this.call<Stat>(xid, OpCode.setACL, frame, path, decodeStat);
  }

  /** Fails with BadVersion unless the node's version is `version` (NoNode if it is missing). */
  check(path: string, version: number): Promise<void> {
    const bad = badPath(path);
    if (bad) return Promise.reject(bad);
    const xid = this.nextXid();
    const frame = requestWriter(xid, OpCode.check, 8 + maxUtf8Bytes(path)).writeString(path).writeInt(version).toBuffer();
    return this.call<void>(xid, OpCode.check, frame, path, decodeNothing);
  }

  sync(path: string): Promise<void> {
    return this.pathCall<void>(OpCode.sync, path, decodeNothing);
  }

  getEphemerals(prefixPath = '/'): Promise<string[]> {
    return this.pathCall<string[]>(OpCode.getEphemerals, prefixPath, decodeEphemerals);
  }

  getAllChildrenNumber(path: string): Promise<number> {
    return this.pathCall<number>(OpCode.getAllChildrenNumber, path, decodeInt);
  }

  /**
   * Adds a persistent watch (op 106, ZooKeeper 3.6+) on `path`, which need not exist. 'persistent'
   * hears every event on the path, NodeChildrenChanged included; 'persistentRecursive' hears the
   * events of the path and of all its descendants, except NodeChildrenChanged. The watch stays
   * (after reconnects too, re-armed with SetWatches2) until removeWatches, close or expiry; it
   * is registered once the server accepted it.
   */
  addWatch(path: string, mode: PersistentWatchMode, callback: WatchCallback): Promise<void> {
    const modeNumber = lookup(ADD_WATCH_MODES, mode);
    if (modeNumber === null || typeof callback !== 'function') return Promise.reject(new ZooKeeperError(Err.BadArguments, path));
    const bad = badPath(path);
    if (bad) return Promise.reject(bad);
    const xid = this.nextXid();
    const frame = requestWriter(xid, OpCode.addWatch, 8 + maxUtf8Bytes(path)).writeString(path).writeInt(modeNumber).toBuffer();
    const kind = modeNumber === AddWatchMode.persistent ? WatchKind.persistent : WatchKind.persistentRecursive;
    // The reply carries an ErrorResponse whose code repeats the header's: nothing to read.
    return this.call<void>(xid, OpCode.addWatch, frame, path, decodeNothing, kind, callback);
  }

  /**
   * Removes the watches of `type` on `path`: those of `callback`, or of every callback when
   * none is given (ZooKeeper's removeWatches and removeAllWatches). Each removed callback is
   * called with DataWatchRemoved (data and exist watches), ChildWatchRemoved (child watches)
   * or PersistentWatchRemoved (addWatch watches) before the promise resolves. 'any' removes
   * all five kinds.
   *
   * The server is asked with removeWatches (op 18), which also drops its watch, when no
   * other callback keeps a watch of `type` on the path (judged when called); while others
   * remain, with checkWatches (op 17), so that the server's watch stays for them.
   *
   * Rejects with NoWatcher when no such watch is registered here, otherwise with the
   * server's error (NoWatcher if it had none), and then nothing is removed. With `local`,
   * the watches are removed even when the server fails or cannot be reached; while
   * disconnected nothing is sent and the events carry state Disconnected.
   */
  removeWatches(path: string, type: WatchType, callback?: WatchCallback, local = false): Promise<void> {
    const watcherType = lookup(WATCHER_TYPES, type);
    if (watcherType === null || (callback !== undefined && typeof callback !== 'function')) {
      return Promise.reject(new ZooKeeperError(Err.BadArguments, path));
    }
    const bad = badPath(path);
    if (bad) return Promise.reject(bad);
    const registry = this.watchRegistry;
    return new Promise<void>((resolve, reject) => {
      // ZKWatchManager.removeWatcher, run when the answer is known (`code`).
      const finish = (code: number): void => {
        if (!registry.contains(watcherType, path, callback)) return reject(new ZooKeeperError(Err.NoWatcher, path));
        if (!local && code !== Err.Ok) return reject(new ZooKeeperError(code, path));
        const removed = registry.remove(watcherType, path, callback);
        const state = code === Err.ConnectionLoss || code === Err.SessionExpired ? KeeperState.Disconnected : KeeperState.SyncConnected;
        const told = [
          [EventType.DataWatchRemoved, removed.data],
          [EventType.ChildWatchRemoved, removed.child],
          [EventType.PersistentWatchRemoved, removed.persistent],
        ] as const;
        for (const [eventType, callbacks] of told) {
          const event: WatchedEvent = { type: eventType, state, path };
          for (const each of callbacks) this.invokeWatcher(each, event);
        }
        resolve();
      };
      if (local && this.state !== 'connected') return finish(Err.ConnectionLoss);
      const opCode = callback !== undefined && registry.othersRemain(watcherType, path, callback) ? OpCode.checkWatches : OpCode.removeWatches;
      const xid = this.nextXid();
      const frame = requestWriter(xid, opCode, 8 + maxUtf8Bytes(path)).writeString(path).writeInt(watcherType).toBuffer();
      const failed = (error: Error): void => (error instanceof ZooKeeperError ? finish(error.code) : reject(error));
      this.submit(new Request(xid, opCode, frame, path, decodeNothing, WatchKind.none, undefined, () => finish(Err.Ok), failed));
    });
  }

  /**
   * Asks the server (op 17) whether this session has a watch of `type` on `path`: resolves if
   * so, rejects with NoWatcher if not. Only the server is asked, not the local registrations.
   */
  checkWatches(path: string, type: WatchType): Promise<void> {
    const watcherType = lookup(WATCHER_TYPES, type);
    if (watcherType === null) return Promise.reject(new ZooKeeperError(Err.BadArguments, path));
    const bad = badPath(path);
    if (bad) return Promise.reject(bad);
    const xid = this.nextXid();
    const frame = requestWriter(xid, OpCode.checkWatches, 8 + maxUtf8Bytes(path)).writeString(path).writeInt(watcherType).toBuffer();
    return this.call<void>(xid, OpCode.checkWatches, frame, path, decodeNothing);
  }

  whoAmI(): Promise<ClientInfo[]> {
    const xid = this.nextXid();
    return this.call<ClientInfo[]>(xid, OpCode.whoAmI, requestWriter(xid, OpCode.whoAmI, 0).toBuffer(), '', decodeWhoAmI);
  }

  /**
   * Atomically applies `ops`; resolves with one result per op. If any op fails, nothing is
   * applied and the call rejects with the first failure's code, `path` and all `results`.
   */
  multi(ops: readonly Op[]): Promise<OpResult[]> {
    const records: MultiOp[] = [];
    for (const op of ops) {
      const record = toMultiOp(op);
      if (record instanceof ZooKeeperError) return Promise.reject(record);
      records.push(record);
    }
    const decode: Decoder = (reader: JuteReader) => {
      const results = MultiResponseCodec.read(reader).map(toOpResult);
      const failed = results.findIndex((result) => result.type === 'error' && result.code !== Err.Ok);
      const failure = results[failed];
      if (failure?.type === 'error') throw new ZooKeeperError(failure.code, ops[failed]?.path, results);
      return results;
    };
    return this.multiCall(OpCode.multi, records, decode);
  }

  /** Reads several nodes at once; a failed read is an 'error' result, not a rejection. */
  multiRead(ops: readonly ReadOp[]): Promise<OpResult[]> {
    const records: MultiOp[] = [];
    for (const op of ops) {
      const bad = badPath(op.path);
      if (bad) return Promise.reject(bad);
      records.push({ type: op.type === 'getData' ? OpCode.getData : OpCode.getChildren, request: { path: op.path } });
    }
    const decode: Decoder = (reader: JuteReader) => MultiResponseCodec.read(reader).map(toOpResult);
    return this.multiCall(OpCode.multiRead, records, decode);
  }

  private multiCall(opCode: number, records: MultiOp[], decode: Decoder): Promise<OpResult[]> {
    const xid = this.nextXid();
    const writer = requestWriter(xid, opCode, 256);
    MultiRequestCodec.write(writer, records);
    return this.call<OpResult[]>(xid, opCode, writer.toBuffer(), '', decode);
  }

  /**
   * Adds a credential to the session (e.g. addAuth('digest', 'user:password')). Resolves when
   * the server accepted it; rejects with AuthFailed (the server then drops the connection and
   * the client reconnects without it). Accepted credentials are re-sent after each reconnect.
   */
  addAuth(scheme: string, auth: Data): Promise<void> {
    const refusal = this.refusal(undefined);
    if (refusal) return Promise.reject(refusal);
    const bytes = Buffer.from(toBytes(auth));
    const writer = requestWriter(Xid.auth, OpCode.auth, 12 + maxUtf8Bytes(scheme) + bytes.length);
    AuthPacketCodec.write(writer, { type: 0, scheme, auth: bytes });
    const entry = new AuthEntry(scheme, bytes, writer.toBuffer());
    return new Promise<void>((resolve, reject) => {
      entry.waiter = { resolve, reject };
      this.addAuthEntry(entry);
    });
  }

  /**
   * Ends the session: sends closeSession, waits for its reply (at most one session timeout),
   * closes the socket. The server deletes the session's ephemerals. Calls issued earlier get
   * their replies first; later ones fail with ConnectionLoss. Idempotent.
   */
  close(): Promise<void> {
    this.closed ??= this.closeOnce();
    return this.closed;
  }

  private async closeOnce(): Promise<void> {
    if (this.state === 'connected' && !this.closing) {
      this.closing = true;
      const xid = this.nextXid();
      const frame = requestWriter(xid, OpCode.closeSession, 0).toBuffer();
      const reply = new Promise<unknown>((resolve, reject) => {
        this.enqueue(new Request(xid, OpCode.closeSession, frame, '', decodeNothing, WatchKind.none, undefined, resolve, reject));
      });
      // Whether the reply came, the connection broke or the server is silent, the client ends.
      await withTimeout(
        reply.catch(() => undefined),
        this.negotiatedTimeoutMs,
        this.platform.timers,
      );
    }
    this.closing = true;
    if (this.state === 'closed') return;
    this.shutDown('closed', Err.ConnectionLoss, KeeperState.Closed);
    this.safely(() => this.emit('closed'));
  }
}
