/**
 * A bare socket that speaks frames, for protocol tests that must send exactly the bytes
 * they mean (malformed frames, handshakes with and without the readOnly byte, ...).
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import {
  ConnectRequestCodec,
  ConnectResponseCodec,
  JuteReader,
  JuteWriter,
  ReplyHeaderCodec,
  RequestHeaderCodec,
} from '../../src/jute/index.js';
import type { Codec, ConnectResponse, ReplyHeader } from '../../src/jute/index.js';
import { FrameDecoder } from '../../src/proto/index.js';

export class RawSocket {
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);
  private readonly frames: Buffer[] = [];
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) this.frames.push(Buffer.from(frame));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  static open(port: number): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new RawSocket(socket)));
      socket.once('error', reject);
    });
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Writes a record with its 4-byte length prefix. */
  writeFrame(body: Buffer): void {
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(body.length);
    this.socket.write(Buffer.concat([prefix, body]));
  }

  /** Next frame, or null if the server closed the connection first. */
  async nextFrame(timeoutMs = 5000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames.shift()!;
  }

  /** Resolves true once the server has closed the socket, false if it is still open after the wait. */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.closed;
  }

  async handshake(options: { readOnly?: boolean; timeOut?: number; sessionId?: bigint; passwd?: Buffer; lastZxidSeen?: bigint } = {}): Promise<ConnectResponse> {
    const writer = new JuteWriter();
    ConnectRequestCodec.write(writer, {
      protocolVersion: 0,
      lastZxidSeen: options.lastZxidSeen ?? 0n,
      timeOut: options.timeOut ?? 30000,
      sessionId: options.sessionId ?? 0n,
      passwd: options.passwd ?? Buffer.alloc(16),
      readOnly: 'readOnly' in options ? options.readOnly : false,
    });
    this.writeFrame(writer.toBuffer());
    const frame = await this.nextFrame();
    if (!frame) throw new Error('connection closed during handshake');
    return ConnectResponseCodec.read(new JuteReader(frame));
  }

  sendRequest<T>(xid: number, type: number, codec?: Codec<T>, body?: T): void {
    const writer = new JuteWriter();
    RequestHeaderCodec.write(writer, { xid, type });
    if (codec && body !== undefined) codec.write(writer, body);
    this.writeFrame(writer.toBuffer());
  }

  /** Reads one reply: its header and a reader positioned at the body. */
  async reply(timeoutMs = 5000): Promise<{ header: ReplyHeader; body: JuteReader } | null> {
    const frame = await this.nextFrame(timeoutMs);
    if (!frame) return null;
    const body = new JuteReader(frame);
    return { header: ReplyHeaderCodec.read(body), body };
  }

  close(): void {
    this.socket.destroy();
  }
}
