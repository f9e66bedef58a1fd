/**
 * The connection engine under ZooKeeperClient: one TCP connection at a time to one host of
 * the connect string, the handshake, the send queue and the in-flight queue, reply dispatch,
 * watches, pings, reconnects and the session's fate.
 *
 * Life of a call: an op encodes its frame (with its xid) and `submit`s a Request. Requests
 * issued in one tick go out in one socket write on the next tick (`flush`) and move to
 * `pending`. Replies come back in request order: each must carry the xid at the head of
 * `pending`, or the connection is broken (protocol error) and replaced. Notifications (xid -1)
 * fire their watches synchronously, as their frame is processed, so a watch callback always
 * runs before the reply of any request after the event settles.
 *
 * While disconnected, new requests wait in `outgoing` (at most maxQueuedRequests, and at
 * most one session timeout) and go out after the reconnect, behind the auth packets and
 * SetWatches / SetWatches2 that restore the session's state. Requests that were in flight
 * when the connection broke fail with ConnectionLoss: whether they took effect is unknown.
 */
import { EventEmitter } from 'node:events';
import {
  ConnectRequestCodec,
  ConnectResponseCodec,
  Err,
  EventType,
  JuteReader,
  JuteWriter,
  KeeperState,
  OpCode,
  SetWatches2Codec,
  SetWatchesCodec,
  WatcherEventCodec,
  Xid,
} from '../jute/index.js';
import { FrameDecoder } from '../proto/index.js';
import { ZooKeeperError } from './errors.js';
import { parseConnectString } from './hosts.js';
import type { HostPort } from './hosts.js';
import { AuthEntry, EMPTY_DATA, Request } from './requests.js';
import type { ClientEvents, ClientState, ConnectOptions, WatchCallback, WatchedEvent } from './types.js';
import { Deque } from './deque.js';
import { WatchKind, WatchRegistry } from './watches.js';
import { nodePlatform } from '../platform/index.js';
import type { Platform, StreamSocket, TimerHandle } from '../platform/index.js';

const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
const MIN_CONNECT_TIMEOUT_MS = 250;
const DEFAULT_MAX_QUEUED_REQUESTS = 10_000;
const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024 + 64 * 1024;
const DEFAULT_MAX_RECONNECT_DELAY_MS = 1000;
const FIRST_RETRY_DELAY_MS = 20;
/** As ZooKeeper's client: SetWatches is split so that no packet carries more path bytes. */
const SET_WATCHES_MAX_BYTES = 128 * 1024;
const PASSWORD_BYTES = 16;
const MAX_XID = 0x7fffffff;

/** The ping is always the same 12 bytes: length 8, xid -2, op 11. */
const PING_FRAME: Buffer = JuteWriter.frame(12).writeInt(Xid.ping).writeInt(OpCode.ping).toBuffer();

/** A frame the server should not have sent: the connection is dropped and replaced. */
class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** One TCP connection attempt and, once its handshake succeeded, the live connection. */
class Link {
  alive = true;
  established = false;
  /** Auth packets sent on this connection whose answers (xid -4, in order) are due. */
  readonly authInFlight: AuthEntry[] = [];
  attemptTimer: TimerHandle | null = null;
  readonly decoder: FrameDecoder;
  constructor(
    readonly socket: StreamSocket,
    readonly host: HostPort,
    maxFrameBytes: number,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
  }
}

/** Hooks for tests that need to break what a network or a server would break. */
export interface ClientTestHooks {
  /** Destroys the current socket, as a network failure would; the client reconnects. */
  destroySocket(): void;
  /** Stops (true) or resumes (false) pings and the read timeout, so the server can expire the session. */
  pauseHeartbeat(paused: boolean): void;
  /** Holds (true) or releases (false) reconnect attempts, to make changes while the client is away. */
  holdReconnects(held: boolean): void;
  /** Feeds bytes to the client as if the server had sent them on the current connection. */
  injectBytes(bytes: Buffer): void;
  /** Local port of the current connection, to find it on the server side. */
  readonly localPort: number | undefined;
}

interface InitialConnect {
  resolve: () => void;
  reject: (error: Error) => void;
  deadlineMs: number;
}

export class ClientCore extends EventEmitter<ClientEvents> {
  private readonly hosts: HostPort[];
  private hostIndex = 0;
  private readonly requestedTimeoutMs: number;
  private readonly explicitConnectTimeoutMs: number | undefined;
  private readonly sendReadOnlyByte: boolean;
  private readonly canBeReadOnly: boolean;
  private readonly maxQueuedRequests: number;
  private readonly maxFrameBytes: number;
  private readonly maxReconnectDelayMs: number;

