/**
 * Runs a script against one server and records its trace: per step, the normalised outcome
 * of each op and the watch events each session received, once the server is quiescent for
 * it (a sync on every session after the step: a server sends a session the events of a
 * change before it answers that session's later requests).
 *
 * Normalisation (what may differ between two correct servers is dropped or made relative):
 * - zxids relative to the script's first zxid (the czxid of its root), written `z+N`; 0 stays `0`;
 * - ctime/mtime dropped; ephemeralOwner as the owning session's ordinal in the script
 *   (`S0`, `S1`, … in the order the script opened them), `container`, `ttl:<ms>` or `0`;
 * - paths relative to the script root; children lists, getEphemerals and whoAmI sorted, and
 *   adjacent digest/ip entries of an ACL (ZooKeeper returns them in hash order);
 * - version, cversion, aversion, dataLength, numChildren, ACLs, created paths (sequence
 *   suffixes included), error code names: exact.
 */
import { CreateFlag, ZooKeeperError, toOpResult } from '../../src/client/index.js';
import type { ACL, OpResult, Stat, WatchedEvent, Op as ClientOp, ReadOp } from '../../src/client/index.js';
import {
  AddWatchRequestCodec,
  CheckVersionRequestCodec,
  CreateRequestCodec,
  CreateTTLRequestCodec,
  DeleteRequestCodec,
  GetEphemeralsRequestCodec,
  MultiRequestCodec,
  MultiResponseCodec,
  OpCode,
  PathRecordCodec,
  PathTypeRequestCodec,
  PathWatchRequestCodec,
  SetACLRequestCodec,
  SetDataRequestCodec,
} from '../../src/jute/index.js';
import type { JuteReader, MultiOp } from '../../src/jute/index.js';
import {
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
} from '../../src/client/requests.js';
import type { ACLResult, ChildrenResult, CreateResult, DataResult } from '../../src/client/requests.js';
import { isValidPath } from '../../src/tree/index.js';
import { TTL_MS, resolveAcl, WATCHER_TYPES, sessionCount, showStep } from './model.js';
import type { ModeName, MultiOpSpec, Op, PathRef, Script, Step, VersionRef } from './model.js';
import { DiffSession, NoReplyError, withReplyTimeout } from './session.js';
import type { KnownDifference } from './known-differences.js';

export interface Target {
  readonly name: string;
  readonly connectString: string;
}

export interface StepTrace {
  /** One per op: `ok <json>` or `err <CodeName>`. */
  outcomes: string[];
  /** Per session slot, the events received during the step: `<EventType> <path>`. */
  events: string[][];
}

export interface Trace {
  setup: string[];
  steps: StepTrace[];
}

const EVENT_NAMES: Record<number, string> = {
  [-1]: 'None',
  1: 'NodeCreated',
  2: 'NodeDeleted',
  3: 'NodeDataChanged',
  4: 'NodeChildrenChanged',
  5: 'DataWatchRemoved',
  6: 'ChildWatchRemoved',
  7: 'PersistentWatchRemoved',
};
const SYNC_CONNECTED = 3;
const CONTAINER_OWNER = BigInt.asIntN(64, 0x8000000000000000n);
const EXTENDED_MASK = 0xff00000000000000n;
const noWatch = (): void => undefined;

const isSequential = (mode: ModeName): boolean => mode.includes('Sequential');
const isTtl = (mode: ModeName): boolean => mode.includes('Ttl');

class Side {
  readonly slots: DiffSession[] = [];
  private readonly ordinals = new Map<bigint, number>();
  private base = 0n;
  private readonly lastStat = new Map<string, Stat>();
  private lastCreated: string | null = null;

  constructor(
    readonly target: Target,
    readonly root: string,
  ) {}

  async openSession(slot: number): Promise<DiffSession> {
    const session = await DiffSession.open(this.target.connectString);
    this.ordinals.set(session.sessionId, this.ordinals.size);
    this.slots[slot] = session;
    return session;
  }

  ordinalOf(session: DiffSession): number {
    return this.ordinals.get(session.sessionId) ?? -1;
  }

