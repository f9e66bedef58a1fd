/**
 * Known Paddock bugs the generated suite works around, each as narrowly as possible, so that
 * it stays green and keeps guarding everything else:
 *
 * - KNOWN_DIFFERENCES: a predicate on one op's two outcomes; a step whose events are equal and
 *   whose differing outcomes are all explained is let pass (the suite reports how often);
 * - KNOWN_BUG_AVOIDANCE: a rewrite of generated scripts that keeps them away from a bug whose
 *   effect (on watch events, say) no outcome predicate can pin down.
 *
 * Every entry is a Paddock bug with a failing regression test in regressions.test.ts (marked
 * `todo`, so the suite stays green until it is fixed). When Paddock is fixed, that test passes
 * (node reports the todo as passing): then delete the entry here, so the generated suite
 * guards the fix.
 */
import type { AclName, AclRef, Op, Script } from './model.js';

export interface KnownDifference {
  /** The regression test's title in regressions.test.ts. */
  readonly id: string;
  /** True when this op's two outcomes differ exactly as the bug makes them differ. */
  explains(op: Op, paddock: string, zookeeper: string): boolean;
}

/** None left: every outcome difference the suite used to tolerate has been fixed. */
export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [];

export interface KnownBugAvoidance {
  /** The regression test's title in regressions.test.ts. */
  readonly id: string;
  /** `coin`: a generated boolean, for a rewrite that has to choose between two ways. */
  rewrite(script: Script, coin: boolean): Script;
}

/** ACLs that deny READ to some session of a script (all connect from 127.0.0.1, some add alice or bob). */
const NOT_READABLE_BY_ALL: ReadonlySet<AclName> = new Set<AclName>(['noRead', 'none', 'creator', 'creatorNamed', 'alice', 'bob', 'ipOther']);

const WATCHING_OPS = new Set(['addWatch', 'addWatchRaw']);
const setsWatch = (op: Op): boolean => WATCHING_OPS.has(op.op) || ('watch' in op && op.watch);

const deniesReadToSome = (acl: AclRef): boolean => typeof acl === 'string' && NOT_READABLE_BY_ALL.has(acl);

/** The ACLs an op sets. */
function aclsOf(op: Op): AclRef[] {
  if (op.op === 'create' || op.op === 'setACL' || op.op === 'createRaw') return [op.acl];
  if (op.op === 'multi') return op.ops.flatMap((m) => (m.op === 'create' || m.op === 'create2' ? [m.acl] : []));
  return [];
}

/** `script` without watches: reads lose their watch flag, watch ops go. */
function withoutWatches(script: Script): Script {
  const steps = script.steps
    .map((step) => ({
      ...step,
      ops: step.ops
        .filter((op) => !WATCHING_OPS.has(op.op) && op.op !== 'removeWatches' && op.op !== 'checkWatches')
        .map((op): Op => ('watch' in op ? { ...op, watch: false } : op)),
    }))
    .filter((step) => step.ops.length > 0);
  return { ...script, steps };
}

/** Every create and setACL of `script` with `acl` replaced as `replace` says. */
function mapAcls(script: Script, replace: (acl: AclRef) => AclRef): Script {
  const mapOp = (op: Op): Op => {
    if (op.op === 'create' || op.op === 'setACL' || op.op === 'createRaw') return { ...op, acl: replace(op.acl) };
    if (op.op === 'multi') return { ...op, ops: op.ops.map((m) => (m.op === 'create' || m.op === 'create2' ? { ...m, acl: replace(m.acl) } : m)) };
    return op;
  };
  return { ...script, steps: script.steps.map((step) => ({ ...step, ops: step.ops.map(mapOp) })) };
}

export const KNOWN_BUG_AVOIDANCE: readonly KnownBugAvoidance[] = [
  {
    id: 'watch events are delivered only to sessions that may read the node',
    // A script keeps either its watches (and gets ACLs every session may read) or its ACLs that
    // deny READ to some session (and loses its watches), as the coin says.
    rewrite: (script, coin) => {
      const ops = script.steps.flatMap((step) => step.ops);
      if (!ops.some(setsWatch) || !ops.some((op) => aclsOf(op).some(deniesReadToSome))) return script;
      return coin ? withoutWatches(script) : mapAcls(script, (acl) => (deniesReadToSome(acl) ? 'open' : acl));
    },
  },
];
