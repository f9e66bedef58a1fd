/**
 * fast-check generators of operation scripts: random mixes of every op on a small path space
 * (so creates collide, parents are missing, deletes hit NotEmpty), over up to three sessions,
 * with versions that are often right (`'v'`: the version this side last read for the path),
 * named ACLs (valid and invalid), multis with failing ops, one-shot and persistent watches,
 * credentials, and sessions that close (their ephemerals go) and reopen.
 *
 * Left out, on purpose (see README.md): a standalone `check` (Apache ZooKeeper 3.8.0 never
 * answers it).
 */
import fc from 'fast-check';
import { ALICE, BOB, INVALID_ACLS, MODES, VALID_ACLS } from './model.js';
import type { AclName, ModeName, MultiOpSpec, Op, PathRef, Script, Step, VersionRef, WatcherTypeName } from './model.js';

export interface GeneratorOptions {
  /** TTL modes in creates (the servers must run with extended types enabled). */
  ttl?: boolean;
  /** Ops to leave out, by name (for known, documented differences). */
  exclude?: readonly Op['op'][];
  /** Largest number of steps in a script. */
  maxSteps?: number;
}

const weighted = <T>(entries: [fc.Arbitrary<T>, number][]): fc.Arbitrary<T> =>
  fc.oneof(...entries.filter(([, weight]) => weight > 0).map(([arbitrary, weight]) => ({ arbitrary, weight })));

/**
 * Paths relative to the script root; invalid ones are rare. The empty path (`'^'`) only in
 * writes: ZooKeeper's DataTree also files the root under "", so a read of "" answers with
 * the Stat of "/" (a node every script shares, whose Stat is not compared). No characters
 * beyond the BMP (they are invalid in paths anyway): ZooKeeper's jute writes them as CESU-8,
 * so a sync would echo them garbled.
 */
const INVALID_PATHS: PathRef[] = ['a/', 'a//x', 'a/./x', 'a/../x', 'a/.', '.', '^a', 'a/\u0001', 'a\u007fb', 'a\ue000'];
const pathEntries: [fc.Arbitrary<PathRef>, number][] = [
  [fc.constant('a'), 8],
  [fc.constant('b'), 5],
  [fc.constant('a/x'), 5],
  [fc.constant('a/y'), 3],
  [fc.constant('b/x'), 3],
  [fc.constant('a/x/z'), 2],
  [fc.constant(''), 2],
  [fc.constant('@last'), 3],
  [fc.constantFrom(...INVALID_PATHS), 1],
];
const path: fc.Arbitrary<PathRef> = weighted(pathEntries);
const writePath: fc.Arbitrary<PathRef> = weighted([...pathEntries, [fc.constant('^'), 1]]);
/**
 * Where sequential creates go: a prefix, or a parent path with a trailing slash (not a bare
 * `@last`: with nothing created yet it is the root, and its sequential sibling would land in
 * "/", outside the script).
 */
const sequentialPath: fc.Arbitrary<PathRef> = fc.constantFrom('a/q-', 'q-', 'a/', 'a/x/', 'b/q-', '@last/');

const data = fc.constantFrom('', 'x', 'hello', 'a longer value, 0123456789');
const version: fc.Arbitrary<VersionRef> = weighted<VersionRef>([
  [fc.constant('v' as const), 8],
  [fc.constant(-1), 4],
  [fc.constant('v+1' as const), 2],
  [fc.constantFrom(0, 1, 2), 3],
]);
const acl: fc.Arbitrary<AclName> = weighted<AclName>([
  [fc.constant('open' as const), 12],
  [fc.constantFrom(...VALID_ACLS), 8],
  [fc.constantFrom(...INVALID_ACLS), 1],
]);

function modes(options: GeneratorOptions): fc.Arbitrary<ModeName> {
  const weights: Record<ModeName, number> = {
    persistent: 10,
    ephemeral: 4,
    persistentSequential: 2,
    ephemeralSequential: 2,
    container: 2,
    persistentWithTtl: options.ttl ? 1 : 0,
    persistentSequentialWithTtl: options.ttl ? 1 : 0,
  };
  return weighted(MODES.map((mode) => [fc.constant(mode), weights[mode]]));
}

function createOp(options: GeneratorOptions): fc.Arbitrary<Extract<Op, { op: 'create' }>> {
  return modes(options).chain((mode) =>
    fc.record({
      op: fc.constant('create' as const),
      path: mode.includes('Sequential') ? sequentialPath : writePath,
      data,
      mode: fc.constant(mode),
      acl,
      stat: fc.boolean(),
    }),
  );
}

function multiOp(options: GeneratorOptions): fc.Arbitrary<MultiOpSpec> {
  return weighted<MultiOpSpec>([
    [createOp(options).map(({ path: p, data: d, mode, acl: a }) => ({ op: 'create' as const, path: p, data: d, mode, acl: a })), 4],
    [fc.record({ op: fc.constant('delete' as const), path: writePath, version }), 3],
    [fc.record({ op: fc.constant('setData' as const), path: writePath, data, version }), 3],
    [fc.record({ op: fc.constant('check' as const), path: writePath, version }), 2],
  ]);
}

