/** Waiting with deadlines, for the client tests: events, conditions and watch callbacks. */
import { once } from 'node:events';
import type { EventEmitter } from 'node:events';
import assert from 'node:assert/strict';
import { ZooKeeperError } from '../../../src/client/index.js';
import type { WatchCallback, WatchedEvent } from '../../../src/client/index.js';

export const DEADLINE_MS = 5000;

/** Resolves when `emitter` emits `event`; fails after `timeoutMs`. */
export async function nextEvent(emitter: EventEmitter, event: string, timeoutMs = DEADLINE_MS): Promise<unknown[]> {
  try {
    return await once(emitter, event, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    if (error instanceof Error && error.name === 'AbortError') throw new Error(`no '${event}' event within ${timeoutMs} ms`);
    throw error;
  }
}

/** Polls `condition` (every few ms) until it holds; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; round < 100_000; round++) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A watch callback that records its events and lets a test wait for the next one. */
export class Recorder {
  readonly events: WatchedEvent[] = [];
  private waiters: (() => void)[] = [];
  readonly callback: WatchCallback = (event) => {
    this.events.push(event);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  };

  /** Resolves once `count` events were recorded in all. */
  async waitForCount(count: number, timeoutMs = DEADLINE_MS): Promise<WatchedEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`expected ${count} watch events within ${timeoutMs} ms, got ${JSON.stringify(this.events)}`);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        timer = setTimeout(resolve, remaining);
      });
      clearTimeout(timer);
    }
    return this.events;
  }
}

/** Asserts that `promise` rejects with a ZooKeeperError of `codeName`. */
export async function rejectsWith(promise: Promise<unknown>, codeName: string): Promise<ZooKeeperError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ZooKeeperError, `expected ZooKeeperError ${codeName}, got ${String(caught)}`);
  assert.equal(caught.codeName, codeName);
  return caught;
}

/** A unique path prefix per test, so tests sharing a server do not collide. */
let counter = 0;
export function uniquePath(name: string): string {
  counter++;
  return `/${name}-${process.pid}-${counter}`;
}
