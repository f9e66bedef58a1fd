/**
 * Runs the real ZooKeeper command-line clients non-interactively against host:port, bounded in
 * time: the Java CLI (zkCli.sh, Debian `zookeeper`), the C client's cli_mt (Debian
 * `zookeeper-bin`) and Python scripts using kazoo (Debian `python3-kazoo`, seen only by
 * /usr/bin/python3).
 *
 * zkCli.sh (ZooKeeper 3.8.0, /usr/share/zookeeper/bin/zkCli.sh)
 *   - Runs org.apache.zookeeper.ZooKeeperMain. jline.jar is missing in Debian, so it falls back
 *     to reading plain lines from stdin ("JLine support is disabled") with no prompt: a batch of
 *     commands piped to stdin runs in order, synchronously, on ONE session.
 *   - Results go to stdout (data, Stat, children) but "Created /x" and every error
 *     ("Node does not exist: /x", "Node already exists: /x", "version No is not valid : /x")
 *     go to stderr. To keep the order we run it as `bash -c 'exec zkCli.sh ... 2>&1'`, so the
 *     batch result has ONE merged stream (`output`).
 *   - SLF4J prints 6 "SLF4J: ..." warnings on stderr at start (no binding on its classpath);
 *     they are filtered out of `output`.
 *   - Exit code = that of the last command (1 if it failed, e.g. NoNode), 0 after EOF/quit.
 *     We append `quit` so the session is closed (EOF alone exits without closing the session,
 *     leaving its ephemerals until the session times out).
 *   - Per-command output: before each command we send `version` (a local command, no server
 *     traffic) which prints "ZooKeeper CLI version: ..."; the merged output is split on those
 *     lines. `version` can't be one of your own commands. The "WatchedEvent state:Closed"
 *     block printed by the final quit is moved to `trailer`.
 *   - Startup is JVM-bound: about 0.6-1 s per invocation on loopback.
 *
 * cli_mt (ZooKeeper 3.8.0 C client, /usr/lib/zookeeper/bin/cli_mt — not on PATH)
 *   - `cli_mt -h host:port`, commands on stdin, EVERYTHING on stderr (except `myid`, which
 *     printf()s to a block-buffered stdout). Exit code is always 0.
 *   - Requests are asynchronous: the completion prints later, from another thread. We send one
 *     command, wait for its completion lines (bounded), then send the next.
 *   - `create [+[e|s|c|t=ttl]] <path>` always stores the 3 bytes "new" — there is no data
 *     argument (everything after "create " is the path, spaces included!). `set <path> <data>`
 *     takes the rest of the line as data. `delete` always uses version -1.
 *   - `exists`/`wexists` are synchronous in cli_mt (THREADED build) and print nothing on
 *     success, only "Error -101 for /x" on failure; we follow them with an internal `sync /`
 *     fence to know they finished.
 *   - A line starting with 'a' (other than addauth) runs the command "asynchronously" —
 *     beware: the 'a' is stripped.
 *
 * kazoo: /usr/bin/python3 (the python3 first on PATH may be pyenv's, which lacks kazoo).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { killChildOnExit } from './apache-zookeeper.js';

// ---------------------------------------------------------------------------------------------
// Generic process runner

export interface ProcessResult {
  stdout: string;
  stderr: string;
  /** Exit code, or null if killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True if we killed it because it ran out of time. */
  timedOut: boolean;
  durationMs: number;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && isFile(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Kills the child's whole process group (it is spawned detached, so it leads its own group). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // gone
    }
  }
}

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once the process exited and its pipes closed (or after the hard deadline). */
  done: Promise<ProcessResult>;
  /** Kill now (SIGTERM to the group, SIGKILL 2 s later). */
  kill: () => void;
  /** Resolves true once the process has exited, false after timeoutMs. */
  waitExit: (timeoutMs: number) => Promise<boolean>;
  /** Resolves when `predicate(stderr/stdout so far)` is true, false on exit or timeout. */
  waitFor: (stream: 'stdout' | 'stderr', predicate: (text: string) => boolean, timeoutMs: number) => Promise<boolean>;
}

