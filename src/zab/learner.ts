/**
 * A follower's or observer's side (ZooKeeper's Learner, Follower, Observer): FOLLOWERINFO,
 * accept the leader's epoch, apply DIFF/TRUNC/SNAP and the proposals after it, adopt the
 * epoch at NEWLEADER and ack it once the log is durable, serve after UPTODATE; then log and
 * ack proposals, commit on COMMIT (observers: log and commit each INFORM).
 *
 * The leader's stream is trusted to be FIFO; a gap or an out-of-place message means the
 * connection lost something, and the learner goes back to LOOKING (it never guesses).
 */
import type { Txn } from '../tree/index.js';
import type { NodeCore } from './core.js';
import type { ServerId, ZabMessage } from './types.js';
import { counterOf, epochOf, makeZxid, zxidHex } from './types.js';

export type LearnerPhase = 'discovery' | 'awaitSync' | 'syncing' | 'synced' | 'broadcast';

export class LearnerRole {
  phase: LearnerPhase = 'discovery';
  active = true;
  private epoch: number | null = null;
  private ticksSinceHeard = 0;
  /** Ticks since the last phase change: pings keep a connection alive, not a stuck sync. */
  private phaseTicks = 0;
  /** The NEWLEADER's lastZxid, while its ack waits for the log to be durable. */
  private newLeaderPending: bigint | null = null;
  private ackedNewLeader = false;
  /** Where the sync stream ends (the header's lastZxid); proposals beyond it wait for NEWLEADER. */
  private syncEnd = -1n;
  private lastAckSent = -1n;

  constructor(
    private readonly core: NodeCore,
    readonly leader: ServerId,
    private readonly observer: boolean,
    private readonly onStepDown: (reason: string) => void,
  ) {}

  get serving(): boolean {
    return this.active && this.phase === 'broadcast';
  }

  get leaderEpoch(): number | null {
    return this.epoch;
  }

  start(): void {
    this.sendInfo();
  }

  private sendInfo(): void {
    const core = this.core;
    core.send(this.leader, { type: 'followerInfo', observer: this.observer, acceptedEpoch: core.acceptedEpoch, lastZxid: core.log.lastZxid });
  }

  private setPhase(phase: LearnerPhase): void {
    this.phase = phase;
    this.phaseTicks = 0;
  }

  private stepDown(reason: string): void {
    this.active = false;
    this.onStepDown(reason);
  }

  tick(): void {
    this.ticksSinceHeard++;
    const limit = this.phase === 'broadcast' ? this.core.limits.syncLimit : this.core.limits.initLimit;
    if (this.ticksSinceHeard > limit) return this.stepDown(`nothing from leader ${this.leader} for ${this.ticksSinceHeard} ticks`);
    this.phaseTicks++;
    if (this.phase !== 'broadcast' && this.phaseTicks > this.core.limits.initLimit) {
      return this.stepDown(`phase ${this.phase} not done within initLimit`);
    }
    if (this.phase === 'discovery') this.sendInfo(); // the leader may not have been listening yet
  }

  step(from: ServerId, m: ZabMessage): void {
    if (from !== this.leader) return this.checkRival(from, m);
    this.ticksSinceHeard = 0;
    switch (m.type) {
      case 'leaderInfo':
        return this.onLeaderInfo(m.epoch);
      case 'diff':
      case 'trunc':
      case 'snap':
        return this.onSyncStart(m);
      case 'proposal':
        return this.onProposal(m.txn);
      case 'commit':
        return this.onCommit(m.zxid);
      case 'newLeader':
        return this.onNewLeader(m.epoch, m.lastZxid);
      case 'upToDate':
        return this.onUpToDate(m.zxid);
      case 'inform':
        return this.onInform(m.txn);
      case 'ping':
        this.core.send(this.leader, { type: 'ping', zxid: this.core.log.lastZxid, payload: null });
        return;
      default:
        return;
    }
  }

  /** Another member acting as leader of the epoch we follow is an impossible state. */
  private checkRival(from: ServerId, m: ZabMessage): void {
    if (this.epoch === null || (this.phase !== 'synced' && this.phase !== 'broadcast')) return;
    if ((m.type === 'proposal' || m.type === 'inform') && epochOf(m.txn.zxid) === this.epoch) {
      this.core.fail(`member ${from} proposed ${zxidHex(m.txn.zxid)} in epoch ${this.epoch}, led by ${this.leader}`);
    }
  }

  private protocolError(reason: string): void {
    this.stepDown(`protocol error from leader ${this.leader}: ${reason}`);
  }

  private onLeaderInfo(epoch: number): void {
    if (this.phase !== 'discovery') return; // an answer to a repeated FOLLOWERINFO
    const core = this.core;
    if (epoch < core.acceptedEpoch) return this.stepDown(`leader's epoch ${epoch} is below accepted epoch ${core.acceptedEpoch}`);
    const currentEpoch = epoch > core.acceptedEpoch ? core.currentEpoch : -1;
    if (epoch > core.acceptedEpoch) core.setAcceptedEpoch(epoch);
    core.send(this.leader, { type: 'ackEpoch', currentEpoch, lastZxid: core.log.lastZxid });
    this.epoch = epoch;
    this.setPhase('awaitSync');
  }

