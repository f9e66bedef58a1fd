/**
 * Persistent and persistent-recursive watches (addWatch), removeWatches and checkWatches:
 * one suite run against an in-process Paddock and, when it is installed, against Apache
 * ZooKeeper (the reference: the client must work with it, and Paddock must answer like it),
 * then the wire details against a scripted server (which op is sent, SetWatches2 batches,
 * local removal).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test as nodeTest } from 'node:test';
import {
  AddWatchRequestCodec,
  ErrorResponseCodec,
  GetDataResponseCodec,
  JuteReader,
  OpCode,
  PathTypeRequestCodec,
  SetWatches2Codec,
  SetWatchesCodec,
  Xid,
  encode,
} from '../../../src/jute/index.js';
import type { Stat } from '../../../src/jute/index.js';
import { Err, EventType, KeeperState, ZooKeeperClient } from '../../../src/client/index.js';
import type { ConnectOptions, WatchedEvent, WatchType } from '../../../src/client/index.js';
import { apacheZooKeeperAvailable, startApacheZooKeeper } from '../../support/apache-zookeeper.js';
import { startInProcess } from '../../support/paddock.js';
import { FakeServer } from './fake-server.js';
import type { FakeConnection, FakeRequest } from './fake-server.js';
import { Recorder, nextEvent, rejectsWith, uniquePath, waitFor } from './helpers.js';
import type { Target } from './ops-suite.js';

const event = (type: number, path: string, state: number = KeeperState.SyncConnected): WatchedEvent => ({ type, state, path });
const byType = (events: readonly WatchedEvent[]): WatchedEvent[] => [...events].sort((a, b) => a.type - b.type);

const APACHE_38_NO_PERSISTENT_TYPES =
  'Apache ZooKeeper 3.8 knows WatcherType 1-3 only (Persistent 4 and PersistentRecursive 5 came with 3.9, ZOOKEEPER-4472): it answers MarshallingError';

function definePersistentWatchSuite(target: Target): void {
  const test = (title: string, run: () => Promise<void>): void => {
    void nodeTest(title, { todo: target.todo?.[title], skip: target.skip?.[title] }, run);
  };

  void describe(`persistent watches against ${target.name}`, { timeout: 60_000 }, () => {
    let server: { connectString: string; stop(): Promise<void> };
    /** The watching client, shared by the tests (each uses its own paths). */
    let zk: ZooKeeperClient;
    /** Another session that makes the changes. */
    let other: ZooKeeperClient;
    const ownClients: ZooKeeperClient[] = [];
    const connect = (options: Partial<ConnectOptions> = {}): Promise<ZooKeeperClient> =>
      ZooKeeperClient.connect({ connectString: server.connectString, sessionTimeoutMs: 4000, ...options });
    /** A client for one test, closed after it. */
    const ownClient = async (options: Partial<ConnectOptions> = {}): Promise<ZooKeeperClient> => {
      const client = await connect(options);
      ownClients.push(client);
      return client;
    };
    /**
     * A round trip of `client` after `other`'s last reply: the server sent every event of
     * those changes before this reply, so whatever was not called by now never will be.
     */
    const settle = (client = zk): Promise<void> => client.sync('/');

    before(async () => {
      server = await target.start();
      zk = await connect();
      other = await connect();
    });
    afterEach(async () => {
      for (const client of ownClients.splice(0)) await client.close();
    });
    after(async () => {
      await zk?.close();
      await other?.close();
      await server?.stop();
    });

    test('a persistent watch hears every event on its path, over and over, and stays', async () => {
      const path = uniquePath('persistent');
      const recorder = new Recorder();
      const before = zk.watchCount;
      // On a node that does not exist yet: it will hear its creation.
      await zk.addWatch(path, 'persistent', recorder.callback);
      assert.equal(zk.watchCount, before + 1);
      await other.create(path, 'v0');
      for (let round = 1; round <= 3; round++) await other.setData(path, `v${round}`);
      await other.create(`${path}/child`);
      await other.setData(`${path}/child`, 'not the watched path');
      await other.delete(`${path}/child`);
      await other.delete(path);
      await other.create(path);
      await recorder.waitForCount(8);
      await settle();
      assert.deepEqual(recorder.events, [
        event(EventType.NodeCreated, path),
        event(EventType.NodeDataChanged, path),
        event(EventType.NodeDataChanged, path),
        event(EventType.NodeDataChanged, path),
        event(EventType.NodeChildrenChanged, path),
        event(EventType.NodeChildrenChanged, path),
        event(EventType.NodeDeleted, path),
        event(EventType.NodeCreated, path),
      ]);
      assert.equal(zk.watchCount, before + 1);
    });

    test('a recursive watch hears creates, deletes and data changes in its subtree, never NodeChildrenChanged', async () => {
      const root = uniquePath('recursive');
      await other.create(root);
      const recorder = new Recorder();
      const children = new Recorder();
      await zk.addWatch(root, 'persistentRecursive', recorder.callback);
      // A child watch on the root too: the server does send NodeChildrenChanged for it to
      // this session (Apache 3.8 also for the recursive watch itself); the recursive
      // callback must not hear it.
      await zk.getChildren(root, children.callback);
      await other.create(`${root}/a`);
      await other.create(`${root}/a/b`, 'x');
      await other.setData(`${root}/a/b`, 'y');
      await other.setData(root, 'r');
      await other.create(`${root}-sibling`); // shares the prefix, is not below the root
      await other.delete(`${root}/a/b`);
      await other.delete(`${root}/a`);
      await recorder.waitForCount(6);
      await settle();
      assert.deepEqual(recorder.events, [
        event(EventType.NodeCreated, `${root}/a`),
        event(EventType.NodeCreated, `${root}/a/b`),
        event(EventType.NodeDataChanged, `${root}/a/b`),
        event(EventType.NodeDataChanged, root),
        event(EventType.NodeDeleted, `${root}/a/b`),
        event(EventType.NodeDeleted, `${root}/a`),
      ]);
      assert.deepEqual(children.events, [event(EventType.NodeChildrenChanged, root)]);
    });

    test('a callback reached through several watches hears each event once', async () => {
      const root = uniquePath('several');
      const path = `${root}/a`;
      await other.create(root);
      await other.create(path);
      const recorder = new Recorder();
      const before = zk.watchCount;
      await zk.getData(path, recorder.callback);
      await zk.exists(path, recorder.callback);
      await zk.addWatch(path, 'persistent', recorder.callback);
      await zk.addWatch(path, 'persistent', recorder.callback); // the same registration again
      await zk.addWatch(root, 'persistentRecursive', recorder.callback);
      assert.equal(zk.watchCount, before + 3);
      await other.setData(path, 'x');
      await other.setData(path, 'y');
      await recorder.waitForCount(2);
      await settle();
      // The one-shot data watch went with the first event; the persistent ones stay.
      assert.deepEqual(recorder.events, [event(EventType.NodeDataChanged, path), event(EventType.NodeDataChanged, path)]);
      assert.equal(zk.watchCount, before + 2);
    });

    test("the event of the client's own write reaches a persistent watch before the write's reply", async () => {
      const root = uniquePath('own');
      await zk.create(root);
      const order: string[] = [];
      await zk.addWatch(root, 'persistentRecursive', (e) => order.push(`event ${e.type}`));
      await zk.create(`${root}/x`).then(() => order.push('reply'));
      await zk.setData(`${root}/x`, 'y').then(() => order.push('reply'));
      assert.deepEqual(order, [`event ${EventType.NodeCreated}`, 'reply', `event ${EventType.NodeDataChanged}`, 'reply']);
    });

    test('removeWatches persistent: the callback is told PersistentWatchRemoved and hears nothing more', async () => {
      const path = uniquePath('remove-persistent');
      await other.create(path);
      const recorder = new Recorder();
      await zk.addWatch(path, 'persistent', recorder.callback);
      await other.setData(path, 'heard');
      await recorder.waitForCount(1);
      await zk.removeWatches(path, 'persistent', recorder.callback);
      assert.deepEqual(recorder.events, [event(EventType.NodeDataChanged, path), event(EventType.PersistentWatchRemoved, path)]);
      // The server dropped its watch too.
      await rejectsWith(zk.checkWatches(path, 'persistent'), 'NoWatcher');
      await other.setData(path, 'not heard');
      await other.create(`${path}/child`);
      await settle();
      assert.equal(recorder.events.length, 2);
    });

    test('removeWatches persistentRecursive without a callback removes every callback of that kind', async () => {
      const root = uniquePath('remove-recursive');
      await other.create(root);
      const first = new Recorder();
      const second = new Recorder();
      const persistent = new Recorder();
      await zk.addWatch(root, 'persistentRecursive', first.callback);
      await zk.addWatch(root, 'persistentRecursive', second.callback);
      await zk.addWatch(root, 'persistent', persistent.callback);
      await zk.checkWatches(root, 'persistentRecursive');
      await zk.removeWatches(root, 'persistentRecursive');
      assert.deepEqual(first.events, [event(EventType.PersistentWatchRemoved, root)]);
      assert.deepEqual(second.events, [event(EventType.PersistentWatchRemoved, root)]);
      await rejectsWith(zk.checkWatches(root, 'persistentRecursive'), 'NoWatcher');
      // The plain persistent watch on the same path is another kind: it stays.
      await zk.checkWatches(root, 'persistent');
      await other.create(`${root}/x`);
      await persistent.waitForCount(1);
      await settle();
      assert.deepEqual(persistent.events, [event(EventType.NodeChildrenChanged, root)]);
      assert.equal(first.events.length + second.events.length, 2);
      await zk.removeWatches(root, 'persistent');
    });

    test("removing one of several persistent callbacks keeps the server's watch for the others; the last removal drops it", async () => {
      const path = uniquePath('remove-one-persistent');
      await other.create(path);
      const first = new Recorder();
      const second = new Recorder();
      await zk.addWatch(path, 'persistent', first.callback);
      await zk.addWatch(path, 'persistent', second.callback);
      await zk.removeWatches(path, 'persistent', first.callback);
      assert.deepEqual(first.events, [event(EventType.PersistentWatchRemoved, path)]);
      await zk.checkWatches(path, 'persistent');
      await other.setData(path, 'x');
      await second.waitForCount(1);
      await zk.removeWatches(path, 'persistent', second.callback);
      assert.deepEqual(second.events, [event(EventType.NodeDataChanged, path), event(EventType.PersistentWatchRemoved, path)]);
      await rejectsWith(zk.checkWatches(path, 'persistent'), 'NoWatcher');
      assert.equal(first.events.length, 1);
    });

    test("removing one of several data callbacks keeps the server's watch for the others; the last removal drops it", async () => {
      const path = uniquePath('remove-one-data');
      await other.create(path);
      const first = new Recorder();
      const second = new Recorder();
      await zk.getData(path, first.callback);
      await zk.exists(path, second.callback);
      await zk.removeWatches(path, 'data', first.callback);
      assert.deepEqual(first.events, [event(EventType.DataWatchRemoved, path)]);
      await zk.checkWatches(path, 'data');
      await other.setData(path, 'x');
      await second.waitForCount(1);
      assert.deepEqual(second.events, [event(EventType.NodeDataChanged, path)]);
      await zk.getData(path, second.callback);
      await zk.removeWatches(path, 'data', second.callback);
      assert.deepEqual(second.events, [event(EventType.NodeDataChanged, path), event(EventType.DataWatchRemoved, path)]);
      await rejectsWith(zk.checkWatches(path, 'data'), 'NoWatcher');
      await other.setData(path, 'y');
      await settle();
      assert.equal(first.events.length + second.events.length, 3);
    });

    test('removeWatches any takes one-shot and persistent watches, each told its kind of removal', async () => {
      const path = uniquePath('remove-any');
      await other.create(path);
      const oneShot = new Recorder();
      const persistent = new Recorder();
      const recursive = new Recorder();
      const before = zk.watchCount;
      await zk.getData(path, oneShot.callback);
      await zk.getChildren(path, oneShot.callback);
      await zk.addWatch(path, 'persistent', persistent.callback);
      await zk.addWatch(path, 'persistentRecursive', recursive.callback);
      assert.equal(zk.watchCount, before + 4);
      await zk.removeWatches(path, 'any');
      assert.equal(zk.watchCount, before);
      assert.deepEqual(byType(oneShot.events), [event(EventType.DataWatchRemoved, path), event(EventType.ChildWatchRemoved, path)]);
      assert.deepEqual(persistent.events, [event(EventType.PersistentWatchRemoved, path)]);
      assert.deepEqual(recursive.events, [event(EventType.PersistentWatchRemoved, path)]);
      await rejectsWith(zk.checkWatches(path, 'any'), 'NoWatcher');
      await other.setData(path, 'x');
      await other.create(`${path}/child`);
      await settle();
      assert.equal(oneShot.events.length + persistent.events.length + recursive.events.length, 4);
    });

    test('removeWatches any removes a persistent watch that is alone on its path', async () => {
      const path = uniquePath('remove-any-persistent');
      await other.create(path);
      const recorder = new Recorder();
      await zk.addWatch(path, 'persistent', recorder.callback);
      await zk.removeWatches(path, 'any', recorder.callback);
      assert.deepEqual(recorder.events, [event(EventType.PersistentWatchRemoved, path)]);
      await rejectsWith(zk.checkWatches(path, 'any'), 'NoWatcher');
    });

    test('a watch of another kind is not removed: NoWatcher, and it still fires', async () => {
      const path = uniquePath('other-kind');
      await other.create(path);
      const recorder = new Recorder();
      await zk.getData(path, recorder.callback);
      await rejectsWith(zk.removeWatches(path, 'children', recorder.callback), 'NoWatcher');
      await rejectsWith(zk.removeWatches(path, 'children'), 'NoWatcher');
      await rejectsWith(zk.checkWatches(path, 'children'), 'NoWatcher');
      await other.setData(path, 'x');
      assert.deepEqual(await recorder.waitForCount(1), [event(EventType.NodeDataChanged, path)]);
    });

    test('checkWatches and removeWatches on a path without watches: NoWatcher', async () => {
      const path = uniquePath('no-watches');
      await other.create(path);
      const callback = (): void => undefined;
      for (const type of ['data', 'children', 'any'] as const) {
        const error = await rejectsWith(zk.checkWatches(path, type), 'NoWatcher');
        assert.equal(error.code, Err.NoWatcher);
        assert.equal(error.path, path);
        await rejectsWith(zk.removeWatches(path, type), 'NoWatcher');
        await rejectsWith(zk.removeWatches(path, type, callback), 'NoWatcher');
        await rejectsWith(zk.removeWatches(path, type, callback, true), 'NoWatcher');
      }
      await rejectsWith(zk.checkWatches(`${path}/missing`, 'any'), 'NoWatcher');
    });

    test('checkWatches and removeWatches of the persistent kinds on a path without watches: NoWatcher', async () => {
      const path = uniquePath('no-persistent-watches');
      await other.create(path);
      for (const type of ['persistent', 'persistentRecursive'] as const) {
        await rejectsWith(zk.checkWatches(path, type), 'NoWatcher');
        await rejectsWith(zk.removeWatches(path, type), 'NoWatcher');
      }
    });

    test('bad arguments fail before anything is sent', async () => {
      const callback = (): void => undefined;
      await rejectsWith(zk.addWatch('relative', 'persistent', callback), 'BadArguments');
      await rejectsWith(zk.addWatch('/a/', 'persistentRecursive', callback), 'BadArguments');
      await rejectsWith(zk.addWatch('/a', 'standard' as 'persistent', callback), 'BadArguments');
      await rejectsWith(zk.addWatch('/a', 'persistent', undefined as unknown as () => void), 'BadArguments');
      await rejectsWith(zk.removeWatches('/a//b', 'any'), 'BadArguments');
      await rejectsWith(zk.removeWatches('/a', 'all' as WatchType), 'BadArguments');
      await rejectsWith(zk.checkWatches('/a', 'toString' as WatchType), 'BadArguments');
    });

    test('persistent and recursive watches survive a reconnect: SetWatches2 arms them on the new connection', async () => {
      const client = await ownClient();
      const path = uniquePath('reconnect-persistent');
      const root = uniquePath('reconnect-recursive');
      const oneShot = uniquePath('reconnect-one-shot');
      for (const each of [path, root, oneShot]) await other.create(each);
      const persistent = new Recorder();
      const recursive = new Recorder();
      const data = new Recorder();
      await client.addWatch(path, 'persistent', persistent.callback);
      await client.addWatch(root, 'persistentRecursive', recursive.callback);
      await client.getData(oneShot, data.callback);

      client.testHooks.holdReconnects(true);
      const disconnected = nextEvent(client, 'disconnected');
      client.testHooks.destroySocket();
      await disconnected;
      await other.setData(path, 'while away');
      await other.setData(oneShot, 'while away');
      const connected = nextEvent(client, 'connected');
      client.testHooks.holdReconnects(false);
      await connected;
      // The one-shot watch hears what it missed (SetWatches' relativeZxid); persistent watches
      // are only armed again, as ZooKeeper's DataTree.setWatches does: no replay.
      assert.deepEqual(await data.waitForCount(1), [event(EventType.NodeDataChanged, oneShot)]);
      await settle(client);
      assert.deepEqual(persistent.events, []);

      await other.setData(path, 'after');
      await other.create(`${root}/new`);
      await other.setData(oneShot, 'after');
      await persistent.waitForCount(1);
      await recursive.waitForCount(1);
      await settle(client);
      assert.deepEqual(persistent.events, [event(EventType.NodeDataChanged, path)]);
      assert.deepEqual(recursive.events, [event(EventType.NodeCreated, `${root}/new`)]);
      assert.equal(data.events.length, 1);

      // Once more, with the watches registered after the first reconnect included.
      await client.addWatch(oneShot, 'persistent', data.callback);
      const again = nextEvent(client, 'connected');
      client.testHooks.destroySocket();
      await again;
      await settle(client);
      await other.setData(oneShot, 'again');
      await other.delete(`${root}/new`);
      await data.waitForCount(2);
      await recursive.waitForCount(2);
      assert.deepEqual(data.events[1], event(EventType.NodeDataChanged, oneShot));
      assert.deepEqual(recursive.events[1], event(EventType.NodeDeleted, `${root}/new`));
    });

    test('close: persistent and recursive watches hear None with state Closed', async () => {
      const client = await connect();
      const path = uniquePath('close-persistent');
      const root = uniquePath('close-recursive');
      const persistent = new Recorder();
      const recursive = new Recorder();
      await client.addWatch(path, 'persistent', persistent.callback);
      await client.addWatch(root, 'persistentRecursive', recursive.callback);
      await client.close();
      assert.deepEqual(persistent.events, [event(EventType.None, path, KeeperState.Closed)]);
      assert.deepEqual(recursive.events, [event(EventType.None, root, KeeperState.Closed)]);
      assert.equal(client.watchCount, 0);
    });

    test('expiry: persistent and recursive watches hear None with state Expired', async () => {
      const client = await ownClient({ sessionTimeoutMs: 400 });
      const path = uniquePath('expire-persistent');
      const root = uniquePath('expire-recursive');
      const persistent = new Recorder();
      const recursive = new Recorder();
      await client.addWatch(path, 'persistent', persistent.callback);
      await client.addWatch(root, 'persistentRecursive', recursive.callback);
      const expired = nextEvent(client, 'expired', 15_000);
      client.testHooks.pauseHeartbeat(true);
      await expired;
      assert.deepEqual(persistent.events, [event(EventType.None, path, KeeperState.Expired)]);
      assert.deepEqual(recursive.events, [event(EventType.None, root, KeeperState.Expired)]);
      await rejectsWith(client.addWatch(path, 'persistent', persistent.callback), 'SessionExpired');
    });
  });
}

