/**
 * The two servers a differential test file compares, started once per file with the same
 * relevant settings, and the per-file script runner on top of them.
 *
 * Settings given to both:
 * - tickTime 2000 (so both negotiate the same session timeouts);
 * - extended types (TTL nodes) on or off: zoo.cfg `extendedTypesEnabled` for Paddock, the
 *   system property `zookeeper.extendedTypesEnabled` for ZooKeeper;
 * - the container/TTL reaper made effectively idle (check interval one hour): a reaper pass
 *   during a run would delete nodes under a script and spend zxids between its steps.
 *   ZooKeeper reads it as the system property `znode.container.checkIntervalMs` (without the
 *   `zookeeper.` prefix a zoo.cfg key would get), Paddock from zoo.cfg;
 * - no limit on connections per client address.
 *
 * Set PADDOCK_DIFF_PADDOCK=process to run Paddock as a `paddock start` child process (the
 * default is in-process, which is faster on a 2-core machine).
 */
import { after, before } from 'node:test';
import { apacheZooKeeperAvailable, startApacheZooKeeper } from '../support/apache-zookeeper.js';
import { startInProcess, startProcess } from '../support/paddock.js';
import type { Script } from './model.js';
import { showScript } from './model.js';
import { KNOWN_DIFFERENCES } from './known-differences.js';
import { compareTraces, runScript, sideBySide } from './runner.js';
import type { CompareOptions, Mismatch, Target, Trace } from './runner.js';

export interface PairOptions {
  extendedTypes?: boolean;
}

export interface ScriptResult {
  paddock: Trace;
  zookeeper: Trace;
  mismatch: Mismatch | null;
}

export const SKIP_WITHOUT_ZOOKEEPER = apacheZooKeeperAvailable() ? false : 'Apache ZooKeeper (Debian zookeeper) is not installed';

const REAPER_IDLE_MS = '3600000';

export class ServerPair {
  private scripts = 0;

  private constructor(
    readonly paddock: Target,
    readonly zookeeper: Target,
    private readonly stops: (() => Promise<void>)[],
  ) {}

  static async start(options: PairOptions = {}): Promise<ServerPair> {
    const extended = options.extendedTypes ?? true;
    const paddockSettings: Record<string, string> = {
      tickTime: '2000',
      maxClientCnxns: '0',
      forceSync: 'no',
      extendedTypesEnabled: String(extended),
      'znode.container.checkIntervalMs': REAPER_IDLE_MS,
    };
    const [paddock, zookeeper] = await Promise.all([
      process.env.PADDOCK_DIFF_PADDOCK === 'process' ? startProcess({ settings: paddockSettings }) : startInProcess(paddockSettings),
      startApacheZooKeeper({
        tickTime: 2000,
        forceSync: false,
        logLevel: 'WARN',
        systemProperties: {
          'zookeeper.extendedTypesEnabled': String(extended),
          'znode.container.checkIntervalMs': REAPER_IDLE_MS,
        },
      }),
    ]);
    return new ServerPair(
      { name: 'paddock', connectString: paddock.connectString },
      { name: 'zookeeper', connectString: zookeeper.connectString },
      [() => paddock.stop(), () => zookeeper.stop()],
    );
  }

  /** Runs `script` on both servers at once, each under a fresh root `/s<N>` (the same N on both). */
  async run(script: Script, options: CompareOptions = {}): Promise<ScriptResult> {
    const root = `/s${++this.scripts}`;
    const [paddock, zookeeper] = await Promise.all([runScript(this.paddock, script, root), runScript(this.zookeeper, script, root)]);
    return { paddock, zookeeper, mismatch: compareTraces(script, paddock, zookeeper, ['paddock', 'zookeeper'], options) };
  }

  /**
   * Runs `script` and throws a readable report if the servers disagree (beyond the known
   * Paddock bugs of known-differences.ts, unless `strict`); resolves with ZooKeeper's trace.
   */
  async expectSame(script: Script, options: { strict?: boolean } = {}): Promise<Trace> {
    const result = await this.run(script, options.strict ? {} : { tolerate: KNOWN_DIFFERENCES });
    if (result.mismatch) {
      const detail = process.env.PADDOCK_DIFF_VERBOSE
        ? sideBySide(script, result.paddock, result.zookeeper, ['paddock', 'zookeeper'])
        : `${showScript(script)}\n${result.mismatch.report}`;
      throw new Error(`Paddock and Apache ZooKeeper disagree.\nscript:\n${detail}`);
    }
    return result.zookeeper;
  }

  get scriptsRun(): number {
    return this.scripts;
  }

  async stop(): Promise<void> {
    await Promise.all(this.stops.map((stop) => stop().catch(() => undefined)));
  }
}

/**
 * A pair started before the tests of the suite this is called in and stopped after them. The
 * servers exist only from the suite's `before` on, so call its methods in tests and hooks.
 */
export function pairForSuite(options: PairOptions): Pick<ServerPair, 'run' | 'expectSame'> {
  let pair: ServerPair | undefined;
  before(async () => {
    pair = await ServerPair.start(options);
  });
  after(async () => {
    await pair?.stop();
  });
  const started = (): ServerPair => {
    if (pair === undefined) throw new Error('the server pair is not started yet: use it inside a test');
    return pair;
  };
  return {
    run: (script, compare) => started().run(script, compare),
    expectSame: (script, strictness) => started().expectSame(script, strictness),
  };
}

/** Every error code in a trace's outcomes, multi results included. */
export function errorCodes(trace: Trace): Set<string> {
  const codes = new Set<string>();
  for (const step of trace.steps) {
    for (const outcome of step.outcomes) {
      for (const match of outcome.matchAll(/\berr(?:or)? ([A-Z]\w+)/g)) codes.add(match[1]!);
    }
  }
  return codes;
}

/** Throws unless ZooKeeper's trace shows each of `codes` (so a script covers what it claims to). */
export function assertCovers(trace: Trace, codes: readonly string[]): void {
  const seen = errorCodes(trace);
  const missing = codes.filter((code) => !seen.has(code));
  if (missing.length > 0) throw new Error(`the script never got ${missing.join(', ')} from ZooKeeper (it got ${[...seen].join(', ')})`);
}

/** True when some session of some step of the trace received an event matching `pattern`. */
export function sawEvent(trace: Trace, pattern: RegExp): boolean {
  return trace.steps.some((step) => step.events.some((events) => events.some((event) => pattern.test(event))));
}
