/**
 * One Paddock server: wires the tree, sessions, watches and the request pipeline to the
 * client port, and owns the timers and sockets. Standalone mode is an ensemble of one.
 */
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
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
  RequestHeaderCodec,
  Xid,
} from '../jute/index.js';
import type { ConnectRequest } from '../jute/index.js';
import { DigestMd5Server, SaslError, digestId } from '../acl/index.js';
import { FOUR_LETTER_WORDS, runFourLetterWord } from '../admin/index.js';
import type { ServerView } from '../admin/index.js';
import { SessionTracker, checkSessionPassword, sessionPassword, SESSION_PASSWORD_BYTES } from '../session/index.js';
import type { DataTree } from '../tree/index.js';
import { WatchManager } from '../watch/index.js';
import { Storage } from '../storage/index.js';
import type { FileSystem } from '../storage/index.js';
import { DurableCommitter } from './commit.js';
import type { ServerConfig } from './config.js';
import { Connection } from './connection.js';
import type { ConnectionHandler } from './connection.js';
import type { Logger } from './log.js';
import { ClientSession, Pipeline } from './pipeline.js';
import { handleRequest } from './requests.js';
import { reapCandidates } from './reaper.js';
import { replyFrame } from './replies.js';

export interface ServerOptions {
  /** The file system under storage; tests inject faults here. */
  fs?: FileSystem;
  /** Called when the server cannot go on safely (a failed log write); it has stopped by then. */
  onFatal?: (error: Error) => void;
}

export class PaddockServer implements ConnectionHandler {
  readonly watches = new WatchManager();
  readonly sessions: SessionTracker;
  /** Set by start(): the tree comes from recovery. */
  tree!: DataTree;
  pipeline!: Pipeline;
  storage!: Storage;
  private purgeTimer: NodeJS.Timeout | null = null;
  private reaperTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private readonly connections = new Set<Connection>();
  private readonly connectionBySession = new Map<bigint, Connection>();
  private readonly connectionsByAddress = new Map<string, number>();
  private server: Server | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private packetsReceivedTotal = 0;
  private packetsSentTotal = 0;

  constructor(
    readonly config: ServerConfig,
    private readonly log: Logger,
    private readonly options: ServerOptions = {},
  ) {
    this.sessions = new SessionTracker(config.tickTimeMs, config.serverId, Date.now());
  }

