/**
 * node-zookeeper-client (npm, CommonJS, untyped): the parts of its API the tests use, and a
 * promise face on one session where every call is bounded in time.
 */
import { createRequire } from 'node:module';

export interface ZkStat {
  czxid: Buffer;
  mzxid: Buffer;
  ctime: Buffer;
  mtime: Buffer;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: Buffer;
  dataLength: number;
  numChildren: number;
  pzxid: Buffer;
}

export interface ZkError extends Error {
  getCode(): number;
}

export interface ZkEvent {
  type: number;
  name: string;
  path: string;
}

export type Watcher = (event: ZkEvent) => void;
export type Cb<T> = (error: ZkError | null, result: T) => void;

export interface ZkId {
  scheme: string;
  id: string;
}

export interface ZkAcl {
  permission: number;
  id: ZkId;
}

export interface ZkTransaction {
  create(path: string, data?: Buffer, acls?: ZkAcl[], mode?: number): ZkTransaction;
  setData(path: string, data: Buffer, version: number): ZkTransaction;
  check(path: string, version: number): ZkTransaction;
  remove(path: string, version: number): ZkTransaction;
  commit(cb: (error: ZkError | null, results: { type: number; path?: string; stat?: ZkStat; err?: number }[]) => void): void;
}

interface ConnectionManager {
  socket: { destroy(): void };
  setState(state: number): void;
  connect(): void;
}

export interface ZkClient {
  connect(): void;
  close(): void;
  once(event: 'connected' | 'disconnected' | 'expired', listener: () => void): void;
  on(event: 'connected' | 'disconnected' | 'expired', listener: () => void): void;
  getSessionId(): Buffer;
  getSessionPassword(): Buffer;
  getSessionTimeout(): number;
  addAuthInfo(scheme: string, auth: Buffer): void;
  create(path: string, data: Buffer | undefined, acls: ZkAcl[], mode: number, cb: Cb<string>): void;
  remove(path: string, version: number, cb: (error: ZkError | null) => void): void;
  setData(path: string, data: Buffer, version: number, cb: Cb<ZkStat>): void;
  getData(path: string, watcher: Watcher | undefined, cb: (error: ZkError | null, data: Buffer | undefined, stat: ZkStat) => void): void;
  exists(path: string, watcher: Watcher | undefined, cb: Cb<ZkStat | null>): void;
  getChildren(path: string, watcher: Watcher | undefined, cb: (error: ZkError | null, children: string[], stat: ZkStat) => void): void;
  getACL(path: string, cb: (error: ZkError | null, acls: ZkAcl[], stat: ZkStat) => void): void;
  setACL(path: string, acls: ZkAcl[], version: number, cb: Cb<ZkStat>): void;
  transaction(): ZkTransaction;
  connectionManager: ConnectionManager;
}

export interface ZkModule {
  createClient(
    connectString: string,
    options?: { sessionTimeout?: number; spinDelay?: number; retries?: number; sessionId?: Buffer; sessionPassword?: Buffer },
  ): ZkClient;
  CreateMode: { PERSISTENT: number; EPHEMERAL: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL_SEQUENTIAL: number };
  ACL: { OPEN_ACL_UNSAFE: ZkAcl[]; CREATOR_ALL_ACL: ZkAcl[]; READ_ACL_UNSAFE: ZkAcl[]; new (perms: number, id: ZkId): ZkAcl };
  Id: new (scheme: string, id: string) => ZkId;
  Permission: { READ: number; WRITE: number; CREATE: number; DELETE: number; ADMIN: number; ALL: number };
  Exception: Record<string, number>;
}

const requireCjs = createRequire(import.meta.url);
export const zookeeper = requireCjs('node-zookeeper-client') as ZkModule;
export const { CreateMode, ACL, Id, Permission, Exception } = zookeeper;

/** ConnectionManager.STATES.CLOSING: after it, a closed socket is not reconnected. */
const CM_CLOSING = -1;

export const long = (b: Buffer): bigint => b.readBigInt64BE(0);

