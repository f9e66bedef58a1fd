/**
 * fast-check arbitraries for every record in src/jute/records.ts, and one table that pairs
 * each exported codec with its arbitrary. The round-trip and fuzz tests walk that table, and
 * a guard test checks that the table names every `*Codec` the module exports.
 */
import fc from 'fast-check';
import {
  JuteWriter,
  OpCode,
  ACLCodec,
  AddWatchRequestCodec,
  AuthPacketCodec,
  CheckVersionRequestCodec,
  ClientInfoCodec,
  ConnectRequestCodec,
  ConnectResponseCodec,
  Create2ResponseCodec,
  CreateRequestCodec,
  CreateResponseCodec,
  CreateTTLRequestCodec,
  DeleteRequestCodec,
  ErrorResponseCodec,
  GetACLResponseCodec,
  GetAllChildrenNumberResponseCodec,
  GetChildren2ResponseCodec,
  GetChildrenResponseCodec,
  GetDataResponseCodec,
  GetEphemeralsRequestCodec,
  GetEphemeralsResponseCodec,
  IdCodec,
  MultiHeaderCodec,
  MultiRequestCodec,
  MultiResponseCodec,
  PathRecordCodec,
  PathTypeRequestCodec,
  PathWatchRequestCodec,
  ReconfigRequestCodec,
  ReplyHeaderCodec,
  RequestHeaderCodec,
  SaslTokenCodec,
  SetACLRequestCodec,
  SetDataRequestCodec,
  SetWatches2Codec,
  SetWatchesCodec,
  StatCodec,
  StatPersistedCodec,
  StatResponseCodec,
  WatcherEventCodec,
  WhoAmIResponseCodec,
} from '../../../src/jute/index.js';
import type {
  ACL,
  Codec,
  ConnectRequest,
  ConnectResponse,
  CreateRequest,
  CreateTTLRequest,
  Id,
  MultiOp,
  MultiResult,
  PathVersionRequest,
  SetDataRequest,
  SetWatches,
  Stat,
  StatPersisted,
} from '../../../src/jute/index.js';

// ---- primitives ----

/** fc.record, but never with a null prototype: the decoders build plain objects. */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;
export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;

/** A jute `int`: the whole signed 32-bit range, with the edges and small values favoured. */
export const int32 = fc.oneof(
  fc.integer({ min: INT32_MIN, max: INT32_MAX }),
  fc.constantFrom(0, -1, 1, INT32_MIN, INT32_MAX),
);

/** A jute `long`: the whole signed 64-bit range, with the edges favoured. */
export const int64 = fc.oneof(
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
  fc.constantFrom(0n, -1n, 1n, INT64_MIN, INT64_MAX, 0x0000_0001_0000_0000n),
);

/**
 * Any Unicode scalar value: every code point except the surrogates, which UTF-8 cannot carry
 * alone. (Built by hand: fc.string({ unit: 'binary' }) takes over a second to construct.)
 */
const scalarValue = fc
  .oneof(
    fc.integer({ min: 0, max: 0x7f }),
    fc.integer({ min: 0x80, max: 0xd7ff }),
    fc.integer({ min: 0xe000, max: 0xffff }),
    fc.integer({ min: 0x10000, max: 0x10ffff }),
  )
  .map((codePoint) => String.fromCodePoint(codePoint));

/**
 * A jute `ustring` that survives UTF-8: ASCII, any scalar value (1- to 4-byte UTF-8),
 * multi-code-point graphemes, and a few fixed non-ASCII samples.
 */
export const ustring = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: scalarValue, maxLength: 16 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('', '/', '/a', '/zookeeper/config', '/é/ü', '/日本語', '/😀', 'a\u0000b', '\u{10FFFF}'),
);

/** A path-like string (paths are just ustrings on the wire; validity is not the codec's job). */
export const path = fc.oneof(ustring, ustring.map((s) => `/${s}`));

export const bytes = fc.uint8Array({ maxLength: 48 }).map((a) => Buffer.from(a));
export const nullableBytes = fc.option(bytes, { nil: null, freq: 4 });
export const nullableString = fc.option(ustring, { nil: null, freq: 4 });
export const strings = fc.array(path, { maxLength: 6 });

// ---- records ----

export const id: fc.Arbitrary<Id> = rec({ scheme: ustring, id: ustring });
export const acl: fc.Arbitrary<ACL> = rec({
  perms: fc.oneof(int32, fc.integer({ min: 0, max: 31 })),
  id,
});
export const acls = fc.array(acl, { maxLength: 4 });

export const stat: fc.Arbitrary<Stat> = rec({
  czxid: int64,
  mzxid: int64,
  ctime: int64,
  mtime: int64,
  version: int32,
  cversion: int32,
  aversion: int32,
  ephemeralOwner: int64,
  dataLength: int32,
  numChildren: int32,
  pzxid: int64,
});
export const statPersisted: fc.Arbitrary<StatPersisted> = rec({
  czxid: int64,
  mzxid: int64,
  ctime: int64,
  mtime: int64,
  version: int32,
  cversion: int32,
  aversion: int32,
  ephemeralOwner: int64,
  pzxid: int64,
});

