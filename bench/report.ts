/** The printed tables and the JSON file of a bench run. */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { EnsembleResult } from './ensemble.js';
import type { RestartResult } from './restart.js';
import { SERVER_LABEL } from './servers.js';
import type { ServerKind } from './servers.js';
import type { ThroughputResult } from './throughput.js';

export interface RunMeta {
  date: string;
  command: string;
  cpuModel: string;
  cpuCount: number;
  totalMemoryBytes: number;
  kernel: string;
  node: string;
  /** /proc/loadavg when the run started: other work on the machine skews the figures. */
  loadAverage: string;
  paddockCommit: string;
  versions: Partial<Record<ServerKind, string>>;
  settings: Record<string, string | number | boolean>;
}

export interface BenchReport {
  meta: RunMeta;
  throughput: ThroughputResult[];
  restart: RestartResult[];
  ensemble: EnsembleResult[];
  /** Cases that failed, with the error. */
  failures: Array<{ group: string; error: string }>;
  totalSeconds: number;
}

export function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty === '' ? sha : `${sha} (with uncommitted changes)`;
  } catch {
    return 'unknown';
  }
}

export function machineMeta(): Pick<RunMeta, 'cpuModel' | 'cpuCount' | 'totalMemoryBytes' | 'kernel' | 'node' | 'loadAverage'> {
  const list = cpus();
  return {
    loadAverage: loadavg()
      .map((value) => value.toFixed(2))
      .join(' '),
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuCount: list.length,
    totalMemoryBytes: totalmem(),
    kernel: `Linux ${release()}`,
    node: process.version,
  };
}

const mib = (bytes: number): string => (Number.isFinite(bytes) ? (bytes / 1048576).toFixed(1) : '-');
const int = (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-');
const ms = (value: number): string => (Number.isFinite(value) ? (value >= 100 ? value.toFixed(0) : value.toFixed(2)) : '-');
const pct = (value: number): string => (Number.isFinite(value) ? `${Math.round(value)}%` : '-');
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a / b).toFixed(2) : '-');

