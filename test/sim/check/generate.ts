/**
 * Histories that are linearizable by construction, for the checkers' property tests: clients
 * invoke random ops, each op takes effect on a reference store at a random point inside its
 * interval (or, when it ends in doubt, possibly never), and completes later with what the
 * store answered. Sessions may expire (the store drops their ephemerals; the client sees
 * 'expired' and becomes a new client). A final syncRead of every path used closes the run.
 *
 * The reference store is written apart from the checker's model on purpose.
 */
import type { ClientEvent, History, OkValue, Op, Operation, Outcome } from '../history.js';

export interface GenerateOptions {
  seed: number;
  clients: number;
  keys: number;
  ops: number;
  /** false: each op completes before the next is invoked. */
  concurrent: boolean;
  /** Chance that a completion is in doubt (the op may or may not have taken effect). */
  inDoubtRate: number;
  /** Chance per step that a random client's session expires. */
  expiryRate: number;
}

/** mulberry32. */
class Rng {
  constructor(private state: number) {}
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

interface StoredNode {
  data: string;
  version: number;
  owner: string;
  mzxid: number;
}

type Sub = Extract<Op, { type: 'create' | 'setData' | 'delete' | 'check' }>;

class Store {
  nodes = new Map<string, StoredNode>();
  private zxid = 0;
  private readonly counters = new Map<string, number>();

  exec(session: string, op: Op): Outcome {
    switch (op.type) {
      case 'multi': {
        const saved = { nodes: new Map(this.nodes), counters: new Map(this.counters) };
        const results: OkValue[] = [];
        for (const sub of op.ops) {
          const r = this.sub(session, sub);
          if (typeof r === 'number') {
            this.nodes = saved.nodes;
            for (const [k, v] of saved.counters) this.counters.set(k, v);
            return { type: 'fail', code: r };
          }
          results.push(r);
        }
        return { type: 'ok', value: { kind: 'multi', results } };
      }
      case 'getData':
      case 'syncRead': {
        const node = this.nodes.get(op.path);
        if (!node) return { type: 'fail', code: -101 };
        return { type: 'ok', value: { kind: 'data', data: node.data, version: node.version, mzxid: node.mzxid.toString(16) } };
      }
      case 'closeSession':
        for (const [path, node] of [...this.nodes]) if (node.owner === session) this.nodes.delete(path);
        return { type: 'ok', value: { kind: 'none' } };
      case 'create':
      case 'setData':
      case 'delete':
      case 'check': {
        const r = this.sub(session, op);
        return typeof r === 'number' ? { type: 'fail', code: r } : { type: 'ok', value: r };
      }
      default:
        throw new Error(`generator: no such op ${op.type}`);
    }
  }

  private sub(session: string, op: Sub): OkValue | number {
    const node = this.nodes.get(op.path);
    if (op.type === 'create') {
      const sequential = op.mode.endsWith('_sequential');
      const parent = op.path.slice(0, op.path.lastIndexOf('/')) || '/';
      const counter = this.counters.get(parent) ?? 0;
      const path = sequential ? op.path + String(counter).padStart(10, '0') : op.path;
      if (this.nodes.has(path)) return -110;
      this.counters.set(parent, counter + 1);
      this.nodes.set(path, { data: op.data, version: 0, owner: op.mode.startsWith('ephemeral') ? session : '', mzxid: ++this.zxid });
      return { kind: 'created', path };
    }
    if (!node) return -101;
    if (op.version !== -1 && op.version !== node.version) return -103;
    if (op.type === 'check') return { kind: 'none' };
    if (op.type === 'delete') {
      this.nodes.delete(op.path);
      return { kind: 'none' };
    }
    const next = { ...node, data: op.data, version: node.version + 1, mzxid: ++this.zxid };
    this.nodes.set(op.path, next);
    return { kind: 'stat', version: next.version, mzxid: next.mzxid.toString(16) };
  }
}

interface Pending {
  operation: Operation;
  executed: boolean;
  result: Outcome | null;
  /** Lost: it will never take effect. */
  lost: boolean;
}

interface Client {
  client: number;
  session: string;
  pending: Pending | null;
}

class Generator {
  private readonly rng: Rng;
  private readonly store = new Store();
  private readonly operations: Operation[] = [];
  private readonly events: ClientEvent[] = [];
  private readonly clients: Client[] = [];
  private readonly keys: string[];
  private readonly ephemeralKeys = ['/e0', '/e1'];
  private readonly sequentialNames: string[] = [];
  private index = 0;
  private nextClient = 0;
  private dataSerial = 0;

  constructor(private readonly o: GenerateOptions) {
    this.rng = new Rng(o.seed);
    this.keys = Array.from({ length: o.keys }, (_, i) => `/k${i}`);
    for (let i = 0; i < o.clients; i++) this.clients.push(this.newClient());
  }

