/**
 * Simulated clients: real ZooKeeperClients on client hosts of the simulated network, and the
 * Recorder that writes what they do into a History (test/sim/history.ts).
 */
import { Err, ZooKeeperClient, ZooKeeperError } from '../../src/client/index.js';
import type { CreateMode, OpResult, Op as ClientOp, Stat, WatchedEvent } from '../../src/client/index.js';
import type { ClientEvent, History, Op, OkValue, Operation, Outcome } from './history.js';
import type { Kernel, SimPlatform } from './kernel.js';

/** One global timeline for every entry of a run. */
export class Recorder {
  readonly operations: Operation[] = [];
  readonly events: ClientEvent[] = [];
  private counter = 0;
  private nextOpId = 0;

  constructor(private readonly kernel: Kernel) {}

  next(): number {
    return this.counter++;
  }

  invoke(client: number, session: string, op: Op): Operation {
    const operation: Operation = {
      id: this.nextOpId++,
      client,
      session,
      op,
      invokeIndex: this.next(),
      invokeMs: this.kernel.elapsed,
      completeIndex: null,
      completeMs: null,
      outcome: null,
    };
    this.operations.push(operation);
    return operation;
  }

  complete(operation: Operation, outcome: Outcome): void {
    operation.completeIndex = this.next();
    operation.completeMs = this.kernel.elapsed;
    operation.outcome = outcome;
  }

  event(event: DistributiveOmit<ClientEvent, 'index' | 'ms'>): void {
    this.events.push({ ...event, index: this.next(), ms: this.kernel.elapsed } as ClientEvent);
  }

