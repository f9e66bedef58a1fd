/**
 * A simulated TCP network behind Platform.net, one `Network` per host, driven by the kernel.
 *
 * A connection is two in-memory SimSockets. Each direction is a FIFO: a chunk written at
 * `now` is delivered at max(last delivery in that direction, now + latency), and every event
 * (connect, data, end, close, error) is emitted from a kernel event, never inside write().
 *
 * What the faults amount to over TCP:
 * - A lost segment is retransmitted; the application never sees a gap. The only loss an
 *   application can see is a connection reset: `drop` resets the connection (both ends get
 *   ECONNRESET, then 'close').
 * - Duplicated and reordered segments are hidden by TCP's sequence numbers: what is left of
 *   them is delay. They are modelled as extra latency and jitter on a direction
 *   (`setExtraLatency`, `spike`), never as duplicated or reordered application bytes.
 * - A partition blocks directed host pairs. Data written across a blocked direction is held
 *   (TCP keeps retransmitting) and delivered, in order, when the direction heals, unless the
 *   connection was reset meanwhile. A connection whose data was held longer than the TCP user
 *   timeout is reset by the sender's kernel: the sender gets ETIMEDOUT; the RST reaches the
 *   peer when (if) the reverse direction is open. A connection attempt across a blocked
 *   direction fails with ETIMEDOUT after the connect timeout.
 * - A crashed host's kernel closes its sockets: peers get 'end' and 'close' (a FIN, subject
 *   to partitions like any segment); its listeners are gone. A segment that reaches a socket
 *   that no longer exists is answered with a RST.
 */
import { EventEmitter } from 'node:events';
import type { Listener, Network, StreamSocket } from '../../src/platform/index.js';
import type { Incarnation, Kernel, Prng } from './kernel.js';

export interface NetworkOptions {
  /** Latency of one segment, uniform in [min, max]. */
  minLatencyMs?: number;
  maxLatencyMs?: number;
  /** A connection attempt across a partition fails after this long. Default 1000. */
  connectTimeoutMs?: number;
  /** Data held (unacknowledged) this long resets the connection. Default: random in [5 s, 15 s]. */
  userTimeoutMs?: number;
  /** Chance that a written chunk resets its connection (a "drop"). Default 0. */
  dropRate?: number;
  /** Records every delivery in `deliveries` (for determinism tests). */
  recordDeliveries?: boolean;
}

type Segment =
  | { kind: 'data'; bytes: Buffer }
  | { kind: 'fin' }
  /** The peer is gone without a FIN (reset). */
  | { kind: 'rst' }
  /** destroy(): the peer sees 'close' only. */
  | { kind: 'close' };

/** One direction of a connection: from `src` to `dst`. */
class Direction {
  lastDeliveryMs = 0;
  held: Segment[] = [];
  heldSinceMs = -1;
  /** Bumped whenever the held queue empties: a user-timeout check for an old episode is stale. */
  episode = 0;
  /**
   * A segment of this direction was dropped and the connection is being reset: TCP delivers
   * nothing past a gap, so nothing written after it arrives (until the reset lands).
   */
  broken = false;
  constructor(
    readonly src: SimSocket,
    readonly dst: SimSocket,
  ) {}
}

/** A socket end. Events are emitted only from kernel events. */
export class SimSocket extends EventEmitter implements StreamSocket {
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  localPort: number | undefined;
  /** The direction this socket writes into (set once the connection exists). */
  out: Direction | null = null;
  connected = false;
  /** No more writes (end() or destroy() or reset). */
  writable = true;
  /** 'close' was emitted or is scheduled: nothing else will be emitted. */
  closed = false;
  /** The host crashed: nothing at all is emitted any more. */
  dead = false;
  private paused = false;
  private inbox: Array<{ kind: 'data'; bytes: Buffer } | { kind: 'end' }> = [];
  readonly id: number;

  constructor(
    readonly net: SimNetwork,
    readonly host: string,
  ) {
    super();
    this.id = ++net.socketIds;
  }

