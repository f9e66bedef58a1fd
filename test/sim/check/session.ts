/**
 * What one client session must see, per ZooKeeper's guarantees: replies in request order,
 * zxids that never go back, and a watch notification before the data that fired it.
 */
import type { ClientEvent, History, Operation, Violation } from '../history.js';
import { IN_DOUBT_CODES, Code } from './model.js';

/** A zxid from the history's hex text; null for text that is not a zxid (or <= 0). */
export function parseZxid(text: string): bigint | null {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.startsWith('-')) return null;
  try {
    const value = BigInt(trimmed.startsWith('0x') || trimmed.startsWith('0X') ? trimmed : `0x${trimmed}`);
    return value > 0n ? value : null;
  } catch {
    return null;
  }
}

function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k) ?? [];
    list.push(item);
    groups.set(k, list);
  }
  return groups;
}

/** A reply the server sent (not one the client made up when it lost the connection). */
function answeredByServer(o: Operation): boolean {
  if (o.completeIndex === null || o.outcome === null) return false;
  if (o.outcome.type === 'ok') return true;
  return o.outcome.type === 'fail' && !IN_DOUBT_CODES.has(o.outcome.code) && o.outcome.code !== Code.SessionExpired;
}

/**
 * Per-session FIFO: ZooKeeper answers one session's requests in the order they were sent.
 * For two server-answered ops of the same client and session, the one invoked first completes
 * first (syncRead excepted). One violation per op found out of order.
 */
export function checkSessionFifo(history: History): Violation[] {
  const violations: Violation[] = [];
  // A syncRead is two requests (sync, then getData): the client may send the getData after a
  // later-invoked op, so its invocation does not order it. It takes no part here.
  const answered = history.operations.filter((o) => o.session !== '' && o.op.type !== 'syncRead' && answeredByServer(o));
  for (const ops of groupBy(answered, (o) => `${o.client}/${o.session}`).values()) {
    ops.sort((a, b) => a.invokeIndex - b.invokeIndex);
    let latest: Operation | null = null;
    for (const o of ops) {
      if (latest !== null && o.completeIndex! < latest.completeIndex!) {
        violations.push({
          checker: 'session-fifo',
          message: `session ${o.session} (client ${o.client}): op #${o.id} (${o.op.type}, invoked at ${o.invokeIndex}) completed at ${o.completeIndex} before op #${latest.id} (${latest.op.type}, invoked earlier at ${latest.invokeIndex}) completed at ${latest.completeIndex}`,
          operations: [latest.id, o.id],
        });
        continue;
      }
      latest = o;
    }
  }
  return violations;
}

/**
 * The zxids a client sees in one session never go down (ZooKeeper never lets a client
 * reconnect to a member behind what it has seen). Pings (xid -2) and zxids <= 0 (a
 * notification's -1) are not zxids to compare.
 */
export function checkZxidMonotonic(history: History): Violation[] {
  const violations: Violation[] = [];
  const zxidEvents = history.events.filter((e): e is Extract<ClientEvent, { kind: 'zxid' }> => e.kind === 'zxid' && e.xid !== -2);
  for (const events of groupBy(zxidEvents, (e) => `${e.client}/${e.session}`).values()) {
    events.sort((a, b) => a.index - b.index);
    let highest: { zxid: bigint; index: number } | null = null;
    for (const e of events) {
      const zxid = parseZxid(e.zxid);
      if (zxid === null) continue;
      if (highest !== null && zxid < highest.zxid) {
        violations.push({
          checker: 'zxid-monotonic',
          message: `session ${e.session} (client ${e.client}): zxid 0x${zxid.toString(16)} (xid ${e.xid}, event ${e.index}) after 0x${highest.zxid.toString(16)} (event ${highest.index})`,
          events: [highest.index, e.index],
        });
        continue;
      }
      highest = { zxid, index: e.index };
    }
  }
  return violations;
}

/** What a server-answered read showed of its path. */
interface View {
  present: boolean;
  /** Data version stamp, when the reply had one. */
  mzxid: bigint | null;
  /** Children, for getChildren. */
  children: ReadonlySet<string> | null;
}

function pathOf(o: Operation): string {
  return 'path' in o.op ? o.op.path : '';
}

const READS: ReadonlySet<string> = new Set(['getData', 'exists', 'getChildren', 'syncRead']);

function viewOf(o: Operation): View | null {
  if (!READS.has(o.op.type) || o.completeIndex === null || o.outcome === null) return null;
  if (o.outcome.type === 'fail') return o.outcome.code === Code.NoNode ? { present: false, mzxid: null, children: null } : null;
  if (o.outcome.type !== 'ok') return null;
  const v = o.outcome.value;
  switch (v.kind) {
    case 'absent':
      return { present: false, mzxid: null, children: null };
    case 'data':
    case 'stat':
      return { present: true, mzxid: parseZxid(v.mzxid), children: null };
    case 'children':
      return { present: true, mzxid: null, children: new Set(v.children) };
    default:
      return null;
  }
}

