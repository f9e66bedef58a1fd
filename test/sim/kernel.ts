/**
 * The simulator's kernel: one seeded PRNG, one virtual clock and one event queue for a whole
 * ensemble and its clients inside one Node process.
 *
 * `run()` pops the next event (ordered by virtual time, then by insertion), sets the clock,
 * runs it, and then lets the real event loop drain promise jobs (one setImmediate turn)
 * before the next event. Nothing real may be pending meanwhile: no real I/O, no real timers,
 * no thread-pool work (snapshots are written with compression off; logs are silent). Then the
 * order of everything that happens is a function of the seed alone.
 *
 * Each member (and client host) gets a Platform from `platformFor`: its clock is virtual time
 * plus a skew and a drift, its timers are events on the queue (with jitter), its `random()` is
 * a PRNG derived from the run's seed, and everything it schedules belongs to an Incarnation:
 * a crash kills the incarnation, and every timer and soon-callback of it is dropped at once.
 */
import type { Clock, Network, Platform, TimerHandle, Timers } from '../../src/platform/index.js';

export { Prng, hashString } from './prng.js';
import { Prng } from './prng.js';

// ---- events ----

/** A life of a process (or a disk's I/O queue): killing it drops everything it scheduled. */
export class Incarnation {
  alive = true;
  constructor(
    readonly owner: string,
    readonly generation: number,
  ) {}

  kill(): void {
    this.alive = false;
  }

  toString(): string {
    return `${this.owner}#${this.generation}`;
  }
}

interface SimEvent {
  time: number;
  seq: number;
  fn: () => void;
  owner: Incarnation | null;
  cancelled: boolean;
}

/** A binary min-heap ordered by (time, seq). */
class EventQueue {
  private heap: SimEvent[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): SimEvent | undefined {
    return this.heap[0];
  }

  private less(x: SimEvent, y: SimEvent): boolean {
    return x.time < y.time || (x.time === y.time && x.seq < y.seq);
  }

  push(event: SimEvent): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  pop(): SimEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && this.less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }
}

export class SimulationFailure extends Error {
  constructor(
    message: string,
    readonly trace: string[],
  ) {
    super(`${message}\n--- last trace entries ---\n${trace.slice(-40).join('\n')}`);
    this.name = 'SimulationFailure';
  }
}

export interface KernelOptions {
  seed: number;
  /** Virtual wall-clock time at the start. Default 2024-01-01T00:00:00Z. */
  epochMs?: number;
  /** Entries the trace ring keeps. Default 2000. */
  traceLimit?: number;
  /** Events one run() may execute before it fails (a livelock guard). Default 20 million. */
  maxEvents?: number;
}

export interface PlatformOptions {
  net: Network;
  /** Added to the clock. */
  skewMs?: number;
  /** Clock rate error: +100 runs 100 µs fast per second. */
  driftPpm?: number;
  /** Timers fire up to this much late (uniform). */
  timerJitterMs?: number;
}

export const DEFAULT_EPOCH_MS = Date.UTC(2024, 0, 1);

export class Kernel {
  readonly seed: number;
  readonly epochMs: number;
  /** Draws of the simulator itself (nemesis, workload); members get derived ones. */
  readonly random: Prng;
  private nowMs: number;
  private seq = 0;
  private readonly queue = new EventQueue();
  private readonly traceRing: string[] = [];
  private traceStart = 0;
  private readonly traceLimit: number;
  private readonly maxEvents: number;
  private failure: Error | null = null;
  private generations = new Map<string, number>();
  /** Events executed so far (cancelled ones not counted). */
  eventsRun = 0;
  private running = false;

  constructor(options: KernelOptions) {
    this.seed = options.seed >>> 0;
    this.epochMs = options.epochMs ?? DEFAULT_EPOCH_MS;
    this.nowMs = this.epochMs;
    this.random = Prng.derive(this.seed, 'kernel');
    this.traceLimit = options.traceLimit ?? 2000;
    this.maxEvents = options.maxEvents ?? 20_000_000;
  }

