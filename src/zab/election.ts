/**
 * Fast leader election, after ZooKeeper's FastLeaderElection.lookForLeader and its
 * WorkerReceiver: votes are ordered by (peerEpoch, zxid, server id); a round is named by the
 * logical clock (electionEpoch); a LOOKING member decides once a quorum of voters holds its
 * vote (after `finalizeTicks` without a better one, or at once when every voter agrees), or
 * when a quorum of FOLLOWING/LEADING members points at a leader that says it is LEADING.
 * Observers hold an empty vote, never count, and learn the leader the same way.
 */
import type { Quorum } from './quorum.js';
import type { PeerState, ServerId, Vote, ZabMessage } from './types.js';

interface Proposal {
  leader: ServerId;
  zxid: bigint;
  peerEpoch: number;
}

const NO_VOTE: Proposal = { leader: -1, zxid: -1n, peerEpoch: -1 };

export interface ElectionHost {
  readonly id: ServerId;
  readonly quorum: Quorum;
  readonly finalizeTicks: number;
  send(to: ServerId, message: ZabMessage): void;
  /** (lastLoggedZxid, currentEpoch) of this member, read when a round starts. */
  initialVote(): { zxid: bigint; peerEpoch: number };
}

export interface Decision {
  leader: ServerId;
  reason: string;
}

/** FastLeaderElection.totalOrderPredicate: is (leader, zxid, epoch) `a` better than `b`? */
export function betterVote(a: Proposal, b: Proposal): boolean {
  if (a.peerEpoch !== b.peerEpoch) return a.peerEpoch > b.peerEpoch;
  if (a.zxid !== b.zxid) return a.zxid > b.zxid;
  return a.leader > b.leader;
}

/** Vote.equals: LOOKING votes compare everything; settled votes compare leader and epoch. */
function sameVote(a: Vote, b: Vote): boolean {
  if (a.leader !== b.leader || a.peerEpoch !== b.peerEpoch) return false;
  if (a.state !== 'looking' && b.state !== 'looking') return true;
  return a.zxid === b.zxid && a.electionEpoch === b.electionEpoch;
}

export class Election {
  logicalClock = 0;
  private proposal: Proposal = NO_VOTE;
  private readonly recvset = new Map<ServerId, Vote>();
  private readonly outOfElection = new Map<ServerId, Vote>();
  /** Ticks waited since a quorum agreed with our proposal; null while none does. */
  private agreedTicks: number | null = null;
  /** The vote this member settled on, sent to those who ask while it is not looking. */
  private settled: Vote | null = null;

  constructor(private readonly host: ElectionHost) {}

  private get isVoter(): boolean {
    return this.host.quorum.isVoter(this.host.id);
  }

  /** Starts a round: bump the clock, vote for ourselves, tell every voter. */
  start(): Decision | null {
    this.logicalClock++;
    this.recvset.clear();
    this.outOfElection.clear();
    this.settled = null;
    this.agreedTicks = null;
    this.proposal = this.initialProposal();
    this.recordOwnVote();
    this.broadcast();
    return this.checkAgreement();
  }

  private initialProposal(): Proposal {
    if (!this.isVoter) return NO_VOTE;
    const { zxid, peerEpoch } = this.host.initialVote();
    return { leader: this.host.id, zxid, peerEpoch };
  }

  private voteOf(state: PeerState): Vote {
    return { ...this.proposal, electionEpoch: this.logicalClock, state };
  }

  private recordOwnVote(): void {
    if (this.isVoter) this.recvset.set(this.host.id, this.voteOf('looking'));
  }

  private broadcast(): void {
    for (const to of this.host.quorum.voters) {
      if (to !== this.host.id) this.host.send(to, { type: 'vote', ...this.voteOf('looking') });
    }
  }

  /** The vote to answer with: the settled one when not looking. */
  private reply(to: ServerId, state: PeerState): void {
    const vote = state === 'looking' || this.settled === null ? this.voteOf('looking') : { ...this.settled, state };
    this.host.send(to, { type: 'vote', ...vote });
  }

