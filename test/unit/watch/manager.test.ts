/**
 * WatchManager against ZooKeeper 3.8's one-shot (standard) watches: server/watch/WatchManager
 * (triggerWatch removes what it fires) and the calls DataTree makes: createNode and setData
 * trigger data watches (NodeCreated, NodeDataChanged); deleteNode triggers data watches and
 * then child watches with NodeDeleted, suppressing the watchers already notified, and the
 * parent's child watches with NodeChildrenChanged.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WatchManager } from '../../../src/watch/manager.js';
import type { Watcher } from '../../../src/watch/manager.js';
import { EventType } from '../../../src/jute/index.js';

class Recorder implements Watcher {
  readonly events: Array<[EventType, string]> = [];
  constructor(readonly name = 'w') {}
  deliver(type: EventType, path: string): void {
    this.events.push([type, path]);
  }
}

void describe('data watches (getData/exists)', () => {
  for (const type of [EventType.NodeCreated, EventType.NodeDataChanged, EventType.NodeDeleted]) {
    void test(`fire on event type ${type}, once`, () => {
      const wm = new WatchManager();
      const w = new Recorder();
      wm.addDataWatch('/a', w);
      assert.equal(wm.trigger(type, '/a'), 1);
      assert.deepEqual(w.events, [[type, '/a']]);
      assert.equal(wm.trigger(type, '/a'), 0, 'one-shot: the second trigger fires nothing');
      assert.deepEqual(w.events, [[type, '/a']]);
      assert.equal(wm.hasDataWatch('/a', w), false);
      assert.equal(wm.watchCount, 0);
    });
  }

  void test('do not fire on NodeChildrenChanged, and survive it', () => {
    const wm = new WatchManager();
    const w = new Recorder();
    wm.addDataWatch('/a', w);
    assert.equal(wm.trigger(EventType.NodeChildrenChanged, '/a'), 0);
    assert.deepEqual(w.events, []);
    assert.equal(wm.hasDataWatch('/a', w), true);
    assert.equal(wm.trigger(EventType.NodeDataChanged, '/a'), 1);
    assert.deepEqual(w.events, [[EventType.NodeDataChanged, '/a']]);
  });
});

void describe('child watches (getChildren)', () => {
  for (const type of [EventType.NodeChildrenChanged, EventType.NodeDeleted]) {
    void test(`fire on event type ${type}, once`, () => {
      const wm = new WatchManager();
      const w = new Recorder();
      wm.addChildWatch('/p', w);
      assert.equal(wm.trigger(type, '/p'), 1);
      assert.deepEqual(w.events, [[type, '/p']]);
      assert.equal(wm.trigger(type, '/p'), 0);
      assert.deepEqual(w.events, [[type, '/p']]);
      assert.equal(wm.hasChildWatch('/p', w), false);
    });
  }

  for (const type of [EventType.NodeCreated, EventType.NodeDataChanged]) {
    void test(`do not fire on event type ${type}, and survive it`, () => {
      const wm = new WatchManager();
      const w = new Recorder();
      wm.addChildWatch('/p', w);
      assert.equal(wm.trigger(type, '/p'), 0);
      assert.deepEqual(w.events, []);
      assert.equal(wm.hasChildWatch('/p', w), true);
      assert.equal(wm.watchCount, 1);
    });
  }
});

void describe('paths are matched exactly', () => {
  void test('no firing for other paths, prefixes, children or parents', () => {
    const wm = new WatchManager();
    const w = new Recorder();
    wm.addDataWatch('/a', w);
    wm.addChildWatch('/a', w);
    for (const path of ['/ab', '/a/b', '/', '/A', '/a/']) {
      assert.equal(wm.trigger(EventType.NodeDataChanged, path), 0);
      assert.equal(wm.trigger(EventType.NodeDeleted, path), 0);
      assert.equal(wm.trigger(EventType.NodeChildrenChanged, path), 0);
    }
    assert.deepEqual(w.events, []);
    assert.equal(wm.watchCount, 2);
  });

  void test('a delete in the subtree does not fire a one-shot watch on an ancestor', () => {
    const wm = new WatchManager();
    const w = new Recorder();
    wm.addDataWatch('/a', w);
    wm.trigger(EventType.NodeDeleted, '/a/b/c');
    wm.trigger(EventType.NodeCreated, '/a/b');
    assert.deepEqual(w.events, []);
  });
});

void describe('NodeDeleted with both kinds of watch', () => {
  void test('a watcher with a data and a child watch on the node hears NodeDeleted exactly once', () => {
    const wm = new WatchManager();
    const w = new Recorder();
    wm.addDataWatch('/n', w);
    wm.addChildWatch('/n', w);
    assert.equal(wm.watchCount, 2);
    assert.equal(wm.trigger(EventType.NodeDeleted, '/n'), 1);
    assert.deepEqual(w.events, [[EventType.NodeDeleted, '/n']]);
    assert.equal(wm.watchCount, 0, 'both watches are consumed');
    assert.equal(wm.hasDataWatch('/n', w), false);
    assert.equal(wm.hasChildWatch('/n', w), false);
  });

  void test('data-only, child-only and both-watchers each hear it once', () => {
    const wm = new WatchManager();
    const dataOnly = new Recorder('data');
    const childOnly = new Recorder('child');
    const both = new Recorder('both');
    const elsewhere = new Recorder('elsewhere');
    wm.addDataWatch('/n', dataOnly);
    wm.addChildWatch('/n', childOnly);
    wm.addDataWatch('/n', both);
    wm.addChildWatch('/n', both);
    wm.addDataWatch('/m', elsewhere);
    assert.equal(wm.trigger(EventType.NodeDeleted, '/n'), 3);
    for (const r of [dataOnly, childOnly, both]) assert.deepEqual(r.events, [[EventType.NodeDeleted, '/n']], r.name);
    assert.deepEqual(elsewhere.events, []);
    assert.equal(wm.watchCount, 1);
  });

  void test('DataTree.deleteNode sequence: NodeDeleted on the node, NodeChildrenChanged on its parent', () => {
    const wm = new WatchManager();
    const w = new Recorder();
    wm.addDataWatch('/p/c', w);
    wm.addChildWatch('/p/c', w);
    wm.addChildWatch('/p', w);
    wm.addDataWatch('/p', w);
    wm.trigger(EventType.NodeDeleted, '/p/c');
    wm.trigger(EventType.NodeChildrenChanged, '/p');
    assert.deepEqual(w.events, [
      [EventType.NodeDeleted, '/p/c'],
      [EventType.NodeChildrenChanged, '/p'],
    ]);
    assert.equal(wm.hasDataWatch('/p', w), true, "the parent's data watch is untouched");
    assert.equal(wm.watchCount, 1);
  });
});

void describe('several watchers, duplicates and re-registration', () => {
  void test('every watcher on the path is fired once and the count says how many', () => {
    const wm = new WatchManager();
    const ws = [new Recorder('1'), new Recorder('2'), new Recorder('3')];
    for (const w of ws) wm.addDataWatch('/x', w);
    assert.equal(wm.trigger(EventType.NodeDataChanged, '/x'), 3);
    for (const w of ws) assert.deepEqual(w.events, [[EventType.NodeDataChanged, '/x']]);
  });

  void test('registering the same watch twice is one watch and one event', () => {
    const wm = new WatchManager();
    const w = new Recorder();
    wm.addDataWatch('/x', w);
    wm.addDataWatch('/x', w);
    assert.equal(wm.watchCount, 1);
    assert.equal(wm.pathCount, 1);
    assert.equal(wm.trigger(EventType.NodeDataChanged, '/x'), 1);
    assert.equal(w.events.length, 1);
  });

  void test('a watcher that re-registers while being notified gets a fresh watch for the next event only', () => {
    const wm = new WatchManager();
    const events: string[] = [];
    const w: Watcher = {
      deliver(type, path) {
        events.push(`${type}:${path}`);
        wm.addDataWatch(path, w);
      },
    };
    wm.addDataWatch('/r', w);
    assert.equal(wm.trigger(EventType.NodeDataChanged, '/r'), 1);
    assert.deepEqual(events, [`${EventType.NodeDataChanged}:/r`]);
    assert.equal(wm.hasDataWatch('/r', w), true);
    assert.equal(wm.trigger(EventType.NodeDataChanged, '/r'), 1);
    assert.equal(events.length, 2);
  });

  void test('event types that are not node events fire nothing and consume nothing', () => {
    const wm = new WatchManager();
    const w = new Recorder();
    wm.addDataWatch('/x', w);
    wm.addChildWatch('/x', w);
    for (const type of [EventType.None, EventType.DataWatchRemoved, EventType.ChildWatchRemoved, EventType.PersistentWatchRemoved]) {
      assert.equal(wm.trigger(type, '/x'), 0);
    }
    assert.deepEqual(w.events, []);
    assert.equal(wm.watchCount, 2);
  });
});

void describe('removeWatcher and counts', () => {
  void test('removeWatcher drops all of a watcher\'s data and child watches, and only its own', () => {
    const wm = new WatchManager();
    const gone = new Recorder('gone');
    const stays = new Recorder('stays');
    for (const path of ['/a', '/b', '/c']) {
      wm.addDataWatch(path, gone);
      wm.addChildWatch(path, gone);
    }
    wm.addDataWatch('/a', stays);
    wm.addChildWatch('/b', stays);
    assert.equal(wm.watchCount, 8);
    wm.removeWatcher(gone);
    assert.equal(wm.watchCount, 2);
    assert.equal(wm.pathCount, 2);
    assert.deepEqual([...wm.dataPathsOf(gone)], []);
    assert.deepEqual([...wm.childPathsOf(gone)], []);
    for (const path of ['/a', '/b', '/c']) {
      wm.trigger(EventType.NodeDeleted, path);
    }
    assert.deepEqual(gone.events, []);
    assert.deepEqual(stays.events, [
      [EventType.NodeDeleted, '/a'],
      [EventType.NodeDeleted, '/b'],
    ]);
    assert.equal(wm.watchCount, 0);
    assert.equal(wm.pathCount, 0);
  });

  void test('removeWatcher of an unknown watcher is harmless', () => {
    const wm = new WatchManager();
    wm.removeWatcher(new Recorder());
    assert.equal(wm.watchCount, 0);
  });

  void test('counts: watches are (path, watcher) pairs per kind; paths are per kind', () => {
    const wm = new WatchManager();
    const w1 = new Recorder();
    const w2 = new Recorder();
    wm.addDataWatch('/a', w1);
    wm.addDataWatch('/a', w2);
    wm.addChildWatch('/a', w1);
    wm.addDataWatch('/b', w1);
    assert.equal(wm.watchCount, 4);
    assert.equal(wm.pathCount, 3);
    assert.deepEqual([...wm.dataPathsOf(w1)].sort(), ['/a', '/b']);
    assert.deepEqual([...wm.childPathsOf(w1)], ['/a']);
    assert.deepEqual([...wm.dataPathsOf(w2)], ['/a']);
    wm.trigger(EventType.NodeDataChanged, '/a');
    assert.equal(wm.watchCount, 2);
    assert.deepEqual([...wm.dataPathsOf(w1)], ['/b']);
    assert.deepEqual([...wm.dataPathsOf(w2)], []);
  });
});

void describe('model check: random add/trigger/remove', () => {
  type Kind = 'data' | 'child';
  const path = fc.constantFrom('/a', '/b', '/a/b');
  const watcherIndex = fc.integer({ min: 0, max: 3 });
  const nodeEvent = fc.constantFrom(EventType.NodeCreated, EventType.NodeDeleted, EventType.NodeDataChanged, EventType.NodeChildrenChanged);
  const op = fc.oneof(
    fc.record({ op: fc.constant('add' as const), kind: fc.constantFrom<Kind>('data', 'child'), path, w: watcherIndex }),
    fc.record({ op: fc.constant('trigger' as const), type: nodeEvent, path }),
    fc.record({ op: fc.constant('remove' as const), w: watcherIndex }),
  );

  void test('events and counts follow ZooKeeper\'s one-shot semantics', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const wm = new WatchManager();
        const watchers = [0, 1, 2, 3].map((i) => new Recorder(String(i)));
        const model = new Set<string>(); // `${kind} ${path} ${w}`
        const expected: Array<Array<[EventType, string]>> = [[], [], [], []];
        for (const o of ops) {
          if (o.op === 'add') {
            if (o.kind === 'data') wm.addDataWatch(o.path, watchers[o.w]!);
            else wm.addChildWatch(o.path, watchers[o.w]!);
            model.add(`${o.kind} ${o.path} ${o.w}`);
          } else if (o.op === 'remove') {
            wm.removeWatcher(watchers[o.w]!);
            for (const key of [...model]) if (key.endsWith(` ${o.w}`)) model.delete(key);
          } else {
            const kinds: Kind[] =
              o.type === EventType.NodeDeleted ? ['data', 'child'] : o.type === EventType.NodeChildrenChanged ? ['child'] : ['data'];
            const fired = new Set<number>();
            for (const kind of kinds) {
              for (let w = 0; w < 4; w++) {
                if (model.delete(`${kind} ${o.path} ${w}`)) fired.add(w);
              }
            }
            for (const w of fired) expected[w]!.push([o.type, o.path]);
            assert.equal(wm.trigger(o.type, o.path), fired.size);
          }
          assert.equal(wm.watchCount, model.size);
        }
        for (let w = 0; w < 4; w++) assert.deepEqual(watchers[w]!.events, expected[w], `watcher ${w}`);
      }),
      { numRuns: 300 },
    );
  });
});
