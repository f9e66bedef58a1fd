/**
 * Known bytes, computed by hand from ZooKeeper's zookeeper.jute (BinaryOutputArchive: int =
 * 4 bytes BE, long = 8 bytes BE, boolean = 1 byte, buffer/ustring = int length + bytes with
 * -1 for null, vector = int count + items), MultiOperationRecord.java and MultiResponse.java.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  decode,
  encode,
  JuteDecodeError,
  JuteWriter,
  OpCode,
  Perm,
  ACLCodec,
  AddWatchRequestCodec,
  AuthPacketCodec,
  ConnectRequestCodec,
  ConnectResponseCodec,
  Create2ResponseCodec,
  CreateRequestCodec,
  CreateTTLRequestCodec,
  DeleteRequestCodec,
  ErrorResponseCodec,
  GetChildrenResponseCodec,
  GetDataResponseCodec,
  MultiHeaderCodec,
  MultiRequestCodec,
  MultiResponseCodec,
  PathRecordCodec,
  PathWatchRequestCodec,
  ReconfigRequestCodec,
  ReplyHeaderCodec,
  RequestHeaderCodec,
  SetDataRequestCodec,
  SetWatches2Codec,
  SetWatchesCodec,
  StatCodec,
  StatPersistedCodec,
  WatcherEventCodec,
  WhoAmIResponseCodec,
} from '../../../src/jute/index.js';
import type { Codec, ConnectRequest, ConnectResponse, CreateRequest, MultiOp, MultiResult, Stat, StatPersisted } from '../../../src/jute/index.js';
import { hex, hexString } from './arbitraries.js';

const PASSWD = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');

/** Each field distinct, so that a swapped pair of fields shows in the bytes. */
const STAT: Stat = {
  czxid: 0x0101010101010101n,
  mzxid: 0x0202020202020202n,
  ctime: 0x0303030303030303n,
  mtime: 0x0404040404040404n,
  version: 0x05050505,
  cversion: 0x06060606,
  aversion: 0x07070707,
  ephemeralOwner: 0x0808080808080808n,
  dataLength: 0x09090909,
  numChildren: 0x0a0a0a0a,
  pzxid: 0x0b0b0b0b0b0b0b0bn,
};
const STAT_HEX =
  '0101010101010101 0202020202020202 0303030303030303 0404040404040404' +
  '05050505 06060606 07070707 0808080808080808 09090909 0a0a0a0a 0b0b0b0b0b0b0b0b';

/** Asserts exact bytes and that they decode back to the value. */
function assertWire<T>(codec: Codec<T>, value: T, expectedHex: string): Buffer {
  const expected = hex(expectedHex);
  const actual = encode(codec, value);
  assert.equal(actual.toString('hex'), expected.toString('hex'));
  assert.deepStrictEqual(decode(codec, expected), value);
  return actual;
}

