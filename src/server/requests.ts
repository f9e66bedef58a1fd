/**
 * Per-op handling: decodes each request body and hands it to the pipeline as a read (answered
 * from the local tree at the head of the session's queue) or a write (prepared into a txn).
 */
import {
  CheckVersionRequestCodec,
  Create2ResponseCodec,
  CreateRequestCodec,
  DeleteRequestCodec,
  Err,
  EventType,
  GetACLResponseCodec,
  GetAllChildrenNumberResponseCodec,
  GetChildren2ResponseCodec,
  GetChildrenResponseCodec,
  GetDataResponseCodec,
  GetEphemeralsRequestCodec,
  GetEphemeralsResponseCodec,
  JuteDecodeError,
  JuteReader,
  AddWatchRequestCodec,
  AddWatchMode,
  ErrorResponseCodec,
  PathTypeRequestCodec,
  MultiRequestCodec,
  MultiResponseCodec,
  OpCode,
  Perm,
  WatcherType,
  CreateTTLRequestCodec,
  PathRecordCodec,
  PathWatchRequestCodec,
  SetACLRequestCodec,
  SetDataRequestCodec,
  SetWatches2Codec,
  SetWatchesCodec,
  StatResponseCodec,
  WhoAmIResponseCodec,
} from '../jute/index.js';
import type { ACL, Codec, Id, MultiOp, MultiResult, SetWatches2 } from '../jute/index.js';
import { permits } from '../acl/index.js';
import { statOf } from '../tree/index.js';
import type { ApplyResult, Txn, TxnBody } from '../tree/index.js';
import type { Watcher } from '../watch/index.js';
import type { ClientSession, Pipeline } from './pipeline.js';
import { PrepError } from './prep.js';
import type { PrepContext } from './prep.js';
import { replyFrame } from './replies.js';

/** Op codes ZooKeeper knows (Request.isValid); anything else is answered and the connection closed. */
const KNOWN_OPS = new Set<number>(Object.values(OpCode));

/** Lenient as ZooKeeper's deserializer: trailing bytes after the record are ignored. */
function decodeBody<T>(codec: Codec<T>, body: Buffer): T {
  return codec.read(new JuteReader(body));
}

/** In a write, a body that does not decode is an error txn with MarshallingError. */
function decodeForWrite<T>(codec: Codec<T>, body: Buffer): T {
  try {
    return decodeBody(codec, body);
  } catch (error) {
    if (error instanceof JuteDecodeError) throw new PrepError(Err.MarshallingError);
    throw error;
  }
}

export interface RequestContext {
  pipeline: Pipeline;
  session: ClientSession;
  watcher: Watcher;
  /** Closes the connection once its queued replies are sent. */
  close(): void;
}

export type RequestOutcome = 'ok' | 'close';