function start(command: string, args: string[], options: RunOptions): Running {
  const startedAt = Date.now();
  const timeoutMs = options.timeoutMs ?? 30000;
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // own process group, so a timeout kills grandchildren (zkCli.sh -> java)
  });
  const forget = killChildOnExit(child, { group: true });
  let out = '';
  let err = '';
  let timedOut = false;
  let spawnError: Error | undefined;
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const w of [...waiters]) w();
  };
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (s: string) => {
    out += s;
    notify();
  });
  child.stderr?.on('data', (s: string) => {
    err += s;
    notify();
  });
  child.stdin?.on('error', () => {
    // EPIPE if it exits before reading everything; the exit status tells the story
  });
  let killTimer: NodeJS.Timeout | undefined;
  const kill = (): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killGroup(child, 'SIGTERM');
    killTimer ??= setTimeout(() => killGroup(child, 'SIGKILL'), 2000);
  };
  const deadline = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  const done = new Promise<ProcessResult>((resolve) => {
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(hardStop);
      if (killTimer) clearTimeout(killTimer);
      forget();
      notify();
      if (spawnError) err += `\n[spawn error] ${spawnError.message}\n`;
      resolve({ stdout: out, stderr: err, code, signal, timedOut, durationMs: Date.now() - startedAt });
    };
    // 'close' waits for the pipes; a grandchild holding them open could delay it, so also stop
    // waiting a while after the deadline no matter what.
    const hardStop = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      finish(child.exitCode, child.signalCode);
    }, timeoutMs + 5000);
    child.once('close', (code, signal) => finish(code, signal));
    child.once('error', (e) => {
      spawnError = e;
      finish(null, null);
    });
  });
  const waitFor = (
    stream: 'stdout' | 'stderr',
    predicate: (text: string) => boolean,
    waitMs: number,
  ): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const check = (): void => {
        const text = stream === 'stdout' ? out : err;
        let result: boolean | undefined;
        if (predicate(text)) result = true;
        else if (child.exitCode !== null || child.signalCode !== null || spawnError) result = false;
        if (result !== undefined) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(result);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        resolve(predicate(stream === 'stdout' ? out : err));
      }, Math.max(0, waitMs));
      waiters.add(check); // called on every chunk of output and when the process is done
      check();
    });
  if (options.input !== undefined) {
    child.stdin?.end(options.input);
  }
  const waitExit = async (waitMs: number): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, waitMs));
    });
    const r = await Promise.race([done.then(() => true), timeout]);
    clearTimeout(timer);
    return r;
  };
  return { child, stdout: () => out, stderr: () => err, done, kill, waitExit, waitFor };
}

/** Runs a command to completion (or until timeoutMs, then kills its process group). */
export async function runProcess(command: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  const running = start(command, args, { ...options, input: options.input ?? '' });
  return await running.done;
}

