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
  OpCode,
  PathRecordCodec,
  PathWatchRequestCodec,
  SetACLRequestCodec,
  SetDataRequestCodec,
  SetWatches2Codec,
  SetWatchesCodec,
  StatResponseCodec,
  WhoAmIResponseCodec,
} from '../jute/index.js';
import type { Codec, SetWatches2 } from '../jute/index.js';
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
    case OpCode.setWatches:
    case OpCode.setWatches2:
      read(() => {
        try {
          return executeRead(ctx, xid, type, body);
        } catch (error) {
          if (error instanceof JuteDecodeError) return replyFrame(xid, lastZxid(), Err.MarshallingError);
          throw error;
        }
      });
      return 'ok';
    default:
      read(() => replyFrame(xid, lastZxid(), Err.Unimplemented));
      // An op ZooKeeper does not know at all ends the connection after the reply, as there.
      return KNOWN_OPS.has(type) ? 'ok' : 'close';
  }
}

function executeRead(ctx: RequestContext, xid: number, type: number, body: Buffer): Buffer {
  const tree = ctx.pipeline.tree;
  const watches = ctx.pipeline.watches;
  const zxid = tree.lastProcessedZxid;
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
      if (request.watch) watches.addDataWatch(request.path, ctx.watcher);
      return replyFrame(xid, zxid, 0, GetDataResponseCodec, { data: node.data, stat: statOf(node) });
    }
    case OpCode.getChildren:
    case OpCode.getChildren2: {
      const request = decodeBody(PathWatchRequestCodec, body);
      const node = tree.get(request.path);
      if (!node) return replyFrame(xid, zxid, Err.NoNode);
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
      return replyFrame(xid, zxid, 0, GetACLResponseCodec, { acl: node.acl, stat: statOf(node) });
    }
    case OpCode.sync:
      return replyFrame(xid, zxid, 0, PathRecordCodec, decodeBody(PathRecordCodec, body));
    case OpCode.getEphemerals: {
      const { prefixPath } = decodeBody(GetEphemeralsRequestCodec, body);
      const ephemerals = [...tree.ephemeralsOf(ctx.session.id)].filter((path) => path.startsWith(prefixPath)).sort();
      return replyFrame(xid, zxid, 0, GetEphemeralsResponseCodec, { ephemerals });
    }
    case OpCode.getAllChildrenNumber: {
      const { path } = decodeBody(PathRecordCodec, body);
      if (!tree.get(path)) return replyFrame(xid, zxid, Err.NoNode);
      return replyFrame(xid, zxid, 0, GetAllChildrenNumberResponseCodec, { totalNumber: tree.countDescendants(path) });
    }
    case OpCode.whoAmI: {
      const clientInfo = ctx.session.authIds.map((id) => ({ authScheme: id.scheme, user: id.id }));
      return replyFrame(xid, zxid, 0, WhoAmIResponseCodec, { clientInfo });
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
}
