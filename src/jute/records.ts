/**
 * The records of ZooKeeper's client protocol (zookeeper.jute, 3.8), field for field.
 * Each record has a TypeScript type and a codec with the same field order as the .jute file.
 */
import { JuteDecodeError, JuteReader } from './reader.js';
import { JuteWriter } from './writer.js';
import { OpCode } from './codes.js';

export interface Codec<T> {
  read(reader: JuteReader): T;
  write(writer: JuteWriter, value: T): void;
}

export function encode<T>(codec: Codec<T>, value: T): Buffer {
  const writer = new JuteWriter();
  codec.write(writer, value);
  return writer.toBuffer();
}

/** Decodes a whole buffer; trailing bytes are an error, as they mean the frame was misread. */
export function decode<T>(codec: Codec<T>, bytes: Buffer): T {
  const reader = new JuteReader(bytes);
  const value = codec.read(reader);
  if (reader.remaining !== 0) throw new JuteDecodeError(`${reader.remaining} trailing bytes`, reader.position);
  return value;
}

// ---- data ----

export interface Id { scheme: string; id: string }
export const IdCodec: Codec<Id> = {
  read: (r) => ({ scheme: r.readText(), id: r.readText() }),
  write: (w, v) => void w.writeString(v.scheme).writeString(v.id),
};

export interface ACL { perms: number; id: Id }
export const ACLCodec: Codec<ACL> = {
  read: (r) => ({ perms: r.readInt(), id: IdCodec.read(r) }),
  write: (w, v) => {
    w.writeInt(v.perms);
    IdCodec.write(w, v.id);
  },
};
const readAcls = (r: JuteReader): ACL[] => r.readVector(ACLCodec.read);
const writeAcls = (w: JuteWriter, acls: readonly ACL[]): void => void w.writeVector(acls, ACLCodec.write);
const readStrings = (r: JuteReader): string[] => r.readVector((x) => x.readText());
const writeStrings = (w: JuteWriter, items: readonly string[]): void =>
  void w.writeVector(items, (x, s) => void x.writeString(s));

export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}
export const StatCodec: Codec<Stat> = {
  read: (r) => ({
    czxid: r.readLong(),
    mzxid: r.readLong(),
    ctime: r.readLong(),
    mtime: r.readLong(),
    version: r.readInt(),
    cversion: r.readInt(),
    aversion: r.readInt(),
    ephemeralOwner: r.readLong(),
    dataLength: r.readInt(),
    numChildren: r.readInt(),
    pzxid: r.readLong(),
  }),
  write: (w, s) => {
    w.writeLong(s.czxid).writeLong(s.mzxid).writeLong(s.ctime).writeLong(s.mtime);
    w.writeInt(s.version).writeInt(s.cversion).writeInt(s.aversion);
    w.writeLong(s.ephemeralOwner).writeInt(s.dataLength).writeInt(s.numChildren).writeLong(s.pzxid);
  },
};

/** The persisted form of Stat: without the derived dataLength and numChildren. */
export type StatPersisted = Omit<Stat, 'dataLength' | 'numChildren'>;
export const StatPersistedCodec: Codec<StatPersisted> = {
  read: (r) => ({
    czxid: r.readLong(),
    mzxid: r.readLong(),
    ctime: r.readLong(),
    mtime: r.readLong(),
    version: r.readInt(),
    cversion: r.readInt(),
    aversion: r.readInt(),
    ephemeralOwner: r.readLong(),
    pzxid: r.readLong(),
  }),
  write: (w, s) => {
    w.writeLong(s.czxid).writeLong(s.mzxid).writeLong(s.ctime).writeLong(s.mtime);
    w.writeInt(s.version).writeInt(s.cversion).writeInt(s.aversion);
    w.writeLong(s.ephemeralOwner).writeLong(s.pzxid);
  },
};

export interface ClientInfo { authScheme: string; user: string }
export const ClientInfoCodec: Codec<ClientInfo> = {
  read: (r) => ({ authScheme: r.readText(), user: r.readText() }),
  write: (w, v) => void w.writeString(v.authScheme).writeString(v.user),
};

// ---- session and framing ----

