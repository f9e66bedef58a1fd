/**
 * Types of the pure ZAB core: zxids, votes, the messages that cross the quorum port, the
 * node's configuration and the `Ready` value through which the core asks its shell for
 * effects. Nothing here touches a socket, a disk or a clock.
 */
import type { Txn, TxnBody } from '../tree/index.js';

/** A server id, as in `server.N=` of zoo.cfg. */
export type ServerId = number;

/** zxid = epoch (high 32 bits) | counter (low 32 bits), a 64-bit bigint. */
export const ZXID_COUNTER_MAX = 0xffffffff;

export function makeZxid(epoch: number, counter: number): bigint {
  return (BigInt(epoch) << 32n) | BigInt(counter);
}

export function epochOf(zxid: bigint): number {
  return Number(zxid >> 32n);
}

export function counterOf(zxid: bigint): number {
  return Number(zxid & 0xffffffffn);
}

export function zxidHex(zxid: bigint): string {
  return `0x${zxid.toString(16)}`;
}

export type PeerState = 'looking' | 'following' | 'leading' | 'observing';

/** A fast-leader-election vote, as carried by a notification. */
export interface Vote {
  /** The proposed leader; -1 for an observer's empty vote. */
  leader: ServerId;
  /** The proposed leader's last logged zxid. */
  zxid: bigint;
  /** The logical clock of the election round. */
  electionEpoch: number;
  /** The proposed leader's currentEpoch. */
  peerEpoch: number;
  /** The sender's state. */
  state: PeerState;
}

/**
 * Messages between members. Names follow ZooKeeper's QuorumPacket types (see codec.ts for
 * the numbers). A leader-to-learner stream is FIFO per connection; the core tolerates lost
 * messages (it notices the gap and goes back to LOOKING), but not reordered ones.
 */
export type ZabMessage =
  | ({ type: 'vote' } & Vote)
  /** FOLLOWERINFO / OBSERVERINFO: a learner's acceptedEpoch and last logged zxid. */
  | { type: 'followerInfo'; observer: boolean; acceptedEpoch: number; lastZxid: bigint }
  /** LEADERINFO: the epoch the leader proposes. */
  | { type: 'leaderInfo'; epoch: number }
  /** ACKEPOCH: currentEpoch is -1 when the learner had already accepted this epoch. */
  | { type: 'ackEpoch'; currentEpoch: number; lastZxid: bigint }
  /**
   * DIFF: the learner's log ends at `zxid`; the txns after it follow as proposals, up to
   * `lastZxid`, then NEWLEADER. (`lastZxid` is ours, not ZooKeeper's: with it a learner
   * notices a lost proposal at the end of an old epoch, which no counter check can.)
   */
  | { type: 'diff'; zxid: bigint; lastZxid: bigint }
  /** TRUNC: drop every logged txn after `zxid`; the txns up to `lastZxid` follow. */
  | { type: 'trunc'; zxid: bigint; lastZxid: bigint }
  /** SNAP: install this snapshot (the leader's tree at `zxid`); the txns up to `lastZxid` follow. */
  | { type: 'snap'; zxid: bigint; lastZxid: bigint; snapshot: Buffer | null }
  | { type: 'proposal'; txn: Txn }
  /** COMMIT: everything up to and including `zxid` is committed (cumulative). */
  | { type: 'commit'; zxid: bigint }
  /** NEWLEADER: the synchronisation stream ended at `lastZxid`; adopt `epoch` as currentEpoch. */
  | { type: 'newLeader'; epoch: number; lastZxid: bigint }
  /** ACK: durable up to `zxid` (cumulative); zxid = epoch<<32 acknowledges NEWLEADER. */
  | { type: 'ack'; zxid: bigint }
  /** UPTODATE: start serving; everything up to `zxid` is committed. */
  | { type: 'upToDate'; zxid: bigint }
  /** INFORM: a committed txn, for observers. */
  | { type: 'inform'; txn: Txn }
  /** PING both ways; `payload` is the shell's (session liveness), opaque to the core. */
  | { type: 'ping'; zxid: bigint; payload: Buffer | null };

export type ZabMessageType = ZabMessage['type'];

export interface Outgoing {
  to: ServerId;
  message: ZabMessage;
}

export interface TickLimits {
  /** Ticks allowed for discovery and synchronisation (zoo.cfg initLimit). */
  initLimit: number;
  /** Ticks a follower may go without hearing from its leader, and vice versa (syncLimit). */
  syncLimit: number;
}

/** What the shell recovered from disk before starting the core. */
export interface PersistedState {
  acceptedEpoch: number;
  currentEpoch: number;
  /** The last zxid in the durable txn log (or the snapshot's zxid when the log is empty). */
  lastLoggedZxid: bigint;
  /**
   * The zxid the shell's tree is at. A lower bound of what was committed is fine (for
   * example the snapshot's zxid): the core re-commits the rest once it knows.
   */
  lastCommittedZxid: bigint;
}

export interface ZabConfig {
  id: ServerId;
  voters: readonly ServerId[];
  observers?: readonly ServerId[];
  tickLimits: TickLimits;
  persisted: PersistedState;
  /**
   * The tail of the durable log, ascending, ending at lastLoggedZxid. It must hold every txn
   * after lastCommittedZxid; older ones (up to commitLogWindow) let this node serve DIFFs.
   */
  recentLog?: readonly Txn[];
  /** Committed txns kept in memory for DIFF sync (ZooKeeper's commitLogCount). */
  commitLogWindow?: number;
  /** Ticks an election waits, once a quorum agrees, for a better vote (finalizeWait). */
  finalizeTicks?: number;
}

export const DEFAULT_COMMIT_LOG_WINDOW = 500;
export const DEFAULT_FINALIZE_TICKS = 1;

/** What the leader's shell hands to `propose`: a prepared txn without its zxid. */
export interface ProposalInput {
  sessionId: bigint;
  cxid: number;
  timeMs: number;
  body: TxnBody;
}

export interface RoleChange {
  state: PeerState;
  /** The leader this node follows or is; null while looking. */
  leader: ServerId | null;
  /** The epoch being led or followed, once known. */
  epoch: number | null;
  /** True once the leader is established (NEWLEADER quorum) or the learner got UPTODATE. */
  serving: boolean;
  reason: string;
}

/**
 * Effects the shell performs, in this order:
 *  1. `truncateTo`: drop every logged txn with a greater zxid (durable before step 3).
 *  2. `installSnapshot`: replace the tree with the snapshot, restart the log after its zxid;
 *     call `snapshotInstalled(zxid)` once durable. Commits stay held until then.
 *  3. `persistEpochs`: write durably (fsync) before anything in `send` leaves.
 *  4. `persist`: append to the txn log; call `persisted(zxid)` when fsynced (may be later).
 *  5. `commit`: apply to the tree, in order.
 *  6. `send`: send in order. A `snap` message has `snapshot: null`: fill it with the tree
 *     as it is after step 5, which the core guarantees is exactly at the message's zxid.
 * Then call `advance()`.
 */
export interface Ready {
  send: Outgoing[];
  truncateTo: bigint | null;
  installSnapshot: { zxid: bigint; snapshot: Buffer | null } | null;
  persistEpochs: { acceptedEpoch?: number; currentEpoch?: number } | null;
  persist: Txn[];
  commit: Txn[];
  roleChanges: RoleChange[];
}

/** An impossible state: the server must stop rather than serve wrong data. */
export class ZabInvariantError extends Error {
  constructor(member: ServerId, message: string) {
    super(`zab invariant violated on member ${member}: ${message}`);
    this.name = 'ZabInvariantError';
  }
}