definePersistentWatchSuite({
  name: 'Paddock',
  start: () => startInProcess(),
});

if (apacheZooKeeperAvailable()) {
  definePersistentWatchSuite({
    name: 'Apache ZooKeeper',
    start: () => startApacheZooKeeper({ tickTime: 200, forceSync: false }),
    skip: {
      'removeWatches persistent: the callback is told PersistentWatchRemoved and hears nothing more': APACHE_38_NO_PERSISTENT_TYPES,
      'removeWatches persistentRecursive without a callback removes every callback of that kind': APACHE_38_NO_PERSISTENT_TYPES,
      "removing one of several persistent callbacks keeps the server's watch for the others; the last removal drops it": APACHE_38_NO_PERSISTENT_TYPES,
      'checkWatches and removeWatches of the persistent kinds on a path without watches: NoWatcher': APACHE_38_NO_PERSISTENT_TYPES,
    },
  });
} else {
  void describe('persistent watches against Apache ZooKeeper', { skip: 'Apache ZooKeeper (Debian zookeeper) is not installed' }, () => {});
}

// ---- the wire, against a scripted server ----

const STAT: Stat = { czxid: 1n, mzxid: 1n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 0, numChildren: 0, pzxid: 1n };
const OK_ERROR_RESPONSE = encode(ErrorResponseCodec, { err: 0 });

