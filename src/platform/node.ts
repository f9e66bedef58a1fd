import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { Listener, Platform, StreamSocket, TimerHandle } from './platform.js';

function handle(timer: NodeJS.Timeout, clear: (timer: NodeJS.Timeout) => void, keepAlive = false): TimerHandle {
  if (!keepAlive) timer.unref();
  return { cancel: () => clear(timer) };
}

/** Node's clock, timers, TCP and Math.random. */
export const nodePlatform: Platform = {
  clock: { now: () => Date.now() },
  timers: {
    after: (ms, fn, keepAlive) => handle(setTimeout(fn, ms), clearTimeout, keepAlive),
    every: (ms, fn) => handle(setInterval(fn, ms), clearInterval),
    soon: (fn) => void setImmediate(fn),
  },
  net: {
    async listen(host, port, onConnection): Promise<Listener> {
      const server = createServer({ noDelay: true }, (socket: Socket) => onConnection(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host, backlog: 511 }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      // Errors after listening (EMFILE on accept) must not crash the process.
      server.on('error', () => undefined);
      const address = server.address() as AddressInfo;
      return {
        host: address.address,
        port: address.port,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    },
    connect(host, port): StreamSocket {
      return connect({ host, port, noDelay: true });
    },
  },
  random: () => Math.random(),
};
