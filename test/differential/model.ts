/**
 * Operation scripts of the differential suite: what a script is, how its symbolic parts
 * (paths under the script's own root, "the version last read", named ACLs) are written, and
 * how a script prints (the form a mismatch report shows).
 *
 * A script runs on 1–3 sessions of its own under its own root znode (`/s<N>`), so scripts
 * sharing a server never see each other's nodes, watches or ephemerals.
 */
import { createHash } from 'node:crypto';
import { Perm } from '../../src/client/index.js';
import type { ACL } from '../../src/client/index.js';

/**
 * A path as a script writes it:
 * - `''` is the script's root, `'a/x'` is `<root>/a/x` (also when invalid: `'a//x'` is `<root>/a//x`);
 * - `'^…'` is taken as written, outside the root (`'^/zookeeper'`, `'^'` is the empty path);
 * - `'@last'` is the last path a create on this side returned (the root when none);
 *   `'@last/'` is that path with a slash (a sequential create under it).
 */
export type PathRef = string;

/** A version as a script writes it: a number, or the version last read for that path (`'v'`) plus one (`'v+1'`). */
export type VersionRef = number | 'v' | 'v+1';

export const MODES = [
  'persistent',
  'ephemeral',
  'persistentSequential',
  'ephemeralSequential',
  'container',
  'persistentWithTtl',
  'persistentSequentialWithTtl',
] as const;
export type ModeName = (typeof MODES)[number];

export const WATCHER_TYPES = { children: 1, data: 2, any: 3, persistent: 4, persistentRecursive: 5 } as const;
export type WatcherTypeName = keyof typeof WATCHER_TYPES;

/** TTL of the TTL modes: long enough that no TTL node expires while the suite runs. */
export const TTL_MS = 3_600_000;

export function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

/** Credentials a script may add: addAuth('digest', 'alice:secret') makes the session digest:alice:<hash>. */
export const ALICE = 'alice:secret';
export const BOB = 'bob:secret';

const world = (perms: number): ACL => ({ perms, id: { scheme: 'world', id: 'anyone' } });
const id = (scheme: string, value: string, perms: number = Perm.ALL): ACL => ({ perms, id: { scheme, id: value } });
const ALL = Perm.ALL;

/** Named ACLs scripts use (valid ones, then ones ZooKeeper refuses with InvalidACL). */
export const ACLS = {
  open: [world(ALL)],
  read: [world(Perm.READ)],
  noRead: [world(ALL & ~Perm.READ)],
  noWrite: [world(ALL & ~Perm.WRITE)],
  noCreate: [world(ALL & ~Perm.CREATE)],
  noDelete: [world(ALL & ~Perm.DELETE)],
  noAdmin: [world(ALL & ~Perm.ADMIN)],
  none: [world(0)],
  creator: [id('auth', '')],
  creatorNamed: [id('auth', 'ignored', Perm.READ | Perm.WRITE | Perm.ADMIN)],
  alice: [id('digest', digestId('alice', 'secret'))],
  aliceOrWorldRead: [id('digest', digestId('alice', 'secret')), world(Perm.READ)],
  bob: [id('digest', digestId('bob', 'secret'), Perm.READ | Perm.ADMIN)],
  ip: [id('ip', '127.0.0.1')],
  cidr: [id('ip', '127.0.0.0/8', Perm.READ | Perm.CREATE | Perm.DELETE | Perm.ADMIN)],
  ipOther: [id('ip', '10.1.2.3')],
  cidrOther: [id('ip', '10.0.0.0/8'), world(Perm.READ)],
  duplicate: [world(Perm.READ), world(ALL)],
  // InvalidACL
  empty: [],
  worldBob: [id('world', 'bob')],
  digestNoColon: [id('digest', 'alice')],
  ipBad: [id('ip', '300.1.2.3')],
  cidrBad: [id('ip', '127.0.0.1/33')],
  unknownScheme: [id('bogus', 'x')],
} satisfies Record<string, ACL[]>;
export type AclName = keyof typeof ACLS;
/** A named ACL, or an explicit list (for the hand-written ACL edge cases). */
export type AclRef = AclName | ACL[];

export function resolveAcl(acl: AclRef): ACL[] {
  return typeof acl === 'string' ? [...ACLS[acl]] : acl;
}

const showAclRef = (acl: AclRef): string =>
  typeof acl === 'string' ? acl : `[${acl.map((entry) => `${entry.id.scheme}:${entry.id.id}=${entry.perms}`).join(', ')}]`;
export const VALID_ACLS: AclName[] = [
  'open', 'read', 'noRead', 'noWrite', 'noCreate', 'noDelete', 'noAdmin', 'none', 'creator', 'creatorNamed',
  'alice', 'aliceOrWorldRead', 'bob', 'ip', 'cidr', 'ipOther', 'cidrOther', 'duplicate',
];
export const INVALID_ACLS: AclName[] = ['empty', 'worldBob', 'digestNoColon', 'ipBad', 'cidrBad', 'unknownScheme'];

/** An op of a multi (op 14). `create2` sends op code 15 (3.8.0 does not know it in a multi). */
export type MultiOpSpec =
  | { op: 'create'; path: PathRef; data: string; mode: ModeName; acl: AclRef }
  | { op: 'create2'; path: PathRef; data: string; acl: AclRef }
  | { op: 'delete'; path: PathRef; version: VersionRef }
  | { op: 'setData'; path: PathRef; data: string; version: VersionRef }
  | { op: 'check'; path: PathRef; version: VersionRef }
  | { op: 'getData'; path: PathRef }
  | { op: 'getChildren'; path: PathRef };

