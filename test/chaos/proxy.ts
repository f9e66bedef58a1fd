/**
 * Partitions without root: one TCP proxy on 127.0.0.1 for every ordered pair of members and
 * each of their two peer ports. Member `from`'s zoo.cfg names the proxy of (from → to) as
 * server.<to>'s address, so every byte between two members passes through this process.
 *
 * Paddock keeps one connection per pair and port (quorum; election, once votes travel on it),
 * dialled by the higher id. A cut or stall applies to both ports alike. A connection through
 * proxy (from → to) carries both directions of the pair: bytes from `from` to `to`
 * ("forward") and those from `to` to `from` ("back").
 *
 * - cut(a, b): symmetric. Live connections between a and b are closed and new ones are
 *   accepted and closed at once (the dialler sees its connection drop, and redials).
 * - stall(from, to): asymmetric. Bytes from `from` to `to` are held in this process, in
 *   order, on every connection between them; the other direction flows. heal releases them
 *   in order (a very slow link, which TCP allows; dropping bytes inside a stream would not be).
 *   A held queue over MAX_HELD_BYTES closes the connection, as a real stalled TCP would time out.
 */
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

/** Bytes held for one stalled direction of one connection before the connection is closed. */
export const MAX_HELD_BYTES = 64 * 1024 * 1024;
/** Connections one proxy keeps open at once; more are refused (a sign of a redial storm). */
export const MAX_CONNECTIONS_PER_PROXY = 64;

export interface PeerPorts {
  id: number;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
}

/** One direction of a connection: bytes go out at once, or are held in order while stalled. */
class Flow {
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(
    private readonly out: Socket,
    private readonly isStalled: () => boolean,
    private readonly overflow: () => void,
  ) {}

  push(chunk: Buffer): void {
    if (!this.isStalled() && this.held.length === 0) {
      this.out.write(chunk);
      return;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes > MAX_HELD_BYTES) this.overflow();
  }

  release(): void {
    if (this.isStalled() || this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const chunk of held) this.out.write(chunk);
  }
}

/** One live connection through a proxy: `down` came from member `from`, `up` goes to `to`. */
class Pipe {
  private readonly forward: Flow;
  private readonly back: Flow;

  constructor(
    readonly from: number,
    readonly to: number,
    private readonly down: Socket,
    private readonly up: Socket,
    stalled: (from: number, to: number) => boolean,
    onClose: () => void,
  ) {
    this.forward = new Flow(up, () => stalled(from, to), () => this.destroy());
    this.back = new Flow(down, () => stalled(to, from), () => this.destroy());
    down.on('data', (chunk: Buffer) => this.forward.push(chunk));
    up.on('data', (chunk: Buffer) => this.back.push(chunk));
    for (const socket of [down, up]) {
      socket.on('error', () => undefined);
      socket.once('close', () => {
        this.destroy();
        onClose();
      });
    }
  }

  /** Sends what was held in each direction that is no longer stalled, in order. */
  release(): void {
    this.forward.release();
    this.back.release();
  }

  destroy(): void {
    this.down.destroy();
    this.up.destroy();
  }
}

interface Proxy {
  from: number;
  to: number;
  server: Server;
  port: number;
  pipes: Set<Pipe>;
}

const MAX_LISTEN_ATTEMPTS = 20;

async function listenOnFreePort(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => undefined);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`proxy: no address (${String(address)})`);
  return address.port;
}

const pairKey = (a: number, b: number): string => (a < b ? `${a}-${b}` : `${b}-${a}`);
const dirKey = (from: number, to: number): string => `${from}>${to}`;

export class PeerProxies {
  private readonly cuts = new Set<string>();
  private readonly stalls = new Set<string>();

  private constructor(
    private readonly quorum: Map<string, Proxy>,
    private readonly election: Map<string, Proxy>,
  ) {}

