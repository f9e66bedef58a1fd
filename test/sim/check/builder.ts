/**
 * A small writer of histories for the checkers' tests: invocations, completions and events
 * on one global index, in the order the test calls them.
 */
import type { ClientEvent, History, MemberRecord, OkValue, Op, Operation, Outcome } from '../history.js';

export const created = (path: string): OkValue => ({ kind: 'created', path });
export const stat = (version: number, mzxid = '0'): OkValue => ({ kind: 'stat', version, mzxid });
export const data = (value: string, version: number, mzxid = '0'): OkValue => ({ kind: 'data', data: value, version, mzxid });
export const none: OkValue = { kind: 'none' };
export const absent: OkValue = { kind: 'absent' };
export const children = (names: string[]): OkValue => ({ kind: 'children', children: names });
export const multi = (...results: OkValue[]): OkValue => ({ kind: 'multi', results });

export const ok = (value: OkValue = none): Outcome => ({ type: 'ok', value });
export const fail = (code: number): Outcome => ({ type: 'fail', code });
export const unknown: Outcome = { type: 'unknown', reason: 'test' };

export class HistoryBuilder {
  private next = 0;
  private readonly operations: Operation[] = [];
  private readonly events: ClientEvent[] = [];
  members: MemberRecord[] | undefined;

  /** The session of a client unless given: `s<client>`. */
  invoke(client: number, op: Op, session = `s${client}`): number {
    const id = this.operations.length;
    this.operations.push({ id, client, session, op, invokeIndex: this.next++, invokeMs: 0, completeIndex: null, completeMs: null, outcome: null });
    return id;
  }

  complete(id: number, outcome: Outcome): this {
    const o = this.operations[id]!;
    o.completeIndex = this.next++;
    o.completeMs = 0;
    o.outcome = outcome;
    return this;
  }

  /** An op invoked and completed before anything else happens. */
  run(client: number, op: Op, outcome: Outcome, session?: string): number {
    const id = this.invoke(client, op, session);
    this.complete(id, outcome);
    return id;
  }

  watch(client: number, path: string, eventType: number, session = `s${client}`): this {
    this.events.push({ kind: 'watch', client, session, index: this.next++, ms: 0, eventType, path });
    return this;
  }

  zxid(client: number, zxid: string, xid = 1, session = `s${client}`): this {
    this.events.push({ kind: 'zxid', client, session, index: this.next++, ms: 0, xid, zxid, err: 0 });
    return this;
  }

  session(client: number, state: 'connected' | 'disconnected' | 'expired' | 'closed', session = `s${client}`): this {
    this.events.push({ kind: 'session', client, session, index: this.next++, ms: 0, state });
    return this;
  }

  build(): History {
    const h: History = { operations: this.operations, events: this.events };
    if (this.members) h.members = this.members;
    return h;
  }
}
