/**
 * Linearizability of the writes and sync-reads of a history against ZooKeeper's data tree.
 *
 * THE WORKLOAD CONTRACT (what a simulator or chaos workload must respect for this checker to
 * be sound, i.e. never to report a correct server):
 *
 * - Checked ops: create (persistent, ephemeral, persistent_sequential, ephemeral_sequential),
 *   setData, delete, check, multi of those, syncRead, closeSession. getData, exists and
 *   getChildren are not linearizable in ZooKeeper (a follower may serve them stale): they are
 *   left out here (the watch and session checkers read them).
 * - A path is "tracked" when a checked op names it (or a sequential create's ok result does).
 *   Every tracked path is absent when the history starts, unless `options.initial` says
 *   otherwise. A parent that is not tracked is taken to exist throughout and to be persistent:
 *   create the workload's parents (say /sim) before the recorded history starts, or record
 *   their creation as ops. Parent/child relations between tracked paths are modelled (NoNode
 *   for a missing parent, NotEmpty, NoChildrenForEphemerals).
 * - Sequential creates: the created name is the one in the ok result (`created` path); the
 *   counter is not modelled. A sequential create whose name the history does not show (in
 *   doubt, or ok without a name) may have left a child nobody can name: under its parent a
 *   delete may then also fail with NotEmpty. The workload must only act on sequential names
 *   it learnt from an ok create result (not from getChildren).
 * - container and ttl nodes vanish on the server's own initiative: a partition that holds one
 *   is not checked (counted in stats.skipped).
 * - Ephemerals and sessions: an op's session is `session` (or the client number when it is
 *   ''). closeSession deletes that session's ephemerals atomically, and afterwards the session
 *   cannot create ephemerals. A session expires at a point the client does not see: every
 *   session with a 'session'/'expired' event, and every session whose client's last session
 *   event is 'disconnected', gets a closeSession in doubt that may take place at any point
 *   (or never). With `unobservedExpiry`, every session may; otherwise a session that is not
 *   shown expired must stay alive until the history ends (keep clients connected through the
 *   final reads, or let them see the expiry).
 * - Outcomes: ok → took effect with that result (created name, stat version, read data and
 *   version; mzxid is not modelled). fail with NoNode(-101), BadVersion(-103),
 *   NoChildrenForEphemerals(-108), NodeExists(-110), NotEmpty(-111) → no effect, and the model
 *   must produce exactly that code at the op's linearization point (a multi: the code of its
 *   first failing op). fail with ConnectionLoss(-4), OperationTimeout(-7), RequestTimeout(-122),
 *   unknown, or no completion → in doubt: may take effect at any point after the invocation,
 *   or never. Any other fail code (SessionExpired, SessionMoved, NoAuth, ...) → no effect, and
 *   the op is left out.
 *
 * The history is split into independent partitions (union-find over the paths an op touches:
 * a multi joins its paths, a closeSession joins its session's ephemerals, a child joins a
 * tracked parent), and each partition is searched alone, up to `maxStates` memo entries.
 */
import type { History, Op, OkValue, Operation, Violation } from '../history.js';
import { apply, IN_DOUBT_CODES, makeState, MODELLED_CODES, parentOf } from './model.js';
import type { Expect, ModelContext, ModelOp, ModelState, Step, ZNode } from './model.js';
import { searchLinearization } from './search.js';

export interface LinearizabilityOptions {
  /** Memo entries a partition's search may make before it gives up. Default 1,000,000. */
  maxStates?: number;
  /** Report a partition whose search gave up as a 'linearizability-budget' violation. */
  reportBudget?: boolean;
  /** Nodes present before the history starts (persistent). */
  initial?: Record<string, { data: string; version: number }>;
  /** Every session (not only those shown expired) may expire at any point. */
  unobservedExpiry?: boolean;
}

export interface LinearizabilityStats {
  partitions: number;
  /** Memo entries made, summed over partitions. */
  statesExplored: number;
  /** Partitions whose search ran out of budget: neither passed nor failed. */
  gaveUp: number;
  /** Partitions not checked (container or ttl nodes). */
  skipped: number;
  /** Ops that took part in the search, synthetic expiries included. */
  checkedOps: number;
}

export const DEFAULT_MAX_STATES = 1_000_000;
const MAX_IDS_IN_MESSAGE = 12;

/** An op ready for the search: id null for a synthetic session expiry. */
interface Prepared {
  id: number | null;
  label: string;
  model: ModelOp;
  call: number;
  ret: number | null;
  unsupported: boolean;
  paths: string[];
}

type CheckedOp = Extract<Op, { type: 'create' | 'setData' | 'delete' | 'check' }>;

function sessionKey(o: { session: string; client: number }): string {
  return o.session !== '' ? o.session : `client:${o.client}`;
}