  /** Listens on a fresh port (port 0) for every ordered pair of `members` and both peer ports. */
  static async create(members: readonly PeerPorts[]): Promise<PeerProxies> {
    const quorum = new Map<string, Proxy>();
    const election = new Map<string, Proxy>();
    const proxies = new PeerProxies(quorum, election);
    const reserved = new Set(members.flatMap((m) => [m.clientPort, m.quorumPort, m.electionPort]));
    for (const from of members) {
      for (const to of members) {
        if (from.id === to.id) continue;
        quorum.set(dirKey(from.id, to.id), await proxies.listen(from.id, to.id, to.quorumPort, reserved));
        election.set(dirKey(from.id, to.id), await proxies.listen(from.id, to.id, to.electionPort, reserved));
      }
    }
    return proxies;
  }

  /** The ports member `from` must use to reach member `to`. */
  address(from: number, to: number): { quorumPort: number; electionPort: number } {
    const q = this.quorum.get(dirKey(from, to));
    const e = this.election.get(dirKey(from, to));
    if (!q || !e) throw new Error(`no proxy for member ${from} → member ${to}`);
    return { quorumPort: q.port, electionPort: e.port };
  }

  /**
   * A proxy on a fresh port that is none of `reserved` (the members' own ports: freePort gave
   * them out and closed them, so the kernel may hand them out again before the members bind).
   */
  private async listen(from: number, to: number, targetPort: number, reserved: ReadonlySet<number>): Promise<Proxy> {
    const pipes = new Set<Pipe>();
    const rejected: Server[] = [];
    try {
      for (let attempt = 0; attempt < MAX_LISTEN_ATTEMPTS; attempt++) {
        const server = createServer({ noDelay: true, pauseOnConnect: true }, (down) => this.accept(proxy, down, targetPort));
        const proxy: Proxy = { from, to, server, port: await listenOnFreePort(server), pipes };
        // Kept open until a good port is found, so that the kernel does not offer it again.
        if (reserved.has(proxy.port)) rejected.push(server);
        else return proxy;
      }
    } finally {
      for (const server of rejected) server.close();
    }
    throw new Error(`proxy ${from} → ${to}: no port outside the members' in ${MAX_LISTEN_ATTEMPTS} attempts`);
  }

  private accept(proxy: Proxy, down: Socket, targetPort: number): void {
    down.on('error', () => undefined);
    if (this.cuts.has(pairKey(proxy.from, proxy.to)) || proxy.pipes.size >= MAX_CONNECTIONS_PER_PROXY) {
      down.destroy();
      return;
    }
    const up = connect({ host: '127.0.0.1', port: targetPort, noDelay: true });
    const pipe = new Pipe(proxy.from, proxy.to, down, up, (f, t) => this.stalls.has(dirKey(f, t)), () => proxy.pipes.delete(pipe));
    proxy.pipes.add(pipe);
    up.once('connect', () => down.resume());
  }

  private everyProxy(): Proxy[] {
    return [...this.quorum.values(), ...this.election.values()];
  }

  /** Symmetric partition of a and b: closes what is open between them, refuses new connections. */
  cut(a: number, b: number): void {
    this.cuts.add(pairKey(a, b));
    for (const proxy of this.everyProxy()) {
      if (pairKey(proxy.from, proxy.to) !== pairKey(a, b)) continue;
      for (const pipe of proxy.pipes) pipe.destroy();
    }
  }

  /** Asymmetric: bytes from `from` to `to` stop (are held); the other direction flows. */
  stall(from: number, to: number): void {
    this.stalls.add(dirKey(from, to));
  }

  /** Cuts every pair across the groups (members in no group are left connected to all). */
  partition(groups: readonly (readonly number[])[]): void {
    for (let g = 0; g < groups.length; g++) {
      for (let h = g + 1; h < groups.length; h++) {
        for (const a of groups[g]!) for (const b of groups[h]!) this.cut(a, b);
      }
    }
  }

  /** Removes every cut and stall; held bytes go out in order. */
  healAll(): void {
    this.cuts.clear();
    this.stalls.clear();
    for (const proxy of this.everyProxy()) for (const pipe of proxy.pipes) pipe.release();
  }

  get faulty(): boolean {
    return this.cuts.size > 0 || this.stalls.size > 0;
  }

  async close(): Promise<void> {
    for (const proxy of this.everyProxy()) {
      for (const pipe of proxy.pipes) pipe.destroy();
      await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
    }
  }
}
