/**
 * The state every role shares: epochs, the in-memory log, the durable and committed points,
 * and the effects gathered for the next `Ready`. Roles (election, leader, learner) change
 * state only through these methods, so the invariants are asserted in one place.
 */
import type { Txn } from '../tree/index.js';
import { TxnWindow } from './log.js';
import { Quorum } from './quorum.js';
import type { Outgoing, PeerState, Ready, RoleChange, ServerId, TickLimits, ZabConfig, ZabMessage } from './types.js';
import { DEFAULT_COMMIT_LOG_WINDOW, DEFAULT_FINALIZE_TICKS, ZabInvariantError, zxidHex } from './types.js';

/** How many epochs' NEWLEADER senders are remembered for the two-leaders assertion. */
const LEADERS_REMEMBERED = 16;

export class NodeCore {
  readonly id: ServerId;
  readonly quorum: Quorum;
  readonly limits: TickLimits;
  readonly windowSize: number;
  readonly finalizeTicks: number;
  acceptedEpoch: number;
  currentEpoch: number;
  readonly log: TxnWindow;
  /** The log is durable (fsynced) up to here. */
  durableZxid: bigint;
  /** Committed, as decided by the protocol. */
  committedZxid: bigint;
  /** Handed to the shell in an advanced Ready (the tree is here). */
  appliedZxid: bigint;
  /** A snapshot the shell is installing; commits wait for it. */
  snapshotPending: bigint | null = null;
  tickCount = 0;
  private readonly leadersByEpoch = new Map<number, ServerId>();

  private sends: Outgoing[] = [];
  private persistQueue: Txn[] = [];
  private truncateTo: bigint | null = null;
  private install: { zxid: bigint; snapshot: Buffer | null } | null = null;
  private epochs: { acceptedEpoch?: number; currentEpoch?: number } | null = null;
  private roleChanges: RoleChange[] = [];
  /** Set when a SNAP is queued: this Ready's commits stop at the snapshot's zxid. */
  private commitBarrier: bigint | null = null;

  constructor(config: ZabConfig) {
    this.id = config.id;
    this.quorum = new Quorum(config.voters, config.observers ?? []);
    this.limits = config.tickLimits;
    this.windowSize = config.commitLogWindow ?? DEFAULT_COMMIT_LOG_WINDOW;
    this.finalizeTicks = config.finalizeTicks ?? DEFAULT_FINALIZE_TICKS;
    const p = config.persisted;
    this.acceptedEpoch = p.acceptedEpoch;
    this.currentEpoch = p.currentEpoch;
    this.log = new TxnWindow(p.lastLoggedZxid, config.recentLog ?? [], (m) => this.fail(m));
    this.durableZxid = p.lastLoggedZxid;
    this.committedZxid = p.lastCommittedZxid;
    this.appliedZxid = p.lastCommittedZxid;
    if (!this.quorum.isMember(this.id)) this.fail('this member is neither a voter nor an observer');
    if (p.lastCommittedZxid > p.lastLoggedZxid) this.fail('lastCommittedZxid is beyond lastLoggedZxid');
  }

  fail(message: string): never {
    throw new ZabInvariantError(this.id, message);
  }

  send(to: ServerId, message: ZabMessage): void {
    if (to === this.id) this.fail(`message ${message.type} addressed to self`);
    this.sends.push({ to, message });
  }

  appendTxn(txn: Txn): void {
    this.log.append(txn);
    this.persistQueue.push(txn);
  }

  markDurable(zxid: bigint): void {
    const upTo = zxid < this.log.lastZxid ? zxid : this.log.lastZxid;
    if (upTo > this.durableZxid) this.durableZxid = upTo;
  }

  truncateLog(zxid: bigint): void {
    if (zxid < this.committedZxid) this.fail(`truncate to ${zxidHex(zxid)} below committed ${zxidHex(this.committedZxid)}`);
    this.log.truncate(zxid);
    this.persistQueue = this.persistQueue.filter((t) => t.zxid <= zxid);
    // After an install in this Ready the log holds only the queued appends, filtered above.
    if (this.install === null) this.truncateTo = this.truncateTo === null || zxid < this.truncateTo ? zxid : this.truncateTo;
    if (this.durableZxid > zxid) this.durableZxid = zxid;
  }

