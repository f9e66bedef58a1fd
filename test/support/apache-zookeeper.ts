/**
 * Starts and stops a real Apache ZooKeeper 3.8 standalone server (Debian package `zookeeper`,
 * jars in /usr/share/java) for interop tests, differential tests and benchmarks.
 *
 * The server is started directly with
 *   java -cp <jars> org.apache.zookeeper.server.ZooKeeperServerMain <tmp>/zoo.cfg
 * (no init scripts, no systemd), with its own temporary directory holding zoo.cfg, the data
 * directory, the logging configuration and the log files. The client port is picked free on
 * 127.0.0.1. Readiness is the `srvr` four-letter word answering with a "Mode:" line.
 *
 * Layout of the Debian package (bookworm, 3.8.0-11+deb12u2):
 *   /usr/share/java/zookeeper.jar       server + Java client; its manifest Class-Path names
 *                                       every dependency in /usr/share/java (jline.jar is
 *                                       named but not installed: only zkCli's line editing
 *                                       needs it)
 *   /usr/share/java/zookeeper-jute.jar  jute records (also on the manifest Class-Path)
 *   /usr/share/java/slf4j-log4j12.jar + log4j-1.2.jar
 *                                       an SLF4J binding; NOT on the manifest Class-Path, so
 *                                       without them ZooKeeper logs nothing and prints SLF4J
 *                                       NOP warnings on stderr. We add them.
 *   /etc/zookeeper/conf -> conf_example (zoo.cfg, log4j.properties) — not used here.
 *   /usr/share/zookeeper/bin/zkCli.sh, zkServer.sh, zkEnv.sh
 *
 * ZOOKEEPER_HOME may point at an unpacked Apache release tarball instead (lib/*.jar, logback);
 * it is used when set.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.js';

export interface ApacheZooKeeper {
  /** Client port on 127.0.0.1. */
  readonly port: number;
  /** `127.0.0.1:<port>` */
  readonly connectString: string;
  /** PID of the java process. */
  readonly pid: number;
  /** The server's dataDir (snapshots and txn logs go to `<dataDir>/version-2`). */
  readonly dataDir: string;
  /** The temporary directory holding zoo.cfg, dataDir and the logs; removed by stop(). */
  readonly dir: string;
  /** ZooKeeper's own log file (log4j/logback). */
  readonly logFile: string;
  /** The java process's stdout and stderr. */
  readonly stdoutFile: string;
  /** Send a signal to the java process (e.g. SIGSTOP/SIGCONT for chaos tests). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, wait (bounded), SIGKILL if needed, remove the temporary directory. Idempotent. */
  stop(): Promise<void>;
}

export interface ApacheZooKeeperOptions {
  /** zoo.cfg tickTime in ms (default 2000, ZooKeeper's default). */
  tickTime?: number;
  /** false sets -Dzookeeper.forceSync=no (no fsync of the txn log). Default true. */
  forceSync?: boolean;
  /** Extra zoo.cfg lines; they override the defaults written by this module. */
  extraConfig?: Record<string, string>;
  /** -Xmx in MiB (default 256). */
  heapMb?: number;
  /** Extra -D system properties (e.g. { 'zookeeper.extendedTypesEnabled': 'true' } for TTL nodes). */
  systemProperties?: Record<string, string>;
  /** Extra JVM flags, placed before the main class. */
  jvmFlags?: string[];
  /** Root log level (default INFO). */
  logLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** How long to wait for `srvr` to report a Mode (default 30000 ms). */
  startTimeoutMs?: number;
  /** Keep the temporary directory after stop() (also: env PADDOCK_KEEP_TMP=1). */
  keepDir?: boolean;
}

const DEBIAN_JAVA_DIR = '/usr/share/java';
const MAIN_CLASS = 'org.apache.zookeeper.server.ZooKeeperServerMain';

/** java and the ZooKeeper server classpath. */
export interface JavaLayout {
  java: string;
  classpath: string;
}