void describe('session records', () => {
  const request: ConnectRequest = {
    protocolVersion: 0,
    lastZxidSeen: 0x0000000100000002n,
    timeOut: 30000,
    sessionId: 0x1122334455667788n,
    passwd: PASSWD,
    readOnly: undefined,
  };
  const requestHex =
    '00000000' + // protocolVersion
    '0000000100000002' + // lastZxidSeen
    '00007530' + // timeOut 30000
    '1122334455667788' + // sessionId
    '00000010' + // passwd length 16
    '000102030405060708090a0b0c0d0e0f';

  void test('ConnectRequest is 44 bytes without readOnly and 45 with', () => {
    const without = assertWire(ConnectRequestCodec, request, requestHex);
    assert.equal(without.length, 44);
    const withFalse = assertWire(ConnectRequestCodec, { ...request, readOnly: false }, requestHex + '00');
    assert.equal(withFalse.length, 45);
    assertWire(ConnectRequestCodec, { ...request, readOnly: true }, requestHex + '01');
  });

  void test('a fresh client handshake: all zeros, 16 zero bytes of passwd', () => {
    const fresh: ConnectRequest = {
      protocolVersion: 0,
      lastZxidSeen: 0n,
      timeOut: 40000,
      sessionId: 0n,
      passwd: Buffer.alloc(16),
      readOnly: false,
    };
    const framed = JuteWriter.frame();
    ConnectRequestCodec.write(framed, fresh);
    const packet = framed.toBuffer();
    // 4-byte frame length 45, then the 45-byte record.
    assert.equal(packet.length, 49);
    assert.equal(packet.readInt32BE(0), 45);
    assert.equal(packet.subarray(4).toString('hex'), '00000000' + '00'.repeat(8) + '00009c40' + '00'.repeat(8) + '00000010' + '00'.repeat(16) + '00');
  });

  void test('ConnectResponse is 36 bytes without readOnly and 37 with', () => {
    const response: ConnectResponse = {
      protocolVersion: 0,
      timeOut: 4000,
      sessionId: 0x0100000000000001n,
      passwd: PASSWD,
      readOnly: undefined,
    };
    const responseHex = '00000000' + '00000fa0' + '0100000000000001' + '00000010' + '000102030405060708090a0b0c0d0e0f';
    assert.equal(assertWire(ConnectResponseCodec, response, responseHex).length, 36);
    assert.equal(assertWire(ConnectResponseCodec, { ...response, readOnly: true }, responseHex + '01').length, 37);
  });

  void test('a null passwd (-1) decodes as an empty buffer', () => {
    const bytes = hex('00000000 0000000000000000 00007530 0000000000000000 ffffffff');
    assert.deepStrictEqual(decode(ConnectRequestCodec, bytes).passwd, Buffer.alloc(0));
    assert.equal(decode(ConnectRequestCodec, bytes).readOnly, undefined);
  });

  void test('RequestHeader is 8 bytes {xid, type}', () => {
    assertWire(RequestHeaderCodec, { xid: 7, type: OpCode.getData }, '00000007 00000004');
    assertWire(RequestHeaderCodec, { xid: -2, type: OpCode.ping }, 'fffffffe 0000000b');
    assertWire(RequestHeaderCodec, { xid: -8, type: OpCode.setWatches2 }, 'fffffff8 00000069');
  });

  void test('ReplyHeader is 16 bytes {xid, zxid, err}', () => {
    const bytes = assertWire(ReplyHeaderCodec, { xid: 1, zxid: 0x0000000100000002n, err: -101 }, '00000001 0000000100000002 ffffff9b');
    assert.equal(bytes.length, 16);
    assertWire(ReplyHeaderCodec, { xid: -1, zxid: -1n, err: 0 }, 'ffffffff ffffffffffffffff 00000000');
  });

  void test('WatcherEvent {type, state, path}', () => {
    assertWire(WatcherEventCodec, { type: 3, state: 3, path: '/a' }, '00000003 00000003 00000002 2f61');
  });

  void test('AuthPacket {type, scheme, auth}', () => {
    assertWire(AuthPacketCodec, { type: 0, scheme: 'digest', auth: Buffer.from('u:p') }, '00000000' + hexString('digest') + '00000003 753a70');
  });

  void test('SetWatches {relativeZxid, data, exist, child}', () => {
    assertWire(
      SetWatchesCodec,
      { relativeZxid: 5n, dataWatches: ['/a'], existWatches: [], childWatches: ['/b', '/c'] },
      '0000000000000005' + '00000001' + hexString('/a') + '00000000' + '00000002' + hexString('/b') + hexString('/c'),
    );
  });

  void test('SetWatches2 appends persistent and persistentRecursive watches', () => {
    assertWire(
      SetWatches2Codec,
      {
        relativeZxid: -1n,
        dataWatches: [],
        existWatches: ['/e'],
        childWatches: [],
        persistentWatches: ['/p'],
        persistentRecursiveWatches: ['/r', '/s'],
      },
      'ffffffffffffffff' +
        '00000000' +
        '00000001' + hexString('/e') +
        '00000000' +
        '00000001' + hexString('/p') +
        '00000002' + hexString('/r') + hexString('/s'),
    );
  });
});

