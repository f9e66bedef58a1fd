/**
 * The sequential specification the linearizability checker replays: ZooKeeper's data tree,
 * restricted to what a history can show about the paths the checked ops touch.
 *
 * A state holds the present nodes (data, version, ephemeral owner) of one partition and the
 * sessions closed so far. An op is a list of steps (one, or a multi's); replaying it against
 * a state gives the next state, or null when the recorded outcome cannot happen there.
 *
 * The error codes are written out here, not imported from src/: the checker must not share
 * code with the server it judges.
 */
import type { OkValue } from '../history.js';

export const Code = {
  ConnectionLoss: -4,
  OperationTimeout: -7,
  NoNode: -101,
  BadVersion: -103,
  NoChildrenForEphemerals: -108,
  NodeExists: -110,
  NotEmpty: -111,
  SessionExpired: -112,
  RequestTimeout: -122,
} as const;

/** Failures the model can produce: the checker holds the server to exactly these. */
export const MODELLED_CODES: ReadonlySet<number> = new Set([Code.NoNode, Code.BadVersion, Code.NoChildrenForEphemerals, Code.NodeExists, Code.NotEmpty]);

/** Failures a client makes up when it lost track of a request: the op may have taken effect. */
export const IN_DOUBT_CODES: ReadonlySet<number> = new Set([Code.ConnectionLoss, Code.OperationTimeout, Code.RequestTimeout]);

/** Not an error code: a success whose value differs from the recorded one. */
const MISMATCH = 1;

export interface ZNode {
  readonly data: string;
  readonly version: number;
  /** Session key of an ephemeral's owner; '' for a persistent node. */
  readonly owner: string;
}

export interface ModelState {
  readonly nodes: ReadonlyMap<string, ZNode>;
  readonly closed: ReadonlySet<string>;
  /** Canonical text of the state, for the search's memo. */
  readonly key: string;
}

export type Step =
  /** path null: a sequential create whose name the history does not show. */
  | { kind: 'create'; path: string | null; parent: string; data: string; ephemeral: boolean }
  | { kind: 'setData'; path: string; data: string; version: number }
  | { kind: 'delete'; path: string; version: number }
  | { kind: 'check'; path: string; version: number }
  | { kind: 'read'; path: string }
  | { kind: 'close' };

export type Expect = { type: 'ok'; values: Array<OkValue | undefined> } | { type: 'fail'; code: number } | { type: 'unknown' };

/** An op as the model replays it. */
export interface ModelOp {
  /** Session key: the owner of the ephemerals it creates, the session it closes. */
  session: string;
  steps: Step[];
  expect: Expect;
}

export interface ModelContext {
  /** Paths some checked op touches; a parent outside this set is taken to exist throughout. */
  tracked: ReadonlySet<string>;
  /** Paths under which an in-doubt sequential create may have left a child the history cannot name. */
  hiddenChildren: ReadonlySet<string>;
}

export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

export function makeState(nodes: ReadonlyMap<string, ZNode>, closed: ReadonlySet<string>): ModelState {
  const parts = [...nodes].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([path, n]) => `${path}\u0000${n.version}\u0000${n.owner}\u0000${n.data}`);
  const key = `${parts.join('\u0001')}\u0002${[...closed].sort().join('\u0001')}`;
  return { nodes, closed, key };
}

/** The state an op works on: copied on its first write, so reads and failures copy nothing. */
class Draft {
  private own: Map<string, ZNode> | null = null;
  private closedOwn: Set<string> | null = null;

  constructor(private readonly base: ModelState) {}

  get nodes(): ReadonlyMap<string, ZNode> {
    return this.own ?? this.base.nodes;
  }

  get closed(): ReadonlySet<string> {
    return this.closedOwn ?? this.base.closed;
  }

  get changed(): boolean {
    return this.own !== null || this.closedOwn !== null;
  }

  set(path: string, node: ZNode): void {
    this.own ??= new Map(this.base.nodes);
    this.own.set(path, node);
  }

  delete(path: string): void {
    this.own ??= new Map(this.base.nodes);
    this.own.delete(path);
  }

  close(session: string): void {
    if (this.closed.has(session)) return;
    this.closedOwn = new Set(this.base.closed);
    this.closedOwn.add(session);
  }
}

