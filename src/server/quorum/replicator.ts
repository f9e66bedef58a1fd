/**
 * The ensemble shell around the pure ZAB core: it drives a ZabNode with ticks, messages from
 * the quorum transport and "durable up to zxid" reports, and performs each Ready in the
 * core's order — truncate, install snapshot, persist epochs (fsynced), append to the txn log
 * (persisted() after the fsync), apply commits through the pipeline, send — then advance().
 *
 * As the pipeline's Committer it hands the leader's prepared txns to the core (zxids come
 * from the core). Learners forward writes (REQUEST) and `sync` (SYNC) to the leader, and
 * REVALIDATE when a client brings an existing session to them.
 *
 * Two transports, as ZooKeeper's: FLE votes go over the election port, everything else over
 * the quorum port. Only the loss of a quorum connection is reported to the core as a learner
 * (or leader) disconnect; an election connection that drops is redialled and nothing more.
 */
import { dirname, join } from 'node:path';
import type { Txn } from '../../tree/index.js';
import { DataTree } from '../../tree/index.js';
import { ZabNode, epochOf, zxidHex } from '../../zab/index.js';
import type { Ready, RoleChange, ZabMessage, ZabStatus } from '../../zab/index.js';
import { parseSnapshotBytes, streamSnapshot, verifySnapshotBytes } from '../../storage/index.js';
import type { FileSystem, Recovered, Storage } from '../../storage/index.js';
import { mutations, nodePlatform } from '../../platform/index.js';
import type { Platform, TimerHandle } from '../../platform/index.js';
import type { Logger } from '../log.js';
import type { Committer } from '../pipeline.js';
import type { ForwardedRequest, QuorumPayload } from './messages.js';
import { decodePayload, decodeTouches, encodePayload, encodeTouches } from './messages.js';
import { QuorumTransport } from './transport.js';
import type { ServerSpec } from '../config.js';

/** What the replicator needs from its server. */
export interface ReplicatorHost {
  readonly tree: DataTree;
  readonly storage: Storage;
  readonly log: Logger;
  /** Applies one committed txn (pipeline, watches, replies). */
  apply(txn: Txn): void;
  /** After a batch of commits. */
  appliedBatch(count: number): void;
  /** The tree was replaced by a snapshot from the leader. */
  treeReplaced(): void;
  roleChanged(change: RoleChange): void;
  /** Leader: learner `from` forwarded a client write. */
  forwardedRequest(request: ForwardedRequest, from: number): void;
  /** Leader: a client reconnected to learner `from` with this existing session. */
  revalidated(sessionId: bigint, from: number): void;
  /** Leader: a learner's clients touched these sessions. */
  sessionsTouched(ids: readonly bigint[]): void;
  fatal(error: Error): void;
}

export interface EnsembleState {
  tree: DataTree;
  recentLog: Txn[];
  lastLoggedZxid: bigint;
  /** The acceptedEpoch and currentEpoch files of the snapshot directory; null when absent. */
  epochs: { accepted: number | null; current: number | null };
}

const ACCEPTED_EPOCH_FILE = 'acceptedEpoch';
const CURRENT_EPOCH_FILE = 'currentEpoch';

/**
 * The state an ensemble member starts from: the newest valid snapshot (only committed txns)
 * and every logged txn after it, which the core commits once it knows they are committed.
 */
export async function loadEnsembleState(storage: Storage, recovered: Recovered): Promise<EnsembleState> {
  const epochs = {
    accepted: await readEpochFile(storage.fs, storage.snapDir, ACCEPTED_EPOCH_FILE),
    current: await readEpochFile(storage.fs, storage.snapDir, CURRENT_EPOCH_FILE),
  };
  return { tree: recovered.tree, recentLog: recovered.logged, lastLoggedZxid: recovered.lastZxid, epochs };
}

