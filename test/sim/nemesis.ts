/**
 * The nemesis: faults chosen by the run's PRNG from a profile, one every few hundred virtual
 * milliseconds, until `stop()`; `healAll()` then lifts every fault and restarts every member.
 *
 * Two profiles are scripted scenarios rather than random draws, each a loop of steps aimed at
 * one class of protocol bug (the mutants of mutants.test.ts):
 *
 * - 'isolated-leader': the leader (sometimes a follower) is cut off from the other members but
 *   not from the clients, who go on writing and sync-reading through it; then the network
 *   heals, and the member is often power-cut and restarted (its log is read back from disk).
 *   A deposed member must stop answering, and a txn it logged but that never committed must
 *   be truncated for good.
 * - 'power-cut': every disk's fsync gets slow, then a majority (the leader among it) loses
 *   power at once, and comes back. A txn acknowledged to a client must have been durable on
 *   a quorum.
 */
import type { Kernel, Prng } from './kernel.js';
import type { Member, SimCluster } from './cluster.js';

export type FaultProfile = 'none' | 'network' | 'crash' | 'disk' | 'clock' | 'all' | 'isolated-leader' | 'power-cut';

export const PROFILES: readonly FaultProfile[] = ['none', 'network', 'crash', 'disk', 'clock', 'all', 'isolated-leader', 'power-cut'];

export interface NemesisOptions {
  profile: FaultProfile;
  /** Client hosts (partitions that isolate a leader cut it off from them too). */
  clientHosts: () => string[];
  /** Crashes may tear the last unsynced write. Default true. */
  tearWrites?: boolean;
  /** Allow a majority of voters down at once (progress stalls; safety must hold). Default true. */
  allowMajorityCrash?: boolean;
  /** Mean virtual ms between faults. Default 700. */
  meanIntervalMs?: number;
}

type Action = (n: Nemesis) => void;

const NETWORK: Array<readonly [number, Action]> = [
  [3, (n) => n.partitionRandom(true)],
  [1, (n) => n.partitionRandom(false)],
  [1, (n) => n.bridge()],
  [2, (n) => n.isolateLeader()],
  [4, (n) => n.heal()],
  [1, (n) => n.spike()],
  [2, (n) => n.resetConnection()],
  [1, (n) => n.drops()],
];
const CRASH: Array<readonly [number, Action]> = [
  [2, (n) => n.crashOne()],
  [3, (n) => n.restartOne()],
];
const DISK: Array<readonly [number, Action]> = [
  [1, (n) => n.diskFull()],
  [2, (n) => n.slowDisk()],
  [2, (n) => n.restartOne()],
];
const CLOCK: Array<readonly [number, Action]> = [
  [2, (n) => n.skew()],
  [1, (n) => n.drift()],
  [1, (n) => n.jitter()],
];

const TABLES: Record<Exclude<FaultProfile, Scripted>, Array<readonly [number, Action]>> = {
  none: [],
  network: NETWORK,
  crash: CRASH,
  disk: DISK,
  clock: CLOCK,
  all: [...NETWORK, ...CRASH, ...DISK, ...CLOCK],
};

type Scripted = 'isolated-leader' | 'power-cut';

/** One step of a scripted scenario: does something, returns the virtual ms until the next. */
type Step = (n: Nemesis) => number;

const SCRIPTS: Record<Scripted, Step[]> = {
  'isolated-leader': [(n) => n.cutOffLeader(), (n) => n.healAfterCutOff(), (n) => n.powerCycleCutOff()],
  'power-cut': [(n) => n.slowEveryDisk(), (n) => n.cutPowerToMajority(), (n) => n.restoreMajority()],
};

export class Nemesis {
  private readonly prng: Prng;
  private running = false;
  readonly counts = new Map<string, number>();

  constructor(
    private readonly kernel: Kernel,
    private readonly cluster: SimCluster,
    private readonly options: NemesisOptions,
  ) {
    this.prng = kernel.prng('nemesis');
  }

