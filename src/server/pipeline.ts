/**
 * The request pipeline of one server: per-session FIFO queues, the prep stage for writes,
 * commit in zxid order, apply, watches, replies. A session's replies leave in the order its
 * requests came: a read waits behind the session's earlier writes, and is executed only when
 * it reaches the head of the queue, so it sees them.
 */
import { DataTree } from '../tree/index.js';
import type { ApplyResult, Txn, TxnBody } from '../tree/index.js';
import { WatchManager } from '../watch/index.js';
import { OpCode } from '../jute/index.js';
import type { Id } from '../jute/index.js';
import { Preparer } from './prep.js';
import type { PrepContext, PrepSettings } from './prep.js';

/** What a session needs from its connection. */
export interface ReplySink {
  send(frame: Buffer): void;
  /** Ends the connection: its reply could not be built, and its session must not stall. */
  close(): void;
}

interface QueuedRequest {
  /** The encoded reply once known; null while a write awaits its commit. */
  reply: Buffer | null;
  /** For reads: produces the reply when the request reaches the head of the queue. */
  execute: (() => Buffer | null) | null;
  /** A write whose txn has not been applied yet. */
  awaitingCommit: boolean;
  receivedAtMs: number;
  /** Runs after the reply was sent (e.g. closing the connection after closeSession). */
  after?: () => void;
}

export class ClientSession {
  readonly queue: QueuedRequest[] = [];
  readonly authIds: Id[] = [];
  sink: ReplySink | null = null;
  constructor(readonly id: bigint) {}
}

/** Where proposed txns go; it calls `Pipeline.commit` for each, in zxid order. */
export interface Committer {
  propose(txn: Txn): void;
}

type OnApplied = (result: ApplyResult, txn: Txn) => Buffer | null;

interface InFlight {
  session: ClientSession | null;
  entry: QueuedRequest | null;
  onApplied: OnApplied | null;
}

export interface PipelineHooks {
  /** Called after a closeSession txn was applied. */
  sessionClosed(sessionId: bigint): void;
  /** A reply could not be built; its connection is closed. */
  replyFailed?(session: ClientSession, error: Error): void;
  /** Called for each committed txn after it was applied and its watches fired. */
  applied?(txn: Txn, result: ApplyResult): void;
}

/** Request latency from arrival to reply, as `srvr` and `mntr` report it. */
export class LatencyStats {
  count = 0;
  totalMs = 0;
  minMs = 0;
  maxMs = 0;

  record(ms: number): void {
    if (this.count === 0 || ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
    this.count++;
    this.totalMs += ms;
  }

  get avgMs(): number {
    return this.count === 0 ? 0 : this.totalMs / this.count;
  }

  reset(): void {
    this.count = this.totalMs = this.minMs = this.maxMs = 0;
  }
}

export class Pipeline {
  readonly preparer: Preparer;
  readonly latency = new LatencyStats();
  private committer: Committer | null = null;
  private readonly inFlight = new Map<bigint, InFlight>();
  private lastProposedZxid: bigint;
  private outstanding = 0;

  constructor(
    readonly tree: DataTree,
    readonly watches: WatchManager,
    private readonly hooks: PipelineHooks,
    readonly settings: PrepSettings = { extendedTypesEnabled: false, skipAcl: false },
    private readonly clock: () => number = Date.now,
  ) {
    this.preparer = new Preparer(tree, settings);
    this.lastProposedZxid = tree.lastProcessedZxid;
  }

  setCommitter(committer: Committer): void {
    this.committer = committer;
  }

  /** Requests queued or in flight across all sessions. */
  get outstandingRequests(): number {
    return this.outstanding;
  }

  /** Queues a write: prepares it now (assigning its zxid) and proposes its txn. */
  submitWrite(
    session: ClientSession | null,
    build: (ctx: PrepContext) => TxnBody,
    onApplied: OnApplied | null,
    after?: () => void,
  ): bigint {
    if (!this.committer) throw new Error('pipeline has no committer');
    const zxid = this.lastProposedZxid + 1n;
    this.lastProposedZxid = zxid;
    const sessionId = session?.id ?? 0n;
    const ctx: PrepContext = { sessionId, zxid, authIds: session?.authIds ?? [] };
    const body = this.preparer.prepare(() => build(ctx));
    const entry: QueuedRequest | null = session ? { reply: null, execute: null, awaitingCommit: true, receivedAtMs: this.clock(), after } : null;
    if (session && entry) {
      session.queue.push(entry);
      this.outstanding++;
    }
    this.inFlight.set(zxid, { session, entry, onApplied });
    this.committer.propose({ sessionId, cxid: 0, zxid, timeMs: this.clock(), body });
    return zxid;
  }

  /** A write for a session that is not tied to a client request (expiry, server-side). */
  submitServerTxn(sessionId: bigint, build: (ctx: PrepContext) => TxnBody): bigint {
    if (!this.committer) throw new Error('pipeline has no committer');
    const zxid = this.lastProposedZxid + 1n;
    this.lastProposedZxid = zxid;
    const body = this.preparer.prepare(() => build({ sessionId, zxid, authIds: [] }));
    this.inFlight.set(zxid, { session: null, entry: null, onApplied: null });
    this.committer.propose({ sessionId, cxid: 0, zxid, timeMs: this.clock(), body });
    return zxid;
  }

  /** Queues a read (or any request answered locally) behind the session's earlier requests. */
  submitRead(session: ClientSession, execute: () => Buffer | null, after?: () => void): void {
    session.queue.push({ reply: null, execute, awaitingCommit: false, receivedAtMs: this.clock(), after });
    this.outstanding++;
    this.drain(session);
  }

  /** Applies a committed txn: tree, then watches, then the reply, in that order. */
  commit(txn: Txn): void {
    const { result, events } = this.tree.apply(txn);
    this.preparer.committed(txn.zxid);
    for (const event of events) this.watches.trigger(event.type, event.path);
    const flight = this.inFlight.get(txn.zxid);
    this.inFlight.delete(txn.zxid);
    if (txn.body.type === OpCode.closeSession) this.hooks.sessionClosed(txn.sessionId);
    this.hooks.applied?.(txn, result);
    if (flight?.entry && flight.session) {
      flight.entry.reply = flight.onApplied ? this.buildReply(flight.session, () => flight.onApplied!(result, txn)) : null;
      flight.entry.awaitingCommit = false;
      this.drain(flight.session);
    }
  }

  /** Sends every reply at the head of the queue that is ready, executing reads as they come up. */
  drain(session: ClientSession): void {
    const queue = session.queue;
    while (queue.length > 0) {
      const head = queue[0]!;
      if (head.execute) {
        head.reply = this.buildReply(session, head.execute);
        head.execute = null;
      } else if (head.awaitingCommit) {
        return;
      }
      queue.shift();
      this.outstanding--;
      if (head.reply && session.sink) {
        session.sink.send(head.reply);
        this.latency.record(this.clock() - head.receivedAtMs);
      }
      head.after?.();
    }
  }

  /**
   * A reply that cannot be built (a bug, never the client's input) costs that client its
   * connection, not the server: the txn is applied either way, and everyone else goes on.
   */
  private buildReply(session: ClientSession, build: () => Buffer | null): Buffer | null {
    try {
      return build();
    } catch (error) {
      this.hooks.replyFailed?.(session, error as Error);
      session.sink?.close();
      session.sink = null;
      return null;
    }
  }

  /** Drops a session's queued requests (its connection is gone); in-flight writes still commit. */
  detach(session: ClientSession): void {
    session.sink = null;
  }
}
