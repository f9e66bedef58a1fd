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
import type { Op, Script } from './model.js';

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

/** None left: the generator runs scripts as it makes them. */
export const KNOWN_BUG_AVOIDANCE: readonly KnownBugAvoidance[] = [];