type Layout = JavaLayout;

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function findJava(): string | undefined {
  const javaHome = process.env.JAVA_HOME;
  if (javaHome && existsSync(join(javaHome, 'bin', 'java'))) return join(javaHome, 'bin', 'java');
  if (existsSync('/usr/bin/java')) return '/usr/bin/java';
  return findOnPath('java');
}

function findLayout(): Layout | undefined {
  const java = findJava();
  if (java === undefined) return undefined;
  const home = process.env.ZOOKEEPER_HOME;
  if (home && existsSync(join(home, 'lib'))) {
    // Apache release tarball: lib/ holds every jar, including the logback binding.
    return { java, classpath: [join(home, 'conf'), join(home, 'lib', '*')].join(delimiter) };
  }
  const zkJar = join(DEBIAN_JAVA_DIR, 'zookeeper.jar');
  const juteJar = join(DEBIAN_JAVA_DIR, 'zookeeper-jute.jar');
  if (!existsSync(zkJar) || !existsSync(juteJar)) return undefined;
  const cp = [zkJar, juteJar];
  // An SLF4J binding so ZooKeeper logs to our file (and prints no NOP warnings).
  const log4jBinding = join(DEBIAN_JAVA_DIR, 'slf4j-log4j12.jar');
  const log4j = join(DEBIAN_JAVA_DIR, 'log4j-1.2.jar');
  const simpleBinding = join(DEBIAN_JAVA_DIR, 'slf4j-simple.jar');
  if (existsSync(log4jBinding) && existsSync(log4j)) cp.push(log4jBinding, log4j);
  else if (existsSync(simpleBinding)) cp.push(simpleBinding);
  return { java, classpath: cp.join(delimiter) };
}

let cachedLayout: Layout | null | undefined;
/** ZOOKEEPER_HOME's lib/ if set, else Debian's jars plus an SLF4J binding; undefined when absent. */
export function zooKeeperLayout(): JavaLayout | undefined {
  if (cachedLayout === undefined) cachedLayout = findLayout() ?? null;
  return cachedLayout ?? undefined;
}

/** True when java and the ZooKeeper server jars are installed. */
export function apacheZooKeeperAvailable(): boolean {
  return zooKeeperLayout() !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Children are killed when this process exits or is terminated by a signal.

const liveChildren = new Set<ChildProcess>();
let exitHooksInstalled = false;

const groupLeaders = new WeakSet<ChildProcess>();
/** Temporary directories of running servers, removed (synchronously) if this process exits. */
const dirsToRemove = new Set<string>();

function killAllNow(): void {
  for (const child of liveChildren) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    try {
      if (groupLeaders.has(child) && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  liveChildren.clear();
  for (const dir of dirsToRemove) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    } catch {
      // best effort
    }
  }
  dirsToRemove.clear();
}

function onTerminatingSignal(signal: NodeJS.Signals): void {
  killAllNow();
  // If nobody else handles the signal, restore the default action and re-raise it, so the
  // process still dies the way it would have without us.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onTerminatingSignal);
    process.kill(process.pid, signal);
  }
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, onTerminatingSignal);
  }
}

/**
 * Registers a child process to be SIGKILLed if this process exits (or gets SIGINT/SIGTERM/
 * SIGHUP) while the child is still running. Returns a function that unregisters it. The child
 * unregisters itself when it exits. With `group: true` (a child spawned with `detached: true`,
 * so it leads its own process group) the whole group is killed.
 */
export function killChildOnExit(child: ChildProcess, options: { group?: boolean } = {}): () => void {
  installExitHooks();
  if (options.group) groupLeaders.add(child);
  liveChildren.add(child);
  const forget = (): void => {
    liveChildren.delete(child);
  };
  child.once('exit', forget);
  return forget;
}

// ---------------------------------------------------------------------------------------------