  setBase(zxid: bigint): void {
    this.base = zxid;
  }

  // ---- symbols → values ----

  path(ref: PathRef): string {
    if (ref.startsWith('@last')) return (this.lastCreated ?? this.root) + ref.slice('@last'.length);
    if (ref.startsWith('^')) return ref.slice(1);
    return ref === '' ? this.root : `${this.root}/${ref}`;
  }

  version(ref: VersionRef, path: string, field: 'version' | 'aversion' = 'version'): number {
    if (typeof ref === 'number') return ref;
    const last = this.lastStat.get(path)?.[field] ?? 0;
    return ref === 'v' ? last : last + 1;
  }

  noteStat(path: string, stat: Stat): void {
    this.lastStat.set(path, stat);
  }

  noteCreated(path: string): void {
    this.lastCreated = path;
  }

  // ---- values → normalised text ----

  rel(path: string): string {
    if (path === this.root) return '<root>';
    if (path.startsWith(`${this.root}/`)) return path.slice(this.root.length + 1);
    return `^${path}`;
  }

  zxid(zxid: bigint): string {
    if (zxid === 0n) return '0';
    const delta = zxid - this.base;
    return delta >= 0n ? `z+${delta}` : `z${delta}`;
  }

  owner(owner: bigint): string {
    if (owner === 0n) return '0';
    const ordinal = this.ordinals.get(owner);
    if (ordinal !== undefined) return `S${ordinal}`;
    if (owner === CONTAINER_OWNER) return 'container';
    const unsigned = BigInt.asUintN(64, owner);
    if ((unsigned & EXTENDED_MASK) === EXTENDED_MASK) return `ttl:${unsigned & 0xffffffffffn}`;
    return `owner:0x${unsigned.toString(16)}`;
  }

  stat(stat: Stat): string {
    return (
      `{cz ${this.zxid(stat.czxid)} mz ${this.zxid(stat.mzxid)} pz ${this.zxid(stat.pzxid)} v ${stat.version} cv ${stat.cversion}` +
      ` av ${stat.aversion} owner ${this.owner(stat.ephemeralOwner)} len ${stat.dataLength} kids ${stat.numChildren}}`
    );
  }

  event(event: WatchedEvent): string {
    const name = EVENT_NAMES[event.type] ?? `type${event.type}`;
    const state = event.state === SYNC_CONNECTED ? '' : ` state=${event.state}`;
    return `${name} ${this.rel(event.path)}${state}`;
  }
}

/**
 * ACL entries as `scheme:id=perms`, in the server's order, except that adjacent ip and digest
 * entries are sorted among themselves: ZooKeeper expands the `auth` scheme to the caller's ids
 * in the order of a Java hash set (ServerCnxn.authInfo), which no other server can reproduce.
 */
function showAcl(acl: readonly ACL[]): string[] {
  const shown = acl.map((entry) => `${entry.id.scheme}:${entry.id.id}=${entry.perms}`);
  const expandable = (entry: ACL | undefined): boolean => entry?.id.scheme === 'digest' || entry?.id.scheme === 'ip';
  for (let start = 0; start < acl.length; start++) {
    if (!expandable(acl[start])) continue;
    let end = start;
    while (expandable(acl[end + 1])) end++;
    shown.splice(start, end - start + 1, ...shown.slice(start, end + 1).sort());
    start = end;
  }
  return shown;
}

// ---- one op ----