function expectOf(o: Operation): Expect | null {
  const out = o.outcome;
  if (out === null || o.completeIndex === null || out.type === 'unknown') return { type: 'unknown' };
  if (out.type === 'ok') {
    if (o.op.type !== 'multi') return { type: 'ok', values: [out.value] };
    return { type: 'ok', values: out.value.kind === 'multi' ? out.value.results : [] };
  }
  if (IN_DOUBT_CODES.has(out.code)) return { type: 'unknown' };
  return MODELLED_CODES.has(out.code) ? { type: 'fail', code: out.code } : null;
}

/** A step, or 'unsupported' (container, ttl). */
function stepOf(op: CheckedOp, value: OkValue | undefined): Step | 'unsupported' {
  switch (op.type) {
    case 'create': {
      if (op.mode === 'container' || op.mode === 'ttl') return 'unsupported';
      const sequential = op.mode.endsWith('_sequential');
      const path = !sequential ? op.path : value?.kind === 'created' ? value.path : null;
      return { kind: 'create', path, parent: parentOf(op.path), data: op.data, ephemeral: op.mode.startsWith('ephemeral') };
    }
    case 'setData':
      return { kind: 'setData', path: op.path, data: op.data, version: op.version };
    case 'delete':
      return { kind: 'delete', path: op.path, version: op.version };
    case 'check':
      return { kind: 'check', path: op.path, version: op.version };
  }
}

function prepare(o: Operation): Prepared | null {
  const expect = expectOf(o);
  if (expect === null) return null;
  const values = expect.type === 'ok' ? expect.values : [];
  let steps: Array<Step | 'unsupported'>;
  switch (o.op.type) {
    case 'getData':
    case 'exists':
    case 'getChildren':
      return null;
    case 'syncRead':
      steps = [{ kind: 'read', path: o.op.path }];
      break;
    case 'closeSession':
      steps = [{ kind: 'close' }];
      break;
    case 'multi':
      steps = o.op.ops.map((sub, i) => stepOf(sub, values[i]));
      break;
    default:
      steps = [stepOf(o.op, values[0])];
  }
  const unsupported = steps.includes('unsupported');
  const modelSteps = steps.filter((s): s is Step => s !== 'unsupported');
  // An op in doubt that only reads tells nothing.
  if (expect.type === 'unknown' && modelSteps.every((s) => s.kind === 'read' || s.kind === 'check')) return null;
  const paths = modelSteps.flatMap((s) => ('path' in s && s.path !== null ? [s.path] : []));
  if (unsupported) {
    for (const sub of o.op.type === 'multi' ? o.op.ops : [o.op as CheckedOp]) paths.push(sub.path);
  }
  const outcome = o.outcome === null ? 'none' : o.outcome.type === 'ok' ? 'ok' : o.outcome.type === 'fail' ? `fail ${o.outcome.code}` : 'unknown';
  const target = 'path' in o.op ? ` ${o.op.path}` : '';
  return {
    id: o.id,
    label: `#${o.id} (client ${o.client} ${o.op.type}${target} → ${outcome})`,
    model: { session: sessionKey(o), steps: modelSteps, expect },
    call: o.invokeIndex,
    ret: expect.type === 'unknown' ? null : o.completeIndex,
    unsupported,
    paths,
  };
}

class UnionFind {
  private readonly parent = new Map<string, string>();

  find(x: string): string {
    let root = x;
    for (let p = this.parent.get(root); p !== undefined && p !== root; p = this.parent.get(root)) root = p;
    if (!this.parent.has(x)) this.parent.set(x, x);
    // Path compression, bounded by the chain just walked.
    for (let node = x; node !== root; ) {
      const next = this.parent.get(node)!;
      this.parent.set(node, root);
      node = next;
    }
    return root;
  }

  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }
}

/** Sessions that may expire unseen: shown expired, or last seen disconnected. */
function expiringSessions(history: History, all: boolean, ephemeralOwners: Iterable<string>): Set<string> {
  const sessions = new Set<string>();
  if (all) for (const s of ephemeralOwners) sessions.add(s);
  const last = new Map<number, { state: string; session: string }>();
  for (const e of [...history.events].sort((a, b) => a.index - b.index)) {
    if (e.kind !== 'session') continue;
    const session = sessionKey(e);
    if (e.state === 'expired') sessions.add(session);
    last.set(e.client, { state: e.state, session });
  }
  for (const { state, session } of last.values()) if (state === 'disconnected') sessions.add(session);
  return sessions;
}

interface Prepass {
  ops: Prepared[];
  ctx: ModelContext;
}