  /** Virtual time (ms since the Unix epoch, as Date.now). */
  get now(): number {
    return this.nowMs;
  }

  /** Virtual ms since the run began. */
  get elapsed(): number {
    return this.nowMs - this.epochMs;
  }

  get pending(): number {
    return this.queue.size;
  }

  /** A PRNG for one part of the run (a member, the network, a disk), from the seed and a label. */
  prng(label: string): Prng {
    return Prng.derive(this.seed, label);
  }

  /** A new life for `owner` (its first, or the one after a crash). */
  incarnation(owner: string): Incarnation {
    const generation = (this.generations.get(owner) ?? 0) + 1;
    this.generations.set(owner, generation);
    return new Incarnation(owner, generation);
  }

  /** Schedules `fn` at now + delay (never in the past); events of a dead incarnation are dropped. */
  schedule(delayMs: number, fn: () => void, owner: Incarnation | null = null): TimerHandle {
    const event: SimEvent = { time: this.nowMs + Math.max(0, delayMs), seq: this.seq++, fn, owner, cancelled: false };
    this.queue.push(event);
    return { cancel: () => void (event.cancelled = true) };
  }

  /** Schedules at an absolute virtual time (clamped to now). */
  scheduleAt(timeMs: number, fn: () => void, owner: Incarnation | null = null): TimerHandle {
    return this.schedule(timeMs - this.nowMs, fn, owner);
  }

  // ---- trace ----

  trace(text: string): void {
    const line = `${(this.elapsed / 1000).toFixed(3)}s ${text}`;
    if (this.traceRing.length < this.traceLimit) this.traceRing.push(line);
    else {
      this.traceRing[this.traceStart] = line;
      this.traceStart = (this.traceStart + 1) % this.traceLimit;
    }
  }

  traceLines(): string[] {
    return [...this.traceRing.slice(this.traceStart), ...this.traceRing.slice(0, this.traceStart)];
  }

  /** Fails the run: the current run()/runUntil() rejects with this message and the trace. */
  fail(message: string): void {
    this.failure ??= new SimulationFailure(`seed ${this.seed} at ${this.elapsed} virtual ms: ${message}`, this.traceLines());
  }

  get failed(): Error | null {
    return this.failure;
  }

  // ---- running ----

  /** Runs events up to and including virtual time `untilMs` (absolute), then sets the clock there. */
  async run(untilMs: number): Promise<void> {
    await this.loop(() => false, untilMs);
    if (this.nowMs < untilMs) this.nowMs = untilMs;
  }

  /** Runs for `ms` more virtual milliseconds. */
  async runFor(ms: number): Promise<void> {
    await this.run(this.nowMs + ms);
  }

  /**
   * Runs events until `predicate()` holds (checked before the first event and after each) or
   * virtual time would pass now + limitMs. Resolves with whether the predicate held.
   */
  async runUntil(predicate: () => boolean, limitMs: number): Promise<boolean> {
    const deadline = this.nowMs + limitMs;
    const held = await this.loop(predicate, deadline);
    if (!held && this.nowMs < deadline) this.nowMs = deadline;
    return held;
  }

  /** Runs events until `promise` settles (or limitMs passes: then it rejects); returns its value. */
  async settle<T>(promise: Promise<T>, limitMs = 60_000, what = 'operation'): Promise<T> {
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | null = null;
    promise.then(
      (value) => void (outcome = { ok: true, value }),
      (error: unknown) => void (outcome = { ok: false, error }),
    );
    await drain();
    const settled = await this.runUntil(() => outcome !== null, limitMs);
    if (!settled || outcome === null) throw new Error(`${what} did not settle within ${limitMs} virtual ms (seed ${this.seed})`);
    const done = outcome as { ok: true; value: T } | { ok: false; error: unknown };
    if (done.ok) return done.value;
    throw done.error;
  }

