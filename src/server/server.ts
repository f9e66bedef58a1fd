/**
 * One Paddock server: wires the tree, sessions, watches and the request pipeline to the
 * client port, and owns the timers and sockets. Standalone mode is an ensemble of one.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuthPacketCodec,
  ConnectRequestCodec,
  ConnectResponseCodec,
  Err,
  JuteDecodeError,
  JuteReader,
  JuteWriter,
  SaslTokenCodec,
  OpCode,
  PathRecordCodec,
  RequestHeaderCodec,
  Xid,
} from '../jute/index.js';
import type { ConnectRequest } from '../jute/index.js';
import { DigestMd5Server, SaslError, digestId } from '../acl/index.js';
import { FOUR_LETTER_WORDS, runFourLetterWord } from '../admin/index.js';
import type { ServerView } from '../admin/index.js';
import { SessionTracker, checkSessionPassword, sessionPassword, SESSION_PASSWORD_BYTES } from '../session/index.js';
import type { DataTree, Txn } from '../tree/index.js';
import type { RoleChange } from '../zab/index.js';
import { WatchManager } from '../watch/index.js';
import { Storage, nodeFileSystem } from '../storage/index.js';
import type { FileSystem, Recovered } from '../storage/index.js';
import { mutations, nodePlatform } from '../platform/index.js';
import type { Listener, Platform, StreamSocket, TimerHandle } from '../platform/index.js';
import { DurableCommitter } from './commit.js';
import type { ServerConfig } from './config.js';
import { clientAddressOfMember } from './config.js';
import { Connection } from './connection.js';
import type { ConnectionHandler } from './connection.js';
import type { Logger } from './log.js';
import { ClientSession, Pipeline } from './pipeline.js';
import { handleRequest } from './requests.js';
import { reapCandidates } from './reaper.js';
import { replyFrame } from './replies.js';
import { OWNER_CHECKED_OPS, SessionOwners } from './owners.js';
import { Replicator, loadEnsembleState } from './quorum/replicator.js';
import { STATIC_CONFIG_VERSION, quorumConfigText } from './quorum-config.js';
import type { ForwardedRequest } from './quorum/messages.js';
import type { Watcher } from '../watch/index.js';

/** Writes from learners are prepared on the leader without a connection: no watches, no replies. */
const NO_WATCHER: Watcher = { deliver: () => undefined };

export interface ServerOptions {
  /** The file system under storage (and the myid file); tests inject faults here. */
  fs?: FileSystem;
  /** Clock, timers, network and randomness; default Node's. The simulator brings its own. */
  platform?: Platform;
  /** Called when the server cannot go on safely (a failed log write); it has stopped by then. */
  onFatal?: (error: Error) => void;
  /** Observers for the simulator (test/sim): every txn this member applies, in order. */
  onApplied?: (txn: Txn) => void;
  /** ...every role change of an ensemble member... */
  onRoleChange?: (change: RoleChange) => void;
  /** ...and a tree replaced by a snapshot from the leader (SNAP), at its zxid. */
  onTreeReplaced?: (zxid: bigint) => void;
  /**
   * Committed txns an ensemble member keeps for DIFF (ZooKeeper's commitLogCount, 500). The
   * simulator shrinks it so that a member that fell behind gets a SNAP more often.
   */
  commitLogWindow?: number;
}

/** Frames a client may send behind a connect request that waits; more is not a client. */
const MAX_FRAMES_HELD_AT_CONNECT = 1024;

export class PaddockServer implements ConnectionHandler {
  readonly watches = new WatchManager();
  /** Set by start(), once an ensemble member has read its id from dataDir/myid. */
  sessions!: SessionTracker;
  /** Set by start(): the tree comes from recovery. */
  tree!: DataTree;
  pipeline!: Pipeline;
  storage!: Storage;
  private purgeTimer: TimerHandle | null = null;
  private reaperTimer: TimerHandle | null = null;
  private stopping = false;
  private readonly connections = new Set<Connection>();
  private readonly connectionBySession = new Map<bigint, Connection>();
  private readonly connectionsByAddress = new Map<string, number>();
  private listener: Listener | null = null;
  private expiryTimer: TimerHandle | null = null;
  private packetsReceivedTotal = 0;
  private packetsSentTotal = 0;
  /** Set in an ensemble (two or more server.N lines); null when standalone. */
  replicator: Replicator | null = null;
  /** Leader: the member holding each session (SessionMoved); empty elsewhere. */
  readonly owners = new SessionOwners();
  /** The client request being handled, for forwarding it to the leader. */
  private current: { type: number; body: Buffer } | null = null;
  readonly platform: Platform;
  private readonly fs: FileSystem;
  private readonly now: () => number;