/** A step's outcome: 0 or a code, and a failure code that is also possible (the history cannot tell). */
interface StepResult {
  code: number;
  alsoMay?: number;
}

/**
 * Replays `op` at a linearization point in `state`. Returns the state after it, or null when
 * the recorded outcome is impossible there. An in-doubt op is only ever placed with its effect:
 * placing it with none is the same as leaving it out, which the search allows.
 */
export function apply(state: ModelState, op: ModelOp, ctx: ModelContext): ModelState | null {
  const draft = new Draft(state);
  const { expect } = op;
  for (const [index, step] of op.steps.entries()) {
    const value = expect.type === 'ok' ? expect.values[index] : undefined;
    const r = applyStep(draft, step, op.session, ctx, value);
    if (expect.type === 'fail') {
      // A multi fails with the code of its first failing op; nothing it did stays.
      if (r.alsoMay === expect.code) return state;
      if (r.code !== 0) return r.code === expect.code ? state : null;
    } else if (r.code !== 0) {
      return null;
    }
  }
  if (expect.type === 'fail') return null;
  return draft.changed ? makeState(draft.nodes, draft.closed) : state;
}

function applyStep(d: Draft, s: Step, session: string, ctx: ModelContext, value: OkValue | undefined): StepResult {
  switch (s.kind) {
    case 'create':
      return create(d, s, session, ctx, value);
    case 'setData': {
      const node = d.nodes.get(s.path);
      if (!node) return { code: Code.NoNode };
      if (s.version !== -1 && s.version !== node.version) return { code: Code.BadVersion };
      const version = (node.version + 1) | 0;
      if (value?.kind === 'stat' && value.version !== version) return { code: MISMATCH };
      d.set(s.path, { data: s.data, version, owner: node.owner });
      return { code: 0 };
    }
    case 'delete': {
      const node = d.nodes.get(s.path);
      if (!node) return { code: Code.NoNode };
      if (s.version !== -1 && s.version !== node.version) return { code: Code.BadVersion };
      for (const path of d.nodes.keys()) if (path !== s.path && parentOf(path) === s.path) return { code: Code.NotEmpty };
      d.delete(s.path);
      return ctx.hiddenChildren.has(s.path) ? { code: 0, alsoMay: Code.NotEmpty } : { code: 0 };
    }
    case 'check': {
      const node = d.nodes.get(s.path);
      if (!node) return { code: Code.NoNode };
      if (s.version !== -1 && s.version !== node.version) return { code: Code.BadVersion };
      return { code: 0 };
    }
    case 'read': {
      const node = d.nodes.get(s.path);
      if (!node) return { code: Code.NoNode };
      if (value?.kind === 'data' && (value.data !== node.data || value.version !== node.version)) return { code: MISMATCH };
      if (value?.kind === 'stat' && value.version !== node.version) return { code: MISMATCH };
      return { code: 0 };
    }
    case 'close':
      for (const [path, node] of [...d.nodes]) if (node.owner === session) d.delete(path);
      d.close(session);
      return { code: 0 };
  }
}

/** ZooKeeper's order of checks: parent missing, name taken, parent ephemeral. */
function create(d: Draft, s: Extract<Step, { kind: 'create' }>, session: string, ctx: ModelContext, value: OkValue | undefined): StepResult {
  // A closing or closed session cannot create ephemerals (ZooKeeper answers SessionExpired).
  if (s.ephemeral && d.closed.has(session)) return { code: Code.SessionExpired };
  const parent = ctx.tracked.has(s.parent) ? d.nodes.get(s.parent) : { data: '', version: 0, owner: '' };
  if (!parent) return { code: Code.NoNode };
  if (s.path === null) {
    // A sequential name the history does not show: it may clash with a node made by hand.
    return parent.owner !== '' ? { code: Code.NoChildrenForEphemerals } : { code: 0, alsoMay: Code.NodeExists };
  }
  if (d.nodes.has(s.path)) return { code: Code.NodeExists };
  if (parent.owner !== '') return { code: Code.NoChildrenForEphemerals };
  if (value?.kind === 'created' && value.path !== s.path) return { code: MISMATCH };
  if (value?.kind === 'stat' && value.version !== 0) return { code: MISMATCH };
  d.set(s.path, { data: s.data, version: 0, owner: s.ephemeral ? session : '' });
  return { code: 0 };
}
