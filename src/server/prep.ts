/**
 * The leader's "prep" stage (ZooKeeper's PrepRequestProcessor): validates a write against
 * the tree plus the writes already in flight, checks permissions, and turns it into a txn
 * body. A write that fails validation still becomes a txn (an error txn), so it takes a zxid
 * and keeps its place in the session's order, as in ZooKeeper.
 */
import { CreateFlag, Err, OpCode, Perm } from '../jute/index.js';
import type { ACL, CreateRequest, CreateTTLRequest, DeleteRequest, Id, MultiOp, SetACLRequest, SetDataRequest } from '../jute/index.js';
import { fixupAcl, permits } from '../acl/index.js';
import { CONTAINER_OWNER, DataTree, MAX_TTL_MS, invalidPathReason, ownerKind, parentOf, sequenceSuffix, ttlOwner } from '../tree/index.js';
import type { TxnBody } from '../tree/index.js';

/** A node as the writes in flight will leave it (ZooKeeper's ChangeRecord). */
interface NodeRecord {
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  childCount: number;
  acl: ACL[];
}

interface ChangeRecord {
  zxid: bigint;
  /** null: deleted by a write in flight. */
  node: NodeRecord | null;
}

export class PrepError extends Error {
  constructor(readonly code: number) {
    super(`prep error ${code}`);
  }
}

const SPECIAL_PATHS = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);

export interface PrepContext {
  sessionId: bigint;
  zxid: bigint;
  authIds: readonly Id[];
}

export interface PrepSettings {
  extendedTypesEnabled: boolean;
  skipAcl: boolean;
  /** SASL is configured, so `sasl` ACL ids are valid. */
  saslEnabled?: boolean;
}

const EMPTY = Buffer.alloc(0);

export class Preparer {
  private readonly changes = new Map<string, ChangeRecord>();
  /** Every record made, in zxid order, so that a commit finds its records without a scan. */
  private order: Array<{ zxid: bigint; path: string }> = [];
  private orderHead = 0;
  /** While a multi is prepared: what each touched path held before, to roll back. */
  private journal: Map<string, ChangeRecord | undefined> | null = null;

  constructor(
    private readonly tree: DataTree,
    private readonly settings: PrepSettings = { extendedTypesEnabled: false, skipAcl: false },
  ) {}

  /** Pending change records; for tests and metrics. */
  get outstandingCount(): number {
    return this.changes.size;
  }

  private record(path: string): NodeRecord | null {
    const change = this.changes.get(path);
    if (change) return change.node;
    const node = this.tree.get(path);
    if (!node) return null;
    return {
      version: node.version,
      cversion: node.cversion,
      aversion: node.aversion,
      ephemeralOwner: node.ephemeralOwner,
      childCount: node.children.size,
      acl: node.acl,
    };
  }

  private mustRecord(path: string): NodeRecord {
    const node = this.record(path);
    if (!node) throw new PrepError(Err.NoNode);
    return node;
  }

  private remember(path: string, zxid: bigint, node: NodeRecord | null): void {
    if (this.journal && !this.journal.has(path)) this.journal.set(path, this.changes.get(path));
    this.changes.set(path, { zxid, node });
    this.order.push({ zxid, path });
  }

  private checkAcl(acl: readonly ACL[], perm: number, ctx: PrepContext): void {
    if (!this.settings.skipAcl && !permits(acl, perm, ctx.authIds)) throw new PrepError(Err.NoAuth);
  }

  /** Called once a txn is applied: its change records now live in the tree. */
  committed(zxid: bigint): void {
    // Records were made in zxid order, so those now in the tree are at the front of the queue.
    // A record a later write (or a multi's rollback) replaced has another zxid: it stays.
    while (this.orderHead < this.order.length && this.order[this.orderHead]!.zxid <= zxid) {
      const { zxid: recorded, path } = this.order[this.orderHead++]!;
      if (this.changes.get(path)?.zxid === recorded) this.changes.delete(path);
    }
    if (this.orderHead > 1024 && this.orderHead * 2 > this.order.length) {
      this.order = this.order.slice(this.orderHead);
      this.orderHead = 0;
    }
  }

  /** Forgets every record, e.g. when a new leader starts preparing from its own tree. */
  reset(): void {
    this.changes.clear();
    this.order = [];
    this.orderHead = 0;
  }

