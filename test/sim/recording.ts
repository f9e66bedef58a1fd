/**
 * Writing a History (history.ts) from real ZooKeeperClients, shared by the simulator and the
 * chaos runner: one global timeline, and the mapping between the history's ops and outcomes
 * and the client's calls and errors.
 */
import { Err, ZooKeeperError } from '../../src/client/index.js';
import type { CreateMode, OpResult, Op as ClientOp, Stat } from '../../src/client/index.js';
import type { ClientEvent, History, Op, OkValue, Operation, Outcome } from './history.js';

/** A place on the timeline: its index and the time it was taken (ms since the run began). */
export interface Mark {
  index: number;
  ms: number;
}

/** One global timeline for every entry of a run. */
export class Recorder {
  readonly operations: Operation[] = [];
  readonly events: ClientEvent[] = [];
  private counter = 0;
  private nextOpId = 0;

  /** `elapsedMs`: the run's clock (virtual in the simulator, wall-clock in chaos). */
  constructor(private readonly elapsedMs: () => number) {}

  invoke(client: number, session: string, op: Op): Operation {
    const { index, ms } = this.mark();
    const operation: Operation = { id: this.nextOpId++, client, session, op, invokeIndex: index, invokeMs: ms, completeIndex: null, completeMs: null, outcome: null };
    this.operations.push(operation);
    return operation;
  }

  /**
   * A place taken now, for a completion recorded later: a reply settles its promise, but the
   * code awaiting it runs after the rest of the bytes already read (a watch notification in
   * the same read, say), so the completion takes the mark of its reply header.
   */
  mark(): Mark {
    return { index: this.counter++, ms: this.elapsedMs() };
  }

  /** `at`: the mark of the reply that completed the op (default: now). */
  complete(operation: Operation, outcome: Outcome, at?: Mark): void {
    if (operation.outcome !== null) throw new Error(`operation ${operation.id} completed twice`);
    if (at !== undefined && at.index <= operation.invokeIndex) throw new Error(`operation ${operation.id}: reply mark ${at.index} before its invocation`);
    const { index, ms } = at ?? this.mark();
    operation.completeIndex = index;
    operation.completeMs = ms;
    operation.outcome = outcome;
  }

  event(event: DistributiveOmit<ClientEvent, 'index' | 'ms'>): void {
    const { index, ms } = this.mark();
    this.events.push({ ...event, index, ms } as ClientEvent);
  }

  history(): History {
    return { operations: this.operations, events: this.events };
  }

  counts(): { ok: number; fail: number; unknown: number; pending: number } {
    const counts = { ok: 0, fail: 0, unknown: 0, pending: 0 };
    for (const o of this.operations) {
      if (o.outcome === null) counts.pending++;
      else counts[o.outcome.type]++;
    }
    return counts;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Error codes that mean the operation certainly did not take effect. */
const DEFINITE_FAILURES = new Set<number>([
  Err.NoNode,
  Err.NodeExists,
  Err.BadVersion,
  Err.NotEmpty,
  Err.NoChildrenForEphemerals,
  Err.NoAuth,
  Err.InvalidACL,
  Err.BadArguments,
  Err.Unimplemented,
]);

export function hex(value: bigint): string {
  return BigInt.asUintN(64, value).toString(16);
}

/** A zxid as signed hex: a notification's -1 stays '-1' (the checkers skip it), not 'ffff…'. */
export function zxidHex(value: bigint): string {
  return value < 0n ? `-${(-value).toString(16)}` : value.toString(16);
}

/** Session ids as the history writes them: hex; '' before there is one. */
export function sessionHex(sessionId: bigint): string {
  return sessionId === 0n ? '' : hex(sessionId);
}

/** A rejection as an Outcome: definite failures by code, everything else in doubt. */
export function outcomeOfError(error: unknown): Outcome {
  if (error instanceof ZooKeeperError) {
    if (DEFINITE_FAILURES.has(error.code)) return { type: 'fail', code: error.code };
    return { type: 'unknown', reason: error.codeName };
  }
  return { type: 'unknown', reason: error instanceof Error ? error.message : String(error) };
}

export const CREATE_MODES: Record<Extract<Op, { type: 'create' }>['mode'], CreateMode> = {
  persistent: 'persistent',
  ephemeral: 'ephemeral',
  persistent_sequential: 'persistentSequential',
  ephemeral_sequential: 'ephemeralSequential',
  container: 'container',
  ttl: 'persistentWithTtl',
};

/** TTL of the history's ttl creates. */
export const TTL_MS = 2000;

export const statValue = (stat: Stat): OkValue => ({ kind: 'stat', version: stat.version, mzxid: hex(stat.mzxid) });

export function toClientOp(op: Extract<Op, { type: 'multi' }>['ops'][number]): ClientOp {
  switch (op.type) {
    case 'create':
      return { type: 'create', path: op.path, data: op.data, mode: CREATE_MODES[op.mode], ttlMs: op.mode === 'ttl' ? TTL_MS : undefined };
    case 'setData':
      return { type: 'setData', path: op.path, data: op.data, version: op.version };
    case 'delete':
      return { type: 'delete', path: op.path, version: op.version };
    case 'check':
      return { type: 'check', path: op.path, version: op.version };
  }
}

/** One result of a multi (or multiRead) as the history writes it. */
export function multiResult(result: OpResult): OkValue {
  switch (result.type) {
    case 'create':
      return { kind: 'created', path: result.path };
    case 'setData':
      return statValue(result.stat);
    case 'getData':
      return { kind: 'data', data: result.data.toString('utf8'), version: result.stat.version, mzxid: hex(result.stat.mzxid) };
    case 'getChildren':
      return { kind: 'children', children: [...result.children].sort() };
    default:
      return { kind: 'none' };
  }
}
