/**
 * Transactions: the only inputs that change a DataTree. The shapes follow ZooKeeper's
 * txn records (CreateTxn, DeleteTxn, SetDataTxn, ...) so that they can be logged and
 * replicated as they are; `type` is the ZooKeeper op code of the txn.
 */
import type { ACL } from '../jute/index.js';
import { OpCode } from '../jute/index.js';

export type TxnBody =
  | {
      type: typeof OpCode.create;
      path: string;
      data: Buffer;
      acl: ACL[];
      /** 0 for persistent, the session id for ephemerals (containers/TTL encode here too). */
      ephemeralOwner: bigint;
      /** The parent's cversion after this create. */
      parentCVersion: number;
    }
  | { type: typeof OpCode.delete; path: string }
  | { type: typeof OpCode.setData; path: string; data: Buffer; version: number }
  | { type: typeof OpCode.setACL; path: string; acl: ACL[]; version: number }
  | { type: typeof OpCode.check; path: string; version: number }
  | { type: typeof OpCode.createSession; timeoutMs: number }
  | { type: typeof OpCode.closeSession }
  | { type: typeof OpCode.error; err: number }
  | { type: typeof OpCode.multi; ops: TxnBody[] };

export interface Txn {
  sessionId: bigint;
  cxid: number;
  zxid: bigint;
  timeMs: number;
  body: TxnBody;
}