  /** Runs one prep function; a validation failure becomes an error txn. */
  prepare(build: () => TxnBody): TxnBody {
    try {
      return build();
    } catch (error) {
      if (error instanceof PrepError) return { type: OpCode.error, err: error.code };
      throw error;
    }
  }

  create(ctx: PrepContext, request: CreateRequest, op: number = OpCode.create): TxnBody {
    const flags = request.flags;
    let ephemeralOwner = 0n;
    let sequential = false;
    if (op === OpCode.createContainer) {
      if (flags !== CreateFlag.container) throw new PrepError(Err.BadArguments);
      ephemeralOwner = CONTAINER_OWNER;
    } else if (op === OpCode.createTTL) {
      // EphemeralType.validateTTL: a TTL with other flags is a bad argument whether or not TTL nodes are on.
      if (flags !== CreateFlag.persistentWithTtl && flags !== CreateFlag.persistentSequentialWithTtl) throw new PrepError(Err.BadArguments);
      if (!this.settings.extendedTypesEnabled) throw new PrepError(Err.Unimplemented);
      const ttl = (request as CreateTTLRequest).ttl;
      if (ttl <= 0n || ttl > MAX_TTL_MS) throw new PrepError(Err.BadArguments);
      ephemeralOwner = ttlOwner(ttl);
      sequential = flags === CreateFlag.persistentSequentialWithTtl;
    } else {
      // Containers and TTL nodes come with their own op codes; here their flags are bad arguments.
      if (flags < CreateFlag.persistent || flags > CreateFlag.ephemeralSequential) throw new PrepError(Err.BadArguments);
      if (flags === CreateFlag.ephemeral || flags === CreateFlag.ephemeralSequential) ephemeralOwner = ctx.sessionId;
      sequential = flags === CreateFlag.persistentSequential || flags === CreateFlag.ephemeralSequential;
    }
    const parentPath = parentForWrite(request.path);
    const acl = fixupAcl(request.acl, ctx.authIds, { sasl: this.settings.saslEnabled ?? false });
    if (!acl) throw new PrepError(Err.InvalidACL);
    const parent = this.mustRecord(parentPath);
    this.checkAcl(parent.acl, Perm.CREATE, ctx);
    const path = sequential ? request.path + sequenceSuffix(parent.cversion) : request.path;
    if (invalidPathReason(path) !== null) throw new PrepError(Err.BadArguments);
    if (this.record(path) !== null) throw new PrepError(Err.NodeExists);
    if (ownerKind(parent.ephemeralOwner) === 'ephemeral') throw new PrepError(Err.NoChildrenForEphemerals);
    const parentCVersion = (parent.cversion + 1) | 0;
    this.remember(parentPath, ctx.zxid, { ...parent, cversion: parentCVersion, childCount: parent.childCount + 1 });
    this.remember(path, ctx.zxid, { version: 0, cversion: 0, aversion: 0, ephemeralOwner, childCount: 0, acl });
    // Copy: the request's data is a view of a network buffer that must not be kept alive.
    const data = Buffer.from(request.data ?? EMPTY);
    return { type: OpCode.create, path, data, acl, ephemeralOwner, parentCVersion };
  }

  delete(ctx: PrepContext, request: DeleteRequest, op: number = OpCode.delete): TxnBody {
    const parentPath = parentForWrite(request.path);
    if (SPECIAL_PATHS.has(request.path)) throw new PrepError(Err.BadArguments);
    const parent = this.mustRecord(parentPath);
    // ZooKeeper checks the parent's DELETE permission before it looks the node up. The container
    // reaper deletes as the server: no ACL, and only a node that is still empty.
    if (op !== OpCode.deleteContainer) this.checkAcl(parent.acl, Perm.DELETE, ctx);
    const node = this.mustRecord(request.path);
    checkVersion(node.version, request.version);
    if (node.childCount > 0) throw new PrepError(Err.NotEmpty);
    this.remember(parentPath, ctx.zxid, { ...parent, childCount: parent.childCount - 1 });
    this.remember(request.path, ctx.zxid, null);
    return { type: OpCode.delete, path: request.path };
  }

  setData(ctx: PrepContext, request: SetDataRequest): TxnBody {
    validateFullPath(request.path);
    const node = this.mustRecord(request.path);
    this.checkAcl(node.acl, Perm.WRITE, ctx);
    const version = checkVersion(node.version, request.version);
    this.remember(request.path, ctx.zxid, { ...node, version });
    return { type: OpCode.setData, path: request.path, data: Buffer.from(request.data ?? EMPTY), version };
  }

