/**
 * Bytes of a ZabMessage: an int type (ZooKeeper's QuorumPacket numbers where one exists;
 * election notifications get their own) followed by the fields, as jute primitives. Txns use
 * the tree's txn codec. A decoded frame is hostile: every read is bounds-checked and an
 * unknown type or a trailing byte is a JuteDecodeError.
 */
import { JuteDecodeError, JuteReader, JuteWriter } from '../jute/index.js';
import { readTxn, writeTxn } from '../tree/index.js';
import type { PeerState, ZabMessage, ZabMessageType } from './types.js';

export const PacketType = {
  proposal: 2,
  ack: 3,
  commit: 4,
  ping: 5,
  inform: 8,
  newLeader: 10,
  followerInfo: 11,
  upToDate: 12,
  diff: 13,
  trunc: 14,
  snap: 15,
  observerInfo: 16,
  leaderInfo: 17,
  ackEpoch: 18,
  /** Not a QuorumPacket: FastLeaderElection's notification, which has its own channel there. */
  vote: 100,
} as const;

/** ZooKeeper's QuorumPeer.ServerState ordinals. */
const STATES: readonly PeerState[] = ['looking', 'following', 'leading', 'observing'];

function epochLong(epoch: number): bigint {
  return BigInt(epoch);
}

function readEpoch(r: JuteReader): number {
  const value = r.readLong();
  if (value < -1n || value > 0xffffffffn) throw new JuteDecodeError(`epoch ${value} out of range`, r.position - 8);
  return Number(value);
}

function readServerId(r: JuteReader): number {
  const value = r.readLong();
  if (value < -1n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw new JuteDecodeError(`server id ${value} out of range`, r.position - 8);
  return Number(value);
}

function readCounter(r: JuteReader): number {
  const value = r.readLong();
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw new JuteDecodeError(`election epoch ${value} out of range`, r.position - 8);
  return Number(value);
}

export function writeMessage(w: JuteWriter, m: ZabMessage): void {
  switch (m.type) {
    case 'vote':
      w.writeInt(PacketType.vote).writeLong(BigInt(m.leader)).writeLong(m.zxid).writeLong(BigInt(m.electionEpoch));
      w.writeLong(epochLong(m.peerEpoch)).writeInt(STATES.indexOf(m.state));
      return;
    case 'followerInfo':
      w.writeInt(m.observer ? PacketType.observerInfo : PacketType.followerInfo).writeLong(epochLong(m.acceptedEpoch)).writeLong(m.lastZxid);
      return;
    case 'leaderInfo':
      w.writeInt(PacketType.leaderInfo).writeLong(epochLong(m.epoch));
      return;
    case 'ackEpoch':
      w.writeInt(PacketType.ackEpoch).writeLong(epochLong(m.currentEpoch)).writeLong(m.lastZxid);
      return;
    case 'diff':
    case 'trunc':
      w.writeInt(PacketType[m.type]).writeLong(m.zxid).writeLong(m.lastZxid);
      return;
    case 'commit':
    case 'ack':
    case 'upToDate':
      w.writeInt(PacketType[m.type]).writeLong(m.zxid);
      return;
    case 'snap':
      w.writeInt(PacketType.snap).writeLong(m.zxid).writeLong(m.lastZxid).writeBuffer(m.snapshot);
      return;
    case 'proposal':
    case 'inform':
      w.writeInt(PacketType[m.type]);
      writeTxn(w, m.txn);
      return;
    case 'newLeader':
      w.writeInt(PacketType.newLeader).writeLong(epochLong(m.epoch)).writeLong(m.lastZxid);
      return;
    case 'ping':
      w.writeInt(PacketType.ping).writeLong(m.zxid).writeBuffer(m.payload);
      return;
  }
}

export function readMessage(r: JuteReader): ZabMessage {
  const type = r.readInt();
  switch (type) {
    case PacketType.vote: {
      const leader = readServerId(r);
      const zxid = r.readLong();
      const electionEpoch = readCounter(r);
      const peerEpoch = readEpoch(r);
      const state = STATES[r.readInt()];
      if (state === undefined) throw new JuteDecodeError('unknown peer state', r.position - 4);
      return { type: 'vote', leader, zxid, electionEpoch, peerEpoch, state };
    }
    case PacketType.followerInfo:
    case PacketType.observerInfo:
      return { type: 'followerInfo', observer: type === PacketType.observerInfo, acceptedEpoch: readEpoch(r), lastZxid: r.readLong() };
    case PacketType.leaderInfo:
      return { type: 'leaderInfo', epoch: readEpoch(r) };
    case PacketType.ackEpoch:
      return { type: 'ackEpoch', currentEpoch: readEpoch(r), lastZxid: r.readLong() };
    case PacketType.newLeader:
      return { type: 'newLeader', epoch: readEpoch(r), lastZxid: r.readLong() };
    case PacketType.snap: {
      const zxid = r.readLong();
      const lastZxid = r.readLong();
      const bytes = r.readBuffer();
      return { type: 'snap', zxid, lastZxid, snapshot: bytes === null ? null : Buffer.from(bytes) };
    }
    case PacketType.diff:
      return { type: 'diff', zxid: r.readLong(), lastZxid: r.readLong() };
    case PacketType.trunc:
      return { type: 'trunc', zxid: r.readLong(), lastZxid: r.readLong() };
    case PacketType.ping: {
      const zxid = r.readLong();
      const bytes = r.readBuffer();
      return { type: 'ping', zxid, payload: bytes === null ? null : Buffer.from(bytes) };
    }
    case PacketType.proposal:
      return { type: 'proposal', txn: readTxn(r) };
    case PacketType.inform:
      return { type: 'inform', txn: readTxn(r) };
    default:
      return { type: zxidOnlyType(type, r), zxid: r.readLong() };
  }
}

function zxidOnlyType(type: number, r: JuteReader): Extract<ZabMessageType, 'commit' | 'ack' | 'upToDate'> {
  switch (type) {
    case PacketType.commit:
      return 'commit';
    case PacketType.ack:
      return 'ack';
    case PacketType.upToDate:
      return 'upToDate';
    default:
      throw new JuteDecodeError(`unknown zab packet type ${type}`, r.position - 4);
  }
}

export function encodeMessage(m: ZabMessage): Buffer {
  const w = new JuteWriter();
  writeMessage(w, m);
  return w.toBuffer();
}

export function decodeMessage(bytes: Buffer): ZabMessage {
  const r = new JuteReader(bytes);
  const m = readMessage(r);
  if (r.remaining !== 0) throw new JuteDecodeError(`${r.remaining} trailing bytes after zab ${m.type}`, r.position);
  return m;
}