  history(): History {
    return { operations: this.operations, events: this.events };
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Error codes that mean the operation certainly did not take effect. */
const DEFINITE_FAILURES = new Set<number>([
  Err.NoNode,
  Err.NodeExists,
  Err.BadVersion,
  Err.NotEmpty,
  Err.NoChildrenForEphemerals,
  Err.NoAuth,
  Err.InvalidACL,
  Err.BadArguments,
  Err.Unimplemented,
]);

export function hex(value: bigint): string {
  return BigInt.asUintN(64, value).toString(16);
}

function outcomeOfError(error: unknown): Outcome {
  if (error instanceof ZooKeeperError) {
    if (DEFINITE_FAILURES.has(error.code)) return { type: 'fail', code: error.code };
    return { type: 'unknown', reason: error.codeName };
  }
  return { type: 'unknown', reason: error instanceof Error ? error.message : String(error) };
}

const MODES: Record<Extract<Op, { type: 'create' }>['mode'], CreateMode> = {
  persistent: 'persistent',
  ephemeral: 'ephemeral',
  persistent_sequential: 'persistentSequential',
  ephemeral_sequential: 'ephemeralSequential',
  container: 'container',
  ttl: 'persistentWithTtl',
};

const statValue = (stat: Stat): OkValue => ({ kind: 'stat', version: stat.version, mzxid: hex(stat.mzxid) });

function toClientOp(op: Extract<Op, { type: 'multi' }>['ops'][number]): ClientOp {
  switch (op.type) {
    case 'create':
      return { type: 'create', path: op.path, data: op.data, mode: MODES[op.mode], ttlMs: op.mode === 'ttl' ? 2000 : undefined };
    case 'setData':
      return { type: 'setData', path: op.path, data: op.data, version: op.version };
    case 'delete':
      return { type: 'delete', path: op.path, version: op.version };
    case 'check':
      return { type: 'check', path: op.path, version: op.version };
  }
}

function multiResult(result: OpResult): OkValue {
  switch (result.type) {
    case 'create':
      return { kind: 'created', path: result.path };
    case 'setData':
      return statValue(result.stat);
    default:
      return { kind: 'none' };
  }
}

export interface SimClientOptions {
  id: number;
  host: string;
  platform: SimPlatform;
  connectString: string;
  sessionTimeoutMs: number;
  recorder: Recorder;
  kernel: Kernel;
}

/** One ZooKeeper handle (one session) on a client host; a new session is a new SimClient. */
export class SimClient {
  readonly id: number;
  zk: ZooKeeperClient | null = null;
  /** connecting → connected (a session) → gone (expired, closed, or never got a session). */
  state: 'connecting' | 'ready' | 'gone' = 'connecting';
  readonly versions = new Map<string, number>();
  readonly created: string[] = [];
  inFlight = 0;

  constructor(readonly options: SimClientOptions) {
    this.id = options.id;
  }

  get session(): string {
    return this.zk && this.zk.sessionId !== 0n ? hex(this.zk.sessionId) : '';
  }

  private get recorder(): Recorder {
    return this.options.recorder;
  }

  /** Starts connecting; `ready` when a session exists, `gone` when it never will. */
  start(): void {
    const { connectString, sessionTimeoutMs, platform } = this.options;
    const connecting = ZooKeeperClient.connect({
      connectString,
      sessionTimeoutMs,
      platform,
      maxReconnectDelayMs: 500,
      onReplyHeader: (xid, zxid, err) => this.recorder.event({ kind: 'zxid', client: this.id, session: this.session, xid, zxid: hex(zxid), err }),
    });
    connecting.then(
      (zk) => {
        this.zk = zk;
        if (this.state === 'gone') {
          void zk.close().catch(() => undefined);
          return;
        }
        this.state = 'ready';
        this.recorder.event({ kind: 'session', client: this.id, session: this.session, state: 'connected' });
        zk.on('connected', (info) => this.recorder.event({ kind: 'session', client: this.id, session: this.session, state: 'connected', member: info.host }));
        zk.on('disconnected', () => this.recorder.event({ kind: 'session', client: this.id, session: this.session, state: 'disconnected' }));
        zk.on('expired', () => {
          this.recorder.event({ kind: 'session', client: this.id, session: this.session, state: 'expired' });
          this.state = 'gone';
        });
        zk.on('closed', () => {
          this.recorder.event({ kind: 'session', client: this.id, session: this.session, state: 'closed' });
          this.state = 'gone';
        });
        zk.on('error', (error) => this.options.kernel.fail(`client ${this.id}: a watch callback threw: ${error.message}`));
      },
      () => {
        this.state = 'gone';
        this.options.kernel.trace(`client ${this.id}: no session`);
      },
    );
  }

  private watcher = (event: WatchedEvent): void => {
    this.recorder.event({ kind: 'watch', client: this.id, session: this.session, eventType: event.type, path: event.path });
  };

  /** Runs one op, recording its invocation and completion. */
  async run(op: Op): Promise<Outcome> {
    const zk = this.zk;
    if (!zk || this.state !== 'ready') throw new Error(`client ${this.id} has no session`);
    const operation = this.recorder.invoke(this.id, this.session, op);
    this.inFlight++;
    let outcome: Outcome;
    try {
      outcome = { type: 'ok', value: await this.perform(zk, op) };
    } catch (error) {
      outcome = outcomeOfError(error);
    }
    this.inFlight--;
    this.recorder.complete(operation, outcome);
    this.learn(op, outcome);
    if (op.type === 'closeSession') this.state = 'gone';
    return outcome;
  }

  private async perform(zk: ZooKeeperClient, op: Op): Promise<OkValue> {
    switch (op.type) {
      case 'create': {
        const path = await zk.create(op.path, op.data, { mode: MODES[op.mode], ttlMs: op.mode === 'ttl' ? 2000 : undefined });
        return { kind: 'created', path };
      }
      case 'setData':
        return statValue(await zk.setData(op.path, op.data, op.version));
      case 'delete':
        await zk.delete(op.path, op.version);
        return { kind: 'none' };
      case 'check':
        await zk.check(op.path, op.version);
        return { kind: 'none' };
      case 'getData': {
        const result = await zk.getData(op.path, op.watch ? this.watcher : undefined);
        return { kind: 'data', data: result.data.toString('utf8'), version: result.stat.version, mzxid: hex(result.stat.mzxid) };
      }
      case 'exists': {
        const stat = await zk.exists(op.path, op.watch ? this.watcher : undefined);
        return stat ? statValue(stat) : { kind: 'absent' };
      }
      case 'getChildren':
        return { kind: 'children', children: [...(await zk.getChildren(op.path, op.watch ? this.watcher : undefined))].sort() };
      case 'syncRead': {
        await zk.sync(op.path);
        const result = await zk.getData(op.path);
        return { kind: 'data', data: result.data.toString('utf8'), version: result.stat.version, mzxid: hex(result.stat.mzxid) };
      }
      case 'multi': {
        const results = await zk.multi(op.ops.map(toClientOp));
        return { kind: 'multi', results: results.map(multiResult) };
      }
      case 'closeSession':
        // close() resolves whether or not the server answered: what it did is not observable.
        await zk.close();
        throw new Error('closeSession: close() does not tell whether the server closed the session');
    }
  }

  /** Remembers versions and created names, for the workload's next conditional ops. */
  private learn(op: Op, outcome: Outcome): void {
    if (outcome.type !== 'ok') return;
    const value = outcome.value;
    if ((op.type === 'getData' || op.type === 'syncRead' || op.type === 'setData' || op.type === 'exists') && (value.kind === 'data' || value.kind === 'stat')) {
      this.versions.set(op.path, value.version);
    }
    if (op.type === 'create' && value.kind === 'created' && op.mode.endsWith('sequential') && this.created.length < 50) this.created.push(value.path);
  }

  /** Closes the handle without recording an op (end of run). */
  async shutdown(): Promise<void> {
    this.state = 'gone';
    if (this.zk) await this.zk.close().catch(() => undefined);
  }
}