/** An epoch file's value; null when there is none. */
async function readEpochFile(fs: FileSystem, dir: string, name: string): Promise<number | null> {
  if (!(await fs.list(dir)).includes(name)) return null;
  const file = join(dir, name);
  const value = Number((await fs.readFile(file)).toString('utf8').trim());
  if (!Number.isInteger(value) || value < 0) throw new Error(`${file} does not hold an epoch`);
  return value;
}

/**
 * Writes a small file durably, as ZooKeeper's AtomicFileOutputStream: a temp file, written
 * and synced, renamed over the file, then the directory synced so the rename survives a crash.
 */
async function writeDurably(fs: FileSystem, file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await fs.remove(tmp);
  const handle = await fs.create(tmp);
  try {
    await handle.write(Buffer.from(text, 'utf8'), 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
  await fs.syncDir(dirname(file));
}

/** The ensemble part of mntr (see Replicator.figures). */
export interface EnsembleFigures {
  peerState: string;
  quorumSize: number;
  electionTime: { count: number; sumMs: number; minMs: number; maxMs: number; lastMs: number };
  /** Leader only. */
  learners?: number;
  syncedFollowers?: number;
  syncedObservers?: number;
  pendingProposals?: number;
}

export interface ReplicatorOptions {
  myId: number;
  servers: readonly ServerSpec[];
  tickTimeMs: number;
  initLimit: number;
  syncLimit: number;
  compressSnapshots: boolean;
  /** Timers and the network (quorum port); default Node's. */
  platform?: Platform;
  /** Committed txns kept for DIFF; default the core's (ZooKeeper's 500). */
  commitLogWindow?: number;
}

export class Replicator implements Committer {
  readonly zab: ZabNode;
  private readonly transport: QuorumTransport;
  /** FLE votes only (zoo.cfg electionPort). */
  private readonly electionTransport: QuorumTransport;
  private inputs: Array<() => void> = [];
  private driving = false;
  /** Between ready() and advance(): no input may reach the core, proposals included. */
  private busy = false;
  private stopped = false;
  private tickTimer: TimerHandle | null = null;
  private readonly platform: Platform;
  private appendQueue: Txn[] = [];
  private appending: Promise<void> | null = null;
  /** Bumped by a truncation or snapshot install: appends from before it are not reported. */
  private generation = 0;
  role: RoleChange = { state: 'looking', leader: null, epoch: null, serving: false, reason: 'startup' };
  /** Messages held back per peer while a SNAP for it is streamed. */
  private readonly held = new Map<number, Buffer[]>();
  /** Learner: the pieces of the snapshot for the SNAP a peer is streaming to us. */
  private readonly snapParts = new Map<number, { zxid: bigint; parts: Buffer[]; bytes: number }>();
  /** Learner: sessions touched since the last PING to the leader. */
  readonly touched = new Set<bigint>();
  private readonly syncWaiters = new Map<number, { zxid: bigint | null; done: () => void }>();
  private syncCounter = 0;
  private readonly epochFiles: { accepted: string; current: string };
  /** When this member last went LOOKING (platform clock); null while serving. */
  private lookingSinceMs: number | null = null;
  /** Elections (LOOKING until serving), as ZooKeeper's election_time summary, in ms. */
  readonly electionTime = { count: 0, sumMs: 0, minMs: 0, maxMs: 0, lastMs: 0 };

  constructor(
    private readonly options: ReplicatorOptions,
    private readonly host: ReplicatorHost,
    state: EnsembleState,
  ) {
    const me = options.servers.find((s) => s.id === options.myId);
    if (me === undefined) throw new Error(`myid ${options.myId} has no server.${options.myId} line`);
    this.platform = options.platform ?? nodePlatform;
    const snapDir = host.storage.snapDir;
    this.epochFiles = { accepted: join(snapDir, ACCEPTED_EPOCH_FILE), current: join(snapDir, CURRENT_EPOCH_FILE) };
    const currentEpoch = state.epochs.current ?? epochOf(state.lastLoggedZxid);
    const acceptedEpoch = state.epochs.accepted ?? currentEpoch;
    this.zab = new ZabNode({
      id: options.myId,
      voters: options.servers.filter((s) => s.role === 'participant').map((s) => s.id),
      observers: options.servers.filter((s) => s.role === 'observer').map((s) => s.id),
      tickLimits: { initLimit: options.initLimit, syncLimit: options.syncLimit },
      persisted: { acceptedEpoch, currentEpoch, lastLoggedZxid: state.lastLoggedZxid, lastCommittedZxid: state.tree.lastProcessedZxid },
      recentLog: state.recentLog,
      ...(options.commitLogWindow === undefined ? {} : { commitLogWindow: options.commitLogWindow }),
    });
    this.transport = new QuorumTransport(
      options.myId,
      { host: me.host, port: me.quorumPort },
      options.servers.filter((s) => s.id !== options.myId).map((s) => ({ id: s.id, host: s.host, port: s.quorumPort })),
      {
        onFrame: (peer, frame) => this.onFrame(peer, frame),
        onDisconnected: (peer) => {
          this.snapParts.delete(peer);
          this.input(() => this.zab.disconnected(peer));
        },
      },
      host.log,
      this.platform,
      'quorum',
    );
    this.electionTransport = new QuorumTransport(
      options.myId,
      { host: me.host, port: me.electionPort },
      options.servers.filter((s) => s.id !== options.myId).map((s) => ({ id: s.id, host: s.host, port: s.electionPort })),
      {
        onFrame: (peer, frame) => this.onElectionFrame(peer, frame),
        // Votes tolerate loss; the core hears of quorum-connection loss only.
        onDisconnected: () => undefined,
      },
      host.log,
      this.platform,
      'election',
    );
  }

  async start(): Promise<void> {
    await this.electionTransport.start();
    try {
      await this.transport.start();
    } catch (error) {
      await this.electionTransport.stop();
      throw error;
    }
    this.tickTimer = this.platform.timers.every(this.options.tickTimeMs, () => this.input(() => this.zab.tick()));
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.tickTimer?.cancel();
    this.tickTimer = null;
    await this.transport.stop();
    await this.electionTransport.stop();
    await this.appending?.catch(() => undefined);
  }

  status(): ZabStatus {
    return this.zab.status();
  }

  /**
   * For mntr, from the core (not the sockets): the peer state, the election times and, on a
   * leader, its learners as the leader role sees them (synced = acked NEWLEADER) and the
   * proposals it has not committed yet.
   */
  figures(): EnsembleFigures {
    const status = this.zab.status();
    const voters = this.options.servers.filter((s) => s.role === 'participant');
    const figures: EnsembleFigures = {
      peerState: `${status.state} - ${status.phase}`,
      quorumSize: Math.floor(voters.length / 2) + 1,
      electionTime: { ...this.electionTime },
    };
    if (status.state !== 'leading' || status.learners === null) return figures;
    const synced = status.learners.filter((l) => l.synced);
    return {
      ...figures,
      learners: status.learners.length,
      syncedFollowers: synced.filter((l) => l.voter).length,
      syncedObservers: synced.filter((l) => !l.voter).length,
      pendingProposals: status.pendingProposals,
    };
  }

  get isLeader(): boolean {
    return this.role.state === 'leading';
  }

  get serving(): boolean {
    return this.role.serving;
  }

  // ---- Committer (leader) ----

  nextZxid(): bigint | null {
    if (this.busy || this.stopped || !this.role.serving || this.role.state !== 'leading') return null;
    return this.zab.nextZxid();
  }

  propose(txn: Txn): void {
    const proposed = this.zab.propose({ sessionId: txn.sessionId, cxid: txn.cxid, timeMs: txn.timeMs, body: txn.body });
    if (proposed === null || proposed.zxid !== txn.zxid) {
      this.host.fatal(new Error(`proposal ${zxidHex(txn.zxid)} was given ${proposed === null ? 'no zxid' : zxidHex(proposed.zxid)} by the core`));
      return;
    }
    this.kick();
  }

  // ---- learner requests to the leader ----

  /**
   * A client reconnected here with an existing session: the leader makes this member its
   * owner. Sent before anything this member forwards for the session, on the same FIFO
   * connection, so the leader sees the move first. False when the leader is out of reach.
   */
  revalidate(sessionId: bigint): boolean {
    const leader = this.role.leader;
    if (!this.role.serving || leader === null) return false;
    if (leader === this.options.myId) return true;
    if (!this.transport.isConnected(leader)) return false;
    this.sendPayload(leader, { kind: 'revalidate', sessionId });
    return true;
  }

  /** Sends a client write to the leader; false when there is none to send it to. */
  forward(request: ForwardedRequest): boolean {
    const leader = this.role.leader;
    if (!this.role.serving || leader === null || leader === this.options.myId || !this.transport.isConnected(leader)) return false;
    this.sendPayload(leader, { kind: 'request', request });
    return true;
  }

  /** Learner `sync`: `done` runs once this member has applied all the leader had committed. */
  sync(done: () => void): boolean {
    const leader = this.role.leader;
    if (!this.role.serving || leader === null || !this.transport.isConnected(leader)) return false;
    const id = (this.syncCounter = (this.syncCounter + 1) | 0);
    this.syncWaiters.set(id, { zxid: null, done });
    this.sendPayload(leader, { kind: 'sync', id });
    return true;
  }

  private settleSyncs(): void {
    const applied = this.host.tree.lastProcessedZxid;
    for (const [id, waiter] of this.syncWaiters) {
      if (waiter.zxid !== null && waiter.zxid <= applied) {
        this.syncWaiters.delete(id);
        waiter.done();
      }
    }
  }

  // ---- inputs ----

  /** A frame's payload, or null (logged) when a peer sent bytes that do not decode. */
  private decodeFrom(peer: number, frame: Buffer, port: 'quorum' | 'election'): QuorumPayload | null {
    try {
      return decodePayload(frame);
    } catch (error) {
      this.host.log.warn({ peer, err: (error as Error).message }, `undecodable ${port} message dropped`);
      return null;
    }
  }

  private onFrame(peer: number, frame: Buffer): void {
    const payload = this.decodeFrom(peer, frame, 'quorum');
    if (payload === null) return;
    // A SNAP's pieces come back to back, then the SNAP: anything else ends an unfinished one.
    if (payload.kind !== 'snapPart' && !(payload.kind === 'zab' && payload.message.type === 'snap')) this.snapParts.delete(peer);
    switch (payload.kind) {
      case 'zab': {
        let message = payload.message;
        if (message.type === 'snap' && message.snapshot === null) {
          const snapshot = this.takeSnapshotParts(peer, message.zxid);
          if (snapshot === null) {
            // Without its snapshot a SNAP cannot be followed: start over with this leader.
            this.host.log.warn({ peer, zxid: zxidHex(message.zxid) }, 'SNAP without its whole snapshot; dropping the leader');
            this.input(() => this.zab.disconnected(peer));
            return;
          }
          message = { ...message, snapshot };
        }
        if (message.type === 'ping' && message.payload !== null && this.isLeader) {
          try {
            this.host.sessionsTouched(decodeTouches(message.payload));
          } catch {
            this.host.log.warn({ peer }, 'bad session touches in a PING');
          }
        }
        this.input(() => this.zab.step(peer, message));
        return;
      }
      case 'snapPart':
        this.addSnapshotPart(peer, payload);
        return;
      case 'request':
        if (this.isLeader && this.role.serving) this.host.forwardedRequest(payload.request, peer);
        return;
      case 'revalidate':
        if (this.isLeader && this.role.serving) this.host.revalidated(payload.sessionId, peer);
        return;
      case 'sync':
        // Everything committed here goes out before this answer on the same FIFO connection.
        if (this.isLeader) {
          const id = payload.id;
          this.input(() => this.sendPayload(peer, { kind: 'syncDone', id, zxid: this.zab.status().committedZxid }));
        }
        return;
      case 'syncDone': {
        const waiter = this.syncWaiters.get(payload.id);
        if (waiter !== undefined) waiter.zxid = payload.zxid;
        this.settleSyncs();
        return;
      }
    }
  }

  /** Pieces come in order on one connection, the first at offset 0; a gap spoils the snapshot. */
  private addSnapshotPart(peer: number, part: Extract<QuorumPayload, { kind: 'snapPart' }>): void {
    if (part.offset === 0) this.snapParts.set(peer, { zxid: part.zxid, parts: [], bytes: 0 });
    const pending = this.snapParts.get(peer);
    if (pending === undefined) return;
    if (pending.zxid !== part.zxid || pending.bytes !== part.offset) {
      this.host.log.warn({ peer, zxid: zxidHex(part.zxid), offset: part.offset, expected: pending.bytes }, 'snapshot piece out of order; discarding the snapshot');
      this.snapParts.delete(peer);
      return;
    }
    pending.parts.push(part.bytes);
    pending.bytes += part.bytes.length;
  }

  /** The whole snapshot for the SNAP at `zxid`, checked; null when it is missing or damaged. */
  private takeSnapshotParts(peer: number, zxid: bigint): Buffer | null {
    const pending = this.snapParts.get(peer);
    this.snapParts.delete(peer);
    if (pending === undefined || pending.zxid !== zxid || pending.bytes === 0) return null;
    const snapshot = Buffer.concat(pending.parts, pending.bytes);
    try {
      if (verifySnapshotBytes(snapshot, 'snapshot from the leader').zxid !== zxid) return null;
    } catch {
      return null;
    }
    return snapshot;
  }

  /** The election port carries votes and nothing else. */
  private onElectionFrame(peer: number, frame: Buffer): void {
    const payload = this.decodeFrom(peer, frame, 'election');
    if (payload === null) return;
    if (payload.kind !== 'zab' || payload.message.type !== 'vote') {
      this.host.log.warn({ peer, kind: payload.kind }, 'non-vote message on the election port dropped');
      return;
    }
    const message = payload.message;
    this.input(() => this.zab.step(peer, message));
  }

  private input(fn: () => void): void {
    if (this.stopped) return;
    this.inputs.push(fn);
    this.kick();
  }

  private kick(): void {
    if (this.driving || this.stopped) return;
    this.driving = true;
    this.platform.timers.soon(() => void this.drive());
  }

  private async drive(): Promise<void> {
    try {
      while (!this.stopped) {
        const batch = this.inputs;
        this.inputs = [];
        for (const fn of batch) fn();
        if (!this.zab.hasReady()) {
          if (this.inputs.length === 0) break;
          continue;
        }
        const ready = this.zab.ready();
        this.busy = true;
        await this.perform(ready);
        this.zab.advance();
        this.busy = false;
      }
    } catch (error) {
      this.stopped = true;
      this.host.fatal(error as Error);
    } finally {
      this.busy = false;
      this.driving = false;
    }
    if (this.inputs.length > 0 || (!this.stopped && this.zab.hasReady())) this.kick();
  }

  private async perform(ready: Ready): Promise<void> {
    const host = this.host;
    if (ready.truncateTo !== null) {
      await this.appendsIdle();
      this.generation++;
      host.log.warn({ zxid: zxidHex(ready.truncateTo) }, 'truncating the transaction log as the leader asked (TRUNC)');
      // MUTATION skipTrunc: the log on disk keeps the txns the leader told us to drop (the
      // core's view is truncated, so we go on as if it were); they come back on a restart.
      if (!mutations.skipTrunc) await host.storage.truncateAfter(ready.truncateTo);
    }
    if (ready.installSnapshot !== null) await this.installSnapshot(ready.installSnapshot.zxid, ready.installSnapshot.snapshot);
    if (ready.persistEpochs !== null) {
      const { acceptedEpoch, currentEpoch } = ready.persistEpochs;
      if (acceptedEpoch !== undefined) await writeDurably(host.storage.fs, this.epochFiles.accepted, String(acceptedEpoch));
      if (currentEpoch !== undefined) await writeDurably(host.storage.fs, this.epochFiles.current, String(currentEpoch));
    }
    if (ready.persist.length > 0) {
      this.appendQueue.push(...ready.persist);
      if (this.appending === null) this.appending = this.appendLoop();
      if (mutations.ackBeforeFsync) {
        // MUTATION ackBeforeFsync: reported durable (and ACKed) before storage.append resolved.
        const last = ready.persist[ready.persist.length - 1]!.zxid;
        const generation = this.generation;
        this.input(() => {
          if (generation === this.generation) this.zab.persisted(last);
        });
      }
    }
    if (ready.commit.length > 0) {
      for (const txn of ready.commit) {
        host.apply(txn);
        // A sync is answered right after the txn it waited for, not after the whole batch: its
        // reply's zxid must not pass the replies of this session's later writes in the batch.
        if (this.syncWaiters.size > 0) this.settleSyncs();
      }
      host.appliedBatch(ready.commit.length);
    }
    for (const change of ready.roleChanges) {
      this.role = change;
      this.timeElection(change);
      host.log.info({ ...change }, 'ensemble role');
      if (!change.serving) this.failSyncs();
      host.roleChanged(change);
    }
    for (const out of ready.send) this.sendMessage(out.to, out.message);
  }

  /** LOOKING until serving again, on the platform clock (ZooKeeper's election_time). */
  private timeElection(change: RoleChange): void {
    const now = this.platform.clock.now();
    if (!change.serving) {
      this.lookingSinceMs ??= now;
      return;
    }
    if (this.lookingSinceMs === null) return;
    const ms = Math.max(0, now - this.lookingSinceMs);
    this.lookingSinceMs = null;
    const t = this.electionTime;
    t.minMs = t.count === 0 ? ms : Math.min(t.minMs, ms);
    t.maxMs = Math.max(t.maxMs, ms);
    t.count++;
    t.sumMs += ms;
    t.lastMs = ms;
    this.host.log.info({ ms, state: change.state, leader: change.leader }, 'election took');
  }

  private failSyncs(): void {
    this.syncWaiters.clear();
  }

  private async installSnapshot(zxid: bigint, bytes: Buffer | null): Promise<void> {
    if (bytes === null) throw new Error(`SNAP at ${zxidHex(zxid)} without a snapshot`);
    await this.appendsIdle();
    this.generation++;
    const stored = await this.host.storage.installSnapshot(bytes);
    if (stored !== zxid) throw new Error(`SNAP says ${zxidHex(zxid)} but its snapshot is at ${zxidHex(stored)}`);
    this.host.tree.replaceWith(parseSnapshotBytes(bytes, 'snapshot from the leader').tree);
    this.host.treeReplaced();
    this.host.log.info({ zxid: zxidHex(zxid), sizeBytes: bytes.length }, 'installed the leader\'s snapshot (SNAP)');
    this.input(() => this.zab.snapshotInstalled(zxid));
  }

  private async appendsIdle(): Promise<void> {
    while (this.appending !== null) await this.appending;
  }

  /** One append (one fsync) at a time; txns that arrive meanwhile share the next one. */
  private async appendLoop(): Promise<void> {
    try {
      while (this.appendQueue.length > 0) {
        const batch = this.appendQueue;
        this.appendQueue = [];
        const generation = this.generation;
        await this.host.storage.append(batch);
        const last = batch[batch.length - 1]!.zxid;
        this.input(() => {
          if (generation === this.generation) this.zab.persisted(last);
        });
      }
    } catch (error) {
      this.stopped = true;
      this.host.fatal(error as Error);
    } finally {
      this.appending = null;
    }
  }

  // ---- output ----

  private sendPayload(peer: number, payload: QuorumPayload): void {
    const bytes = encodePayload(payload);
    const held = this.held.get(peer);
    if (held !== undefined) held.push(bytes);
    else this.transport.send(peer, bytes);
  }

  private sendMessage(peer: number, message: ZabMessage): void {
    // Votes have their own port and need no order with the rest (nor wait behind a SNAP).
    if (message.type === 'vote') return this.electionTransport.send(peer, encodePayload({ kind: 'zab', message }));
    if (message.type === 'snap' && message.snapshot === null) return this.sendSnapshot(peer, message);
    if (message.type === 'ping' && !this.isLeader) {
      const touched = encodeTouches(this.touched);
      this.touched.clear();
      return this.sendPayload(peer, { kind: 'zab', message: { ...message, payload: touched } });
    }
    this.sendPayload(peer, { kind: 'zab', message });
  }

  /**
   * Streams the tree (exact at the message's zxid now) to the learner in pieces ahead of the
   * SNAP itself, at the pace its connection takes them, on that one connection; later messages
   * to that peer wait until the SNAP has gone. Neither side holds more than a piece or two of
   * it in flight, and no frame is bigger than a piece.
   */
  private sendSnapshot(peer: number, message: Extract<ZabMessage, { type: 'snap' }>): void {
    const tree = this.host.tree;
    if (tree.lastProcessedZxid !== message.zxid) {
      throw new Error(`SNAP for ${zxidHex(message.zxid)} but the tree is at ${zxidHex(tree.lastProcessedZxid)}`);
    }
    const sender = this.transport.pacedSender(peer);
    // No connection: like any message to an unreachable peer, it is dropped (the core notices).
    if (sender === null) return;
    const held: Buffer[] = [];
    const previous = this.held.get(peer) ?? [];
    this.held.set(peer, held);
    const started = this.platform.clock.now();
    let offset = 0;
    let pieces = 0;
    // A newer SNAP for the peer took over `held` (and sends what this one held first).
    const superseded = () => this.held.get(peer) !== held;
    const send = async (bytes: Buffer): Promise<void> => {
      if (superseded()) throw new SnapStreamStopped('a newer SNAP for the peer took over');
      if (!(await sender.send(bytes))) throw new SnapStreamStopped('the connection was lost');
    };
    // Written now, in order, ahead of the snapshot; no await before streamSnapshot has taken
    // the tree as it is at message.zxid.
    for (const bytes of previous) void sender.send(bytes);
    const stream = async (): Promise<void> => {
      const streamed = streamSnapshot(tree, this.options.compressSnapshots, async (bytes) => {
        for (let at = 0; at < bytes.length; at += SNAP_PIECE_BYTES) {
          const piece = bytes.subarray(at, at + SNAP_PIECE_BYTES);
          await send(encodePayload({ kind: 'snapPart', zxid: message.zxid, offset, bytes: piece }));
          offset += piece.length;
          pieces++;
        }
      });
      const { zxid } = await streamed;
      if (zxid !== message.zxid) throw new Error(`the snapshot for the SNAP at ${zxidHex(message.zxid)} was taken at ${zxidHex(zxid)}`);
      await send(encodePayload({ kind: 'zab', message }));
    };
    const release = () => {
      if (superseded()) return;
      this.held.delete(peer);
      for (const bytes of held) this.transport.send(peer, bytes);
    };
    stream().then(
      () => {
        release();
        this.host.log.info({ peer, zxid: zxidHex(message.zxid), sizeBytes: offset, pieces, ms: this.platform.clock.now() - started }, 'sent a snapshot (SNAP)');
      },
      (error: Error) => {
        if (error instanceof SnapStreamStopped) {
          this.host.log.info({ peer, zxid: zxidHex(message.zxid), sentBytes: offset, reason: error.message }, 'stopped sending a snapshot (SNAP)');
          release();
          return;
        }
        this.host.log.error({ peer, err: error.message }, 'could not serialise a snapshot for a learner');
        if (!superseded()) this.held.delete(peer);
        this.input(() => this.zab.disconnected(peer));
      },
    );
  }
}

/** Snapshot bytes per quorum frame of a SNAP. */
const SNAP_PIECE_BYTES = 1024 * 1024;

class SnapStreamStopped extends Error {}
