/**
 * The session across connections against an in-process Paddock server (tickTime 100, so
 * session timeouts are clamped to [200, 2000] ms): reconnects that keep it, with watches
 * re-armed, expiry when the client goes silent, and close.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { EventType, KeeperState, ZooKeeperClient } from '../../../src/client/index.js';
import type { ConnectOptions } from '../../../src/client/index.js';
import { startInProcess } from '../../support/paddock.js';
import type { InProcessPaddock } from '../../support/paddock.js';
import { Recorder, nextEvent, rejectsWith, uniquePath, waitFor } from './helpers.js';

void describe('client sessions (Paddock)', { timeout: 60_000 }, () => {
  let server: InProcessPaddock;
  let observer: ZooKeeperClient;
  const clients: ZooKeeperClient[] = [];

  const connect = async (options: Partial<ConnectOptions> = {}): Promise<ZooKeeperClient> => {
    const client = await ZooKeeperClient.connect({ connectString: server.connectString, sessionTimeoutMs: 2000, ...options });
    clients.push(client);
    return client;
  };

  before(async () => {
    server = await startInProcess();
    observer = await ZooKeeperClient.connect({ connectString: server.connectString, sessionTimeoutMs: 2000 });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
  });
  after(async () => {
    await observer?.close();
    await server?.stop();
  });

  void test('after the socket dies the client reconnects to the same session; ephemerals stay', async () => {
    const zk = await connect();
    const path = uniquePath('eph-reconnect');
    await zk.create(path, '', { mode: 'ephemeral' });
    const sessionId = zk.sessionId;
    const disconnected = nextEvent(zk, 'disconnected');
    const connected = nextEvent(zk, 'connected');
    zk.testHooks.destroySocket();
    assert.equal(zk.state, 'disconnected');
    // Issued while disconnected: queued, sent after the reconnect.
    const queued = zk.getData(path);
    await disconnected;
    const [info] = (await connected) as [{ resumed: boolean; sessionId: bigint }];
    assert.equal(info.resumed, true);
    assert.equal(info.sessionId, sessionId);
    assert.equal(zk.sessionId, sessionId);
    assert.equal((await queued).stat.ephemeralOwner, sessionId);
    assert.equal((await observer.exists(path))?.ephemeralOwner, sessionId);
  });

  void test('watches are re-armed with SetWatches; changes missed while away fire on reconnect', async () => {
    const zk = await connect();
    const root = uniquePath('rearm');
    await zk.create(root);
    await zk.create(`${root}/changed`, 'v0');
    await zk.create(`${root}/deleted`);
    await zk.create(`${root}/quiet`);
    const changed = new Recorder();
    const deleted = new Recorder();
    const created = new Recorder();
    const children = new Recorder();
    const quiet = new Recorder();
    await zk.getData(`${root}/changed`, changed.callback);
    await zk.exists(`${root}/deleted`, deleted.callback);
    await zk.exists(`${root}/created`, created.callback);
    await zk.getChildren(root, children.callback);
    await zk.getData(`${root}/quiet`, quiet.callback);
    assert.equal(zk.watchCount, 5);

    zk.testHooks.holdReconnects(true);
    const disconnected = nextEvent(zk, 'disconnected');
    zk.testHooks.destroySocket();
    await disconnected;
    await observer.setData(`${root}/changed`, 'v1');
    await observer.delete(`${root}/deleted`);
    await observer.create(`${root}/created`);
    await observer.sync('/');
    assert.equal(changed.events.length + deleted.events.length + created.events.length + children.events.length, 0);

    const connected = nextEvent(zk, 'connected');
    zk.testHooks.holdReconnects(false);
    await connected;
    assert.deepEqual(await changed.waitForCount(1), [{ type: EventType.NodeDataChanged, state: KeeperState.SyncConnected, path: `${root}/changed` }]);
    assert.deepEqual(await deleted.waitForCount(1), [{ type: EventType.NodeDeleted, state: KeeperState.SyncConnected, path: `${root}/deleted` }]);
    assert.deepEqual(await created.waitForCount(1), [{ type: EventType.NodeCreated, state: KeeperState.SyncConnected, path: `${root}/created` }]);
    assert.deepEqual(await children.waitForCount(1), [{ type: EventType.NodeChildrenChanged, state: KeeperState.SyncConnected, path: root }]);
    assert.deepEqual(quiet.events, []);
    assert.equal(zk.watchCount, 1);

    // The quiet watch was armed again on the server: a change now still reaches it, once.
    await zk.sync('/');
    await observer.setData(`${root}/quiet`, 'now');
    assert.deepEqual(await quiet.waitForCount(1), [{ type: EventType.NodeDataChanged, state: KeeperState.SyncConnected, path: `${root}/quiet` }]);
    await observer.setData(`${root}/quiet`, 'again');
    await zk.sync('/');
    assert.equal(quiet.events.length, 1);
    assert.equal(zk.watchCount, 0);
  });

  void test('a session whose client goes silent expires: ephemerals go, calls fail, state expired', async () => {
    const zk = await connect({ sessionTimeoutMs: 200 });
    assert.equal(zk.negotiatedTimeoutMs, 200);
    const path = uniquePath('eph-expire');
    await zk.create(path, '', { mode: 'ephemeral' });
    const recorder = new Recorder();
    await zk.getData(path, recorder.callback);
    const expired = nextEvent(zk, 'expired');
    zk.testHooks.pauseHeartbeat(true);
    await expired;
    assert.equal(zk.state, 'expired');
    assert.equal(await observer.exists(path), null);
    const error = await rejectsWith(zk.getData(path), 'SessionExpired');
    assert.equal(error.code, -112);
    await rejectsWith(zk.create(uniquePath('after-expiry')), 'SessionExpired');
    // The watch hears either the NodeDeleted of the expiry (if the server sent it before it
    // closed the connection) or, at the latest, the None/Expired event of the client.
    const [heard] = await recorder.waitForCount(1);
    assert.ok(
      (heard?.type === EventType.NodeDeleted && heard.path === path) || (heard?.type === EventType.None && heard.state === KeeperState.Expired),
      JSON.stringify(heard),
    );
    assert.equal(recorder.events.length, 1);
    await zk.close();
    assert.equal(zk.state, 'closed');
  });

  void test('close() ends the session: ephemerals go at once; later calls fail; idempotent', async () => {
    const zk = await connect();
    const path = uniquePath('eph-close');
    await zk.create(path, '', { mode: 'ephemeral' });
    const before = zk.getData(path);
    const closed = nextEvent(zk, 'closed');
    const closing = zk.close();
    await rejectsWith(zk.getData(path), 'ConnectionLoss');
    await closing;
    await closed;
    assert.equal((await before).data.length, 0);
    assert.equal(zk.state, 'closed');
    assert.equal(await observer.exists(path), null);
    await zk.close();
    await rejectsWith(zk.exists(path), 'ConnectionLoss');
  });

  void test('a session can be resumed by another client object with its id and password', async () => {
    const first = await connect();
    const path = uniquePath('eph-resume');
    await first.create(path, '', { mode: 'ephemeral' });
    // Keep the first client from taking the session back when the server drops its connection.
    first.testHooks.holdReconnects(true);
    const firstDropped = nextEvent(first, 'disconnected');
    const second = await connect({ sessionId: first.sessionId, sessionPassword: first.sessionPassword });
    await firstDropped;
    assert.equal(second.sessionId, first.sessionId);
    assert.deepEqual(await second.getEphemerals(path), [path]);
    await second.close();
    assert.equal(await observer.exists(path), null);
    const expired = nextEvent(first, 'expired');
    first.testHooks.holdReconnects(false);
    await expired;
  });

  void test('resuming with a wrong password or an unknown session: connect() rejects with SessionExpired', async () => {
    const zk = await connect();
    await rejectsWith(ZooKeeperClient.connect({ connectString: server.connectString, sessionId: zk.sessionId, sessionPassword: Buffer.alloc(16, 9) }), 'SessionExpired');
    await rejectsWith(ZooKeeperClient.connect({ connectString: server.connectString, sessionId: 12345n, sessionPassword: Buffer.alloc(16) }), 'SessionExpired');
    assert.equal(zk.state, 'connected');
  });

  void test('a dead first host: connect() goes on to the next one', async () => {
    const { freePort } = await import('../../support/free-port.js');
    const deadPort = await freePort();
    const zk = await connect({ connectString: `127.0.0.1:${deadPort},${server.connectString}` });
    assert.equal(zk.state, 'connected');
    await waitFor(async () => (await zk.exists('/')) !== null, 'a call over the second host');
  });

  void test('credentials added with addAuth are sent again after a reconnect', async () => {
    const zk = await connect();
    await zk.addAuth('digest', 'bob:pw');
    const connected = nextEvent(zk, 'connected');
    zk.testHooks.destroySocket();
    await connected;
    const identities = await zk.whoAmI();
    assert.ok(identities.some((info) => info.authScheme === 'digest'), JSON.stringify(identities));
  });
});