export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function once(client: ZkClient, event: 'connected' | 'disconnected' | 'expired', timeoutMs = 10_000): Promise<void> {
  return withTimeout(new Promise<void>((resolve) => client.once(event, resolve)), timeoutMs, `'${event}'`);
}

/** A promise face on one node-zookeeper-client session; every call is bounded in time. */
export class NodeZk {
  private constructor(readonly client: ZkClient) {}

  static async connect(
    connectString: string,
    options: { sessionTimeout?: number; sessionId?: Buffer; sessionPassword?: Buffer } = {},
  ): Promise<NodeZk> {
    const client = zookeeper.createClient(connectString, { sessionTimeout: 10_000, spinDelay: 50, retries: 0, ...options });
    const connected = once(client, 'connected');
    client.connect();
    await connected;
    return new NodeZk(client);
  }

  private call<T>(what: string, fn: (cb: Cb<T>) => void): Promise<T> {
    return withTimeout(
      new Promise<T>((resolve, reject) => fn((error, result) => (error ? reject(error) : resolve(result)))),
      10_000,
      what,
    );
  }

  get sessionId(): bigint {
    return long(this.client.getSessionId());
  }

  create(path: string, data?: Buffer, mode = CreateMode.PERSISTENT, acls = ACL.OPEN_ACL_UNSAFE): Promise<string> {
    return this.call(`create ${path}`, (cb) => this.client.create(path, data, acls, mode, cb));
  }

  remove(path: string, version = -1): Promise<void> {
    return this.call(`remove ${path}`, (cb) => this.client.remove(path, version, (e) => cb(e, undefined)));
  }

  setData(path: string, data: Buffer, version = -1): Promise<ZkStat> {
    return this.call(`setData ${path}`, (cb) => this.client.setData(path, data, version, cb));
  }

  getData(path: string, watcher?: Watcher): Promise<[Buffer | undefined, ZkStat]> {
    return this.call(`getData ${path}`, (cb) => this.client.getData(path, watcher, (e, data, stat) => cb(e, [data, stat])));
  }

  exists(path: string, watcher?: Watcher): Promise<ZkStat | null> {
    return this.call(`exists ${path}`, (cb) => this.client.exists(path, watcher, cb));
  }

  getChildren(path: string, watcher?: Watcher): Promise<[string[], ZkStat]> {
    return this.call(`getChildren ${path}`, (cb) =>
      this.client.getChildren(path, watcher, (e, children, stat) => cb(e, [children, stat])),
    );
  }

  getACL(path: string): Promise<[ZkAcl[], ZkStat]> {
    return this.call(`getACL ${path}`, (cb) => this.client.getACL(path, (e, acls, stat) => cb(e, [acls, stat])));
  }

  setACL(path: string, acls: ZkAcl[], version = -1): Promise<ZkStat> {
    return this.call(`setACL ${path}`, (cb) => this.client.setACL(path, acls, version, cb));
  }

  commit(tx: ZkTransaction): Promise<{ error: ZkError | null; results: { type: number; path?: string; stat?: ZkStat; err?: number }[] }> {
    return withTimeout(
      new Promise((resolve) => tx.commit((error, results) => resolve({ error, results }))),
      10_000,
      'multi',
    );
  }

  /** Sends closeSession and waits for the server to close the connection. */
  async close(): Promise<void> {
    const disconnected = once(this.client, 'disconnected');
    this.client.close();
    await disconnected;
  }

  /**
   * Drops the connection without a closeSession and never reconnects: to the server, the
   * client just died, so the session lives until it times out.
   */
  abandon(): void {
    this.client.connectionManager.setState(CM_CLOSING);
    this.client.connectionManager.socket.destroy();
  }
}

/** The ZooKeeper error code a call failed with (0 if it succeeded). */
export async function codeOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 0;
  } catch (error) {
    if (typeof (error as ZkError).getCode !== 'function') throw error;
    return (error as ZkError).getCode();
  }
}