  /** A notification arrived; `myState` is this member's current state. */
  receive(from: ServerId, n: Vote, myState: PeerState): Decision | null {
    if (!this.host.quorum.isVoter(from)) {
      // WorkerReceiver: a non-voting sender gets our current vote at once.
      if (this.isVoter) this.reply(from, myState);
      return null;
    }
    // Only voters answer: an observer that answered a voter's answer would loop forever.
    if (myState !== 'looking') {
      if (n.state === 'looking' && this.isVoter) this.reply(from, myState);
      return null;
    }
    if (n.state === 'looking' && n.electionEpoch < this.logicalClock && this.isVoter) this.reply(from, myState);
    if (!this.host.quorum.isVoter(n.leader)) return null;
    return n.state === 'looking' ? this.onLooking(from, n) : this.onSettled(from, n);
  }

  private onLooking(from: ServerId, n: Vote): Decision | null {
    if (n.electionEpoch > this.logicalClock) {
      this.logicalClock = n.electionEpoch;
      this.recvset.clear();
      const own = this.initialProposal();
      this.adopt(betterVote(n, own) ? n : own);
      this.broadcast();
    } else if (n.electionEpoch < this.logicalClock) {
      return null;
    } else if (betterVote(n, this.proposal)) {
      this.adopt(n);
      this.broadcast();
    }
    this.recvset.set(from, { ...n });
    return this.checkAgreement();
  }

  private adopt(p: Proposal): void {
    this.proposal = { leader: p.leader, zxid: p.zxid, peerEpoch: p.peerEpoch };
    this.agreedTicks = null;
    this.recordOwnVote();
  }

  private onSettled(from: ServerId, n: Vote): Decision | null {
    if (n.electionEpoch === this.logicalClock) {
      this.recvset.set(from, { ...n });
      if (this.termPredicate(this.recvset, n) && this.checkLeader(this.recvset, n.leader, n.electionEpoch)) {
        return this.decide(n, `quorum settled on ${n.leader} in round ${n.electionEpoch}`);
      }
    }
    this.outOfElection.set(from, { ...n });
    if (this.termPredicate(this.outOfElection, n) && this.checkLeader(this.outOfElection, n.leader, -1)) {
      this.logicalClock = n.electionEpoch;
      return this.decide(n, `joined established leader ${n.leader}`);
    }
    return null;
  }

  private termPredicate(votes: ReadonlyMap<ServerId, Vote>, vote: Vote): boolean {
    const agreeing: ServerId[] = [];
    for (const [sid, v] of votes) if (sameVote(v, vote)) agreeing.push(sid);
    return this.host.quorum.containsQuorum(agreeing);
  }

  /** FastLeaderElection.checkLeader: a leader other than us must itself say LEADING. */
  private checkLeader(votes: ReadonlyMap<ServerId, Vote>, leader: ServerId, electionEpoch: number): boolean {
    if (leader !== this.host.id) return votes.get(leader)?.state === 'leading';
    return this.logicalClock === electionEpoch;
  }

  private checkAgreement(): Decision | null {
    const own = this.voteOf('looking');
    if (own.leader < 0 || !this.termPredicate(this.recvset, own)) {
      this.agreedTicks = null;
      return null;
    }
    const unanimous = [...this.host.quorum.voters].every((v) => {
      const vote = this.recvset.get(v);
      return vote !== undefined && sameVote(vote, own);
    });
    if (unanimous || this.host.finalizeTicks <= 0) return this.decide(own, 'quorum agreed');
    this.agreedTicks ??= 0;
    return null;
  }

  private decide(vote: Proposal & { electionEpoch?: number }, reason: string): Decision {
    this.proposal = { leader: vote.leader, zxid: vote.zxid, peerEpoch: vote.peerEpoch };
    this.settled = this.voteOf('looking');
    this.recvset.clear();
    this.outOfElection.clear();
    this.agreedTicks = null;
    return { leader: vote.leader, reason: `elected ${vote.leader}: ${reason}` };
  }

  /**
   * Once serving under `leader` in `epoch`, answer with (leader, epoch) as the vote: members
   * that joined in different rounds then agree, and a member that rejoins can find them
   * (its outOfElection check compares only leader and peerEpoch of settled votes).
   */
  settle(leader: ServerId, epoch: number): void {
    if (this.settled === null || (this.settled.leader === leader && this.settled.peerEpoch === epoch)) return;
    this.settled = { ...this.settled, leader, peerEpoch: epoch };
  }

  /** A tick while looking: decide after the finalize wait, else resend our vote. */
  tick(): Decision | null {
    if (this.agreedTicks !== null) {
      this.agreedTicks++;
      if (this.agreedTicks >= this.host.finalizeTicks) return this.decide(this.proposal, 'no better vote within finalize wait');
      return null;
    }
    this.broadcast();
    return null;
  }
}