/**
 * Sends a four-letter word (srvr, stat, ruok, mntr, cons, ...) and returns everything the server
 * writes before it closes the connection. Rejects on connection errors or after timeoutMs.
 */
export async function fourLetterWord(
  host: string,
  port: number,
  word: string,
  timeoutMs = 2000,
): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect({ host, port });
    const timer = setTimeout(() => finish(new Error(`fourLetterWord ${word}: timeout after ${timeoutMs} ms`)), timeoutMs);
    function finish(err?: Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    }
    socket.on('connect', () => socket.write(word));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (err) => finish(err));
  });
}

function log4jProperties(logFile: string, level: string): string {
  return [
    `log4j.rootLogger=${level}, FILE`,
    'log4j.appender.FILE=org.apache.log4j.FileAppender',
    `log4j.appender.FILE.File=${logFile}`,
    'log4j.appender.FILE.Append=true',
    'log4j.appender.FILE.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n',
    '',
  ].join('\n');
}

function logbackXml(logFile: string, level: string): string {
  return `<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>${logFile}</file>
    <append>true</append>
    <encoder><pattern>%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n</pattern></encoder>
  </appender>
  <root level="${level}"><appender-ref ref="FILE"/></root>
</configuration>
`;
}

async function tail(file: string, lines = 40): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** True once the child has exited; false if it has not within timeoutMs. */
export async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return true;
  return await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      child.removeListener('exit', onExit);
      resolve(exited(child));
    }, timeoutMs);
    function onExit(): void {
      clearTimeout(timer);
      resolve(true);
    }
    child.once('exit', onExit);
  });
}

class StartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
  }
}

/**
 * Starts Apache ZooKeeper standalone on 127.0.0.1:<free port> in a fresh temporary directory
 * and resolves once `srvr` reports a Mode. Retries with another port (at most 3 attempts) if
 * the port was taken between picking it and the server binding it.
 */
export async function startApacheZooKeeper(options: ApacheZooKeeperOptions = {}): Promise<ApacheZooKeeper> {
  const found = zooKeeperLayout();
  if (found === undefined) {
    throw new Error(
      'Apache ZooKeeper is not installed (need java and /usr/share/java/zookeeper.jar): run scripts/install-peers.sh',
    );
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(found, options);
    } catch (err) {
      lastError = err;
      if (!(err instanceof StartError && err.portInUse)) throw err;
    }
  }
  throw lastError;
}

