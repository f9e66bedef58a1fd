/** The client's public types: options, create modes, watch events, multi ops and results. */
import { CreateFlag, Perm } from '../jute/index.js';
import type { ACL, Stat } from '../jute/index.js';
import type { Platform } from '../platform/index.js';

/** Znode data as a caller may pass it; strings are sent as UTF-8. */
export type Data = Buffer | Uint8Array | string;

/** A CreateMode by name, or the numeric flag as it travels in CreateRequest.flags. */
export type CreateMode = keyof typeof CreateFlag | number;

export interface CreateOptions {
  /** Default 'persistent'. */
  mode?: CreateMode;
  /** Default OPEN_ACL_UNSAFE. */
  acl?: readonly ACL[];
  /** Milliseconds; required by (and only allowed with) the TTL modes. */
  ttlMs?: number;
}

/** What a watch callback receives: EventType and KeeperState numbers, and the path. */
export interface WatchedEvent {
  type: number;
  state: number;
  path: string;
}
export type WatchCallback = (event: WatchedEvent) => void;

/**
 * addWatch modes (ZooKeeper's AddWatchMode): 'persistent' hears every event on its path
 * (NodeCreated, NodeDeleted, NodeDataChanged, NodeChildrenChanged); 'persistentRecursive'
 * hears the events of its path and of every descendant, except NodeChildrenChanged. Both
 * stay until removed.
 */
export type PersistentWatchMode = 'persistent' | 'persistentRecursive';

/**
 * The kinds of watch removeWatches and checkWatches name (ZooKeeper's Watcher.WatcherType):
 * 'data' is getData and exists watches, 'children' getChildren watches, 'persistent' and
 * 'persistentRecursive' those of addWatch, 'any' all of them.
 */
export type WatchType = 'children' | 'data' | 'any' | 'persistent' | 'persistentRecursive';

export type ClientState = 'connecting' | 'connected' | 'disconnected' | 'expired' | 'closed';

export interface ConnectOptions {
  /** "host:port,host:port"; the port defaults to 2181. A chroot suffix is not supported yet. */
  connectString: string;
  /** Requested session timeout; the server clamps it to [2, 20] ticks. Default 10000. */
  sessionTimeoutMs?: number;
  /**
   * Limit for one attempt (TCP connect plus handshake) on one host. Default: the session
   * timeout divided by the number of hosts (as ZooKeeper's client), at least 250 ms.
   */
  connectTimeoutMs?: number;
  /** Whether the ConnectRequest carries the trailing readOnly byte (clients since 3.4 do). Default true. */
  readOnly?: boolean;
  /** The value of that byte: accept a read-only server. Default false. */
  canBeReadOnly?: boolean;
  /** Resume an existing session (with sessionPassword). */
  sessionId?: bigint;
  sessionPassword?: Buffer;
  /** Requests issued while disconnected wait in a queue of this size; beyond it they fail. Default 10000. */
  maxQueuedRequests?: number;
  /** Largest frame accepted from the server. Default 4 MiB + 64 KiB (jute.maxbuffer plus headers). */
  maxFrameBytes?: number;
  /** Upper bound of the delay between reconnect attempts. Default 1000. */
  maxReconnectDelayMs?: number;
  /** Clock, timers, TCP and randomness (reconnect backoff); default Node's. The simulator brings its own. */
  platform?: Platform;
  /**
   * Called with every reply header the client decodes — notifications (xid -1), pings (-2),
   * auth (-4) and SetWatches (-8) included — before the promise or watch callback it settles
   * runs; for recording histories. What it throws goes to the 'error' event.
   */
  onReplyHeader?: (xid: number, zxid: bigint, err: number) => void;
  /**
   * Called with every watch event the server sends (xid -1), whether or not a watch callback
   * of this client is registered for it, before those callbacks run; for tests and tools that
   * compare what servers send (persistent watches, and events nobody asked for, included).
   * What it throws goes to the 'error' event.
   */
  onWatchEvent?: (event: WatchedEvent) => void;
}

export interface ConnectedInfo {
  host: string;
  port: number;
  sessionId: bigint;
  /** True when an existing session was resumed (after a reconnect, or via options.sessionId). */
  resumed: boolean;
}

/** Typed events of ZooKeeperClient (an EventEmitter). */
export interface ClientEvents {
  connected: [info: ConnectedInfo];
  disconnected: [reason: Error];
  expired: [];
  closed: [];
  /** A watch callback threw; without an 'error' listener the error is rethrown on the next tick. */
  error: [error: Error];
}

// ---- multi ----

/** An op of multi(), as in ZooKeeper's Op.create/delete/setData/check. */
export type Op =
  | { type: 'create'; path: string; data?: Data; mode?: CreateMode; acl?: readonly ACL[]; ttlMs?: number }
  | { type: 'delete'; path: string; version?: number }
  | { type: 'setData'; path: string; data: Data; version?: number }
  | { type: 'check'; path: string; version: number };

/** An op of multiRead(). */
export type ReadOp = { type: 'getData'; path: string } | { type: 'getChildren'; path: string };

export type OpResult =
  | { type: 'create'; path: string; stat?: Stat }
  | { type: 'delete' }
  | { type: 'setData'; stat: Stat }
  | { type: 'check' }
  | { type: 'getData'; data: Buffer; stat: Stat }
  | { type: 'getChildren'; children: string[] }
  | { type: 'error'; code: number; codeName: string };

// ---- ACLs ----

export const ANYONE_ID_UNSAFE = Object.freeze({ scheme: 'world', id: 'anyone' });
export const AUTH_IDS = Object.freeze({ scheme: 'auth', id: '' });
export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: Perm.ALL, id: ANYONE_ID_UNSAFE }]);
export const CREATOR_ALL_ACL: readonly ACL[] = Object.freeze([{ perms: Perm.ALL, id: AUTH_IDS }]);
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: Perm.READ, id: ANYONE_ID_UNSAFE }]);