  setACL(ctx: PrepContext, request: SetACLRequest): TxnBody {
    validateFullPath(request.path);
    const acl = fixupAcl(request.acl, ctx.authIds, { sasl: this.settings.saslEnabled ?? false });
    if (!acl) throw new PrepError(Err.InvalidACL);
    const node = this.mustRecord(request.path);
    this.checkAcl(node.acl, Perm.ADMIN, ctx);
    const version = checkVersion(node.aversion, request.version);
    this.remember(request.path, ctx.zxid, { ...node, aversion: version, acl });
    return { type: OpCode.setACL, path: request.path, acl, version };
  }

  check(ctx: PrepContext, request: { path: string; version: number }): TxnBody {
    validateFullPath(request.path);
    const node = this.mustRecord(request.path);
    this.checkAcl(node.acl, Perm.READ, ctx);
    checkVersion(node.version, request.version);
    return { type: OpCode.check, path: request.path, version: request.version };
  }

  /**
   * A multi is prepared op by op, each seeing the ones before it. If one fails, the records of
   * the others are rolled back and every op becomes an error txn: Ok for those before the
   * failure, its code for the failed one, RuntimeInconsistency for those after (as ZooKeeper).
   */
  multi(ctx: PrepContext, ops: readonly MultiOp[]): TxnBody {
    this.journal = new Map();
    const bodies: TxnBody[] = [];
    let failedAt = -1;
    let failure: number = Err.Ok;
    try {
      for (const [index, op] of ops.entries()) {
        try {
          bodies.push(this.multiOp(ctx, op));
        } catch (error) {
          if (!(error instanceof PrepError)) throw error;
          failedAt = index;
          failure = error.code;
          break;
        }
      }
      if (failedAt === -1) return { type: OpCode.multi, ops: bodies };
      for (const [path, previous] of this.journal) {
        if (previous) this.changes.set(path, previous);
        else this.changes.delete(path);
      }
      const err = (index: number) => (index < failedAt ? Err.Ok : index === failedAt ? failure : Err.RuntimeInconsistency);
      return { type: OpCode.multi, ops: ops.map((_, index) => ({ type: OpCode.error, err: err(index) })) };
    } finally {
      this.journal = null;
    }
  }

  private multiOp(ctx: PrepContext, op: MultiOp): TxnBody {
    switch (op.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
        return this.create(ctx, op.request, op.type === OpCode.create2 ? OpCode.create : op.type);
      case OpCode.delete:
        return this.delete(ctx, op.request);
      case OpCode.setData:
        return this.setData(ctx, op.request);
      case OpCode.check:
        return this.check(ctx, op.request);
      default:
        // Reads have no place in a write multi.
        throw new PrepError(Err.BadArguments);
    }
  }

  /** The session's ephemerals, as the writes in flight will leave them, are deleted. */
  closeSession(ctx: PrepContext): TxnBody {
    const owned = new Set(this.tree.ephemeralsOf(ctx.sessionId));
    for (const [path, change] of this.changes) {
      if (change.node?.ephemeralOwner === ctx.sessionId) owned.add(path);
      else owned.delete(path);
    }
    for (const path of owned) {
      const parentPath = parentOf(path);
      const parent = this.record(parentPath);
      if (parent) {
        this.remember(parentPath, ctx.zxid, { ...parent, childCount: parent.childCount - 1 });
      }
      this.remember(path, ctx.zxid, null);
    }
    return { type: OpCode.closeSession };
  }
}

function validateFullPath(path: string): void {
  if (invalidPathReason(path) !== null) throw new PrepError(Err.BadArguments);
}

/** ZooKeeper's getParentPathAndValidate: a path without '/' or with NUL is a bad argument. */
function parentForWrite(path: string): string {
  if (path.lastIndexOf('/') === -1 || path.includes('\u0000')) throw new PrepError(Err.BadArguments);
  if (path === '/') return '/';
  const parent = parentOf(path);
  return parent === '' ? '/' : parent;
}

/** -1 matches any version; otherwise it must equal the current one. Returns the next. */
function checkVersion(current: number, expected: number): number {
  if (expected !== -1 && expected !== current) throw new PrepError(Err.BadVersion);
  // Versions are signed 32-bit in the wire format; wrap as Java's int does.
  return (current + 1) | 0;
}
