/**
 * The Platform seam: a real PaddockServer (real TCP, temp dataDir) whose clock and periodic
 * timers are the test's. Session ids come from that clock, and a session expires exactly when
 * the test moves that clock past its timeout and fires the server's tick, never on its own.
 * The client's reply-header hook sees every header before the promise it settles.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PaddockServer, buildConfig, parseProperties, silentLogger } from '../../../src/server/index.js';
import { ZooKeeperClient } from '../../../src/client/index.js';
import { initialSessionId } from '../../../src/session/index.js';
import { nodePlatform } from '../../../src/platform/index.js';
import type { Platform, TimerHandle, Timers } from '../../../src/platform/index.js';

const START_MS = 1_700_000_000_000;
const TICK_MS = 100;

/** Timers the test fires by hand; `soon` stays real (it only orders work within a turn). */
class ManualTimers implements Timers {
  readonly entries: Array<{ ms: number; fn: () => void; repeat: boolean; cancelled: boolean }> = [];

  private add(ms: number, fn: () => void, repeat: boolean): TimerHandle {
    const entry = { ms, fn, repeat, cancelled: false };
    this.entries.push(entry);
    return { cancel: () => void (entry.cancelled = true) };
  }
  after(ms: number, fn: () => void): TimerHandle {
    return this.add(ms, fn, false);
  }
  every(ms: number, fn: () => void): TimerHandle {
    return this.add(ms, fn, true);
  }
  soon(fn: () => void): void {
    nodePlatform.timers.soon(fn);
  }
  /** Runs every live periodic timer of period `ms` once. */
  fire(ms: number): number {
    const due = this.entries.filter((e) => e.repeat && !e.cancelled && e.ms === ms);
    for (const entry of due) entry.fn();
    return due.length;
  }
}

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test('session ids and session expiry follow the platform clock and timers', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'paddock-platform-'));
  dirs.push(dataDir);
  let nowMs = START_MS;
  let randomCalls = 0;
  const timers = new ManualTimers();
  const platform: Platform = {
    clock: { now: () => nowMs },
    timers,
    net: nodePlatform.net,
    random: () => (randomCalls++, 0.5),
  };
  const config = buildConfig(parseProperties(`tickTime=${TICK_MS}\ndataDir=${dataDir}\nclientPort=0\nclientPortAddress=127.0.0.1\n`), { baseDir: dataDir, env: {} });
  const server = new PaddockServer(config, silentLogger(), { platform });
  await server.start();
  const headers: Array<{ xid: number; zxid: bigint; err: number }> = [];
  const client = await ZooKeeperClient.connect({
    connectString: `127.0.0.1:${server.address().port}`,
    sessionTimeoutMs: 2000,
    onReplyHeader: (xid, zxid, err) => headers.push({ xid, zxid, err }),
  });
  try {
    assert.ok(server.address().port > 0, 'the real bound port is reported');
    assert.ok(randomCalls > 0, "storage's snapshot point comes from the platform's random");
    assert.equal(client.sessionId, initialSessionId(0, START_MS), 'the first session id is made from the platform clock');
    assert.equal(server.view().connections[0]?.establishedAtMs, START_MS);

    await client.create('/e', 'x', { mode: 'ephemeral' });
    const createReply = headers.at(-1)!;
    assert.equal(createReply.err, 0);
    assert.equal(createReply.zxid, client.lastZxidSeen, 'the hook saw the create reply before its promise settled');

    // Ticks at the clock the session was created at expire nothing, however often they run.
    assert.equal(timers.fire(TICK_MS), 1, 'the expiry check is one periodic platform timer of tickTime');
    timers.fire(TICK_MS);
    assert.equal(client.state, 'connected');
    assert.ok(server.sessions.get(client.sessionId), 'session still tracked');

    // Past the negotiated timeout on the platform clock, the next tick expires it.
    const expired = new Promise<void>((resolve) => client.once('expired', () => resolve()));
    nowMs += client.negotiatedTimeoutMs + 3 * TICK_MS;
    timers.fire(TICK_MS);
    await expired;
    assert.equal(server.sessions.get(client.sessionId), undefined);
    assert.equal(server.tree.get('/e'), undefined, 'the ephemeral went with the session');
  } finally {
    await client.close();
    await server.stop();
  }
  assert.ok(timers.entries.filter((e) => e.repeat).every((e) => e.cancelled), 'stop() cancels the periodic timers');
});
