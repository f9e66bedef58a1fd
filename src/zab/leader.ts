/**
 * The leader's side of discovery, synchronisation and broadcast (ZooKeeper's Leader and
 * LearnerHandler): gather FOLLOWERINFO from a quorum and pick newEpoch = max(acceptedEpoch)+1,
 * wait for a quorum of ACKEPOCH, sync each learner with DIFF/TRUNC/SNAP then NEWLEADER,
 * establish at a quorum of NEWLEADER acks (committing the initial history), then propose,
 * collect acks and commit in zxid order at a quorum of voters.
 */
import type { Txn } from '../tree/index.js';
import { mutations } from '../platform/index.js';
import type { NodeCore } from './core.js';
import type { ProposalInput, ServerId, ZabMessage } from './types.js';
import { ZXID_COUNTER_MAX, counterOf, epochOf, makeZxid, zxidHex } from './types.js';

export type LeaderPhase = 'discovery' | 'epochAck' | 'sync' | 'broadcast';
type HandlePhase = 'info' | 'leaderInfoSent' | 'epochAcked' | 'syncing' | 'synced';

interface LearnerHandle {
  readonly id: ServerId;
  readonly observer: boolean;
  phase: HandlePhase;
  lastZxid: bigint;
  /** Durable on the learner (cumulative ACK); meaningful once synced. */
  ackedZxid: bigint;
  /** Where the sync stream ended (the NEWLEADER's lastZxid). */
  syncEnd: bigint;
  lastHeardTick: number;
}

export interface SyncPlan {
  mode: 'diff' | 'trunc' | 'snap';
  /** diff: the learner's last zxid; trunc: where to truncate; snap: filled by the caller. */
  zxid: bigint;
}

/** LearnerHandler.syncFollower's decision, over the leader's in-memory log window. */
export function planSync(peerLast: bigint, end: bigint, firstInMemory: bigint | null, has: (z: bigint) => boolean, previous: (z: bigint) => bigint | null): SyncPlan {
  if (peerLast === end) return { mode: 'diff', zxid: peerLast };
  if (peerLast > end) return { mode: 'trunc', zxid: end };
  if (firstInMemory !== null && peerLast >= firstInMemory) {
    if (has(peerLast)) return { mode: 'diff', zxid: peerLast };
    const prev = previous(peerLast);
    if (prev !== null) return { mode: 'trunc', zxid: prev };
  }
  return { mode: 'snap', zxid: -1n };
}

export class LeaderRole {
  phase: LeaderPhase = 'discovery';
  newEpoch: number | null = null;
  active = true;
  private readonly learners = new Map<ServerId, LearnerHandle>();
  private readonly connecting = new Set<ServerId>();
  private maxAcceptedEpoch: number;
  private readonly electing = new Set<ServerId>();
  private readonly newLeaderAcks = new Set<ServerId>();
  private phaseTicks = 0;
  private lastProposed = 0n;
  private readonly summary: { epoch: number; zxid: bigint };

  constructor(private readonly core: NodeCore, private readonly onStepDown: (reason: string) => void) {
    this.summary = { epoch: core.currentEpoch, zxid: core.log.lastZxid };
    this.connecting.add(core.id);
    this.maxAcceptedEpoch = core.acceptedEpoch;
  }

  get established(): boolean {
    return this.active && this.phase === 'broadcast';
  }

  start(): void {
    this.checkConnectingQuorum();
  }

  private stepDown(reason: string): void {
    this.active = false;
    this.onStepDown(reason);
  }

  step(from: ServerId, m: ZabMessage): void {
    const h = this.learners.get(from);
    if (h !== undefined) h.lastHeardTick = this.core.tickCount;
    switch (m.type) {
      case 'followerInfo':
        return this.onFollowerInfo(from, m.acceptedEpoch, m.lastZxid);
      case 'ackEpoch':
        if (h !== undefined) this.onAckEpoch(h, m.currentEpoch, m.lastZxid);
        return;
      case 'ack':
        if (h !== undefined) this.onAck(h, m.zxid);
        return;
      case 'proposal':
      case 'inform':
        if (this.phase !== 'discovery' && this.phase !== 'epochAck' && epochOf(m.txn.zxid) === this.newEpoch) {
          this.core.fail(`member ${from} proposed ${zxidHex(m.txn.zxid)} in epoch ${this.newEpoch}, which this member leads`);
        }
        return;
      default:
        return; // pings only refresh liveness; anything else is not for a leader
    }
  }

  private onFollowerInfo(from: ServerId, acceptedEpoch: number, lastZxid: bigint): void {
    const observer = !this.core.quorum.isVoter(from);
    const h: LearnerHandle = { id: from, observer, phase: 'info', lastZxid, ackedZxid: -1n, syncEnd: -1n, lastHeardTick: this.core.tickCount };
    this.learners.set(from, h); // a new session replaces the old one, which stops counting
    if (this.phase === 'discovery') {
      if (!observer) {
        this.connecting.add(from);
        this.maxAcceptedEpoch = Math.max(this.maxAcceptedEpoch, acceptedEpoch);
      }
      this.checkConnectingQuorum();
    } else {
      this.sendLeaderInfo(h);
    }
  }

