/**
 * Session liveness with ZooKeeper's expiry buckets (ExpiryQueue): a session's deadline is
 * rounded up to the next multiple of the tick, so one timer per tick expires whole buckets
 * instead of one timer per session. Pure: the caller supplies the time.
 */
import { createHmac } from 'node:crypto';

export interface SessionInfo {
  readonly id: bigint;
  timeoutMs: number;
  /** Bucket time at which the session expires unless touched. */
  expiresAtMs: number;
  closing: boolean;
}

/** ZooKeeper derives the password from the session id so any member can check it. */
const PASSWORD_SECRET = 'paddock-session-secret-v1';
export const SESSION_PASSWORD_BYTES = 16;

export function sessionPassword(sessionId: bigint): Buffer {
  return createHmac('sha256', PASSWORD_SECRET)
    .update(sessionId.toString(16))
    .digest()
    .subarray(0, SESSION_PASSWORD_BYTES);
}

export function checkSessionPassword(sessionId: bigint, password: Buffer): boolean {
  return password.length === SESSION_PASSWORD_BYTES && sessionPassword(sessionId).equals(password);
}

/** ephemeralOwner of container znodes (EphemeralType.CONTAINER_EPHEMERAL_OWNER), never a session id. */
const CONTAINER_EPHEMERAL_OWNER = -(2n ** 63n);

/**
 * First session id of a server, as ZooKeeper: the server id in the top byte, then the
 * current time in milliseconds shifted so that restarts do not reuse ids.
 */
export function initialSessionId(serverId: number, nowMs: number): bigint {
  const time = BigInt.asUintN(64, BigInt(nowMs) << 24n) >> 8n;
  const id = BigInt.asIntN(64, (BigInt(serverId & 0xff) << 56n) | time);
  // 0x8000000000000000 marks container znodes in ephemeralOwner; ZooKeeper skips it too.
  return id === CONTAINER_EPHEMERAL_OWNER ? id + 1n : id;
}

export class SessionTracker {
  private readonly sessions = new Map<bigint, SessionInfo>();
  private readonly buckets = new Map<number, Set<bigint>>();
  private nextId: bigint;

  constructor(
    private readonly tickMs: number,
    serverId: number,
    nowMs: number,
  ) {
    this.nextId = initialSessionId(serverId, nowMs);
  }

  private bucketOf(timeMs: number): number {
    return (Math.floor(timeMs / this.tickMs) + 1) * this.tickMs;
  }

  newSessionId(): bigint {
    const id = this.nextId;
    this.nextId = BigInt.asIntN(64, this.nextId + 1n);
    return id;
  }

  get(id: bigint): SessionInfo | undefined {
    return this.sessions.get(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  all(): IterableIterator<SessionInfo> {
    return this.sessions.values();
  }

  /** Tracks a session (new, or recovered); it expires `timeoutMs` from now unless touched. */
  add(id: bigint, timeoutMs: number, nowMs: number): SessionInfo {
    const existing = this.sessions.get(id);
    if (existing) {
      existing.timeoutMs = timeoutMs;
      this.touch(id, nowMs);
      return existing;
    }
    const info: SessionInfo = { id, timeoutMs, expiresAtMs: 0, closing: false };
    this.sessions.set(id, info);
    this.move(info, this.bucketOf(nowMs + timeoutMs));
    return info;
  }

  /** Extends a live session; false when it is unknown or already closing. */
  touch(id: bigint, nowMs: number): boolean {
    const info = this.sessions.get(id);
    if (!info || info.closing) return false;
    const bucket = this.bucketOf(nowMs + info.timeoutMs);
    if (bucket > info.expiresAtMs) this.move(info, bucket);
    return true;
  }

  private move(info: SessionInfo, bucket: number): void {
    const old = this.buckets.get(info.expiresAtMs);
    old?.delete(info.id);
    if (old?.size === 0) this.buckets.delete(info.expiresAtMs);
    info.expiresAtMs = bucket;
    let set = this.buckets.get(bucket);
    if (!set) this.buckets.set(bucket, (set = new Set()));
    set.add(info.id);
  }

  /** Marks a session as closing so that it is neither touched nor expired twice. */
  setClosing(id: bigint): void {
    const info = this.sessions.get(id);
    if (info) info.closing = true;
  }

  remove(id: bigint): void {
    const info = this.sessions.get(id);
    if (!info) return;
    this.sessions.delete(id);
    const bucket = this.buckets.get(info.expiresAtMs);
    bucket?.delete(id);
    if (bucket?.size === 0) this.buckets.delete(info.expiresAtMs);
  }

  /** Sessions whose bucket time has passed; they are marked closing and left for the caller. */
  expire(nowMs: number): SessionInfo[] {
    const expired: SessionInfo[] = [];
    for (const [bucket, ids] of this.buckets) {
      if (bucket > nowMs) continue;
      for (const id of ids) {
        const info = this.sessions.get(id);
        if (info && !info.closing) {
          info.closing = true;
          expired.push(info);
        }
      }
    }
    return expired.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
