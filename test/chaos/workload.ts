/**
 * Chaos clients: each worker holds one ZooKeeperClient at a time (a new handle after expiry,
 * a timeout or closeSession is a new history client) and runs one op at a time on a small key
 * space, recording every invocation, completion, watch event, reply zxid and session change.
 */
import { EventType, ZooKeeperClient } from '../../src/client/index.js';
import type { ConnectOptions } from '../../src/client/index.js';
import type { Op, OkValue, Outcome } from '../sim/history.js';

type Mode = Extract<Op, { type: 'create' }>['mode'];
import { Prng } from '../sim/prng.js';
import { CREATE_MODES, multiResult, outcomeOfError, sessionHex, statValue, toClientOp, zxidHex } from '../sim/recording.js';
import type { Mark, Recorder } from '../sim/recording.js';

/**
 * The key space of one round: /rN/k0../rN/k4, ephemerals /rN/e/n0..n2, sequentials under
 * /rN/s. Workers move to a fresh round every `roundMs` (closing their sessions first), so the
 * linearizability search, which runs per group of paths ops join, never carries a round's
 * ops in doubt into the next: a long run is many short ones for the checker. Multis only join
 * keys of one group (k0+k1, k2+k3, k4), for the same reason.
 */
export interface KeySpace {
  root: string;
  keys: string[];
  groups: string[][];
  ephemeralParent: string;
  ephemeralNames: string[];
  sequentialParent: string;
}

export function keySpace(round: number): KeySpace {
  const root = `/r${round}`;
  const k = (i: number): string => `${root}/k${i}`;
  return {
    root,
    keys: [0, 1, 2, 3, 4].map(k),
    groups: [[k(0), k(1)], [k(2), k(3)], [k(4)]],
    ephemeralParent: `${root}/e`,
    ephemeralNames: [0, 1, 2].map((i) => `${root}/e/n${i}`),
    sequentialParent: `${root}/s`,
  };
}

/** An op that has not completed in this long is recorded unknown and its handle abandoned. */
export const OP_TIMEOUT_MS = 15_000;
/** Bounds on one worker: ops, and handles (a new one after expiry/close/timeout). */
const MAX_OPS_PER_WORKER = 200_000;
const MAX_HANDLES_PER_WORKER = 2_000;

/** A worker whose handle lost its connection waits this long for it to come back before the next op. */
const RECONNECT_WAIT_MS = 2000;

/** Resolves when `c` is connected again, ends, or after `timeoutMs` (not an assertion: pacing). */
function untilConnected(c: ZooKeeperClient, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      for (const name of ['connected', 'expired', 'closed'] as const) c.off(name, done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    for (const name of ['connected', 'expired', 'closed'] as const) c.once(name, done);
  });
}

export interface WorkloadOptions {
  connectString: string;
  sessionTimeoutMs: number;
  /** Pause between one worker's ops (ms, drawn in [0, thinkMs]); keeps histories checkable. */
  thinkMs: number;
  /** Round r (keySpace(r)) runs from startMs + r * roundMs; the last round has no end. */
  startMs: number;
  roundMs: number;
  rounds: number;
}

export function roundAt(options: WorkloadOptions, nowMs: number): number {
  return Math.max(0, Math.min(options.rounds - 1, Math.floor((nowMs - options.startMs) / options.roundMs)));
}

/** Hands out history client numbers (one per handle) across workers. */
export class ClientNumbers {
  private next = 0;
  take(): number {
    return this.next++;
  }
}

export class Worker {
  private client: ZooKeeperClient | null = null;
  private clientNo = -1;
  private readonly versions = new Map<string, number>();
  private seq = 0;
  private handles = 0;
  private round = 0;
  /** The client number whose closeSession is in flight, and whether its reply came (ok). */
  private closingClient = -1;
  private closeAcked = false;
  /** The timeline mark of the last reply to this worker's current handle (see Recorder.mark). */
  private replyMark: Mark | null = null;

  constructor(
    private readonly recorder: Recorder,
    private readonly numbers: ClientNumbers,
    private readonly random: Prng,
    private readonly options: WorkloadOptions,
  ) {}

  /** Opens a handle, recording its session events; null if no session could be had in time. */
  private async open(): Promise<ZooKeeperClient | null> {
    const no = this.numbers.take();
    this.handles++;
    let handle: ZooKeeperClient | null = null;
    const session = (): string => sessionHex(handle?.sessionId ?? 0n);
    const options: ConnectOptions = {
      connectString: this.options.connectString,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
      maxReconnectDelayMs: 200,
      onReplyHeader: (xid, zxid, err) => {
        this.recorder.event({ kind: 'zxid', client: no, session: session(), xid, zxid: zxidHex(zxid), err });
        if (xid < 0 || no !== this.clientNo) return;
        // A reply to this worker's op in flight (one at a time): the op completes here.
        this.replyMark = this.recorder.mark();
        // The reply to closeSession: the only request in flight while this worker closes.
        if (this.closingClient === no && err === 0) this.closeAcked = true;
      },
    };
    try {
      handle = await ZooKeeperClient.connect(options);
    } catch {
      return null;
    }
    const h = handle;
    this.recorder.event({ kind: 'session', client: no, session: session(), state: 'connected' });
    h.on('connected', (info) => this.recorder.event({ kind: 'session', client: no, session: session(), state: 'connected', member: `${info.host}:${info.port}` }));
    h.on('disconnected', () => this.recorder.event({ kind: 'session', client: no, session: session(), state: 'disconnected' }));
    h.on('expired', () => this.recorder.event({ kind: 'session', client: no, session: session(), state: 'expired' }));
    h.on('closed', () => this.recorder.event({ kind: 'session', client: no, session: session(), state: 'closed' }));
    h.on('error', () => undefined);
    this.clientNo = no;
    this.client = h;
    return h;
  }

