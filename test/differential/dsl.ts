/** Short builders for hand-written scripts: `script(on(0, create('a')), on(1, getData('a', true)))`. */
import type { AclRef, ModeName, MultiOpSpec, Op, PathRef, Script, Step, VersionRef, WatcherTypeName } from './model.js';

export const script = (...steps: Step[]): Script => ({ steps });
/** Ops of session `s`; several ops are sent together (pipelined). */
export const on = (s: number, ...ops: Op[]): Step => ({ s, ops });

interface CreateOptions {
  data?: string;
  mode?: ModeName;
  acl?: AclRef;
}

export const create = (path: PathRef, options: CreateOptions = {}): Op => ({
  op: 'create',
  path,
  data: options.data ?? '',
  mode: options.mode ?? 'persistent',
  acl: options.acl ?? 'open',
});
export const create2 = (path: PathRef, options: CreateOptions = {}): Op => ({ ...(create(path, options) as Extract<Op, { op: 'create' }>), stat: true });
export const createRaw = (opCode: number, path: PathRef, flags: number, ttl?: number, acl: AclRef = 'open'): Op => ({ op: 'createRaw', opCode, path, flags, ttl, acl });
export const del = (path: PathRef, version: VersionRef = -1): Op => ({ op: 'delete', path, version });
export const exists = (path: PathRef, watch = false): Op => ({ op: 'exists', path, watch });
export const getData = (path: PathRef, watch = false): Op => ({ op: 'getData', path, watch });
export const getChildren = (path: PathRef, watch = false): Op => ({ op: 'getChildren', path, watch });
export const getChildren2 = (path: PathRef, watch = false): Op => ({ op: 'getChildren2', path, watch });
export const setData = (path: PathRef, data: string, version: VersionRef = -1): Op => ({ op: 'setData', path, data, version });
export const getACL = (path: PathRef): Op => ({ op: 'getACL', path });
export const setACL = (path: PathRef, acl: AclRef, version: VersionRef = -1): Op => ({ op: 'setACL', path, acl, version });
export const sync = (path: PathRef): Op => ({ op: 'sync', path });
export const multi = (...ops: MultiOpSpec[]): Op => ({ op: 'multi', ops });
export const multiRead = (...ops: MultiOpSpec[]): Op => ({ op: 'multiRead', ops });
export const getEphemerals = (path: PathRef): Op => ({ op: 'getEphemerals', path });
export const getAllChildrenNumber = (path: PathRef): Op => ({ op: 'getAllChildrenNumber', path });
export const addWatch = (path: PathRef, recursive = false): Op => ({ op: 'addWatch', path, recursive });
export const addWatchRaw = (path: PathRef, mode: number): Op => ({ op: 'addWatchRaw', path, mode });
export const removeWatches = (path: PathRef, type: WatcherTypeName | number): Op => ({ op: 'removeWatches', path, type });
export const checkWatches = (path: PathRef, type: WatcherTypeName | number): Op => ({ op: 'checkWatches', path, type });
export const whoAmI = (): Op => ({ op: 'whoAmI' });
export const addAuth = (auth: string, scheme = 'digest'): Op => ({ op: 'addAuth', scheme, auth });
export const reopen = (): Op => ({ op: 'reopen' });

/** Ops of a multi. */
export const m = {
  create: (path: PathRef, options: CreateOptions = {}): MultiOpSpec => ({
    op: 'create',
    path,
    data: options.data ?? '',
    mode: options.mode ?? 'persistent',
    acl: options.acl ?? 'open',
  }),
  create2: (path: PathRef, acl: AclRef = 'open'): MultiOpSpec => ({ op: 'create2', path, data: '', acl }),
  del: (path: PathRef, version: VersionRef = -1): MultiOpSpec => ({ op: 'delete', path, version }),
  setData: (path: PathRef, data: string, version: VersionRef = -1): MultiOpSpec => ({ op: 'setData', path, data, version }),
  check: (path: PathRef, version: VersionRef): MultiOpSpec => ({ op: 'check', path, version }),
  getData: (path: PathRef): MultiOpSpec => ({ op: 'getData', path }),
  getChildren: (path: PathRef): MultiOpSpec => ({ op: 'getChildren', path }),
};
