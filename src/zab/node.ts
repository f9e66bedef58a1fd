/**
 * ZabNode: one member's ZAB state machine, in the shape of etcd-io/raft's Node. Inputs are
 * `step(from, message)`, `tick()`, `persisted(zxid)`, `snapshotInstalled(zxid)`,
 * `disconnected(peer)` and, on an established leader, `propose(input)`. Effects gather in a
 * `Ready` (see types.ts for the order the shell performs them in) until `advance()`.
 *
 * Between `ready()` and `advance()` the shell must not call any input method.
 */
import type { Txn } from '../tree/index.js';
import { NodeCore } from './core.js';
import { Election } from './election.js';
import type { Decision } from './election.js';
import { LeaderRole } from './leader.js';
import type { LeaderPhase } from './leader.js';
import { LearnerRole } from './learner.js';
import type { LearnerPhase } from './learner.js';
import type { PeerState, ProposalInput, Ready, ServerId, ZabConfig, ZabMessage } from './types.js';

export interface ZabStatus {
  id: ServerId;
  state: PeerState;
  leader: ServerId | null;
  /** The epoch led or followed, once known. */
  epoch: number | null;
  phase: LeaderPhase | LearnerPhase | 'election';
  serving: boolean;
  electionEpoch: number;
  acceptedEpoch: number;
  currentEpoch: number;
  lastLoggedZxid: bigint;
  durableZxid: bigint;
  committedZxid: bigint;
  /** Logged but not committed yet (on a leader: proposals waiting for a quorum's acks). */
  pendingProposals: number;
  /** Leader only (null otherwise): every learner that sent FOLLOWERINFO, synced once it acked NEWLEADER. */
  learners: LearnerStatus[] | null;
}

export interface LearnerStatus {
  id: ServerId;
  /** A voter (follower); false for an observer. */
  voter: boolean;
  /** Acked NEWLEADER: it gets proposals (or INFORMs) and counts for commits. */
  synced: boolean;
}

export class ZabNode {
  private readonly core: NodeCore;
  private readonly election: Election;
  private state: PeerState = 'looking';
  private leaderRole: LeaderRole | null = null;
  private learnerRole: LearnerRole | null = null;

