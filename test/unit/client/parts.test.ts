/** The client's small parts on their own: connect strings, the watch registry, the deque, errors. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EventType, ZooKeeperError, parseConnectString } from '../../../src/client/index.js';
import type { WatchCallback } from '../../../src/client/index.js';
import { Deque } from '../../../src/client/deque.js';
import { WatchKind, WatchRegistry } from '../../../src/client/watches.js';

void describe('parseConnectString', () => {
  void test('hosts, default port, IPv6, spaces, trailing root chroot', () => {
    assert.deepEqual(parseConnectString('127.0.0.1:2181, localhost ,[::1]:2182,[fe80::1]/'), [
      { host: '127.0.0.1', port: 2181 },
      { host: 'localhost', port: 2181 },
      { host: '::1', port: 2182 },
      { host: 'fe80::1', port: 2181 },
    ]);
  });
  void test('rejects empty lists, bad ports and chroots', () => {
    for (const bad of ['', ' , ', 'h:0', 'h:70000', 'h:x', ':2181', '[::1', 'h:2181/app']) {
      assert.throws(() => parseConnectString(bad), Error, bad);
    }
  });
});

void describe('WatchRegistry', () => {
  const cb = (): WatchCallback => () => undefined;

  void test('events take the watches ZooKeeper says they trigger', () => {
    const registry = new WatchRegistry();
    const [data, exist, child] = [cb(), cb(), cb()];
    registry.add(WatchKind.data, '/a', data);
    registry.add(WatchKind.exist, '/a', exist);
    registry.add(WatchKind.child, '/a', child);
    assert.equal(registry.take(EventType.NodeChildrenChanged, '/b'), undefined);
    assert.deepEqual([...registry.take(EventType.NodeDataChanged, '/a')!], [data, exist]);
    assert.deepEqual([...registry.take(EventType.NodeChildrenChanged, '/a')!], [child]);
    assert.equal(registry.isEmpty, true);

    registry.add(WatchKind.data, '/a', data);
    registry.add(WatchKind.child, '/a', data);
    registry.add(WatchKind.child, '/a', child);
    assert.equal(registry.count, 3);
    assert.deepEqual([...registry.take(EventType.NodeDeleted, '/a')!], [data, child]);
    assert.equal(registry.take(EventType.None, '/a'), undefined);
  });

  void test('paths() lists each kind; takeAll() empties', () => {
    const registry = new WatchRegistry();
    const one = cb();
    registry.add(WatchKind.data, '/d', one);
    registry.add(WatchKind.exist, '/e', one);
    registry.add(WatchKind.child, '/c', one);
    registry.add(WatchKind.child, '/d', one);
    assert.deepEqual(registry.paths(), { data: ['/d'], exist: ['/e'], child: ['/c', '/d'] });
    const all = registry.takeAll();
    assert.deepEqual([...all.keys()], ['/d', '/e', '/c']);
    assert.equal(all.get('/d')!.size, 1);
    assert.equal(registry.isEmpty, true);
  });
});

void describe('Deque', () => {
  void test('FIFO across growth and wrap-around', () => {
    const deque = new Deque<number>(2);
    const expected: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < round % 7; i++) {
        deque.push(next);
        expected.push(next++);
      }
      for (let i = 0; i < round % 5 && expected.length > 0; i++) assert.equal(deque.shift(), expected.shift());
      assert.equal(deque.length, expected.length);
      assert.equal(deque.peek(), expected[0]);
    }
    assert.deepEqual(deque.drain(), expected);
    assert.equal(deque.shift(), undefined);
  });
});

void describe('ZooKeeperError', () => {
  void test('carries the code, its name and the path', () => {
    const error = new ZooKeeperError(-101, '/x');
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'ZooKeeperError');
    assert.equal(error.code, -101);
    assert.equal(error.codeName, 'NoNode');
    assert.equal(error.path, '/x');
    assert.equal(error.message, 'KeeperErrorCode = NoNode for /x');
    assert.equal(new ZooKeeperError(-4).message, 'KeeperErrorCode = ConnectionLoss');
  });
});
