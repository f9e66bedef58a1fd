/**
 * What the simulated clients do: a table of operations with weights over a small key space,
 * so that conflicts are frequent. Adjust `DEFAULT_MIX` and `LAYOUT` (or pass your own to
 * runSimulation) to change the mix and the keys.
 *
 * Layout: plain keys /k0../k11 (created at setup, then set, deleted and re-created) in groups
 * of three: a multi only touches keys of one group, so that the linearizability checker can
 * split the history into small independent partitions (one per group) and prove each one;
 * ephemerals under /e (fixed names in two groups, one per half of the writer slots, so creates conflict), sequentials under /s, containers
 * under /c, TTL nodes under /t (only with extended types enabled).
 */
import type { Op } from './history.js';
import type { Prng } from './kernel.js';

export interface Layout {
  /** Plain persistent keys, created at setup. */
  keys: string[];
  /** Keys a multi may combine (each key in one group); a multi stays inside one group. */
  keyGroups: string[][];
  /** Parents created at setup. */
  parents: string[];
  /** Ephemeral names (under /e). */
  ephemerals: string[];
  /**
   * The ephemeral names a writer slot uses: slot i uses group i mod length. A session's close
   * (or expiry) joins all its ephemerals into one partition of the linearizability search;
   * disjoint groups keep those partitions small while names still conflict within a group.
   */
  ephemeralGroups: string[][];
  sequentialParent: string;
  containerParent: string;
  ttlParent: string;
}

const KEY_GROUPS = [0, 1, 2, 3].map((g) => [0, 1, 2].map((i) => `/k${3 * g + i}`));

export const LAYOUT: Layout = {
  keys: KEY_GROUPS.flat(),
  keyGroups: KEY_GROUPS,
  parents: ['/e', '/s', '/c', '/t'],
  ephemerals: ['/e/a0', '/e/a1', '/e/a2', '/e/b0', '/e/b1', '/e/b2'],
  ephemeralGroups: [
    ['/e/a0', '/e/a1', '/e/a2'],
    ['/e/b0', '/e/b1', '/e/b2'],
  ],
  sequentialParent: '/s',
  containerParent: '/c',
  ttlParent: '/t',
};

/** What a generator knows: the run's PRNG, the layout, and what this client has seen. */
export interface GenContext {
  prng: Prng;
  layout: Layout;
  /** A unique value for data written by this op. */
  value: string;
  /** Versions this client last saw, by path (for conditional writes). */
  versions: Map<string, number>;
  /** Sequential names this client created (for deletes). */
  created: string[];
  /** The writer slot's index (picks its ephemeral group). */
  slot: number;
  extendedTypes: boolean;
}

export type OpName =
  | 'createKey'
  | 'createEphemeral'
  | 'createSequential'
  | 'createEphemeralSequential'
  | 'createContainer'
  | 'createTtl'
  | 'setData'
  | 'setDataIfVersion'
  | 'delete'
  | 'deleteIfVersion'
  | 'deleteEphemeral'
  | 'deleteSequential'
  | 'getData'
  | 'exists'
  | 'getChildren'
  | 'syncRead'
  | 'multi'
  | 'closeSession';

export type Mix = Partial<Record<OpName, number>>;

export const DEFAULT_MIX: Mix = {
  createKey: 6,
  createEphemeral: 3,
  createSequential: 3,
  createEphemeralSequential: 2,
  createContainer: 1,
  createTtl: 1,
  setData: 14,
  setDataIfVersion: 10,
  delete: 3,
  deleteIfVersion: 3,
  deleteEphemeral: 2,
  deleteSequential: 2,
  getData: 14,
  exists: 6,
  getChildren: 5,
  syncRead: 8,
  multi: 6,
  closeSession: 0.4,
};

/** What reader clients do: linearizable reads mostly, and some plain ones. */
export const READ_MIX: Mix = { syncRead: 6, getData: 3, exists: 1 };

type Gen = (c: GenContext) => Op | null;

const key = (c: GenContext) => c.prng.pick(c.layout.keys);
const ephemeral = (c: GenContext) => c.prng.pick(c.layout.ephemeralGroups[c.slot % c.layout.ephemeralGroups.length]!);
const versionFor = (c: GenContext, path: string) => {
  const seen = c.versions.get(path);
  // Mostly the version last seen (may be stale: a conflict), sometimes a guess.
  return seen !== undefined && c.prng.chance(0.8) ? seen : c.prng.int(4);
};

