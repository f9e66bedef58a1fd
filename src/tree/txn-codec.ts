/**
 * Bytes of a txn, for the transaction log and for replication: a TxnHeader (as ZooKeeper's:
 * clientId, cxid, zxid, time, type) followed by the body record of its type.
 */
import { ACLCodec, JuteDecodeError, JuteReader, JuteWriter, OpCode } from '../jute/index.js';
import type { ACL } from '../jute/index.js';
import type { Txn, TxnBody } from './txn.js';

const readAcls = (r: JuteReader): ACL[] => r.readVector(ACLCodec.read);
const writeAcls = (w: JuteWriter, acl: readonly ACL[]): void => void w.writeVector(acl, ACLCodec.write);

export function writeTxn(writer: JuteWriter, txn: Txn): void {
  writer.writeLong(txn.sessionId).writeInt(txn.cxid).writeLong(txn.zxid).writeLong(BigInt(txn.timeMs));
  writeBody(writer, txn.body);
}

function writeBody(w: JuteWriter, body: TxnBody): void {
  w.writeInt(body.type);
  switch (body.type) {
    case OpCode.create:
      w.writeString(body.path).writeBuffer(body.data);
      writeAcls(w, body.acl);
      w.writeLong(body.ephemeralOwner).writeInt(body.parentCVersion);
      return;
    case OpCode.delete:
      w.writeString(body.path);
      return;
    case OpCode.setData:
      w.writeString(body.path).writeBuffer(body.data).writeInt(body.version);
      return;
    case OpCode.setACL:
      w.writeString(body.path);
      writeAcls(w, body.acl);
      w.writeInt(body.version);
      return;
    case OpCode.check:
      w.writeString(body.path).writeInt(body.version);
      return;
    case OpCode.createSession:
      w.writeInt(body.timeoutMs);
      return;
    case OpCode.closeSession:
      return;
    case OpCode.error:
      w.writeInt(body.err);
      return;
    case OpCode.multi:
      w.writeInt(body.ops.length);
      for (const op of body.ops) writeBody(w, op);
      return;
  }
}

export function readTxn(reader: JuteReader): Txn {
  const sessionId = reader.readLong();
  const cxid = reader.readInt();
  const zxid = reader.readLong();
  const timeMs = Number(reader.readLong());
  return { sessionId, cxid, zxid, timeMs, body: readBody(reader, 0) };
}

const MAX_MULTI_DEPTH = 1;

function readBody(r: JuteReader, depth: number): TxnBody {
  const type = r.readInt();
  switch (type) {
    case OpCode.create:
      return {
        type,
        path: r.readText(),
        data: Buffer.from(r.readBuffer() ?? Buffer.alloc(0)),
        acl: readAcls(r),
        ephemeralOwner: r.readLong(),
        parentCVersion: r.readInt(),
      };
    case OpCode.delete:
      return { type, path: r.readText() };
    case OpCode.setData:
      return { type, path: r.readText(), data: Buffer.from(r.readBuffer() ?? Buffer.alloc(0)), version: r.readInt() };
    case OpCode.setACL:
      return { type, path: r.readText(), acl: readAcls(r), version: r.readInt() };
    case OpCode.check:
      return { type, path: r.readText(), version: r.readInt() };
    case OpCode.createSession:
      return { type, timeoutMs: r.readInt() };
    case OpCode.closeSession:
      return { type };
    case OpCode.error:
      return { type, err: r.readInt() };
    case OpCode.multi: {
      if (depth >= MAX_MULTI_DEPTH) throw new JuteDecodeError('nested multi txn', r.position);
      const count = r.readInt();
      if (count < 0 || count > r.remaining) throw new JuteDecodeError(`bad multi op count ${count}`, r.position);
      const ops: TxnBody[] = [];
      for (let i = 0; i < count; i++) ops.push(readBody(r, depth + 1));
      return { type, ops };
    }
    default:
      throw new JuteDecodeError(`unknown txn type ${type}`, r.position);
  }
}

export function encodeTxn(txn: Txn): Buffer {
  const writer = new JuteWriter();
  writeTxn(writer, txn);
  return writer.toBuffer();
}

export function decodeTxn(bytes: Buffer): Txn {
  const reader = new JuteReader(bytes);
  const txn = readTxn(reader);
  if (reader.remaining !== 0) throw new JuteDecodeError(`${reader.remaining} trailing bytes after txn`, reader.position);
  return txn;
}
