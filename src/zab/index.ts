/**
 * The pure ZAB core: fast leader election, discovery, synchronisation and broadcast.
 * In: messages, ticks, "durable up to zxid". Out (via `Ready`): messages to send, txns to
 * persist, txns to commit, epochs to persist, truncations and snapshots. No sockets, timers
 * or disk.
 */
export { ZabNode } from './node.js';
export type { LearnerStatus, ZabStatus } from './node.js';
export { encodeMessage, decodeMessage, writeMessage, readMessage, PacketType } from './codec.js';
export { betterVote } from './election.js';
export { planSync } from './leader.js';
export type { SyncPlan } from './leader.js';
export {
  ZabInvariantError,
  makeZxid,
  epochOf,
  counterOf,
  zxidHex,
  ZXID_COUNTER_MAX,
  DEFAULT_COMMIT_LOG_WINDOW,
  DEFAULT_FINALIZE_TICKS,
} from './types.js';
export type {
  ServerId,
  PeerState,
  Vote,
  ZabMessage,
  ZabMessageType,
  Outgoing,
  TickLimits,
  PersistedState,
  ZabConfig,
  ProposalInput,
  RoleChange,
  Ready,
} from './types.js';