export function handleRequest(ctx: RequestContext, xid: number, type: number, body: Buffer): RequestOutcome {
  const { pipeline, session } = ctx;
  const tree = pipeline.tree;
  const write = (build: (prep: PrepContext) => TxnBody, onApplied: (result: ApplyResult, txn: Txn) => Buffer, after?: () => void) =>
    void pipeline.submitWrite(session, build, onApplied, after);
  const read = (execute: () => Buffer) => pipeline.submitRead(session, execute);
  const lastZxid = () => tree.lastProcessedZxid;
  const errorReply = (result: ApplyResult, txn: Txn) => replyFrame(xid, txn.zxid, result.err);

  switch (type) {
    case OpCode.ping:
      read(() => replyFrame(xid, lastZxid(), 0));
      return 'ok';
    case OpCode.create:
    case OpCode.create2:
      write(
        (prep) => pipeline.preparer.create(prep, decodeForWrite(CreateRequestCodec, body)),
        (result, txn) =>
          result.err !== 0
            ? errorReply(result, txn)
            : type === OpCode.create
              ? replyFrame(xid, txn.zxid, 0, PathRecordCodec, { path: result.path! })
              : replyFrame(xid, txn.zxid, 0, Create2ResponseCodec, { path: result.path!, stat: result.stat! }),
      );
      return 'ok';
    case OpCode.createContainer:
    case OpCode.createTTL:
      write(
        (prep) =>
          pipeline.preparer.create(prep, decodeForWrite(type === OpCode.createTTL ? CreateTTLRequestCodec : CreateRequestCodec, body), type),
        (result, txn) =>
          result.err !== 0 ? errorReply(result, txn) : replyFrame(xid, txn.zxid, 0, Create2ResponseCodec, { path: result.path!, stat: result.stat! }),
      );
      return 'ok';
    case OpCode.multi: {
      let ops: MultiOp[] = [];
      write(
        (prep) => {
          ops = decodeForWrite(MultiRequestCodec, body);
          // A multi is all writes or all reads (MultiOperationRecord refuses to mix them).
          if (ops.some((op) => op.type === OpCode.getData || op.type === OpCode.getChildren)) throw new PrepError(Err.MarshallingError);
          return pipeline.preparer.multi(prep, ops);
        },
        (result, txn) =>
          result.results
            ? replyFrame(xid, txn.zxid, 0, MultiResponseCodec, multiResults(ops, result.results, multiFailed(txn.body)))
            : errorReply(result, txn),
      );
      return 'ok';
    }
    case OpCode.delete:
      write(
        (prep) => pipeline.preparer.delete(prep, decodeForWrite(DeleteRequestCodec, body)),
        errorReply,
      );
      return 'ok';
    case OpCode.setData:
      write(
        (prep) => pipeline.preparer.setData(prep, decodeForWrite(SetDataRequestCodec, body)),
        (result, txn) => result.err !== 0 ? errorReply(result, txn) : replyFrame(xid, txn.zxid, 0, StatResponseCodec, { stat: result.stat! }),
      );
      return 'ok';
    case OpCode.setACL:
      write(
        (prep) => pipeline.preparer.setACL(prep, decodeForWrite(SetACLRequestCodec, body)),
        (result, txn) => result.err !== 0 ? errorReply(result, txn) : replyFrame(xid, txn.zxid, 0, StatResponseCodec, { stat: result.stat! }),
      );
      return 'ok';
    case OpCode.check:
      write(
        (prep) => pipeline.preparer.check(prep, decodeForWrite(CheckVersionRequestCodec, body)),
        (result, txn) => result.err !== 0 ? errorReply(result, txn) : replyFrame(xid, txn.zxid, 0, StatResponseCodec, { stat: result.stat! }),
      );
      return 'ok';
    case OpCode.closeSession:
      write((prep) => pipeline.preparer.closeSession(prep), errorReply, () => ctx.close());
      return 'ok';
    case OpCode.exists:
    case OpCode.getData:
    case OpCode.getChildren:
    case OpCode.getChildren2:
    case OpCode.getACL:
    case OpCode.sync:
    case OpCode.getEphemerals:
    case OpCode.getAllChildrenNumber:
    case OpCode.whoAmI:
    case OpCode.multiRead:
    case OpCode.addWatch:
    case OpCode.checkWatches:
    case OpCode.removeWatches:
    case OpCode.setWatches:
    case OpCode.setWatches2: {
      // The ids of the request's arrival, not of its execution (an auth may overtake it).
      const authIds = session.authIds;
      read(() => {
        try {
          return executeRead(ctx, xid, type, body, authIds);
        } catch (error) {
          if (error instanceof JuteDecodeError) return replyFrame(xid, lastZxid(), Err.MarshallingError);
          throw error;
        }
      });
      return 'ok';
    }
    default:
      read(() => replyFrame(xid, lastZxid(), Err.Unimplemented));
      // An op ZooKeeper does not know at all ends the connection after the reply, as there.
      return KNOWN_OPS.has(type) ? 'ok' : 'close';
  }
}

