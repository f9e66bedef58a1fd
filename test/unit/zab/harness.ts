/**
 * A deterministic in-memory ensemble for the ZAB core: N ZabNodes, one message queue the test
 * controls (deliver in order or in a seeded random order that keeps each link FIFO, drop,
 * partition; with `splitChannels` votes and the rest are two independently ordered links, as
 * the election and quorum ports are), fake disks that "fsync" when told (or at once), ticks, crashes that lose what
 * was not fsynced, and restarts from what was. Every message crosses the binary codec.
 *
 * Global checks run on every effect: one established leader per epoch, and every member's
 * committed sequence is a prefix of one global history (same zxids, same bytes).
 */
import { JuteReader, JuteWriter, OpCode } from '../../../src/jute/index.js';
import { encodeTxn, readTxn, writeTxn } from '../../../src/tree/index.js';
import type { Txn } from '../../../src/tree/index.js';
import { ZabNode, decodeMessage, encodeMessage, zxidHex } from '../../../src/zab/index.js';
import type { ProposalInput, Ready, RoleChange, ZabMessage } from '../../../src/zab/index.js';

export interface Disk {
  acceptedEpoch: number;
  currentEpoch: number;
  snapshot: { zxid: bigint; txns: Txn[] };
  durable: Txn[];
  pending: Txn[];
}

export interface SimNode {
  id: number;
  zab: ZabNode;
  disk: Disk;
  /** The committed sequence this member's tree holds, from genesis. */
  applied: Txn[];
  alive: boolean;
  roleChanges: RoleChange[];
}

interface Envelope {
  from: number;
  to: number;
  /** 'election' for votes when channels are split; FIFO holds per (from, to, channel). */
  channel: 'election' | 'quorum';
  bytes: Buffer;
}

export interface ClusterOptions {
  voters: number[];
  observers?: number[];
  initLimit?: number;
  syncLimit?: number;
  commitLogWindow?: number;
  autoFsync?: boolean;
  /** Disks to start from (members not listed start empty). */
  disks?: Map<number, Disk>;
  /** Votes travel on their own link, unordered with the rest (the election port). */
  splitChannels?: boolean;
}

export function emptyDisk(): Disk {
  return { acceptedEpoch: 0, currentEpoch: 0, snapshot: { zxid: 0n, txns: [] }, durable: [], pending: [] };
}

/** A small deterministic PRNG, so a failing seed replays exactly. */
export { prng as rng } from '../../support/random.js';

export function encodeSnapshot(txns: readonly Txn[]): Buffer {
  const w = new JuteWriter();
  w.writeVector(txns, writeTxn);
  return w.toBuffer();
}

export function decodeSnapshot(bytes: Buffer): Txn[] {
  return new JuteReader(bytes).readVector(readTxn);
}

export function setData(i: number): ProposalInput {
  return { sessionId: 0x100n, cxid: i, timeMs: 1000 + i, body: { type: OpCode.setData, path: '/k', data: Buffer.from(`v${i}`), version: i } };
}

const READY_LOOP_LIMIT = 10_000;

export class Cluster {
  readonly nodes = new Map<number, SimNode>();
  queue: Envelope[] = [];
  readonly history: Txn[] = [];
  readonly leadersByEpoch = new Map<number, number>();
  private readonly blocked = new Set<string>();
  autoFsync: boolean;
  delivered = 0;
  /** Every message sent, for tests that look at the protocol's choices. */
  readonly sent: Array<{ from: number; to: number; message: ZabMessage }> = [];

  constructor(readonly options: ClusterOptions) {
    this.autoFsync = options.autoFsync ?? true;
    for (const id of [...options.voters, ...(options.observers ?? [])]) {
      const disk = options.disks?.get(id) ?? emptyDisk();
      this.nodes.set(id, { id, zab: null as unknown as ZabNode, disk, applied: [...disk.snapshot.txns], alive: false, roleChanges: [] });
      this.start(id);
    }
  }

