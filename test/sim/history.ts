/**
 * The history a simulated or chaos run records, and the checkers read: every client
 * operation as an invocation and a completion on one global timeline, plus what each client
 * saw besides replies (watch events, reply zxids, session changes).
 *
 * `index` fields are positions in one global, strictly increasing sequence shared by all
 * entries of a run, so "A completed before B was invoked" is `a.completeIndex < b.invokeIndex`.
 * Times are milliseconds (virtual in the simulator, wall-clock in chaos), for reports only.
 */

/** What the client learnt about an operation. */
export type Outcome =
  /** The server answered with success. */
  | { type: 'ok'; value: OkValue }
  /** The server answered with a ZooKeeper error code (Err.*): the op did not take effect. */
  | { type: 'fail'; code: number }
  /** Connection loss, timeout, session expiry in flight: it may or may not have taken effect. */
  | { type: 'unknown'; reason: string };

export type OkValue =
  | { kind: 'none' }
  /** create: the name created (differs from the request for sequential nodes). */
  | { kind: 'created'; path: string }
  /** setData, exists (found), create2: the node's version after/at the op; mzxid as hex. */
  | { kind: 'stat'; version: number; mzxid: string }
  /** exists on a missing node. */
  | { kind: 'absent' }
  /** getData (and the read of a sync+read). */
  | { kind: 'data'; data: string; version: number; mzxid: string }
  | { kind: 'children'; children: string[] }
  /** multi: one result per op, in order. */
  | { kind: 'multi'; results: OkValue[] };

export type Op =
  | { type: 'create'; path: string; data: string; mode: 'persistent' | 'ephemeral' | 'persistent_sequential' | 'ephemeral_sequential' | 'container' | 'ttl' }
  | { type: 'setData'; path: string; data: string; version: number }
  | { type: 'delete'; path: string; version: number }
  | { type: 'check'; path: string; version: number }
  | { type: 'getData'; path: string; watch: boolean }
  | { type: 'exists'; path: string; watch: boolean }
  | { type: 'getChildren'; path: string; watch: boolean }
  /** `sync(path)` then `getData(path)` on the same session; linearizable in ZooKeeper's sense. */
  | { type: 'syncRead'; path: string }
  /** A multi of create/setData/delete/check ops: all or nothing. */
  | { type: 'multi'; ops: Array<Extract<Op, { type: 'create' | 'setData' | 'delete' | 'check' }>> }
  /** The client closes its session: its ephemerals go. */
  | { type: 'closeSession' };

export interface Operation {
  /** Unique in the run. */
  id: number;
  /** The simulated client (one ZooKeeper handle; a new handle after expiry is a new client). */
  client: number;
  /** Session id in hex once known; '' if the handle had none yet. */
  session: string;
  op: Op;
  invokeIndex: number;
  invokeMs: number;
  /** null: the run ended before the completion came (treated as unknown). */
  completeIndex: number | null;
  completeMs: number | null;
  outcome: Outcome | null;
}

/** What a client saw other than its replies, in the order it saw them. */
export type ClientEvent =
  /** A watch notification (EventType.* number) for a path. */
  | { kind: 'watch'; client: number; session: string; index: number; ms: number; eventType: number; path: string }
  /** The zxid in a reply or notification header (xid, err as in the header). */
  | { kind: 'zxid'; client: number; session: string; index: number; ms: number; xid: number; zxid: string; err: number }
  /** Session state changes: connected (to member), disconnected, expired, closed. */
  | { kind: 'session'; client: number; session: string; index: number; ms: number; state: 'connected' | 'disconnected' | 'expired' | 'closed'; member?: string };

/** Per-member facts the simulator (not chaos) can see from inside. */
export interface MemberRecord {
  member: number;
  /** Every txn this member applied, in order: zxid hex and a hash of its encoded bytes. */
  applied: Array<{ zxid: string; hash: string }>;
  /** Established leaderships: epoch → leader id (from role changes). */
  leaderships: Array<{ epoch: number; leader: number; index: number }>;
  /** Tree digests taken at points where the simulator compared members: zxid → digest. */
  digests: Array<{ zxid: string; digest: string }>;
  /**
   * Points where the member's tree was replaced rather than advanced by one txn: a (re)start
   * that loaded snapshot and log from disk, or a snapshot the leader sent. `index` is the
   * length of `applied` at that point; `zxid` the tree's lastProcessedZxid after it. Applied
   * zxids increase between two resets, not across one (a crash may lose a log tail).
   */
  resets?: Array<{ index: number; zxid: string; reason: string }>;
}

export interface History {
  operations: Operation[];
  events: ClientEvent[];
  members?: MemberRecord[];
}

/** A checker's finding: what is wrong, and the entries that show it (op ids / event indexes). */
export interface Violation {
  checker: string;
  message: string;
  operations?: number[];
  events?: number[];
}