  installSnapshot(zxid: bigint, snapshot: Buffer | null): void {
    this.log.reset(zxid);
    this.persistQueue = [];
    this.truncateTo = null;
    this.install = { zxid, snapshot };
    this.committedZxid = zxid;
    this.appliedZxid = zxid;
    this.durableZxid = zxid;
    this.snapshotPending = zxid;
  }

  setAcceptedEpoch(epoch: number): void {
    if (epoch < this.acceptedEpoch) this.fail(`acceptedEpoch going back from ${this.acceptedEpoch} to ${epoch}`);
    this.acceptedEpoch = epoch;
    this.epochs = { ...this.epochs, acceptedEpoch: epoch };
  }

  setCurrentEpoch(epoch: number): void {
    if (epoch < this.currentEpoch) this.fail(`currentEpoch going back from ${this.currentEpoch} to ${epoch}`);
    if (epoch > this.acceptedEpoch) this.fail(`currentEpoch ${epoch} beyond acceptedEpoch ${this.acceptedEpoch}`);
    this.currentEpoch = epoch;
    this.epochs = { ...this.epochs, currentEpoch: epoch };
  }

  /** Moves the commit point; the txns are handed out, in order, by `ready()`. */
  commitTo(zxid: bigint): void {
    if (zxid <= this.committedZxid) return;
    if (zxid > this.log.lastZxid) this.fail(`commit ${zxidHex(zxid)} beyond the log's end ${zxidHex(this.log.lastZxid)}`);
    this.committedZxid = zxid;
  }

  /** The zxid a SNAP queued now describes: the tree after this Ready's commits. */
  snapshotZxidForSend(): bigint {
    this.commitBarrier ??= this.committedZxid;
    return this.commitBarrier;
  }

  /** Two leaders can never both have sent NEWLEADER for one epoch. */
  recordLeader(epoch: number, leader: ServerId): void {
    const seen = this.leadersByEpoch.get(epoch);
    if (seen !== undefined && seen !== leader) this.fail(`two leaders in epoch ${epoch}: ${seen} and ${leader}`);
    this.leadersByEpoch.set(epoch, leader);
    if (this.leadersByEpoch.size > LEADERS_REMEMBERED) {
      this.leadersByEpoch.delete(Math.min(...this.leadersByEpoch.keys()));
    }
  }

  leaderOfEpoch(epoch: number): ServerId | undefined {
    return this.leadersByEpoch.get(epoch);
  }

  announce(state: PeerState, leader: ServerId | null, epoch: number | null, serving: boolean, reason: string): void {
    this.roleChanges.push({ state, leader, epoch, serving, reason });
  }

  private pendingCommits(): Txn[] {
    if (this.snapshotPending !== null) return [];
    const cap = this.commitBarrier ?? this.committedZxid;
    const txns = this.log.range(this.appliedZxid, cap);
    let prev = this.appliedZxid;
    for (const t of txns) {
      if (t.zxid <= prev) this.fail(`commit out of order: ${zxidHex(t.zxid)} after ${zxidHex(prev)}`);
      prev = t.zxid;
    }
    return txns;
  }

  hasReady(): boolean {
    return (
      this.sends.length > 0 ||
      this.persistQueue.length > 0 ||
      this.truncateTo !== null ||
      this.install !== null ||
      this.epochs !== null ||
      this.roleChanges.length > 0 ||
      this.pendingCommits().length > 0
    );
  }

  ready(): Ready {
    return {
      send: this.sends,
      truncateTo: this.truncateTo,
      installSnapshot: this.install,
      persistEpochs: this.epochs,
      persist: this.persistQueue,
      commit: this.pendingCommits(),
      roleChanges: this.roleChanges,
    };
  }

  /** The shell has done everything in the last `ready()`. */
  advance(): void {
    const committed = this.pendingCommits();
    const last = committed.at(-1);
    if (last !== undefined) this.appliedZxid = last.zxid;
    if (this.snapshotPending === null) {
      const cap = this.commitBarrier ?? this.committedZxid;
      if (cap > this.appliedZxid) this.appliedZxid = cap;
    }
    this.sends = [];
    this.persistQueue = [];
    this.truncateTo = null;
    this.install = null;
    this.epochs = null;
    this.roleChanges = [];
    this.commitBarrier = null;
    this.log.trim(this.appliedZxid, this.windowSize);
  }
}
