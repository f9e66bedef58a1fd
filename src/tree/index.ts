export { DataTree, OPEN_ACL_UNSAFE, statOf } from './datatree.js';
export type { ZNode, TreeEvent, ApplyResult, NodeRecord } from './datatree.js';
export type { Txn, TxnBody } from './txn.js';
export { invalidPathReason, isValidPath, parentOf, baseName, childPath, sequenceSuffix } from './paths.js';
export { encodeTxn, decodeTxn, writeTxn, readTxn } from './txn-codec.js';
export { CONTAINER_OWNER, MAX_TTL_MS, ownerKind, ttlOwner, ttlOf } from './ephemeral.js';
export type { OwnerKind } from './ephemeral.js';