function executeRead(ctx: RequestContext, xid: number, type: number, body: Buffer, authIds: readonly Id[]): Buffer {
  const tree = ctx.pipeline.tree;
  const watches = ctx.pipeline.watches;
  const zxid = tree.lastProcessedZxid;
  const denied = (acl: readonly ACL[], perm: number) =>
    !ctx.pipeline.settings.skipAcl && !permits(acl, perm, authIds);
  switch (type) {
    case OpCode.exists: {
      const request = decodeBody(PathWatchRequestCodec, body);
      if (request.path.includes('\u0000')) return replyFrame(xid, zxid, Err.BadArguments);
      const node = tree.get(request.path);
      if (request.watch) watches.addDataWatch(request.path, ctx.watcher);
      return node ? replyFrame(xid, zxid, 0, StatResponseCodec, { stat: statOf(node) }) : replyFrame(xid, zxid, Err.NoNode);
    }
    case OpCode.getData: {
      const request = decodeBody(PathWatchRequestCodec, body);
      const node = tree.get(request.path);
      if (!node) return replyFrame(xid, zxid, Err.NoNode);
      if (denied(node.acl, Perm.READ)) return replyFrame(xid, zxid, Err.NoAuth);
      if (request.watch) watches.addDataWatch(request.path, ctx.watcher);
      return replyFrame(xid, zxid, 0, GetDataResponseCodec, { data: node.data, stat: statOf(node) });
    }
    case OpCode.getChildren:
    case OpCode.getChildren2: {
      const request = decodeBody(PathWatchRequestCodec, body);
      const node = tree.get(request.path);
      if (!node) return replyFrame(xid, zxid, Err.NoNode);
      if (denied(node.acl, Perm.READ)) return replyFrame(xid, zxid, Err.NoAuth);
      if (request.watch) watches.addChildWatch(request.path, ctx.watcher);
      const children = [...node.children];
      return type === OpCode.getChildren
        ? replyFrame(xid, zxid, 0, GetChildrenResponseCodec, { children })
        : replyFrame(xid, zxid, 0, GetChildren2ResponseCodec, { children, stat: statOf(node) });
    }
    case OpCode.getACL: {
      const request = decodeBody(PathRecordCodec, body);
      const node = tree.get(request.path);
      if (!node) return replyFrame(xid, zxid, Err.NoNode);
      if (denied(node.acl, Perm.READ | Perm.ADMIN)) return replyFrame(xid, zxid, Err.NoAuth);
      // Without ADMIN a caller sees digest ids without their hash ("user:x"), as in ZooKeeper.
      const acl = denied(node.acl, Perm.ADMIN)
        ? node.acl.map((entry) => (entry.id.scheme === 'digest' ? { perms: entry.perms, id: { scheme: 'digest', id: entry.id.id.replace(/:.*/, ':x') } } : entry))
        : node.acl;
      return replyFrame(xid, zxid, 0, GetACLResponseCodec, { acl, stat: statOf(node) });
    }
    case OpCode.sync:
      return replyFrame(xid, zxid, 0, PathRecordCodec, decodeBody(PathRecordCodec, body));
    case OpCode.getEphemerals: {
      // ZooKeeper trims the prefix; a blank one or "/" means every ephemeral of the session.
      const prefix = decodeBody(GetEphemeralsRequestCodec, body).prefixPath.trim();
      const all = prefix === '' || prefix === '/';
      const ephemerals = [...tree.ephemeralsOf(ctx.session.id)].filter((path) => all || path.startsWith(prefix)).sort();
      return replyFrame(xid, zxid, 0, GetEphemeralsResponseCodec, { ephemerals });
    }
    case OpCode.getAllChildrenNumber: {
      const { path } = decodeBody(PathRecordCodec, body);
      const node = tree.get(path);
      if (!node) return replyFrame(xid, zxid, Err.NoNode);
      if (denied(node.acl, Perm.READ)) return replyFrame(xid, zxid, Err.NoAuth);
      return replyFrame(xid, zxid, 0, GetAllChildrenNumberResponseCodec, { totalNumber: tree.countDescendants(path) });
    }
    case OpCode.whoAmI: {
      // The digest provider names the user without the hash (DigestAuthenticationProvider.getUserName).
      const user = (id: { scheme: string; id: string }) => (id.scheme === 'digest' ? id.id.split(':', 1)[0]! : id.id);
      const clientInfo = authIds.map((id) => ({ authScheme: id.scheme, user: user(id) }));
      return replyFrame(xid, zxid, 0, WhoAmIResponseCodec, { clientInfo });
    }
    case OpCode.multiRead: {
      const readOps = decodeBody(MultiRequestCodec, body);
      if (readOps.some((op) => op.type !== OpCode.getData && op.type !== OpCode.getChildren)) return replyFrame(xid, zxid, Err.MarshallingError);
      const results: MultiResult[] = readOps.map((op): MultiResult => {
        const node = tree.get(op.request.path);
        if (op.type !== OpCode.getData && op.type !== OpCode.getChildren) return { type: OpCode.error, err: Err.BadArguments };
        if (!node) return { type: OpCode.error, err: Err.NoNode };
        if (denied(node.acl, Perm.READ)) return { type: OpCode.error, err: Err.NoAuth };
        return op.type === OpCode.getData
          ? { type: OpCode.getData, data: node.data, stat: statOf(node) }
          : { type: OpCode.getChildren, children: [...node.children] };
      });
      return replyFrame(xid, zxid, 0, MultiResponseCodec, results);
    }
    case OpCode.addWatch: {
      const request = decodeBody(AddWatchRequestCodec, body);
      if (request.mode !== AddWatchMode.persistent && request.mode !== AddWatchMode.persistentRecursive) {
        return replyFrame(xid, zxid, Err.MarshallingError);
      }
      watches.addPersistentWatch(request.path, ctx.watcher, request.mode === AddWatchMode.persistentRecursive);
      return replyFrame(xid, zxid, 0, ErrorResponseCodec, { err: 0 });
    }
    case OpCode.checkWatches:
    case OpCode.removeWatches: {
      const request = decodeBody(PathTypeRequestCodec, body);
      // WatcherType.fromInt refuses types it does not know.
      if (request.type < WatcherType.Children || request.type > WatcherType.PersistentRecursive) return replyFrame(xid, zxid, Err.MarshallingError);
      const found =
        type === OpCode.checkWatches
          ? watches.containsWatch(request.path, request.type, ctx.watcher)
          : watches.removeWatch(request.path, request.type, ctx.watcher);
      return replyFrame(xid, zxid, found ? 0 : Err.NoWatcher);
    }
    case OpCode.setWatches:
    case OpCode.setWatches2: {
      const request: SetWatches2 =
        type === OpCode.setWatches
          ? { ...decodeBody(SetWatchesCodec, body), persistentWatches: [], persistentRecursiveWatches: [] }
          : decodeBody(SetWatches2Codec, body);
      rearmWatches(ctx, request);
      return replyFrame(xid, zxid, 0);
    }
    default:
      return replyFrame(xid, zxid, Err.Unimplemented);
  }
}