/** readOnly is absent in clients older than 3.4; the decoder reports whether it was there. */
export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: bigint;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer;
  readOnly: boolean | undefined;
}
export const ConnectRequestCodec: Codec<ConnectRequest> = {
  read: (r) => ({
    protocolVersion: r.readInt(),
    lastZxidSeen: r.readLong(),
    timeOut: r.readInt(),
    sessionId: r.readLong(),
    passwd: r.readBuffer() ?? Buffer.alloc(0),
    readOnly: r.remaining > 0 ? r.readBool() : undefined,
  }),
  write: (w, v) => {
    w.writeInt(v.protocolVersion).writeLong(v.lastZxidSeen).writeInt(v.timeOut).writeLong(v.sessionId);
    w.writeBuffer(v.passwd);
    if (v.readOnly !== undefined) w.writeBool(v.readOnly);
  },
};

export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer;
  readOnly: boolean | undefined;
}
export const ConnectResponseCodec: Codec<ConnectResponse> = {
  read: (r) => ({
    protocolVersion: r.readInt(),
    timeOut: r.readInt(),
    sessionId: r.readLong(),
    passwd: r.readBuffer() ?? Buffer.alloc(0),
    readOnly: r.remaining > 0 ? r.readBool() : undefined,
  }),
  write: (w, v) => {
    w.writeInt(v.protocolVersion).writeInt(v.timeOut).writeLong(v.sessionId).writeBuffer(v.passwd);
    if (v.readOnly !== undefined) w.writeBool(v.readOnly);
  },
};

export interface RequestHeader { xid: number; type: number }
export const RequestHeaderCodec: Codec<RequestHeader> = {
  read: (r) => ({ xid: r.readInt(), type: r.readInt() }),
  write: (w, v) => void w.writeInt(v.xid).writeInt(v.type),
};

export interface ReplyHeader { xid: number; zxid: bigint; err: number }
export const ReplyHeaderCodec: Codec<ReplyHeader> = {
  read: (r) => ({ xid: r.readInt(), zxid: r.readLong(), err: r.readInt() }),
  write: (w, v) => void w.writeInt(v.xid).writeLong(v.zxid).writeInt(v.err),
};

export interface WatcherEvent { type: number; state: number; path: string }
export const WatcherEventCodec: Codec<WatcherEvent> = {
  read: (r) => ({ type: r.readInt(), state: r.readInt(), path: r.readText() }),
  write: (w, v) => void w.writeInt(v.type).writeInt(v.state).writeString(v.path),
};

export interface AuthPacket { type: number; scheme: string; auth: Buffer }
export const AuthPacketCodec: Codec<AuthPacket> = {
  read: (r) => ({ type: r.readInt(), scheme: r.readText(), auth: r.readBuffer() ?? Buffer.alloc(0) }),
  write: (w, v) => void w.writeInt(v.type).writeString(v.scheme).writeBuffer(v.auth),
};

export interface SetWatches {
  relativeZxid: bigint;
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
}
export const SetWatchesCodec: Codec<SetWatches> = {
  read: (r) => ({
    relativeZxid: r.readLong(),
    dataWatches: readStrings(r),
    existWatches: readStrings(r),
    childWatches: readStrings(r),
  }),
  write: (w, v) => {
    w.writeLong(v.relativeZxid);
    writeStrings(w, v.dataWatches);
    writeStrings(w, v.existWatches);
    writeStrings(w, v.childWatches);
  },
};

export interface SetWatches2 extends SetWatches {
  persistentWatches: string[];
  persistentRecursiveWatches: string[];
}
export const SetWatches2Codec: Codec<SetWatches2> = {
  read: (r) => ({
    ...SetWatchesCodec.read(r),
    persistentWatches: readStrings(r),
    persistentRecursiveWatches: readStrings(r),
  }),
  write: (w, v) => {
    SetWatchesCodec.write(w, v);
    writeStrings(w, v.persistentWatches);
    writeStrings(w, v.persistentRecursiveWatches);
  },
};

// ---- requests ----

export interface CreateRequest { path: string; data: Buffer | null; acl: ACL[]; flags: number }
export const CreateRequestCodec: Codec<CreateRequest> = {
  read: (r) => ({ path: r.readText(), data: r.readBuffer(), acl: readAcls(r), flags: r.readInt() }),
  write: (w, v) => {
    w.writeString(v.path).writeBuffer(v.data);
    writeAcls(w, v.acl);
    w.writeInt(v.flags);
  },
};

export interface CreateTTLRequest extends CreateRequest { ttl: bigint }
export const CreateTTLRequestCodec: Codec<CreateTTLRequest> = {
  read: (r) => ({ ...CreateRequestCodec.read(r), ttl: r.readLong() }),
  write: (w, v) => {
    CreateRequestCodec.write(w, v);
    w.writeLong(v.ttl);
  },
};