function remaining(deadline: number): number {
  return Math.max(0, deadline - Date.now());
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function checkLine(command: string): void {
  if (/[\r\n]/.test(command)) throw new Error(`a CLI command must be one line: ${JSON.stringify(command)}`);
}

// ---------------------------------------------------------------------------------------------
// zkCli.sh

const ZKCLI_CANDIDATES = ['/usr/share/zookeeper/bin/zkCli.sh', '/usr/bin/zkCli.sh', '/opt/zookeeper/bin/zkCli.sh'];

/** Path of zkCli.sh (ZOOKEEPER_HOME/bin first, then Debian's /usr/share/zookeeper/bin). */
export function zkCliPath(): string | undefined {
  const home = process.env.ZOOKEEPER_HOME;
  if (home && isFile(join(home, 'bin', 'zkCli.sh'))) return join(home, 'bin', 'zkCli.sh');
  for (const candidate of ZKCLI_CANDIDATES) if (isFile(candidate)) return candidate;
  return findOnPath('zkCli.sh');
}

export function zkCliAvailable(): boolean {
  return zkCliPath() !== undefined && (existsSync('/usr/bin/java') || findOnPath('java') !== undefined);
}

export interface ZkCliCommandResult {
  command: string;
  /** What the command printed (stdout and stderr merged, in order), without a trailing newline. */
  output: string;
}

export interface ZkCliResult extends ProcessResult {
  /** stdout and stderr merged in order, minus SLF4J noise. `stdout` holds the same raw text; `stderr` is empty. */
  output: string;
  /** Connection banner (before the first command). */
  banner: string;
  /** What the final `quit` printed (the "WatchedEvent state:Closed" block). */
  trailer: string;
  /** One entry per command, in order; fewer if the run was cut short. */
  results: ZkCliCommandResult[];
}

export interface ZkCliOptions {
  /** Session timeout and -waitforconnection limit in ms (default 10000). */
  sessionTimeoutMs?: number;
  /** Extra environment (e.g. CLIENT_JVMFLAGS). */
  env?: NodeJS.ProcessEnv;
}

const ZKCLI_MARKER = /^ZooKeeper CLI version: .*$/m;
const ZKCLI_JVM_FLAGS = '-Xmx128m -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData';

function zkCliEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, CLIENT_JVMFLAGS: ZKCLI_JVM_FLAGS, ...(extra ?? {}) };
}

function stripSlf4j(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith('SLF4J:'))
    .join('\n');
}

/**
 * Runs a batch of zkCli commands on one session, e.g.
 *   zkCli('127.0.0.1:2181', ['create /a hello', 'get -s /a', 'set /a x', 'delete /a'])
 * Quoting follows zkCli: `create /a "hello world"`.
 */
export async function zkCli(
  connect: string,
  commands: string[],
  timeoutMs = 30000,
  options: ZkCliOptions = {},
): Promise<ZkCliResult> {
  const cli = zkCliPath();
  if (cli === undefined) throw new Error('zkCli.sh not found (Debian package zookeeper): run scripts/install-peers.sh');
  const lines: string[] = [];
  for (const command of commands) {
    checkLine(command);
    if (command.trim() === 'version') throw new Error('zkCli(): `version` is reserved as the batch separator');
    lines.push('version', command);
  }
  const last = commands.at(-1)?.trim();
  if (last !== 'quit') lines.push('quit');
  const sessionTimeout = String(options.sessionTimeoutMs ?? 10000);
  const result = await runProcess(
    'bash',
    ['-c', 'exec "$0" "$@" 2>&1', cli, '-server', connect, '-waitforconnection', '-timeout', sessionTimeout],
    { input: lines.join('\n') + '\n', env: zkCliEnv(options.env), timeoutMs },
  );
  const output = stripSlf4j(result.stdout);
  const parts = output.split(new RegExp(ZKCLI_MARKER.source + '\\n?', 'm'));
  const banner = parts[0] ?? '';
  const results: ZkCliCommandResult[] = [];
  for (let i = 1; i < parts.length && i - 1 < commands.length; i++) {
    results.push({ command: commands[i - 1] ?? '', output: (parts[i] ?? '').replace(/\n$/, '') });
  }
  // The final quit closes the session, which the default watcher reports; cut that off the
  // last command's output. (No marker before quit: the exit code must stay the last command's.)
  // The watcher prints from zkCli's event thread, which the JVM's exit may cut short after
  // "WATCHER::", before the event line.
  let trailer = '';
  const lastResult = results.at(-1);
  if (lastResult && results.length === commands.length) {
    const m = /\n*WATCHER::\n(?:\nWatchedEvent state:Closed type:None path:null\n*)?$/.exec(lastResult.output + '\n');
    if (m) {
      trailer = m[0].replace(/^\n+/, '');
      lastResult.output = lastResult.output.slice(0, m.index);
    }
  }
  return { ...result, output, banner, results, trailer };
}

/**
 * Runs ONE zkCli command as `zkCli.sh -server <connect> <args...>` (its own JVM and session).
 * stdout and stderr stay separate and `code` is the command's own exit status.
 */
