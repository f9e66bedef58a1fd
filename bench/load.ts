/**
 * The closed-loop load generator: `sessions` client sessions, each keeping `depth` requests
 * in flight on its one pipelined connection. Every completed request immediately issues the
 * next. After a warm-up the generator measures for a fixed time: completed requests and the
 * latency of each (issue to reply, process.hrtime.bigint()) into a Histogram.
 *
 * Bounds: every slot stops at the end of the measured window, after `maxOpsPerSlot`
 * requests, after `maxErrors` failed requests in all, or when the run is aborted; waiting for
 * the last replies is bounded by DRAIN_TIMEOUT_MS.
 */
import { ZooKeeperClient } from '../src/client/index.js';
import { Histogram } from './histogram.js';
import type { LatencySummary } from './histogram.js';
import { onAbort } from './lifecycle.js';

const DRAIN_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;
const SESSION_TIMEOUT_MS = 30_000;

/** One request: `seq` is unique within the session (slot k issues k, k + depth, k + 2 depth, ...). */
export type Operation = (client: ZooKeeperClient, session: number, seq: number) => Promise<unknown>;

export interface LoadShape {
  sessions: number;
  depth: number;
}

export interface LoadOptions extends LoadShape {
  warmupMs: number;
  measureMs: number;
  op: Operation;
  maxOpsPerSlot?: number;
  maxErrors?: number;
}

export interface LoadResult {
  ops: number;
  errors: number;
  firstError: string | null;
  measuredSeconds: number;
  opsPerSecond: number;
  latency: LatencySummary;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function connectClients(connectString: string, count: number): Promise<ZooKeeperClient[]> {
  const clients: ZooKeeperClient[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const client = await withTimeout(
        ZooKeeperClient.connect({ connectString, sessionTimeoutMs: SESSION_TIMEOUT_MS, maxQueuedRequests: 100_000 }),
        CONNECT_TIMEOUT_MS,
        'connect',
      );
      client.on('error', (error) => process.stderr.write(`bench: client error: ${error.message}\n`));
      clients.push(client);
    }
  } catch (error) {
    await closeClients(clients);
    throw error;
  }
  return clients;
}

/** Closes every client; a close that hangs (the server is gone) is given up after a bound. */
export async function closeClients(clients: readonly ZooKeeperClient[]): Promise<void> {
  await Promise.all(clients.map((client) => withTimeout(client.close(), CLOSE_TIMEOUT_MS, 'close').catch(() => undefined)));
}

const WARMUP = 0;
const MEASURE = 1;
const DONE = 2;

export async function runLoad(clients: readonly ZooKeeperClient[], options: LoadOptions): Promise<LoadResult> {
  if (clients.length < options.sessions) throw new Error(`need ${options.sessions} clients, have ${clients.length}`);
  const { depth, op } = options;
  const maxOpsPerSlot = options.maxOpsPerSlot ?? 50_000_000;
  const maxErrors = options.maxErrors ?? 100;
  const histogram = new Histogram();
  let phase = WARMUP;
  let ops = 0;
  let errors = 0;
  let firstError: string | null = null;
  let measureStartNs = 0n;
  let measureEndNs = 0n;

  const finish = (): void => {
    if (phase === DONE) return;
    if (phase === MEASURE) measureEndNs = process.hrtime.bigint();
    phase = DONE;
  };
  const slot = async (session: number, first: number): Promise<void> => {
    const client = clients[session]!;
    let seq = first;
    for (let i = 0; i < maxOpsPerSlot && phase !== DONE; i++, seq += depth) {
      const started = process.hrtime.bigint();
      try {
        await op(client, session, seq);
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
        if (errors >= maxErrors) finish();
        continue;
      }
      if (phase === MEASURE) {
        histogram.recordNs(process.hrtime.bigint() - started);
        ops++;
      }
    }
  };

  const stopOnAbort = onAbort(finish);
  let measureTimer: NodeJS.Timeout | undefined;
  const warmupTimer = setTimeout(() => {
    if (phase !== WARMUP) return;
    phase = MEASURE;
    measureStartNs = process.hrtime.bigint();
    measureTimer = setTimeout(finish, options.measureMs);
  }, options.warmupMs);
  const slots: Promise<void>[] = [];
  for (let s = 0; s < options.sessions; s++) for (let k = 0; k < depth; k++) slots.push(slot(s, k));
  const all = Promise.all(slots);
  try {
    // The slots end by themselves once the window closes; this bound only catches a hung server.
    await withTimeout(all, options.warmupMs + options.measureMs + DRAIN_TIMEOUT_MS, 'load');
  } catch (error) {
    finish();
    errors++;
    firstError ??= (error as Error).message;
    all.catch(() => undefined); // the slots settle when the clients are closed
  } finally {
    clearTimeout(warmupTimer);
    clearTimeout(measureTimer);
    stopOnAbort();
  }
  const measuredSeconds = measureStartNs === 0n ? 0 : Number((measureEndNs || process.hrtime.bigint()) - measureStartNs) / 1e9;
  return {
    ops,
    errors,
    firstError,
    measuredSeconds,
    opsPerSecond: measuredSeconds > 0 ? ops / measuredSeconds : 0,
    latency: histogram.summary(),
  };
}

/**
 * Runs `count` operations with at most `sessions × depth` in flight (loading a tree), bounded
 * by `timeoutMs`. Resolves with the elapsed seconds; rejects on the first error.
 */
export async function runCount(
  clients: readonly ZooKeeperClient[],
  shape: LoadShape,
  count: number,
  op: (client: ZooKeeperClient, index: number) => Promise<unknown>,
  timeoutMs: number,
): Promise<number> {
  const started = process.hrtime.bigint();
  let next = 0;
  let stop = false;
  const stopOnAbort = onAbort(() => {
    stop = true;
  });
  const slot = async (session: number): Promise<void> => {
    const client = clients[session]!;
    while (!stop && next < count) {
      const index = next++;
      await op(client, index);
    }
  };
  const slots: Promise<void>[] = [];
  for (let s = 0; s < shape.sessions; s++) for (let k = 0; k < shape.depth; k++) slots.push(slot(s));
  const all = Promise.all(slots);
  try {
    await withTimeout(all, timeoutMs, `${count} operations`);
  } catch (error) {
    stop = true;
    all.catch(() => undefined);
    throw error;
  } finally {
    stopOnAbort();
  }
  if (next < count) throw new Error(`aborted after ${next} of ${count} operations`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}