  private async loop(predicate: () => boolean, deadline: number): Promise<boolean> {
    if (this.running) throw new Error('Kernel.run is not re-entrant');
    this.running = true;
    const onRejection = (reason: unknown) => this.fail(`unhandled rejection: ${describe(reason)}`);
    const onException = (error: Error) => this.fail(`uncaught exception: ${describe(error)}`);
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
    let executed = 0;
    try {
      for (;;) {
        if (this.failure) throw this.failure;
        if (predicate()) return true;
        const next = this.queue.peek();
        if (next === undefined || next.time > deadline) return false;
        this.queue.pop();
        if (next.cancelled || (next.owner !== null && !next.owner.alive)) continue;
        this.nowMs = Math.max(this.nowMs, next.time);
        this.eventsRun++;
        if (++executed > this.maxEvents) this.fail(`more than ${this.maxEvents} events in one run (a livelock?)`);
        try {
          next.fn();
        } catch (error) {
          this.fail(`an event threw: ${describe(error)}`);
        }
        await drain();
      }
    } finally {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
      this.running = false;
    }
  }

  // ---- platforms ----

  /** A Platform for one process on one host; its timers belong to `incarnation`. */
  platformFor(incarnation: Incarnation, options: PlatformOptions): SimPlatform {
    return new SimPlatform(this, incarnation, options);
  }
}

/** Lets every promise job that is ready run: one turn of the real event loop. */
export function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
  return String(value);
}

/** One process's view of the machine: skewed, drifting clock; jittery timers; its own PRNG. */
export class SimPlatform implements Platform {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly net: Network;
  private readonly prng: Prng;
  /** The local clock reads baseLocal + (virtual - baseVirtual) * rate. */
  private baseLocalMs: number;
  private baseVirtualMs: number;
  private rate: number;
  timerJitterMs: number;

  constructor(
    private readonly kernel: Kernel,
    readonly incarnation: Incarnation,
    options: PlatformOptions,
  ) {
    this.net = options.net;
    this.prng = kernel.prng(`platform:${incarnation.toString()}`);
    this.baseVirtualMs = kernel.now;
    this.baseLocalMs = kernel.now + (options.skewMs ?? 0);
    this.rate = 1 + (options.driftPpm ?? 0) / 1e6;
    this.timerJitterMs = options.timerJitterMs ?? 0;
    this.clock = { now: () => Math.floor(this.localNow()) };
    this.timers = {
      after: (ms, fn) => this.kernel.schedule(this.delay(ms), fn, this.incarnation),
      every: (ms, fn) => this.every(ms, fn),
      soon: (fn) => void this.kernel.schedule(0, fn, this.incarnation),
    };
  }

  random(): number {
    return this.prng.next();
  }

  private localNow(): number {
    return this.baseLocalMs + (this.kernel.now - this.baseVirtualMs) * this.rate;
  }

  /** Steps the clock by `deltaMs` (an NTP step; may go backwards). */
  stepClock(deltaMs: number): void {
    this.baseLocalMs = this.localNow() + deltaMs;
    this.baseVirtualMs = this.kernel.now;
  }

  /** Changes the clock's rate from now on. */
  setDrift(driftPpm: number): void {
    this.baseLocalMs = this.localNow();
    this.baseVirtualMs = this.kernel.now;
    this.rate = 1 + driftPpm / 1e6;
  }

  /** Local ms → virtual ms, plus jitter. */
  private delay(ms: number): number {
    const jitter = this.timerJitterMs > 0 ? this.prng.next() * this.timerJitterMs : 0;
    return Math.max(0, ms) / this.rate + jitter;
  }

  private every(ms: number, fn: () => void): TimerHandle {
    let current: TimerHandle | null = null;
    let cancelled = false;
    const arm = () => {
      current = this.kernel.schedule(
        this.delay(Math.max(1, ms)),
        () => {
          if (cancelled) return;
          arm();
          fn();
        },
        this.incarnation,
      );
    };
    arm();
    return {
      cancel: () => {
        cancelled = true;
        current?.cancel();
      },
    };
  }
}