export async function zkCliOne(
  connect: string,
  args: string[],
  timeoutMs = 30000,
  options: ZkCliOptions = {},
): Promise<ProcessResult> {
  const cli = zkCliPath();
  if (cli === undefined) throw new Error('zkCli.sh not found (Debian package zookeeper): run scripts/install-peers.sh');
  const sessionTimeout = String(options.sessionTimeoutMs ?? 10000);
  const result = await runProcess(
    cli,
    ['-server', connect, '-waitforconnection', '-timeout', sessionTimeout, ...args],
    { env: zkCliEnv(options.env), timeoutMs },
  );
  return { ...result, stderr: stripSlf4j(result.stderr) };
}

export interface ZkCliStat {
  cZxid: bigint;
  ctime: string;
  mZxid: bigint;
  mtime: string;
  pZxid: bigint;
  cversion: number;
  dataVersion: number;
  aclVersion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
}

/**
 * Parses the Stat zkCli prints (`get -s`, `stat`, `ls -s`, `set -s`, `create -s`...):
 *   cZxid = 0x2
 *   ctime = Sun Nov 22 03:05:18 UTC 2026
 *   mZxid = 0x2 / mtime = ... / pZxid = 0x2
 *   cversion = 0 / dataVersion = 0 / aclVersion = 0
 *   ephemeralOwner = 0x0 / dataLength = 5 / numChildren = 0
 * Returns undefined if no complete Stat is in the text (the last one wins if several).
 */
export function parseZkCliStat(text: string): ZkCliStat | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(cZxid|ctime|mZxid|mtime|pZxid|cversion|dataVersion|aclVersion|ephemeralOwner|dataLength|numChildren) = (.*)$/.exec(
      line,
    );
    if (m) fields.set(m[1] ?? '', m[2] ?? '');
  }
  if (fields.size < 11) return undefined;
  const big = (k: string): bigint => BigInt(fields.get(k) ?? '0');
  const num = (k: string): number => Number(fields.get(k) ?? 'NaN');
  return {
    cZxid: big('cZxid'),
    ctime: fields.get('ctime') ?? '',
    mZxid: big('mZxid'),
    mtime: fields.get('mtime') ?? '',
    pZxid: big('pZxid'),
    cversion: num('cversion'),
    dataVersion: num('dataVersion'),
    aclVersion: num('aclVersion'),
    ephemeralOwner: big('ephemeralOwner'),
    dataLength: num('dataLength'),
    numChildren: num('numChildren'),
  };
}

/** The lines of a zkCli result that are not a Stat line (e.g. the data printed by `get -s`). */
export function zkCliWithoutStat(text: string): string {
  return text
    .split('\n')
    .filter(
      (line) =>
        !/^(cZxid|ctime|mZxid|mtime|pZxid|cversion|dataVersion|aclVersion|ephemeralOwner|dataLength|numChildren) = /.test(
          line,
        ),
    )
    .join('\n');
}

/** Parses the `[a, b, c]` children list zkCli's `ls` prints. */
export function parseZkCliList(text: string): string[] | undefined {
  const m = /^\[(.*)\]$/m.exec(text);
  if (!m) return undefined;
  const inner = m[1] ?? '';
  return inner === '' ? [] : inner.split(', ');
}

// ---------------------------------------------------------------------------------------------
// cli_mt

const CLI_MT_CANDIDATES = ['/usr/lib/zookeeper/bin/cli_mt', '/usr/bin/cli_mt', '/usr/local/bin/cli_mt'];

export function cliMtPath(): string | undefined {
  for (const candidate of CLI_MT_CANDIDATES) if (isFile(candidate)) return candidate;
  return findOnPath('cli_mt');
}

export function cliMtAvailable(): boolean {
  return cliMtPath() !== undefined;
}

export interface CliMtStat {
  ctime: string;
  czxid: bigint;
  mtime: string;
  mzxid: bigint;
  version: number;
  aversion: number;
  ephemeralOwner: bigint;
}

