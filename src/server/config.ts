/**
 * zoo.cfg, read as ZooKeeper reads it (QuorumPeerConfig.parseProperties): keys it knows by
 * name, `server.N` lines, and every other key turned into a `zookeeper.<key>` property.
 * `-Dname=value` flags from SERVER_JVMFLAGS/JVMFLAGS are properties too, so a deployment's
 * settings carry over. Keys Paddock does not use are reported, never fatal.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';

export interface ServerSpec {
  id: number;
  host: string;
  quorumPort: number;
  electionPort: number;
  role: 'participant' | 'observer';
  clientHost?: string;
  clientPort?: number;
}

export interface ServerConfig {
  tickTimeMs: number;
  initLimit: number;
  syncLimit: number;
  dataDir: string;
  dataLogDir: string;
  clientPort: number;
  clientPortAddress: string;
  maxClientCnxns: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  snapCount: number;
  forceSync: boolean;
  /** Largest frame accepted from a client (jute.maxbuffer). */
  maxBufferBytes: number;
  /** Four-letter words allowed; '*' enables all. */
  fourLetterWords: ReadonlySet<string> | '*';
  extendedTypesEnabled: boolean;
  superDigest: string | undefined;
  servers: ServerSpec[];
  serverId: number;
  autopurgeSnapRetainCount: number;
  autopurgePurgeIntervalHours: number;
  /** Every property, Java-style, after zoo.cfg keys were mapped and -D flags applied. */
  properties: ReadonlyMap<string, string>;
  /** Keys and properties that were accepted but that Paddock does not act on yet. */
  unused: string[];
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Keys QuorumPeerConfig takes by name (they are not turned into zookeeper.* properties). */
const NAMED_KEYS = new Set([
  'dataDir', 'dataLogDir', 'clientPort', 'localSessionsEnabled', 'localSessionsUpgradingEnabled',
  'clientPortAddress', 'secureClientPort', 'secureClientPortAddress', 'observerMasterPort',
  'clientPortListenBacklog', 'tickTime', 'maxClientCnxns', 'minSessionTimeout', 'maxSessionTimeout',
  'initLimit', 'syncLimit', 'connectToLearnerMasterLimit', 'electionAlg', 'quorumListenOnAllIPs',
  'peerType', 'syncEnabled', 'dynamicConfigFile', 'autopurge.snapRetainCount', 'autopurge.purgeInterval',
  'standaloneEnabled', 'reconfigEnabled', 'sslQuorum', 'portUnification', 'sslQuorumReloadCertFiles',
  'clientPortUnification', 'quorum.auth.enableSasl', 'quorum.auth.learnerRequireSasl',
  'quorum.auth.serverRequireSasl', 'quorum.auth.learner.saslLoginContext',
  'quorum.auth.server.saslLoginContext', 'quorum.auth.kerberos.servicePrincipal',
  'quorum.cnxn.threads.size', 'jvm.pause.info-threshold.ms', 'jvm.pause.warn-threshold.ms',
  'jvm.pause.sleep.time.ms', 'jvm.pause.monitor', 'metricsProvider.className', 'multiAddress.enabled',
  'multiAddress.reachabilityCheckTimeoutMs', 'multiAddress.reachabilityCheckEnabled', 'oraclePath',
]);

/** Named keys and properties Paddock acts on; everything else is reported as unused. */
const USED = new Set([
  'dataDir', 'dataLogDir', 'clientPort', 'clientPortAddress', 'tickTime', 'maxClientCnxns',
  'minSessionTimeout', 'maxSessionTimeout', 'initLimit', 'syncLimit', 'autopurge.snapRetainCount',
  'autopurge.purgeInterval', 'standaloneEnabled',
  'zookeeper.snapCount', 'zookeeper.forceSync', 'jute.maxbuffer', 'zookeeper.jute.maxbuffer',
  'zookeeper.4lw.commands.whitelist', 'zookeeper.extendedTypesEnabled',
  'zookeeper.DigestAuthenticationProvider.superDigest',
]);

