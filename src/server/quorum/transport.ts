/**
 * Quorum TCP between the members of an ensemble: one connection per pair of members, dialled
 * by the member with the higher id (ZooKeeper: the higher id keeps the connection). Frames are
 * a 4-byte big-endian length and a payload; the first frame on a dialled connection is the
 * dialler's id. Messages to a member without a live connection are dropped: the ZAB core
 * tolerates loss (it notices and retries or re-elects).
 *
 * A member runs two of these, as ZooKeeper does: one on the quorum port (everything but
 * election) and one on the election port (FLE votes only). `label` names which in the logs.
 */
import type { Logger } from '../log.js';
import { nodePlatform } from '../../platform/index.js';
import type { Listener, Platform, StreamSocket, TimerHandle } from '../../platform/index.js';

/**
 * A message is bounded by jute.maxbuffer (which a user may raise) and a SNAP travels in pieces
 * of a megabyte; anything near this is a broken or hostile peer.
 */
export const MAX_QUORUM_FRAME_BYTES = 1024 * 1024 * 1024;
const REDIAL_MS = 200;

export interface PeerAddress {
  id: number;
  host: string;
  port: number;
}

export interface PacedSender {
  send(payload: Buffer): Promise<boolean>;
}

export interface TransportHandler {
  onFrame(peer: number, frame: Buffer): void;
  onDisconnected(peer: number): void;
}

class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer, out: (frame: Buffer) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < 4) return;
      if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
      const head = this.chunks[0]!;
      const length = head.readUInt32BE(0);
      if (length > MAX_QUORUM_FRAME_BYTES) throw new Error(`quorum frame of ${length} bytes exceeds the limit`);
      if (this.buffered < 4 + length) return;
      const frame = head.subarray(4, 4 + length);
      const rest = head.subarray(4 + length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      out(frame);
    }
  }
}

function frameOf(payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(payload.length, 0);
  return Buffer.concat([head, payload]);
}

export class QuorumTransport {
  private server: Listener | null = null;
  private readonly sockets = new Map<number, StreamSocket>();
  /** Sockets destroyed, or failed, whose 'close' has not come yet (net.Socket's `destroyed`). */
  private readonly dead = new WeakSet<StreamSocket>();
  private readonly dialTimers = new Map<number, TimerHandle>();
  /** Paced sends waiting for a socket's 'drain' (true) or 'close' (false). */
  private readonly drainWaiters = new WeakMap<StreamSocket, Array<(sent: boolean) => void>>();
  private stopped = false;

  constructor(
    private readonly myId: number,
    private readonly listen: { host: string; port: number },
    private readonly peers: readonly PeerAddress[],
    private readonly handler: TransportHandler,
    private readonly log: Logger,
    private readonly platform: Pick<Platform, 'net' | 'timers'> = nodePlatform,
    private readonly label: 'quorum' | 'election' = 'quorum',
  ) {}

  async start(): Promise<void> {
    this.server = await this.platform.net.listen(this.listen.host, this.listen.port, (socket) => this.accept(socket));
    for (const peer of this.peers) if (peer.id < this.myId) this.dial(peer);
  }

  isConnected(peer: number): boolean {
    return this.sockets.has(peer);
  }

  send(peer: number, payload: Buffer): void {
    const socket = this.sockets.get(peer);
    if (socket === undefined || this.dead.has(socket)) return;
    socket.write(frameOf(payload));
  }

  /**
   * A sender bound to the connection to `peer` as it is now, for a long stream (a SNAP): each
   * send waits until the socket has taken what was written before (backpressure), and says
   * false once that connection is gone, so a stream never continues on a newer connection.
   * Null when there is no connection.
   */
  pacedSender(peer: number): PacedSender | null {
    const socket = this.sockets.get(peer);
    if (socket === undefined || this.dead.has(socket)) return null;
    return { send: (payload) => this.sendPaced(peer, socket, payload) };
  }

  private sendPaced(peer: number, socket: StreamSocket, payload: Buffer): Promise<boolean> {
    if (this.sockets.get(peer) !== socket || this.dead.has(socket)) return Promise.resolve(false);
    if (socket.write(frameOf(payload))) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiters = this.drainWaiters.get(socket);
      if (waiters === undefined || this.dead.has(socket)) return resolve(false);
      waiters.push(resolve);
    });
  }

  private dial(peer: PeerAddress): void {
    if (this.stopped) return;
    this.dialTimers.delete(peer.id);
    const socket = this.platform.net.connect(peer.host, peer.port);
    let opened = false;
    socket.once('connect', () => {
      opened = true;
      const hello = Buffer.alloc(8);
      hello.writeBigInt64BE(BigInt(this.myId), 0);
      socket.write(frameOf(hello));
      this.attach(peer.id, socket);
    });
    socket.on('error', () => this.dead.add(socket));
    socket.once('close', () => {
      if (!opened) this.scheduleDial(peer);
    });
  }

  private scheduleDial(peer: PeerAddress): void {
    if (this.stopped || this.dialTimers.has(peer.id)) return;
    this.dialTimers.set(peer.id, this.platform.timers.after(REDIAL_MS, () => this.dial(peer)));
  }

  private accept(socket: StreamSocket): void {
    socket.setNoDelay(true);
    const reader = new FrameReader();
    let peerId: number | null = null;
    const onData = (chunk: Buffer): void => {
      try {
        reader.push(chunk, (frame) => {
          if (peerId !== null) return this.handler.onFrame(peerId, frame);
          const id = frame.length === 8 ? Number(frame.readBigInt64BE(0)) : -1;
          if (!this.peers.some((p) => p.id === id) || id <= this.myId) throw new Error(`unexpected hello from member ${id}`);
          peerId = id;
          socket.removeAllListeners('data');
          this.attach(id, socket, reader);
        });
      } catch (error) {
        this.log.warn({ err: (error as Error).message }, `bad ${this.label} connection; closing it`);
        this.destroy(socket);
      }
    };
    socket.on('data', onData);
    socket.on('error', () => this.dead.add(socket));
  }

  private destroy(socket: StreamSocket): void {
    this.dead.add(socket);
    socket.destroy();
  }

  private attach(peer: number, socket: StreamSocket, reader = new FrameReader()): void {
    const previous = this.sockets.get(peer);
    this.sockets.set(peer, socket);
    if (previous !== undefined) this.destroy(previous);
    this.log.info({ peer }, `${this.label} connection up`);
    const waiters: Array<(sent: boolean) => void> = [];
    this.drainWaiters.set(socket, waiters);
    socket.on('drain', () => {
      for (const resolve of waiters.splice(0)) resolve(true);
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, (frame) => this.handler.onFrame(peer, frame));
      } catch (error) {
        this.log.warn({ peer, err: (error as Error).message }, `bad ${this.label} frame; closing the connection`);
        this.destroy(socket);
      }
    });
    socket.once('close', () => {
      this.dead.add(socket);
      for (const resolve of waiters.splice(0)) resolve(false);
      if (this.sockets.get(peer) !== socket) return;
      this.sockets.delete(peer);
      this.log.info({ peer }, `${this.label} connection lost`);
      this.handler.onDisconnected(peer);
      const address = this.peers.find((p) => p.id === peer);
      if (address !== undefined && peer < this.myId) this.scheduleDial(address);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.dialTimers.values()) timer.cancel();
    this.dialTimers.clear();
    for (const socket of this.sockets.values()) this.destroy(socket);
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server) await server.close();
  }
}