  write(data: Buffer | string): boolean {
    if (!this.writable || this.closed || this.dead) return false;
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    if (bytes.length === 0) return true;
    if (this.out) this.net.send(this.out, { kind: 'data', bytes });
    else this.pendingBeforeConnect.push(bytes);
    return true;
  }

  /** Writes issued before 'connect' (Node buffers them). */
  pendingBeforeConnect: Buffer[] = [];
  /** end() issued before 'connect'. */
  endBeforeConnect = false;

  end(data?: Buffer | string): void {
    if (data !== undefined) this.write(data);
    if (!this.writable || this.closed || this.dead) return;
    this.writable = false;
    if (this.out) this.net.send(this.out, { kind: 'fin' });
    else this.endBeforeConnect = true;
  }

  destroy(): void {
    if (this.closed || this.dead) return;
    this.writable = false;
    if (this.out) this.net.send(this.out, { kind: 'close' }, true);
    this.emitClose(null);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.net.kernel.schedule(0, () => this.flushInbox());
  }

  setNoDelay(): void {
    // Every chunk is its own segment here already.
  }

  /** A segment arrived (from a kernel event). */
  receive(segment: Segment): void {
    if (this.dead || this.closed) {
      // Nothing listens on this end any more: a live peer gets a RST.
      if (segment.kind === 'data' && this.out) this.net.send(this.out, { kind: 'rst' }, true);
      return;
    }
    switch (segment.kind) {
      case 'data':
        this.inbox.push({ kind: 'data', bytes: segment.bytes });
        this.flushInbox();
        return;
      case 'fin':
        this.inbox.push({ kind: 'end' });
        this.flushInbox();
        return;
      case 'rst':
        this.reset('ECONNRESET', 'read');
        return;
      case 'close':
        this.writable = false;
        this.emitClose(null);
    }
  }

  private flushInbox(): void {
    while (!this.paused && !this.closed && !this.dead && this.inbox.length > 0) {
      const item = this.inbox.shift()!;
      if (item.kind === 'data') {
        this.emit('data', item.bytes);
        continue;
      }
      this.emit('end');
      // allowHalfOpen false (Node's default): our side ends too, and the socket closes.
      if (this.writable) {
        this.writable = false;
        if (this.out) this.net.send(this.out, { kind: 'fin' });
      }
      this.emitClose(null);
    }
  }

  /** The connection failed: 'error' with `code`, then 'close'. */
  reset(code: string, syscall: string): void {
    if (this.closed || this.dead) return;
    this.writable = false;
    this.emitClose(errnoError(code, syscall, this.remoteAddress ?? '', this.remotePort ?? 0));
  }

  private emitClose(error: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.net.forget(this);
    this.net.kernel.schedule(0, () => {
      if (this.dead) return;
      if (error) this.emit('error', error);
      this.emit('close');
    });
  }
}

const ERRNO: Record<string, number> = { ECONNRESET: -104, ECONNREFUSED: -111, ETIMEDOUT: -110, EADDRINUSE: -98 };

