/**
 * A scripted ZooKeeper server on 127.0.0.1 for the client's protocol tests: it answers the
 * handshake as told, records every request, and lets the test reply, misbehave or hang up.
 */
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import {
  ConnectRequestCodec,
  ConnectResponseCodec,
  JuteReader,
  JuteWriter,
  KeeperState,
  ReplyHeaderCodec,
  WatcherEventCodec,
  Xid,
} from '../../../src/jute/index.js';
import type { ConnectRequest, ConnectResponse } from '../../../src/jute/index.js';
import { FrameDecoder } from '../../../src/proto/index.js';
import { waitFor } from './helpers.js';

export interface FakeRequest {
  xid: number;
  type: number;
  body: Buffer;
}

export const FAKE_SESSION_ID = 0x1234_5678_9abcn;
export const FAKE_PASSWORD = Buffer.alloc(16, 7);

export class FakeConnection {
  readonly requests: FakeRequest[] = [];
  connectRequest: ConnectRequest | null = null;
  /** The raw ConnectRequest record (without the length prefix). */
  handshakeBytes: Buffer | null = null;
  closed = false;
  private readonly decoder = new FrameDecoder(16 * 1024 * 1024);

  constructor(
    readonly socket: Socket,
    private readonly server: FakeServer,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
    });
  }

  private onData(chunk: Buffer): void {
    for (const frame of this.decoder.push(chunk)) {
      if (!this.connectRequest) {
        this.handshakeBytes = Buffer.from(frame);
        this.connectRequest = ConnectRequestCodec.read(new JuteReader(frame));
        const response = this.server.handshake(this.connectRequest, this);
        if (response) this.sendRecord((w) => ConnectResponseCodec.write(w, response));
        continue;
      }
      const reader = new JuteReader(frame);
      const request: FakeRequest = { xid: reader.readInt(), type: reader.readInt(), body: Buffer.from(frame.subarray(8)) };
      this.requests.push(request);
      if (request.xid === Xid.ping && this.server.answerPings) this.reply(Xid.ping, 0n, 0);
      this.server.onRequest?.(this, request);
    }
  }

  private sendRecord(write: (writer: JuteWriter) => void): void {
    const writer = JuteWriter.frame();
    write(writer);
    this.socket.write(writer.toBuffer());
  }

  /** A reply frame: ReplyHeader, then `body` (an encoded response record) if given. */
  reply(xid: number, zxid: bigint, err: number, body?: Buffer): void {
    this.sendRecord((w) => {
      ReplyHeaderCodec.write(w, { xid, zxid, err });
      if (body) w.writeRaw(body);
    });
  }

  notify(type: number, path: string): void {
    this.sendRecord((w) => {
      ReplyHeaderCodec.write(w, { xid: Xid.notification, zxid: -1n, err: 0 });
      WatcherEventCodec.write(w, { type, state: KeeperState.SyncConnected, path });
    });
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Requests other than pings. */
  calls(): FakeRequest[] {
    return this.requests.filter((request) => request.xid !== Xid.ping);
  }

  async waitForCalls(count: number, what = `${count} requests`): Promise<FakeRequest[]> {
    await waitFor(() => this.calls().length >= count, what);
    return this.calls();
  }
}

export interface FakeServerOptions {
  /** The ConnectResponse for a ConnectRequest, or null to say nothing. Default: a session. */
  handshake?: (request: ConnectRequest, connection: FakeConnection) => ConnectResponse | null;
  onRequest?: (connection: FakeConnection, request: FakeRequest) => void;
  answerPings?: boolean;
}

export function sessionResponse(request: ConnectRequest): ConnectResponse {
  return {
    protocolVersion: 0,
    timeOut: request.timeOut,
    sessionId: request.sessionId === 0n ? FAKE_SESSION_ID : request.sessionId,
    passwd: FAKE_PASSWORD,
    readOnly: request.readOnly === undefined ? undefined : false,
  };
}

export class FakeServer {
  readonly connections: FakeConnection[] = [];
  handshake: (request: ConnectRequest, connection: FakeConnection) => ConnectResponse | null;
  onRequest: ((connection: FakeConnection, request: FakeRequest) => void) | undefined;
  answerPings: boolean;

  private constructor(
    private readonly server: Server,
    options: FakeServerOptions,
  ) {
    this.handshake = options.handshake ?? sessionResponse;
    this.onRequest = options.onRequest;
    this.answerPings = options.answerPings ?? true;
  }

  static async start(options: FakeServerOptions = {}): Promise<FakeServer> {
    const server = createServer({ noDelay: true });
    const fake = new FakeServer(server, options);
    server.on('connection', (socket) => fake.connections.push(new FakeConnection(socket, fake)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
    });
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The n-th connection (0-based) once it has sent its ConnectRequest. */
  async connection(index: number): Promise<FakeConnection> {
    await waitFor(() => this.connections[index]?.connectRequest != null, `connection #${index} to the fake server`);
    return this.connections[index]!;
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
