/**
 * The replicated state: znodes with their Stat, the ephemerals of each session, and the
 * sessions with their timeouts. `apply(txn)` is the only way it changes, and it is a
 * deterministic function of the tree and the txn, so every member that applies the same
 * txns in the same zxid order holds the same tree.
 */
import { Err, EventType, OpCode } from '../jute/index.js';
import type { ACL, Stat } from '../jute/index.js';
import { baseName, childPath, parentOf } from './paths.js';
import type { Txn, TxnBody } from './txn.js';
import { ownerKind } from './ephemeral.js';
import { QuotaTracker } from './quota.js';
import { AclCache } from './acl-cache.js';

export interface ZNode {
  data: Buffer;
  acl: ACL[];
  czxid: bigint;
  mzxid: bigint;
  pzxid: bigint;
  ctimeMs: number;
  mtimeMs: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  readonly children: Set<string>;
}

/** A node as a snapshot holds it: its own fields and path, without the derived children. */
export type NodeRecord = Omit<ZNode, 'children'> & { path: string };

export interface TreeEvent {
  type: EventType;
  path: string;
  /** The ACL of the node at `path` when the event happened: who may hear of it. */
  acl: readonly ACL[];
}

/** What one applied txn did: its error code (0 = Ok), the node it touched, the events. */
export interface ApplyResult {
  err: number;
  path?: string;
  stat?: Stat;
  /** For multi: one result per op, in order. */
  results?: ApplyResult[];
}

export const OPEN_ACL_UNSAFE: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const READ_ACL_UNSAFE: ACL[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];
const CONFIG_NODE = '/zookeeper/config';
const EMPTY = Buffer.alloc(0);

/**
 * The Stat a client sees (ZooKeeper's DataNode.copyStat). The node keeps `cversion` as the
 * count of child creates, which also numbers sequential children; clients see the count of
 * child changes, creates plus deletes: 2 * creates - children still present. Containers and
 * TTL nodes show ephemeralOwner 0.
 */
export function statOf(node: ZNode): Stat {
  const numChildren = node.children.size;
  return {
    czxid: node.czxid,
    mzxid: node.mzxid,
    ctime: BigInt(node.ctimeMs),
    mtime: BigInt(node.mtimeMs),
    version: node.version,
    cversion: (node.cversion * 2 - numChildren) | 0,
    aversion: node.aversion,
    ephemeralOwner: ownerKind(node.ephemeralOwner) === 'ephemeral' ? node.ephemeralOwner : 0n,
    dataLength: node.data.length,
    numChildren,
    pzxid: node.pzxid,
  };
}

function newNode(data: Buffer, acl: ACL[], zxid: bigint, timeMs: number, ephemeralOwner: bigint): ZNode {
  return {
    data,
    acl,
    czxid: zxid,
    mzxid: zxid,
    pzxid: zxid,
    ctimeMs: timeMs,
    mtimeMs: timeMs,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner,
    children: new Set(),
  };
}

export class DataTree {
  private readonly nodes = new Map<string, ZNode>();
  private readonly ephemeralsBySession = new Map<bigint, Set<string>>();
  private readonly sessionTimeouts = new Map<bigint, number>();
  /** Container and TTL nodes, for the reaper (ZooKeeper's DataTree keeps the same sets). */
  private readonly containers = new Set<string>();
  private readonly ttlNodes = new Set<string>();
  private lastZxid = 0n;
  /** Events of the txn being applied; handed out with the result. */
  private pendingEvents: TreeEvent[] = [];
  /** Nodes with equal ACLs share one array (taken over with the nodes by replaceWith). */
  acls = new AclCache();
  readonly quotas = new QuotaTracker({
    dataOf: (path) => this.nodes.get(path)?.data,
    setStatsData: (path, data) => {
      const node = this.nodes.get(path);
      if (!node) return;
      this.notifyChange(path, node);
      node.data = data;
    },
    usage: (path) => this.usage(path),
  });
  /** This member's own ensemble configuration for /zookeeper/config; null: left as it is. */
  private localConfig: { data: Buffer; configVersion: bigint } | null = null;
  /** Told about a node just before a txn changes it (copy-on-write snapshots). */
  private readonly changeObservers = new Set<(path: string, node: ZNode) => void>();

  private notifyChange(path: string, node: ZNode): void {
    if (this.changeObservers.size === 0) return;
    for (const observer of this.changeObservers) observer(path, node);
  }

