#!/usr/bin/env node
/**
 * The `paddock` command. `paddock start [--config zoo.cfg]` runs one server; without a
 * config it uses the embedded standalone configuration (127.0.0.1:2181, ./data).
 */
import { parseArgs } from 'node:util';
import { PaddockServer, readMyId, buildConfig, createLogger, loadConfigFile, parseProperties, EMBEDDED_CONFIG, ConfigError } from '../server/index.js';
import type { ServerConfig } from '../server/index.js';
import { inspectDataDir, nodeFileSystem, storageDirs } from '../storage/index.js';

const USAGE = `Usage: paddock <command> [options]

Commands:
  start [--config FILE] [--port N] [--data-dir DIR] [--truncate-corrupt-log]
        Start a server (one ensemble member when FILE has two or more server.N lines;
        its id is read from dataDir/myid). FILE is a ZooKeeper zoo.cfg. Without it Paddock uses its embedded
        standalone config: 127.0.0.1:2181, data in ./data. SERVER_JVMFLAGS and JVMFLAGS
        -D properties apply as they do for ZooKeeper. --truncate-corrupt-log cuts a
        damaged transaction log at the damage (losing what follows) instead of refusing
        to start.
  datadir [--config FILE | --data-dir DIR] [--data-log-dir DIR]
        List and verify a stopped server's snapshots and log segments: zxid ranges,
        sizes, checksums. Exits 1 if anything is damaged.
  help  Show this text.
`;

function configFrom(values: { config?: string; port?: string; 'data-dir'?: string }): ServerConfig {
  const overrides = new Map<string, string>();
  if (values.config) {
    const config = loadConfigFile(values.config);
    if (values.port) config.clientPort = Number(values.port);
    if (values['data-dir']) config.dataDir = config.dataLogDir = values['data-dir'];
    return config;
  }
  const entries = parseProperties(EMBEDDED_CONFIG);
  if (values.port) entries.set('clientPort', values.port);
  if (values['data-dir']) entries.set('dataDir', values['data-dir']);
  return buildConfig(entries, { baseDir: process.cwd(), env: process.env, overrides });
}

async function start(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      'data-dir': { type: 'string', short: 'd' },
      'truncate-corrupt-log': { type: 'boolean' },
    },
    strict: true,
  });
  const config = configFrom(values);
  config.truncateCorruptLog = values['truncate-corrupt-log'] ?? false;
  // Two or more server.N lines make an ensemble; the member's id is in dataDir/myid.
  if (config.servers.length >= 2) config.serverId = await readMyId(config.dataDir);
  const log = createLogger({ serverId: config.serverId });
  const server = new PaddockServer(config, log, { onFatal: () => process.exit(1) });
  await server.start();
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

const hex = (zxid: bigint | null): string => (zxid === null ? '-' : '0x' + BigInt.asUintN(64, zxid).toString(16));

async function datadir(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      'data-dir': { type: 'string', short: 'd' },
      'data-log-dir': { type: 'string' },
    },
    strict: true,
  });
  const config = configFrom(values);
  const dataLogDir = values['data-log-dir'] ?? config.dataLogDir;
  const { snapDir, logDir } = storageDirs(config.dataDir, dataLogDir);
  const report = await inspectDataDir(nodeFileSystem, snapDir, logDir);
  const out: string[] = [`snapshots in ${snapDir}:`];
  for (const s of report.snapshots) {
    out.push(`  ${s.name}  zxid ${hex(s.zxid)}  ${s.sizeBytes} bytes  ${s.ok ? 'ok' : `DAMAGED: ${s.problem}`}`);
  }
  out.push(`log segments in ${logDir}:`);
  for (const s of report.segments) {
    const range = `zxid ${hex(s.firstZxid)}..${hex(s.lastZxid)}`;
    const damage = s.damage ? `  DAMAGED at offset ${s.damage.offset}: ${s.damage.reason}` : '  ok';
    out.push(`  ${s.name}  ${range}  ${s.txnCount} txns  ${s.usedBytes}/${s.sizeBytes} bytes used${damage}`);
  }
  for (const gap of report.gaps) out.push(`GAP in the log: ${gap}`);
  out.push(report.ok ? 'all checksums verified' : 'damage found (a torn tail in the last segment is cut off at the next start)');
  process.stdout.write(out.join('\n') + '\n');
  return report.ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      await start(rest);
      return -1;
    case 'datadir':
      return datadir(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`paddock: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    const message = error instanceof ConfigError || error instanceof TypeError ? error.message : String((error as Error)?.stack ?? error);
    process.stderr.write(`paddock: ${message}\n`);
    process.exit(1);
  },
);
