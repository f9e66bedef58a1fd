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
  /**
   * The session's ids, replaced (never changed in place) by auth: a request keeps the ids of
   * its arrival, as in ZooKeeper, even when an auth packet overtakes it.
   */
  authIds: readonly Id[] = [];

  addAuthId(id: Id): void {
    if (!this.authIds.some((known) => known.scheme === id.scheme && known.id === id.id)) this.authIds = [...this.authIds, id];
  }
  sink: ReplySink | null = null;
  /** The cxid its txns carry: 0 for local sessions; a forwarded request's on the leader. */
  cxid = 0;
  constructor(readonly id: bigint) {}
}

/** Where proposed txns go; it calls `Pipeline.commit` for each, in zxid order. */
export interface Committer {
  propose(txn: Txn): void;
  /**
   * The zxid the next txn gets, or null when this server cannot propose now (an ensemble
   * member that is not an established leader). Without it zxids simply count up (standalone).
   */
  nextZxid?(): bigint | null;
}

/** On an ensemble learner: sends a write to the leader instead of preparing it here. */
export interface WriteForwarder {
  /** Forwards the request being handled for `session`; false when there is no leader to take it. */
  forward(session: ClientSession, cxid: number): boolean;
  /** This member's id, so the cxids it chooses never collide with another member's. */
  readonly memberId: number;
}

function forwardKey(sessionId: bigint, cxid: number): bigint {
  return (sessionId << 32n) | BigInt(cxid >>> 0);
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
  /** Set on ensemble learners: writes go to the leader. */
  forwarder: WriteForwarder | null = null;
  private readonly forwarded = new Map<bigint, InFlight>();
  private forwardCounter = 0;

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
    if (this.forwarder && session) return this.forwardWrite(session, onApplied, after);
    const zxid = this.takeZxid();
    if (zxid === null) {
      // Not a leader (any more): the client tries again, elsewhere if need be.
      session?.sink?.close();
      return -1n;
    }
    const sessionId = session?.id ?? 0n;
    const ctx: PrepContext = { sessionId, zxid, authIds: session?.authIds ?? [] };
    const body = this.preparer.prepare(() => build(ctx));
    const entry: QueuedRequest | null = session ? { reply: null, execute: null, awaitingCommit: true, receivedAtMs: this.clock(), after } : null;
    if (session && entry) {
      session.queue.push(entry);
      this.outstanding++;
    }
    this.inFlight.set(zxid, { session, entry, onApplied });
    this.committer.propose({ sessionId, cxid: session?.cxid ?? 0, zxid, timeMs: this.clock(), body });
    return zxid;
  }

  private takeZxid(): bigint | null {
    if (this.committer?.nextZxid) return this.committer.nextZxid();
    const zxid = this.lastProposedZxid + 1n;
    this.lastProposedZxid = zxid;
    return zxid;
  }

  /** A learner's write: queued here, prepared by the leader, answered when its txn commits here. */
  private forwardWrite(session: ClientSession, onApplied: OnApplied | null, after?: () => void): bigint {
    this.forwardCounter = (this.forwardCounter + 1) & 0xffffff;
    const cxid = ((this.forwarder!.memberId & 0x7f) << 24) | this.forwardCounter;
    if (!this.forwarder!.forward(session, cxid)) {
      session.sink?.close();
      return -1n;
    }
    const entry: QueuedRequest = { reply: null, execute: null, awaitingCommit: true, receivedAtMs: this.clock(), after };
    session.queue.push(entry);
    this.outstanding++;
    this.forwarded.set(forwardKey(session.id, cxid), { session, entry, onApplied });
    return -1n;
  }

  /** Queues a request answered later by `complete` (a learner's `sync`). */
  submitDeferred(session: ClientSession): (build: (() => Buffer | null) | null) => void {
    const entry: QueuedRequest = { reply: null, execute: null, awaitingCommit: true, receivedAtMs: this.clock() };
    session.queue.push(entry);
    this.outstanding++;
    // The reply is built when it reaches the head of the queue, so its header carries a zxid
    // no older than the replies the session was sent before it.
    return (build) => {
      entry.execute = build;
      entry.awaitingCommit = false;
      this.drain(session);
    };
  }

  /** Forgets every prepared-but-uncommitted write (a change of leader); their clients are disconnected. */
  abandonInFlight(): void {
    const sessions = new Set<ClientSession>();
    for (const flight of [...this.inFlight.values(), ...this.forwarded.values()]) {
      if (flight.session === null || flight.entry === null) continue;
      // Its connection is being closed: nothing more goes out, and the queue empties.
      flight.session.sink = null;
      flight.entry.awaitingCommit = false;
      sessions.add(flight.session);
    }
    this.inFlight.clear();
    this.forwarded.clear();
    this.preparer.reset();
    for (const session of sessions) this.drain(session);
  }

  /** A write for a session that is not tied to a client request (expiry, server-side). */
  submitServerTxn(sessionId: bigint, build: (ctx: PrepContext) => TxnBody): bigint {
    if (!this.committer) throw new Error('pipeline has no committer');
    const zxid = this.takeZxid();
    if (zxid === null) return -1n;
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

  /**
   * Applies a committed txn: tree, then watches, then the reply, in that order. Returns the
   * session whose request this server answered with it (null when the txn was not one of ours).
   */
  commit(txn: Txn): ClientSession | null {
    const { result, events } = this.tree.apply(txn);
    this.preparer.committed(txn.zxid);
    for (const event of events) this.watches.trigger(event.type, event.path, this.settings.skipAcl ? undefined : event.acl);
    let flight = this.inFlight.get(txn.zxid);
    this.inFlight.delete(txn.zxid);
    if (flight === undefined && this.forwarded.size > 0) {
      const key = forwardKey(txn.sessionId, txn.cxid);
      flight = this.forwarded.get(key);
      this.forwarded.delete(key);
    }
    if (txn.body.type === OpCode.closeSession) this.hooks.sessionClosed(txn.sessionId);
    this.hooks.applied?.(txn, result);
    if (flight?.entry && flight.session) {
      flight.entry.reply = flight.onApplied ? this.buildReply(flight.session, () => flight.onApplied!(result, txn)) : null;
      flight.entry.awaitingCommit = false;
      this.drain(flight.session);
      return flight.session;
    }
    return null;
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