async function startOnce(found: Layout, options: ApacheZooKeeperOptions): Promise<ApacheZooKeeper> {
  const keepDir = options.keepDir ?? process.env.PADDOCK_KEEP_TMP === '1';
  const dir = await mkdtemp(join(tmpdir(), 'paddock-apache-zk-'));
  if (!keepDir) {
    installExitHooks();
    dirsToRemove.add(dir);
  }
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'zookeeper.log');
  const stdoutFile = join(dir, 'stdout.log');
  const cfgFile = join(dir, 'zoo.cfg');
  const level = options.logLevel ?? 'INFO';
  let child: ChildProcess | undefined;
  let forget: (() => void) | undefined;
  try {
    await mkdir(dataDir);
    const port = await freePort();
    const config: Record<string, string> = {
      tickTime: String(options.tickTime ?? 2000),
      dataDir,
      clientPort: String(port),
      clientPortAddress: '127.0.0.1',
      maxClientCnxns: '0',
      'admin.enableServer': 'false',
      '4lw.commands.whitelist': '*',
      ...(options.extraConfig ?? {}),
    };
    const cfgText = Object.entries(config)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n');
    await writeFile(cfgFile, cfgText + '\n');
    const log4jFile = join(dir, 'log4j.properties');
    const logbackFile = join(dir, 'logback.xml');
    await writeFile(log4jFile, log4jProperties(logFile, level));
    await writeFile(logbackFile, logbackXml(logFile, level));

    const props: Record<string, string> = {
      'log4j.configuration': `file:${log4jFile}`,
      'logback.configurationFile': logbackFile,
      'zookeeper.log.dir': dir,
      'zookeeper.jmx.log4j.disable': 'true',
      'java.net.preferIPv4Stack': 'true',
      ...(options.forceSync === false ? { 'zookeeper.forceSync': 'no' } : {}),
      ...(options.systemProperties ?? {}),
    };
    const args = [
      `-Xmx${options.heapMb ?? 256}m`,
      '-XX:-UsePerfData',
      ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
      ...(options.jvmFlags ?? []),
      '-cp',
      found.classpath,
      MAIN_CLASS,
      cfgFile,
    ];
    const outFd = openSync(stdoutFile, 'a');
    try {
      child = spawn(found.java, args, { cwd: dir, stdio: ['ignore', outFd, outFd] });
    } finally {
      closeSync(outFd);
    }
    const proc = child;
    forget = killChildOnExit(proc);
    let spawnError: Error | undefined;
    proc.once('error', (err) => {
      spawnError = err;
    });

    const timeoutMs = options.startTimeoutMs ?? 30000;
    const deadline = Date.now() + timeoutMs;
    const maxPolls = Math.ceil(timeoutMs / 100) + 1;
    let ready = false;
    let lastReply = '';
    for (let i = 0; i < maxPolls && Date.now() < deadline; i++) {
      if (spawnError) throw new Error(`cannot run ${found.java}: ${spawnError.message}`);
      if (exited(proc)) {
        const logs = (await tail(logFile)) + '\n' + (await tail(stdoutFile));
        throw new StartError(
          `Apache ZooKeeper exited during startup (code ${proc.exitCode}, signal ${proc.signalCode}):\n${logs}`,
          /Address already in use|BindException/.test(logs),
        );
      }
      try {
        lastReply = await fourLetterWord('127.0.0.1', port, 'srvr', 1000);
        if (lastReply.includes('Mode:')) {
          ready = true;
          break;
        }
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    if (!ready) {
      throw new Error(
        `Apache ZooKeeper did not answer srvr with a Mode within ${timeoutMs} ms (last reply ${JSON.stringify(lastReply)}):\n` +
          (await tail(logFile)) +
          '\n' +
          (await tail(stdoutFile)),
      );
    }

    let stopping: Promise<void> | undefined;
    const pid = proc.pid ?? -1;
    const server: ApacheZooKeeper = {
      port,
      connectString: `127.0.0.1:${port}`,
      pid,
      dataDir,
      dir,
      logFile,
      stdoutFile,
      signal(signal: NodeJS.Signals): void {
        if (!exited(proc)) proc.kill(signal);
      },
      stop(): Promise<void> {
        stopping ??= (async () => {
          await stopChild(proc);
          forget?.();
          if (!keepDir) await rm(dir, { recursive: true, force: true });
          dirsToRemove.delete(dir);
        })();
        return stopping;
      },
    };
    return server;
  } catch (err) {
    if (child) await stopChild(child);
    forget?.();
    if (!keepDir) await rm(dir, { recursive: true, force: true });
    dirsToRemove.delete(dir);
    throw err;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (exited(child) || child.pid === undefined) return;
  try {
    child.kill('SIGCONT'); // in case a chaos test left it stopped
    child.kill('SIGTERM');
  } catch {
    // gone
  }
  if (await waitForExit(child, 5000)) return;
  try {
    child.kill('SIGKILL');
  } catch {
    // gone
  }
  await waitForExit(child, 5000);
}

/** Reads the version string the installed server reports (from `srvr`), e.g. "3.8.0". */
export function parseSrvrVersion(srvr: string): string | undefined {
  return /Zookeeper version: ([0-9.]+)/.exec(srvr)?.[1];
}

/** The zoo.cfg written for a running server (useful for debugging). */
export function readConfig(server: ApacheZooKeeper): string {
  return readFileSync(join(server.dir, 'zoo.cfg'), 'utf8');
}