  private newClient(): Client {
    const client = this.nextClient++;
    return { client, session: `0x${(0x1000 + client).toString(16)}`, pending: null };
  }

  private randomSub(): Sub {
    const r = this.rng.int(10);
    const path = this.rng.pick(this.keys);
    const version = this.rng.next() < 0.5 ? -1 : this.rng.int(4);
    const data = `d${this.dataSerial++}`;
    if (r < 3) return { type: 'create', path, data, mode: 'persistent' };
    if (r < 7) return { type: 'setData', path, data, version };
    if (r < 9) return { type: 'delete', path, version };
    return { type: 'check', path, version };
  }

  private randomOp(): Op {
    const r = this.rng.int(20);
    const data = `d${this.dataSerial++}`;
    if (r < 8) return this.randomSub();
    if (r < 12) return { type: 'syncRead', path: this.rng.pick([...this.keys, ...this.ephemeralKeys, ...this.sequentialNames.slice(-3)]) };
    if (r < 14) return { type: 'multi', ops: [this.randomSub(), this.randomSub()] };
    if (r < 16) return { type: 'create', path: this.rng.pick(this.ephemeralKeys), data, mode: 'ephemeral' };
    if (r < 17) return { type: 'create', path: '/q/n-', data, mode: this.rng.next() < 0.5 ? 'persistent_sequential' : 'ephemeral_sequential' };
    if (r < 18 && this.sequentialNames.length > 0) return { type: 'delete', path: this.rng.pick(this.sequentialNames), version: -1 };
    if (r < 19) return { type: 'closeSession' };
    return { type: 'getData', path: this.rng.pick(this.keys), watch: false };
  }

  private invoke(c: Client, op: Op): void {
    const operation: Operation = { id: this.operations.length, client: c.client, session: c.session, op, invokeIndex: this.index++, invokeMs: 0, completeIndex: null, completeMs: null, outcome: null };
    this.operations.push(operation);
    c.pending = { operation, executed: false, result: null, lost: false };
  }

  private execute(c: Client, p: Pending): void {
    p.executed = true;
    // A plain read may be stale in ZooKeeper; the generator answers it from the store (the checker ignores it).
    p.result = this.store.exec(c.session, p.operation.op);
  }

  /** Completes the client's op; true if the client is done with its session. */
  private complete(c: Client, p: Pending, inDoubt: boolean): boolean {
    const outcome: Outcome = inDoubt || p.result === null ? { type: 'unknown', reason: 'generated' } : p.result;
    p.operation.completeIndex = this.index++;
    p.operation.completeMs = 0;
    p.operation.outcome = outcome;
    c.pending = null;
    // The workload contract: act only on sequential names learnt from an ok result.
    const value = outcome.type === 'ok' ? outcome.value : null;
    if (value?.kind === 'created' && value.path.startsWith('/q/')) this.sequentialNames.push(value.path);
    return p.operation.op.type === 'closeSession';
  }

  private replace(c: Client): void {
    this.clients[this.clients.indexOf(c)] = this.newClient();
  }

  private expire(c: Client): void {
    this.store.exec(c.session, { type: 'closeSession' });
    if (c.pending) this.complete(c, c.pending, true);
    this.events.push({ kind: 'session', client: c.client, session: c.session, index: this.index++, ms: 0, state: 'expired' });
    this.replace(c);
  }

  private step(): void {
    if (this.rng.next() < this.o.expiryRate) return this.expire(this.rng.pick(this.clients));
    const busy = this.clients.find((x) => x.pending !== null);
    const c = this.o.concurrent || !busy ? this.rng.pick(this.clients) : busy;
    const p = c.pending;
    if (p === null) {
      if (this.operations.length < this.o.ops) this.invoke(c, this.randomOp());
      return;
    }
    const inDoubt = this.rng.next() < this.o.inDoubtRate;
    if (!p.executed && !p.lost) {
      if (inDoubt) p.lost = true;
      else this.execute(c, p);
      return;
    }
    if (this.complete(c, p, inDoubt || p.lost)) this.replace(c);
  }

  run(): History {
    const bound = this.o.ops * 20 + 100;
    for (let i = 0; i < bound && (this.operations.length < this.o.ops || this.clients.some((c) => c.pending)); i++) this.step();
    for (const c of this.clients) if (c.pending) this.complete(c, c.pending, true);
    const reader = this.newClient();
    for (const path of [...this.keys, ...this.ephemeralKeys, ...this.sequentialNames]) {
      this.invoke(reader, { type: 'syncRead', path });
      this.execute(reader, reader.pending!);
      this.complete(reader, reader.pending!, false);
    }
    return { operations: this.operations, events: this.events };
  }
}

export function generateHistory(options: GenerateOptions): History {
  return new Generator(options).run();
}
