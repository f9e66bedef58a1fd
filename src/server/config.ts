/**
 * zoo.cfg, read as ZooKeeper reads it (QuorumPeerConfig.parseProperties): keys it knows by
 * name, `server.N` lines, and every other key turned into a `zookeeper.<key>` property.
 * `-Dname=value` flags from SERVER_JVMFLAGS/JVMFLAGS are properties too, so a deployment's
 * settings carry over. Keys Paddock does not use are reported, never fatal.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { loadJaasUsers } from '../acl/index.js';

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
  /**
   * Whether zoo.cfg gave clientPort and clientPortAddress. An ensemble member's own server line
   * may carry its client address instead (see clientAddressOfMember).
   */
  clientPortGiven: { port: boolean; address: boolean };
  maxClientCnxns: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  snapCount: number;
  forceSync: boolean;
  /** Log segments grow by this much at a time (preAllocSize, given in KiB in zoo.cfg). */
  preAllocBytes: number;
  /** zookeeper.snapshot.compression.method set to anything: Paddock deflates snapshots. */
  compressSnapshots: boolean;
  /** Operator's choice to cut a corrupt log at the damage instead of refusing to start. */
  truncateCorruptLog: boolean;
  /** Largest frame accepted from a client (jute.maxbuffer). */
  maxBufferBytes: number;
  /** Four-letter words allowed; '*' enables all. */
  fourLetterWords: ReadonlySet<string> | '*';
  extendedTypesEnabled: boolean;
  superDigest: string | undefined;
  /** zookeeper.skipACL=yes: permissions are not checked at all. */
  skipAcl: boolean;
  /** SASL users (DIGEST-MD5) when SASLAuthenticationProvider is configured; null when SASL is off. */
  saslUsers: ReadonlyMap<string, string> | null;
  /** How often containers and TTL nodes are checked (znode.container.checkIntervalMs). */
  containerCheckIntervalMs: number;
  /** At most this many of them are deleted a minute (znode.container.maxPerMinute). */
  containerMaxPerMinute: number;
  servers: ServerSpec[];
  serverId: number;
  autopurgeSnapRetainCount: number;
  autopurgePurgeIntervalHours: number;
  /** Every property, Java-style, after zoo.cfg keys were mapped and -D flags applied. */
  properties: ReadonlyMap<string, string>;
  /** Keys and properties that were accepted but that Paddock does not act on yet. */
  unused: string[];
  /** Settings that are accepted but cannot work as given; logged at start. */
  warnings: string[];
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
  'zookeeper.snapCount', 'zookeeper.forceSync', 'zookeeper.preAllocSize', 'zookeeper.snapshot.compression.method', 'jute.maxbuffer', 'zookeeper.jute.maxbuffer',
  'zookeeper.4lw.commands.whitelist', 'zookeeper.extendedTypesEnabled',
  'zookeeper.DigestAuthenticationProvider.superDigest', 'zookeeper.skipACL', 'zookeeper.sasl.serverconfig',
  'znode.container.checkIntervalMs', 'zookeeper.znode.container.checkIntervalMs',
  'znode.container.maxPerMinute', 'zookeeper.znode.container.maxPerMinute',
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

/**
 * Parses zoo.cfg as java.util.Properties.load does: `key=value`, `key: value` or `key value`;
 * `#` and `!` comment lines; a line ending in an odd number of backslashes continues on the
 * next; `\t`, `\n`, `\uXXXX` and `\<char>` escapes. Keys and values are trimmed, as
 * QuorumPeerConfig.parseProperties trims them.
 */
export function parseProperties(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  const stripLeading = (line: string): string => line.replace(/^[ \t\f]+/, '');
  for (let i = 0; i < lines.length; i++) {
    let line = stripLeading(lines[i]!);
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (endsWithContinuation(line)) {
      line = line.slice(0, -1);
      if (i + 1 >= lines.length) break;
      const next = stripLeading(lines[++i]!);
      // Java (9+) is still at the start of a logical line while it is empty: a comment ends it.
      if (line === '' && (next.startsWith('#') || next.startsWith('!'))) break;
      line += next;
    }
    if (line === '') continue;
    const [key, value] = splitKeyValue(line);
    entries.set(key.trim(), value.trim());
  }
  return entries;
}

function endsWithContinuation(line: string): boolean {
  let backslashes = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}

