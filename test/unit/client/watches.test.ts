/** One-shot data, exist and child watches against an in-process Paddock server. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EventType, ZooKeeperClient } from '../../../src/client/index.js';
import type { WatchedEvent } from '../../../src/client/index.js';
import { startInProcess } from '../../support/paddock.js';
import type { InProcessPaddock } from '../../support/paddock.js';
import { Recorder, rejectsWith, uniquePath } from './helpers.js';

const SYNC_CONNECTED = 3;
const event = (type: number, path: string): WatchedEvent => ({ type, state: SYNC_CONNECTED, path });

void describe('client watches (Paddock)', { timeout: 30_000 }, () => {
  let server: InProcessPaddock;
  let zk: ZooKeeperClient;
  let other: ZooKeeperClient;

  before(async () => {
    server = await startInProcess();
    zk = await ZooKeeperClient.connect({ connectString: server.connectString, sessionTimeoutMs: 2000 });
    other = await ZooKeeperClient.connect({ connectString: server.connectString, sessionTimeoutMs: 2000 });
  });
  after(async () => {
    await zk?.close();
    await other?.close();
    await server?.stop();
  });

  /** Waits until `zk` has seen everything up to now: a round trip behind any event. */
  const settle = (client = zk): Promise<void> => client.sync('/');

  void test('a data watch (getData) fires once on setData, then never again', async () => {
    const path = uniquePath('data');
    await zk.create(path, 'a');
    const recorder = new Recorder();
    await zk.getData(path, recorder.callback);
    assert.equal(zk.watchCount, 1);
    await other.setData(path, 'b');
    assert.deepEqual(await recorder.waitForCount(1), [event(EventType.NodeDataChanged, path)]);
    await other.setData(path, 'c');
    await settle();
    assert.equal(recorder.events.length, 1);
    assert.equal(zk.watchCount, 0);
  });

  void test('exists on an existing node sets a data watch: NodeDeleted', async () => {
    const path = uniquePath('exists-data');
    await zk.create(path);
    const recorder = new Recorder();
    assert.notEqual(await zk.exists(path, recorder.callback), null);
    await other.delete(path);
    assert.deepEqual(await recorder.waitForCount(1), [event(EventType.NodeDeleted, path)]);
  });

  void test('exists on a missing node sets an exist watch: NodeCreated, once', async () => {
    const path = uniquePath('exists-missing');
    const recorder = new Recorder();
    assert.equal(await zk.exists(path, recorder.callback), null);
    assert.equal(zk.watchCount, 1);
    await other.create(path);
    assert.deepEqual(await recorder.waitForCount(1), [event(EventType.NodeCreated, path)]);
    await other.setData(path, 'x');
    await other.delete(path);
    await settle();
    assert.equal(recorder.events.length, 1);
  });

  void test('a child watch (getChildren) fires on a new child, once; getChildren2 on the parent deleted', async () => {
    const parent = uniquePath('children');
    await zk.create(parent);
    const recorder = new Recorder();
    assert.deepEqual(await zk.getChildren(parent, recorder.callback), []);
    await other.create(`${parent}/a`);
    await other.create(`${parent}/b`);
    await settle();
    assert.deepEqual(recorder.events, [event(EventType.NodeChildrenChanged, parent)]);
    // A setData on the parent is no child change.
    const second = new Recorder();
    await zk.getChildren2(parent, second.callback);
    await other.setData(parent, 'x');
    await other.delete(`${parent}/a`);
    await other.delete(`${parent}/b`);
    await settle();
    assert.deepEqual(second.events, [event(EventType.NodeChildrenChanged, parent)]);
    const third = new Recorder();
    await zk.getChildren2(parent, third.callback);
    await other.delete(parent);
    assert.deepEqual(await third.waitForCount(1), [event(EventType.NodeDeleted, parent)]);
  });

  void test('NodeDeleted reaches data and child watchers; a callback registered as both runs once', async () => {
    const path = uniquePath('both');
    await zk.create(path);
    const both = new Recorder();
    const dataOnly = new Recorder();
    await zk.getData(path, both.callback);
    await zk.getChildren(path, both.callback);
    await zk.exists(path, dataOnly.callback);
    await other.delete(path);
    await settle();
    assert.deepEqual(both.events, [event(EventType.NodeDeleted, path)]);
    assert.deepEqual(dataOnly.events, [event(EventType.NodeDeleted, path)]);
    assert.equal(zk.watchCount, 0);
  });

  void test('several callbacks on one path all fire', async () => {
    const path = uniquePath('many');
    await zk.create(path);
    const recorders = [new Recorder(), new Recorder(), new Recorder()];
    for (const recorder of recorders) await zk.getData(path, recorder.callback);
    await other.setData(path, 'x');
    for (const recorder of recorders) assert.deepEqual(await recorder.waitForCount(1), [event(EventType.NodeDataChanged, path)]);
  });

  void test('no watch is registered when the call fails', async () => {
    const path = uniquePath('failed');
    const recorder = new Recorder();
    await rejectsWith(zk.getData(path, recorder.callback), 'NoNode');
    await rejectsWith(zk.getChildren(path, recorder.callback), 'NoNode');
    assert.equal(zk.watchCount, 0);
    await other.create(path);
    await other.create(`${path}/child`);
    await settle();
    assert.deepEqual(recorder.events, []);
  });

  void test("the event of one's own write runs before that write's reply settles", async () => {
    const path = uniquePath('own');
    await zk.create(path);
    const order: string[] = [];
    await zk.getData(path, () => order.push('event'));
    await zk.setData(path, 'x').then(() => order.push('reply'));
    assert.deepEqual(order, ['event', 'reply']);
  });

  void test("another session's change: the event comes before the read that reveals it", async () => {
    const path = uniquePath('reveal');
    await zk.create(path, 'old');
    for (let round = 0; round < 20; round++) {
      const seen: WatchedEvent[] = [];
      await zk.getData(path, (e) => seen.push(e));
      await other.setData(path, `v${round}`);
      // `other` has its reply, so the change is committed: a read by `zk` must see it and
      // must have heard of it first.
      const { data } = await zk.getData(path);
      assert.equal(data.toString(), `v${round}`);
      assert.deepEqual(seen, [event(EventType.NodeDataChanged, path)]);
    }
  });

  void test('onWatchEvent hears each event the server sends, before the callbacks it fires', async () => {
    const path = uniquePath('hook');
    const heard: Array<{ event: WatchedEvent; callbacksRun: number }> = [];
    let callbacksRun = 0;
    const hooked = await ZooKeeperClient.connect({
      connectString: server.connectString,
      sessionTimeoutMs: 2000,
      onWatchEvent: (e) => void heard.push({ event: e, callbacksRun }),
    });
    try {
      await hooked.create(path, 'a');
      const recorder = new Recorder();
      await hooked.getData(path, (e) => {
        callbacksRun++;
        recorder.callback(e);
      });
      await hooked.getChildren(path, recorder.callback);
      await other.delete(path);
      await recorder.waitForCount(2);
      await settle(hooked);
      // One NodeDeleted from the server for both watches: the hook hears it once, first.
      assert.deepEqual(heard, [{ event: event(EventType.NodeDeleted, path), callbacksRun: 0 }]);
    } finally {
      await hooked.close();
    }
  });
});