/** EventType numbers: NodeCreated 1, NodeDeleted 2, NodeDataChanged 3, NodeChildrenChanged 4. */
const DATA_WATCH_EVENTS: ReadonlySet<number> = new Set([1, 2, 3]);
const CHILD_WATCH_EVENTS: ReadonlySet<number> = new Set([2, 4]);

/** Whether `later` proves the watched thing changed after `first` registered the watch. */
function changed(first: View, later: View, childWatch: boolean): boolean {
  if (first.present !== later.present) return true;
  if (!first.present) return false;
  if (childWatch) {
    if (first.children === null || later.children === null) return false;
    return first.children.size !== later.children.size || [...first.children].some((c) => !later.children!.has(c));
  }
  return first.mzxid !== null && later.mzxid !== null && later.mzxid > first.mzxid;
}

export interface WatchOrderOptions {
  /** Watches survive a reconnect (the client re-registers them, as ZooKeeper's does). Default true. */
  watchesSurviveReconnect?: boolean;
}

/**
 * A client sees a watch's notification before the data that fired it. For a read with
 * watch=true (ok; or exists on a missing node) and the first later read of the same path in
 * the same session that proves a change since, a notification of a matching type for the path
 * must have come between the two replies. A child watch (getChildren) only counts changes of
 * the child list or the node's deletion; an exists watch on a missing node, its creation.
 * The check stops at the session's expiry or close (and, unless watches survive a reconnect,
 * at a disconnection).
 */
export function checkWatchOrder(history: History, options: WatchOrderOptions = {}): Violation[] {
  const survive = options.watchesSurviveReconnect ?? true;
  const violations: Violation[] = [];
  const reads = history.operations.filter((o) => o.session !== '' && viewOf(o) !== null);
  const watchEvents = history.events.filter((e): e is Extract<ClientEvent, { kind: 'watch' }> => e.kind === 'watch');
  const breaks = history.events.filter((e) => e.kind === 'session' && (e.state === 'expired' || e.state === 'closed' || (!survive && e.state === 'disconnected')));
  for (const ops of groupBy(reads, (o) => `${o.client}/${o.session}/${pathOf(o)}`).values()) {
    ops.sort((a, b) => a.completeIndex! - b.completeIndex!);
    for (const [i, r1] of ops.entries()) {
      if (!('watch' in r1.op) || !r1.op.watch || r1.outcome?.type !== 'ok') continue;
      const childWatch = r1.op.type === 'getChildren';
      const first = viewOf(r1)!;
      const from = r1.completeIndex!;
      const r2 = ops.slice(i + 1).find((o) => changed(first, viewOf(o)!, childWatch));
      if (!r2) continue;
      const to = r2.completeIndex!;
      if (breaks.some((e) => e.client === r1.client && e.index > from && e.index < to)) continue;
      const kinds = childWatch ? CHILD_WATCH_EVENTS : DATA_WATCH_EVENTS;
      const seen = watchEvents.some((e) => e.client === r1.client && e.path === pathOf(r1) && kinds.has(e.eventType) && e.index > from && e.index < to);
      if (seen) continue;
      violations.push({
        checker: 'watch-order',
        message: `client ${r1.client} session ${r1.session}: op #${r2.id} (${r2.op.type}) saw ${pathOf(r1)} changed since the watch op #${r1.id} (${r1.op.type}) set, with no notification before it`,
        operations: [r1.id, r2.id],
      });
    }
  }
  return violations;
}

/**
 * Reads in one session never go back in time: the mzxid one read of a path shows is not below
 * what an earlier read of the same path in the same session showed. Reads are ordered by
 * completion: the server answers a session in the order it processes its requests (a
 * syncRead's getData is sent only after its sync, so its invocation does not order it).
 */
export function checkSessionMonotonicReads(history: History): Violation[] {
  const violations: Violation[] = [];
  const reads = history.operations.filter((o) => o.session !== '' && (viewOf(o)?.mzxid ?? null) !== null);
  for (const ops of groupBy(reads, (o) => `${o.client}/${o.session}/${pathOf(o)}`).values()) {
    ops.sort((a, b) => a.completeIndex! - b.completeIndex!);
    let newest: { op: Operation; mzxid: bigint } | null = null;
    for (const o of ops) {
      const mzxid = viewOf(o)!.mzxid!;
      if (newest !== null && mzxid < newest.mzxid) {
        violations.push({
          checker: 'session-monotonic-reads',
          message: `client ${o.client} session ${o.session}: op #${o.id} read mzxid 0x${mzxid.toString(16)} after op #${newest.op.id} read 0x${newest.mzxid.toString(16)}`,
          operations: [newest.op.id, o.id],
        });
        continue;
      }
      newest = { op: o, mzxid };
    }
  }
  return violations;
}