  constructor(
    readonly config: ServerConfig,
    private readonly log: Logger,
    private readonly options: ServerOptions = {},
  ) {
    this.platform = options.platform ?? nodePlatform;
    this.fs = options.fs ?? nodeFileSystem;
    const clock = this.platform.clock;
    this.now = () => clock.now();
  }

  /** An ensemble of two or more members; one server.N line (or none) is standalone. */
  get ensemble(): boolean {
    return this.config.servers.length >= 2;
  }

  async start(): Promise<void> {
    if (this.ensemble) {
      this.config.serverId = await readMyId(this.config.dataDir, this.fs);
      const client = clientAddressOfMember(this.config, this.config.serverId);
      this.config.clientPortAddress = client.host;
      this.config.clientPort = client.port;
    }
    this.sessions = new SessionTracker(this.config.tickTimeMs, this.config.serverId, this.now());
    await this.fs.mkdirp(this.config.dataDir);
    for (const key of this.config.unused) this.log.info({ key }, 'configuration key accepted but not used by Paddock yet');
    for (const warning of this.config.warnings) this.log.warn({}, warning);
    await this.openStorage();
    this.listener = await this.platform.net.listen(this.config.clientPortAddress, this.config.clientPort, (socket) => this.accept(socket));
    if (this.replicator) await this.replicator.start();
    const timers = this.platform.timers;
    this.expiryTimer = timers.every(this.config.tickTimeMs, () => this.expireSessions());
    this.reaperTimer = timers.every(Math.max(10, this.config.containerCheckIntervalMs), () => this.reapContainers());
    if (this.config.autopurgePurgeIntervalHours > 0) {
      this.purgeTimer = timers.every(this.config.autopurgePurgeIntervalHours * 3_600_000, () => void this.purgeNow());
    }
    this.log.info({ address: this.address() }, 'serving clients');
  }

  private async openStorage(): Promise<void> {
    const { storage, recovered } = await Storage.open({
      dataDir: this.config.dataDir,
      dataLogDir: this.config.dataLogDir,
      forceSync: this.config.forceSync,
      preallocBytes: this.config.preAllocBytes,
      snapCount: this.config.snapCount,
      compressSnapshots: this.config.compressSnapshots,
      truncateCorrupt: this.config.truncateCorruptLog,
      collectLogged: this.ensemble,
      log: this.log,
      fs: this.fs,
      random: () => this.platform.random(),
    });
    this.storage = storage;
    if (this.ensemble) return this.openEnsemble(storage, recovered);
    this.tree = recovered.tree;
    this.pipeline = this.newPipeline();
    this.pipeline.setCommitter(
      new DurableCommitter(
        storage,
        (batch) => {
          for (const txn of batch) {
            this.pipeline.commit(txn);
            this.options.onApplied?.(txn);
          }
          storage.committed(this.tree, batch.length);
          const quotaWarnings = this.tree.quotas.warnings.splice(0);
          for (const warning of quotaWarnings) this.log.warn({}, warning);
        },
        (error) => void this.fail(error),
        this.platform.timers,
      ),
    );
    // Recovered sessions get their full timeout from now to reconnect, as in ZooKeeper.
    const now = this.now();
    for (const [id, timeoutMs] of this.tree.sessions()) this.sessions.add(id, timeoutMs, now);
    if (recovered.replayedTxns > 0 || !(await storage.hasSnapshot())) void storage.snapshot(this.tree);
  }

  private newPipeline(): Pipeline {
    return new Pipeline(
      this.tree,
      this.watches,
      {
        sessionClosed: (sessionId) => this.onSessionClosed(sessionId),
        replyFailed: (session, error) =>
          this.log.error({ session: session.id.toString(16), err: error.stack ?? error.message }, 'could not build a reply; closing that connection'),
      },
      { extendedTypesEnabled: this.config.extendedTypesEnabled, skipAcl: this.config.skipAcl, saslEnabled: this.config.saslUsers !== null },
      this.now,
    );
  }