  /** Runs ops until `deadlineMs`; then closes its session (recorded). */
  async run(deadlineMs: number): Promise<void> {
    for (let ops = 0; ops < MAX_OPS_PER_WORKER && Date.now() < deadlineMs && this.handles < MAX_HANDLES_PER_WORKER; ops++) {
      const c = this.client ?? (await this.open());
      if (c === null) continue;
      if (c.state === 'expired' || c.state === 'closed') {
        await this.closeSession();
        continue;
      }
      const round = roundAt(this.options, Date.now());
      if (round !== this.round) {
        // No session spans two rounds: its closeSession would join their paths for the checker.
        this.round = round;
        this.versions.clear();
        await this.closeSession();
        continue;
      }
      await this.step(c, keySpace(round));
      if (c.state === 'connecting' || c.state === 'disconnected') await untilConnected(c, RECONNECT_WAIT_MS);
      if (this.options.thinkMs > 0) await new Promise((r) => setTimeout(r, this.random.int(this.options.thinkMs + 1)));
    }
    await this.closeSession();
  }

  /** The current handle, or a new one; null if none could be had in a bounded number of tries. */
  private async handle(): Promise<ZooKeeperClient | null> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const c = this.client;
      if (c !== null && c.state !== 'expired' && c.state !== 'closed') return c;
      await this.closeSession();
      await this.open();
    }
    return null;
  }

  /** The final reads after the heal: a syncRead of every key, the children of every parent. */
  async finalReads(keys: readonly string[], parents: readonly string[]): Promise<void> {
    const c = await this.handle();
    if (c === null) throw new Error('final reads: no session from any member');
    for (const key of keys) await this.syncRead(c, key);
    for (const parent of parents) await this.getChildren(c, parent, false);
    await this.closeSession();
  }

  /**
   * Ends the handle. Unless its session is already over, the close is recorded: ok only when
   * the server acknowledged it (close() resolves either way), else in doubt.
   */
  async closeSession(): Promise<void> {
    const c = this.client;
    if (c === null) return;
    this.client = null;
    if (c.state === 'expired' || c.state === 'closed') return;
    this.closingClient = this.clientNo;
    this.closeAcked = false;
    const operation = this.recorder.invoke(this.clientNo, sessionHex(c.sessionId), { type: 'closeSession' });
    this.replyMark = null;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([c.close().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, OP_TIMEOUT_MS)))]);
    clearTimeout(timer);
    if (this.closeAcked) this.recorder.complete(operation, { type: 'ok', value: { kind: 'none' } }, this.replyMark ?? undefined);
    else this.recorder.complete(operation, { type: 'unknown', reason: 'closeSession not acknowledged' });
    this.closingClient = -1;
  }

  /** Records one op around `run`; an unknown outcome from a dead or stuck handle drops it. */
  async perform(c: ZooKeeperClient, op: Op, run: () => Promise<OkValue>): Promise<Outcome> {
    const operation = this.recorder.invoke(this.clientNo, sessionHex(c.sessionId), op);
    this.replyMark = null;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply in ${OP_TIMEOUT_MS} ms`)), OP_TIMEOUT_MS);
    });
    let outcome: Outcome;
    try {
      outcome = { type: 'ok', value: await Promise.race([run(), timeout]) };
    } catch (error) {
      outcome = outcomeOfError(error);
    } finally {
      clearTimeout(timer);
    }
    // A server's answer completes at its reply; a client-made error (no reply) at once.
    this.recorder.complete(operation, outcome, outcome.type !== 'unknown' ? (this.replyMark ?? undefined) : undefined);
    // A stuck handle is closed (recorded) and replaced; an expired one is just replaced.
    if (outcome.type === 'unknown' && (outcome.reason.startsWith('no reply') || c.state === 'expired' || c.state === 'closed')) await this.closeSession();
    return outcome;
  }

  private data(): string {
    return `${this.clientNo}:${this.seq++}`;
  }

  private watcher(path: string): (event: { type: number; path: string }) => void {
    const no = this.clientNo;
    const c = this.client;
    return (event) => {
      if (event.type === EventType.None) return;
      this.recorder.event({ kind: 'watch', client: no, session: sessionHex(c?.sessionId ?? 0n), eventType: event.type, path: event.path || path });
    };
  }

  private async step(c: ZooKeeperClient, space: KeySpace): Promise<void> {
    const r = this.random;
    const key = r.pick(space.keys);
    const group = space.groups.find((g) => g.includes(key)) ?? [key];
    const action = r.weighted<() => Promise<unknown>>([
      [15, () => this.setData(c, key, -1)],
      [10, () => this.setData(c, key, this.versions.get(key) ?? r.int(4))],
      [8, () => this.getData(c, key, r.chance(0.5))],
      [5, () => this.exists(c, key, r.chance(0.7))],
      [10, () => this.syncRead(c, key)],
      [4, () => this.create(c, key, 'persistent')],
      [3, () => this.remove(c, key, r.chance(0.5) ? -1 : (this.versions.get(key) ?? 0))],
      [5, () => this.create(c, r.pick(space.ephemeralNames), 'ephemeral')],
      [3, () => this.remove(c, r.pick(space.ephemeralNames), -1)],
      [3, () => this.create(c, `${space.sequentialParent}/q-`, 'persistent_sequential')],
      [3, () => this.create(c, `${space.sequentialParent}/e-`, 'ephemeral_sequential')],
      [3, () => this.getChildren(c, r.pick([space.ephemeralParent, space.sequentialParent]), r.chance(0.5))],
      [4, () => this.multiCheckSet(c, key, r.pick(group))],
      [2, () => this.multiCreateDelete(c, key)],
      [1, () => this.closeSession()],
    ]);
    await action();
  }

  async setData(c: ZooKeeperClient, path: string, version: number): Promise<void> {
    const data = this.data();
    const outcome = await this.perform(c, { type: 'setData', path, data, version }, async () => statValue(await c.setData(path, data, version)));
    if (outcome.type === 'ok' && outcome.value.kind === 'stat') this.versions.set(path, outcome.value.version);
  }

  async getData(c: ZooKeeperClient, path: string, watch: boolean): Promise<void> {
    const outcome = await this.perform(c, { type: 'getData', path, watch }, async () => {
      const { data, stat } = await c.getData(path, watch ? this.watcher(path) : undefined);
      return { kind: 'data', data: data.toString('utf8'), version: stat.version, mzxid: zxidHex(stat.mzxid) };
    });
    if (outcome.type === 'ok' && outcome.value.kind === 'data') this.versions.set(path, outcome.value.version);
  }

  async exists(c: ZooKeeperClient, path: string, watch: boolean): Promise<void> {
    await this.perform(c, { type: 'exists', path, watch }, async () => {
      const stat = await c.exists(path, watch ? this.watcher(path) : undefined);
      return stat === null ? { kind: 'absent' } : statValue(stat);
    });
  }

  async syncRead(c: ZooKeeperClient, path: string): Promise<void> {
    const outcome = await this.perform(c, { type: 'syncRead', path }, async () => {
      await c.sync(path);
      const { data, stat } = await c.getData(path);
      return { kind: 'data', data: data.toString('utf8'), version: stat.version, mzxid: zxidHex(stat.mzxid) };
    });
    if (outcome.type === 'ok' && outcome.value.kind === 'data') this.versions.set(path, outcome.value.version);
  }

  async getChildren(c: ZooKeeperClient, path: string, watch: boolean): Promise<void> {
    await this.perform(c, { type: 'getChildren', path, watch }, async () => ({
      kind: 'children',
      children: (await c.getChildren(path, watch ? this.watcher(path) : undefined)).sort(),
    }));
  }

  async create(c: ZooKeeperClient, path: string, mode: Mode): Promise<void> {
    const data = this.data();
    await this.perform(c, { type: 'create', path, data, mode }, async () => ({ kind: 'created', path: await c.create(path, data, { mode: CREATE_MODES[mode] }) }));
  }

  async remove(c: ZooKeeperClient, path: string, version: number): Promise<void> {
    await this.perform(c, { type: 'delete', path, version }, async () => {
      await c.delete(path, version);
      return { kind: 'none' };
    });
  }

  /** check(a, known version) + setData(b): all or nothing. */
  async multiCheckSet(c: ZooKeeperClient, a: string, b: string): Promise<void> {
    const ops: Extract<Op, { type: 'multi' }>['ops'] = [
      { type: 'check', path: a, version: this.versions.get(a) ?? 0 },
      { type: 'setData', path: b, data: this.data(), version: -1 },
    ];
    await this.multi(c, ops);
  }

  /** delete(a) + create(a): replaces a node in one step (fails if it is missing). */
  async multiCreateDelete(c: ZooKeeperClient, a: string): Promise<void> {
    await this.multi(c, [
      { type: 'delete', path: a, version: -1 },
      { type: 'create', path: a, data: this.data(), mode: 'persistent' },
    ]);
  }

  private async multi(c: ZooKeeperClient, ops: Extract<Op, { type: 'multi' }>['ops']): Promise<void> {
    const clientOps = ops.map(toClientOp);
    await this.perform(c, { type: 'multi', ops }, async () => ({ kind: 'multi', results: (await c.multi(clientOps)).map(multiResult) }));
  }
}
