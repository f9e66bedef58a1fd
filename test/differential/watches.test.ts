/**
 * Hand-written differential scripts for watches: one-shot data, exist and child watches,
 * persistent and persistent-recursive watches (addWatch), removeWatches and checkWatches
 * (NoWatcher), and the events a session close or a multi triggers. After every step each
 * session syncs, and the events it received are compared.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  addWatch,
  addWatchRaw,
  checkWatches,
  create,
  del,
  exists,
  getChildren,
  getData,
  m,
  multi,
  on,
  removeWatches,
  reopen,
  script,
  setACL,
  setData,
  sync,
} from './dsl.js';
import { SKIP_WITHOUT_ZOOKEEPER, pairForSuite, assertCovers, sawEvent } from './servers.js';

void describe('differential: watches', { skip: SKIP_WITHOUT_ZOOKEEPER, timeout: 120_000 }, () => {
  const pair = pairForSuite({ extendedTypes: true });

  void test('one-shot watches: exists, getData, getChildren fire once, for the right changes', async () => {
    const trace = await pair.expectSame(
      script(
        on(1, exists('a', true), getChildren('', true)),
        on(0, create('a', { data: 'x' })), // NodeCreated a, NodeChildrenChanged <root>
        on(0, create('b')), // nothing more: both fired already
        on(1, getData('a', true), exists('a', true), getChildren('a', true)),
        on(0, setData('a', 'y')), // one NodeDataChanged for two data watches
        on(0, setData('a', 'z')), // nothing
        on(0, create('a/x')), // NodeChildrenChanged a
        on(1, getChildren('a', true), getData('a/x', true)),
        on(0, setData('a/x', 'data')), // NodeDataChanged a/x, not a child change of a
        on(1, getData('a/x', true), getChildren('a/x', true), exists('a/x', true)),
        on(0, del('a/x')), // NodeDeleted a/x (once), NodeChildrenChanged a
        on(1, getData('missing', true), getChildren('missing', true)), // NoNode: no watch is left
        on(0, create('missing')), // nothing
        on(1, exists('gone', true)),
        on(0, create('gone'), del('gone')), // NodeCreated gone; the delete finds no watch
        on(1, getData('a', true)),
        on(1, getData('a', true), setData('a', 'own')), // a session's own change fires its watch
      ),
    );
    assert.ok(sawEvent(trace, /^NodeCreated a$/) && sawEvent(trace, /^NodeDeleted a\/x$/), 'the script produces events');
  });

  void test('watches of several sessions on one node, and on nodes of a multi', async () => {
    await pair.expectSame(
      script(
        on(0, create('a'), create('b')),
        on(1, getData('a', true), getChildren('a', true)),
        on(2, exists('a', true), exists('c', true)),
        on(0, multi(m.setData('a', 'x'), m.create('a/x'), m.create('c'), m.del('b'))),
        on(1, getChildren('a', true), exists('c', true)),
        on(2, getData('a/x', true)),
        on(0, multi(m.del('a/x'), m.setData('c', 'y'), m.create('a/x'))),
        on(0, multi(m.setData('c', 'z'), m.create('a'))), // fails: no event at all
      ),
    );
  });

  void test('ephemerals of a closed session: watchers see them go', async () => {
    await pair.expectSame(
      script(
        on(0, create('a'), create('a/e', { mode: 'ephemeral' }), create('e', { mode: 'ephemeral' }), create('a/s-', { mode: 'ephemeralSequential' })),
        on(1, exists('a/e', true), getChildren('a', true), getData('e', true)),
        on(2, addWatch('a', true)),
        on(0, getData('e', true)), // the closing session's own watch
        on(0, reopen()),
        on(1, exists('a/e', true)),
        on(2, sync('')),
      ),
    );
  });

  void test('persistent watches: every change of the node and its children, until removed', async () => {
    const trace = await pair.expectSame(
      script(
        on(1, addWatch('a')), // on a missing node
        on(0, create('a')), // NodeCreated a
        on(0, setData('a', 'x'), setData('a', 'y')), // twice NodeDataChanged
        on(0, create('a/x'), create('a/x/y')), // NodeChildrenChanged a (grandchildren do not count)
        on(0, setData('a/x', 'z')), // nothing: not recursive
        on(0, del('a/x/y'), del('a/x')), // NodeChildrenChanged a
        on(1, checkWatches('a', 'any')), // 3.8: finds the persistent watch
        on(0, del('a')), // NodeDeleted a
        on(0, create('a')), // still there: NodeCreated a
        on(1, addWatch('a')), // twice the same: fine
        on(0, setData('a', 'again')),
      ),
    );
    assert.ok(sawEvent(trace, /^NodeChildrenChanged a$/), 'persistent watches report child changes');
  });

  void test('persistent recursive watches: the whole subtree, no child events', async () => {
    const trace = await pair.expectSame(
      script(
        on(1, addWatch('a', true)),
        on(0, create('a'), create('a/x'), create('a/x/y'), create('ab')), // "ab" is not under "a"
        on(0, setData('a/x/y', 'd'), setData('a', 'd')),
        on(0, create('a/q-', { mode: 'persistentSequential' }), create('a/e', { mode: 'ephemeral' }), create('a/c', { mode: 'container' })),
        on(0, multi(m.del('a/x/y'), m.setData('a/x', 'm'), m.create('a/x/y2'))),
        on(1, setData('a/x', 'own')),
        on(2, addWatch('', true), addWatch('a/x')), // overlapping watches of another session
        on(0, del('a/x/y2'), del('a/x')),
        on(0, reopen()), // a/e goes with the session
      ),
    );
    const recursiveWatcherEvents = trace.steps.flatMap((step) => step.events[1] ?? []);
    assert.ok(recursiveWatcherEvents.includes('NodeCreated a/x/y'), 'the recursive watch sees the subtree');
    assert.ok(!recursiveWatcherEvents.some((event) => event.startsWith('NodeChildrenChanged')), 'and no child events');
  });

  void test('addWatch with a mode that does not exist', async () => {
    await pair.expectSame(script(on(0, create('a')), on(0, addWatchRaw('a', 2)), on(0, addWatchRaw('a', -1)), on(0, setData('a', 'x'))));
  });

  void test('removeWatches and checkWatches of one-shot watches: NoWatcher, removal, types', async () => {
    const trace = await pair.expectSame(
      script(
        on(0, create('a'), create('b')),
        on(1, checkWatches('a', 'data'), checkWatches('a', 'children'), checkWatches('a', 'any')), // NoWatcher
        on(1, removeWatches('a', 'data'), removeWatches('a', 'any')), // NoWatcher
        on(1, getData('a', true)),
        on(1, checkWatches('a', 'data'), checkWatches('a', 'children'), checkWatches('a', 'any')),
        on(1, removeWatches('a', 'children')), // NoWatcher: it is a data watch
        on(1, removeWatches('a', 'data')),
        on(0, setData('a', 'x')), // no event: removed
        on(1, getChildren('a', true), exists('b', true), exists('nope', true)),
        on(1, removeWatches('a', 'any'), checkWatches('b', 'data'), checkWatches('nope', 'data'), removeWatches('nope', 'data')),
        on(0, create('a/x'), create('nope'), setData('b', 'y')), // only b fires
        on(1, getChildren('b', true), getData('b', true)),
        on(1, removeWatches('b', 'any')),
        on(0, del('b')), // nothing
        on(1, removeWatches('^/', 'any'), checkWatches('a//', 'data'), removeWatches('a/', 'children')),
      ),
    );
    assertCovers(trace, ['NoWatcher']);
  });

  void test('watches on nodes every session may read (the ACL does not hide them)', async () => {
    await pair.expectSame(
      script(
        on(0, create('a'), create('b', { acl: 'cidrOther' })),
        on(1, getData('a', true), getData('b', true), addWatch('c', true)),
        on(0, setACL('a', 'ip'), setACL('b', 'aliceOrWorldRead')),
        on(0, create('c', { acl: 'ip' }), create('c/x', { acl: 'read' })),
        on(1, exists('a', true)),
        on(0, del('a')),
      ),
    );
  });
});
