export { Storage, STORAGE_SUBDIR, storageDirs } from './storage.js';
export type { StorageOptions } from './storage.js';
export { nodeFileSystem } from './fs.js';
export type { FileSystem, StorageFile } from './fs.js';
export { TxnLog, scanSegment, listSegments, segmentName, parseSegmentName, LogCorruptError, encodeRecord, SEGMENT_HEADER_BYTES } from './txnlog.js';
export { writeSnapshot, readSnapshot, listSnapshots, snapshotName, verifySnapshotBytes, SnapshotCorruptError } from './snapshot.js';
export { recover, RecoveryError } from './recovery.js';
export type { Recovered } from './recovery.js';
export { purge } from './purge.js';
