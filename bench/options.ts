/** Command-line options of `npm run bench`. */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { SERVER_KINDS } from './servers.js';
import type { ServerKind } from './servers.js';

export const CASE_GROUPS = ['getData', 'setData', 'durable', 'restart', 'ensemble'] as const;
export type CaseGroup = (typeof CASE_GROUPS)[number];

export interface BenchOptions {
  quick: boolean;
  groups: CaseGroup[];
  jsonFile: string | null;
  warmupMs: number;
  measureMs: number;
  /** Znodes loaded for the restart case. */
  nodes: number;
  /** Leader kills of the ensemble case. */
  failovers: number;
  zkHeapMb: number;
  servers: ServerKind[];
  /** Run Paddock with --cpu-prof, profiles written here. */
  cpuProfDir: string | null;
}

export const USAGE = `Usage: npm run bench -- [options]     (or: node dist/bench/main.js [options])

Runs each case against Paddock and against Apache ZooKeeper 3.8, one server at a time.

  --quick             short run (about two minutes): 3 s windows, 100,000 znodes for restart,
                      1 failover in the ensemble case
  --only CASES        comma-separated subset of: ${CASE_GROUPS.join(', ')}
  --json FILE         also write the results as JSON
  --duration S        measured seconds per case (default 10, --quick 3)
  --warmup S          warm-up seconds before each measurement (default 2, --quick 1)
  --nodes N           znodes for the restart case (default 1000000, --quick 100000)
  --failovers N       leader kills in the ensemble case (default 3, --quick 1)
  --zk-heap-mb M      -Xmx of ZooKeeper's JVM (default 1000, as zkEnv.sh)
  --servers LIST      paddock,zookeeper (default both)
  --cpu-prof DIR      run Paddock under node --cpu-prof, profiles into DIR
                      (summarise one with: node dist/bench/profile-summary.js FILE)
  -h, --help          this text
`;

function positiveNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, not '${text}'`);
  return value;
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string' },
      json: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      nodes: { type: 'string' },
      failovers: { type: 'string' },
      'zk-heap-mb': { type: 'string' },
      servers: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const quick = values.quick ?? false;
  const groups = values.only === undefined ? [...CASE_GROUPS] : values.only.split(',').map((name) => name.trim());
  for (const group of groups) {
    if (!(CASE_GROUPS as readonly string[]).includes(group)) throw new Error(`unknown case '${group}' (cases: ${CASE_GROUPS.join(', ')})`);
  }
  const servers = values.servers === undefined ? [...SERVER_KINDS] : values.servers.split(',').map((name) => name.trim());
  for (const server of servers) {
    if (!(SERVER_KINDS as readonly string[]).includes(server)) throw new Error(`unknown server '${server}' (paddock, zookeeper)`);
  }
  const nodes = Math.floor(positiveNumber('nodes', values.nodes, quick ? 100_000 : 1_000_000));
  if (nodes > 20_000_000) throw new Error('--nodes is limited to 20,000,000');
  return {
    quick,
    groups: groups as CaseGroup[],
    jsonFile: values.json === undefined ? null : resolve(values.json),
    warmupMs: 1000 * positiveNumber('warmup', values.warmup, quick ? 1 : 2),
    measureMs: 1000 * positiveNumber('duration', values.duration, quick ? 3 : 10),
    nodes,
    failovers: Math.max(1, Math.min(20, Math.floor(positiveNumber('failovers', values.failovers, quick ? 1 : 3)))),
    zkHeapMb: Math.floor(positiveNumber('zk-heap-mb', values['zk-heap-mb'], 1000)),
    servers: servers as ServerKind[],
    cpuProfDir: values['cpu-prof'] === undefined ? null : resolve(values['cpu-prof']),
  };
}