void describe('data records', () => {
  void test('Stat is 68 bytes in zookeeper.jute field order', () => {
    const bytes = assertWire(StatCodec, STAT, STAT_HEX);
    assert.equal(bytes.length, 68);
    // Offsets from the .jute file: 4 longs, 3 ints, a long, 2 ints, a long.
    assert.equal(bytes.readBigInt64BE(0), STAT.czxid);
    assert.equal(bytes.readBigInt64BE(8), STAT.mzxid);
    assert.equal(bytes.readBigInt64BE(16), STAT.ctime);
    assert.equal(bytes.readBigInt64BE(24), STAT.mtime);
    assert.equal(bytes.readInt32BE(32), STAT.version);
    assert.equal(bytes.readInt32BE(36), STAT.cversion);
    assert.equal(bytes.readInt32BE(40), STAT.aversion);
    assert.equal(bytes.readBigInt64BE(44), STAT.ephemeralOwner);
    assert.equal(bytes.readInt32BE(52), STAT.dataLength);
    assert.equal(bytes.readInt32BE(56), STAT.numChildren);
    assert.equal(bytes.readBigInt64BE(60), STAT.pzxid);
  });

  void test('StatPersisted is 60 bytes: Stat without dataLength and numChildren', () => {
    const persisted: StatPersisted = {
      czxid: STAT.czxid,
      mzxid: STAT.mzxid,
      ctime: STAT.ctime,
      mtime: STAT.mtime,
      version: STAT.version,
      cversion: STAT.cversion,
      aversion: STAT.aversion,
      ephemeralOwner: STAT.ephemeralOwner,
      pzxid: STAT.pzxid,
    };
    const bytes = assertWire(
      StatPersistedCodec,
      persisted,
      '0101010101010101 0202020202020202 0303030303030303 0404040404040404' +
        '05050505 06060606 07070707 0808080808080808 0b0b0b0b0b0b0b0b',
    );
    assert.equal(bytes.length, 60);
  });

  void test('container and TTL ephemeralOwner values survive as signed longs', () => {
    const container = { ...STAT, ephemeralOwner: -(1n << 63n) };
    const bytes = encode(StatCodec, container);
    assert.equal(bytes.subarray(44, 52).toString('hex'), '8000000000000000');
    assert.equal(decode(StatCodec, bytes).ephemeralOwner, -(1n << 63n));
    const ttl = { ...STAT, ephemeralOwner: BigInt.asIntN(64, 0xff00000000000000n | 1000n) };
    assert.equal(encode(StatCodec, ttl).subarray(44, 52).toString('hex'), 'ff000000000003e8');
  });

  void test('ACL world:anyone ALL', () => {
    assertWire(ACLCodec, { perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }, '0000001f' + hexString('world') + hexString('anyone'));
  });
});

const CREATE_A: CreateRequest = {
  path: '/a',
  data: Buffer.from('x'),
  acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
  flags: 1,
};
const CREATE_A_HEX =
  '00000002 2f61' + // path "/a"
  '00000001 78' + // data "x"
  '00000001' + // one ACL
  '0000001f' + // perms 31
  '00000005 776f726c64' + // "world"
  '00000006 616e796f6e65' + // "anyone"
  '00000001'; // flags EPHEMERAL

void describe('request records', () => {
  void test('CreateRequest {path "/a", data "x", world:anyone 31, flags 1} is 42 exact bytes', () => {
    const bytes = assertWire(CreateRequestCodec, CREATE_A, CREATE_A_HEX);
    assert.equal(bytes.length, 42);
  });

  void test('CreateRequest with null data writes length -1 and decodes back to null', () => {
    assertWire(CreateRequestCodec, { ...CREATE_A, data: null, acl: [], flags: 0 }, '00000002 2f61 ffffffff 00000000 00000000');
  });

  void test('CreateTTLRequest appends ttl after flags', () => {
    assertWire(CreateTTLRequestCodec, { ...CREATE_A, flags: 5, ttl: 60000n }, CREATE_A_HEX.slice(0, -8) + '00000005' + '000000000000ea60');
  });

  void test('string lengths count UTF-8 bytes, not UTF-16 units', () => {
    assertWire(PathRecordCodec, { path: '/é' }, '00000003 2fc3a9');
    assertWire(PathRecordCodec, { path: '/😀' }, '00000005 2ff09f9880');
    assertWire(PathRecordCodec, { path: '/日' }, '00000004 2fe697a5');
    assertWire(PathRecordCodec, { path: '' }, '00000000');
  });

  void test('a null ustring (-1) decodes as "" where null is not meaningful', () => {
    assert.deepStrictEqual(decode(PathRecordCodec, hex('ffffffff')), { path: '' });
  });

  void test('ReconfigRequest keeps null strings as null', () => {
    assertWire(
      ReconfigRequestCodec,
      { joiningServers: null, leavingServers: '2', newMembers: null, curConfigId: -1n },
      'ffffffff' + hexString('2') + 'ffffffff' + 'ffffffffffffffff',
    );
  });

  void test('exists/getData/getChildren requests: {path, watch}', () => {
    assertWire(PathWatchRequestCodec, { path: '/a', watch: true }, '00000002 2f61 01');
    assertWire(PathWatchRequestCodec, { path: '/a', watch: false }, '00000002 2f61 00');
    // BinaryInputArchive.readBool: any non-zero byte is true.
    assert.equal(decode(PathWatchRequestCodec, hex('00000002 2f61 7f')).watch, true);
  });

  void test('delete/check {path, version}, setData {path, data, version}, addWatch {path, mode}', () => {
    assertWire(DeleteRequestCodec, { path: '/a', version: -1 }, '00000002 2f61 ffffffff');
    assertWire(SetDataRequestCodec, { path: '/a', data: Buffer.from('hi'), version: 3 }, '00000002 2f61 00000002 6869 00000003');
    assertWire(AddWatchRequestCodec, { path: '/a', mode: 1 }, '00000002 2f61 00000001');
  });
});