  private onSyncStart(m: Extract<ZabMessage, { type: 'diff' | 'trunc' | 'snap' }>): void {
    if (this.phase !== 'awaitSync') return this.protocolError(`${m.type} outside synchronisation`);
    const core = this.core;
    if (m.type === 'diff' && core.log.lastZxid !== m.zxid) {
      return this.protocolError(`DIFF from ${zxidHex(m.zxid)} but the log ends at ${zxidHex(core.log.lastZxid)}`);
    }
    if (m.type === 'trunc') {
      if (m.zxid > core.log.lastZxid) return this.protocolError(`TRUNC to ${zxidHex(m.zxid)} beyond the log's end`);
      core.truncateLog(m.zxid);
    }
    if (m.type === 'snap') core.installSnapshot(m.zxid, m.snapshot);
    if (m.lastZxid < core.log.lastZxid) return this.protocolError(`sync stream ends at ${zxidHex(m.lastZxid)}, before its start`);
    this.syncEnd = m.lastZxid;
    this.setPhase('syncing');
  }

  /**
   * The next txn must follow the log: increasing, not beyond the leader's epoch, and with no
   * gap. Every log holds each epoch's txns as a prefix (counters 1, 2, ...) of what that
   * epoch's leader proposed, so within an epoch the counter goes up by one and a new epoch
   * starts at counter 1.
   */
  private follows(zxid: bigint): string | null {
    const last = this.core.log.lastZxid;
    const epoch = this.epoch as number;
    if (zxid <= last) return `zxid not increasing: ${zxidHex(zxid)} after ${zxidHex(last)}`;
    if (epochOf(zxid) > epoch) return `zxid ${zxidHex(zxid)} beyond epoch ${epoch}`;
    const consecutive = epochOf(last) === epochOf(zxid) ? zxid === last + 1n : counterOf(zxid) === 1;
    return consecutive ? null : `gap: ${zxidHex(zxid)} after ${zxidHex(last)}`;
  }

  private append(txn: Txn): boolean {
    const problem = this.follows(txn.zxid);
    if (problem !== null) {
      this.protocolError(problem);
      return false;
    }
    this.core.appendTxn(txn);
    return true;
  }

  private onProposal(txn: Txn): void {
    const allowed = this.phase === 'syncing' || (!this.observer && (this.phase === 'synced' || this.phase === 'broadcast'));
    if (!allowed) return this.protocolError(`proposal ${zxidHex(txn.zxid)} in phase ${this.phase}`);
    if (this.phase === 'syncing' && txn.zxid > this.syncEnd) {
      return this.protocolError(`proposal ${zxidHex(txn.zxid)} beyond the sync stream's end ${zxidHex(this.syncEnd)} before NEWLEADER`);
    }
    this.append(txn);
  }

  private onCommit(zxid: bigint): void {
    if (this.phase === 'discovery' || this.phase === 'awaitSync') return this.protocolError(`commit in phase ${this.phase}`);
    if (zxid > this.core.log.lastZxid) return this.protocolError(`commit ${zxidHex(zxid)} of a txn never received`);
    this.core.commitTo(zxid);
  }

  private onNewLeader(epoch: number, lastZxid: bigint): void {
    if (this.phase !== 'syncing' || epoch !== this.epoch) return this.protocolError(`NEWLEADER ${epoch} in phase ${this.phase}`);
    if (this.core.log.lastZxid !== lastZxid) {
      return this.protocolError(`NEWLEADER at ${zxidHex(lastZxid)} but the log ends at ${zxidHex(this.core.log.lastZxid)}`);
    }
    this.core.setCurrentEpoch(epoch);
    this.setPhase('synced');
    this.newLeaderPending = lastZxid;
    this.tryAck();
  }

  private onUpToDate(zxid: bigint): void {
    if (this.phase !== 'synced' || !this.ackedNewLeader) return this.protocolError(`UPTODATE in phase ${this.phase}`);
    if (zxid > this.core.log.lastZxid) return this.protocolError(`UPTODATE at ${zxidHex(zxid)} beyond the log`);
    this.core.commitTo(zxid);
    this.setPhase('broadcast');
    this.core.announce(this.observer ? 'observing' : 'following', this.leader, this.epoch, true, 'synchronised with the leader');
  }

  private onInform(txn: Txn): void {
    if (!this.observer || (this.phase !== 'synced' && this.phase !== 'broadcast')) return this.protocolError(`INFORM in phase ${this.phase}`);
    if (this.append(txn)) this.core.commitTo(txn.zxid);
  }

  /** Acks once durable: NEWLEADER first, then (followers) every durable advance. */
  tryAck(): void {
    const core = this.core;
    if (!this.active || core.snapshotPending !== null) return;
    if (this.newLeaderPending !== null) {
      if (core.durableZxid < this.newLeaderPending) return;
      core.send(this.leader, { type: 'ack', zxid: makeZxid(this.epoch as number, 0) });
      this.lastAckSent = this.newLeaderPending;
      this.newLeaderPending = null;
      this.ackedNewLeader = true;
    }
    if (this.ackedNewLeader && !this.observer && core.durableZxid > this.lastAckSent) {
      core.send(this.leader, { type: 'ack', zxid: core.durableZxid });
      this.lastAckSent = core.durableZxid;
    }
  }

  disconnected(peer: ServerId): void {
    if (peer === this.leader) this.stepDown(`connection to leader ${peer} lost`);
  }
}
