/**
 * A session of the differential suite: the project's ZooKeeperClient, plus two things a
 * differential test needs:
 *
 * - every watch event the server sends, in arrival order, whether or not a client callback
 *   is registered for it (persistent watches have no callback; a server that sends an event
 *   nobody asked for must show up too): the client's `onWatchEvent` option.
 * - requests sent exactly as given (`raw`): ops the client has no method for (addWatch,
 *   removeWatches, checkWatches) and bodies it refuses to send (invalid paths, unknown create
 *   flags, read ops in a multi). They go through the client's own queue (`submit`), so they
 *   keep the session's FIFO order with the client's other calls.
 *
 * `raw` reaches into the client's internals (the public API has no way to send a request the
 * client thinks invalid); the constructor checks they are still there and fails loudly if the
 * client was refactored under us.
 */
import { ZooKeeperClient } from '../../src/client/index.js';
import type { WatchedEvent } from '../../src/client/index.js';
import type { JuteReader, JuteWriter } from '../../src/jute/index.js';
import { Request, requestWriter } from '../../src/client/requests.js';
import { WatchKind } from '../../src/client/watches.js';

interface ClientInternals {
  nextXid(): number;
  submit(request: Request): void;
}

export const SESSION_TIMEOUT_MS = 10_000;
/** A reply later than this counts as no reply (Apache ZooKeeper 3.8 never answers a standalone check). */
export const REPLY_TIMEOUT_MS = 5_000;

export class DiffSession {
  private constructor(
    readonly client: ZooKeeperClient,
    /** Watch events as the server sent them, not yet taken by `takeEvents`. */
    private readonly events: WatchedEvent[],
  ) {
    const internals = client as unknown as ClientInternals;
    for (const name of ['nextXid', 'submit'] as const) {
      if (typeof internals[name] !== 'function') {
        throw new Error(`ZooKeeperClient has no internal ${name}() any more: update test/differential/session.ts`);
      }
    }
  }

  static async open(connectString: string): Promise<DiffSession> {
    const events: WatchedEvent[] = [];
    const client = await ZooKeeperClient.connect({
      connectString,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      onWatchEvent: (event) => {
        events.push({ type: event.type, state: event.state, path: event.path });
      },
    });
    client.on('error', () => undefined);
    return new DiffSession(client, events);
  }

  get sessionId(): bigint {
    return this.client.sessionId;
  }

  takeEvents(): WatchedEvent[] {
    return this.events.splice(0);
  }

  /**
   * Sends `opCode` with the body `write` produces; resolves with `decode` of the reply body,
   * rejects with a ZooKeeperError for a non-zero reply code.
   */
  raw<T>(opCode: number, write: (writer: JuteWriter) => void, decode: (reader: JuteReader) => T): Promise<T> {
    const internals = this.client as unknown as ClientInternals;
    const xid = internals.nextXid();
    const writer = requestWriter(xid, opCode, 256);
    write(writer);
    return new Promise<T>((resolve, reject) => {
      internals.submit(
        new Request(xid, opCode, writer.toBuffer(), '', decode, WatchKind.none, undefined, resolve as (value: unknown) => void, reject),
      );
    });
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** `promise`, or a rejection with `NoReply` after `timeoutMs`. */
export async function withReplyTimeout<T>(promise: Promise<T>, timeoutMs = REPLY_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoReplyError(timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class NoReplyError extends Error {
  constructor(timeoutMs: number) {
    super(`no reply within ${timeoutMs} ms`);
    this.name = 'NoReplyError';
  }
}
