/**
 * `npm run bench`: the same cases against Paddock and Apache ZooKeeper 3.8, one server at a
 * time (so the two never compete for the cores), a table on stdout and, with --json, a file.
 * See docs/benchmarks.md. Progress goes to stderr, the report to stdout.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apacheZooKeeperAvailable } from '../test/support/apache-zookeeper.js';
import { AbortedError, aborted, installLifecycle, trackDir } from './lifecycle.js';
import { USAGE, parseOptions } from './options.js';
import type { BenchOptions } from './options.js';
import { formatHeader, formatReport, gitCommit, machineMeta, reportJson } from './report.js';
import type { BenchReport } from './report.js';
import { ENSEMBLE_TIMING } from './ensembles.js';
import { runEnsembleCase } from './ensemble.js';
import { runRestartCase } from './restart.js';
import { THROUGHPUT_GROUPS, runThroughputGroup } from './throughput.js';

function log(line: string): void {
  process.stderr.write(line + '\n');
}

function initialReport(options: BenchOptions, argv: string[]): BenchReport {
  return {
    meta: {
      date: new Date().toISOString(),
      command: ['node', 'dist/bench/main.js', ...argv].join(' '),
      ...machineMeta(),
      paddockCommit: gitCommit(),
      versions: {},
      settings: {
        tickTime: 2000,
        warmupSeconds: options.warmupMs / 1000,
        measuredSeconds: options.measureMs / 1000,
        restartZnodes: options.nodes,
        zkHeapMb: options.zkHeapMb,
        cpuProfile: options.cpuProfDir !== null,
        ...(options.groups.includes('ensemble')
          ? {
              ensembleTickTime: ENSEMBLE_TIMING.tickTime,
              ensembleInitLimit: ENSEMBLE_TIMING.initLimit,
              ensembleSyncLimit: ENSEMBLE_TIMING.syncLimit,
              failovers: options.failovers,
            }
          : {}),
      },
    },
    throughput: [],
    restart: [],
    ensemble: [],
    failures: [],
    totalSeconds: 0,
  };
}

async function runAll(options: BenchOptions, report: BenchReport): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'paddock-bench-'));
  const untrack = trackDir(root);
  const started = Date.now();
  try {
    for (const group of THROUGHPUT_GROUPS) {
      if (!options.groups.includes(group.id) || aborted()) continue;
      log(`case ${group.id}: ${group.title}`);
      try {
        const run = await runThroughputGroup(group, options, log);
        report.throughput.push(...run.results);
        Object.assign(report.meta.versions, run.versions);
      } catch (error) {
        if (error instanceof AbortedError) throw error;
        report.failures.push({ group: group.id, error: String((error as Error).stack ?? error) });
        log(`case ${group.id} FAILED: ${(error as Error).message}`);
      }
    }
    if (options.groups.includes('restart') && !aborted()) {
      log(`case restart: ${options.nodes.toLocaleString('en-US')} znodes of 100 bytes, stop, restart`);
      try {
        report.restart.push(...(await runRestartCase(root, options, log)));
      } catch (error) {
        if (error instanceof AbortedError) throw error;
        report.failures.push({ group: 'restart', error: String((error as Error).stack ?? error) });
        log(`case restart FAILED: ${(error as Error).message}`);
      }
    }
    if (options.groups.includes('ensemble') && !aborted()) {
      log(`case ensemble: 3 members of each on this machine: writes, reads spread over members, ${options.failovers} leader SIGKILL(s)`);
      await runEnsembleCase(root, options, report, log);
    }
  } finally {
    report.totalSeconds = (Date.now() - started) / 1000;
    await rm(root, { recursive: true, force: true });
    untrack();
  }
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (options.servers.includes('zookeeper') && !apacheZooKeeperAvailable()) {
    process.stderr.write('bench: Apache ZooKeeper is not installed (java and /usr/share/java/zookeeper.jar); run scripts/install-peers.sh or pass --servers paddock\n');
    return 2;
  }
  installLifecycle();
  if (options.cpuProfDir !== null) await mkdir(options.cpuProfDir, { recursive: true });
  const report = initialReport(options, argv);
  log(formatHeader(report.meta).split('\n').filter((line) => !/^(ZooKeeper|Paddock):/.test(line)).join('\n') + '\n');
  try {
    await runAll(options, report);
  } catch (error) {
    if (!(error instanceof AbortedError)) throw error;
    log(`bench: ${error.message}; partial results follow`);
  }
  process.stdout.write('\n' + formatReport(report));
  if (options.jsonFile !== null) {
    await writeFile(options.jsonFile, reportJson(report));
    log(`results written to ${options.jsonFile}`);
  }
  if (aborted()) return 130;
  return report.failures.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