const readOp: fc.Arbitrary<MultiOpSpec> = fc.record({ op: fc.constantFrom('getData' as const, 'getChildren' as const), path });
/** WatcherType Persistent (4) and PersistentRecursive (5) came with ZooKeeper 3.9 (ZOOKEEPER-4472): 3.8 answers MarshallingError. */
const watcherType: fc.Arbitrary<WatcherTypeName> = fc.constantFrom('children', 'data', 'any');

/** One op of a step (not `reopen`, which is a step of its own). */
export function op(options: GeneratorOptions = {}): fc.Arbitrary<Op> {
  const excluded = new Set<string>(options.exclude ?? []);
  const all = weighted<Op>([
    [createOp(options), 14],
    [fc.record({ op: fc.constant('delete' as const), path: writePath, version }), 5],
    [fc.record({ op: fc.constantFrom('exists' as const, 'getData' as const, 'getChildren' as const, 'getChildren2' as const), path, watch: fc.boolean() }), 10],
    [fc.record({ op: fc.constant('setData' as const), path: writePath, data, version }), 6],
    [fc.record({ op: fc.constant('getACL' as const), path }), 2],
    [fc.record({ op: fc.constant('setACL' as const), path: writePath, acl, version }), 2],
    [fc.record({ op: fc.constant('sync' as const), path }), 1],
    [fc.record({ op: fc.constant('multi' as const), ops: fc.array(multiOp(options), { minLength: 0, maxLength: 4 }) }), 5],
    [fc.record({ op: fc.constant('multiRead' as const), ops: fc.array(readOp, { minLength: 0, maxLength: 3 }) }), 2],
    [fc.record({ op: fc.constant('getEphemerals' as const), path: fc.constantFrom('', 'a', '^/', 'a/q') }), 2],
    [fc.record({ op: fc.constant('getAllChildrenNumber' as const), path }), 1],
    [fc.record({ op: fc.constant('addWatch' as const), path, recursive: fc.boolean() }), 3],
    [fc.record({ op: fc.constantFrom('removeWatches' as const, 'checkWatches' as const), path, type: watcherType }), 3],
    [fc.constant({ op: 'whoAmI' as const }), 1],
    [fc.record({ op: fc.constant('addAuth' as const), scheme: fc.constant('digest'), auth: fc.constantFrom(ALICE, BOB) }), 2],
  ]);
  return excluded.size === 0 ? all : all.filter((o) => !excluded.has(o.op));
}

/** A one-shot watch, then (pipelined) a check or removal of it: removeWatches/checkWatches that find something. */
const watchThenRemove: fc.Arbitrary<Op[]> = fc
  .record({
    read: fc.constantFrom('exists' as const, 'getData' as const, 'getChildren' as const),
    path: fc.constantFrom('a', 'b', 'a/x', ''),
    then: fc.constantFrom('removeWatches' as const, 'checkWatches' as const),
    type: watcherType,
  })
  .map(({ read, path: p, then, type }): Op[] => [
    { op: read, path: p, watch: true },
    { op: then, path: p, type },
  ]);

export function step(options: GeneratorOptions = {}): fc.Arbitrary<Step> {
  const sessionIndex = fc.integer({ min: 0, max: 2 });
  return weighted<Step>([
    [fc.record({ s: sessionIndex, ops: op(options).map((o) => [o]) }), 20],
    [fc.record({ s: sessionIndex, ops: fc.array(op(options), { minLength: 2, maxLength: 4 }) }), 2],
    [fc.record({ s: sessionIndex, ops: watchThenRemove }), 1],
    [fc.record({ s: sessionIndex, ops: fc.constant([{ op: 'reopen' as const }]) }), options.exclude?.includes('reopen') ? 0 : 1],
  ]);
}

/** Nodes a script may start with (step 0 on session 0), so that fewer ops just fail with NoNode. */
const PRELUDES: Op[][] = [
  [],
  [{ op: 'create', path: 'a', data: '', mode: 'persistent', acl: 'open' }],
  [
    { op: 'create', path: 'a', data: '', mode: 'persistent', acl: 'open' },
    { op: 'create', path: 'b', data: 'x', mode: 'persistent', acl: 'open' },
  ],
  [
    { op: 'create', path: 'a', data: '', mode: 'persistent', acl: 'open' },
    { op: 'create', path: 'a/x', data: '', mode: 'persistent', acl: 'open' },
    { op: 'create', path: 'b', data: 'x', mode: 'persistent', acl: 'open' },
  ],
];

export function script(options: GeneratorOptions = {}): fc.Arbitrary<Script> {
  return fc
    .record({
      prelude: fc.integer({ min: 0, max: PRELUDES.length - 1 }),
      steps: fc.array(step(options), { minLength: 1, maxLength: options.maxSteps ?? 40, size: 'medium' }),
    })
    .map(({ prelude, steps }) => ({ steps: prelude === 0 ? steps : [{ s: 0, ops: PRELUDES[prelude]! }, ...steps] }))
    .map(avoidZooKeeper38Quirks);
}