export interface CliMtCommandResult {
  command: string;
  /** Everything cli_mt wrote to stderr from sending this command to its completion. */
  output: string;
  /** The ZooKeeper return code (0 ok, -101 NoNode, -110 NodeExists, -4 ConnectionLoss, ...), if printed. */
  rc?: number;
  /** create/create2: the created path (with the sequence suffix). */
  name?: string;
  /** get/config: the data (null if the node has none or the call failed). */
  value?: string | null;
  /** ls/ls2: the children. */
  children?: string[];
  /** get/set/create2/ls2: the Stat (null when cli_mt printed "null"). */
  stat?: CliMtStat | null;
  /** False if the completion was not seen in time (the run is then cut short). */
  complete: boolean;
}

export interface CliMtResult extends ProcessResult {
  /** True once cli_mt printed "state = CONNECTED_STATE". */
  connected: boolean;
  results: CliMtCommandResult[];
}

export interface CliMtOptions {
  /** Longest wait for one command's completion (default 10000 ms, capped by the overall timeout). */
  commandTimeoutMs?: number;
  /** Wait for the session to connect before sending the first command (default true). */
  waitForConnection?: boolean;
}

interface Completion {
  /** Index in the chunk just past the completion, or -1 if not complete yet. */
  end: number;
  rc?: number;
}

function lineRe(body: string): RegExp {
  return new RegExp(`^${body}$`, 'm');
}

/** Finds `re` in text at or after `from`; returns [matchIndex, indexAfterLineAndNewline, match]. */
function findLine(text: string, re: RegExp, from: number): [number, number, RegExpExecArray] | undefined {
  const sub = text.slice(from);
  const m = re.exec(sub);
  if (!m) return undefined;
  const start = from + m.index;
  const nl = text.indexOf('\n', start + m[0].length);
  if (nl < 0) return undefined; // line not complete yet
  return [start, nl + 1, m];
}

const STAT_END = /^(\tephemeralOwner = [0-9a-f]+|null)$/m;
const SYNC_ERROR =
  /^(Error -?\d+ for .*|Path must start with \/, found: .*|No data found after path|Missing ttl value after \+t|ttl value must be a positive integer|Unknown option: .*|Invalid mode\.)$/m;
const FENCE = 'sync /';
const FENCE_DONE = /^\[\/\]: rc = (-?\d+)$/m;

interface Parsed {
  verb: string;
  path: string;
}

function parseCliMtCommand(command: string): Parsed {
  let line = command;
  if (line.startsWith('a') && !line.startsWith('addauth ')) line = line.slice(1);
  const sp = line.indexOf(' ');
  const verb = sp < 0 ? line : line.slice(0, sp);
  let rest = sp < 0 ? '' : line.slice(sp + 1);
  if ((verb === 'create' || verb === 'create2') && rest.startsWith('+')) {
    const sp2 = rest.indexOf(' ');
    rest = sp2 < 0 ? '' : rest.slice(sp2 + 1);
  }
  if (verb === 'set') {
    const sp3 = rest.indexOf(' ');
    if (sp3 >= 0) rest = rest.slice(0, sp3);
  }
  if (verb === 'config') rest = '/zookeeper/config';
  return { verb, path: rest };
}

