/**
 * One client socket: frames in, frames out. Outgoing frames are gathered and written once
 * per turn of the event loop (corked), and reading pauses while the peer does not drain
 * its replies or too many of its requests are queued, so one slow client cannot make the
 * server buffer without bound.
 */
import { nodePlatform } from '../platform/index.js';
import type { Platform, StreamSocket } from '../platform/index.js';
import { EventType, KeeperState, Perm, ReplyHeaderCodec, WatcherEventCodec, JuteWriter, Xid } from '../jute/index.js';
import type { ACL } from '../jute/index.js';
import { FrameDecoder, FrameError } from '../proto/index.js';
import type { Watcher } from '../watch/index.js';
import type { DigestMd5Server } from '../acl/index.js';
import { permits } from '../acl/index.js';
import type { ClientSession, ReplySink } from './pipeline.js';

export interface ConnectionHandler {
  /** The handshake frame or a request frame; throwing closes the connection. */
  onFrame(connection: Connection, frame: Buffer): void;
  /** First four bytes of a new connection spelled a four-letter word. */
  onFourLetterWord(connection: Connection, word: string): void;
  onClose(connection: Connection): void;
  isFourLetterWord(word: string): boolean;
  /** Counts a frame sent, for the server-wide figures. */
  packetSent(): void;
}

export interface ConnectionStats {
  packetsReceived: number;
  packetsSent: number;
  connectedAtMs: number;
  lastZxid: bigint;
}

let nextConnectionId = 1;

export class Connection implements Watcher, ReplySink {
  readonly id = nextConnectionId++;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly stats: ConnectionStats;
  session: ClientSession | null = null;
  handshakeDone = false;
  /**
   * Frames that came while the connect request waits (a learner catching up before it judges
   * a session): clients send SetWatches and auth right behind it. Null when not waiting.
   */
  heldFrames: Buffer[] | null = null;
  closed = false;
  /** The connection's SASL exchange, once the client started one. */
  sasl: DigestMd5Server | null = null;
  private readonly decoder: FrameDecoder;
  private outgoing: Buffer[] = [];
  private flushScheduled = false;
  private readingPausedForDrain = false;
  private firstChunk = true;

  constructor(
    readonly socket: StreamSocket,
    private readonly handler: ConnectionHandler,
    maxFrameBytes: number,
    private readonly log: { debug(obj: object, msg: string): void; warn(obj: object, msg: string): void },
    private readonly platform: Pick<Platform, 'clock' | 'timers'> = nodePlatform,
  ) {
    this.stats = { packetsReceived: 0, packetsSent: 0, connectedAtMs: platform.clock.now(), lastZxid: -1n };
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    // The handshake and each request may carry maxbuffer bytes of data plus their headers.
    this.decoder = new FrameDecoder(maxFrameBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', (error) => this.log.debug({ conn: this.id, err: error.message }, 'socket error'));
    socket.on('close', () => this.onSocketClosed());
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    if (this.firstChunk) {
      this.firstChunk = false;
      if (chunk.length >= 4) {
        const word = chunk.toString('latin1', 0, 4);
        if (this.handler.isFourLetterWord(word)) {
          try {
            this.handler.onFourLetterWord(this, word);
          } catch (error) {
            // A status report that cannot be built must not take the member down.
            this.log.warn({ conn: this.id, word, reason: (error as Error).message }, 'four-letter word failed; closing the connection');
            this.close();
          }
          return;
        }
      }
    }
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      if (error instanceof FrameError) {
        this.log.warn({ conn: this.id, remote: this.remoteAddress, reason: error.message }, 'closing connection: bad frame');
        this.close();
        return;
      }
      throw error;
    }
    for (const frame of frames) {
      if (this.closed) return;
      this.stats.packetsReceived++;
      if (!this.handleFrame(frame)) return;
    }
  }

  /** Hands a frame to the server (see guarded); also for frames held while the connect request waited. */
  handleFrame(frame: Buffer): boolean {
    return this.guarded(() => this.handler.onFrame(this, frame));
  }

  /**
   * Runs the server's handling of what this client sent: if it throws, this connection
   * closes, never the server. False once closed.
   */
  guarded(handle: () => void): boolean {
    try {
      handle();
    } catch (error) {
      this.log.warn({ conn: this.id, remote: this.remoteAddress, reason: (error as Error).message }, 'closing connection: bad request');
      this.close();
    }
    return !this.closed;
  }

  /** Queues a whole frame (length prefix included) for the socket. */
  send(frame: Buffer): void {
    if (this.closed) return;
    this.outgoing.push(frame);
    this.stats.packetsSent++;
    this.handler.packetSent();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.outgoing.length === 0) return;
    const frames = this.outgoing;
    this.outgoing = [];
    const ok = this.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
    if (!ok && !this.readingPausedForDrain) {
      this.readingPausedForDrain = true;
      this.socket.pause();
    }
  }

  private onDrain(): void {
    if (this.readingPausedForDrain) {
      this.readingPausedForDrain = false;
      this.socket.resume();
    }
  }

  /** Watcher: events about a node reach only a session that may read it. */
  mayRead(acl: readonly ACL[]): boolean {
    return permits(acl, Perm.READ, this.session?.authIds ?? []);
  }

  /** Watcher: a triggered watch becomes a notification frame (xid -1). */
  deliver(type: EventType, path: string): void {
    const writer = JuteWriter.frame(32 + path.length * 3);
    ReplyHeaderCodec.write(writer, { xid: Xid.notification, zxid: -1n, err: 0 });
    WatcherEventCodec.write(writer, { type, state: KeeperState.SyncConnected, path });
    this.send(writer.toBuffer());
  }

  /** Sends what is queued, then closes: replies that precede a close are not lost. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.socket.end();
    // A peer that never reads would keep the socket half-open; do not wait for it for long.
    this.platform.timers.after(1000, () => this.socket.destroy());
  }

  private onSocketClosed(): void {
    this.closed = true;
    this.handler.onClose(this);
  }

  /** Writes raw text (four-letter words) and closes. */
  sendTextAndClose(text: string): void {
    this.socket.end(text);
    this.closed = true;
  }
}