/** Per session slot (a reopened slot starts afresh): paths with one-shot watches, and persistent watches by path (true: recursive). */
interface SlotWatches {
  standard: Set<string>;
  persistent: Map<string, boolean>;
}

/** `@last` may name any path, so it counts as every path. */
const samePath = (a: string, b: string): boolean => a === b || a.startsWith('@last') || b.startsWith('@last');
const anySamePath = (path: string, paths: Iterable<string>): boolean => {
  for (const other of paths) if (samePath(path, other)) return true;
  return false;
};

/**
 * Rewrites a script so that it stays away from what Apache ZooKeeper 3.8.0 gets wrong or does
 * differently from 3.9 (which Paddock follows); see README.md, "Excluded from comparison":
 *
 * 1. Watch modes mixed on one path by one session. 3.8 keeps one mode per (session, path): a
 *    one-shot watch set after a persistent one makes it one-shot, a second addWatch replaces
 *    the first one's mode, and removeWatches/checkWatches of type children/data/any find and
 *    remove persistent watches too (3.9: ZOOKEEPER-4466, ZOOKEEPER-4472). So in a session a
 *    path gets either one-shot watches (and removeWatches/checkWatches) or persistent watches
 *    of one mode; a read that would mix keeps its read and loses its watch, other ops go.
 * 2. checkWatches on a path another session watches or watched: 3.8's
 *    WatchManager.containsWatcher answers true when any session watches the path.
 * 3. checkWatches on a relative path ("a"): 3.8 walks its parents with lastIndexOf('/') and
 *    answers MarshallingError from the StringIndexOutOfBoundsException.
 * 4. An op pipelined after a setACL: ZooKeeper (3.8 and 3.9) prepares it against the node's
 *    old ACL while the setACL is in flight (PrepRequestProcessor keeps the old ACL in the
 *    setACL's ChangeRecord), and against the new one once it is applied: a race. A setACL
 *    ends its pipelined step.
 */
export function avoidZooKeeper38Quirks(input: Script): Script {
  const slots = new Map<number, SlotWatches>();
  const watchedBy = new Map<string, Set<number>>();
  const noteWatched = (path: string, slot: number): void => {
    watchedBy.set(path, (watchedBy.get(path) ?? new Set<number>()).add(slot));
  };
  const watchedByOthers = (path: string, slot: number): boolean =>
    [...watchedBy].some(([other, by]) => samePath(path, other) && [...by].some((s) => s !== slot));
  const steps: Step[] = [];
  for (const original of input.steps) {
    if (original.ops.some((o) => o.op === 'reopen')) {
      slots.delete(original.s);
      steps.push(original);
      continue;
    }
    let watches = slots.get(original.s);
    if (!watches) slots.set(original.s, (watches = { standard: new Set(), persistent: new Map() }));
    const ops: Op[] = [];
    for (const o of original.ops) {
      const kept = keepOp(o, original.s, watches, watchedByOthers);
      if (!kept) continue;
      ops.push(kept);
      if (kept.op === 'addWatch' || ((kept.op === 'exists' || kept.op === 'getData' || kept.op === 'getChildren' || kept.op === 'getChildren2') && kept.watch)) {
        noteWatched(kept.path, original.s);
      }
      if (kept.op === 'setACL') break;
    }
    if (ops.length > 0) steps.push({ s: original.s, ops });
  }
  return { steps: steps.length > 0 ? steps : [{ s: 0, ops: [{ op: 'sync', path: '' }] }] };
}

/** The op as rule 1–3 of avoidZooKeeper38Quirks leave it (null: dropped); records its watches. */
function keepOp(o: Op, slot: number, watches: SlotWatches, watchedByOthers: (path: string, slot: number) => boolean): Op | null {
  const { standard, persistent } = watches;
  switch (o.op) {
    case 'exists':
    case 'getData':
    case 'getChildren':
    case 'getChildren2':
      if (!o.watch) return o;
      if (anySamePath(o.path, persistent.keys())) return { ...o, watch: false };
      standard.add(o.path);
      return o;
    case 'removeWatches':
    case 'checkWatches':
      if (anySamePath(o.path, persistent.keys())) return null;
      if (o.op === 'checkWatches' && (watchedByOthers(o.path, slot) || (o.path.startsWith('^') && !o.path.startsWith('^/')))) return null;
      standard.add(o.path);
      return o;
    case 'addWatch': {
      const others = [...persistent].filter(([path, recursive]) => !(path === o.path && recursive === o.recursive)).map(([path]) => path);
      if (anySamePath(o.path, standard) || anySamePath(o.path, others)) return null;
      persistent.set(o.path, o.recursive);
      return o;
    }
    default:
      return o;
  }
}