  node(id: number): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no member ${id}`);
    return n;
  }

  private start(id: number): void {
    const n = this.node(id);
    const d = n.disk;
    const lastLogged = d.durable.at(-1)?.zxid ?? d.snapshot.zxid;
    n.applied = [...d.snapshot.txns];
    n.alive = true;
    n.zab = new ZabNode({
      id,
      voters: this.options.voters,
      observers: this.options.observers ?? [],
      tickLimits: { initLimit: this.options.initLimit ?? 10, syncLimit: this.options.syncLimit ?? 5 },
      persisted: { acceptedEpoch: d.acceptedEpoch, currentEpoch: d.currentEpoch, lastLoggedZxid: lastLogged, lastCommittedZxid: d.snapshot.zxid },
      recentLog: d.durable,
      commitLogWindow: this.options.commitLogWindow,
    });
    this.process(id);
  }

  /** Stops a member: what it had not fsynced is lost, messages to and from it vanish. */
  crash(id: number): void {
    const n = this.node(id);
    n.alive = false;
    n.disk.pending = [];
    this.queue = this.queue.filter((e) => e.from !== id && e.to !== id);
  }

  restart(id: number): void {
    if (this.node(id).alive) this.crash(id);
    this.start(id);
  }

  private key(a: number, b: number): string {
    return a < b ? `${a}-${b}` : `${b}-${a}`;
  }

  /** Cuts every link between the two groups (messages on them are dropped at delivery). */
  partition(a: readonly number[], b: readonly number[]): void {
    for (const x of a) for (const y of b) this.blocked.add(this.key(x, y));
  }

  isolate(id: number): void {
    this.partition([id], [...this.nodes.keys()].filter((x) => x !== id));
  }

  heal(): void {
    this.blocked.clear();
  }

  isBlocked(a: number, b: number): boolean {
    return this.blocked.has(this.key(a, b));
  }

  /** Performs one member's Ready effects until it has none (bounded). */
  process(id: number): void {
    const n = this.node(id);
    for (let i = 0; i < READY_LOOP_LIMIT; i++) {
      if (!n.alive) return;
      if (!n.zab.hasReady()) {
        if (this.autoFsync && n.disk.pending.length > 0) {
          this.fsyncOnly(n);
          continue;
        }
        return;
      }
      const r = n.zab.ready();
      const installed = this.apply(n, r);
      n.zab.advance();
      if (installed !== null) n.zab.snapshotInstalled(installed);
    }
    throw new Error(`member ${id}: ready loop did not settle within ${READY_LOOP_LIMIT} rounds`);
  }

  private apply(n: SimNode, r: Ready): bigint | null {
    const d = n.disk;
    if (r.truncateTo !== null) {
      const z = r.truncateTo;
      d.durable = d.durable.filter((t) => t.zxid <= z);
      d.pending = d.pending.filter((t) => t.zxid <= z);
    }
    let installed: bigint | null = null;
    if (r.installSnapshot !== null) {
      const txns = decodeSnapshot(r.installSnapshot.snapshot ?? Buffer.alloc(4));
      d.snapshot = { zxid: r.installSnapshot.zxid, txns };
      d.durable = [];
      d.pending = [];
      n.applied = [...txns];
      installed = r.installSnapshot.zxid;
    }
    if (r.persistEpochs !== null) {
      d.acceptedEpoch = r.persistEpochs.acceptedEpoch ?? d.acceptedEpoch;
      d.currentEpoch = r.persistEpochs.currentEpoch ?? d.currentEpoch;
    }
    d.pending.push(...r.persist);
    for (const txn of r.commit) this.commit(n, txn);
    for (const rc of r.roleChanges) this.role(n, rc);
    for (const out of r.send) this.enqueue(n, out.to, out.message);
    return installed;
  }

  private commit(n: SimNode, txn: Txn): void {
    const last = n.applied.at(-1);
    if (last !== undefined && txn.zxid <= last.zxid) throw new Error(`member ${n.id}: commit ${zxidHex(txn.zxid)} after ${zxidHex(last.zxid)}`);
    const pos = n.applied.length;
    const known = this.history[pos];
    if (known === undefined) {
      if (pos !== this.history.length) throw new Error(`member ${n.id}: commit at ${pos} leaves a hole in history`);
      this.history.push(txn);
    } else if (known.zxid !== txn.zxid || !encodeTxn(known).equals(encodeTxn(txn))) {
      throw new Error(`member ${n.id}: committed ${zxidHex(txn.zxid)} at ${pos}, history has ${zxidHex(known.zxid)}`);
    }
    n.applied.push(txn);
  }

  private role(n: SimNode, rc: RoleChange): void {
    n.roleChanges.push(rc);
    if (rc.state === 'leading' && rc.serving && rc.epoch !== null) {
      const other = this.leadersByEpoch.get(rc.epoch);
      if (other !== undefined && other !== n.id) throw new Error(`two leaders in epoch ${rc.epoch}: ${other} and ${n.id}`);
      this.leadersByEpoch.set(rc.epoch, n.id);
    }
  }

  private enqueue(n: SimNode, to: number, message: ZabMessage): void {
    let m = message;
    if (m.type === 'snap') {
      const tip = n.applied.at(-1)?.zxid ?? 0n;
      if (tip !== m.zxid) throw new Error(`member ${n.id}: SNAP at ${zxidHex(m.zxid)} but the tree is at ${zxidHex(tip)}`);
      m = { ...m, snapshot: encodeSnapshot(n.applied) };
    }
    this.sent.push({ from: n.id, to, message: m });
    const channel = this.options.splitChannels === true && m.type === 'vote' ? 'election' : 'quorum';
    this.queue.push({ from: n.id, to, channel, bytes: encodeMessage(m) });
  }

  private fsyncOnly(n: SimNode): void {
    const d = n.disk;
    d.durable.push(...d.pending);
    d.pending = [];
    n.zab.persisted(d.durable.at(-1)?.zxid ?? d.snapshot.zxid);
  }

  /** Makes one member's pending appends durable and tells it. */
  fsync(id: number): void {
    const n = this.node(id);
    if (!n.alive) return;
    this.fsyncOnly(n);
    this.process(id);
  }

  /** Delivers the envelope at `index` (or the oldest on its link, to keep links FIFO). */
  deliverAt(index: number): void {
    const pick = this.queue[index] as Envelope;
    const first = this.queue.findIndex((e) => e.from === pick.from && e.to === pick.to && e.channel === pick.channel);
    const [e] = this.queue.splice(first, 1) as [Envelope];
    const to = this.nodes.get(e.to);
    if (to === undefined || !to.alive || this.isBlocked(e.from, e.to)) return;
    this.delivered++;
    to.zab.step(e.from, decodeMessage(e.bytes));
    this.process(e.to);
  }

  deliverAll(limit = 100_000, random?: () => number, dropRate = 0): void {
    for (let i = 0; i < limit && this.queue.length > 0; i++) {
      const index = random === undefined ? 0 : Math.floor(random() * this.queue.length);
      if (random !== undefined && dropRate > 0 && random() < dropRate) {
        this.queue.splice(index, 1);
        continue;
      }
      this.deliverAt(index);
    }
    if (this.queue.length > 0 && random === undefined) throw new Error(`messages still queued after ${limit} deliveries`);
  }

  tickAll(): void {
    for (const n of this.nodes.values()) {
      if (!n.alive) continue;
      n.zab.tick();
      this.process(n.id);
    }
  }

  /** Rounds of deliver-everything-then-tick until `done` holds; throws after `maxRounds`. */
  runUntil(done: () => boolean, maxRounds = 200, what = 'condition'): number {
    for (let round = 0; round < maxRounds; round++) {
      this.deliverAll();
      if (done()) return round;
      this.tickAll();
    }
    this.deliverAll();
    if (done()) return maxRounds;
    throw new Error(`${what} not reached within ${maxRounds} rounds: ${this.describe()}`);
  }

  /** The serving leader with the highest epoch among live members, or null. */
  leader(): number | null {
    let best: { id: number; epoch: number } | null = null;
    for (const n of this.nodes.values()) {
      if (!n.alive) continue;
      const s = n.zab.status();
      if (s.state === 'leading' && s.serving && (best === null || (s.epoch ?? 0) > best.epoch)) best = { id: n.id, epoch: s.epoch ?? 0 };
    }
    return best?.id ?? null;
  }

  /** A serving leader and every live member in `members` serving under it. */
  settled(members: readonly number[] = [...this.nodes.keys()]): boolean {
    const leader = this.leader();
    if (leader === null) return false;
    return members.every((id) => {
      const n = this.node(id);
      if (!n.alive) return true;
      const s = n.zab.status();
      return s.serving && s.leader === leader;
    });
  }

  /** Proposes on member `id`; returns the txn (null when it refused). */
  propose(id: number, input: ProposalInput): Txn | null {
    const txn = this.node(id).zab.propose(input);
    this.process(id);
    return txn;
  }

  describe(): string {
    return [...this.nodes.values()]
      .map((n) => {
        if (!n.alive) return `${n.id}:down`;
        const s = n.zab.status();
        return `${n.id}:${s.state}/${s.phase} leader=${s.leader} epoch=${s.epoch} ae=${s.acceptedEpoch} ce=${s.currentEpoch} last=${zxidHex(s.lastLoggedZxid)} commit=${zxidHex(s.committedZxid)}`;
      })
      .join('; ');
  }

  /** The types of the messages `from` sent to `to`, in order. */
  sentTypes(from: number, to: number): string[] {
    return this.sent.filter((s) => s.from === from && s.to === to).map((s) => s.message.type);
  }

  /** The committed zxids of a member. */
  committed(id: number): bigint[] {
    return this.node(id).applied.map((t) => t.zxid);
  }

  /** A disk with the given txns logged, for starting members in a prepared state. */
  static diskWith(txns: readonly Txn[], epochs: { acceptedEpoch: number; currentEpoch: number }): Disk {
    return { ...epochs, snapshot: { zxid: 0n, txns: [] }, durable: [...txns], pending: [] };
  }
}

/** A txn with a given zxid, for prepared logs. */
export function txnAt(zxid: bigint, i = Number(zxid & 0xffffn)): Txn {
  return { ...setData(i), zxid };
}