  async start(): Promise<void> {
    mkdirSync(this.config.dataDir, { recursive: true });
    for (const key of this.config.unused) this.log.info({ key }, 'configuration key accepted but not used by Paddock yet');
    await this.openStorage();
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.config.clientPort, host: this.config.clientPortAddress, backlog: 511 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.log.error({ err: error.message }, 'client port error'));
    this.expiryTimer = setInterval(() => this.expireSessions(), this.config.tickTimeMs);
    this.reaperTimer = setInterval(() => this.reapContainers(), Math.max(10, this.config.containerCheckIntervalMs));
    if (this.config.autopurgePurgeIntervalHours > 0) {
      this.purgeTimer = setInterval(() => void this.purgeNow(), this.config.autopurgePurgeIntervalHours * 3_600_000);
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
      log: this.log,
      fs: this.options.fs,
    });
    this.storage = storage;
    this.tree = recovered.tree;
    this.pipeline = new Pipeline(
      this.tree,
      this.watches,
      {
        sessionClosed: (sessionId) => this.onSessionClosed(sessionId),
        replyFailed: (session, error) =>
          this.log.error({ session: session.id.toString(16), err: error.stack ?? error.message }, 'could not build a reply; closing that connection'),
      },
      { extendedTypesEnabled: this.config.extendedTypesEnabled, skipAcl: this.config.skipAcl },
    );
    this.pipeline.setCommitter(
      new DurableCommitter(
        storage,
        (batch) => {
          for (const txn of batch) this.pipeline.commit(txn);
          storage.committed(this.tree, batch.length);
          const quotaWarnings = this.tree.quotas.warnings.splice(0);
          for (const warning of quotaWarnings) this.log.warn({}, warning);
        },
        (error) => void this.fail(error),
      ),
    );
    // Recovered sessions get their full timeout from now to reconnect, as in ZooKeeper.
    const now = Date.now();
    for (const [id, timeoutMs] of this.tree.sessions()) this.sessions.add(id, timeoutMs, now);
    if (recovered.replayedTxns > 0 || !(await storage.hasSnapshot())) void storage.snapshot(this.tree);
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

  address(): { host: string; port: number } {
    const info = this.server?.address() as AddressInfo | null;
    return { host: info?.address ?? this.config.clientPortAddress, port: info?.port ?? this.config.clientPort };
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    if (this.reaperTimer) clearInterval(this.reaperTimer);
    this.expiryTimer = null;
    this.purgeTimer = null;
    for (const connection of this.connections) connection.socket.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.storage?.close().catch(() => undefined);
  }

  private accept(socket: Socket): void {
    const address = socket.remoteAddress ?? '';
    const count = this.connectionsByAddress.get(address) ?? 0;
    if (this.config.maxClientCnxns > 0 && count >= this.config.maxClientCnxns) {
      this.log.warn({ remote: address, max: this.config.maxClientCnxns }, 'too many connections from one address');
      socket.destroy();
      return;
    }
    this.connectionsByAddress.set(address, count + 1);
    // A frame may hold maxbuffer bytes of data plus the request's own fields.
    const connection = new Connection(socket, this, this.config.maxBufferBytes, this.log);
    this.connections.add(connection);
  }

  packetSent(): void {
    this.packetsSentTotal++;
  }

  isFourLetterWord(word: string): boolean {
    return FOUR_LETTER_WORDS.has(word);
  }

  onFourLetterWord(connection: Connection, word: string): void {
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
    this.packetsReceivedTotal++;
    if (!connection.handshakeDone) {
      this.handshake(connection, ConnectRequestCodec.read(new JuteReader(frame)));
      return;
    }
    const session = connection.session!;
    const reader = new JuteReader(frame);
    const header = RequestHeaderCodec.read(reader);
    if (!this.sessions.touch(session.id, Date.now())) {
      connection.close();
      return;
    }
    if (header.type === OpCode.auth) {
      this.authenticate(connection, session, frame.subarray(reader.position));
      return;
    }
    if (header.type === OpCode.sasl) {
      this.saslStep(connection, session, header.xid, frame.subarray(reader.position));
      return;
    }
    const outcome = handleRequest(
      { pipeline: this.pipeline, session, watcher: connection, close: () => connection.close() },
      header.xid,
      header.type,
      frame.subarray(reader.position),
    );
    if (outcome === 'close') this.pipeline.submitRead(session, () => null, () => connection.close());
  }

  private negotiateTimeout(requestedMs: number): number {
    return Math.min(Math.max(requestedMs, this.config.minSessionTimeoutMs), this.config.maxSessionTimeoutMs);
  }

  private connectResponse(request: ConnectRequest, timeOut: number, sessionId: bigint, passwd: Buffer): Buffer {
    const writer = JuteWriter.frame(64);
    ConnectResponseCodec.write(writer, { protocolVersion: 0, timeOut, sessionId, passwd, readOnly: request.readOnly === undefined ? undefined : false });
    return writer.toBuffer();
  }

  private handshake(connection: Connection, request: ConnectRequest): void {
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
      this.sessions.add(id, timeoutMs, Date.now());
      const session = this.attach(connection, id);
      this.pipeline.submitWrite(
        session,
        () => ({ type: OpCode.createSession, timeoutMs }),
        () => this.connectResponse(request, timeoutMs, id, sessionPassword(id)),
      );
      this.log.debug({ session: id.toString(16), timeoutMs }, 'new session');
      return;
    }
    const info = this.sessions.get(request.sessionId);
    if (!info || info.closing || !checkSessionPassword(request.sessionId, request.passwd)) {
      // ZooKeeper answers an invalid session with zeros (the client reports expiry) and closes.
      connection.send(this.connectResponse(request, 0, 0n, Buffer.alloc(SESSION_PASSWORD_BYTES)));
      connection.close();
      return;
    }
    info.timeoutMs = timeoutMs;
    this.sessions.touch(request.sessionId, Date.now());
    const previous = this.connectionBySession.get(request.sessionId);
    if (previous && previous !== connection) previous.close();
    const session = this.attach(connection, request.sessionId);
    this.pipeline.submitRead(session, () => this.connectResponse(request, timeoutMs, request.sessionId, sessionPassword(request.sessionId)));
  }

  private attach(connection: Connection, sessionId: bigint): ClientSession {
    const session = new ClientSession(sessionId);
    session.sink = connection;
    session.authIds.push({ scheme: 'ip', id: connection.remoteAddress });
    connection.session = session;
    this.connectionBySession.set(sessionId, connection);
    return session;
  }

  /** Auth packets are answered at once, outside the session's queue, as in ZooKeeper. */
  private authenticate(connection: Connection, session: ClientSession, body: Buffer): void {
    const packet = AuthPacketCodec.read(new JuteReader(body));
    if (packet.scheme === 'digest') {
      const id = digestId(packet.auth.toString('utf8'));
      if (this.config.superDigest !== undefined && id === this.config.superDigest) {
        session.authIds.push({ scheme: 'super', id: '' });
      }
      session.authIds.push({ scheme: 'digest', id });
      connection.send(replyFrame(Xid.auth, 0n, 0));
      return;
    }
    this.log.warn({ scheme: packet.scheme, remote: connection.remoteAddress }, 'authentication failed: unknown scheme');
    connection.send(replyFrame(Xid.auth, 0n, Err.AuthFailed));
    connection.close();
  }

  private reapContainers(): void {
    const perCheck = Math.max(1, Math.floor((this.config.containerMaxPerMinute * this.config.containerCheckIntervalMs) / 60_000));
    for (const path of reapCandidates(this.tree, Date.now(), perCheck)) {
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
        session.authIds.push({ scheme: 'sasl', id: sasl.user });
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
    for (const info of this.sessions.expire(Date.now())) {
      this.log.info({ session: info.id.toString(16), timeoutMs: info.timeoutMs }, 'session expired');
      this.pipeline.submitServerTxn(info.id, (prep) => this.pipeline.preparer.closeSession(prep));
    }
  }

  private onSessionClosed(sessionId: bigint): void {
    this.sessions.remove(sessionId);
    const connection = this.connectionBySession.get(sessionId);
    // A client-initiated close sends its reply first (the request's `after` closes the socket).
    if (connection && connection.session && connection.session.queue.length === 0) connection.close();
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
      mode: 'standalone',
      latency: { min: latency.minMs, avg: latency.avgMs, max: latency.maxMs },
      packetsReceived: this.packetsReceivedTotal,
      packetsSent: this.packetsSentTotal,
      connections,
      outstanding: this.pipeline.outstandingRequests,
      lastZxid: this.tree.lastProcessedZxid,
      nodeCount: this.tree.nodeCount,
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
      ],
    };
  }
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
