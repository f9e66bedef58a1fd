/**
 * One seed, end to end: run the simulation, run every checker over its history, and say in
 * plain values (they cross worker_threads) what was found, how to replay it, and the events
 * that led to it. The CLI (main.ts), the CI seeds and the mutant tests all go through here.
 */
import { checkHistoryDetailed } from './check/index.js';
import type { LinearizabilityStats } from './check/index.js';
import type { History, Operation, Violation } from './history.js';
import { SimulationFailure } from './kernel.js';
import { knownBugOf } from './known-bugs.js';
import { runSimulation } from './run.js';
import type { SimulationOptions, SimulationStats } from './run.js';

/** What a seed's replay command carries: everything that changes the run. */
export type SeedOptions = Pick<SimulationOptions, 'seed' | 'members' | 'profile' | 'virtualMs' | 'mutation'>;

export interface SeedReport {
  options: SeedOptions;
  /** Absent when the run itself failed (an invariant, a crash, no convergence). */
  stats?: SimulationStats;
  checker?: LinearizabilityStats;
  /** Violations that fail the seed (the run's own failure comes first, as checker 'simulation'). */
  violations: Violation[];
  /** Violations of bugs reported and not fixed yet (known-bugs.ts): shown, not failed. */
  known: Array<{ bug: string; violation: Violation }>;
  replay: string;
  /** The notable events before the first violation's ops, and those ops (empty when it passed). */
  trace: string[];
  realMs: number;
}

const TRACE_LINES = 40;

export function replayCommand(o: SeedOptions): string {
  const parts = [`npm run sim -- --seed ${o.seed} --members ${o.members ?? 3} --profile ${o.profile ?? 'all'}`];
  if (o.virtualMs !== undefined) parts.push(`--virtual-ms ${o.virtualMs}`);
  if (o.mutation !== undefined) parts.push(`--mutation ${o.mutation}`);
  return parts.join(' ');
}

export async function simulateAndCheck(options: SeedOptions): Promise<SeedReport> {
  const started = performance.now();
  const replay = replayCommand(options);
  let result;
  try {
    result = await runSimulation(options);
  } catch (error) {
    if (!(error instanceof SimulationFailure)) throw error;
    const message = error.message.split('\n--- last trace entries ---')[0]!;
    return { options, violations: [{ checker: 'simulation', message }], known: [], replay, trace: error.trace.slice(-TRACE_LINES), realMs: Math.round(performance.now() - started) };
  }
  const { history, trace, stats } = result;
  const check = checkHistoryDetailed(history, { reportBudget: true });
  const violations: Violation[] = [];
  const known: SeedReport['known'] = [];
  for (const v of check.violations) {
    const bug = knownBugOf(v, history);
    if (bug) known.push({ bug: bug.id, violation: v });
    else violations.push(v);
  }
  return {
    options,
    stats,
    checker: check.stats,
    violations,
    known,
    replay,
    trace: violations.length > 0 ? shortTrace(trace, history, violations[0]!) : [],
    realMs: Math.round(performance.now() - started),
  };
}

function describeOp(o: Operation): string {
  const out = o.outcome === null ? 'no reply' : o.outcome.type === 'ok' ? `ok ${JSON.stringify(o.outcome.value)}` : o.outcome.type === 'fail' ? `fail ${o.outcome.code}` : `unknown (${o.outcome.reason})`;
  return `client ${o.client} session ${o.session || '-'} op #${o.id} ${JSON.stringify(o.op)} → ${out}`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(3)}s`;

/**
 * The simulator's trace (faults, crashes, restarts, role changes, new clients) up to the
 * violation's last op, merged with the invocations and completions of the ops it names; the
 * last TRACE_LINES lines of that.
 */
export function shortTrace(trace: string[], history: History, violation: Violation): string[] {
  const named = new Set(violation.operations ?? []);
  const ops = history.operations.filter((o) => named.has(o.id));
  const eventIndexes = new Set(violation.events ?? []);
  const ends = [...ops.map((o) => o.completeMs ?? o.invokeMs), ...history.events.filter((e) => eventIndexes.has(e.index)).map((e) => e.ms)];
  const until = ends.length > 0 ? Math.max(...ends) : Infinity;
  const lines: Array<{ ms: number; order: number; text: string }> = [];
  for (const [i, line] of trace.entries()) {
    const ms = Number.parseFloat(line) * 1000;
    if (ms <= until) lines.push({ ms, order: i, text: line });
  }
  for (const o of ops) {
    lines.push({ ms: o.invokeMs, order: -1, text: `${seconds(o.invokeMs)} >> invoke ${describeOp(o)}` });
    if (o.completeMs !== null) lines.push({ ms: o.completeMs, order: -1, text: `${seconds(o.completeMs)} << complete op #${o.id}` });
  }
  // What the clients of those ops saw meanwhile: session changes and watch notifications.
  const clients = new Set(ops.map((o) => o.client));
  const since = ops.length > 0 ? Math.min(...ops.map((o) => o.invokeMs)) : until;
  for (const e of history.events) {
    if (eventIndexes.has(e.index) || (clients.has(e.client) && (e.kind === 'session' || e.kind === 'watch') && e.ms >= since && e.ms <= until)) {
      lines.push({ ms: e.ms, order: -1, text: `${seconds(e.ms)} ** client ${e.client} ${e.kind === 'zxid' ? `reply xid ${e.xid} zxid ${e.zxid} err ${e.err}` : e.kind === 'watch' ? `watch event ${e.eventType} ${e.path}` : `session ${e.state}${e.member ? ` (${e.member})` : ''}`}` });
    }
  }
  lines.sort((a, b) => a.ms - b.ms || a.order - b.order);
  return lines.slice(-TRACE_LINES).map((l) => l.text);
}

/** A seed's failure as a few lines: the violations, the replay command, the trace. */
export function formatFailure(report: SeedReport, maxViolations = 5): string {
  const lines = [`seed ${report.options.seed} FAILED (${report.violations.length} violation${report.violations.length === 1 ? '' : 's'})`];
  for (const v of report.violations.slice(0, maxViolations)) lines.push(`  [${v.checker}] ${v.message}`);
  if (report.violations.length > maxViolations) lines.push(`  … ${report.violations.length - maxViolations} more`);
  lines.push(`  replay: ${report.replay}`);
  if (report.trace.length > 0) lines.push('  trace:', ...report.trace.map((l) => `    ${l}`));
  return lines.join('\n');
}
