/**
 * Everything the bench must undo, whatever happens: the server processes it started and the
 * temporary directories it made. On the first SIGINT/SIGTERM the run is aborted (load stops,
 * the normal `finally` blocks stop the servers and remove the directories); if that has not
 * finished within GRACE_MS, or on a second signal, the remaining processes are SIGKILLed by
 * their PIDs, the directories removed synchronously, and the bench exits.
 */
import { rmSync } from 'node:fs';

const GRACE_MS = 20_000;

const ownPids = new Set<number>();
const ownDirs = new Set<string>();
let abortReason: string | null = null;
const abortListeners = new Set<() => void>();

/** Thrown (or checked) where a loop notices the run was aborted. */
export class AbortedError extends Error {
  constructor(reason: string) {
    super(`aborted: ${reason}`);
    this.name = 'AbortedError';
  }
}

export function aborted(): boolean {
  return abortReason !== null;
}

export function throwIfAborted(): void {
  if (abortReason !== null) throw new AbortedError(abortReason);
}

/** Called once when the run is aborted; returns a function that unregisters it. */
export function onAbort(listener: () => void): () => void {
  abortListeners.add(listener);
  return () => abortListeners.delete(listener);
}

export function trackPid(pid: number): () => void {
  ownPids.add(pid);
  return () => ownPids.delete(pid);
}

export function trackDir(dir: string): () => void {
  ownDirs.add(dir);
  return () => ownDirs.delete(dir);
}

function hardCleanup(): void {
  for (const pid of ownPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  ownPids.clear();
  for (const dir of ownDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    } catch {
      // best effort
    }
  }
  ownDirs.clear();
}

export function abortRun(reason: string): void {
  if (abortReason !== null) return;
  abortReason = reason;
  for (const listener of [...abortListeners]) listener();
}

/** Installs the signal and exit handlers; call once, before any server starts. */
export function installLifecycle(): void {
  process.on('exit', hardCleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (abortReason !== null) {
        process.stderr.write(`\nbench: ${signal} again: killing servers now\n`);
        hardCleanup();
        process.exit(130);
      }
      process.stderr.write(`\nbench: ${signal}: stopping the servers (again to force)\n`);
      abortRun(signal);
      setTimeout(() => {
        process.stderr.write('bench: servers did not stop in time: killing them\n');
        hardCleanup();
        process.exit(130);
      }, GRACE_MS).unref();
    });
  }
}