/** Runs one op on `session`; resolves with its normalised result or rejects with the server's error. */
function runOp(side: Side, session: DiffSession, op: Op): Promise<unknown> {
  switch (op.op) {
    case 'create':
      return create(side, session, op);
    case 'createRaw':
      return createRaw(side, session, op);
    case 'delete': {
      const path = side.path(op.path);
      const version = side.version(op.version, path);
      const sent = isValidPath(path)
        ? session.client.delete(path, version)
        : session.raw(OpCode.delete, (w) => DeleteRequestCodec.write(w, { path, version }), decodeNothing);
      return sent.then(() => null);
    }
    case 'exists':
    case 'getData':
    case 'getChildren':
    case 'getChildren2':
      return watchingRead(side, session, op);
    case 'setData': {
      const path = side.path(op.path);
      const version = side.version(op.version, path);
      const sent = isValidPath(path)
        ? session.client.setData(path, op.data, version)
        : session.raw(OpCode.setData, (w) => SetDataRequestCodec.write(w, { path, data: Buffer.from(op.data), version }), (r) => decodeStat(r) as Stat);
      return sent.then((stat) => statResult(side, path, stat));
    }
    case 'getACL': {
      const path = side.path(op.path);
      const sent = isValidPath(path)
        ? session.client.getACL(path)
        : session.raw(OpCode.getACL, (w) => PathRecordCodec.write(w, { path }), (r) => decodeACL(r) as ACLResult);
      return sent.then((result) => ({ acl: showAcl(result.acl), stat: statResult(side, path, result.stat) }));
    }
    case 'setACL': {
      const path = side.path(op.path);
      const acl = resolveAcl(op.acl);
      const version = side.version(op.version, path, 'aversion');
      const sent = isValidPath(path)
        ? session.client.setACL(path, acl, version)
        : session.raw(OpCode.setACL, (w) => SetACLRequestCodec.write(w, { path, acl, version }), (r) => decodeStat(r) as Stat);
      return sent.then((stat) => statResult(side, path, stat));
    }
    case 'check': {
      const path = side.path(op.path);
      const version = side.version(op.version, path);
      const sent = isValidPath(path)
        ? session.client.check(path, version)
        : session.raw(OpCode.check, (w) => CheckVersionRequestCodec.write(w, { path, version }), decodeNothing);
      return sent.then(() => null);
    }
    case 'sync': {
      const path = side.path(op.path);
      if (isValidPath(path)) return session.client.sync(path).then(() => null);
      return session.raw(OpCode.sync, (w) => PathRecordCodec.write(w, { path }), (r) => decodePath(r) as string).then((echo) => side.rel(echo));
    }
    case 'multi':
      return multi(side, session, op.ops);
    case 'multiRead':
      return multiRead(side, session, op.ops);
    case 'getEphemerals': {
      const path = side.path(op.path);
      const sent = isValidPath(path)
        ? session.client.getEphemerals(path)
        : session.raw(OpCode.getEphemerals, (w) => GetEphemeralsRequestCodec.write(w, { prefixPath: path }), (r) => decodeEphemerals(r) as string[]);
      return sent.then((paths) => paths.map((p) => side.rel(p)).sort());
    }
    case 'getAllChildrenNumber': {
      const path = side.path(op.path);
      if (isValidPath(path)) return session.client.getAllChildrenNumber(path);
      return session.raw(OpCode.getAllChildrenNumber, (w) => PathRecordCodec.write(w, { path }), (r) => decodeInt(r) as number);
    }
    case 'addWatch':
    case 'addWatchRaw': {
      const path = side.path(op.path);
      const mode = op.op === 'addWatch' ? (op.recursive ? 1 : 0) : op.mode;
      return session.raw(OpCode.addWatch, (w) => AddWatchRequestCodec.write(w, { path, mode }), decodeNothing).then(() => null);
    }
    case 'removeWatches':
    case 'checkWatches': {
      const path = side.path(op.path);
      const type = typeof op.type === 'number' ? op.type : WATCHER_TYPES[op.type];
      const code = op.op === 'removeWatches' ? OpCode.removeWatches : OpCode.checkWatches;
      return session.raw(code, (w) => PathTypeRequestCodec.write(w, { path, type }), decodeNothing).then(() => null);
    }
    case 'whoAmI':
      // Sorted: ZooKeeper lists a connection's ids in Java hash-set order (ServerCnxn.authInfo).
      return session.client.whoAmI().then((infos) => infos.map((info) => `${info.authScheme}:${info.user}`).sort());
    case 'addAuth':
      return session.client.addAuth(op.scheme, op.auth).then(() => null);
    case 'reopen':
      throw new Error('reopen is a step of its own');
  }
}

