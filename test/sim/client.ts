/**
 * Simulated clients: real ZooKeeperClients on client hosts of the simulated network, whose
 * every op, reply zxid, watch event and session change goes to the run's Recorder.
 */
import { Err, ZooKeeperClient, ZooKeeperError } from '../../src/client/index.js';
import type { WatchedEvent } from '../../src/client/index.js';
import type { Op, OkValue, Operation, Outcome } from './history.js';
import type { Kernel, SimPlatform } from './kernel.js';
import { CREATE_MODES, TTL_MS, hex, multiResult, outcomeOfError, statValue, toClientOp, zxidHex } from './recording.js';
import type { Mark, Recorder } from './recording.js';

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
  /** xid of an op's last request → the op, until its reply header arrives. */
  private readonly awaiting = new Map<number, Operation>();
  /** Ops whose reply arrived → the index reserved for their completion at that moment. */
  private readonly replyIndex = new Map<Operation, Mark>();

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
      onReplyHeader: (xid, zxid, err) => {
        this.recorder.event({ kind: 'zxid', client: this.id, session: this.session, xid, zxid: zxidHex(zxid), err });
        const operation = this.awaiting.get(xid);
        if (operation === undefined) return;
        this.awaiting.delete(xid);
        this.replyIndex.set(operation, this.recorder.mark());
      },
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
      outcome = { type: 'ok', value: await this.perform(zk, op, operation) };
    } catch (error) {
      outcome = outcomeOfError(error);
    }
    this.inFlight--;
    for (const [xid, o] of this.awaiting) if (o === operation) this.awaiting.delete(xid);
    const replied = this.replyIndex.get(operation);
    this.replyIndex.delete(operation);
    this.recorder.complete(operation, outcome, replied);
    this.learn(op, outcome);
    if (op.type === 'closeSession') this.state = 'gone';
    return outcome;
  }

  /**
   * The op completes, in the history, when its reply arrives: the promise settles some
   * microtasks later, and a watch notification in the same bytes would otherwise be recorded
   * before a reply that came ahead of it on the wire. A call that sends a request takes the
   * next xid synchronously (the client's xid counter, read here: test code); a call refused
   * at once takes none, and is not mapped.
   */
  private sent<T>(zk: ZooKeeperClient, operation: Operation, call: () => Promise<T>): Promise<T> {
    const counter = zk as unknown as { xid: number };
    const before = counter.xid;
    const promise = call();
    if (counter.xid !== before) this.awaiting.set(counter.xid, operation);
    return promise;
  }

  private async perform(zk: ZooKeeperClient, op: Op, operation: Operation): Promise<OkValue> {
    const send = <T>(call: () => Promise<T>) => this.sent(zk, operation, call);
    switch (op.type) {
      case 'create': {
        const path = await send(() => zk.create(op.path, op.data, { mode: CREATE_MODES[op.mode], ttlMs: op.mode === 'ttl' ? TTL_MS : undefined }));
        return { kind: 'created', path };
      }
      case 'setData':
        return statValue(await send(() => zk.setData(op.path, op.data, op.version)));
      case 'delete':
        await send(() => zk.delete(op.path, op.version));
        return { kind: 'none' };
      case 'check':
        await send(() => zk.check(op.path, op.version));
        return { kind: 'none' };
      case 'getData': {
        const result = await send(() => zk.getData(op.path, op.watch ? this.watcher : undefined));
        return { kind: 'data', data: result.data.toString('utf8'), version: result.stat.version, mzxid: hex(result.stat.mzxid) };
      }
      case 'exists': {
        const stat = await send(() => zk.exists(op.path, op.watch ? this.watcher : undefined));
        return stat ? statValue(stat) : { kind: 'absent' };
      }
      case 'getChildren':
        return { kind: 'children', children: [...(await send(() => zk.getChildren(op.path, op.watch ? this.watcher : undefined)))].sort() };
      case 'syncRead': {
        await zk.sync(op.path);
        const result = await send(() => zk.getData(op.path));
        return { kind: 'data', data: result.data.toString('utf8'), version: result.stat.version, mzxid: hex(result.stat.mzxid) };
      }
      case 'multi': {
        const results = await send(() => zk.multi(op.ops.map(toClientOp)));
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

  /**
   * Creates a persistent node without recording it (setup of the workload's parents: the
   * checkers then take them to exist throughout, and do not join every child's partition
   * through them). Resolves with whether it was created.
   */
  async createUnrecorded(path: string): Promise<boolean> {
    if (!this.zk || this.state !== 'ready') throw new Error(`client ${this.id} has no session`);
    try {
      await this.zk.create(path, '', { mode: 'persistent' });
      return true;
    } catch (error) {
      if (error instanceof ZooKeeperError && error.code === Err.NodeExists) return true;
      return false;
    }
  }

  /** Closes the handle without recording an op (end of run). */
  async shutdown(): Promise<void> {
    this.state = 'gone';
    if (this.zk) await this.zk.close().catch(() => undefined);
  }
}
