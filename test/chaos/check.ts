/**
 * The checkers over a chaos history: the simulator's own (test/sim/check), unchanged.
 * Chaos writes no checker of its own.
 */
import { checkHistoryDetailed } from '../sim/check/index.js';
import type { CheckResult } from '../sim/check/index.js';
import type { History } from '../sim/history.js';

/** `initial`: the nodes present before the recorded history starts. */
export function check(history: History, initial: Record<string, { data: string; version: number }>): CheckResult {
  return checkHistoryDetailed(history, { initial });
}