export type Op =
  | { op: 'create'; path: PathRef; data: string; mode: ModeName; acl: AclRef; stat?: boolean }
  /** A create exactly as given on the wire (op code, flags, TTL), for what no client sends. */
  | { op: 'createRaw'; opCode: number; path: PathRef; flags: number; ttl?: number; acl: AclRef; data?: string }
  | { op: 'delete'; path: PathRef; version: VersionRef }
  | { op: 'exists' | 'getData' | 'getChildren' | 'getChildren2'; path: PathRef; watch: boolean }
  | { op: 'setData'; path: PathRef; data: string; version: VersionRef }
  | { op: 'getACL'; path: PathRef }
  | { op: 'setACL'; path: PathRef; acl: AclRef; version: VersionRef }
  | { op: 'check'; path: PathRef; version: VersionRef }
  | { op: 'sync'; path: PathRef }
  | { op: 'multi'; ops: MultiOpSpec[] }
  | { op: 'multiRead'; ops: MultiOpSpec[] }
  | { op: 'getEphemerals'; path: PathRef }
  | { op: 'getAllChildrenNumber'; path: PathRef }
  | { op: 'addWatch'; path: PathRef; recursive: boolean }
  /** AddWatchRequest with any mode number (0 and 1 are the valid ones). */
  | { op: 'addWatchRaw'; path: PathRef; mode: number }
  | { op: 'removeWatches' | 'checkWatches'; path: PathRef; type: WatcherTypeName | number }
  | { op: 'whoAmI' }
  | { op: 'addAuth'; scheme: string; auth: string }
  /** Closes the session (its ephemerals go) and opens a new one in the same slot. */
  | { op: 'reopen' };

/** One step: ops of one session, sent together (pipelined) when there are several. */
export interface Step {
  s: number;
  ops: Op[];
}

export interface Script {
  steps: Step[];
  /** Sessions opened at the start (default: 1 + the largest session index the steps use). */
  sessions?: number;
}

export function sessionCount(script: Script): number {
  return Math.max(script.sessions ?? 1, ...script.steps.map((step) => step.s + 1));
}

// ---- printing ----

const q = (text: string): string => JSON.stringify(text);
const showPath = (path: PathRef): string => (path === '' ? '<root>' : path.startsWith('^') ? q(path.slice(1)) : /^[\w@/.-]+$/.test(path) ? path : q(path));
const showVersion = (version: VersionRef): string => `v=${String(version)}`;

function showMultiOp(op: MultiOpSpec): string {
  switch (op.op) {
    case 'create':
      return `create ${showPath(op.path)} ${q(op.data)} ${op.mode} acl=${showAclRef(op.acl)}`;
    case 'create2':
      return `create2 ${showPath(op.path)} ${q(op.data)} acl=${showAclRef(op.acl)}`;
    case 'delete':
    case 'check':
      return `${op.op} ${showPath(op.path)} ${showVersion(op.version)}`;
    case 'setData':
      return `setData ${showPath(op.path)} ${q(op.data)} ${showVersion(op.version)}`;
    case 'getData':
    case 'getChildren':
      return `${op.op} ${showPath(op.path)}`;
  }
}

export function showOp(op: Op): string {
  switch (op.op) {
    case 'create':
      return `${op.stat ? 'create2' : 'create'} ${showPath(op.path)} ${q(op.data)} ${op.mode} acl=${showAclRef(op.acl)}`;
    case 'createRaw':
      return `createRaw op=${op.opCode} ${showPath(op.path)} flags=${op.flags}${op.ttl === undefined ? '' : ` ttl=${op.ttl}`} acl=${showAclRef(op.acl)}`;
    case 'delete':
    case 'check':
      return `${op.op} ${showPath(op.path)} ${showVersion(op.version)}`;
    case 'exists':
    case 'getData':
    case 'getChildren':
    case 'getChildren2':
      return `${op.op} ${showPath(op.path)}${op.watch ? ' watch' : ''}`;
    case 'setData':
      return `setData ${showPath(op.path)} ${q(op.data)} ${showVersion(op.version)}`;
    case 'getACL':
    case 'sync':
    case 'getEphemerals':
    case 'getAllChildrenNumber':
      return `${op.op} ${showPath(op.path)}`;
    case 'setACL':
      return `setACL ${showPath(op.path)} acl=${showAclRef(op.acl)} ${showVersion(op.version)}`;
    case 'multi':
    case 'multiRead':
      return `${op.op} [${op.ops.map(showMultiOp).join('; ')}]`;
    case 'addWatch':
      return `addWatch ${showPath(op.path)} ${op.recursive ? 'persistentRecursive' : 'persistent'}`;
    case 'addWatchRaw':
      return `addWatch ${showPath(op.path)} mode=${op.mode}`;
    case 'removeWatches':
    case 'checkWatches':
      return `${op.op} ${showPath(op.path)} ${String(op.type)}`;
    case 'whoAmI':
    case 'reopen':
      return op.op;
    case 'addAuth':
      return `addAuth ${op.scheme} ${q(op.auth)}`;
  }
}

export function showStep(step: Step): string {
  const ops = step.ops.map(showOp);
  return `s${step.s}: ${ops.length === 1 ? ops[0] : `pipelined [${ops.join(' | ')}]`}`;
}

/** The script, one step a line, numbered as the mismatch report numbers them. */
export function showScript(script: Script): string {
  const lines = script.steps.map((step, index) => `  #${index} ${showStep(step)}`);
  return `sessions: ${sessionCount(script)}\n${lines.join('\n')}`;
}

/** The script as TypeScript, to paste into a regression test. */
export function scriptSource(script: Script): string {
  return JSON.stringify(script);
}