  private checkConnectingQuorum(): void {
    if (this.phase !== 'discovery' || !this.core.quorum.containsQuorum(this.connecting)) return;
    const epoch = this.maxAcceptedEpoch + 1;
    this.newEpoch = epoch;
    this.core.setAcceptedEpoch(epoch);
    this.phase = 'epochAck';
    this.phaseTicks = 0;
    this.electing.add(this.core.id);
    for (const h of this.learners.values()) if (h.phase === 'info') this.sendLeaderInfo(h);
    this.checkElectingQuorum();
  }

  private sendLeaderInfo(h: LearnerHandle): void {
    this.core.send(h.id, { type: 'leaderInfo', epoch: this.newEpoch as number });
    h.phase = 'leaderInfoSent';
  }

  private onAckEpoch(h: LearnerHandle, currentEpoch: number, lastZxid: bigint): void {
    if (h.phase !== 'leaderInfoSent') return;
    const ahead = currentEpoch > this.summary.epoch || (currentEpoch === this.summary.epoch && lastZxid > this.summary.zxid);
    // Only while the epoch is being established, as ZooKeeper's waitForEpochAck: later, a
    // member that comes back with txns the quorum never committed is simply truncated.
    const establishing = this.phase === 'discovery' || this.phase === 'epochAck';
    const newerEpoch = this.newEpoch !== null && currentEpoch > this.newEpoch;
    if (currentEpoch !== -1 && ahead && (establishing || newerEpoch)) {
      return this.stepDown(`follower ${h.id} is ahead of the leader (epoch ${currentEpoch}, ${zxidHex(lastZxid)})`);
    }
    h.lastZxid = lastZxid;
    h.phase = 'epochAcked';
    if (currentEpoch !== -1 && !h.observer) this.electing.add(h.id);
    if (this.phase === 'epochAck') this.checkElectingQuorum();
    else if (this.phase !== 'discovery') this.syncLearner(h);
  }

  private checkElectingQuorum(): void {
    if (this.phase !== 'epochAck' || !this.core.quorum.containsQuorum(this.electing)) return;
    const epoch = this.newEpoch as number;
    this.core.setCurrentEpoch(epoch);
    this.core.recordLeader(epoch, this.core.id);
    this.phase = 'sync';
    this.phaseTicks = 0;
    for (const h of this.learners.values()) if (h.phase === 'epochAcked') this.syncLearner(h);
    this.checkNewLeaderQuorum();
  }

  /** DIFF, TRUNC or SNAP, the txns after the sync point, the commit point, NEWLEADER. */
  private syncLearner(h: LearnerHandle): void {
    const core = this.core;
    const end = h.observer && this.phase === 'broadcast' ? core.committedZxid : core.log.lastZxid;
    const plan = planSync(h.lastZxid, end, core.log.firstZxid, (z) => core.log.contains(z), (z) => core.log.previous(z));
    let from = plan.zxid;
    if (plan.mode === 'snap') {
      from = core.snapshotZxidForSend();
      core.send(h.id, { type: 'snap', zxid: from, lastZxid: end, snapshot: null });
    } else {
      core.send(h.id, { type: plan.mode, zxid: plan.zxid, lastZxid: end });
    }
    for (const txn of core.log.range(from, end)) core.send(h.id, { type: 'proposal', txn });
    const commit = core.committedZxid < end ? core.committedZxid : end;
    if (commit > 0n) core.send(h.id, { type: 'commit', zxid: commit });
    core.send(h.id, { type: 'newLeader', epoch: this.newEpoch as number, lastZxid: end });
    h.phase = 'syncing';
    h.syncEnd = end;
  }

  private onAck(h: LearnerHandle, zxid: bigint): void {
    if (h.phase === 'syncing') {
      if (zxid !== makeZxid(this.newEpoch as number, 0)) return;
      h.phase = 'synced';
      h.ackedZxid = h.syncEnd;
      if (!h.observer) this.newLeaderAcks.add(h.id);
      if (this.phase === 'sync') return this.checkNewLeaderQuorum();
      this.core.send(h.id, { type: 'upToDate', zxid: this.core.committedZxid });
      return this.maybeCommit();
    }
    if (h.phase === 'synced' && !h.observer && zxid > h.ackedZxid && zxid <= this.core.log.lastZxid) {
      h.ackedZxid = zxid;
      this.maybeCommit();
    }
  }

  private checkNewLeaderQuorum(): void {
    if (this.phase !== 'sync') return;
    if (this.core.durableZxid >= this.core.log.lastZxid) this.newLeaderAcks.add(this.core.id);
    if (this.core.quorum.containsQuorum(this.newLeaderAcks)) this.establish();
  }