/** Properties of the JVM that say nothing about ZooKeeper's behaviour: never reported. */
const IGNORED_PROPERTY_PREFIXES = ['java.', 'sun.', 'log4j', 'logback.', 'com.sun.', 'jdk.', 'user.', 'file.'];

export const DEFAULT_TICK_TIME_MS = 3000;
export const DEFAULT_MAX_BUFFER_BYTES = 0xfffff;

/** The embedded configuration of `paddock start` without --config. */
export const EMBEDDED_CONFIG = `# Paddock's default standalone configuration (a zoo.cfg)
tickTime=2000
initLimit=10
syncLimit=5
dataDir=./data
clientPort=2181
clientPortAddress=127.0.0.1
4lw.commands.whitelist=srvr,ruok,stat,conf,mntr
`;

/** Parses Java properties syntax as zoo.cfg uses it: key=value or key: value, # and ! comments. */
export function parseProperties(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const match = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (!match) {
      entries.set(line, '');
      continue;
    }
    entries.set(match[1]!, match[2]!.trim());
  }
  return entries;
}

/** `-Dname=value` flags from SERVER_JVMFLAGS and JVMFLAGS (later ones win, as in the shell). */
export function jvmFlagProperties(env: NodeJS.ProcessEnv): Map<string, string> {
  const properties = new Map<string, string>();
  for (const source of [env.JVMFLAGS, env.SERVER_JVMFLAGS]) {
    if (!source) continue;
    for (const match of source.matchAll(/-D([^=\s]+)(?:=("[^"]*"|'[^']*'|\S*))?/g)) {
      const value = (match[2] ?? 'true').replace(/^["']|["']$/g, '');
      properties.set(match[1]!, value);
    }
  }
  return properties;
}

function intValue(key: string, value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new ConfigError(`${key}: '${value}' is not a number`);
  return Number.parseInt(value, 10);
}

function boolValue(value: string): boolean {
  return ['true', 'yes'].includes(value.trim().toLowerCase());
}

export function parseServerLine(key: string, value: string): ServerSpec {
  const id = intValue(key, key.slice('server.'.length));
  const [address = '', client] = value.split(';');
  const parts = address.split(':');
  if (parts.length < 3) throw new ConfigError(`${key}=${value}: expected host:quorumPort:electionPort[:role]`);
  const role = parts[3] ?? 'participant';
  if (role !== 'participant' && role !== 'observer') throw new ConfigError(`${key}: unknown role '${role}'`);
  const spec: ServerSpec = {
    id,
    host: parts[0]!,
    quorumPort: intValue(key, parts[1]!),
    electionPort: intValue(key, parts[2]!),
    role,
  };
  if (client) {
    const clientParts = client.split(':');
    if (clientParts.length === 1) spec.clientPort = intValue(key, clientParts[0]!);
    else {
      spec.clientHost = clientParts[0]!;
      spec.clientPort = intValue(key, clientParts[1]!);
    }
  }
  return spec;
}

export interface LoadOptions {
  /** Directory that relative dataDir/dataLogDir are resolved against. */
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  /** Extra properties, e.g. from the command line; they win over everything else. */
  overrides?: ReadonlyMap<string, string>;
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const text = readFileSync(file, 'utf8');
  return buildConfig(parseProperties(text), { baseDir: dirname(resolve(file)), env });
}

export function buildConfig(entries: ReadonlyMap<string, string>, options: LoadOptions): ServerConfig {
  const named = new Map<string, string>();
  const properties = jvmFlagProperties(options.env ?? {});
  const servers: ServerSpec[] = [];
  const unused: string[] = [];
  for (const [key, value] of entries) {
    if (key.startsWith('server.')) servers.push(parseServerLine(key, value));
    else if (key.startsWith('group.') || key.startsWith('weight.')) unused.push(key);
    else if (NAMED_KEYS.has(key)) named.set(key, value);
    else properties.set(key.startsWith('zookeeper.') ? key : `zookeeper.${key}`, value);
  }
  for (const [key, value] of options.overrides ?? []) properties.set(key, value);
  for (const key of named.keys()) if (!USED.has(key)) unused.push(key);
  for (const key of properties.keys()) {
    if (USED.has(key) || IGNORED_PROPERTY_PREFIXES.some((prefix) => key.startsWith(prefix))) continue;
    unused.push(key);
  }

  const get = (key: string): string | undefined => named.get(key);
  const prop = (key: string): string | undefined => properties.get(key);
  const dataDirRaw = get('dataDir');
  if (dataDirRaw === undefined) throw new ConfigError('dataDir is not set');
  const resolveDir = (dir: string): string => (isAbsolute(dir) ? dir : resolve(options.baseDir, dir));
  const tickTimeMs = get('tickTime') !== undefined ? intValue('tickTime', get('tickTime')!) : DEFAULT_TICK_TIME_MS;
  if (tickTimeMs <= 0) throw new ConfigError('tickTime must be positive');
  const minSessionTimeoutMs = get('minSessionTimeout') ? intValue('minSessionTimeout', get('minSessionTimeout')!) : -1;
  const maxSessionTimeoutMs = get('maxSessionTimeout') ? intValue('maxSessionTimeout', get('maxSessionTimeout')!) : -1;
  const whitelist = prop('zookeeper.4lw.commands.whitelist');
  const maxBuffer = prop('jute.maxbuffer') ?? prop('zookeeper.jute.maxbuffer');
  const config: ServerConfig = {
    tickTimeMs,
    initLimit: get('initLimit') ? intValue('initLimit', get('initLimit')!) : 10,
    syncLimit: get('syncLimit') ? intValue('syncLimit', get('syncLimit')!) : 5,
    dataDir: resolveDir(dataDirRaw),
    dataLogDir: resolveDir(get('dataLogDir') ?? dataDirRaw),
    clientPort: get('clientPort') ? intValue('clientPort', get('clientPort')!) : 2181,
    clientPortAddress: get('clientPortAddress') ?? '0.0.0.0',
    maxClientCnxns: get('maxClientCnxns') ? intValue('maxClientCnxns', get('maxClientCnxns')!) : 60,
    minSessionTimeoutMs: minSessionTimeoutMs === -1 ? tickTimeMs * 2 : minSessionTimeoutMs,
    maxSessionTimeoutMs: maxSessionTimeoutMs === -1 ? tickTimeMs * 20 : maxSessionTimeoutMs,
    snapCount: prop('zookeeper.snapCount') ? intValue('snapCount', prop('zookeeper.snapCount')!) : 100000,
    forceSync: prop('zookeeper.forceSync') === undefined ? true : boolValue(prop('zookeeper.forceSync')!),
    maxBufferBytes: maxBuffer ? intValue('jute.maxbuffer', maxBuffer) : DEFAULT_MAX_BUFFER_BYTES,
    fourLetterWords: parseWhitelist(whitelist),
    extendedTypesEnabled: boolValue(prop('zookeeper.extendedTypesEnabled') ?? 'false'),
    superDigest: prop('zookeeper.DigestAuthenticationProvider.superDigest'),
    servers: servers.sort((a, b) => a.id - b.id),
    serverId: 0,
    autopurgeSnapRetainCount: get('autopurge.snapRetainCount')
      ? Math.max(3, intValue('autopurge.snapRetainCount', get('autopurge.snapRetainCount')!))
      : 3,
    autopurgePurgeIntervalHours: get('autopurge.purgeInterval')
      ? intValue('autopurge.purgeInterval', get('autopurge.purgeInterval')!)
      : 0,
    properties,
    unused,
  };
  if (config.minSessionTimeoutMs > config.maxSessionTimeoutMs) {
    throw new ConfigError('minSessionTimeout must not be larger than maxSessionTimeout');
  }
  return config;
}

/** ZooKeeper's default whitelist is srvr alone; "*" enables every word. */
function parseWhitelist(value: string | undefined): ReadonlySet<string> | '*' {
  if (value === undefined) return new Set(['srvr']);
  const words = value.split(',').map((word) => word.trim()).filter((word) => word !== '');
  if (words.includes('*')) return '*';
  return new Set(words);
}
