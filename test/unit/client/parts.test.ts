/** The client's small parts on their own: connect strings, the watch registry, the deque, errors. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EventType, WatcherType } from '../../../src/jute/index.js';
import { ZooKeeperError, parseConnectString } from '../../../src/client/index.js';
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
    registry.add(WatchKind.persistent, '/p', one);
    registry.add(WatchKind.persistentRecursive, '/r', one);
    registry.add(WatchKind.persistentRecursive, '/d', one);
    assert.deepEqual(registry.paths(), { data: ['/d'], exist: ['/e'], child: ['/c', '/d'], persistent: ['/p'], persistentRecursive: ['/r', '/d'] });
    const all = registry.takeAll();
    assert.deepEqual([...all.keys()], ['/d', '/e', '/c', '/p', '/r']);
    assert.equal(all.get('/d')!.size, 1);
    assert.equal(registry.isEmpty, true);
  });

  void test('persistent watches stay; recursive ones hear descendants (not by name prefix), never NodeChildrenChanged', () => {
    const registry = new WatchRegistry();
    const [persistent, recursive, rootRecursive, oneShot] = [cb(), cb(), cb(), cb()];
    registry.add(WatchKind.persistent, '/a', persistent);
    registry.add(WatchKind.persistentRecursive, '/a', recursive);
    registry.add(WatchKind.persistentRecursive, '/', rootRecursive);
    registry.add(WatchKind.data, '/a', oneShot);
    registry.add(WatchKind.data, '/a', persistent);
    assert.deepEqual([...registry.take(EventType.NodeDataChanged, '/a')!], [oneShot, persistent, recursive, rootRecursive]);
    assert.deepEqual([...registry.take(EventType.NodeDataChanged, '/a')!], [persistent, recursive, rootRecursive]);
    assert.deepEqual([...registry.take(EventType.NodeChildrenChanged, '/a')!], [persistent]);
    assert.deepEqual([...registry.take(EventType.NodeCreated, '/a/b/c')!], [recursive, rootRecursive]);
    assert.deepEqual([...registry.take(EventType.NodeDeleted, '/ab')!], [rootRecursive]);
    assert.equal(registry.take(EventType.NodeChildrenChanged, '/a/b'), undefined);
    assert.deepEqual([...registry.take(EventType.NodeDeleted, '/')!], [rootRecursive]);
    assert.equal(registry.count, 3);
  });

  void test('contains, othersRemain and remove follow the WatcherType tables (Any: all five)', () => {
    const registry = new WatchRegistry();
    const [a, b] = [cb(), cb()];
    registry.add(WatchKind.data, '/p', a);
    registry.add(WatchKind.exist, '/p', b);
    registry.add(WatchKind.child, '/p', a);
    registry.add(WatchKind.persistent, '/p', a);
    registry.add(WatchKind.persistentRecursive, '/p', b);
    assert.equal(registry.contains(WatcherType.Data, '/p', b), true);
    assert.equal(registry.contains(WatcherType.Children, '/p', b), false);
    assert.equal(registry.contains(WatcherType.Persistent, '/q', undefined), false);
    assert.equal(registry.othersRemain(WatcherType.Data, '/p', a), true);
    assert.equal(registry.othersRemain(WatcherType.Children, '/p', a), false);
    assert.equal(registry.othersRemain(WatcherType.Persistent, '/p', a), false);
    assert.equal(registry.othersRemain(WatcherType.Any, '/p', a), true);

    const children = registry.remove(WatcherType.Children, '/p', b);
    assert.deepEqual([children.data.size, children.child.size, children.persistent.size], [0, 0, 0]);
    const data = registry.remove(WatcherType.Data, '/p', undefined);
    assert.deepEqual([[...data.data], [...data.child], [...data.persistent]], [[a, b], [], []]);
    const any = registry.remove(WatcherType.Any, '/p', a);
    assert.deepEqual([[...any.data], [...any.child], [...any.persistent]], [[], [a], [a]]);
    assert.deepEqual(registry.paths(), { data: [], exist: [], child: [], persistent: [], persistentRecursive: ['/p'] });
    registry.remove(WatcherType.PersistentRecursive, '/p', b);
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
