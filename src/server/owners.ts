/**
 * Which member holds each session, kept by the leader (ZooKeeper: SessionTrackerImpl's
 * session owner, checked by PrepRequestProcessor's `checkSession(sessionId, owner)`).
 *
 * A session's owner is the member its client is connected to: set when a learner forwards the
 * session's createSession or sends REVALIDATE (a client reconnected there), when a client
 * creates or resumes a session on the leader itself, and by the first checked request of a
 * session nobody owns (a new leader starts with no owners). A write from any other member is
 * an error txn with SessionMoved: that member's client has moved on, and its late writes must
 * not land after the ones the new member forwards.
 */
import { OpCode } from '../jute/index.js';

/** Requests checked against the owner, as in ZooKeeper (not createSession, closeSession, reads). */
export const OWNER_CHECKED_OPS: ReadonlySet<number> = new Set<number>([
  OpCode.create,
  OpCode.create2,
  OpCode.createContainer,
  OpCode.createTTL,
  OpCode.delete,
  OpCode.setData,
  OpCode.setACL,
  OpCode.check,
  OpCode.multi,
  OpCode.reconfig,
]);

export class SessionOwners {
  private readonly owners = new Map<bigint, number>();

  /** `member` holds the session from now on. */
  claim(sessionId: bigint, member: number): void {
    this.owners.set(sessionId, member);
  }

  /** True when `member` may write for the session; an unowned session becomes its. */
  check(sessionId: bigint, member: number): boolean {
    const owner = this.owners.get(sessionId);
    if (owner === undefined) {
      this.owners.set(sessionId, member);
      return true;
    }
    return owner === member;
  }

  owner(sessionId: bigint): number | undefined {
    return this.owners.get(sessionId);
  }

  forget(sessionId: bigint): void {
    this.owners.delete(sessionId);
  }

  /** A change of leader: ownership starts over. */
  clear(): void {
    this.owners.clear();
  }
}