/** Does `chunk` (stderr since the command was sent) hold the command's whole completion? */
function completion(p: Parsed, chunk: string, fenced: boolean): Completion {
  const syncErr = findLine(chunk, SYNC_ERROR, 0);
  if (fenced) {
    const fence = findLine(chunk, FENCE_DONE, 0);
    if (!fence) return { end: -1 };
    // A successful sync also prints "\tname = /": it belongs to the fence, not the next command.
    const fenceName = fence[2][1] === '0' ? findLine(chunk, /^\tname = .*$/m, fence[1]) : undefined;
    if (fence[2][1] === '0' && !fenceName) return { end: -1 };
    const m = syncErr ? /^Error (-?\d+) for /.exec(syncErr[2][0]) : null;
    return { end: fenceName?.[1] ?? fence[1], rc: m ? Number(m[1]) : syncErr ? undefined : 0 };
  }
  if (syncErr) return { end: syncErr[1] };
  const path = escapeRegExp(p.path);
  const afterStat = (from: number): number => findLine(chunk, STAT_END, from)?.[1] ?? -1;
  switch (p.verb) {
    case 'create':
    case 'create2': {
      const rcLine = findLine(chunk, lineRe(`\\[${path}\\]: rc = (-?\\d+)`), 0);
      if (!rcLine) return { end: -1 };
      const rc = Number(rcLine[2][1]);
      let end = rcLine[1];
      if (rc === 0) {
        const name = findLine(chunk, /^\tname = .*$/m, end);
        if (!name) return { end: -1 };
        end = name[1];
      }
      if (p.verb === 'create2') end = afterStat(end);
      return { end, rc };
    }
    case 'sync': {
      const rcLine = findLine(chunk, lineRe(`\\[${path}\\]: rc = (-?\\d+)`), 0);
      if (!rcLine) return { end: -1 };
      const rc = Number(rcLine[2][1]);
      if (rc !== 0) return { end: rcLine[1], rc };
      const name = findLine(chunk, /^\tname = .*$/m, rcLine[1]); // printed on success
      return name ? { end: name[1], rc } : { end: -1 };
    }
    case 'delete': {
      const rcLine = findLine(chunk, lineRe(`${path}: rc = (-?\\d+)`), 0);
      return rcLine ? { end: rcLine[1], rc: Number(rcLine[2][1]) } : { end: -1 };
    }
    case 'set': {
      const rcLine = findLine(chunk, lineRe(`${path}: rc = (-?\\d+) Stat:`), 0);
      return rcLine ? { end: afterStat(rcLine[1]), rc: Number(rcLine[2][1]) } : { end: -1 };
    }
    case 'get':
    case 'config': {
      const rcLine = findLine(chunk, lineRe(`${path}: rc = (-?\\d+)`), 0);
      if (!rcLine) return { end: -1 };
      const statHdr = findLine(chunk, /^Stat:$/m, rcLine[1]);
      if (!statHdr) return { end: -1 };
      return { end: afterStat(statHdr[1]), rc: Number(rcLine[2][1]) };
    }
    case 'ls':
    case 'ls2': {
      const rcLine = findLine(chunk, lineRe(`${path}: rc = (-?\\d+)`), 0);
      if (!rcLine) return { end: -1 };
      const time = findLine(chunk, /^time = -?\d+ msec$/m, rcLine[1]);
      if (!time) return { end: -1 };
      return { end: p.verb === 'ls2' ? afterStat(time[1]) : time[1], rc: Number(rcLine[2][1]) };
    }
    default:
      return { end: -1 };
  }
}

/** Commands whose completion prints nothing we can wait for: they get a `sync /` fence. */
function needsFence(verb: string): boolean {
  return !['create', 'create2', 'sync', 'delete', 'set', 'get', 'config', 'ls', 'ls2'].includes(verb);
}

/** Parses cli_mt's Stat dump (the last one in `text`): "\tctime = ...\n\tczxid=f\n..." (hex numbers). */
export function parseCliMtStat(text: string): CliMtStat | null | undefined {
  const re =
    /^\tctime = (.*)\n\tczxid=([0-9a-f]+)\n\tmtime=(.*)\n\tmzxid=([0-9a-f]+)\n\tversion=([0-9a-f]+)\taversion=([0-9a-f]+)\n\tephemeralOwner = ([0-9a-f]+)$/gm;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) last = m;
  if (last === null) return /^null$/m.test(text) ? null : undefined;
  const hex = (s: string | undefined): bigint => BigInt('0x' + (s ?? '0'));
  return {
    ctime: last[1] ?? '',
    czxid: hex(last[2]),
    mtime: last[3] ?? '',
    mzxid: hex(last[4]),
    version: Number(hex(last[5])),
    aversion: Number(hex(last[6])),
    ephemeralOwner: hex(last[7]),
  };
}

