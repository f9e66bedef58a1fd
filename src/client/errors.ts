/**
 * The one error type the client rejects with: ZooKeeper's KeeperException code, by number
 * and by name, and the path the failed call was about.
 */
import { errorName } from '../jute/index.js';
import type { OpResult } from './types.js';

export class ZooKeeperError extends Error {
  /** KeeperException.Code as a number, e.g. -101. */
  readonly code: number;
  /** KeeperException.Code as a name, e.g. 'NoNode'. */
  readonly codeName: string;
  /** The path of the call (for multi: of the op that failed), when there was one. */
  readonly path: string | undefined;
  /** multi(): the result of every op, the failed one and those rolled back included. */
  readonly results: OpResult[] | undefined;

  constructor(code: number, path?: string, results?: OpResult[]) {
    const codeName = errorName(code);
    super(path === undefined || path === '' ? `KeeperErrorCode = ${codeName}` : `KeeperErrorCode = ${codeName} for ${path}`);
    this.name = 'ZooKeeperError';
    this.code = code;
    this.codeName = codeName;
    this.path = path === '' ? undefined : path;
    this.results = results;
  }
}