/** The key ends at the first unescaped '=', ':' or whitespace; one separator may follow. */
function splitKeyValue(line: string): [string, string] {
  const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\f';
  let keyEnd = 0;
  let valueStart = line.length;
  let hasSeparator = false;
  let escaped = false;
  for (; keyEnd < line.length; keyEnd++) {
    const c = line[keyEnd]!;
    if (!escaped && (c === '=' || c === ':')) {
      valueStart = keyEnd + 1;
      hasSeparator = true;
      break;
    }
    if (!escaped && isSpace(c)) {
      valueStart = keyEnd + 1;
      break;
    }
    escaped = c === '\\' ? !escaped : false;
  }
  while (valueStart < line.length) {
    const c = line[valueStart]!;
    if (!isSpace(c)) {
      if (hasSeparator || (c !== '=' && c !== ':')) break;
      hasSeparator = true;
    }
    valueStart++;
  }
  return [unescapeProperty(line.slice(0, keyEnd)), unescapeProperty(line.slice(valueStart))];
}

function unescapeProperty(text: string): string {
  if (!text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\' || i + 1 >= text.length) {
      out += c;
      continue;
    }
    const next = text[++i]!;
    if (next === 'u') {
      const hex = text.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new ConfigError(`malformed \\uxxxx escape in '${text}'`);
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 4;
    } else {
      out += next === 't' ? '\t' : next === 'n' ? '\n' : next === 'r' ? '\r' : next === 'f' ? '\f' : next;
    }
  }
  return out;
}

/**
 * `-Dname=value` flags from SERVER_JVMFLAGS and JVMFLAGS. zkServer.sh runs
 * `java ... $SERVER_JVMFLAGS $JVMFLAGS`, and the last -D of a name wins, so JVMFLAGS wins a tie.
 * A bare `-Dname` sets the empty string, as in Java.
 */