function describe(p: Parsed, command: string, output: string, c: Completion, fenced: boolean): CliMtCommandResult {
  const result: CliMtCommandResult = { command, output, complete: c.end >= 0 };
  if (c.rc !== undefined) result.rc = c.rc;
  if (fenced) {
    // Drop the fence's own line from what we show.
    result.output = output.replace(/^\[\/\]: rc = -?\d+\n(\tname = \/\n)?(?![\s\S]*^\[\/\]: rc = )/m, '');
    return result;
  }
  switch (p.verb) {
    case 'create':
    case 'create2': {
      const m = /^\tname = (.*)$/m.exec(output);
      if (m) result.name = m[1];
      if (p.verb === 'create2') result.stat = parseCliMtStat(output) ?? null;
      break;
    }
    case 'set':
      result.stat = parseCliMtStat(output) ?? null;
      break;
    case 'get':
    case 'config': {
      const m = /^ value_len = (\d+)\n/m.exec(output);
      if (m) {
        const len = Number(m[1]);
        const after = Buffer.from(output.slice(m.index + m[0].length), 'utf8');
        result.value = after.subarray(0, len).toString('utf8');
      } else {
        result.value = null;
      }
      result.stat = parseCliMtStat(output) ?? null;
      break;
    }
    case 'ls':
    case 'ls2': {
      const rcIdx = output.search(lineRe(`${escapeRegExp(p.path)}: rc = -?\\d+`));
      const children: string[] = [];
      if (rcIdx >= 0) {
        const lines = output.slice(rcIdx).split('\n').slice(1);
        for (const line of lines) {
          if (/^time = -?\d+ msec$/.test(line)) break;
          if (line.startsWith('\t')) children.push(line.slice(1));
        }
      }
      result.children = children;
      if (p.verb === 'ls2') result.stat = parseCliMtStat(output) ?? null;
      break;
    }
    default:
      break;
  }
  return result;
}

/**
 * Drives the C client shell: `cli_mt -h <connect>`, one command at a time on stdin, waiting
 * (bounded) for each command's completion before sending the next, then `quit`.
 * Commands: create [+e|+s|+es|+c|+t=ms] <path> (data is always "new"), create2, delete <path>,
 * set <path> <data>, get <path>, ls <path>, ls2 <path>, sync <path>, exists <path>,
 * wexists <path>, config, addauth <scheme> <cred>.
 */
export async function cliMt(
  connect: string,
  commands: string[],
  timeoutMs = 30000,
  options: CliMtOptions = {},
): Promise<CliMtResult> {
  const bin = cliMtPath();
  if (bin === undefined) throw new Error('cli_mt not found (Debian package zookeeper-bin): run scripts/install-peers.sh');
  for (const command of commands) checkLine(command);
  const deadline = Date.now() + timeoutMs;
  const running = start(bin, ['-h', connect], { timeoutMs: timeoutMs + 3000 });
  const write = (line: string): void => {
    if (running.child.stdin?.writable) running.child.stdin.write(line + '\n');
  };
  const results: CliMtCommandResult[] = [];
  let connected = false;
  try {
    if (options.waitForConnection ?? true) {
      connected = await running.waitFor('stderr', (t) => /state = CONNECTED_STATE/.test(t), remaining(deadline));
      if (!connected) throw new Error('not connected');
    }
    let offset = running.stderr().length;
    for (const command of commands) {
      const p = parseCliMtCommand(command);
      if (p.verb === 'quit') break;
      const fenced = needsFence(p.verb);
      write(command);
      if (fenced) write(FENCE);
      let c: Completion = { end: -1 };
      const commandTimeout = Math.min(options.commandTimeoutMs ?? 10000, remaining(deadline));
      await running.waitFor(
        'stderr',
        (t) => {
          c = completion(p, t.slice(offset), fenced);
          return c.end >= 0;
        },
        commandTimeout,
      );
      const chunkEnd = c.end >= 0 ? offset + c.end : running.stderr().length;
      results.push(describe(p, command, running.stderr().slice(offset, chunkEnd), c, fenced));
      offset = chunkEnd;
      if (c.end < 0) break; // out of time or exited: later output could not be attributed
    }
  } catch {
    // fall through to quit: the result says what happened
  }
  const cutShort =
    ((options.waitForConnection ?? true) && !connected) ||
    results.length < commands.filter((c) => parseCliMtCommand(c).verb !== 'quit').length ||
    results.some((r) => !r.complete);
  write('quit');
  running.child.stdin?.end();
  if (!(await running.waitExit(Math.min(5000, remaining(deadline) + 2000)))) running.kill();
  const result = await running.done;
  return { ...result, timedOut: result.timedOut || cutShort, connected, results };
}