export interface PathVersionRequest { path: string; version: number }
const pathVersionCodec: Codec<PathVersionRequest> = {
  read: (r) => ({ path: r.readText(), version: r.readInt() }),
  write: (w, v) => void w.writeString(v.path).writeInt(v.version),
};
export type DeleteRequest = PathVersionRequest;
export const DeleteRequestCodec = pathVersionCodec;
export type CheckVersionRequest = PathVersionRequest;
export const CheckVersionRequestCodec = pathVersionCodec;

/** exists, getData, getChildren and getChildren2 requests share this layout. */
export interface PathWatchRequest { path: string; watch: boolean }
export const PathWatchRequestCodec: Codec<PathWatchRequest> = {
  read: (r) => ({ path: r.readText(), watch: r.readBool() }),
  write: (w, v) => void w.writeString(v.path).writeBool(v.watch),
};
export type ExistsRequest = PathWatchRequest;
export type GetDataRequest = PathWatchRequest;
export type GetChildrenRequest = PathWatchRequest;
export type GetChildren2Request = PathWatchRequest;

/** getACL, sync, getAllChildrenNumber requests and the sync/create responses: one path. */
export interface PathRecord { path: string }
export const PathRecordCodec: Codec<PathRecord> = {
  read: (r) => ({ path: r.readText() }),
  write: (w, v) => void w.writeString(v.path),
};

export interface SetDataRequest { path: string; data: Buffer | null; version: number }
export const SetDataRequestCodec: Codec<SetDataRequest> = {
  read: (r) => ({ path: r.readText(), data: r.readBuffer(), version: r.readInt() }),
  write: (w, v) => void w.writeString(v.path).writeBuffer(v.data).writeInt(v.version),
};

export interface SetACLRequest { path: string; acl: ACL[]; version: number }
export const SetACLRequestCodec: Codec<SetACLRequest> = {
  read: (r) => ({ path: r.readText(), acl: readAcls(r), version: r.readInt() }),
  write: (w, v) => {
    w.writeString(v.path);
    writeAcls(w, v.acl);
    w.writeInt(v.version);
  },
};

/** checkWatches and removeWatches: path and WatcherType. */
export interface PathTypeRequest { path: string; type: number }
export const PathTypeRequestCodec: Codec<PathTypeRequest> = {
  read: (r) => ({ path: r.readText(), type: r.readInt() }),
  write: (w, v) => void w.writeString(v.path).writeInt(v.type),
};

export interface AddWatchRequest { path: string; mode: number }
export const AddWatchRequestCodec: Codec<AddWatchRequest> = {
  read: (r) => ({ path: r.readText(), mode: r.readInt() }),
  write: (w, v) => void w.writeString(v.path).writeInt(v.mode),
};

export interface GetEphemeralsRequest { prefixPath: string }
export const GetEphemeralsRequestCodec: Codec<GetEphemeralsRequest> = {
  read: (r) => ({ prefixPath: r.readText() }),
  write: (w, v) => void w.writeString(v.prefixPath),
};

export interface ReconfigRequest {
  joiningServers: string | null;
  leavingServers: string | null;
  newMembers: string | null;
  curConfigId: bigint;
}
export const ReconfigRequestCodec: Codec<ReconfigRequest> = {
  read: (r) => ({
    joiningServers: r.readString(),
    leavingServers: r.readString(),
    newMembers: r.readString(),
    curConfigId: r.readLong(),
  }),
  write: (w, v) =>
    void w.writeString(v.joiningServers).writeString(v.leavingServers).writeString(v.newMembers).writeLong(v.curConfigId),
};

/** GetSASLRequest and SetSASLResponse: one opaque token. */
export interface SaslToken { token: Buffer }
export const SaslTokenCodec: Codec<SaslToken> = {
  read: (r) => ({ token: r.readBuffer() ?? Buffer.alloc(0) }),
  write: (w, v) => void w.writeBuffer(v.token),
};

// ---- responses ----

export type CreateResponse = PathRecord;
export const CreateResponseCodec = PathRecordCodec;

export interface Create2Response { path: string; stat: Stat }
export const Create2ResponseCodec: Codec<Create2Response> = {
  read: (r) => ({ path: r.readText(), stat: StatCodec.read(r) }),
  write: (w, v) => {
    w.writeString(v.path);
    StatCodec.write(w, v.stat);
  },
};

