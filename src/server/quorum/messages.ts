/**
 * What crosses the quorum port: the ZAB core's messages (src/zab/codec.ts) and the shell's
 * own — a learner forwarding a client write to the leader (REQUEST), `sync` (SYNC and its
 * answer SYNC_DONE), and REVALIDATE (a client reconnected to the learner with an existing
 * session: the leader makes that learner the session's owner), and the pieces of a SNAP's
 * snapshot, which go ahead of the SNAP itself. The first byte of a payload says which. The
 * election port carries only ZAB `vote` messages, in the same framing.
 */
import { JuteDecodeError, JuteReader, JuteWriter } from '../../jute/index.js';
import type { Id } from '../../jute/index.js';
import { decodeMessage, encodeMessage } from '../../zab/index.js';
import type { ZabMessage } from '../../zab/index.js';

const KIND_ZAB = 0;
const KIND_REQUEST = 1;
const KIND_SYNC = 2;
const KIND_SYNC_DONE = 3;
const KIND_REVALIDATE = 4;
const KIND_SNAP_PART = 5;

/** A client write forwarded by the member that holds its session. */
export interface ForwardedRequest {
  sessionId: bigint;
  /** Chosen by the forwarding member; the txn carries it back so the member finds its request. */
  cxid: number;
  /** The op code (createSession for a new session, whose body is its timeout). */
  type: number;
  body: Buffer;
  /** The session's auth ids on the forwarding member; the leader checks ACLs with them. */
  authIds: Id[];
}

export type QuorumPayload =
  | { kind: 'zab'; message: ZabMessage }
  | { kind: 'request'; request: ForwardedRequest }
  | { kind: 'sync'; id: number }
  | { kind: 'syncDone'; id: number; zxid: bigint }
  | { kind: 'revalidate'; sessionId: bigint }
  /** `bytes` of the snapshot for the SNAP at `zxid`, from `offset` on. */
  | { kind: 'snapPart'; zxid: bigint; offset: number; bytes: Buffer };

export function encodePayload(p: QuorumPayload): Buffer {
  if (p.kind === 'zab') return Buffer.concat([Buffer.from([KIND_ZAB]), encodeMessage(p.message)]);
  const w = new JuteWriter();
  if (p.kind === 'request') {
    const r = p.request;
    w.writeRaw(Buffer.from([KIND_REQUEST]));
    w.writeLong(r.sessionId).writeInt(r.cxid).writeInt(r.type).writeBuffer(r.body).writeInt(r.authIds.length);
    for (const id of r.authIds) w.writeString(id.scheme).writeString(id.id);
  } else if (p.kind === 'sync') {
    w.writeRaw(Buffer.from([KIND_SYNC])).writeInt(p.id);
  } else if (p.kind === 'revalidate') {
    w.writeRaw(Buffer.from([KIND_REVALIDATE])).writeLong(p.sessionId);
  } else if (p.kind === 'snapPart') {
    w.writeRaw(Buffer.from([KIND_SNAP_PART])).writeLong(p.zxid).writeLong(BigInt(p.offset)).writeBuffer(p.bytes);
  } else {
    w.writeRaw(Buffer.from([KIND_SYNC_DONE])).writeInt(p.id).writeLong(p.zxid);
  }
  return w.toBuffer();
}

/** A payload from a peer is hostile until decoded: throws JuteDecodeError on anything odd. */
export function decodePayload(bytes: Buffer): QuorumPayload {
  if (bytes.length === 0) throw new JuteDecodeError('empty quorum payload', 0);
  const kind = bytes[0];
  if (kind === KIND_ZAB) return { kind: 'zab', message: decodeMessage(bytes.subarray(1)) };
  const r = new JuteReader(bytes, 1);
  let p: QuorumPayload;
  if (kind === KIND_REQUEST) {
    const sessionId = r.readLong();
    const cxid = r.readInt();
    const type = r.readInt();
    const body = Buffer.from(r.readBuffer() ?? Buffer.alloc(0));
    const count = r.readInt();
    if (count < 0 || count > 1024) throw new JuteDecodeError(`${count} auth ids`, r.position);
    const authIds: Id[] = [];
    for (let i = 0; i < count; i++) authIds.push({ scheme: r.readString() ?? '', id: r.readString() ?? '' });
    p = { kind: 'request', request: { sessionId, cxid, type, body, authIds } };
  } else if (kind === KIND_SYNC) {
    p = { kind: 'sync', id: r.readInt() };
  } else if (kind === KIND_SYNC_DONE) {
    p = { kind: 'syncDone', id: r.readInt(), zxid: r.readLong() };
  } else if (kind === KIND_REVALIDATE) {
    p = { kind: 'revalidate', sessionId: r.readLong() };
  } else if (kind === KIND_SNAP_PART) {
    const zxid = r.readLong();
    const offset = r.readLong();
    if (offset < 0n || offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new JuteDecodeError(`snapshot offset ${offset}`, r.position);
    const bytes = r.readBuffer();
    if (bytes === null) throw new JuteDecodeError('snapshot piece without bytes', r.position);
    // A copy: the frame it came in may be a slice of a much larger read.
    p = { kind: 'snapPart', zxid, offset: Number(offset), bytes: Buffer.from(bytes) };
  } else {
    throw new JuteDecodeError(`unknown quorum payload kind ${kind}`, 0);
  }
  if (r.remaining !== 0) throw new JuteDecodeError('trailing bytes in a quorum payload', r.position);
  return p;
}

/** PING payload from a learner: the sessions its clients touched since the last one. */
export function encodeTouches(ids: Iterable<bigint>): Buffer {
  const list = [...ids];
  const w = new JuteWriter({ capacityBytes: 4 + 8 * list.length });
  w.writeInt(list.length);
  for (const id of list) w.writeLong(id);
  return w.toBuffer();
}

export function decodeTouches(bytes: Buffer): bigint[] {
  const r = new JuteReader(bytes);
  const count = r.readInt();
  if (count < 0 || count * 8 > r.remaining) throw new JuteDecodeError(`${count} session touches`, 0);
  const ids: bigint[] = [];
  for (let i = 0; i < count; i++) ids.push(r.readLong());
  return ids;
}