  constructor() {
    this.nodes.set('/', newNode(EMPTY, OPEN_ACL_UNSAFE, 0n, 0, 0n));
    // ZooKeeper's system nodes exist from the start and are not the product of a txn.
    this.addSystemNode('/zookeeper', OPEN_ACL_UNSAFE);
    this.addSystemNode('/zookeeper/quota', OPEN_ACL_UNSAFE);
    this.addConfigNode();
  }

  private addSystemNode(path: string, acl: ACL[]): void {
    this.nodes.set(path, newNode(EMPTY, this.acls.intern(acl), 0n, 0, 0n));
    this.nodes.get(parentOf(path))!.children.add(baseName(path));
  }

  private addConfigNode(): void {
    this.addSystemNode(CONFIG_NODE, READ_ACL_UNSAFE);
    // ZooKeeper sets the config node's ACL with version -1 at start, leaving aversion -1.
    this.nodes.get(CONFIG_NODE)!.aversion = -1;
  }

  /**
   * Shows this member's ensemble configuration in /zookeeper/config, as ZooKeeper's
   * initConfigInZKDatabase does on every member: set locally, not through a txn, with
   * version -1 and the configuration's version as mzxid. The configuration stays with this
   * tree: replaceWith puts it back over whatever the leader's snapshot held.
   *
   * ZooKeeper also stamps mtime with the member's wall clock each time it writes the node (at
   * start and after every sync with a leader), so its members disagree there. Paddock leaves
   * mtime 0: members with the same configuration then hold identical trees and write identical
   * snapshots, and a comparison of two members' trees (the simulator's digests) has no
   * exception to make.
   */
  setLocalConfig(data: Buffer, configVersion: bigint): void {
    this.localConfig = { data, configVersion };
    this.applyLocalConfig();
  }

  private applyLocalConfig(): void {
    if (this.localConfig === null) return;
    // Only a snapshot written before the node existed lacks it (ZooKeeper adds it back too).
    if (!this.nodes.has(CONFIG_NODE)) {
      if (!this.nodes.has('/zookeeper')) throw new Error(`tree corrupt: no /zookeeper to hold ${CONFIG_NODE}`);
      this.addConfigNode();
    }
    const node = this.nodes.get(CONFIG_NODE)!;
    const { data, configVersion } = this.localConfig;
    this.notifyChange(CONFIG_NODE, node);
    this.quotas.dataChanged(CONFIG_NODE, data.length - node.data.length);
    node.data = data;
    node.version = -1;
    node.mzxid = configVersion;
    node.mtimeMs = 0;
  }

  /**
   * Rebuilds a tree from a snapshot's records. Children, ephemerals and counts are derived
   * from the records, so a snapshot cannot contradict itself about them.
   */
  /**
   * Takes over `other`'s whole state (an ensemble member installing its leader's snapshot),
   * so everything that holds this tree sees the new state. `other` must not be used after.
   */
  replaceWith(other: DataTree): void {
    const copy = <K, V>(to: Map<K, V>, from: Map<K, V>): void => {
      to.clear();
      for (const [k, v] of from) to.set(k, v);
    };
    copy(this.nodes, other.nodes);
    this.acls = other.acls;
    copy(this.ephemeralsBySession, other.ephemeralsBySession);
    copy(this.sessionTimeouts, other.sessionTimeouts);
    this.containers.clear();
    for (const path of other.containers) this.containers.add(path);
    this.ttlNodes.clear();
    for (const path of other.ttlNodes) this.ttlNodes.add(path);
    this.lastZxid = other.lastZxid;
    this.pendingEvents = [];
    this.quotas.rebuild(this.nodes.keys());
    this.applyLocalConfig();
  }

  static restore(records: Iterable<NodeRecord>, sessions: Iterable<[bigint, number]>, zxid: bigint): DataTree {
    const tree = new DataTree();
    for (const node of tree.nodes.values()) tree.acls.release(node.acl);
    tree.nodes.clear();
    for (const record of records) {
      const node = newNode(record.data, tree.acls.intern(record.acl), record.czxid, record.ctimeMs, record.ephemeralOwner);
      node.mzxid = record.mzxid;
      node.pzxid = record.pzxid;
      node.mtimeMs = record.mtimeMs;
      node.version = record.version;
      node.cversion = record.cversion;
      node.aversion = record.aversion;
      tree.nodes.set(record.path, node);
    }
    if (!tree.nodes.has('/')) throw new Error('snapshot has no root node');
    for (const [path, node] of tree.nodes) {
      if (path === '/') continue;
      const parent = tree.nodes.get(parentOf(path));
      if (!parent) throw new Error(`snapshot holds ${path} without its parent`);
      parent.children.add(baseName(path));
      tree.trackKind(path, node.ephemeralOwner, true);
      if (ownerKind(node.ephemeralOwner) === 'ephemeral') {
        let owned = tree.ephemeralsBySession.get(node.ephemeralOwner);
        if (!owned) tree.ephemeralsBySession.set(node.ephemeralOwner, (owned = new Set()));
        owned.add(path);
      }
    }
    for (const [id, timeoutMs] of sessions) tree.sessionTimeouts.set(id, timeoutMs);
    tree.quotas.rebuild(tree.nodes.keys());
    tree.lastZxid = zxid;
    return tree;
  }