/** exists, setData and setACL responses: one Stat. */
export interface StatResponse { stat: Stat }
export const StatResponseCodec: Codec<StatResponse> = {
  read: (r) => ({ stat: StatCodec.read(r) }),
  write: (w, v) => StatCodec.write(w, v.stat),
};

export interface GetDataResponse { data: Buffer | null; stat: Stat }
export const GetDataResponseCodec: Codec<GetDataResponse> = {
  read: (r) => ({ data: r.readBuffer(), stat: StatCodec.read(r) }),
  write: (w, v) => {
    w.writeBuffer(v.data);
    StatCodec.write(w, v.stat);
  },
};

export interface GetACLResponse { acl: ACL[]; stat: Stat }
export const GetACLResponseCodec: Codec<GetACLResponse> = {
  read: (r) => ({ acl: readAcls(r), stat: StatCodec.read(r) }),
  write: (w, v) => {
    writeAcls(w, v.acl);
    StatCodec.write(w, v.stat);
  },
};

export interface GetChildrenResponse { children: string[] }
export const GetChildrenResponseCodec: Codec<GetChildrenResponse> = {
  read: (r) => ({ children: readStrings(r) }),
  write: (w, v) => writeStrings(w, v.children),
};

export interface GetChildren2Response { children: string[]; stat: Stat }
export const GetChildren2ResponseCodec: Codec<GetChildren2Response> = {
  read: (r) => ({ children: readStrings(r), stat: StatCodec.read(r) }),
  write: (w, v) => {
    writeStrings(w, v.children);
    StatCodec.write(w, v.stat);
  },
};

export interface GetEphemeralsResponse { ephemerals: string[] }
export const GetEphemeralsResponseCodec: Codec<GetEphemeralsResponse> = {
  read: (r) => ({ ephemerals: readStrings(r) }),
  write: (w, v) => writeStrings(w, v.ephemerals),
};

export interface GetAllChildrenNumberResponse { totalNumber: number }
export const GetAllChildrenNumberResponseCodec: Codec<GetAllChildrenNumberResponse> = {
  read: (r) => ({ totalNumber: r.readInt() }),
  write: (w, v) => void w.writeInt(v.totalNumber),
};

export interface WhoAmIResponse { clientInfo: ClientInfo[] }
export const WhoAmIResponseCodec: Codec<WhoAmIResponse> = {
  read: (r) => ({ clientInfo: r.readVector(ClientInfoCodec.read) }),
  write: (w, v) => void w.writeVector(v.clientInfo, ClientInfoCodec.write),
};

export interface ErrorResponse { err: number }
export const ErrorResponseCodec: Codec<ErrorResponse> = {
  read: (r) => ({ err: r.readInt() }),
  write: (w, v) => void w.writeInt(v.err),
};

// ---- multi ----

export interface MultiHeader { type: number; done: boolean; err: number }
export const MultiHeaderCodec: Codec<MultiHeader> = {
  read: (r) => ({ type: r.readInt(), done: r.readBool(), err: r.readInt() }),
  write: (w, v) => void w.writeInt(v.type).writeBool(v.done).writeInt(v.err),
};

export type MultiOp =
  | { type: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer; request: CreateRequest }
  | { type: typeof OpCode.createTTL; request: CreateTTLRequest }
  | { type: typeof OpCode.delete; request: DeleteRequest }
  | { type: typeof OpCode.setData; request: SetDataRequest }
  | { type: typeof OpCode.check; request: CheckVersionRequest }
  | { type: typeof OpCode.getData | typeof OpCode.getChildren; request: PathRecord };

const MULTI_END: MultiHeader = { type: -1, done: true, err: -1 };

/**
 * MultiOperationRecord. In a multiRead, getData and getChildren carry only a path
 * (GetDataRequest without the watch flag would be wrong: ZooKeeper sends GetDataRequest
 * {path, watch} for getData and GetChildrenRequest {path, watch} for getChildren), so
 * both carry the watch byte, which the server ignores.
 */
export const MultiRequestCodec: Codec<MultiOp[]> = {
  read: (r) => {
    const ops: MultiOp[] = [];
    for (;;) {
      const header = MultiHeaderCodec.read(r);
      if (header.done) return ops;
      ops.push(readMultiOp(r, header.type));
    }
  },
  write: (w, ops) => {
    for (const op of ops) {
      MultiHeaderCodec.write(w, { type: op.type, done: false, err: -1 });
      writeMultiOp(w, op);
    }
    MultiHeaderCodec.write(w, MULTI_END);
  },
};