/** readOnly is present (true/false) or absent (undefined, key still present as the decoder sets it). */
const optionalReadOnly = fc.option(fc.boolean(), { nil: undefined });
const passwd = fc.oneof(bytes, fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)));

export const connectRequest: fc.Arbitrary<ConnectRequest> = rec({
  protocolVersion: int32,
  lastZxidSeen: int64,
  timeOut: int32,
  sessionId: int64,
  passwd,
  readOnly: optionalReadOnly,
});
export const connectResponse: fc.Arbitrary<ConnectResponse> = rec({
  protocolVersion: int32,
  timeOut: int32,
  sessionId: int64,
  passwd,
  readOnly: optionalReadOnly,
});

export const setWatches: fc.Arbitrary<SetWatches> = rec({
  relativeZxid: int64,
  dataWatches: strings,
  existWatches: strings,
  childWatches: strings,
});

export const createRequest: fc.Arbitrary<CreateRequest> = rec({
  path,
  data: nullableBytes,
  acl: acls,
  flags: fc.oneof(int32, fc.integer({ min: 0, max: 6 })),
});
export const createTTLRequest: fc.Arbitrary<CreateTTLRequest> = rec({
  path,
  data: nullableBytes,
  acl: acls,
  flags: fc.oneof(int32, fc.integer({ min: 0, max: 6 })),
  ttl: int64,
});
export const pathVersion: fc.Arbitrary<PathVersionRequest> = rec({ path, version: int32 });
export const setDataRequest: fc.Arbitrary<SetDataRequest> = rec({ path, data: nullableBytes, version: int32 });

// ---- multi ----

/** One arbitrary per op type a MultiOperationRecord may carry. */
export const multiOpByType: Record<string, fc.Arbitrary<MultiOp>> = {
  create: createRequest.map((request): MultiOp => ({ type: OpCode.create, request })),
  create2: createRequest.map((request): MultiOp => ({ type: OpCode.create2, request })),
  createContainer: createRequest.map((request): MultiOp => ({ type: OpCode.createContainer, request })),
  createTTL: createTTLRequest.map((request): MultiOp => ({ type: OpCode.createTTL, request })),
  delete: pathVersion.map((request): MultiOp => ({ type: OpCode.delete, request })),
  setData: setDataRequest.map((request): MultiOp => ({ type: OpCode.setData, request })),
  check: pathVersion.map((request): MultiOp => ({ type: OpCode.check, request })),
  getData: path.map((p): MultiOp => ({ type: OpCode.getData, request: { path: p } })),
  getChildren: path.map((p): MultiOp => ({ type: OpCode.getChildren, request: { path: p } })),
};
export const multiOp: fc.Arbitrary<MultiOp> = fc.oneof(...Object.values(multiOpByType));

/** One arbitrary per result type a MultiResponse may carry. */
export const multiResultByType: Record<string, fc.Arbitrary<MultiResult>> = {
  create: path.map((p): MultiResult => ({ type: OpCode.create, path: p })),
  create2: rec({ path, stat }).map((v): MultiResult => ({ type: OpCode.create2, ...v })),
  delete: fc.constant<MultiResult>({ type: OpCode.delete }),
  check: fc.constant<MultiResult>({ type: OpCode.check }),
  setData: stat.map((s): MultiResult => ({ type: OpCode.setData, stat: s })),
  getData: rec({ data: nullableBytes, stat }).map((v): MultiResult => ({ type: OpCode.getData, ...v })),
  getChildren: strings.map((children): MultiResult => ({ type: OpCode.getChildren, children })),
  error: int32.map((err): MultiResult => ({ type: OpCode.error, err })),
};
export const multiResult: fc.Arbitrary<MultiResult> = fc.oneof(...Object.values(multiResultByType));

// ---- the table ----

export interface CodecCase {
  name: string;
  codec: Codec<unknown>;
  arb: fc.Arbitrary<unknown>;
  /** ConnectRequest/Response: a trailing byte may legitimately be read as the optional readOnly. */
  optionalTail?: boolean;
}

function codecCase<T>(name: string, codec: Codec<T>, arb: fc.Arbitrary<T>, optionalTail = false): CodecCase {
  return { name, codec: codec as Codec<unknown>, arb: arb as fc.Arbitrary<unknown>, optionalTail };
}