void describe('response records', () => {
  void test('Create2Response {path, stat}', () => {
    assertWire(Create2ResponseCodec, { path: '/a', stat: STAT }, '00000002 2f61' + STAT_HEX);
  });

  void test('GetDataResponse {data, stat}, null data as -1', () => {
    assertWire(GetDataResponseCodec, { data: Buffer.from('x'), stat: STAT }, '00000001 78' + STAT_HEX);
    assertWire(GetDataResponseCodec, { data: null, stat: STAT }, 'ffffffff' + STAT_HEX);
  });

  void test('GetChildrenResponse; a null vector (-1) decodes as []', () => {
    assertWire(GetChildrenResponseCodec, { children: ['a', 'b'] }, '00000002' + hexString('a') + hexString('b'));
    assert.deepStrictEqual(decode(GetChildrenResponseCodec, hex('ffffffff')), { children: [] });
  });

  void test('WhoAmIResponse {vector<ClientInfo{authScheme, user}>}', () => {
    assertWire(
      WhoAmIResponseCodec,
      { clientInfo: [{ authScheme: 'ip', user: '127.0.0.1' }] },
      '00000001' + hexString('ip') + hexString('127.0.0.1'),
    );
  });

  void test('ErrorResponse and MultiHeader', () => {
    assertWire(ErrorResponseCodec, { err: -110 }, 'ffffff92');
    assertWire(MultiHeaderCodec, { type: -1, done: true, err: -1 }, 'ffffffff 01 ffffffff');
  });
});

const MULTI_END_HEX = 'ffffffff 01 ffffffff';