/** Answers what the client sends as a server with every node would: watch calls succeed. */
function answerEverything(connection: FakeConnection, request: FakeRequest): void {
  switch (request.type) {
    case OpCode.getData:
      return connection.reply(request.xid, 1n, 0, encode(GetDataResponseCodec, { data: null, stat: STAT }));
    case OpCode.exists:
      return connection.reply(request.xid, 1n, Err.NoNode);
    case OpCode.addWatch:
      return connection.reply(request.xid, 1n, 0, OK_ERROR_RESPONSE);
    case OpCode.setWatches:
    case OpCode.setWatches2:
    case OpCode.sync:
      return connection.reply(request.xid, 1n, 0, request.type === OpCode.sync ? Buffer.from([0, 0, 0, 1, 0x2f]) : undefined);
    default:
      return undefined;
  }
}

void describe('persistent watches on the wire (scripted server)', { timeout: 30_000 }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const setUp = async (autoAnswer = false): Promise<{ fake: FakeServer; zk: ZooKeeperClient; connection: FakeConnection }> => {
    const fake = await FakeServer.start(autoAnswer ? { onRequest: answerEverything } : {});
    cleanups.push(() => fake.close());
    const zk = await ZooKeeperClient.connect({ connectString: fake.connectString, sessionTimeoutMs: 2000 });
    cleanups.push(async () => {
      zk.testHooks.holdReconnects(true);
      zk.testHooks.destroySocket();
      await zk.close();
    });
    return { fake, zk, connection: await fake.connection(0) };
  };

  void nodeTest('addWatch sends op 106 with mode 0 or 1; the watch is registered only when the server accepts it', async () => {
    const { zk, connection } = await setUp();
    const callback = (): void => undefined;
    const calls = [zk.addWatch('/p', 'persistent', callback), zk.addWatch('/r', 'persistentRecursive', callback), zk.addWatch('/denied', 'persistent', callback)];
    const sent = await connection.waitForCalls(3);
    assert.deepEqual(
      sent.map((request) => [request.type, AddWatchRequestCodec.read(new JuteReader(request.body))]),
      [
        [OpCode.addWatch, { path: '/p', mode: 0 }],
        [OpCode.addWatch, { path: '/r', mode: 1 }],
        [OpCode.addWatch, { path: '/denied', mode: 0 }],
      ],
    );
    assert.equal(zk.watchCount, 0);
    connection.reply(sent[0]!.xid, 1n, 0, OK_ERROR_RESPONSE);
    connection.reply(sent[1]!.xid, 1n, 0, OK_ERROR_RESPONSE);
    connection.reply(sent[2]!.xid, 1n, Err.NoAuth, encode(ErrorResponseCodec, { err: Err.NoAuth }));
    await calls[0];
    await calls[1];
    await rejectsWith(calls[2]!, 'NoAuth');
    assert.equal(zk.watchCount, 2);
    // A persistent watch stays through events; a recursive one hears its subtree.
    const recorder = new Recorder();
    const watched = zk.addWatch('/p', 'persistent', recorder.callback);
    const [, , , again] = await connection.waitForCalls(4);
    connection.reply(again!.xid, 1n, 0, OK_ERROR_RESPONSE);
    await watched;
    connection.notify(EventType.NodeDataChanged, '/p');
    connection.notify(EventType.NodeChildrenChanged, '/p');
    connection.notify(EventType.NodeDataChanged, '/px');
    connection.notify(EventType.NodeDeleted, '/p');
    await recorder.waitForCount(3);
    assert.deepEqual(recorder.events.map((e) => e.type), [EventType.NodeDataChanged, EventType.NodeChildrenChanged, EventType.NodeDeleted]);
  });

  void nodeTest('removeWatches sends checkWatches (17) while other callbacks keep a watch of that type, removeWatches (18) otherwise', async () => {
    const { zk, connection } = await setUp(true);
    const [a, b, c] = [new Recorder(), new Recorder(), new Recorder()];
    await zk.addWatch('/p', 'persistent', a.callback);
    await zk.addWatch('/p', 'persistent', b.callback);
    await zk.getData('/p', c.callback);
    const sentBefore = connection.calls().length;
    const expectations: [Promise<void>, number, number][] = [];
    const remove = (type: WatchType, callback: ((e: WatchedEvent) => void) | undefined, opCode: number, watcherType: number): Promise<void> => {
      const call = zk.removeWatches('/p', type, callback);
      expectations.push([call, opCode, watcherType]);
      return call;
    };
    const answer = async (index: number): Promise<FakeRequest> => {
      const sent = await connection.waitForCalls(sentBefore + index + 1);
      const request = sent[sentBefore + index]!;
      connection.reply(request.xid, 1n, 0);
      return request;
    };
    // b keeps a persistent watch on /p: only check.
    const first = remove('persistent', a.callback, OpCode.checkWatches, 4);
    const firstSent = await answer(0);
    await first;
    // b was the last persistent callback: remove on the server (c's data watch is another type).
    const second = remove('persistent', b.callback, OpCode.removeWatches, 4);
    const secondSent = await answer(1);
    await second;
    // No callback given: always removeWatches.
    const third = remove('data', undefined, OpCode.removeWatches, 2);
    const thirdSent = await answer(2);
    await third;
    for (const [index, request] of [firstSent, secondSent, thirdSent].entries()) {
      assert.equal(request.type, expectations[index]![1]);
      assert.deepEqual(PathTypeRequestCodec.read(new JuteReader(request.body)), { path: '/p', type: expectations[index]![2] });
    }
    assert.deepEqual(a.events, [event(EventType.PersistentWatchRemoved, '/p')]);
    assert.deepEqual(b.events, [event(EventType.PersistentWatchRemoved, '/p')]);
    assert.deepEqual(c.events, [event(EventType.DataWatchRemoved, '/p')]);
    assert.equal(zk.watchCount, 0);
  });

  void nodeTest('a server error leaves the watches in place unless local; local also removes while disconnected (state Disconnected)', async () => {
    const { zk, connection } = await setUp(true);
    const recorder = new Recorder();
    await zk.addWatch('/p', 'persistent', recorder.callback);
    await zk.addWatch('/q', 'persistentRecursive', recorder.callback);
    const sentBefore = connection.calls().length;

    const refused = zk.removeWatches('/p', 'persistent', recorder.callback);
    const [request] = (await connection.waitForCalls(sentBefore + 1)).slice(sentBefore);
    connection.reply(request!.xid, 1n, Err.NoWatcher);
    await rejectsWith(refused, 'NoWatcher');
    assert.equal(zk.watchCount, 2);
    assert.deepEqual(recorder.events, []);

    const forced = zk.removeWatches('/p', 'persistent', recorder.callback, true);
    const [forcedRequest] = (await connection.waitForCalls(sentBefore + 2)).slice(sentBefore + 1);
    connection.reply(forcedRequest!.xid, 1n, Err.NoWatcher);
    await forced;
    assert.deepEqual(recorder.events, [event(EventType.PersistentWatchRemoved, '/p')]);

    // In flight when the connection breaks: ConnectionLoss, yet removed with local.
    const inFlight = zk.removeWatches('/q', 'persistentRecursive', undefined, true);
    await connection.waitForCalls(sentBefore + 3);
    zk.testHooks.holdReconnects(true);
    zk.testHooks.destroySocket();
    await inFlight;
    assert.deepEqual(recorder.events[1], event(EventType.PersistentWatchRemoved, '/q', KeeperState.Disconnected));
    assert.equal(zk.watchCount, 0);

    // While disconnected, a local removal happens at once, without waiting for a connection.
    const queuedAdd = zk.addWatch('/s', 'persistent', recorder.callback);
    zk.testHooks.holdReconnects(false);
    await queuedAdd;
    zk.testHooks.holdReconnects(true);
    zk.testHooks.destroySocket();
    await zk.removeWatches('/s', 'persistent', recorder.callback, true);
    assert.equal(zk.state, 'disconnected');
    assert.deepEqual(recorder.events[2], event(EventType.PersistentWatchRemoved, '/s', KeeperState.Disconnected));
    assert.equal(zk.watchCount, 0);
  });

  void nodeTest('a reconnect re-arms with SetWatches2 (xid -8, op 105); batches without persistent paths stay SetWatches', async () => {
    const { fake, zk } = await setUp(true);
    // Long paths, so that the data watches alone fill more than one 128 KiB batch.
    const dataPaths = Array.from({ length: 150 }, (_, i) => `/${'d'.repeat(1000)}${i}`);
    const persistentPaths = ['/p1', '/p2'];
    const recursivePaths = ['/r1'];
    await Promise.all(dataPaths.map((path) => zk.getData(path, () => undefined)));
    await zk.exists('/e', () => undefined);
    for (const path of persistentPaths) await zk.addWatch(path, 'persistent', () => undefined);
    for (const path of recursivePaths) await zk.addWatch(path, 'persistentRecursive', () => undefined);
    const lastZxid = zk.lastZxidSeen;

    zk.testHooks.destroySocket();
    const second = await fake.connection(1);
    await waitFor(() => zk.state === 'connected', 'reconnected');
    await zk.sync('/');
    const frames = second.calls().filter((request) => request.xid === Xid.setWatches);
    assert.ok(frames.length >= 2, `expected several SetWatches frames, got ${frames.length}`);
    const all = { data: [] as string[], exist: [] as string[], child: [] as string[], persistent: [] as string[], recursive: [] as string[] };
    for (const frame of frames) {
      const reader = new JuteReader(frame.body);
      const record =
        frame.type === OpCode.setWatches2
          ? SetWatches2Codec.read(reader)
          : { ...SetWatchesCodec.read(reader), persistentWatches: [] as string[], persistentRecursiveWatches: [] as string[] };
      assert.equal(reader.remaining, 0);
      assert.equal(record.relativeZxid, lastZxid);
      const hasPersistent = record.persistentWatches.length + record.persistentRecursiveWatches.length > 0;
      assert.equal(frame.type, hasPersistent ? OpCode.setWatches2 : OpCode.setWatches);
      const lists = [record.dataWatches, record.existWatches, record.childWatches, record.persistentWatches, record.persistentRecursiveWatches];
      const pathBytes = lists.flat().reduce((sum, path) => sum + Buffer.byteLength(path) + 4, 0);
      assert.ok(pathBytes <= 128 * 1024, `a batch of ${pathBytes} bytes of paths`);
      all.data.push(...record.dataWatches);
      all.exist.push(...record.existWatches);
      all.child.push(...record.childWatches);
      all.persistent.push(...record.persistentWatches);
      all.recursive.push(...record.persistentRecursiveWatches);
    }
    assert.equal(frames[0]!.type, OpCode.setWatches);
    assert.equal(frames.at(-1)!.type, OpCode.setWatches2);
    assert.deepEqual(all, { data: dataPaths, exist: ['/e'], child: [], persistent: persistentPaths, recursive: recursivePaths });
  });
});
