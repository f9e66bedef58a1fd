/** Interfaces only: see index.ts. */

export interface Clock {
  /** Wall-clock milliseconds (Date.now). */
  now(): number;
}

export interface TimerHandle {
  cancel(): void;
}

export interface Timers {
  /**
   * setTimeout; the timer does not keep the process alive (unref) unless `keepAlive` (the
   * client's reconnect backoff, which may be all a process waits for).
   */
  after(ms: number, fn: () => void, keepAlive?: boolean): TimerHandle;
  /** setInterval; unref'd as `after`. */
  every(ms: number, fn: () => void): TimerHandle;
  /** setImmediate: after the current turn's I/O and promise jobs. */
  soon(fn: () => void): void;
}

/**
 * The part of a TCP socket Paddock uses (net.Socket satisfies it). Events: 'connect',
 * 'data' (Buffer), 'drain', 'error' (Error), 'end', 'close'.
 */
export interface StreamSocket {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localPort?: number | undefined;
  /** false: buffered beyond the high-water mark; 'drain' follows. */
  write(data: Buffer | string): boolean;
  /** Half-close after what was written. */
  end(): void;
  /** Writes `data`, then half-closes. */
  end(data: Buffer | string): void;
  /** Closes at once; unsent data is lost. */
  destroy(): void;
  pause(): void;
  resume(): void;
  setNoDelay(noDelay?: boolean): void;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'connect' | 'drain' | 'end' | 'close', listener: () => void): this;
  once(event: 'connect' | 'close', listener: () => void): this;
  once(event: 'error', listener: (error: Error) => void): this;
  removeAllListeners(event?: string): this;
}

export interface Listener {
  /** The bound address (port 0 was replaced by the chosen port). */
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface Network {
  /** Listens on host:port; rejects as net.Server.listen does (EADDRINUSE...). */
  listen(host: string, port: number, onConnection: (socket: StreamSocket) => void): Promise<Listener>;
  /** Starts a connection: 'connect' when established, 'error' then 'close' when not. */
  connect(host: string, port: number): StreamSocket;
}

export interface Platform {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly net: Network;
  /** Uniform in [0, 1), as Math.random. */
  random(): number;
}