function errnoError(code: string, syscall: string, address: string, port: number): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${syscall} ${code} ${address}:${port}`);
  error.code = code;
  error.errno = ERRNO[code] ?? -1;
  error.syscall = syscall;
  return error;
}

interface HostState {
  name: string;
  listeners: Map<number, (socket: StreamSocket) => void>;
  sockets: Set<SimSocket>;
  nextPort: number;
}

export interface Delivery {
  ms: number;
  from: string;
  to: string;
  kind: Segment['kind'];
  bytes: number;
}

export class SimNetwork {
  readonly kernel: Kernel;
  private readonly prng: Prng;
  private readonly hosts = new Map<string, HostState>();
  /** Blocked directed pairs "from>to". */
  private readonly blocked = new Set<string>();
  /** Extra latency (upper bound of a uniform addition) per directed pair "from>to" or "*>to" / "from>*". */
  private readonly extraLatency = new Map<string, number>();
  /** Directions holding data (for heal()). */
  private readonly holding = new Set<Direction>();
  readonly minLatencyMs: number;
  readonly maxLatencyMs: number;
  readonly connectTimeoutMs: number;
  readonly userTimeoutMs: number;
  dropRate: number;
  /** Socket ids, per network so that traces replay too. */
  socketIds = 0;
  readonly deliveries: Delivery[] | null;
  stats = { connections: 0, refused: 0, timedOut: 0, resets: 0, segments: 0, bytes: 0 };

  constructor(kernel: Kernel, options: NetworkOptions = {}) {
    this.kernel = kernel;
    this.prng = kernel.prng('network');
    this.minLatencyMs = options.minLatencyMs ?? 0.1;
    this.maxLatencyMs = options.maxLatencyMs ?? 2;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 1000;
    this.userTimeoutMs = options.userTimeoutMs ?? Math.round(this.prng.between(5000, 15000));
    this.dropRate = options.dropRate ?? 0;
    this.deliveries = options.recordDeliveries ? [] : null;
  }

  private state(name: string): HostState {
    let state = this.hosts.get(name);
    if (!state) {
      state = { name, listeners: new Map(), sockets: new Set(), nextPort: 30000 };
      this.hosts.set(name, state);
    }
    return state;
  }

  /**
   * The Network of one host, for its Platform. With `owner`, a dead incarnation's calls do
   * nothing (code of a crashed process still running out its promise jobs): listen never
   * resolves, and connect returns a socket that never emits.
   */
  host(name: string, owner?: Incarnation): Network {
    const state = this.state(name);
    return {
      listen: (_address, port, onConnection) => {
        if (owner && !owner.alive) return new Promise<Listener>(() => undefined);
        return new Promise<Listener>((resolve) => resolve(this.listen(state, port, onConnection)));
      },
      connect: (host, port) => {
        if (owner && !owner.alive) {
          const dead = new SimSocket(this, name);
          dead.dead = dead.closed = true;
          return dead;
        }
        return this.connect(state, host, port);
      },
    };
  }

  private listen(state: HostState, port: number, onConnection: (socket: StreamSocket) => void): Listener {
    let chosen = port;
    if (chosen === 0) while (state.listeners.has((chosen = state.nextPort++)));
    if (state.listeners.has(chosen)) {
      const error = errnoError('EADDRINUSE', 'listen', state.name, chosen);
      error.message = `listen EADDRINUSE: address already in use ${state.name}:${chosen}`;
      throw error;
    }
    state.listeners.set(chosen, onConnection);
    return {
      host: state.name,
      port: chosen,
      close: async () => {
        if (state.listeners.get(chosen) === onConnection) state.listeners.delete(chosen);
      },
    };
  }

  latency(from: string, to: string): number {
    let ms = this.prng.between(this.minLatencyMs, this.maxLatencyMs);
    const extra = Math.max(this.extraLatency.get(`${from}>${to}`) ?? 0, this.extraLatency.get(`*>${to}`) ?? 0, this.extraLatency.get(`${from}>*`) ?? 0);
    if (extra > 0) ms += this.prng.next() * extra;
    return ms;
  }

  isBlocked(from: string, to: string): boolean {
    return this.blocked.size > 0 && this.blocked.has(`${from}>${to}`);
  }

  private connect(state: HostState, host: string, port: number): StreamSocket {
    const client = new SimSocket(this, state.name);
    client.remoteAddress = host;
    client.remotePort = port;
    client.localPort = state.nextPort++;
    state.sockets.add(client);
    const from = state.name;
    if (this.isBlocked(from, host) || this.isBlocked(host, from)) {
      this.stats.timedOut++;
      this.kernel.schedule(this.connectTimeoutMs, () => client.reset('ETIMEDOUT', 'connect'));
      return client;
    }
    const arrival = this.latency(from, host);
    this.kernel.schedule(arrival, () => this.arrive(client, host, port));
    return client;
  }

  /** The SYN reached `host`: accept, or refuse. */
  private arrive(client: SimSocket, host: string, port: number): void {
    if (client.closed || client.dead) return;
    const target = this.hosts.get(host);
    const onConnection = target?.listeners.get(port);
    if (!target || !onConnection) {
      this.stats.refused++;
      this.kernel.schedule(this.latency(host, client.host), () => client.reset('ECONNREFUSED', 'connect'));
      return;
    }
    this.stats.connections++;
    const server = new SimSocket(this, host);
    server.remoteAddress = client.host;
    server.remotePort = client.localPort;
    server.localPort = port;
    server.connected = true;
    target.sockets.add(server);
    const now = this.kernel.now;
    client.out = new Direction(client, server);
    server.out = new Direction(server, client);
    client.out.lastDeliveryMs = now;
    server.out.lastDeliveryMs = now;
    onConnection(server);
    // The SYN-ACK travels back: the client is connected one latency later.
    this.kernel.schedule(this.latency(host, client.host), () => {
      if (client.closed || client.dead) return;
      client.connected = true;
      client.emit('connect');
      for (const bytes of client.pendingBeforeConnect.splice(0)) if (client.out) this.send(client.out, { kind: 'data', bytes });
      if (client.endBeforeConnect && client.out) this.send(client.out, { kind: 'fin' });
    });
  }

  /** Queues a segment on a direction; `urgent` segments (RST, close) skip data not yet delivered. */
  send(direction: Direction, segment: Segment, urgent = false): void {
    const { src, dst } = direction;
    if (direction.broken) return;
    if (segment.kind === 'data' && this.dropRate > 0 && this.prng.chance(this.dropRate)) {
      direction.broken = true;
      this.resetConnection(src, 'drop');
      return;
    }
    if (urgent) direction.held = [];
    if (this.isBlocked(src.host, dst.host) || direction.held.length > 0) {
      this.hold(direction, segment);
      return;
    }
    this.deliver(direction, segment);
  }

  private deliver(direction: Direction, segment: Segment): void {
    const { src, dst } = direction;
    const at = Math.max(direction.lastDeliveryMs, this.kernel.now + this.latency(src.host, dst.host));
    direction.lastDeliveryMs = at;
    this.kernel.scheduleAt(at, () => {
      this.stats.segments++;
      if (segment.kind === 'data') this.stats.bytes += segment.bytes.length;
      this.deliveries?.push({ ms: this.kernel.elapsed, from: src.host, to: dst.host, kind: segment.kind, bytes: segment.kind === 'data' ? segment.bytes.length : 0 });
      dst.receive(segment);
    });
  }

  private hold(direction: Direction, segment: Segment): void {
    if (direction.held.length === 0) {
      direction.heldSinceMs = this.kernel.now;
      const episode = ++direction.episode;
      this.holding.add(direction);
      // Only data needs acknowledging; a FIN/RST lost in a partition just never arrives.
      this.kernel.schedule(this.userTimeoutMs, () => {
        if (direction.episode !== episode || direction.held.length === 0) return;
        if (!direction.held.some((s) => s.kind === 'data')) return;
        direction.held = [];
        direction.episode++;
        this.holding.delete(direction);
        this.stats.resets++;
        this.kernel.trace(`net: user timeout ${direction.src.host}->${direction.dst.host} (conn ${direction.src.id})`);
        const src = direction.src;
        src.reset('ETIMEDOUT', 'write');
        // The sender's kernel sends a RST: it reaches the peer if the way back is open, later otherwise.
        if (!direction.dst.closed && !direction.dst.dead) this.send(direction, { kind: 'rst' }, true);
      });
    }
    direction.held.push(segment);
  }

  /** Delivers what a direction held, in order, if it is open now. */
  private release(direction: Direction): void {
    if (this.isBlocked(direction.src.host, direction.dst.host)) return;
    const held = direction.held;
    direction.held = [];
    direction.episode++;
    this.holding.delete(direction);
    for (const segment of held) this.deliver(direction, segment);
  }

  /** Resets a connection from `socket`'s side: both ends get ECONNRESET and 'close'. */
  resetConnection(socket: SimSocket, why: string): void {
    const peer = socket.out?.dst;
    this.stats.resets++;
    this.kernel.trace(`net: reset (${why}) ${socket.host}<->${peer?.host ?? '?'} conn ${socket.id}`);
    if (socket.out) {
      socket.out.held = [];
      this.holding.delete(socket.out);
    }
    if (peer?.out) {
      peer.out.held = [];
      this.holding.delete(peer.out);
    }
    const lat = this.latency(socket.host, peer?.host ?? socket.host);
    this.kernel.schedule(lat, () => socket.reset('ECONNRESET', 'read'));
    if (peer) this.kernel.schedule(lat, () => peer.reset('ECONNRESET', 'read'));
  }

  /** The socket closed: it is no longer one of its host's. */
  forget(socket: SimSocket): void {
    this.hosts.get(socket.host)?.sockets.delete(socket);
  }

  // ---- faults ----

  block(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  unblock(from: string, to: string): void {
    if (!this.blocked.delete(`${from}>${to}`)) return;
    for (const direction of [...this.holding]) if (direction.src.host === from && direction.dst.host === to) this.release(direction);
  }

  /** No host of `a` reaches any of `b`, and (symmetric) the other way round. */
  partition(a: readonly string[], b: readonly string[], symmetric = true): void {
    for (const x of a)
      for (const y of b) {
        this.block(x, y);
        if (symmetric) this.block(y, x);
      }
    this.kernel.trace(`net: partition ${a.join(',')} ${symmetric ? '<-/->' : '-/->'} ${b.join(',')}`);
  }

  /** Two sides that cannot reach each other, and `bridge` reaching both. */
  bridge(a: readonly string[], b: readonly string[], bridge: string): void {
    const left = a.filter((h) => h !== bridge);
    const right = b.filter((h) => h !== bridge);
    this.partition(left, right);
    this.kernel.trace(`net: bridge ${bridge} between ${left.join(',')} | ${right.join(',')}`);
  }

  /** `host` reaches none of `others`, nor they it. */
  isolate(host: string, others: readonly string[]): void {
    this.partition([host], others.filter((h) => h !== host));
  }

  get partitioned(): boolean {
    return this.blocked.size > 0;
  }

  /** Lifts every partition and latency fault; held data flows again. */
  heal(): void {
    if (this.blocked.size > 0) this.kernel.trace('net: heal');
    this.blocked.clear();
    this.extraLatency.clear();
    for (const direction of [...this.holding]) this.release(direction);
  }

  /** Up to `ms` extra latency on from→to ('*' for any host) until cleared. */
  setExtraLatency(from: string, to: string, ms: number): void {
    if (ms <= 0) this.extraLatency.delete(`${from}>${to}`);
    else this.extraLatency.set(`${from}>${to}`, ms);
  }

  /** A latency spike on every direction into and out of `host` for `durationMs`. */
  spike(host: string, extraMs: number, durationMs: number): void {
    this.setExtraLatency('*', host, extraMs);
    this.setExtraLatency(host, '*', extraMs);
    this.kernel.trace(`net: latency spike ${host} +${extraMs}ms for ${durationMs}ms`);
    this.kernel.schedule(durationMs, () => {
      this.setExtraLatency('*', host, 0);
      this.setExtraLatency(host, '*', 0);
    });
  }

  /** Open connections of `host`, in creation order. */
  socketsOf(host: string): SimSocket[] {
    return [...(this.hosts.get(host)?.sockets ?? [])].filter((s) => s.connected && !s.closed).sort((x, y) => x.id - y.id);
  }

  /** Resets one random open connection of `host` (or of any host). */
  resetRandom(host?: string): boolean {
    const candidates = host ? this.socketsOf(host) : [...this.hosts.keys()].sort().flatMap((h) => this.socketsOf(h));
    if (candidates.length === 0) return false;
    this.resetConnection(this.prng.pick(candidates), 'fault');
    return true;
  }

  /** The host's process died: its sockets close (peers get a FIN), its listeners go. */
  crashHost(name: string): void {
    const state = this.state(name);
    state.listeners.clear();
    const sockets = [...state.sockets].sort((x, y) => x.id - y.id);
    state.sockets.clear();
    for (const socket of sockets) {
      if (socket.out && !socket.closed && socket.writable) {
        // Data the process wrote is in the kernel's buffers: it still goes, then the FIN.
        this.send(socket.out, { kind: 'fin' });
      }
      socket.writable = false;
      socket.dead = true;
      socket.closed = true;
    }
  }
}