function multiOps(c: GenContext): Extract<Op, { type: 'multi' }>['ops'] {
  const count = 1 + c.prng.int(3);
  const ops: Extract<Op, { type: 'multi' }>['ops'] = [];
  const group = c.prng.pick(c.layout.keyGroups);
  for (let i = 0; i < count; i++) {
    const path = c.prng.pick(group);
    switch (c.prng.int(4)) {
      case 0:
        ops.push({ type: 'create', path, data: `${c.value}.${i}`, mode: 'persistent' });
        break;
      case 1:
        ops.push({ type: 'setData', path, data: `${c.value}.${i}`, version: c.prng.chance(0.5) ? -1 : versionFor(c, path) });
        break;
      case 2:
        ops.push({ type: 'delete', path, version: c.prng.chance(0.5) ? -1 : versionFor(c, path) });
        break;
      default:
        ops.push({ type: 'check', path, version: versionFor(c, path) });
    }
  }
  return ops;
}

export const GENERATORS: Record<OpName, Gen> = {
  createKey: (c) => ({ type: 'create', path: key(c), data: c.value, mode: 'persistent' }),
  createEphemeral: (c) => ({ type: 'create', path: ephemeral(c), data: c.value, mode: 'ephemeral' }),
  createSequential: (c) => ({ type: 'create', path: `${c.layout.sequentialParent}/q-`, data: c.value, mode: 'persistent_sequential' }),
  createEphemeralSequential: (c) => ({ type: 'create', path: `${c.layout.sequentialParent}/eq-`, data: c.value, mode: 'ephemeral_sequential' }),
  createContainer: (c) => ({ type: 'create', path: `${c.layout.containerParent}/box${c.prng.int(2)}`, data: c.value, mode: 'container' }),
  createTtl: (c) => (c.extendedTypes ? { type: 'create', path: `${c.layout.ttlParent}/ttl${c.prng.int(2)}`, data: c.value, mode: 'ttl' } : null),
  setData: (c) => ({ type: 'setData', path: key(c), data: c.value, version: -1 }),
  setDataIfVersion: (c) => {
    const path = key(c);
    return { type: 'setData', path, data: c.value, version: versionFor(c, path) };
  },
  delete: (c) => ({ type: 'delete', path: key(c), version: -1 }),
  deleteIfVersion: (c) => {
    const path = key(c);
    return { type: 'delete', path, version: versionFor(c, path) };
  },
  deleteEphemeral: (c) => ({ type: 'delete', path: ephemeral(c), version: -1 }),
  deleteSequential: (c) => (c.created.length === 0 ? null : { type: 'delete', path: c.created.splice(c.prng.int(c.created.length), 1)[0]!, version: -1 }),
  getData: (c) => ({ type: 'getData', path: c.prng.chance(0.8) ? key(c) : c.prng.pick(c.layout.ephemerals), watch: c.prng.chance(0.5) }),
  exists: (c) => ({ type: 'exists', path: c.prng.chance(0.7) ? key(c) : c.prng.pick(c.layout.ephemerals), watch: c.prng.chance(0.5) }),
  getChildren: (c) => ({ type: 'getChildren', path: c.prng.pick(['/', '/e', c.layout.sequentialParent]), watch: c.prng.chance(0.5) }),
  syncRead: (c) => ({ type: 'syncRead', path: key(c) }),
  multi: (c) => ({ type: 'multi', ops: multiOps(c) }),
  closeSession: () => ({ type: 'closeSession' }),
};

/** The next op of a client, drawn from `mix` (generators that have nothing to do are redrawn). */
export function nextOp(mix: Mix, c: GenContext): Op {
  const table = (Object.entries(mix) as Array<[OpName, number]>).filter(([, w]) => w > 0).map(([name, w]) => [w, name] as const);
  for (let tries = 0; tries < 10; tries++) {
    const op = GENERATORS[c.prng.weighted(table)](c);
    if (op) return op;
  }
  return { type: 'getData', path: key(c), watch: false };
}

/** Every path the final reads cover: the keys and the ephemerals. */
/**
 * The layout of round `round` of a long run: round 0 is `base`, later rounds the same names
 * under /r<round>. Clients move to a fresh round every few virtual seconds, so each partition
 * of the linearizability search holds one round's ops and stays small however long the run.
 */
export function roundLayout(base: Layout, round: number): Layout {
  if (round === 0) return base;
  const root = `/r${round}`;
  const at = (path: string): string => `${root}${path}`;
  return {
    keys: base.keys.map(at),
    keyGroups: base.keyGroups.map((group) => group.map(at)),
    parents: [root, ...base.parents.map(at)],
    ephemerals: base.ephemerals.map(at),
    ephemeralGroups: base.ephemeralGroups.map((group) => group.map(at)),
    sequentialParent: at(base.sequentialParent),
    containerParent: at(base.containerParent),
    ttlParent: at(base.ttlParent),
  };
}

/** Where a layout's ephemerals live (their common parent). */
export function ephemeralParent(layout: Layout): string {
  const first = layout.ephemerals[0] ?? '/e/x';
  return first.slice(0, first.lastIndexOf('/')) || '/';
}

export function finalReadPaths(layout: Layout): string[] {
  return [...layout.keys, ...layout.ephemerals];
}
