/**
 * The history checkers: the door of test/sim/check. `checkHistory` runs them all; each is
 * exported alone too. The workload contract the linearizability checker relies on is at the
 * top of linearizable.ts.
 */
import type { History, Violation } from '../history.js';
import { checkLinearizableDetailed } from './linearizable.js';
import type { LinearizabilityOptions, LinearizabilityStats } from './linearizable.js';
import { checkNoLostWrites } from './lost-writes.js';
import { checkDigestsAgree, checkLogsAgree, checkOneLeaderPerEpoch } from './members.js';
import { checkSessionFifo, checkSessionMonotonicReads, checkWatchOrder, checkZxidMonotonic } from './session.js';
import type { WatchOrderOptions } from './session.js';

export { checkLinearizable, checkLinearizableDetailed, DEFAULT_MAX_STATES } from './linearizable.js';
export type { LinearizabilityOptions, LinearizabilityResult, LinearizabilityStats } from './linearizable.js';
export { checkNoLostWrites } from './lost-writes.js';
export { checkDigestsAgree, checkLogsAgree, checkOneLeaderPerEpoch } from './members.js';
export { checkSessionFifo, checkSessionMonotonicReads, checkWatchOrder, checkZxidMonotonic, parseZxid } from './session.js';
export type { WatchOrderOptions } from './session.js';

export interface CheckOptions extends LinearizabilityOptions, WatchOrderOptions {
  /** Violations kept per checker (the rest are counted in one more). Default 50. */
  maxViolationsPerChecker?: number;
}

export interface CheckResult {
  violations: Violation[];
  stats: LinearizabilityStats;
}

const DEFAULT_MAX_VIOLATIONS = 50;

function capped(checker: string, found: Violation[], max: number): Violation[] {
  if (found.length <= max) return found;
  return [...found.slice(0, max), { checker, message: `${found.length - max} more violations of ${checker} left out` }];
}

/** Every checker, with the linearizability search's statistics (gaveUp > 0: not all proved). */
export function checkHistoryDetailed(history: History, options: CheckOptions = {}): CheckResult {
  const max = options.maxViolationsPerChecker ?? DEFAULT_MAX_VIOLATIONS;
  const linearizability = checkLinearizableDetailed(history, options);
  const violations = [
    ...capped('linearizability', linearizability.violations, max),
    ...capped('session-fifo', checkSessionFifo(history), max),
    ...capped('zxid-monotonic', checkZxidMonotonic(history), max),
    ...capped('session-monotonic-reads', checkSessionMonotonicReads(history), max),
    ...capped('watch-order', checkWatchOrder(history, options), max),
    ...capped('no-lost-writes', checkNoLostWrites(history, options.initial), max),
    ...capped('one-leader-per-epoch', checkOneLeaderPerEpoch(history), max),
    ...capped('logs-agree', checkLogsAgree(history), max),
    ...capped('digests-agree', checkDigestsAgree(history), max),
  ];
  return { violations, stats: linearizability.stats };
}

/** Every checker's violations; empty means none found (see checkHistoryDetailed for what was proved). */
export function checkHistory(history: History, options: CheckOptions = {}): Violation[] {
  return checkHistoryDetailed(history, options).violations;
}