/** Left-aligns the first `leftColumns` columns, right-aligns the rest. */
function table(header: string[], rows: string[][], leftColumns = 2): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i < leftColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatHeader(meta: RunMeta): string {
  const settings = Object.entries(meta.settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return [
    `Paddock bench, ${meta.date}`,
    `command:   ${meta.command}`,
    `machine:   ${meta.cpuModel}, ${meta.cpuCount} CPUs, ${(meta.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB RAM, ${meta.kernel}, Node.js ${meta.node}`,
    `load:      ${meta.loadAverage} (1, 5, 15 min load average at the start)`,
    `ZooKeeper: ${meta.versions.zookeeper ?? '(not run)'}`,
    `Paddock:   ${meta.versions.paddock ?? '(not run)'}, commit ${meta.paddockCommit}`,
    `settings:  ${settings}`,
  ].join('\n');
}

function throughputTable(results: ThroughputResult[]): string {
  const rows = results.map((r) => [
    r.caseId,
    SERVER_LABEL[r.server],
    int(r.opsPerSecond),
    ms(r.latency.p50Ms),
    ms(r.latency.p99Ms),
    ms(r.latency.p999Ms),
    ms(r.latency.maxMs),
    pct(r.serverCpuPct),
    pct(r.benchCpuPct),
    pct(Math.max(0, r.machineCpuPct - r.serverCpuPct - r.benchCpuPct)),
    mib(r.peakRssBytes),
    String(r.errors),
  ]);
  return table(['case', 'server', 'ops/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'server CPU', 'bench CPU', 'other CPU', 'peak RSS MiB', 'errors'], rows);
}

function emptyServerTable(results: ThroughputResult[]): string | null {
  const rows: string[][] = [];
  for (const kind of ['paddock', 'zookeeper'] as const) {
    const first = results.find((r) => r.server === kind);
    if (first) rows.push([SERVER_LABEL[kind], (first.startMs / 1000).toFixed(2), mib(first.idleRssBytes)]);
  }
  return rows.length === 0 ? null : table(['server', 'start s', 'idle RSS MiB'], rows, 1);
}

function throughputRatios(results: ThroughputResult[]): string | null {
  const rows: string[][] = [];
  for (const caseId of [...new Set(results.map((r) => r.caseId))]) {
    const p = results.find((r) => r.caseId === caseId && r.server === 'paddock');
    const z = results.find((r) => r.caseId === caseId && r.server === 'zookeeper');
    if (!p || !z) continue;
    rows.push([
      caseId,
      ratio(p.opsPerSecond, z.opsPerSecond),
      ratio(p.latency.p50Ms, z.latency.p50Ms),
      ratio(p.latency.p99Ms, z.latency.p99Ms),
      ratio(p.peakRssBytes, z.peakRssBytes),
    ]);
  }
  if (rows.length === 0) return null;
  return table(['Paddock / ZooKeeper', 'ops/s', 'p50', 'p99', 'peak RSS'], rows, 1);
}

function restartTable(results: RestartResult[]): string {
  const rows = results.map((r) => [
    SERVER_LABEL[r.server],
    int(r.znodes),
    r.loadSeconds.toFixed(1),
    int(r.loadRatePerSecond),
    mib(r.loadPeakRssBytes),
    (r.stopMs / 1000).toFixed(2),
    mib(r.disk.allocatedBytes),
    mib(r.disk.apparentBytes),
    `${r.files.snapshots}+${r.files.logs}`,
    mib(r.files.largestSnapshotBytes),
    int(r.files.snapshotBytesPerZnode),
    (r.restartMs / 1000).toFixed(2),
    int(r.nodeCountRestarted),
    mib(r.restartPeakRssBytes),
  ]);
  return table(
    ['server', 'znodes', 'load s', 'creates/s', 'load peak RSS MiB', 'stop s', 'disk MiB', 'apparent MiB', 'snaps+logs', 'largest snap MiB', 'snap B/znode', 'restart s', 'nodes after', 'restart peak RSS MiB'],
    rows,
    1,
  );
}

function restartRatios(results: RestartResult[]): string | null {
  const p = results.find((r) => r.server === 'paddock');
  const z = results.find((r) => r.server === 'zookeeper');
  if (!p || !z) return null;
  return table(
    ['Paddock / ZooKeeper', 'creates/s', 'disk', 'snapshot B/znode', 'restart time', 'load peak RSS', 'restart peak RSS'],
    [[
      'restart',
      ratio(p.loadRatePerSecond, z.loadRatePerSecond),
      ratio(p.disk.allocatedBytes, z.disk.allocatedBytes),
      ratio(p.files.snapshotBytesPerZnode, z.files.snapshotBytesPerZnode),
      ratio(p.restartMs, z.restartMs),
      ratio(p.loadPeakRssBytes, z.loadPeakRssBytes),
      ratio(p.restartPeakRssBytes, z.restartPeakRssBytes),
    ]],
    1,
  );
}

function ensembleTable(results: EnsembleResult[]): string {
  const rows = results.map((r) => {
    const elected = r.failovers.map((f) => f.electedMs).filter(Number.isFinite);
    return [
      SERVER_LABEL[r.server],
      (r.startMs / 1000).toFixed(2),
      mib(r.idleRssBytes),
      mib(r.rssBytes),
      mib(r.peakRssBytes),
      r.memory.map((m) => mib(m.rssBytes)).join(' / '),
      int(r.failoverMedianMs),
      int(r.failoverMaxMs),
      r.failovers.map((f) => int(f.failoverMs)).join(' '),
      elected.length === 0 ? '-' : elected.map((ms) => int(ms)).join(' '),
      String(r.failovers.reduce((sum, f) => sum + f.failedWrites, 0)),
      r.failovers.map((f) => (f.rejoinMs / 1000).toFixed(1)).join(' '),
    ];
  });
  return table(
    ['server', 'start s', 'idle RSS MiB', 'RSS MiB', 'peak RSS MiB', 'RSS per member MiB', 'failover ms p50', 'max', 'each run ms', 'leader seen ms', 'failed writes', 'rejoin s'],
    rows,
    1,
  );
}

function ensembleRatios(results: EnsembleResult[]): string | null {
  const p = results.find((r) => r.server === 'paddock');
  const z = results.find((r) => r.server === 'zookeeper');
  if (!p || !z) return null;
  const rows = p.load.flatMap((pl) => {
    const zl = z.load.find((candidate) => candidate.caseId === pl.caseId);
    return zl ? [[pl.caseId, ratio(pl.opsPerSecond, zl.opsPerSecond), ratio(pl.latency.p50Ms, zl.latency.p50Ms), ratio(pl.latency.p99Ms, zl.latency.p99Ms)]] : [];
  });
  const loads = table(['Paddock / ZooKeeper', 'ops/s', 'p50', 'p99'], rows, 1);
  const rest = table(
    ['Paddock / ZooKeeper', 'start', 'failover p50', 'failover max', 'RSS after load', 'peak RSS'],
    [['ensemble', ratio(p.startMs, z.startMs), ratio(p.failoverMedianMs, z.failoverMedianMs), ratio(p.failoverMaxMs, z.failoverMaxMs), ratio(p.rssBytes, z.rssBytes), ratio(p.peakRssBytes, z.peakRssBytes)]],
    1,
  );
  return loads + '\n\n' + rest;
}

export function formatReport(report: BenchReport): string {
  const parts = [formatHeader(report.meta), ''];
  if (report.throughput.length > 0) {
    parts.push(
      'Throughput and latency (closed loop; latency = request issued to reply received, in the bench process)',
      throughputTable(report.throughput),
      '',
      'CPU is % of one core over the measured window; other CPU = the whole machine minus server and bench:',
      'anything else running (other builds and tests) competes with the measured pair and makes numbers noisy.',
      'peak RSS is the server process\'s VmHWM at the end of the case (its whole life so far).',
      '',
    );
    const empty = emptyServerTable(report.throughput);
    if (empty) parts.push('Empty server (first start of the run): spawn until it answered, and RSS before any load', empty, '');
    const ratios = throughputRatios(report.throughput);
    if (ratios) {
      parts.push(
        'Ratios Paddock / ZooKeeper: ops/s > 1 means Paddock is faster; p50, p99 and peak RSS < 1 mean Paddock is better (lower).',
        ratios,
        '',
      );
    }
  }
  if (report.restart.length > 0) {
    parts.push(
      'Large tree: load (forceSync=no, 8x64 pipelined creates), SIGTERM, restart until getData answers',
      restartTable(report.restart),
      '',
      'disk = blocks allocated in the storage folder (version-2 for ZooKeeper, paddock-v1 for Paddock), as du; apparent = sum of file sizes',
      '(log files are preallocated and sparse). Neither server purges by default, so every snapshot taken during the load is still there.',
      'largest snap = the largest snapshot file alone (the newest may be a partial one cut off by the stop);',
      'snap B/znode = its size / its zxid (nearly every txn of the load is one create): the encoding, compared at any tree size.',
      'nodes after = srvr\'s Node count after the restart.',
      '',
    );
    const ratios = restartRatios(report.restart);
    if (ratios) parts.push('Ratios Paddock / ZooKeeper: creates/s > 1 favours Paddock; disk, restart time and RSS < 1 favour Paddock.', ratios, '');
  }
  if (report.ensemble.length > 0) {
    const first = report.ensemble[0]!;
    parts.push(
      `Ensemble of ${first.members} on this machine (tickTime=${first.tickTime}, initLimit=${first.initLimit}, syncLimit=${first.syncLimit}, forceSync=yes on both),` +
        ' one ensemble at a time; sessions spread round robin over the members, each session on one member',
      throughputTable(report.ensemble.flatMap((r) => r.load)),
      '',
      'server CPU = the three members together (% of one core); peak RSS = the three members\' VmHWM added up.',
      '',
      'Start, memory and failover: start = spawn of all three until one leads and two follow; RSS = the three members after the load;',
      'failover = SIGKILL of the leader until the first write issued after it is acknowledged (writer: one setData outstanding,',
      'on a follower, connect string of all members); leader seen = until a survivor\'s srvr says leader; rejoin = restart of the',
      'killed member until all three serve again.',
      ensembleTable(report.ensemble),
      '',
    );
    const ratios = ensembleRatios(report.ensemble);
    if (ratios) parts.push('Ratios Paddock / ZooKeeper: ops/s > 1 favours Paddock; latency, start, failover time and RSS < 1 favour Paddock.', ratios, '');
  }
  for (const failure of report.failures) parts.push(`FAILED ${failure.group}: ${failure.error}`);
  parts.push(`total ${report.totalSeconds.toFixed(0)} s`);
  return parts.join('\n') + '\n';
}

/** JSON with bigint-free, NaN-free values (NaN becomes null). */
export function reportJson(report: BenchReport): string {
  return JSON.stringify(report, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2) + '\n';
}