function statResult(side: Side, path: string, stat: Stat): string {
  side.noteStat(path, stat);
  return side.stat(stat);
}

async function create(side: Side, session: DiffSession, op: Extract<Op, { op: 'create' }>): Promise<unknown> {
  const path = side.path(op.path);
  const acl = resolveAcl(op.acl);
  const ttlMs = isTtl(op.mode) ? TTL_MS : undefined;
  if (!isValidPath(path, isSequential(op.mode))) {
    const opCode = op.mode === 'container' ? OpCode.createContainer : ttlMs !== undefined ? OpCode.createTTL : op.stat ? OpCode.create2 : OpCode.create;
    return createRaw(side, session, { op: 'createRaw', opCode, path: op.path, flags: CreateFlag[op.mode], ttl: ttlMs, acl: op.acl, data: op.data });
  }
  if (op.stat) {
    const result = await session.client.create2(path, op.data, { mode: op.mode, acl, ttlMs });
    return createdWithStat(side, result);
  }
  const created = await session.client.create(path, op.data, { mode: op.mode, acl, ttlMs });
  side.noteCreated(created);
  return side.rel(created);
}

function createdWithStat(side: Side, result: CreateResult): unknown {
  side.noteCreated(result.path);
  side.noteStat(result.path, result.stat);
  return { path: side.rel(result.path), stat: side.stat(result.stat) };
}

async function createRaw(side: Side, session: DiffSession, op: Extract<Op, { op: 'createRaw' }>): Promise<unknown> {
  const request = { path: side.path(op.path), data: Buffer.from(op.data ?? ''), acl: resolveAcl(op.acl), flags: op.flags };
  const write = (w: Parameters<typeof CreateRequestCodec.write>[0]): void =>
    op.opCode === OpCode.createTTL ? CreateTTLRequestCodec.write(w, { ...request, ttl: BigInt(op.ttl ?? 0) }) : CreateRequestCodec.write(w, request);
  if (op.opCode === OpCode.create) {
    const created = await session.raw(op.opCode, write, (r) => decodePath(r) as string);
    side.noteCreated(created);
    return side.rel(created);
  }
  return createdWithStat(side, await session.raw(op.opCode, write, (r) => decodeCreate2(r) as CreateResult));
}

async function watchingRead(side: Side, session: DiffSession, op: Extract<Op, { op: 'exists' | 'getData' | 'getChildren' | 'getChildren2' }>): Promise<unknown> {
  const path = side.path(op.path);
  const watch = op.watch ? noWatch : undefined;
  const valid = isValidPath(path);
  const raw = <T>(code: number, decode: (r: JuteReader) => unknown): Promise<T> =>
    session.raw(code, (w) => PathWatchRequestCodec.write(w, { path, watch: op.watch }), (r) => decode(r) as T);
  switch (op.op) {
    case 'exists': {
      const stat = valid ? await session.client.exists(path, watch) : await raw<Stat>(OpCode.exists, decodeStat);
      if (stat === null) throw new ZooKeeperError(-101, path);
      return statResult(side, path, stat);
    }
    case 'getData': {
      const result = valid ? await session.client.getData(path, watch) : await raw<DataResult>(OpCode.getData, decodeData);
      return { data: Buffer.from(result.data).toString('utf8'), stat: statResult(side, path, result.stat) };
    }
    case 'getChildren': {
      const children = valid ? await session.client.getChildren(path, watch) : await raw<string[]>(OpCode.getChildren, decodeChildren);
      return [...children].sort();
    }
    case 'getChildren2': {
      const result = valid ? await session.client.getChildren2(path, watch) : await raw<ChildrenResult>(OpCode.getChildren2, decodeChildren2);
      return { children: [...result.children].sort(), stat: statResult(side, path, result.stat) };
    }
  }
}

// ---- multi ----

const CLIENT_MULTI_OPS = new Set(['create', 'delete', 'setData', 'check']);