  private stateValue: ClientState = 'connecting';
  /** close() was called: no new requests, no reconnects. */
  protected closing = false;
  private link: Link | null = null;
  private xid = 0;
  private outgoing: (Request | AuthEntry)[] = [];
  private readonly pending = new Deque<Request>(1024);
  private flushScheduled = false;
  private readonly flushNow = (): void => this.flush();
  protected readonly watchRegistry = new WatchRegistry();
  private readonly auths: AuthEntry[] = [];

  private sessionIdValue: bigint;
  private passwordValue: Buffer;
  private negotiatedTimeoutMsValue = 0;
  private lastZxid = 0n;

  private lastSendMs = 0;
  private lastRecvMs = 0;
  private heartbeatTimer: TimerHandle | null = null;
  private heartbeatPeriodMs = 0;
  private lastHeartbeatMs = 0;
  private heartbeatPaused = false;
  private reconnectsHeld = false;
  private reconnectTimer: TimerHandle | null = null;
  private queueDeadlineTimer: TimerHandle | null = null;
  /** Disconnected for longer than a session timeout: calls fail at once until a connection is back. */
  private failFast = false;
  private failedAttempts = 0;
  private initial: InitialConnect | null = null;

  readonly testHooks: ClientTestHooks;
  protected readonly platform: Platform;
  private readonly onReplyHeader: ((xid: number, zxid: bigint, err: number) => void) | undefined;
  private readonly onWatchEvent: ((event: WatchedEvent) => void) | undefined;

  protected constructor(options: ConnectOptions) {
    super();
    this.platform = options.platform ?? nodePlatform;
    this.onReplyHeader = options.onReplyHeader;
    this.onWatchEvent = options.onWatchEvent;
    this.hosts = parseConnectString(options.connectString);
    this.requestedTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.explicitConnectTimeoutMs = options.connectTimeoutMs;
    this.sendReadOnlyByte = options.readOnly ?? true;
    this.canBeReadOnly = options.canBeReadOnly ?? false;
    this.maxQueuedRequests = options.maxQueuedRequests ?? DEFAULT_MAX_QUEUED_REQUESTS;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxReconnectDelayMs = options.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS;
    this.sessionIdValue = options.sessionId ?? 0n;
    this.passwordValue = options.sessionPassword ?? Buffer.alloc(PASSWORD_BYTES);
    this.testHooks = this.makeTestHooks();
  }

  get state(): ClientState {
    return this.stateValue;
  }
  get sessionId(): bigint {
    return this.sessionIdValue;
  }
  get sessionPassword(): Buffer {
    return Buffer.from(this.passwordValue);
  }
  /** The session timeout the server granted (0 before the first handshake). */
  get negotiatedTimeoutMs(): number {
    return this.negotiatedTimeoutMsValue;
  }
  /** The largest zxid seen in any reply header. */
  get lastZxidSeen(): bigint {
    return this.lastZxid;
  }
  /** Registered (path, callback) watch pairs. */
  get watchCount(): number {
    return this.watchRegistry.count;
  }

  // ---- connecting ----