  constructor(config: ZabConfig) {
    for (const [name, value] of Object.entries(config.tickLimits)) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`tickLimits.${name} must be a positive integer, got ${value}`);
    }
    this.core = new NodeCore(config);
    const core = this.core;
    this.election = new Election({
      id: core.id,
      quorum: core.quorum,
      finalizeTicks: core.finalizeTicks,
      send: (to, m) => core.send(to, m),
      initialVote: () => ({ zxid: core.log.lastZxid, peerEpoch: core.currentEpoch }),
    });
    this.lookForLeader('startup');
  }

  get id(): ServerId {
    return this.core.id;
  }

  status(): ZabStatus {
    const core = this.core;
    const lead = this.leaderRole;
    const learn = this.learnerRole;
    return {
      id: core.id,
      state: this.state,
      leader: lead !== null ? core.id : (learn?.leader ?? null),
      epoch: lead !== null ? lead.newEpoch : (learn?.leaderEpoch ?? null),
      phase: lead?.phase ?? learn?.phase ?? 'election',
      serving: lead !== null ? lead.established : (learn?.serving ?? false),
      electionEpoch: this.election.logicalClock,
      acceptedEpoch: core.acceptedEpoch,
      currentEpoch: core.currentEpoch,
      lastLoggedZxid: core.log.lastZxid,
      durableZxid: core.durableZxid,
      committedZxid: core.committedZxid,
      pendingProposals: core.log.indexAfter(core.log.lastZxid) - core.log.indexAfter(core.committedZxid),
      learners: lead?.learnerStatus() ?? null,
    };
  }

  private lookForLeader(reason: string): void {
    if (this.leaderRole !== null) this.leaderRole.active = false;
    if (this.learnerRole !== null) this.learnerRole.active = false;
    this.leaderRole = null;
    this.learnerRole = null;
    this.state = 'looking';
    this.core.announce('looking', null, null, false, reason);
    const decision = this.election.start();
    if (decision !== null) this.become(decision);
  }

  private become(decision: Decision): void {
    const core = this.core;
    const stepDown = (reason: string): void => this.lookForLeader(reason);
    if (decision.leader === core.id) {
      this.state = 'leading';
      this.leaderRole = new LeaderRole(core, stepDown);
      core.announce('leading', core.id, null, false, decision.reason);
      this.leaderRole.start();
      return;
    }
    const observer = !core.quorum.isVoter(core.id);
    this.state = observer ? 'observing' : 'following';
    this.learnerRole = new LearnerRole(core, decision.leader, observer, stepDown);
    core.announce(this.state, decision.leader, null, false, decision.reason);
    this.learnerRole.start();
  }

  /** A message from another member. Messages from unknown senders are dropped. */
  step(from: ServerId, message: ZabMessage): void {
    this.dispatch(from, message);
    this.settleVote();
  }

  /** Serving members answer election notifications with (leader, established epoch). */
  private settleVote(): void {
    const lead = this.leaderRole;
    const learn = this.learnerRole;
    if (lead !== null && lead.established && lead.newEpoch !== null) this.election.settle(this.core.id, lead.newEpoch);
    else if (learn !== null && learn.serving && learn.leaderEpoch !== null) this.election.settle(learn.leader, learn.leaderEpoch);
  }

  private dispatch(from: ServerId, message: ZabMessage): void {
    const core = this.core;
    if (from === core.id || !core.quorum.isMember(from)) return;
    if (message.type === 'vote') {
      const decision = this.election.receive(from, message, this.state);
      if (decision !== null && this.state === 'looking') this.become(decision);
      return;
    }
    if (message.type === 'newLeader') core.recordLeader(message.epoch, from);
    if (this.leaderRole !== null) this.leaderRole.step(from, message);
    else if (this.learnerRole !== null) this.learnerRole.step(from, message);
  }

  /** One tickTime has passed. */
  tick(): void {
    this.core.tickCount++;
    if (this.leaderRole !== null) this.leaderRole.tick();
    else if (this.learnerRole !== null) this.learnerRole.tick();
    else {
      const decision = this.election.tick();
      if (decision !== null) this.become(decision);
    }
    this.settleVote();
  }

  /** Everything the core asked to persist, up to `zxid`, is fsynced. */
  persisted(zxid: bigint): void {
    this.core.markDurable(zxid);
    if (this.leaderRole !== null) this.leaderRole.onPersisted();
    else if (this.learnerRole !== null) this.learnerRole.tryAck();
    this.settleVote();
  }

  /** The snapshot from the last `installSnapshot` effect is in place and durable. */
  snapshotInstalled(zxid: bigint): void {
    if (this.core.snapshotPending !== zxid) return;
    this.core.snapshotPending = null;
    this.learnerRole?.tryAck();
  }

  /** The connection to `peer` broke: a learner looks for a new leader at once. */
  disconnected(peer: ServerId): void {
    if (this.leaderRole !== null) this.leaderRole.disconnected(peer);
    else if (this.learnerRole !== null) this.learnerRole.disconnected(peer);
  }

  /** The zxid the next `propose` will assign, or null when this member cannot propose. */
  nextZxid(): bigint | null {
    return this.leaderRole?.nextZxid() ?? null;
  }

  /** Leader only: assigns the next zxid, logs and broadcasts. Null when not an established leader. */
  propose(input: ProposalInput): Txn | null {
    return this.leaderRole?.propose(input) ?? null;
  }

  hasReady(): boolean {
    return this.core.hasReady();
  }

  ready(): Ready {
    return this.core.ready();
  }

  advance(): void {
    this.core.advance();
  }
}