  private count(what: string): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }

  start(): void {
    const profile = this.options.profile;
    if (profile === 'isolated-leader' || profile === 'power-cut') return this.startScript(SCRIPTS[profile]);
    const table = TABLES[profile];
    if (table.length === 0) return;
    this.running = true;
    const mean = this.options.meanIntervalMs ?? 700;
    const step = () => {
      if (!this.running) return;
      this.prng.weighted(table)(this);
      this.kernel.schedule(this.prng.between(mean * 0.3, mean * 1.7), step);
    };
    this.kernel.schedule(this.prng.between(mean * 0.3, mean * 1.7), step);
  }

  stop(): void {
    this.running = false;
  }

  /** Runs the steps in a loop, each after the delay the previous one returned. */
  private startScript(steps: Step[]): void {
    this.running = true;
    let next = 0;
    const run = () => {
      if (!this.running) return;
      const delayMs = steps[next]!(this);
      next = (next + 1) % steps.length;
      this.kernel.schedule(delayMs, run);
    };
    this.kernel.schedule(this.prng.between(300, 800), run);
  }

  // ---- 'isolated-leader' ----

  private cutOff: Member | null = null;

  /** The leader (or, one time in four, another member) loses the other members, not its clients. */
  cutOffLeader(): number {
    const up = this.cluster.members.filter((m) => m.status === 'up');
    const leader = this.cluster.leader;
    const victim = leader && this.prng.chance(0.75) ? leader : up.length > 0 ? this.prng.pick(up) : null;
    if (!victim) return 300;
    this.cutOff = victim;
    this.net.partition([victim.host], this.cluster.hosts.filter((h) => h !== victim.host));
    this.count('cut-off-leader');
    return this.prng.between(800, 2500);
  }

  /** Heals, and leaves the member time to rejoin (and truncate what never committed). */
  healAfterCutOff(): number {
    this.net.heal();
    this.count('heal');
    return this.prng.between(1200, 3000);
  }

  /** Most times the member that was cut off loses power and comes back (its log is reread). */
  powerCycleCutOff(): number {
    const member = this.cutOff;
    this.cutOff = null;
    if (member && member.status === 'up' && this.prng.chance(0.7)) {
      this.cluster.crash(member, (this.options.tearWrites ?? true) && this.prng.chance(0.3));
      this.count('crash');
      this.kernel.schedule(this.prng.between(50, 400), () => {
        if (this.running && member.status === 'crashed') {
          this.cluster.start(member);
          this.count('restart');
        }
      });
    }
    return this.prng.between(600, 1500);
  }

  // ---- 'power-cut' ----

  private powerless: Member[] = [];

  slowEveryDisk(): number {
    for (const m of this.cluster.members) m.disk.slowSyncMs = this.prng.between(100, 400);
    this.kernel.trace('disk *: slow fsync');
    this.count('slow-disk');
    return this.prng.between(150, 700);
  }

  /** The leader and enough followers to make a majority of the voters lose power at once. */
  cutPowerToMajority(): number {
    const voters = this.cluster.members.filter((m) => !m.observer && m.status === 'up');
    const leader = this.cluster.leader;
    const majority = Math.floor(this.cluster.members.filter((m) => !m.observer).length / 2) + 1;
    const others = this.prng.shuffle(voters.filter((m) => m !== leader));
    // Half the time the whole ensemble (a power outage), else a majority with the leader.
    const count = this.prng.chance(0.5) ? voters.length : majority;
    const victims = [...(leader ? [leader] : []), ...others].slice(0, count);
    for (const m of victims) this.cluster.crash(m, (this.options.tearWrites ?? true) && this.prng.chance(0.5));
    this.powerless = victims;
    this.count('power-cut');
    return this.prng.between(100, 600);
  }

  restoreMajority(): number {
    for (const m of this.cluster.members) m.disk.slowSyncMs = 0;
    for (const m of this.powerless) if (m.status === 'crashed') this.cluster.start(m);
    this.powerless = [];
    this.count('restart');
    return this.prng.between(1200, 2500);
  }
  private get net() {
    return this.cluster.network;
  }

  private split(): [string[], string[]] {
    const hosts = this.prng.shuffle([...this.cluster.hosts]);
    const cut = 1 + this.prng.int(hosts.length - 1);
    return [hosts.slice(0, cut), hosts.slice(cut)];
  }

  partitionRandom(symmetric: boolean): void {
    const [a, b] = this.split();
    this.net.partition(a, b, symmetric);
    this.count(symmetric ? 'partition' : 'asymmetric-partition');
  }

  bridge(): void {
    const hosts = this.prng.shuffle([...this.cluster.hosts]);
    if (hosts.length < 3) return;
    const bridge = hosts[0]!;
    const rest = hosts.slice(1);
    const cut = 1 + this.prng.int(rest.length - 1);
    this.net.bridge(rest.slice(0, cut), rest.slice(cut), bridge);
    this.count('bridge');
  }

  isolateLeader(): void {
    const leader = this.cluster.leader;
    if (!leader) return;
    this.net.isolate(leader.host, [...this.cluster.hosts, ...this.options.clientHosts()]);
    this.count('isolate-leader');
  }

  heal(): void {
    this.net.heal();
    this.count('heal');
  }

  spike(): void {
    this.net.spike(this.prng.pick(this.cluster.hosts), this.prng.between(20, 400), this.prng.between(300, 3000));
    this.count('spike');
  }

  resetConnection(): void {
    if (this.net.resetRandom(this.prng.chance(0.5) ? this.prng.pick(this.cluster.hosts) : undefined)) this.count('reset');
  }

  drops(): void {
    this.net.dropRate = this.prng.between(0.0005, 0.01);
    this.kernel.trace(`net: drop rate ${this.net.dropRate.toFixed(4)}`);
    this.kernel.schedule(this.prng.between(500, 3000), () => {
      this.net.dropRate = 0;
    });
    this.count('drops');
  }

  crashOne(): void {
    const up = this.cluster.members.filter((m) => m.status === 'up');
    if (up.length === 0) return;
    const voters = this.cluster.members.filter((m) => !m.observer);
    const votersDown = voters.filter((m) => m.status !== 'up').length;
    const minority = Math.floor((voters.length - 1) / 2);
    const victim = this.prng.pick(up);
    const majorityAllowed = (this.options.allowMajorityCrash ?? true) && this.prng.chance(0.15);
    if (!victim.observer && votersDown + 1 > minority && !majorityAllowed) return;
    this.cluster.crash(victim, (this.options.tearWrites ?? true) && this.prng.chance(0.5));
    this.count('crash');
  }

  restartOne(): void {
    const down = this.cluster.members.filter((m) => m.status !== 'up' && !(m.status === 'stopped' && m.disk.isFull));
    if (down.length === 0) return;
    this.cluster.start(this.prng.pick(down));
    this.count('restart');
  }

  diskFull(): void {
    const up = this.cluster.members.filter((m) => m.status === 'up' && !m.disk.isFull);
    if (up.length === 0) return;
    const member = this.prng.pick(up);
    member.disk.setFull(true);
    this.count('disk-full');
    this.kernel.schedule(this.prng.between(300, 3000), () => this.freeDisk(member));
  }

  private freeDisk(member: Member): void {
    if (!member.disk.isFull) return;
    member.disk.setFull(false);
    // A member that stopped itself is restarted by the operator once space is free.
    if (member.status === 'stopped' && this.running) this.kernel.schedule(this.prng.between(100, 1000), () => this.cluster.start(member));
  }

  slowDisk(): void {
    const member = this.prng.pick(this.cluster.members);
    member.disk.slowSyncMs = this.prng.between(20, 400);
    this.kernel.trace(`disk ${member.host}: slow fsync up to +${member.disk.slowSyncMs.toFixed(0)}ms`);
    this.kernel.schedule(this.prng.between(500, 3000), () => (member.disk.slowSyncMs = 0));
    this.count('slow-disk');
  }

  skew(): void {
    const member = this.prng.pick(this.cluster.members);
    const delta = Math.round(this.prng.between(-2000, 2000));
    member.machine.skewMs += delta;
    member.platform?.stepClock(delta);
    this.kernel.trace(`clock ${member.host}: step ${delta}ms`);
    this.count('clock-step');
  }

  drift(): void {
    const member = this.prng.pick(this.cluster.members);
    member.machine.driftPpm = Math.round(this.prng.between(-500, 500));
    member.platform?.setDrift(member.machine.driftPpm);
    this.kernel.trace(`clock ${member.host}: drift ${member.machine.driftPpm}ppm`);
    this.count('clock-drift');
  }

  jitter(): void {
    const member = this.prng.pick(this.cluster.members);
    member.machine.timerJitterMs = this.prng.chance(0.3) ? 0 : this.prng.between(1, 60);
    if (member.platform) member.platform.timerJitterMs = member.machine.timerJitterMs;
    this.kernel.trace(`timers ${member.host}: jitter up to ${member.machine.timerJitterMs.toFixed(0)}ms`);
    this.count('timer-jitter');
  }

  /** Every fault lifted; every member that is down started again. */
  healAll(): void {
    this.stop();
    this.net.heal();
    this.net.dropRate = 0;
    for (const m of this.cluster.members) {
      if (m.disk.isFull) m.disk.setFull(false);
      m.disk.slowSyncMs = 0;
      m.machine.timerJitterMs = 0;
      if (m.platform) m.platform.timerJitterMs = 0;
      if (m.status !== 'up') this.cluster.start(m);
    }
    this.kernel.trace('nemesis: healed everything');
  }
}