function readMultiOp(r: JuteReader, type: number): MultiOp {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return { type, request: CreateRequestCodec.read(r) };
    case OpCode.createTTL:
      return { type, request: CreateTTLRequestCodec.read(r) };
    case OpCode.delete:
      return { type, request: DeleteRequestCodec.read(r) };
    case OpCode.setData:
      return { type, request: SetDataRequestCodec.read(r) };
    case OpCode.check:
      return { type, request: CheckVersionRequestCodec.read(r) };
    case OpCode.getData:
    case OpCode.getChildren:
      return { type, request: { path: PathWatchRequestCodec.read(r).path } };
    default:
      throw new JuteDecodeError(`op type ${type} is not allowed in multi`, r.position);
  }
}

function writeMultiOp(w: JuteWriter, op: MultiOp): void {
  switch (op.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return CreateRequestCodec.write(w, op.request);
    case OpCode.createTTL:
      return CreateTTLRequestCodec.write(w, op.request);
    case OpCode.delete:
      return DeleteRequestCodec.write(w, op.request);
    case OpCode.setData:
      return SetDataRequestCodec.write(w, op.request);
    case OpCode.check:
      return CheckVersionRequestCodec.write(w, op.request);
    case OpCode.getData:
    case OpCode.getChildren:
      return PathWatchRequestCodec.write(w, { path: op.request.path, watch: false });
  }
}

/**
 * One result in a MultiResponse. As in ZooKeeper (OpResult.CreateResult, MultiResponse.java),
 * a create that returns a Stat (create2, createContainer, createTTL) is reported as type
 * create2: ZooKeeper's clients reject any other op type here ("Invalid type 19 in MultiResponse").
 */
export type MultiResult =
  | { type: typeof OpCode.create; path: string }
  | { type: typeof OpCode.create2; path: string; stat: Stat }
  | { type: typeof OpCode.delete | typeof OpCode.check }
  | { type: typeof OpCode.setData; stat: Stat }
  | { type: typeof OpCode.getData; data: Buffer | null; stat: Stat }
  | { type: typeof OpCode.getChildren; children: string[] }
  | { type: typeof OpCode.error; err: number };

/** MultiResponse: each result is a MultiHeader (err is the op's code) and its body. */
export const MultiResponseCodec: Codec<MultiResult[]> = {
  read: (r) => {
    const results: MultiResult[] = [];
    for (;;) {
      const header = MultiHeaderCodec.read(r);
      if (header.done) return results;
      results.push(readMultiResult(r, header.type));
    }
  },
  write: (w, results) => {
    for (const result of results) {
      const err = result.type === OpCode.error ? result.err : 0;
      MultiHeaderCodec.write(w, { type: result.type, done: false, err });
      writeMultiResult(w, result);
    }
    MultiHeaderCodec.write(w, MULTI_END);
  },
};

function readMultiResult(r: JuteReader, type: number): MultiResult {
  switch (type) {
    case OpCode.create:
      return { type, path: r.readText() };
    case OpCode.create2:
      return { type, ...Create2ResponseCodec.read(r) };
    case OpCode.delete:
    case OpCode.check:
      return { type };
    case OpCode.setData:
      return { type, stat: StatCodec.read(r) };
    case OpCode.getData:
      return { type, ...GetDataResponseCodec.read(r) };
    case OpCode.getChildren:
      return { type, children: readStrings(r) };
    case OpCode.error:
      return { type, err: r.readInt() };
    default:
      throw new JuteDecodeError(`op type ${type} is not allowed in a multi response`, r.position);
  }
}

function writeMultiResult(w: JuteWriter, result: MultiResult): void {
  switch (result.type) {
    case OpCode.create:
      return void w.writeString(result.path);
    case OpCode.create2:
      return Create2ResponseCodec.write(w, result);
    case OpCode.delete:
    case OpCode.check:
      return;
    case OpCode.setData:
      return StatCodec.write(w, result.stat);
    case OpCode.getData:
      return GetDataResponseCodec.write(w, result);
    case OpCode.getChildren:
      return writeStrings(w, result.children);
    case OpCode.error:
      return void w.writeInt(result.err);
  }
}
