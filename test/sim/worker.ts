/**
 * A worker thread that runs seeds for pool.ts, one at a time (the kernel is not re-entrant):
 * it gets SeedOptions, answers with a SeedReport (or the error that escaped the run).
 */
import { parentPort } from 'node:worker_threads';
import { simulateAndCheck } from './seed.js';
import type { SeedOptions } from './seed.js';

// `node --test dist/test/` loads every file, this one too, on the main thread: nothing to do there.
const port = parentPort;
port?.on('message', (options: SeedOptions) => {
  simulateAndCheck(options).then(
    (report) => port.postMessage({ report }),
    (error: unknown) => port.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error), options }),
  );
});