  private trackKind(path: string, owner: bigint, add: boolean): void {
    const kind = ownerKind(owner);
    const set = kind === 'container' ? this.containers : kind === 'ttl' ? this.ttlNodes : null;
    if (!set) return;
    if (add) set.add(path);
    else set.delete(path);
  }

  containerPaths(): ReadonlySet<string> {
    return this.containers;
  }

  ttlPaths(): ReadonlySet<string> {
    return this.ttlNodes;
  }

  /** Every node with its path, live: nodes changed during iteration show their new state. */
  entries(): IterableIterator<[string, ZNode]> {
    return this.nodes.entries();
  }

  /**
   * Tells `observer` about every node just before a txn changes it, until the returned
   * function is called (several snapshots may run at once). `null` removes every observer.
   */
  observeChanges(observer: ((path: string, node: ZNode) => void) | null): () => void {
    if (observer === null) {
      this.changeObservers.clear();
      return () => undefined;
    }
    this.changeObservers.add(observer);
    return () => void this.changeObservers.delete(observer);
  }

  get lastProcessedZxid(): bigint {
    return this.lastZxid;
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  get(path: string): ZNode | undefined {
    return this.nodes.get(path);
  }

  ephemeralsOf(sessionId: bigint): ReadonlySet<string> {
    return this.ephemeralsBySession.get(sessionId) ?? new Set();
  }

  ephemeralCount(): number {
    let count = 0;
    for (const paths of this.ephemeralsBySession.values()) count += paths.size;
    return count;
  }

  sessions(): ReadonlyMap<bigint, number> {
    return this.sessionTimeouts;
  }

  approximateDataSize(): number {
    let size = 0;
    for (const [path, node] of this.nodes) size += path.length + node.data.length;
    return size;
  }

  /** Applies one committed txn. Txns must come in strictly increasing zxid order. */
  apply(txn: Txn): { result: ApplyResult; events: TreeEvent[] } {
    if (txn.zxid <= this.lastZxid) {
      throw new Error(`txn applied out of order: zxid 0x${txn.zxid.toString(16)} after 0x${this.lastZxid.toString(16)}`);
    }
    this.pendingEvents = [];
    const result = this.applyBody(txn, txn.body);
    this.lastZxid = txn.zxid;
    const events = this.pendingEvents;
    this.pendingEvents = [];
    return { result, events };
  }

  private applyBody(txn: Txn, body: TxnBody): ApplyResult {
    switch (body.type) {
      case OpCode.create:
        return this.createNode(txn, body.path, body.data, body.acl, body.ephemeralOwner, body.parentCVersion);
      case OpCode.delete:
        return this.deleteNode(txn.zxid, body.path);
      case OpCode.setData:
        return this.setData(txn, body.path, body.data, body.version);
      case OpCode.setACL:
        return this.setACL(body.path, body.acl, body.version);
      case OpCode.check: {
        const node = this.nodes.get(body.path);
        return node ? { err: Err.Ok, path: body.path, stat: statOf(node) } : { err: Err.NoNode };
      }
      case OpCode.createSession:
        this.sessionTimeouts.set(txn.sessionId, body.timeoutMs);
        return { err: Err.Ok };
      case OpCode.closeSession:
        return this.closeSession(txn.zxid, txn.sessionId);
      case OpCode.error:
        return { err: body.err };
      case OpCode.multi:
        return { err: Err.Ok, results: body.ops.map((op) => this.applyBody(txn, op)) };
    }
  }

  private createNode(
    txn: Txn,
    path: string,
    data: Buffer,
    acl: ACL[],
    ephemeralOwner: bigint,
    parentCVersion: number,
  ): ApplyResult {
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath);
    if (!parent) return { err: Err.NoNode };
    if (this.nodes.has(path)) return { err: Err.NodeExists };
    const name = baseName(path);
    this.notifyChange(parentPath, parent);
    // Snapshots are exact at their zxid, so a replayed create never meets a newer parent.
    parent.cversion = parentCVersion;
    parent.pzxid = txn.zxid;
    parent.children.add(name);
    const node = newNode(data, this.acls.intern(acl), txn.zxid, txn.timeMs, ephemeralOwner);
    this.nodes.set(path, node);
    this.trackKind(path, ephemeralOwner, true);
    if (ownerKind(ephemeralOwner) === 'ephemeral') {
      let owned = this.ephemeralsBySession.get(ephemeralOwner);
      if (!owned) this.ephemeralsBySession.set(ephemeralOwner, (owned = new Set()));
      owned.add(path);
    }
    this.quotas.created(path, data.length);
    this.pendingEvents.push({ type: EventType.NodeCreated, path, acl: node.acl });
    this.pendingEvents.push({ type: EventType.NodeChildrenChanged, path: parentPath, acl: parent.acl });
    return { err: Err.Ok, path, stat: statOf(node) };
  }