  /** A quorum holds the initial history durably under the new epoch: commit it and serve. */
  private establish(): void {
    const core = this.core;
    const epoch = this.newEpoch as number;
    this.phase = 'broadcast';
    this.phaseTicks = 0;
    core.commitTo(core.log.lastZxid);
    this.lastProposed = makeZxid(epoch, 0);
    for (const h of this.learners.values()) {
      h.lastHeardTick = core.tickCount;
      if (h.phase === 'synced') core.send(h.id, { type: 'upToDate', zxid: core.committedZxid });
    }
    core.announce('leading', core.id, epoch, true, `established epoch ${epoch}`);
  }

  /** The zxid the next proposal will get, or null when not an established leader. */
  nextZxid(): bigint | null {
    if (!this.established || counterOf(this.lastProposed) >= ZXID_COUNTER_MAX) return null;
    return this.lastProposed + 1n;
  }

  propose(input: ProposalInput): Txn | null {
    if (!this.established) return null;
    if (counterOf(this.lastProposed) >= ZXID_COUNTER_MAX) {
      this.stepDown('zxid counter rolled over; a new epoch is needed');
      return null;
    }
    const txn: Txn = { sessionId: input.sessionId, cxid: input.cxid, zxid: this.lastProposed + 1n, timeMs: input.timeMs, body: input.body };
    this.core.appendTxn(txn);
    this.lastProposed = txn.zxid;
    for (const h of this.learners.values()) {
      if (!h.observer && (h.phase === 'syncing' || h.phase === 'synced')) this.core.send(h.id, { type: 'proposal', txn });
    }
    return txn;
  }

  /** Our own log became durable further. */
  onPersisted(): void {
    if (this.phase === 'sync') this.checkNewLeaderQuorum();
    else this.maybeCommit();
  }

  private ackedBy(): Array<{ id: ServerId; zxid: bigint }> {
    const acks = [{ id: this.core.id, zxid: this.core.durableZxid }];
    for (const h of this.learners.values()) if (!h.observer && h.phase === 'synced') acks.push({ id: h.id, zxid: h.ackedZxid });
    return acks;
  }

  private maybeCommit(): void {
    if (!this.established) return;
    const acks = this.ackedBy().map((a) => a.zxid).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
    // MUTATION commitOnFirstAck: the highest single ACK (ours counts) commits, not a quorum's.
    let candidate = acks[mutations.commitOnFirstAck ? 0 : this.core.quorum.size - 1];
    if (candidate === undefined || candidate <= this.core.committedZxid) return;
    if (candidate > this.core.log.lastZxid) candidate = this.core.log.lastZxid;
    this.commit(candidate);
  }

  private commit(zxid: bigint): void {
    const core = this.core;
    const holders = this.ackedBy().filter((a) => a.zxid >= zxid).map((a) => a.id);
    if (!core.quorum.containsQuorum(holders) && !mutations.commitOnFirstAck) core.fail(`commit ${zxidHex(zxid)} beyond the quorum's acks (held by ${holders.join(',')})`);
    const newly = core.log.range(core.committedZxid, zxid);
    core.commitTo(zxid);
    for (const h of this.learners.values()) {
      if (h.phase !== 'syncing' && h.phase !== 'synced') continue;
      if (!h.observer) core.send(h.id, { type: 'commit', zxid });
      else for (const txn of newly) if (txn.zxid > h.syncEnd) core.send(h.id, { type: 'inform', txn });
    }
  }

  tick(): void {
    if (!this.established) {
      this.phaseTicks++;
      if (this.phaseTicks > this.core.limits.initLimit) this.stepDown(`phase ${this.phase} not done within initLimit`);
      return;
    }
    const live = [this.core.id];
    for (const h of this.learners.values()) {
      if (h.phase !== 'syncing' && h.phase !== 'synced') continue;
      this.core.send(h.id, { type: 'ping', zxid: this.lastProposed, payload: null });
      if (this.core.tickCount - h.lastHeardTick <= this.core.limits.syncLimit) live.push(h.id);
    }
    if (!this.core.quorum.containsQuorum(live)) this.stepDown(`not heard from a quorum within syncLimit (live: ${live.join(',')})`);
  }

  disconnected(peer: ServerId): void {
    this.learners.delete(peer);
  }

  status(): { phase: LeaderPhase; epoch: number | null; learners: ServerId[] } {
    return { phase: this.phase, epoch: this.newEpoch, learners: [...this.learners.keys()] };
  }

  /** The learners as this leader sees them, in id order (LearnerHandler phase synced = synced). */
  learnerStatus(): Array<{ id: ServerId; voter: boolean; synced: boolean }> {
    return [...this.learners.values()]
      .sort((a, b) => a.id - b.id)
      .map((h) => ({ id: h.id, voter: !h.observer, synced: h.phase === 'synced' }));
  }
}