export const codecCases: readonly CodecCase[] = [
  codecCase('IdCodec', IdCodec, id),
  codecCase('ACLCodec', ACLCodec, acl),
  codecCase('StatCodec', StatCodec, stat),
  codecCase('StatPersistedCodec', StatPersistedCodec, statPersisted),
  codecCase('ClientInfoCodec', ClientInfoCodec, rec({ authScheme: ustring, user: ustring })),
  codecCase('ConnectRequestCodec', ConnectRequestCodec, connectRequest, true),
  codecCase('ConnectResponseCodec', ConnectResponseCodec, connectResponse, true),
  codecCase('RequestHeaderCodec', RequestHeaderCodec, rec({ xid: int32, type: int32 })),
  codecCase('ReplyHeaderCodec', ReplyHeaderCodec, rec({ xid: int32, zxid: int64, err: int32 })),
  codecCase('WatcherEventCodec', WatcherEventCodec, rec({ type: int32, state: int32, path })),
  codecCase('AuthPacketCodec', AuthPacketCodec, rec({ type: int32, scheme: ustring, auth: bytes })),
  codecCase('SetWatchesCodec', SetWatchesCodec, setWatches),
  codecCase(
    'SetWatches2Codec',
    SetWatches2Codec,
    rec({
      relativeZxid: int64,
      dataWatches: strings,
      existWatches: strings,
      childWatches: strings,
      persistentWatches: strings,
      persistentRecursiveWatches: strings,
    }),
  ),
  codecCase('CreateRequestCodec', CreateRequestCodec, createRequest),
  codecCase('CreateTTLRequestCodec', CreateTTLRequestCodec, createTTLRequest),
  codecCase('DeleteRequestCodec', DeleteRequestCodec, pathVersion),
  codecCase('CheckVersionRequestCodec', CheckVersionRequestCodec, pathVersion),
  codecCase('PathWatchRequestCodec', PathWatchRequestCodec, rec({ path, watch: fc.boolean() })),
  codecCase('PathRecordCodec', PathRecordCodec, rec({ path })),
  codecCase('SetDataRequestCodec', SetDataRequestCodec, setDataRequest),
  codecCase('SetACLRequestCodec', SetACLRequestCodec, rec({ path, acl: acls, version: int32 })),
  codecCase('PathTypeRequestCodec', PathTypeRequestCodec, rec({ path, type: int32 })),
  codecCase('AddWatchRequestCodec', AddWatchRequestCodec, rec({ path, mode: int32 })),
  codecCase('GetEphemeralsRequestCodec', GetEphemeralsRequestCodec, rec({ prefixPath: path })),
  codecCase(
    'ReconfigRequestCodec',
    ReconfigRequestCodec,
    rec({
      joiningServers: nullableString,
      leavingServers: nullableString,
      newMembers: nullableString,
      curConfigId: int64,
    }),
  ),
  codecCase('SaslTokenCodec', SaslTokenCodec, rec({ token: bytes })),
  codecCase('CreateResponseCodec', CreateResponseCodec, rec({ path })),
  codecCase('Create2ResponseCodec', Create2ResponseCodec, rec({ path, stat })),
  codecCase('StatResponseCodec', StatResponseCodec, rec({ stat })),
  codecCase('GetDataResponseCodec', GetDataResponseCodec, rec({ data: nullableBytes, stat })),
  codecCase('GetACLResponseCodec', GetACLResponseCodec, rec({ acl: acls, stat })),
  codecCase('GetChildrenResponseCodec', GetChildrenResponseCodec, rec({ children: strings })),
  codecCase('GetChildren2ResponseCodec', GetChildren2ResponseCodec, rec({ children: strings, stat })),
  codecCase('GetEphemeralsResponseCodec', GetEphemeralsResponseCodec, rec({ ephemerals: strings })),
  codecCase('GetAllChildrenNumberResponseCodec', GetAllChildrenNumberResponseCodec, rec({ totalNumber: int32 })),
  codecCase(
    'WhoAmIResponseCodec',
    WhoAmIResponseCodec,
    rec({ clientInfo: fc.array(rec({ authScheme: ustring, user: ustring }), { maxLength: 4 }) }),
  ),
  codecCase('ErrorResponseCodec', ErrorResponseCodec, rec({ err: int32 })),
  codecCase('MultiHeaderCodec', MultiHeaderCodec, rec({ type: int32, done: fc.boolean(), err: int32 })),
  codecCase('MultiRequestCodec', MultiRequestCodec, fc.array(multiOp, { maxLength: 6 })),
  codecCase('MultiResponseCodec', MultiResponseCodec, fc.array(multiResult, { maxLength: 6 })),
];

// ---- helpers ----

/**
 * A JuteWriter that remembers where each length prefix (of a string, buffer or vector)
 * starts, so that tests can corrupt exactly the length fields of a valid encoding.
 */
export class LengthRecordingWriter extends JuteWriter {
  readonly lengthOffsets: number[] = [];

  override writeString(value: string | null): this {
    this.lengthOffsets.push(this.length);
    return super.writeString(value);
  }

  override writeBuffer(value: Uint8Array | null): this {
    this.lengthOffsets.push(this.length);
    return super.writeBuffer(value);
  }

  override writeVector<T>(items: readonly T[] | null, writeItem: (writer: JuteWriter, item: T) => void): this {
    this.lengthOffsets.push(this.length);
    return super.writeVector(items, writeItem);
  }
}

/** Builds bytes from hex with spaces/newlines allowed, for readable known-bytes tests. */
export function hex(text: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`bad hex: ${text}`);
  return Buffer.from(clean, 'hex');
}

/** Hex of a jute ustring: 4-byte length then UTF-8 bytes. */
export function hexString(value: string): string {
  const utf8 = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(4);
  length.writeInt32BE(utf8.length);
  return length.toString('hex') + utf8.toString('hex');
}