/**
 * Runs ONE command with cli_mt's batch mode (`cli_mt -h <connect> -c "<command>"`): it exits
 * when the command's completion ran. Only for commands with a completion (not exists/wexists,
 * which would make it wait forever — the timeout then kills it).
 */
export async function cliMtOne(connect: string, command: string, timeoutMs = 15000): Promise<ProcessResult> {
  const bin = cliMtPath();
  if (bin === undefined) throw new Error('cli_mt not found (Debian package zookeeper-bin): run scripts/install-peers.sh');
  checkLine(command);
  return await runProcess(bin, ['-h', connect, '-c', command], { timeoutMs });
}

// ---------------------------------------------------------------------------------------------
// kazoo

/** Debian's python3: the one that sees python3-kazoo. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

let kazooOk: boolean | undefined;
export function kazooAvailable(): boolean {
  if (kazooOk === undefined) {
    if (!isFile(SYSTEM_PYTHON)) kazooOk = false;
    else {
      const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import kazoo.client'], { timeout: 15000, stdio: 'ignore' });
      kazooOk = r.status === 0;
    }
  }
  return kazooOk;
}

/**
 * Runs a Python script (given as source text, fed on stdin) with /usr/bin/python3, which sees
 * Debian's python3-kazoo. `env` is added to this process's environment (pass e.g. ZK_HOSTS);
 * PYTHONPATH/PYTHONHOME are dropped unless given, so a pyenv setup cannot hide kazoo.
 */
export async function kazooPython(
  script: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 30000,
): Promise<ProcessResult> {
  if (!isFile(SYSTEM_PYTHON)) throw new Error(`${SYSTEM_PYTHON} not found: run scripts/install-peers.sh`);
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base.PYTHONPATH;
  delete base.PYTHONHOME;
  return await runProcess(SYSTEM_PYTHON, ['-'], {
    input: script,
    env: { ...base, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', ...env },
    timeoutMs,
  });
}

/** A kazoo script left running, for tests that must act while it runs (e.g. kill it mid-session). */
export interface RunningPython {
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves true once `predicate(stdout so far)` holds; false on exit or after timeoutMs. */
  waitForStdout(predicate: (text: string) => boolean, timeoutMs: number): Promise<boolean>;
  /** Signals the script's process group (it is spawned detached, as its own group). */
  signal(signal: NodeJS.Signals): void;
  /** Resolves when it has exited (it is killed once its overall timeout runs out). */
  readonly done: Promise<ProcessResult>;
}

/**
 * Like kazooPython, but returns at once with a handle on the running script: read its stdout as
 * it comes, and kill it (e.g. SIGKILL, so its session is abandoned without a closeSession).
 */
export function spawnKazooPython(script: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 30000): RunningPython {
  if (!isFile(SYSTEM_PYTHON)) throw new Error(`${SYSTEM_PYTHON} not found: run scripts/install-peers.sh`);
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base.PYTHONPATH;
  delete base.PYTHONHOME;
  const running = start(SYSTEM_PYTHON, ['-'], {
    input: script,
    env: { ...base, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', ...env },
    timeoutMs,
  });
  return {
    pid: running.child.pid ?? -1,
    stdout: running.stdout,
    stderr: running.stderr,
    waitForStdout: (predicate, waitMs) => running.waitFor('stdout', predicate, waitMs),
    signal: (signal) => {
      if (running.child.exitCode === null && running.child.signalCode === null) killGroup(running.child, signal);
    },
    done: running.done,
  };
}