function toClientOp(side: Side, spec: MultiOpSpec): ClientOp {
  const path = side.path(spec.path);
  switch (spec.op) {
    case 'create':
      return { type: 'create', path, data: spec.data, mode: spec.mode, acl: resolveAcl(spec.acl), ttlMs: isTtl(spec.mode) ? TTL_MS : undefined };
    case 'delete':
    case 'check':
      return { type: spec.op, path, version: side.version(spec.version, path) };
    case 'setData':
      return { type: 'setData', path, data: spec.data, version: side.version(spec.version, path) };
    default:
      throw new Error(`${spec.op} is not a client multi op`);
  }
}

function toWireOp(side: Side, spec: MultiOpSpec): MultiOp {
  const path = side.path(spec.path);
  switch (spec.op) {
    case 'create': {
      const request = { path, data: Buffer.from(spec.data), acl: resolveAcl(spec.acl), flags: CreateFlag[spec.mode] };
      if (isTtl(spec.mode)) return { type: OpCode.createTTL, request: { ...request, ttl: BigInt(TTL_MS) } };
      return { type: spec.mode === 'container' ? OpCode.createContainer : OpCode.create, request };
    }
    case 'create2':
      return { type: OpCode.create2, request: { path, data: Buffer.from(spec.data), acl: resolveAcl(spec.acl), flags: 0 } };
    case 'delete':
      return { type: OpCode.delete, request: { path, version: side.version(spec.version, path) } };
    case 'setData':
      return { type: OpCode.setData, request: { path, data: Buffer.from(spec.data), version: side.version(spec.version, path) } };
    case 'check':
      return { type: OpCode.check, request: { path, version: side.version(spec.version, path) } };
    case 'getData':
      return { type: OpCode.getData, request: { path } };
    case 'getChildren':
      return { type: OpCode.getChildren, request: { path } };
  }
}


function showOpResult(side: Side, result: OpResult): string {
  switch (result.type) {
    case 'create':
      return `create ${side.rel(result.path)}${result.stat ? ` ${side.stat(result.stat)}` : ''}`;
    case 'setData':
      return `setData ${side.stat(result.stat)}`;
    case 'getData':
      return `getData ${JSON.stringify(Buffer.from(result.data).toString('utf8'))} ${side.stat(result.stat)}`;
    case 'getChildren':
      return `getChildren [${[...result.children].sort().join(',')}]`;
    case 'error':
      return `error ${result.codeName}`;
    default:
      return result.type;
  }
}

/** After a multi that took effect: remember the Stats and created paths it returned. */
function noteMultiResults(side: Side, specs: readonly MultiOpSpec[], results: readonly OpResult[]): void {
  results.forEach((result, index) => {
    const spec = specs[index];
    if (spec === undefined) return;
    if (result.type === 'create') {
      side.noteCreated(result.path);
      if (result.stat) side.noteStat(result.path, result.stat);
    } else if (result.type === 'setData') {
      side.noteStat(side.path(spec.path), result.stat);
    }
  });
}

/** A failed multi rejects with its first failure's code and every op's result. */
class MultiFailure extends Error {
  constructor(
    readonly codeName: string,
    readonly results: string[],
  ) {
    super(`multi failed: ${codeName}`);
  }
}

async function multi(side: Side, session: DiffSession, specs: readonly MultiOpSpec[]): Promise<unknown> {
  const viaClient = specs.every((spec) => CLIENT_MULTI_OPS.has(spec.op) && isValidPath(side.path(spec.path), spec.op === 'create' && isSequential(spec.mode)));
  let results: OpResult[];
  try {
    results = viaClient
      ? await session.client.multi(specs.map((spec) => toClientOp(side, spec)))
      : await rawMulti(session, OpCode.multi, specs.map((spec) => toWireOp(side, spec)));
  } catch (error) {
    if (error instanceof ZooKeeperError && error.results) throw new MultiFailure(error.codeName, error.results.map((r) => showOpResult(side, r)));
    throw error;
  }
  const failed = results.find((r) => r.type === 'error' && r.code !== 0);
  if (failed?.type === 'error') throw new MultiFailure(failed.codeName, results.map((r) => showOpResult(side, r)));
  noteMultiResults(side, specs, results);
  return results.map((r) => showOpResult(side, r));
}

