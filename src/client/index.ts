/** The TypeScript ZooKeeper client: promise-based, pipelined, with one-shot and persistent watches. */
export { ZooKeeperClient, toOpResult } from './client.js';
export type { ClientTestHooks } from './core.js';
export { ZooKeeperError } from './errors.js';
export { parseConnectString } from './hosts.js';
export type { HostPort } from './hosts.js';
export type { ACLResult, ChildrenResult, CreateResult, DataResult } from './requests.js';
export { ANYONE_ID_UNSAFE, AUTH_IDS, CREATOR_ALL_ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from './types.js';
export type {
  ClientEvents,
  ClientState,
  ConnectedInfo,
  ConnectOptions,
  CreateMode,
  CreateOptions,
  Data,
  Op,
  OpResult,
  PersistentWatchMode,
  ReadOp,
  WatchCallback,
  WatchedEvent,
  WatchType,
} from './types.js';
export { CreateFlag, Err, EventType, KeeperState, Perm, errorName } from '../jute/index.js';
export type { ACL, ClientInfo, Id, Stat } from '../jute/index.js';