  /** Ensemble start: the tree from the newest snapshot; the core re-commits the logged txns after it. */
  private async openEnsemble(storage: Storage, recovered: Recovered): Promise<void> {
    const state = await loadEnsembleState(storage, recovered);
    this.tree = state.tree;
    // Written locally at start, as ZooKeeper's members do, before the tree is snapshotted or
    // served; without reconfig the configuration is the static one, version 0.
    this.tree.setLocalConfig(Buffer.from(quorumConfigText(this.config.servers, STATIC_CONFIG_VERSION), 'utf8'), STATIC_CONFIG_VERSION);
    this.pipeline = this.newPipeline();
    // A new epoch's log starts past the snapshot; recovery needs a snapshot to start from.
    if (!(await storage.hasSnapshot())) await storage.snapshot(this.tree);
    const replicator = new Replicator(
      {
        myId: this.config.serverId,
        servers: this.config.servers,
        tickTimeMs: this.config.tickTimeMs,
        initLimit: this.config.initLimit,
        syncLimit: this.config.syncLimit,
        compressSnapshots: this.config.compressSnapshots,
        platform: this.platform,
        ...(this.options.commitLogWindow === undefined ? {} : { commitLogWindow: this.options.commitLogWindow }),
      },
      {
        tree: this.tree,
        storage,
        log: this.log,
        apply: (txn) => this.applyReplicated(txn),
        appliedBatch: (count) => {
          storage.committed(this.tree, count);
          for (const warning of this.tree.quotas.warnings.splice(0)) this.log.warn({}, warning);
        },
        treeReplaced: () => this.treeReplaced(),
        roleChanged: (change) => this.roleChanged(change),
        forwardedRequest: (request, from) => this.forwardedRequest(request, from),
        revalidated: (sessionId, from) => {
          this.owners.claim(sessionId, from);
          this.log.debug({ session: sessionId.toString(16), owner: from }, 'session revalidated on a learner');
        },
        sessionsTouched: (ids) => {
          const now = this.now();
          for (const id of ids) this.sessions.touch(id, now);
        },
        fatal: (error) => void this.fail(error),
      },
      state,
    );
    this.replicator = replicator;
    this.pipeline.setCommitter(replicator);
    const now = this.now();
    for (const [id, timeoutMs] of this.tree.sessions()) this.sessions.add(id, timeoutMs, now);
  }

  /** A committed txn on an ensemble member: applied, and its session tracked here too. */
  private applyReplicated(txn: Txn): void {
    const answered = this.pipeline.commit(txn);
    if (answered !== null && txn.body.type === OpCode.error && txn.body.err === Err.SessionMoved) this.sessionMovedAway(answered);
    this.options.onApplied?.(txn);
    if (txn.body.type === OpCode.createSession) this.sessions.add(txn.sessionId, txn.body.timeoutMs, this.now());
  }

  /**
   * A request of ours was refused with SessionMoved: the client holds its session through
   * another member now, so this connection is stale (ZooKeeper closes it too, ZOOKEEPER-710).
   * Its reply was queued first and goes out before the close.
   */
  private sessionMovedAway(session: ClientSession): void {
    const connection = this.connectionBySession.get(session.id);
    if (connection === undefined || connection.session !== session) return;
    this.log.info({ session: session.id.toString(16) }, 'session moved to another member; closing its connection here');
    connection.close();
  }

  private treeReplaced(): void {
    this.pipeline.abandonInFlight();
    this.options.onTreeReplaced?.(this.tree.lastProcessedZxid);
    const now = this.now();
    const live = this.tree.sessions();
    for (const info of [...this.sessions.all()]) if (!live.has(info.id)) this.sessions.remove(info.id);
    for (const [id, timeoutMs] of live) this.sessions.add(id, timeoutMs, now);
    this.closeClientConnections();
  }

  private roleChanged(change: RoleChange): void {
    this.options.onRoleChange?.(change);
    // Owners are the leader's, for its term: a new leader learns them again.
    this.owners.clear();
    const replicator = this.replicator!;
    if (!change.serving) {
      // ZooKeeper closes client connections while it is not serving: they try another member.
      this.pipeline.forwarder = null;
      this.pipeline.abandonInFlight();
      // MUTATION serveReadsWhenDeposed: keep the clients and answer their reads from this
      // stale tree; only those whose in-flight writes were just abandoned are dropped.
      if (mutations.serveReadsWhenDeposed) return this.closeClientConnections(true);
      this.closeClientConnections();
      return;
    }
    if (change.state === 'leading') {
      this.pipeline.forwarder = null;
      this.pipeline.abandonInFlight();
      // A new leader gives every session its full timeout, as ZooKeeper's does.
      const now = this.now();
      for (const info of [...this.sessions.all()]) this.sessions.add(info.id, info.timeoutMs, now);
    } else {
      this.pipeline.forwarder = {
        memberId: this.config.serverId,
        forward: (session, cxid) => {
          const current = this.current;
          if (current === null) return false;
          return replicator.forward({ sessionId: session.id, cxid, type: current.type, body: current.body, authIds: [...session.authIds] });
        },
      };
    }
  }