/**
 * SetWatches after a reconnect: a watch whose node changed after the client's last seen zxid
 * fires at once (ZooKeeper's DataTree.setWatches); the others are armed again.
 */
function rearmWatches(ctx: RequestContext, request: SetWatches2): void {
  const tree = ctx.pipeline.tree;
  const watches = ctx.pipeline.watches;
  const since = request.relativeZxid;
  for (const path of request.dataWatches) {
    const node = tree.get(path);
    if (!node) ctx.watcher.deliver(EventType.NodeDeleted, path);
    else if (node.mzxid > since) ctx.watcher.deliver(EventType.NodeDataChanged, path);
    else watches.addDataWatch(path, ctx.watcher);
  }
  for (const path of request.existWatches) {
    if (tree.get(path)) ctx.watcher.deliver(EventType.NodeCreated, path);
    else watches.addDataWatch(path, ctx.watcher);
  }
  for (const path of request.childWatches) {
    const node = tree.get(path);
    if (!node) ctx.watcher.deliver(EventType.NodeDeleted, path);
    else if (node.pzxid > since) ctx.watcher.deliver(EventType.NodeChildrenChanged, path);
    else watches.addChildWatch(path, ctx.watcher);
  }
  for (const path of request.persistentWatches) watches.addPersistentWatch(path, ctx.watcher, false);
  for (const path of request.persistentRecursiveWatches) watches.addPersistentWatch(path, ctx.watcher, true);
}

/** The reply of each op of an applied multi: a create answers as the op asked (create or create2). */
function multiResults(ops: readonly MultiOp[], results: readonly ApplyResult[], failed: boolean): MultiResult[] {
  return results.map((result, index): MultiResult => {
    const op = ops[index];
    if (failed || result.err !== 0 || op === undefined) return { type: OpCode.error, err: result.err };
    switch (op.type) {
      case OpCode.create:
        return { type: OpCode.create, path: result.path! };
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
        return { type: OpCode.create2, path: result.path!, stat: result.stat! };
      case OpCode.delete:
        return { type: OpCode.delete };
      case OpCode.check:
        return { type: OpCode.check };
      case OpCode.setData:
        return { type: OpCode.setData, stat: result.stat! };
      default:
        return { type: OpCode.error, err: Err.BadArguments };
    }
  });
}

/** A failed multi is logged as error txns only (Ok before the failing op). */
function multiFailed(body: TxnBody): boolean {
  return body.type === OpCode.multi && body.ops.some((op) => op.type === OpCode.error);
}