async function multiRead(side: Side, session: DiffSession, specs: readonly MultiOpSpec[]): Promise<unknown> {
  const viaClient = specs.every((spec) => (spec.op === 'getData' || spec.op === 'getChildren') && isValidPath(side.path(spec.path)));
  const results = viaClient
    ? await session.client.multiRead(specs.map((spec): ReadOp => ({ type: spec.op as ReadOp['type'], path: side.path(spec.path) })))
    : await rawMulti(session, OpCode.multiRead, specs.map((spec) => toWireOp(side, spec)));
  return results.map((r) => showOpResult(side, r));
}

function rawMulti(session: DiffSession, opCode: number, ops: MultiOp[]): Promise<OpResult[]> {
  return session.raw(opCode, (w) => MultiRequestCodec.write(w, ops), (r) => MultiResponseCodec.read(r).map(toOpResult));
}

// ---- steps and scripts ----

function outcomeOf(settled: PromiseSettledResult<unknown>): string {
  if (settled.status === 'fulfilled') return `ok ${JSON.stringify(settled.value)}`;
  const error: unknown = settled.reason;
  if (error instanceof MultiFailure) return `err ${error.codeName} ${JSON.stringify(error.results)}`;
  if (error instanceof ZooKeeperError) return `err ${error.codeName}`;
  if (error instanceof NoReplyError) return 'err NoReply';
  throw error;
}

async function runStep(side: Side, step: Step): Promise<string[]> {
  const session = side.slots[step.s];
  if (!session) throw new Error(`step uses session ${step.s}, which the script did not open`);
  if (step.ops.some((op) => op.op === 'reopen')) {
    if (step.ops.length !== 1) throw new Error('reopen must be a step of its own');
    await withReplyTimeout(session.close());
    const next = await side.openSession(step.s);
    return [`ok ${JSON.stringify({ session: `S${side.ordinalOf(next)}`, timeoutMs: next.client.negotiatedTimeoutMs })}`];
  }
  // All ops of a step leave together (one socket write) and are answered in order.
  const settled = await Promise.allSettled(step.ops.map((op) => withReplyTimeout(Promise.resolve().then(() => runOp(side, session, op)))));
  return settled.map(outcomeOf);
}

/** Waits until every session has received what the step triggered for it, then takes its events. */
async function quiesce(side: Side): Promise<string[][]> {
  await Promise.all(side.slots.map((session) => withReplyTimeout(session.client.sync('/')).catch(() => undefined)));
  return side.slots.map((session) => session.takeEvents().map((event) => side.event(event)));
}

/** Runs `script` under `root` (which must not exist) on `target`; always closes its sessions. */
export async function runScript(target: Target, script: Script, root: string): Promise<Trace> {
  const side = new Side(target, root);
  const trace: Trace = { setup: [], steps: [] };
  try {
    const count = sessionCount(script);
    for (let slot = 0; slot < count; slot++) await side.openSession(slot);
    trace.setup.push(`sessions ${side.slots.map((s) => `S${side.ordinalOf(s)}:${s.client.negotiatedTimeoutMs}ms`).join(' ')}`);
    const rootResult = await side.slots[0]!.client.create2(root, '', {});
    side.setBase(rootResult.stat.czxid);
    side.noteStat(root, rootResult.stat);
    trace.setup.push(`root ${side.stat(rootResult.stat)}`);
    for (const step of script.steps) {
      const closing = step.ops[0]?.op === 'reopen' ? side.slots[step.s] : undefined;
      const outcomes = await runStep(side, step);
      const events = await quiesce(side);
      if (closing) {
        // What the closed session received while closing (its own ephemerals' deletions).
        const closedEvents = closing.takeEvents().map((event) => `(closed) ${side.event(event)}`);
        events[step.s] = [...closedEvents, ...(events[step.s] ?? [])];
        // ZooKeeper deletes a closed session's ephemerals in Java hash-set order
        // (DataTree.getEphemerals), so the order of the events that causes is not compared.
        for (const list of events) list.sort();
      }
      trace.steps.push({ outcomes, events });
    }
  } finally {
    await Promise.all(side.slots.map((session) => withReplyTimeout(session.close()).catch(() => undefined)));
  }
  return trace;
}