/** Prepares the ops, adds synthetic expiries, and fills in the paths each op touches. */
function prepass(history: History, options: LinearizabilityOptions): Prepass {
  const ops = history.operations.map(prepare).filter((p): p is Prepared => p !== null);
  const tracked = new Set(ops.flatMap((p) => p.paths));
  const hiddenChildren = new Set<string>();
  const ephemerals = new Map<string, Set<string>>();
  for (const p of ops) {
    if (p.model.expect.type === 'fail') continue;
    for (const s of p.model.steps) {
      if (s.kind !== 'create') continue;
      if (s.path === null) hiddenChildren.add(s.parent);
      else if (s.ephemeral) {
        const owned = ephemerals.get(p.model.session) ?? new Set<string>();
        owned.add(s.path);
        ephemerals.set(p.model.session, owned);
      }
    }
  }
  const expiring = expiringSessions(history, options.unobservedExpiry ?? false, ephemerals.keys());
  for (const session of expiring) {
    ops.push({ id: null, label: `(expiry of session ${session})`, model: { session, steps: [{ kind: 'close' }], expect: { type: 'unknown' } }, call: -1, ret: null, unsupported: false, paths: [] });
  }
  for (const p of ops) {
    for (const s of p.model.steps) {
      if (s.kind === 'create' && s.path === null && tracked.has(s.parent)) p.paths.push(s.parent);
      if (s.kind === 'close') p.paths.push(...(ephemerals.get(p.model.session) ?? []));
    }
  }
  return { ops: ops.filter((p) => p.paths.length > 0), ctx: { tracked, hiddenChildren } };
}

export interface LinearizabilityResult {
  violations: Violation[];
  stats: LinearizabilityStats;
}

export function checkLinearizableDetailed(history: History, options: LinearizabilityOptions = {}): LinearizabilityResult {
  const { ops, ctx } = prepass(history, options);
  const uf = new UnionFind();
  for (const p of ops) for (const path of p.paths) uf.union(p.paths[0]!, path);
  for (const path of ctx.tracked) if (ctx.tracked.has(parentOf(path)) && parentOf(path) !== path) uf.union(path, parentOf(path));
  const partitions = new Map<string, Prepared[]>();
  for (const p of ops) {
    const root = uf.find(p.paths[0]!);
    const list = partitions.get(root) ?? [];
    list.push(p);
    partitions.set(root, list);
  }
  const stats: LinearizabilityStats = { partitions: partitions.size, statesExplored: 0, gaveUp: 0, skipped: 0, checkedOps: 0 };
  const violations: Violation[] = [];
  for (const [root, part] of partitions) {
    if (part.some((p) => p.unsupported)) {
      stats.skipped++;
      continue;
    }
    const initial = new Map<string, ZNode>();
    for (const [path, node] of Object.entries(options.initial ?? {})) {
      if (ctx.tracked.has(path) && uf.find(path) === root) initial.set(path, { ...node, owner: '' });
    }
    stats.checkedOps += part.length;
    const v = checkPartition(part, makeState(initial, new Set()), ctx, options, stats);
    if (v) violations.push(v);
  }
  return { violations, stats };
}

export function checkLinearizable(history: History, options: LinearizabilityOptions = {}): Violation[] {
  return checkLinearizableDetailed(history, options).violations;
}

/** Most transitions are replayed many times from equal states: remember them, up to a bound. */
const MAX_CACHED_TRANSITIONS = 1_000_000;

function cachedStep(part: Prepared[], ctx: ModelContext): (state: ModelState, index: number) => ModelState | null {
  let cache = new Map<string, Map<number, ModelState | null>>();
  let size = 0;
  return (state, index) => {
    let byOp = cache.get(state.key);
    if (!byOp) {
      if (size >= MAX_CACHED_TRANSITIONS) {
        cache = new Map();
        size = 0;
      }
      byOp = new Map();
      cache.set(state.key, byOp);
    }
    let next = byOp.get(index);
    if (next === undefined) {
      next = apply(state, part[index]!.model, ctx);
      byOp.set(index, next);
      size++;
    }
    return next;
  };
}

function checkPartition(part: Prepared[], init: ModelState, ctx: ModelContext, options: LinearizabilityOptions, stats: LinearizabilityStats): Violation | null {
  part.sort((a, b) => a.call - b.call);
  const result = searchLinearization<ModelState>(part, { init, step: cachedStep(part, ctx), key: (s) => s.key }, options.maxStates ?? DEFAULT_MAX_STATES);
  stats.statesExplored += result.statesExplored;
  const ids = part.flatMap((p) => (p.id === null ? [] : [p.id]));
  const paths = [...new Set(part.flatMap((p) => p.paths))].sort();
  if (result.outcome === 'linearizable') return null;
  if (result.outcome === 'budget') {
    stats.gaveUp++;
    if (!options.reportBudget) return null;
    return { checker: 'linearizability-budget', message: `gave up on ${paths.join(', ')} (${part.length} ops) after ${result.statesExplored} states: neither proved nor refuted`, operations: ids };
  }
  const placed = result.longest.map((i) => part[i]!.label);
  const shown = placed.length > MAX_IDS_IN_MESSAGE ? ['…', ...placed.slice(-MAX_IDS_IN_MESSAGE)] : placed;
  const blocked = result.blocked === null ? 'none' : part[result.blocked]!.label;
  const message =
    `not linearizable on ${paths.join(', ')} (${part.length} ops): the longest linearizable order found places ` +
    `${placed.length} ops [${shown.join(', ')}]; op ${blocked} could not be placed before its completion`;
  const blockedId = result.blocked === null ? null : part[result.blocked]!.id;
  return { checker: 'linearizability', message, operations: blockedId === null ? ids : [blockedId, ...ids.filter((id) => id !== blockedId)] };
}