  private deleteNode(zxid: bigint, path: string): ApplyResult {
    const node = this.nodes.get(path);
    if (!node) return { err: Err.NoNode };
    if (node.children.size > 0) return { err: Err.NotEmpty };
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath);
    if (!parent) throw new Error(`tree corrupt: ${path} has no parent`);
    this.notifyChange(path, node);
    this.notifyChange(parentPath, parent);
    this.nodes.delete(path);
    this.acls.release(node.acl);
    parent.children.delete(baseName(path));
    if (zxid > parent.pzxid) parent.pzxid = zxid;
    this.trackKind(path, node.ephemeralOwner, false);
    if (ownerKind(node.ephemeralOwner) === 'ephemeral') {
      const owned = this.ephemeralsBySession.get(node.ephemeralOwner);
      owned?.delete(path);
      if (owned?.size === 0) this.ephemeralsBySession.delete(node.ephemeralOwner);
    }
    this.quotas.deleted(path, node.data.length);
    this.pendingEvents.push({ type: EventType.NodeDeleted, path, acl: node.acl });
    this.pendingEvents.push({ type: EventType.NodeChildrenChanged, path: parentPath, acl: parent.acl });
    return { err: Err.Ok, path };
  }

  private setData(txn: Txn, path: string, data: Buffer, version: number): ApplyResult {
    const node = this.nodes.get(path);
    if (!node) return { err: Err.NoNode };
    this.notifyChange(path, node);
    this.quotas.dataChanged(path, data.length - node.data.length);
    node.data = data;
    node.version = version;
    node.mzxid = txn.zxid;
    node.mtimeMs = txn.timeMs;
    this.pendingEvents.push({ type: EventType.NodeDataChanged, path, acl: node.acl });
    return { err: Err.Ok, path, stat: statOf(node) };
  }

  private setACL(path: string, acl: ACL[], version: number): ApplyResult {
    const node = this.nodes.get(path);
    if (!node) return { err: Err.NoNode };
    this.notifyChange(path, node);
    this.acls.release(node.acl);
    node.acl = this.acls.intern(acl);
    node.aversion = version;
    return { err: Err.Ok, path, stat: statOf(node) };
  }

  private closeSession(zxid: bigint, sessionId: bigint): ApplyResult {
    const owned = [...this.ephemeralsOf(sessionId)].sort();
    for (const path of owned) this.deleteNode(zxid, path);
    this.ephemeralsBySession.delete(sessionId);
    this.sessionTimeouts.delete(sessionId);
    return { err: Err.Ok };
  }

  /** Children of a node as names, in no promised order (as ZooKeeper). */
  childrenOf(path: string): string[] | undefined {
    const node = this.nodes.get(path);
    return node ? [...node.children] : undefined;
  }

  /** Nodes and data bytes of a subtree, the node itself included (quota stats). */
  usage(path: string): { count: number; bytes: number } {
    let count = 0;
    let bytes = 0;
    const stack = [path];
    while (stack.length > 0) {
      const current = stack.pop()!;
      const node = this.nodes.get(current);
      if (!node) continue;
      count++;
      bytes += node.data.length;
      for (const name of node.children) stack.push(childPath(current, name));
    }
    return { count, bytes };
  }

  /** Every path below `path`, for recursive counts; iterative so deep trees cannot overflow. */
  countDescendants(path: string): number {
    let count = 0;
    const stack = [path];
    while (stack.length > 0) {
      const current = stack.pop()!;
      const node = this.nodes.get(current);
      if (!node) continue;
      for (const name of node.children) {
        count++;
        stack.push(childPath(current, name));
      }
    }
    return count;
  }
}