  /** `abandonedOnly`: only connections whose session lost its reply sink (abandonInFlight). */
  private closeClientConnections(abandonedOnly = false): void {
    for (const connection of this.connections) {
      if (!connection.handshakeDone) continue;
      if (abandonedOnly && connection.session !== null && connection.session.sink === connection) continue;
      connection.close();
    }
  }

  /** Leader: a write learner `from` forwarded, prepared with the session's auth ids from there. */
  private forwardedRequest(request: ForwardedRequest, from: number): void {
    const session = new ClientSession(request.sessionId);
    for (const id of request.authIds) session.addAuthId(id);
    session.cxid = request.cxid;
    if (request.type === OpCode.createSession) {
      this.owners.claim(request.sessionId, from);
      const timeoutMs = request.body.length >= 4 ? request.body.readInt32BE(0) : this.config.minSessionTimeoutMs;
      this.pipeline.submitWrite(session, () => ({ type: OpCode.createSession, timeoutMs }), null);
      return;
    }
    if (!this.sessions.touch(request.sessionId, this.now())) {
      // Expired (or never known) here, where expiry is decided: an error txn answers the
      // client on its member, and no ephemeral can be created for a dead session.
      this.pipeline.submitWrite(session, () => ({ type: OpCode.error, err: Err.SessionExpired }), null);
      return;
    }
    if (OWNER_CHECKED_OPS.has(request.type) && !this.owners.check(request.sessionId, from)) {
      // The client moved to another member after `from` took this write: refused, answered there.
      this.log.info({ session: request.sessionId.toString(16), from, owner: this.owners.owner(request.sessionId) }, 'write from a member that no longer holds the session (SessionMoved)');
      this.pipeline.submitWrite(session, () => ({ type: OpCode.error, err: Err.SessionMoved }), null);
      return;
    }
    try {
      handleRequest({ pipeline: this.pipeline, session, watcher: NO_WATCHER, close: () => undefined }, 0, request.type, request.body);
    } catch (error) {
      this.log.warn({ session: request.sessionId.toString(16), err: (error as Error).message }, 'could not handle a forwarded request');
    }
  }

  /** Removes snapshots and log segments beyond autopurge.snapRetainCount. */
  async purgeNow(): Promise<void> {
    try {
      const result = await this.storage.purge(this.config.autopurgeSnapRetainCount);
      this.log.info({ ...result }, 'purged old snapshots and log segments');
    } catch (error) {
      this.log.error({ err: (error as Error).message }, 'purge failed');
    }
  }

  /** A failed log write: nothing more may be acknowledged, so the server stops. */
  private async fail(error: Error): Promise<void> {
    this.log.fatal({ err: error.message, code: (error as NodeJS.ErrnoException).code }, 'transaction log write failed; stopping');
    await this.stop();
    this.options.onFatal?.(error);
  }

