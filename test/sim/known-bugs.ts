/**
 * Paddock bugs the simulator found that are diagnosed and reported but not fixed yet (their
 * code is being changed by someone else). A violation that matches one is reported as
 * "known" in the summary and does not fail a seed; everything else does. Each entry names
 * the seed that shows it (a `todo` regression test in seeds.test.ts): when the fix lands, that
 * test passes, and the entry goes.
 *
 * A signature is narrow on purpose: it must match the reported symptom and nothing else.
 */
import type { History, Violation } from './history.js';

export interface KnownBug {
  id: string;
  /** What happens, where, and the seed that shows it. */
  summary: string;
  /** Seeds (3 members, profile all, the CI's virtual ms) that show it. */
  seeds: number[];
  matches(violation: Violation, history: History): boolean;
}

// None open. Fixed so far: stale-sync-reply-zxid (seeds 2, 5, 10: see seeds.test.ts).
export const KNOWN_BUGS: KnownBug[] = [];

/** The known bug a violation shows, if any. */
export function knownBugOf(violation: Violation, history: History): KnownBug | null {
  return KNOWN_BUGS.find((bug) => bug.matches(violation, history)) ?? null;
}
