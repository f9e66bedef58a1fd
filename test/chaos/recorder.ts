/**
 * Records a chaos run in the history format of test/sim/history.ts: one global index
 * sequence for invocations, completions and client events, wall-clock milliseconds since the
 * start of the run. Node runs callbacks one at a time, so taking the next index when a
 * promise settles orders entries as this process saw them.
 */
import { Err, ZooKeeperError } from '../../src/client/index.js';
import type { ClientEvent, History, Op, Operation, Outcome } from '../sim/history.js';

/** Error codes that mean the server refused the op: it did not take effect. */
const DEFINITE_FAILURES: ReadonlySet<number> = new Set<number>([
  Err.NoNode,
  Err.NodeExists,
  Err.BadVersion,
  Err.NotEmpty,
  Err.NoChildrenForEphemerals,
  Err.BadArguments,
  Err.InvalidACL,
  Err.NoAuth,
]);

/** A rejection as an Outcome: definite failures by code, everything else unknown. */
export function outcomeOfError(error: unknown): Outcome {
  if (error instanceof ZooKeeperError) {
    if (DEFINITE_FAILURES.has(error.code)) return { type: 'fail', code: error.code };
    return { type: 'unknown', reason: error.codeName };
  }
  return { type: 'unknown', reason: error instanceof Error ? error.message : String(error) };
}

/** Session ids as the history writes them: hex, no prefix. */
export function sessionHex(sessionId: bigint): string {
  return sessionId === 0n ? '' : sessionId.toString(16);
}

/** zxids and mzxids as the history writes them: 0x-prefixed hex. */
export function zxidHex(zxid: bigint): string {
  return `0x${zxid.toString(16)}`;
}

type EventInput = ClientEvent extends infer E ? (E extends ClientEvent ? Omit<E, 'index' | 'ms'> : never) : never;

export class Recorder {
  private nextIndex = 0;
  private nextId = 0;
  private readonly startMs = Date.now();
  readonly operations: Operation[] = [];
  readonly events: ClientEvent[] = [];

  private now(): number {
    return Date.now() - this.startMs;
  }

  invoke(client: number, session: string, op: Op): Operation {
    const operation: Operation = {
      id: this.nextId++,
      client,
      session,
      op,
      invokeIndex: this.nextIndex++,
      invokeMs: this.now(),
      completeIndex: null,
      completeMs: null,
      outcome: null,
    };
    this.operations.push(operation);
    return operation;
  }

  /**
   * A place on the timeline taken now, for a completion recorded later: a reply settles its
   * promise, but the code awaiting it runs after the rest of the bytes already read (a watch
   * notification in the same read, say), so the completion takes the index of its reply.
   */
  mark(): { index: number; ms: number } {
    return { index: this.nextIndex++, ms: this.now() };
  }

  /** `at`: the mark of the reply that completed the op (default: now). */
  complete(operation: Operation, outcome: Outcome, at?: { index: number; ms: number }): void {
    if (operation.outcome !== null) throw new Error(`operation ${operation.id} completed twice`);
    if (at !== undefined && at.index <= operation.invokeIndex) throw new Error(`operation ${operation.id}: reply mark ${at.index} before its invocation`);
    const { index, ms } = at ?? this.mark();
    operation.completeIndex = index;
    operation.completeMs = ms;
    operation.outcome = outcome;
  }

  event(event: EventInput): void {
    this.events.push({ ...event, index: this.nextIndex++, ms: this.now() } as ClientEvent);
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