  /** The bound client address (the chosen port when clientPort is 0); the configured one when not listening. */
  address(): { host: string; port: number } {
    const listener = this.listener;
    return { host: listener?.host ?? this.config.clientPortAddress, port: listener?.port ?? this.config.clientPort };
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const timer of [this.expiryTimer, this.purgeTimer, this.reaperTimer]) timer?.cancel();
    this.expiryTimer = null;
    this.purgeTimer = null;
    this.reaperTimer = null;
    await this.replicator?.stop().catch(() => undefined);
    for (const connection of this.connections) connection.socket.destroy();
    const listener = this.listener;
    this.listener = null;
    if (listener) await listener.close();
    await this.storage?.close().catch(() => undefined);
  }

  private accept(socket: StreamSocket): void {
    const address = socket.remoteAddress ?? '';
    const count = this.connectionsByAddress.get(address) ?? 0;
    if (this.config.maxClientCnxns > 0 && count >= this.config.maxClientCnxns) {
      this.log.warn({ remote: address, max: this.config.maxClientCnxns }, 'too many connections from one address');
      socket.destroy();
      return;
    }
    this.connectionsByAddress.set(address, count + 1);
    // A frame may hold maxbuffer bytes of data plus the request's own fields.
    const connection = new Connection(socket, this, this.config.maxBufferBytes, this.log, this.platform);
    this.connections.add(connection);
  }

  packetSent(): void {
    this.packetsSentTotal++;
  }

  isFourLetterWord(word: string): boolean {
    return FOUR_LETTER_WORDS.has(word);
  }

  onFourLetterWord(connection: Connection, word: string): void {
    if (this.replicator && !this.replicator.serving && word !== 'ruok' && word !== 'conf' && word !== 'envi') {
      connection.sendTextAndClose('This ZooKeeper instance is not currently serving requests\n');
      return;
    }
    connection.sendTextAndClose(
      runFourLetterWord(word, () => this.view(), this.config.fourLetterWords, {
        resetConnectionStats: () => {
          for (const c of this.connections) c.stats.packetsReceived = c.stats.packetsSent = 0;
        },
        resetServerStats: () => {
          this.pipeline.latency.reset();
          this.packetsReceivedTotal = this.packetsSentTotal = 0;
        },
      }),
    );
  }

  onClose(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    const count = (this.connectionsByAddress.get(connection.remoteAddress) ?? 1) - 1;
    if (count <= 0) this.connectionsByAddress.delete(connection.remoteAddress);
    else this.connectionsByAddress.set(connection.remoteAddress, count);
    this.watches.removeWatcher(connection);
    const session = connection.session;
    if (session) {
      this.pipeline.detach(session);
      if (this.connectionBySession.get(session.id) === connection) this.connectionBySession.delete(session.id);
    }
  }

  onFrame(connection: Connection, frame: Buffer): void {
    if (connection.heldFrames !== null) {
      if (connection.heldFrames.length >= MAX_FRAMES_HELD_AT_CONNECT) connection.close();
      else connection.heldFrames.push(Buffer.from(frame));
      return;
    }
    this.packetsReceivedTotal++;
    if (!connection.handshakeDone) {
      this.handshake(connection, ConnectRequestCodec.read(new JuteReader(frame)));
      return;
    }
    const session = connection.session!;
    const reader = new JuteReader(frame);
    const header = RequestHeaderCodec.read(reader);
    if (!this.sessions.touch(session.id, this.now())) {
      connection.close();
      return;
    }
    const replicator = this.replicator;
    if (replicator) {
      replicator.touched.add(session.id);
      if (header.type === OpCode.sync && !replicator.isLeader) {
        this.learnerSync(connection, session, header.xid, frame.subarray(reader.position));
        return;
      }
    }
    if (header.type === OpCode.auth) {
      this.authenticate(connection, session, frame.subarray(reader.position));
      return;
    }
    if (header.type === OpCode.sasl) {
      this.saslStep(connection, session, header.xid, frame.subarray(reader.position));
      return;
    }
    if (replicator?.isLeader && replicator.serving && OWNER_CHECKED_OPS.has(header.type) && !this.owners.check(session.id, this.config.serverId)) {
      // A stale connection on the leader: the client resumed its session on a learner since.
      this.pipeline.submitWrite(
        session,
        () => ({ type: OpCode.error, err: Err.SessionMoved }),
        (result, txn) => replyFrame(header.xid, txn.zxid, result.err),
        () => connection.close(),
      );
      return;
    }
    const body = frame.subarray(reader.position);
    this.current = replicator ? { type: header.type, body } : null;
    let outcome: ReturnType<typeof handleRequest>;
    try {
      outcome = handleRequest({ pipeline: this.pipeline, session, watcher: connection, close: () => connection.close() }, header.xid, header.type, body);
    } finally {
      this.current = null;
    }
    if (outcome === 'close') this.pipeline.submitRead(session, () => null, () => connection.close());
  }

  /** `sync` on a learner: answered once this member has applied all the leader had committed. */
  private learnerSync(connection: Connection, session: ClientSession, xid: number, body: Buffer): void {
    const path = PathRecordCodec.read(new JuteReader(body)).path;
    const complete = this.pipeline.submitDeferred(session);
    if (mutations.serveReadsWhenDeposed && !this.replicator!.serving) {
      // MUTATION serveReadsWhenDeposed: no leader to ask; answered at once from the local tree.
      complete(() => replyFrame(xid, this.tree.lastProcessedZxid, 0, PathRecordCodec, { path }));
      return;
    }
    const answered = this.replicator!.sync(() => complete(() => replyFrame(xid, this.tree.lastProcessedZxid, 0, PathRecordCodec, { path })));
    if (!answered) {
      complete(null);
      connection.close();
    }
  }

  private negotiateTimeout(requestedMs: number): number {
    return Math.min(Math.max(requestedMs, this.config.minSessionTimeoutMs), this.config.maxSessionTimeoutMs);
  }

  private connectResponse(request: ConnectRequest, timeOut: number, sessionId: bigint, passwd: Buffer): Buffer {
    const writer = JuteWriter.frame(64);
    ConnectResponseCodec.write(writer, { protocolVersion: 0, timeOut, sessionId, passwd, readOnly: request.readOnly === undefined ? undefined : false });
    return writer.toBuffer();
  }

  private handshake(connection: Connection, request: ConnectRequest, caughtUp = false): void {
    // MUTATION serveReadsWhenDeposed: a member that is not serving accepts sessions anyway.
    if (this.replicator && !this.replicator.serving && !mutations.serveReadsWhenDeposed) {
      // Not serving (looking, or syncing with a leader): the client tries another member.
      connection.close();
      return;
    }
    const lastZxid = this.tree.lastProcessedZxid;
    if (request.lastZxidSeen > lastZxid) {
      // The client has seen a newer state than ours: it must try another server.
      this.log.info({ clientZxid: request.lastZxidSeen.toString(16), ourZxid: lastZxid.toString(16) }, 'refusing session: client is ahead');
      connection.close();
      return;
    }
    const timeoutMs = this.negotiateTimeout(request.timeOut);
    connection.handshakeDone = true;
    if (request.sessionId === 0n) {
      const id = this.sessions.newSessionId();
      this.sessions.add(id, timeoutMs, this.now());
      if (this.replicator?.isLeader) this.owners.claim(id, this.config.serverId);
      const session = this.attach(connection, id);
      // On a learner the createSession goes to the leader, with the timeout as its body.
      if (this.replicator) this.current = { type: OpCode.createSession, body: int32(timeoutMs) };
      this.pipeline.submitWrite(
        session,
        () => ({ type: OpCode.createSession, timeoutMs }),
        () => this.connectResponse(request, timeoutMs, id, sessionPassword(id)),
      );
      this.current = null;
      this.log.debug({ session: id.toString(16), timeoutMs }, 'new session');
      return;
    }
    const info = this.sessions.get(request.sessionId);
    const replicator = this.replicator;
    if (!info && !caughtUp && replicator?.serving && !replicator.isLeader && checkSessionPassword(request.sessionId, request.passwd)) {
      // A session this member has not heard of may have been created through another member a
      // moment ago: ZooKeeper's learner asks the leader. This one catches up with the leader
      // (sync) and looks again; the client had its session only once it was committed there.
      connection.heldFrames = [];
      const asked = replicator.sync(() => {
        const held = connection.heldFrames ?? [];
        connection.heldFrames = null;
        if (connection.closed) return;
        // Runs inside the replicator's loop: what a client sent must not escape into it.
        if (!connection.guarded(() => this.handshake(connection, request, true))) return;
        for (const frame of held) if (!connection.handleFrame(frame)) return;
      });
      if (!asked) connection.close();
      return;
    }
    if (!info || info.closing || !checkSessionPassword(request.sessionId, request.passwd)) {
      // ZooKeeper answers an invalid session with zeros (the client reports expiry) and closes.
      connection.send(this.connectResponse(request, 0, 0n, Buffer.alloc(SESSION_PASSWORD_BYTES)));
      connection.close();
      return;
    }
    if (replicator?.isLeader) this.owners.claim(request.sessionId, this.config.serverId);
    else if (replicator && replicator.serving && !replicator.revalidate(request.sessionId)) {
      // The leader must hear of the move before anything we forward for the session.
      this.log.info({ session: request.sessionId.toString(16) }, 'refusing session: the leader is out of reach to revalidate it');
      connection.close();
      return;
    }
    info.timeoutMs = timeoutMs;
    this.sessions.touch(request.sessionId, this.now());
    replicator?.touched.add(request.sessionId);
    const previous = this.connectionBySession.get(request.sessionId);
    if (previous && previous !== connection) previous.close();
    const session = this.attach(connection, request.sessionId);
    this.pipeline.submitRead(session, () => this.connectResponse(request, timeoutMs, request.sessionId, sessionPassword(request.sessionId)));
  }

  private attach(connection: Connection, sessionId: bigint): ClientSession {
    const session = new ClientSession(sessionId);
    session.sink = connection;
    session.addAuthId({ scheme: 'ip', id: connection.remoteAddress });
    connection.session = session;
    this.connectionBySession.set(sessionId, connection);
    return session;
  }

  /** Auth packets are answered at once, outside the session's queue, as in ZooKeeper. */
  private authenticate(connection: Connection, session: ClientSession, body: Buffer): void {
    const packet = AuthPacketCodec.read(new JuteReader(body));
    if (packet.scheme === 'digest') {
      const id = digestId(packet.auth.toString('utf8'));
      // The session's ids are a set, as ZooKeeper's authInfo: a repeated addAuth adds nothing.
      if (this.config.superDigest !== undefined && id === this.config.superDigest) session.addAuthId({ scheme: 'super', id: '' });
      session.addAuthId({ scheme: 'digest', id });
      connection.send(replyFrame(Xid.auth, 0n, 0));
      return;
    }
    this.log.warn({ scheme: packet.scheme, remote: connection.remoteAddress }, 'authentication failed: unknown scheme');
    connection.send(replyFrame(Xid.auth, 0n, Err.AuthFailed));
    connection.close();
  }

  /** In an ensemble only the serving leader expires sessions and reaps containers (through txns). */
  private leadsWrites(): boolean {
    return this.replicator === null || (this.replicator.isLeader && this.replicator.serving);
  }

  private reapContainers(): void {
    if (!this.leadsWrites()) return;
    const perCheck = Math.max(1, Math.floor((this.config.containerMaxPerMinute * this.config.containerCheckIntervalMs) / 60_000));
    for (const path of reapCandidates(this.tree, this.now(), perCheck)) {
      this.pipeline.submitServerTxn(0n, (prep) => this.pipeline.preparer.delete(prep, { path, version: -1 }, OpCode.deleteContainer));
    }
  }

  /** One step of a SASL exchange, answered at once as ZooKeeper's processSasl does. */
  private saslStep(connection: Connection, session: ClientSession, xid: number, body: Buffer): void {
    const users = this.config.saslUsers;
    try {
      if (!users) throw new SaslError('SASL is not enabled (no SASLAuthenticationProvider)');
      const sasl = (connection.sasl ??= new DigestMd5Server(users));
      const token = sasl.evaluate(SaslTokenCodec.read(new JuteReader(body)).token);
      if (sasl.complete && sasl.user !== null) {
        session.addAuthId({ scheme: 'sasl', id: sasl.user });
        this.log.info({ session: session.id.toString(16), user: sasl.user }, 'SASL authenticated');
      }
      connection.send(replyFrame(xid, 0n, 0, SaslTokenCodec, { token }));
    } catch (error) {
      if (!(error instanceof SaslError || error instanceof JuteDecodeError)) throw error;
      this.log.warn({ remote: connection.remoteAddress, reason: error.message }, 'SASL authentication failed; closing the connection');
      connection.send(replyFrame(xid, 0n, Err.AuthFailed));
      connection.close();
    }
  }

  private expireSessions(): void {
    if (!this.leadsWrites()) return;
    for (const info of this.sessions.expire(this.now())) {
      this.log.info({ session: info.id.toString(16), timeoutMs: info.timeoutMs }, 'session expired');
      this.pipeline.submitServerTxn(info.id, (prep) => this.pipeline.preparer.closeSession(prep));
    }
  }

  private onSessionClosed(sessionId: bigint): void {
    this.sessions.remove(sessionId);
    this.owners.forget(sessionId);
    const connection = this.connectionBySession.get(sessionId);
    // A client-initiated close sends its reply first (the request's `after` closes the socket).
    if (connection && connection.session && connection.session.queue.length === 0) connection.close();
  }

  private mode(): ServerView['mode'] {
    const state = this.replicator?.role.state;
    if (state === undefined) return 'standalone';
    return state === 'leading' ? 'leader' : state === 'observing' ? 'observer' : 'follower';
  }

  private ensembleConfig(): Array<[string, string | number]> {
    if (!this.replicator) return [];
    const status = this.replicator.status();
    return [
      ['initLimit', this.config.initLimit],
      ['syncLimit', this.config.syncLimit],
      ...this.config.servers.map((s): [string, string] => [`server.${s.id}`, `${s.host}:${s.quorumPort}:${s.electionPort}:${s.role}`]),
      ['peerState', status.state],
      ['leader', status.leader ?? -1],
      ['currentEpoch', status.currentEpoch],
      ['acceptedEpoch', status.acceptedEpoch],
    ];
  }

  view(): ServerView {
    const connections = [...this.connections].map((c) => ({
      remoteAddress: c.remoteAddress,
      remotePort: c.remotePort,
      queued: c.session?.queue.length ?? 0,
      received: c.stats.packetsReceived,
      sent: c.stats.packetsSent,
      sessionId: c.session?.id ?? null,
      timeoutMs: c.session ? (this.sessions.get(c.session.id)?.timeoutMs ?? 0) : 0,
      establishedAtMs: c.stats.connectedAtMs,
      lastZxid: this.tree.lastProcessedZxid,
    }));
    const watchesByPath = [...this.watches.byPath()].map(([path, watchers]) => ({
      path,
      sessions: [...watchers].map((w) => (w as Connection).session?.id ?? 0n),
    }));
    const ephemerals = [...this.tree.sessions().keys()]
      .map((sessionId) => ({ sessionId, paths: [...this.tree.ephemeralsOf(sessionId)].sort() }))
      .filter((e) => e.paths.length > 0);
    const latency = this.pipeline.latency;
    return {
      mode: this.mode(),
      ensemble: this.replicator?.figures(),
      latency: { min: latency.minMs, avg: latency.avgMs, max: latency.maxMs },
      packetsReceived: this.packetsReceivedTotal,
      packetsSent: this.packetsSentTotal,
      connections,
      outstanding: this.pipeline.outstandingRequests,
      lastZxid: this.tree.lastProcessedZxid,
      // ZooKeeper's DataTree holds the root twice (under "" and "/"); its counts show it.
      nodeCount: this.tree.nodeCount + 1,
      watchCount: this.watches.watchCount,
      watchPathCount: this.watches.pathCount,
      ephemeralsCount: this.tree.ephemeralCount(),
      approximateDataSize: this.tree.approximateDataSize(),
      sessions: [...this.sessions.all()].map((s) => ({ id: s.id, timeoutMs: s.timeoutMs })),
      ephemerals,
      watchesByPath,
      dataDirBytes: directoryBytes(this.storage.snapDir),
      dataLogDirBytes: directoryBytes(this.storage.logDir),
      config: [
        ['clientPort', this.address().port],
        ['secureClientPort', -1],
        ['dataDir', this.storage.snapDir],
        ['dataDirSize', directoryBytes(this.storage.snapDir)],
        ['dataLogDir', this.storage.logDir],
        ['dataLogSize', directoryBytes(this.storage.logDir)],
        ['tickTime', this.config.tickTimeMs],
        ['maxClientCnxns', this.config.maxClientCnxns],
        ['minSessionTimeout', this.config.minSessionTimeoutMs],
        ['maxSessionTimeout', this.config.maxSessionTimeoutMs],
        ['clientPortListenBacklog', -1],
        ['serverId', this.config.serverId],
        ...this.ensembleConfig(),
      ],
    };
  }
}

function int32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value, 0);
  return bytes;
}

/** The myid file of an ensemble member's dataDir, as ZooKeeper reads it. */
export async function readMyId(dataDir: string, fs: FileSystem = nodeFileSystem): Promise<number> {
  const file = join(dataDir, 'myid');
  let text: string;
  try {
    text = (await fs.readFile(file)).toString('utf8');
  } catch (error) {
    throw new Error(`${file} is missing or unreadable: an ensemble member needs its id there (${(error as Error).message})`);
  }
  const id = Number(text.trim());
  if (!Number.isInteger(id) || id < 0) throw new Error(`${file} does not hold a server id`);
  return id;
}

/** Bytes of the files directly in `dir` (the dirs/conf words); small directories only. */
function directoryBytes(dir: string): number {
  try {
    return readdirSync(dir).reduce((sum, name) => {
      try {
        return sum + statSync(join(dir, name)).size;
      } catch {
        return sum;
      }
    }, 0);
  } catch {
    return 0;
  }
}