  /** First connection: resolves with a session; rejects once every host failed for a session timeout. */
  protected start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.initial = { resolve, reject, deadlineMs: this.now() + this.requestedTimeoutMs };
      this.attempt();
    });
  }

  private now(): number {
    return this.platform.clock.now();
  }

  private connectTimeoutMs(): number {
    if (this.explicitConnectTimeoutMs !== undefined) return this.explicitConnectTimeoutMs;
    const timeoutMs = this.negotiatedTimeoutMsValue > 0 ? this.negotiatedTimeoutMsValue : this.requestedTimeoutMs;
    return Math.max(MIN_CONNECT_TIMEOUT_MS, Math.floor(timeoutMs / this.hosts.length));
  }

  /** Round robin over the hosts; a full round of failures backs off, up to maxReconnectDelayMs. */
  private scheduleAttempt(): void {
    if (this.reconnectTimer || this.link || this.closing) return;
    const rounds = Math.floor(this.failedAttempts / this.hosts.length);
    if (this.failedAttempts === 0 || this.failedAttempts % this.hosts.length !== 0) {
      this.attempt();
      return;
    }
    const ceilingMs = Math.min(this.maxReconnectDelayMs, FIRST_RETRY_DELAY_MS * 2 ** Math.min(rounds - 1, 16));
    const delayMs = Math.round(ceilingMs / 2 + (this.platform.random() * ceilingMs) / 2);
    // Kept alive (ref'd): while the client waits to retry it may be all the process waits for.
    this.reconnectTimer = this.platform.timers.after(
      delayMs,
      () => {
        this.reconnectTimer = null;
        this.attempt();
      },
      true,
    );
  }

  private attempt(): void {
    if (this.closing || this.link || this.reconnectsHeld) return;
    const host = this.hosts[this.hostIndex]!;
    this.hostIndex = (this.hostIndex + 1) % this.hosts.length;
    const socket = this.platform.net.connect(host.host, host.port);
    const link = new Link(socket, host, this.maxFrameBytes);
    this.link = link;
    socket.setNoDelay(true);
    const failAttempt = (): void => this.linkFailed(link, new Error(`no session from ${host.host}:${host.port} in time`));
    link.attemptTimer = this.platform.timers.after(this.connectTimeoutMs(), failAttempt, true);
    socket.on('connect', () => {
      if (link.alive) socket.write(this.connectRequestFrame());
    });
    socket.on('data', (chunk: Buffer) => this.onData(link, chunk));
    socket.on('error', (error) => this.linkFailed(link, error));
    socket.on('close', () => this.linkFailed(link, new Error(`connection to ${host.host}:${host.port} closed`)));
  }

  private connectRequestFrame(): Buffer {
    const writer = JuteWriter.frame(64);
    ConnectRequestCodec.write(writer, {
      protocolVersion: 0,
      lastZxidSeen: this.lastZxid,
      timeOut: this.requestedTimeoutMs,
      sessionId: this.sessionIdValue,
      passwd: this.passwordValue,
      readOnly: this.sendReadOnlyByte ? this.canBeReadOnly : undefined,
    });
    return writer.toBuffer();
  }

  private onHandshake(link: Link, frame: Buffer): void {
    const response = ConnectResponseCodec.read(new JuteReader(frame));
    if (response.timeOut <= 0 || response.sessionId === 0n) {
      this.expire();
      return;
    }
    const resumed = this.sessionIdValue !== 0n;
    this.sessionIdValue = response.sessionId;
    this.passwordValue = Buffer.from(response.passwd);
    this.negotiatedTimeoutMsValue = response.timeOut;
    link.established = true;
    link.attemptTimer?.cancel();
    link.attemptTimer = null;
    this.failedAttempts = 0;
    this.stateValue = 'connected';
    this.queueDeadlineTimer?.cancel();
    this.queueDeadlineTimer = null;
    this.failFast = false;
    this.primeConnection(link);
    this.flush();
    this.startHeartbeat();
    const initial = this.initial;
    this.initial = null;
    initial?.resolve();
    const info = { host: link.host.host, port: link.host.port, sessionId: response.sessionId, resumed };
    this.safely(() => this.emit('connected', info));
  }

  /** Restores the session's state on a new connection: credentials first, then watches. */
  private primeConnection(link: Link): void {
    const frames: Buffer[] = [];
    for (const entry of this.auths) {
      frames.push(entry.frame);
      link.authInFlight.push(entry);
    }
    if (!this.watchRegistry.isEmpty) frames.push(...this.setWatchesFrames());
    if (frames.length > 0) this.write(link, frames);
  }

  /**
   * SetWatches frames for every registered watch, as ClientCnxn.primeConnection builds them:
   * the paths in the order data, exist, child, persistent, persistent-recursive, cut into
   * batches of at most SET_WATCHES_MAX_BYTES of paths. A batch that carries persistent or
   * recursive paths goes as SetWatches2 (op 105), any other as SetWatches (op 101), which
   * servers older than 3.6 understand; both use xid -8.
   */
  private setWatchesFrames(): Buffer[] {
    const paths = this.watchRegistry.paths();
    const frames: Buffer[] = [];
    const kinds = ['data', 'exist', 'child', 'persistent', 'persistentRecursive'] as const;
    const emptyBatch = (): Record<(typeof kinds)[number], string[]> => ({ data: [], exist: [], child: [], persistent: [], persistentRecursive: [] });
    let batch = emptyBatch();
    let bytes = 0;
    const emitBatch = (): void => {
      const setWatches = { relativeZxid: this.lastZxid, dataWatches: batch.data, existWatches: batch.exist, childWatches: batch.child };
      if (batch.persistent.length === 0 && batch.persistentRecursive.length === 0) {
        const writer = JuteWriter.frame(64 + bytes).writeInt(Xid.setWatches).writeInt(OpCode.setWatches);
        SetWatchesCodec.write(writer, setWatches);
        frames.push(writer.toBuffer());
      } else {
        const writer = JuteWriter.frame(64 + bytes).writeInt(Xid.setWatches).writeInt(OpCode.setWatches2);
        SetWatches2Codec.write(writer, { ...setWatches, persistentWatches: batch.persistent, persistentRecursiveWatches: batch.persistentRecursive });
        frames.push(writer.toBuffer());
      }
      batch = emptyBatch();
      bytes = 0;
    };
    for (const kind of kinds) {
      for (const path of paths[kind]) {
        const size = Buffer.byteLength(path) + 4;
        if (bytes > 0 && bytes + size > SET_WATCHES_MAX_BYTES) emitBatch();
        batch[kind].push(path);
        bytes += size;
      }
    }
    if (bytes > 0) emitBatch();
    return frames;
  }

  // ---- sending ----

  protected nextXid(): number {
    this.xid = this.xid >= MAX_XID ? 1 : this.xid + 1;
    return this.xid;
  }

  /** The error a new call gets right away, or null if it may be sent or queued. */
  protected refusal(path: string | undefined): ZooKeeperError | null {
    if (this.stateValue === 'expired') return new ZooKeeperError(Err.SessionExpired, path);
    if (this.closing || this.stateValue === 'closed') return new ZooKeeperError(Err.ConnectionLoss, path);
    if (this.stateValue !== 'connected' && (this.failFast || this.outgoing.length >= this.maxQueuedRequests)) {
      return new ZooKeeperError(Err.ConnectionLoss, path);
    }
    return null;
  }

  protected submit(request: Request): void {
    const refusal = this.refusal(request.path);
    if (refusal) {
      request.reject(refusal);
      return;
    }
    this.enqueue(request);
  }

  /** Queues without the closing check (closeSession itself is sent while closing). */
  protected enqueue(item: Request | AuthEntry): void {
    this.outgoing.push(item);
    if (!this.flushScheduled && this.stateValue === 'connected') {
      this.flushScheduled = true;
      process.nextTick(this.flushNow);
    }
  }

  /** Sends everything queued in one socket write and moves the requests to `pending`. */
  private flush(): void {
    this.flushScheduled = false;
    const link = this.link;
    if (this.stateValue !== 'connected' || !link || this.outgoing.length === 0) return;
    const items = this.outgoing;
    this.outgoing = [];
    const frames: Buffer[] = new Array<Buffer>(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      frames[i] = item.frame;
      if (item instanceof Request) {
        // A sent request needs its bytes no more; do not hold large writes until their replies.
        item.frame = EMPTY_DATA;
        this.pending.push(item);
      } else {
        link.authInFlight.push(item);
      }
    }
    this.write(link, frames);
  }

  private write(link: Link, frames: Buffer[]): void {
    link.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
    this.lastSendMs = this.now();
  }

  protected addAuthEntry(entry: AuthEntry): void {
    this.auths.push(entry);
    // While disconnected the credential goes out with the next connection's first packets.
    if (this.stateValue === 'connected') this.enqueue(entry);
  }

  // ---- receiving ----

  private onData(link: Link, chunk: Buffer): void {
    if (!link.alive) return;
    this.lastRecvMs = this.now();
    try {
      const frames = link.decoder.push(chunk);
      for (let i = 0; i < frames.length && link.alive; i++) {
        if (link.established) this.onReply(link, frames[i]!);
        else this.onHandshake(link, frames[i]!);
      }
    } catch (error) {
      // FrameError, JuteDecodeError, ProtocolError: the stream can no longer be trusted.
      this.linkFailed(link, error instanceof Error ? error : new Error(String(error)));
    }
  }

  private onReply(link: Link, frame: Buffer): void {
    const reader = new JuteReader(frame);
    const xid = reader.readInt();
    const zxid = reader.readLong();
    const err = reader.readInt();
    if (zxid > this.lastZxid) this.lastZxid = zxid;
    const hook = this.onReplyHeader;
    if (hook !== undefined) this.safely(() => hook(xid, zxid, err));
    if (xid === Xid.notification) {
      this.dispatchEvent(WatcherEventCodec.read(reader));
    } else if (xid === Xid.auth) {
      this.onAuthReply(link, err);
    } else if (xid !== Xid.ping && xid !== Xid.setWatches) {
      const request = this.pending.peek();
      if (!request || request.xid !== xid) {
        throw new ProtocolError(`reply xid ${xid} does not match the oldest request's xid ${request?.xid ?? 'none'}`);
      }
      this.pending.shift();
      this.settle(request, err, reader);
    }
  }

  /** Resolves or rejects one call; registers its watch only when the server set one. */
  private settle(request: Request, err: number, reader: JuteReader): void {
    if (err === Err.Ok) {
      let value: unknown;
      try {
        value = request.decode(reader);
      } catch (error) {
        if (error instanceof ZooKeeperError) return request.reject(error);
        request.reject(new ZooKeeperError(Err.ConnectionLoss, request.path));
        throw error;
      }
      if (request.watch) this.watchRegistry.add(request.watchKind, request.path, request.watch);
      request.resolve(value);
    } else if (err === Err.NoNode && request.opCode === OpCode.exists) {
      if (request.watch) this.watchRegistry.add(WatchKind.exist, request.path, request.watch);
      request.resolve(null);
    } else {
      request.reject(new ZooKeeperError(err, request.path));
    }
  }

  private onAuthReply(link: Link, err: number): void {
    const entry = link.authInFlight.shift();
    if (!entry) return;
    const waiter = entry.waiter;
    entry.waiter = null;
    if (err === Err.Ok) {
      waiter?.resolve();
      return;
    }
    // The server closes the connection after AuthFailed; the next one goes without it.
    const index = this.auths.indexOf(entry);
    if (index !== -1) this.auths.splice(index, 1);
    waiter?.reject(new ZooKeeperError(err));
  }

  private dispatchEvent(event: WatchedEvent): void {
    const hook = this.onWatchEvent;
    if (hook !== undefined) this.safely(() => hook(event));
    const callbacks = this.watchRegistry.take(event.type, event.path);
    if (!callbacks) return;
    for (const callback of callbacks) this.invokeWatcher(callback, event);
  }

  /** Calls a watch callback; what it throws goes to 'error' (see reportError). */
  protected invokeWatcher(callback: WatchCallback, event: WatchedEvent): void {
    try {
      callback(event);
    } catch (error) {
      this.reportError(error);
    }
  }

  /** Runs user code (a listener) so that what it throws cannot break the connection's state. */
  protected safely(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.reportError(error);
    }
  }

  /** An exception from user code goes to 'error' listeners, or is rethrown on the next tick. */
  private reportError(error: unknown): void {
    let reported = error instanceof Error ? error : new Error(String(error));
    if (this.listenerCount('error') > 0) {
      try {
        this.emit('error', reported);
        return;
      } catch (fromListener) {
        reported = fromListener instanceof Error ? fromListener : new Error(String(fromListener));
      }
    }
    process.nextTick(() => {
      throw reported;
    });
  }

  // ---- heartbeat ----

  private startHeartbeat(): void {
    this.heartbeatTimer?.cancel();
    this.heartbeatPeriodMs = Math.max(10, Math.floor(this.negotiatedTimeoutMsValue / 6));
    this.lastHeartbeatMs = this.now();
    this.heartbeatTimer = this.platform.timers.every(this.heartbeatPeriodMs, () => this.heartbeat());
  }

  /** Pings after a third of the session timeout without sending; gives up after two thirds without hearing. */
  private heartbeat(): void {
    const link = this.link;
    if (!link || !link.established || this.heartbeatPaused) return;
    const now = this.now();
    // A tick far behind its schedule means this process did not run (a long synchronous task,
    // a paused VM): replies may sit unread in the socket, so judge the server on the next tick.
    const late = now - this.lastHeartbeatMs > 2 * this.heartbeatPeriodMs;
    this.lastHeartbeatMs = now;
    const timeoutMs = this.negotiatedTimeoutMsValue;
    if (!late && now - this.lastRecvMs > (timeoutMs * 2) / 3) {
      this.linkFailed(link, new Error(`no reply from ${link.host.host}:${link.host.port} for ${now - this.lastRecvMs} ms`));
    } else if (now - this.lastSendMs >= timeoutMs / 3) {
      link.socket.write(PING_FRAME);
      this.lastSendMs = now;
    }
  }

  // ---- losing the connection ----

  private linkFailed(link: Link, reason: Error): void {
    if (!link.alive || this.link !== link) return;
    link.alive = false;
    this.link = null;
    link.attemptTimer?.cancel();
    link.socket.destroy();
    this.heartbeatTimer?.cancel();
    this.heartbeatTimer = null;
    if (link.established) this.connectionLost(reason);
    else this.attemptFailed(reason);
  }

  private attemptFailed(reason: Error): void {
    this.failedAttempts++;
    const initial = this.initial;
    if (initial && this.now() >= initial.deadlineMs && this.failedAttempts >= this.hosts.length) {
      this.initial = null;
      this.shutDown('closed', Err.ConnectionLoss, KeeperState.Closed);
      initial.reject(Object.assign(new ZooKeeperError(Err.ConnectionLoss), { cause: reason }));
      return;
    }
    if (this.stateValue === 'connecting' || this.stateValue === 'disconnected') this.scheduleAttempt();
  }

  private connectionLost(reason: Error): void {
    this.stateValue = 'disconnected';
    for (let request = this.pending.shift(); request; request = this.pending.shift()) {
      request.reject(new ZooKeeperError(Err.ConnectionLoss, request.path));
    }
    // Queued credentials are re-sent with the next connection's first packets anyway.
    this.outgoing = this.outgoing.filter((item) => item instanceof Request);
    if (this.closing) return;
    this.queueDeadlineTimer = this.platform.timers.after(this.negotiatedTimeoutMsValue, () => this.queueDeadlinePassed());
    this.safely(() => this.emit('disconnected', reason));
    this.scheduleAttempt();
  }

  /** Queued calls wait at most one session timeout for a new connection; later ones fail at once. */
  private queueDeadlinePassed(): void {
    this.queueDeadlineTimer = null;
    if (this.stateValue === 'connected') return;
    this.failFast = true;
    this.failQueued(Err.ConnectionLoss);
  }

  private failQueued(code: number): void {
    const items = this.outgoing;
    this.outgoing = [];
    for (const item of items) if (item instanceof Request) item.reject(new ZooKeeperError(code, item.path));
    for (const entry of this.auths) {
      entry.waiter?.reject(new ZooKeeperError(code));
      entry.waiter = null;
    }
  }

  private expire(): void {
    const initial = this.initial;
    this.initial = null;
    this.shutDown('expired', Err.SessionExpired, KeeperState.Expired);
    initial?.reject(new ZooKeeperError(Err.SessionExpired));
    this.safely(() => this.emit('expired'));
  }

  /**
   * The end of the session (expired) or of the client (closed): every call still waiting
   * fails with `code`, every watch hears a None event with `keeperState`, timers stop.
   */
  protected shutDown(state: 'expired' | 'closed', code: number, keeperState: number): void {
    this.stateValue = state;
    const link = this.link;
    if (link) {
      link.alive = false;
      link.attemptTimer?.cancel();
      link.socket.destroy();
      this.link = null;
    }
    for (const timer of [this.reconnectTimer, this.queueDeadlineTimer, this.heartbeatTimer]) timer?.cancel();
    this.reconnectTimer = this.queueDeadlineTimer = this.heartbeatTimer = null;
    for (let request = this.pending.shift(); request; request = this.pending.shift()) {
      request.reject(new ZooKeeperError(code, request.path));
    }
    this.failQueued(code);
    for (const [path, callbacks] of this.watchRegistry.takeAll()) {
      const event: WatchedEvent = { type: EventType.None, state: keeperState, path };
      for (const callback of callbacks) this.invokeWatcher(callback, event);
    }
  }

  private makeTestHooks(): ClientTestHooks {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const client = this;
    return {
      destroySocket(): void {
        const link = client.link;
        if (link) client.linkFailed(link, new Error('socket destroyed by a test hook'));
      },
      pauseHeartbeat(paused: boolean): void {
        client.heartbeatPaused = paused;
        client.lastRecvMs = client.now();
      },
      holdReconnects(held: boolean): void {
        client.reconnectsHeld = held;
        if (!held && (client.stateValue === 'disconnected' || client.stateValue === 'connecting')) client.scheduleAttempt();
      },
      injectBytes(bytes: Buffer): void {
        const link = client.link;
        if (link) client.onData(link, bytes);
      },
      get localPort(): number | undefined {
        return client.link?.socket.localPort;
      },
    };
  }
}