void describe('multi layout (MultiOperationRecord / MultiResponse)', () => {
  void test('a MultiRequest with one create: header {1, false, -1}, CreateRequest, terminator {-1, true, -1}', () => {
    const ops: MultiOp[] = [{ type: OpCode.create, request: CREATE_A }];
    const bytes = assertWire(MultiRequestCodec, ops, '00000001 00 ffffffff' + CREATE_A_HEX + MULTI_END_HEX);
    assert.equal(bytes.length, 9 + 42 + 9);
  });

  void test('every write op in a MultiRequest carries its own request record', () => {
    const ops: MultiOp[] = [
      { type: OpCode.create2, request: CREATE_A },
      { type: OpCode.createContainer, request: { ...CREATE_A, flags: 4 } },
      { type: OpCode.createTTL, request: { ...CREATE_A, flags: 5, ttl: 1n } },
      { type: OpCode.delete, request: { path: '/a', version: 2 } },
      { type: OpCode.setData, request: { path: '/a', data: null, version: -1 } },
      { type: OpCode.check, request: { path: '/a', version: 0 } },
    ];
    assertWire(
      MultiRequestCodec,
      ops,
      '0000000f 00 ffffffff' + CREATE_A_HEX +
        '00000013 00 ffffffff' + CREATE_A_HEX.slice(0, -8) + '00000004' +
        '00000015 00 ffffffff' + CREATE_A_HEX.slice(0, -8) + '00000005 0000000000000001' +
        '00000002 00 ffffffff' + '00000002 2f61 00000002' +
        '00000005 00 ffffffff' + '00000002 2f61 ffffffff ffffffff' +
        '0000000d 00 ffffffff' + '00000002 2f61 00000000' +
        MULTI_END_HEX,
    );
  });

  void test('multiRead ops carry GetDataRequest/GetChildrenRequest {path, watch=false}', () => {
    const ops: MultiOp[] = [
      { type: OpCode.getData, request: { path: '/a' } },
      { type: OpCode.getChildren, request: { path: '/' } },
    ];
    assertWire(MultiRequestCodec, ops, '00000004 00 ffffffff 00000002 2f61 00' + '00000008 00 ffffffff 00000001 2f 00' + MULTI_END_HEX);
    // A client that sets the (ignored) watch byte still decodes.
    const withWatch = hex('00000004 00 ffffffff 00000002 2f61 01' + MULTI_END_HEX);
    assert.deepStrictEqual(decode(MultiRequestCodec, withWatch), [{ type: OpCode.getData, request: { path: '/a' } }]);
  });

  void test('the terminator is any header with done=true, whatever its type and err', () => {
    assert.deepStrictEqual(decode(MultiRequestCodec, hex('00000001 01 00000000')), []);
    assert.deepStrictEqual(decode(MultiResponseCodec, hex('00000005 01 12345678')), []);
  });

  void test('a MultiResponse: header err is 0 for results and the code for errors', () => {
    const results: MultiResult[] = [
      { type: OpCode.create, path: '/a' },
      { type: OpCode.create2, path: '/b', stat: STAT },
      { type: OpCode.delete },
      { type: OpCode.setData, stat: STAT },
      { type: OpCode.check },
      { type: OpCode.getData, data: Buffer.from('x'), stat: STAT },
      { type: OpCode.getChildren, children: ['c'] },
      { type: OpCode.error, err: -110 },
    ];
    assertWire(
      MultiResponseCodec,
      results,
      '00000001 00 00000000' + hexString('/a') +
        '0000000f 00 00000000' + hexString('/b') + STAT_HEX +
        '00000002 00 00000000' +
        '00000005 00 00000000' + STAT_HEX +
        '0000000d 00 00000000' +
        '00000004 00 00000000' + '00000001 78' + STAT_HEX +
        '00000008 00 00000000' + '00000001' + hexString('c') +
        'ffffffff 00 ffffff92 ffffff92' +
        MULTI_END_HEX,
    );
  });

  void test('a failed multi: every result an ErrorResult (0 before, the failure, -2 after)', () => {
    const results: MultiResult[] = [
      { type: OpCode.error, err: 0 },
      { type: OpCode.error, err: -101 },
      { type: OpCode.error, err: -2 },
    ];
    assertWire(
      MultiResponseCodec,
      results,
      'ffffffff 00 00000000 00000000' + 'ffffffff 00 ffffff9b ffffff9b' + 'ffffffff 00 fffffffe fffffffe' + MULTI_END_HEX,
    );
  });

  void test('op types ZooKeeper does not allow in a multi are rejected with JuteDecodeError', () => {
    for (const type of [OpCode.setACL, OpCode.exists, OpCode.sync, OpCode.multi, OpCode.getChildren2, -1, 0, 9999]) {
      const header = Buffer.alloc(9);
      header.writeInt32BE(type, 0);
      header.writeInt32BE(-1, 5);
      const bytes = Buffer.concat([header, hex('00000002 2f61 00000000'), hex(MULTI_END_HEX)]);
      assert.throws(() => decode(MultiRequestCodec, bytes), JuteDecodeError, `request op type ${type}`);
    }
  });

  void test('MultiResponse accepts only the result types ZooKeeper writes (createContainer/createTTL report as create2)', () => {
    for (const type of [OpCode.createContainer, OpCode.createTTL, OpCode.setACL, OpCode.exists, OpCode.multi, 0, 9999]) {
      const header = Buffer.alloc(9);
      header.writeInt32BE(type, 0);
      const bytes = Buffer.concat([header, hex(hexString('/a') + STAT_HEX), hex(MULTI_END_HEX)]);
      assert.throws(() => decode(MultiResponseCodec, bytes), JuteDecodeError, `response type ${type}`);
    }
  });

  void test('a multi without its terminator is a JuteDecodeError', () => {
    assert.throws(() => decode(MultiRequestCodec, hex('00000001 00 ffffffff' + CREATE_A_HEX)), JuteDecodeError);
    assert.throws(() => decode(MultiResponseCodec, hex('00000002 00 00000000')), JuteDecodeError);
    assert.throws(() => decode(MultiRequestCodec, Buffer.alloc(0)), JuteDecodeError);
  });
});
