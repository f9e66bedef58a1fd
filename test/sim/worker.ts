/**
 * A worker thread that runs seeds for pool.ts, one at a time (the kernel is not re-entrant):
 * it gets SeedOptions, answers with a SeedReport (or the error that escaped the run).
 */
import { parentPort } from 'node:worker_threads';
import { simulateAndCheck } from './seed.js';
import type { SeedOptions } from './seed.js';

const port = parentPort;
if (port === null) throw new Error('test/sim/worker.js runs as a worker thread (see pool.ts)');
port.on('message', (options: SeedOptions) => {
  simulateAndCheck(options).then(
    (report) => port.postMessage({ report }),
    (error: unknown) => port.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error), options }),
  );
});
