/**
 * `npm run chaos -- [--seconds N] [--seed S] [--members 5] [--clients 6] [--out DIR]`:
 * one chaos run (test/chaos/runner.ts) with a summary; exit code 1 on a violation, a member
 * that crashed, or members that did not converge. The seed replays the nemesis's schedule.
 */
import { parseArgs } from 'node:util';
import { runChaos } from './runner.js';
import type { ChaosResult } from './runner.js';

const MAX_VIOLATIONS_SHOWN = 20;
const MAX_ENTRIES_SHOWN = 10;

function intOption(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} ${value}: expected an integer in [${min}, ${max}]`);
  return n;
}

function printResult(r: ChaosResult): void {
  const faults = Object.entries(r.faults).filter(([, n]) => n > 0).map(([kind, n]) => `${kind} ${n}`).join(', ');
  console.log(`seed ${r.seed}`);
  console.log(`ops: ${r.counts.ok} ok, ${r.counts.fail} fail, ${r.counts.unknown} unknown, ${r.counts.pending} pending`);
  console.log(`faults: ${r.faultCount} (${faults})`);
  console.log(`crashes: ${r.crashes.length}${r.portClashes > 0 ? ` (and ${r.portClashes} restarts retried: port in use)` : ''}`);
  for (const c of r.crashes) console.log(`  member ${c.member} at ${c.atMs} ms: code ${c.code} signal ${c.signal}\n${c.tail}`);
  console.log(`convergence: ${r.convergence ?? 'ok (one zxid, identical trees)'}`);
  console.log(`linearizability: ${r.stats.partitions} partitions, ${r.stats.checkedOps} ops checked, ${r.stats.gaveUp} gave up, ${r.stats.skipped} skipped`);
  console.log(`violations: ${r.violations.length}`);
  for (const v of r.violations.slice(0, MAX_VIOLATIONS_SHOWN)) {
    console.log(`  [${v.checker}] ${v.message}`);
    for (const id of (v.operations ?? []).slice(0, MAX_ENTRIES_SHOWN)) console.log(`    op ${JSON.stringify(r.history.operations.find((o) => o.id === id))}`);
    const events = new Set(v.events ?? []);
    for (const e of r.history.events.filter((x) => events.has(x.index)).slice(0, MAX_ENTRIES_SHOWN)) console.log(`    event ${JSON.stringify(e)}`);
  }
  console.log(`history: ${r.historyFile}`);
  if (!r.ok) console.log(`FAILED: replay with --seed ${r.seed}; the history, violations.json and member logs are in ${r.outDir}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      seed: { type: 'string' },
      members: { type: 'string' },
      clients: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const seed = intOption('seed', values.seed, Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31 - 1);
  const result = await runChaos({
    seconds: intOption('seconds', values.seconds, 60, 1, 24 * 3600),
    seed,
    members: intOption('members', values.members, 5, 3, 9),
    clients: intOption('clients', values.clients, 6, 1, 64),
    outDir: values.out,
    log: (line) => console.log(`[chaos ${new Date().toISOString()}] ${line}`),
  });
  printResult(result);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