export function jvmFlagProperties(env: NodeJS.ProcessEnv): Map<string, string> {
  const properties = new Map<string, string>();
  for (const source of [env.SERVER_JVMFLAGS, env.JVMFLAGS]) {
    if (!source) continue;
    for (const match of source.matchAll(/-D([^=\s]+)(?:=("[^"]*"|'[^']*'|\S*))?/g)) {
      const value = (match[2] ?? '').replace(/^["']|["']$/g, '');
      properties.set(match[1]!, value);
    }
  }
  return properties;
}

/** Integer.parseInt: an optional sign, decimal digits, and the range of a Java int. */
function intValue(key: string, value: string): number {
  const text = value.trim();
  const n = /^[+-]?\d+$/.test(text) ? Number.parseInt(text, 10) : Number.NaN;
  if (!(n >= -2147483648 && n <= 2147483647)) throw new ConfigError(`${key}: '${value}' is not a number`);
  return n;
}

/**
 * Integer.getInteger, which ZooKeeper uses for system properties (jute.maxbuffer,
 * zookeeper.snapCount): Integer.decode accepts 0x/0X/# hex and leading-0 octal too.
 * Where Java would silently fall back to the default on garbage, Paddock says so.
 */
function decodedIntValue(key: string, value: string): number {
  const match = /^([+-]?)(0[xX]|#|0(?=.)|)(.*)$/.exec(value.trim())!;
  const [, sign, prefix, digits] = match as unknown as [string, string, string, string];
  const radix = prefix === '' ? 10 : prefix === '0' ? 8 : 16;
  const valid = radix === 16 ? /^[0-9a-fA-F]+$/ : radix === 8 ? /^[0-7]+$/ : /^\d+$/;
  const n = valid.test(digits) ? (sign === '-' ? -1 : 1) * Number.parseInt(digits, radix) : Number.NaN;
  if (!(n >= -2147483648 && n <= 2147483647)) throw new ConfigError(`${key}: '${value}' is not a number`);
  return n;
}

/** QuorumPeerConfig.parseBoolean: "true" or "false" in any case, anything else is an error. */
function booleanValue(key: string, value: string): boolean {
  const lower = value.trim().toLowerCase();
  if (lower !== 'true' && lower !== 'false') throw new ConfigError(`Invalid option ${value} for ${key}. Choose 'true' or 'false.'`);
  return lower === 'true';
}

/** Named keys QuorumPeerConfig parses as int, long or boolean (and rejects when malformed). */
const INT_KEYS = new Set([
  'clientPort', 'secureClientPort', 'observerMasterPort', 'clientPortListenBacklog', 'tickTime', 'maxClientCnxns',
  'minSessionTimeout', 'maxSessionTimeout', 'initLimit', 'syncLimit', 'connectToLearnerMasterLimit', 'electionAlg',
  'autopurge.snapRetainCount', 'autopurge.purgeInterval', 'quorum.cnxn.threads.size',
  'multiAddress.reachabilityCheckTimeoutMs',
]);
const LONG_KEYS = new Set(['jvm.pause.info-threshold.ms', 'jvm.pause.warn-threshold.ms', 'jvm.pause.sleep.time.ms']);
const BOOLEAN_KEYS = new Set([
  'localSessionsEnabled', 'localSessionsUpgradingEnabled', 'quorumListenOnAllIPs', 'syncEnabled', 'standaloneEnabled',
  'reconfigEnabled', 'sslQuorum', 'portUnification', 'sslQuorumReloadCertFiles', 'quorum.auth.enableSasl',
  'quorum.auth.serverRequireSasl', 'quorum.auth.learnerRequireSasl', 'jvm.pause.monitor', 'multiAddress.enabled',
  'multiAddress.reachabilityCheckEnabled',
]);

/** The checks QuorumPeerConfig.parseProperties makes on its named keys. */
function validateNamed(named: ReadonlyMap<string, string>): void {
  for (const [key, value] of named) {
    if (INT_KEYS.has(key)) intValue(key, value);
    else if (LONG_KEYS.has(key) && !/^[+-]?\d+$/.test(value.trim())) throw new ConfigError(`${key}: '${value}' is not a number`);
    else if (BOOLEAN_KEYS.has(key)) booleanValue(key, value);
  }
  const electionAlg = named.get('electionAlg');
  if (electionAlg !== undefined && intValue('electionAlg', electionAlg) !== 3) {
    throw new ConfigError('Invalid electionAlg value. Only 3 is supported.');
  }
  const peerType = named.get('peerType');
  if (peerType !== undefined && !['observer', 'participant'].includes(peerType.toLowerCase())) {
    throw new ConfigError(`Unrecognised peertype: ${peerType}`);
  }
  const flag = (key: string): boolean => booleanValue(key, named.get(key) ?? 'false');
  if (!flag('quorum.auth.enableSasl') && (flag('quorum.auth.serverRequireSasl') || flag('quorum.auth.learnerRequireSasl'))) {
    throw new ConfigError('quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl or quorum.auth.learnerRequireSasl');
  }
  if (!flag('quorum.auth.learnerRequireSasl') && flag('quorum.auth.serverRequireSasl')) {
    throw new ConfigError('quorum.auth.learnerRequireSasl is disabled, so cannot enable quorum.auth.serverRequireSasl');
  }
}

/** String.split as Java does it: trailing empty strings are dropped. */
function javaSplit(text: string, separator: string): string[] {
  const parts = text.split(separator);
  while (parts.length > 1 && parts.at(-1) === '') parts.pop();
  return parts;
}

/** ConfigUtils.getHostAndPort: "host:p1:p2..." or "[ipv6]:p1:p2...". */
function hostAndPorts(text: string, fail: (why: string) => ConfigError): string[] {
  if (!text.startsWith('[')) return javaSplit(text, ':');
  const close = text.indexOf(']');
  if (close < 0) throw fail(`'${text}' starts with '[' but has no matching ']:'`);
  if (close + 2 === text.length) throw fail(`'${text}' doesn't have a port after colon`);
  if (close + 2 < text.length) return [text.slice(1, close), ...javaSplit(text.slice(close + 2), ':')];
  return [text.replace(/[[\]]/g, '')];
}

/** `server.N=host:quorumPort:electionPort[:role][;[clientHost:]clientPort]` (QuorumServer). */
export function parseServerLine(key: string, value: string): ServerSpec {
  const id = intValue(key, key.slice('server.'.length));
  const fail = (why: string): ConfigError =>
    new ConfigError(`${key}=${value}: ${why}; expected host:quorumPort:electionPort[:role][;[clientHost:]clientPort]`);
  const [address = '', client, ...extra] = javaSplit(value, ';');
  if (extra.length > 0) throw fail('more than one ";"');
  const parts = hostAndPorts(address, fail);
  if (parts.length < 3 || parts.length > 4) throw fail('wrong number of fields');
  const role = (parts[3] ?? 'participant').trim().toLowerCase();
  if (role !== 'participant' && role !== 'observer') throw fail(`unknown role '${parts[3]}'`);
  const spec: ServerSpec = {
    id,
    host: parts[0]!,
    quorumPort: intValue(key, parts[1]!),
    electionPort: intValue(key, parts[2]!),
    role,
  };
  if (spec.quorumPort === spec.electionPort) throw fail('quorum and election port must be different');
  if (client !== undefined) {
    const clientParts = hostAndPorts(client, fail);
    if (clientParts.length > 2) throw fail('client address is not [host:]port');
    spec.clientPort = intValue(key, clientParts.at(-1)!);
    if (clientParts.length === 2) spec.clientHost = clientParts[0]!;
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

/**
 * Where an ensemble member listens for clients once it knows its id, as ZooKeeper's
 * QuorumPeerConfig.setupClientPort decides: the client address on its own server line
 * (`;[host:]port`, host 0.0.0.0 when left out) wins, and must agree with clientPort and
 * clientPortAddress when those are given too (the port alone when the address is a wildcard);
 * without one there, clientPort and clientPortAddress as configured.
 */
export function clientAddressOfMember(config: ServerConfig, serverId: number): { host: string; port: number } {
  const configured = { host: config.clientPortAddress, port: config.clientPort };
  const own = config.servers.find((s) => s.id === serverId);
  if (own?.clientPort === undefined) return configured;
  const line = { host: own.clientHost ?? '0.0.0.0', port: own.clientPort };
  if (config.clientPortGiven.port) {
    const wildcard = !config.clientPortGiven.address || configured.host === '0.0.0.0' || configured.host === '::';
    if (configured.port !== line.port || (!wildcard && configured.host !== line.host)) {
      throw new ConfigError(
        `client address for this server (id = ${serverId}) is ${configured.host}:${configured.port} (clientPort/clientPortAddress) but ${line.host}:${line.port} on its server.${serverId} line`,
      );
    }
  }
  return line;
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
  const warnings: string[] = [];
  for (const [key, value] of entries) {
    if (key.startsWith('server.')) servers.push(parseServerLine(key, value));
    else if (key.startsWith('group.') || key.startsWith('weight.')) unused.push(key);
    // metricsProvider.* configure the metrics provider; they do not become zookeeper.* properties.
    else if (NAMED_KEYS.has(key) || key.startsWith('metricsProvider.')) named.set(key, value);
    else properties.set(key.startsWith('zookeeper.') ? key : `zookeeper.${key}`, value);
  }
  for (const [key, value] of options.overrides ?? []) properties.set(key, value);
  for (const key of named.keys()) if (!USED.has(key)) unused.push(key);
  for (const key of properties.keys()) {
    if (USED.has(key) || IGNORED_PROPERTY_PREFIXES.some((prefix) => key.startsWith(prefix))) continue;
    if (key.startsWith('zookeeper.authProvider.') && properties.get(key)!.trim() === SASL_PROVIDER) continue;
    unused.push(key);
  }

  validateNamed(named);
  const get = (key: string): string | undefined => named.get(key);
  const prop = (key: string): string | undefined => properties.get(key);
  const int = (key: string, fallback: number): number => {
    const value = get(key);
    return value === undefined ? fallback : intValue(key, value);
  };
  const dataDirRaw = get('dataDir');
  if (dataDirRaw === undefined) throw new ConfigError('dataDir is not set');
  const resolveDir = (dir: string): string => (isAbsolute(dir) ? dir : resolve(options.baseDir, dir));
  const tickTimeMs = int('tickTime', DEFAULT_TICK_TIME_MS);
  if (tickTimeMs <= 0) throw new ConfigError('tickTime must be positive');
  const minSessionTimeoutMs = int('minSessionTimeout', -1);
  const maxSessionTimeoutMs = int('maxSessionTimeout', -1);
  const snapCount = prop('zookeeper.snapCount');
  const maxBuffer = prop('jute.maxbuffer') ?? prop('zookeeper.jute.maxbuffer');
  const config: ServerConfig = {
    tickTimeMs,
    initLimit: int('initLimit', 10),
    syncLimit: int('syncLimit', 5),
    dataDir: resolveDir(dataDirRaw),
    dataLogDir: resolveDir(get('dataLogDir') ?? dataDirRaw),
    clientPort: int('clientPort', 2181),
    clientPortAddress: get('clientPortAddress') ?? '0.0.0.0',
    clientPortGiven: { port: get('clientPort') !== undefined, address: get('clientPortAddress') !== undefined },
    maxClientCnxns: int('maxClientCnxns', 60),
    minSessionTimeoutMs: minSessionTimeoutMs === -1 ? tickTimeMs * 2 : minSessionTimeoutMs,
    maxSessionTimeoutMs: maxSessionTimeoutMs === -1 ? tickTimeMs * 20 : maxSessionTimeoutMs,
    // ZooKeeperServer.getSnapCount: Integer.getInteger, raised to at least 2.
    snapCount: snapCount === undefined ? 100000 : Math.max(2, decodedIntValue('snapCount', snapCount)),
    // FileTxnLog: forceSync = !getProperty("zookeeper.forceSync", "yes").equals("no").
    forceSync: prop('zookeeper.forceSync') !== 'no',
    // FileTxnLog: zookeeper.preAllocSize in KiB, 64 MiB by default.
    preAllocBytes: (prop('zookeeper.preAllocSize') === undefined ? 65536 : Math.max(1, decodedIntValue('preAllocSize', prop('zookeeper.preAllocSize')!))) * 1024,
    compressSnapshots: (prop('zookeeper.snapshot.compression.method') ?? '') !== '',
    truncateCorruptLog: false,
    // BinaryInputArchive: Integer.getInteger("jute.maxbuffer", 0xfffff).
    maxBufferBytes: maxBuffer === undefined ? DEFAULT_MAX_BUFFER_BYTES : decodedIntValue('jute.maxbuffer', maxBuffer),
    fourLetterWords: parseWhitelist(prop('zookeeper.4lw.commands.whitelist'), prop('readonlymode.enabled') === 'true'),
    // EphemeralType: Boolean.getBoolean("zookeeper.extendedTypesEnabled").
    extendedTypesEnabled: (prop('zookeeper.extendedTypesEnabled') ?? '').toLowerCase() === 'true',
    superDigest: prop('zookeeper.DigestAuthenticationProvider.superDigest'),
    // ZooKeeperServer: skipACL = getProperty("zookeeper.skipACL", "no").equals("yes").
    skipAcl: prop('zookeeper.skipACL') === 'yes',
    saslUsers: loadSaslUsers(properties, warnings),
    containerCheckIntervalMs: decodedIntValue(
      'znode.container.checkIntervalMs',
      prop('znode.container.checkIntervalMs') ?? prop('zookeeper.znode.container.checkIntervalMs') ?? '60000',
    ),
    containerMaxPerMinute: decodedIntValue(
      'znode.container.maxPerMinute',
      prop('znode.container.maxPerMinute') ?? prop('zookeeper.znode.container.maxPerMinute') ?? '10000',
    ),
    servers: servers.sort((a, b) => a.id - b.id),
    serverId: 0,
    // PurgeTxnLog keeps at least 3 snapshots (MIN_SNAP_RETAIN_COUNT).
    autopurgeSnapRetainCount: Math.max(3, int('autopurge.snapRetainCount', 3)),
    autopurgePurgeIntervalHours: int('autopurge.purgeInterval', 0),
    properties,
    unused,
    warnings,
  };
  if (config.minSessionTimeoutMs > config.maxSessionTimeoutMs) {
    throw new ConfigError('minSessionTimeout must not be larger than maxSessionTimeout');
  }
  return config;
}

/**
 * FourLetterCommands.isEnabled: the comma-separated whitelist, "*" for every word; srvr is
 * always enabled (zkServer.sh needs it), and isro too when -Dreadonlymode.enabled=true.
 */
function parseWhitelist(value: string | undefined, readOnlyMode: boolean): ReadonlySet<string> | '*' {
  const words = (value ?? '').split(',').map((word) => word.trim()).filter((word) => word !== '');
  if (words.includes('*')) return '*';
  return new Set([...words, 'srvr', ...(readOnlyMode ? ['isro'] : [])]);
}

const SASL_PROVIDER = 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider';

/**
 * SASL is on when an `authProvider.N` names ZooKeeper's SASLAuthenticationProvider; its users
 * come from the JAAS file of -Djava.security.auth.login.config, section `Server` (or
 * zookeeper.sasl.serverconfig), as `user_NAME="password"` options.
 */
function loadSaslUsers(properties: ReadonlyMap<string, string>, warnings: string[]): ReadonlyMap<string, string> | null {
  const enabled = [...properties].some(([key, value]) => key.startsWith('zookeeper.authProvider.') && value.trim() === SASL_PROVIDER);
  if (!enabled) return null;
  const jaasFile = properties.get('java.security.auth.login.config');
  if (!jaasFile) {
    // ZooKeeper starts all the same; every SASL login then fails.
    warnings.push('SASLAuthenticationProvider is configured but -Djava.security.auth.login.config names no JAAS file: every SASL login will fail');
    return new Map();
  }
  const section = properties.get('zookeeper.sasl.serverconfig') ?? 'Server';
  let users: Map<string, string>;
  try {
    users = loadJaasUsers(jaasFile, section);
  } catch (error) {
    throw new ConfigError(`cannot read the JAAS file ${jaasFile}: ${(error as Error).message}`);
  }
  if (users.size === 0) warnings.push(`the JAAS file ${jaasFile} has no user_NAME="password" entries in section ${section}: every SASL login will fail`);
  return users;
}
