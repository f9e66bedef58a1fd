/**
 * The nemesis: a seeded sequence of faults on a ChaosCluster. Each step draws the same number
 * of values from its Prng whatever happens, so a seed replays the same schedule; what it
 * hits ("the leader") depends on the real system, so a replay is as close as a real run allows.
 *
 * One step: pick a fault and its targets (the leader more often), inject it, hold it for a
 * drawn time, recover everything (heal, SIGCONT, restart), and wait a drawn quiet gap. At most
 * two of five members are down or stopped at once, so a majority can form most of the time;
 * a partition can leave none (a 2+2+1 never happens, a 2+3 split keeps one).
 */
import type { ChildProcess } from 'node:child_process';
import type { ChaosCluster } from './cluster.js';
import { findLeader } from './cluster.js';
import type { Prng } from '../sim/prng.js';

export type FaultKind = 'kill' | 'kill-two' | 'pause' | 'pause-kill' | 'cut-pair' | 'isolate' | 'split' | 'stall-out' | 'stall-pair';

const FAULTS: ReadonlyArray<readonly [number, FaultKind]> = [
  [3, 'kill'],
  [1, 'kill-two'],
  [3, 'pause'],
  [1, 'pause-kill'],
  [2, 'cut-pair'],
  [3, 'isolate'],
  [2, 'split'],
  [1, 'stall-out'],
  [1, 'stall-pair'],
];

/** Bounds of one step. */
export const MIN_HOLD_MS = 300;
export const MAX_HOLD_MS = 5000;
export const MIN_GAP_MS = 300;
export const MAX_GAP_MS = 2500;
const MAX_STEPS = 10_000;

export interface FaultRecord {
  step: number;
  kind: FaultKind;
  /** Members the fault hit; for split, the first group. */
  targets: number[];
  /** Whether the target was chosen as "the leader" (and one was found). */
  leader: boolean;
  startMs: number;
  holdMs: number;
}

export interface Crash {
  member: number;
  code: number | null;
  signal: string | null;
  atMs: number;
  /** The last lines of the member's log. */
  tail: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export class Nemesis {
  readonly faults: FaultRecord[] = [];
  readonly crashes: Crash[] = [];
  private readonly killed = new Set<number>();
  private readonly paused = new Set<number>();
  private readonly expectedExit = new Set<ChildProcess>();
  private readonly startMs = Date.now();
  private watching = true;
  /** Restarts that failed because another socket held the member's port (not crashes). */
  portClashes = 0;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly random: Prng,
    private readonly log: (line: string) => void,
  ) {}

  private get ids(): number[] {
    return this.cluster.ensemble.members.map((m) => m.id);
  }

  /** Starts a member and watches for exits the nemesis did not cause (a Paddock crash). */
  start(id: number): void {
    const { ensemble } = this.cluster;
    ensemble.start(id);
    const child = ensemble.member(id).child!;
    child.once('exit', (code, signal) => {
      if (this.expectedExit.delete(child) || !this.watching) return;
      const tail = ensemble.member(id).stderr.trim().split('\n').slice(-20).join('\n');
      this.killed.add(id);
      if (/EADDRINUSE/.test(tail)) {
        // A port freed while the member was down was taken by some other socket on this
        // host (an outgoing connection's ephemeral port): the test's doing, not Paddock's.
        this.portClashes++;
        this.log(`member ${id} could not bind its port (EADDRINUSE); restarting it at the next recovery`);
        return;
      }
      this.crashes.push({ member: id, code, signal, atMs: Date.now() - this.startMs, tail });
      this.log(`member ${id} exited on its own (code ${code}, signal ${signal})`);
    });
  }

  /** From here on exits are expected (the run is stopping the members). */
  stopWatching(): void {
    this.watching = false;
  }

  startAll(): void {
    for (const id of this.ids) this.start(id);
  }

  private async kill(id: number): Promise<void> {
    const child = this.cluster.ensemble.member(id).child;
    if (child === null) return;
    this.expectedExit.add(child);
    this.killed.add(id);
    this.paused.delete(id);
    await this.cluster.ensemble.signal(id, 'SIGKILL');
  }

  private async pause(id: number): Promise<void> {
    if (this.killed.has(id)) return;
    this.paused.add(id);
    await this.cluster.ensemble.signal(id, 'SIGSTOP');
  }

  /** Heals every partition, continues every stopped member, restarts every dead one. */
  async recoverAll(): Promise<void> {
    this.cluster.proxies.healAll();
    for (const id of this.paused) await this.cluster.ensemble.signal(id, 'SIGCONT');
    this.paused.clear();
    for (const id of this.killed) if (this.cluster.ensemble.member(id).child === null) this.start(id);
    this.killed.clear();
  }

  /** Runs steps until `deadlineMs`, recovering after each. */
  async run(deadlineMs: number): Promise<void> {
    for (let step = 0; step < MAX_STEPS && Date.now() < deadlineMs; step++) {
      await this.step(step, deadlineMs);
      await this.recoverAll();
    }
  }

  private async step(step: number, deadlineMs: number): Promise<void> {
    const r = this.random;
    const ids = this.ids;
    // Always the same draws, in the same order, so a seed gives the same schedule.
    const kind = r.weighted(FAULTS);
    const wantLeader = r.chance(0.6);
    const first = r.pick(ids);
    const second = r.pick(ids);
    const order = r.shuffle([...ids]);
    const holdMs = MIN_HOLD_MS + r.int(MAX_HOLD_MS - MIN_HOLD_MS + 1);
    const gapMs = MIN_GAP_MS + r.int(MAX_GAP_MS - MIN_GAP_MS + 1);

    const leader = wantLeader ? await findLeader(this.cluster.ensemble) : null;
    const target = leader ?? first;
    const other = second !== target ? second : ids[(ids.indexOf(second) + 1) % ids.length]!;
    const targets = await this.inject(kind, target, other, order);
    const record: FaultRecord = { step, kind, targets, leader: leader !== null, startMs: Date.now() - this.startMs, holdMs };
    this.faults.push(record);
    this.log(`nemesis step ${step}: ${kind} ${targets.join(',')}${leader !== null ? ' (leader)' : ''} for ${holdMs} ms`);
    await sleep(Math.min(holdMs, deadlineMs - Date.now()));
    await this.recoverAll();
    await sleep(Math.min(gapMs, deadlineMs - Date.now()));
  }

  private async inject(kind: FaultKind, target: number, other: number, order: number[]): Promise<number[]> {
    const { proxies } = this.cluster;
    switch (kind) {
      case 'kill':
        await this.kill(target);
        return [target];
      case 'kill-two':
        await this.kill(target);
        await this.kill(other);
        return [target, other];
      case 'pause':
        await this.pause(target);
        return [target];
      case 'pause-kill':
        await this.pause(target);
        await this.kill(other);
        return [target, other];
      case 'cut-pair':
        proxies.cut(target, other);
        return [target, other];
      case 'isolate':
        proxies.partition([[target], this.ids.filter((id) => id !== target)]);
        return [target];
      case 'split': {
        const small = order.slice(0, Math.floor(order.length / 2));
        proxies.partition([small, order.slice(small.length)]);
        return small;
      }
      case 'stall-out':
        for (const id of this.ids) if (id !== target) proxies.stall(target, id);
        return [target];
      case 'stall-pair':
        proxies.stall(target, other);
        return [target, other];
    }
  }

  summary(): Record<FaultKind, number> {
    const counts = Object.fromEntries(FAULTS.map(([, kind]) => [kind, 0])) as Record<FaultKind, number>;
    for (const f of this.faults) counts[f.kind]++;
    return counts;
  }
}