// ---- comparing ----

export interface Mismatch {
  /** Index of the first differing step, or -1 for the setup. */
  step: number;
  report: string;
}

function sameStep(a: StepTrace, b: StepTrace): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function showStepTrace(trace: StepTrace, indent: string): string {
  const lines = trace.outcomes.map((outcome) => `${indent}${outcome}`);
  trace.events.forEach((events, slot) => {
    if (events.length > 0) lines.push(`${indent}events of s${slot}: ${events.join(', ')}`);
  });
  return lines.join('\n');
}

export interface CompareOptions {
  /** Differences to let pass (known Paddock bugs); `onTolerated` hears each use. */
  tolerate?: readonly KnownDifference[];
  onTolerated?: (id: string) => void;
}

/** The ids of the known differences that explain every op outcome that differs in a step, or null. */
function explained(step: Step | undefined, a: StepTrace, b: StepTrace, tolerate: readonly KnownDifference[]): string[] | null {
  if (!step || tolerate.length === 0) return null;
  if (JSON.stringify(a.events) !== JSON.stringify(b.events) || a.outcomes.length !== b.outcomes.length) return null;
  const ids: string[] = [];
  for (const [index, outcome] of a.outcomes.entries()) {
    const other = b.outcomes[index]!;
    if (outcome === other) continue;
    const op = step.ops[index];
    const known = op && tolerate.find((difference) => difference.explains(op, outcome, other));
    if (!known) return null;
    ids.push(known.id);
  }
  return ids;
}

/** The first step where the traces differ, with both sides, or null when they agree. */
export function compareTraces(script: Script, a: Trace, b: Trace, names: [string, string], options: CompareOptions = {}): Mismatch | null {
  if (JSON.stringify(a.setup) !== JSON.stringify(b.setup)) {
    return { step: -1, report: `setup differs:\n  ${names[0]}: ${a.setup.join('; ')}\n  ${names[1]}: ${b.setup.join('; ')}` };
  }
  const steps = Math.max(a.steps.length, b.steps.length);
  for (let index = 0; index < steps; index++) {
    const x = a.steps[index];
    const y = b.steps[index];
    if (x && y && sameStep(x, y)) continue;
    const step = script.steps[index];
    const ids = x && y ? explained(step, x, y, options.tolerate ?? []) : null;
    if (ids) {
      for (const id of ids) options.onTolerated?.(id);
      continue;
    }
    const lines = [`first mismatch at step #${index}${step ? ` (${showStep(step)})` : ''}:`];
    lines.push(`  ${names[0]}:`, x ? showStepTrace(x, '    ') : '    (no trace)');
    lines.push(`  ${names[1]}:`, y ? showStepTrace(y, '    ') : '    (no trace)');
    lines.push('steps before it (both sides agree):');
    for (let before = 0; before < index; before++) {
      lines.push(`  #${before} ${showStep(script.steps[before]!)}`, showStepTrace(a.steps[before]!, '      → '));
    }
    return { step: index, report: lines.join('\n') };
  }
  return null;
}

/** Every step with both sides' outcomes, differing steps marked `≠` (for investigating a mismatch). */
export function sideBySide(script: Script, a: Trace, b: Trace, names: [string, string]): string {
  const lines: string[] = [];
  script.steps.forEach((step, index) => {
    const x = a.steps[index];
    const y = b.steps[index];
    const same = x && y && sameStep(x, y);
    lines.push(`${same ? ' ' : '≠'} #${index} ${showStep(step)}`);
    if (same) lines.push(showStepTrace(x, '      → '));
    else {
      lines.push(`    ${names[0]}:`, x ? showStepTrace(x, '      ') : '      (none)');
      lines.push(`    ${names[1]}:`, y ? showStepTrace(y, '      ') : '      (none)');
    }
  });
  return lines.join('\n');
}
