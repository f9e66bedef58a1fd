/**
 * node-zookeeper-client (npm, 1.1.3) in this process against a real `paddock start` process.
 *
 * node-zookeeper-client sends the 44-byte ConnectRequest (no readOnly byte), re-registers its
 * watches with setWatches (xid -8) after a reconnect, and resumes a session from its id and
 * password. Everything here waits on callbacks and events with a deadline; nothing sleeps.
 *
 * PADDOCK_INTEROP_TARGET=apache runs the same tests against Apache ZooKeeper 3.8 (tickTime 200,
 * like the Paddock process): every expectation here is ZooKeeper's own behaviour.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ACL, CreateMode, Exception, Id, NodeZk, Permission, codeOf, long, once, withTimeout, zookeeper } from '../support/node-zookeeper-client.js';
import type { Watcher } from '../support/node-zookeeper-client.js';
import { startTarget } from './target.js';
import type { Target } from './target.js';

/** Collects watch events by tag and waits (bounded) for a condition on them. */
class Events {
  readonly seen: [string, string, string][] = [];
  private waiters = new Set<() => void>();

  watcher(tag: string): Watcher {
    return (event) => {
      this.seen.push([tag, event.name, event.path]);
      for (const w of [...this.waiters]) w();
    };
  }

  of(tag: string): [string, string][] {
    return this.seen.filter((e) => e[0] === tag).map((e) => [e[1], e[2]]);
  }

  async waitFor(tags: string[], timeoutMs = 5000): Promise<void> {
    const ready = (): boolean => tags.every((t) => this.of(t).length > 0);
    if (ready()) return;
    let check: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      check = () => {
        if (ready()) resolve();
      };
      this.waiters.add(check);
    });
    try {
      await withTimeout(done, timeoutMs, `watch events ${tags.join(', ')} (seen: ${JSON.stringify(this.seen)})`);
    } finally {
      this.waiters.delete(check);
    }
  }
}

void describe('node-zookeeper-client against Paddock', { timeout: 60_000 }, () => {
  let server: Target;
  const open: NodeZk[] = [];

  async function connect(options: { sessionTimeout?: number; sessionId?: Buffer; sessionPassword?: Buffer } = {}): Promise<NodeZk> {
    const zk = await NodeZk.connect(server.connectString, options);
    open.push(zk);
    return zk;
  }

  before(async () => {
    server = await startTarget();
  });

  after(async () => {
    for (const zk of open) zk.abandon();
    await server?.stop();
  });

  void test('create/getData/setData/remove, Stat fields, versions and error codes', async () => {
    const zk = await connect();
    assert.equal(await zk.create('/n-crud', Buffer.from('v0')), '/n-crud');
    assert.equal(await zk.exists('/n-crud-none'), null);
    const [data0, st0] = await zk.getData('/n-crud');
    assert.equal(data0?.toString(), 'v0');
    assert.equal(st0.version, 0, 'a new znode has version 0');
    assert.equal(st0.cversion, 0);
    assert.equal(st0.aversion, 0);
    assert.equal(long(st0.ephemeralOwner), 0n);
    assert.equal(st0.dataLength, 2);
    assert.equal(st0.numChildren, 0);
    assert.equal(long(st0.czxid), long(st0.mzxid));
    assert.equal(long(st0.pzxid), long(st0.czxid));
    assert.ok(long(st0.ctime) > 1_600_000_000_000n, 'ctime is in ms since the epoch');
    assert.equal(long(st0.ctime), long(st0.mtime));

    const st1 = await zk.setData('/n-crud', Buffer.from('value-1'), 0);
    assert.equal(st1.version, 1, 'setData with the version read gives version + 1');
    assert.equal(st1.dataLength, 7);
    assert.ok(long(st1.mzxid) > long(st0.mzxid));
    assert.ok(long(st1.mtime) >= long(st0.mtime));
    assert.equal(await codeOf(zk.setData('/n-crud', Buffer.from('x'), 0)), Exception.BAD_VERSION);
    assert.equal(await codeOf(zk.setData('/n-crud', Buffer.from('x'), 2)), Exception.BAD_VERSION);
    assert.equal((await zk.setData('/n-crud', Buffer.from('value-2'), -1)).version, 2, '-1 matches any version');
    const [data2, st2] = await zk.getData('/n-crud');
    assert.equal(data2?.toString(), 'value-2');
    assert.equal(st2.version, 2);
    assert.equal(long(st2.mzxid) > long(st1.mzxid), true);

    assert.equal(await codeOf(zk.remove('/n-crud', 1)), Exception.BAD_VERSION);
    await zk.remove('/n-crud', 2);
    assert.equal(await zk.exists('/n-crud'), null);
    assert.equal(await codeOf(zk.getData('/n-crud')), Exception.NO_NODE);
    assert.equal(await codeOf(zk.setData('/n-crud', Buffer.from('x'))), Exception.NO_NODE);
    assert.equal(await codeOf(zk.remove('/n-crud')), Exception.NO_NODE);
    assert.equal(await codeOf(zk.getChildren('/n-crud')), Exception.NO_NODE);
    assert.equal(await codeOf(zk.create('/n-crud/a/b')), Exception.NO_NODE);

    await zk.create('/n-tree');
    assert.equal(await codeOf(zk.create('/n-tree')), Exception.NODE_EXISTS);
    await zk.create('/n-tree/b', Buffer.from('bee'));
    await zk.create('/n-tree/a');
    assert.equal(await codeOf(zk.remove('/n-tree')), Exception.NOT_EMPTY);
    await zk.create('/n-tree/eph', undefined, CreateMode.EPHEMERAL);
    assert.equal(await codeOf(zk.create('/n-tree/eph/kid')), Exception.NO_CHILDREN_FOR_EPHEMERALS);
    const [children, parent] = await zk.getChildren('/n-tree');
    assert.deepEqual([...children].sort(), ['a', 'b', 'eph']);
    assert.equal(parent.numChildren, 3);
    assert.equal(parent.cversion, 3);
    assert.equal(parent.version, 0);
    assert.ok(long(parent.pzxid) > long(parent.czxid));
    await zk.remove('/n-tree/a');
    const afterRemove = await zk.exists('/n-tree');
    assert.equal(afterRemove?.numChildren, 2);
    assert.equal(afterRemove?.cversion, 4, 'a deletion counts in the cversion');
    assert.ok(long(afterRemove?.pzxid ?? Buffer.alloc(8)) > long(parent.pzxid));
    for (const child of ['b', 'eph']) await zk.remove(`/n-tree/${child}`);
    await zk.remove('/n-tree');

    // No data at all: ZooKeeper stores what it got and returns an empty buffer or none.
    await zk.create('/n-nodata');
    const [noData, noDataStat] = await zk.getData('/n-nodata');
    assert.equal(noData?.length ?? 0, 0);
    assert.equal(noDataStat.dataLength, 0);
    await zk.remove('/n-nodata');
    assert.equal(await codeOf(zk.getData('/zookeeper')), 0, '/zookeeper exists');
    await zk.close();
  });

  void test('sequential and ephemeral nodes: 10-digit suffixes, ephemeralOwner, removal at close', async () => {
    const zk = await connect();
    const other = await connect();
    await zk.create('/n-seq');
    assert.equal(await zk.create('/n-seq/p-', undefined, CreateMode.PERSISTENT_SEQUENTIAL), '/n-seq/p-0000000000');
    assert.equal(await zk.create('/n-seq/p-', undefined, CreateMode.PERSISTENT_SEQUENTIAL), '/n-seq/p-0000000001');
    assert.equal(await zk.create('/n-seq/q', undefined, CreateMode.PERSISTENT_SEQUENTIAL), '/n-seq/q0000000002');
    const es = await zk.create('/n-seq/e-', Buffer.from('x'), CreateMode.EPHEMERAL_SEQUENTIAL);
    assert.equal(es, '/n-seq/e-0000000003');
    assert.equal(await zk.create('/n-seq/e', Buffer.from('eph'), CreateMode.EPHEMERAL), '/n-seq/e');
    assert.ok(zk.sessionId !== 0n);
    assert.equal(long((await zk.exists('/n-seq/e'))!.ephemeralOwner), zk.sessionId);
    assert.equal(long((await zk.exists(es))!.ephemeralOwner), zk.sessionId);
    assert.equal(long((await zk.exists('/n-seq/p-0000000000'))!.ephemeralOwner), 0n);
    assert.deepEqual(
      [...(await other.getChildren('/n-seq'))[0]].sort(),
      ['e', 'e-0000000003', 'p-0000000000', 'p-0000000001', 'q0000000002'],
    );
    await zk.close();
    // closeSession deletes the session's ephemerals before the close completes
    const [after, parent] = await other.getChildren('/n-seq');
    assert.deepEqual([...after].sort(), ['p-0000000000', 'p-0000000001', 'q0000000002']);
    assert.equal(parent.cversion, 7, '5 creations + 2 ephemeral deletions');
    // the next suffix counts creations only (5), not the 2 deletions
    assert.equal(await other.create('/n-seq/p-', undefined, CreateMode.PERSISTENT_SEQUENTIAL), '/n-seq/p-0000000005');
    for (const child of (await other.getChildren('/n-seq'))[0]) await other.remove(`/n-seq/${child}`);
    await other.remove('/n-seq');
    await other.close();
  });

  void test('watchers: getData, exists (fires on create), getChildren, deletion, one-shot', async () => {
    const zk = await connect();
    const writer = await connect();
    const events = new Events();
    await writer.create('/n-w');

    assert.equal(await zk.exists('/n-w/x', events.watcher('exists')), null);
    await writer.create('/n-w/x', Buffer.from('1'));
    await events.waitFor(['exists']);
    assert.deepEqual(events.of('exists'), [['NODE_CREATED', '/n-w/x']]);

    await zk.getData('/n-w/x', events.watcher('data'));
    await zk.getChildren('/n-w', events.watcher('children'));
    await writer.setData('/n-w/x', Buffer.from('2'));
    await writer.setData('/n-w/x', Buffer.from('3'));
    await writer.create('/n-w/y');
    await writer.create('/n-w/z');
    await events.waitFor(['data', 'children']);

    // an exists watch on a node that exists is a data watch: it fires on setData
    await zk.exists('/n-w/y', events.watcher('exists-data'));
    await writer.setData('/n-w/y', Buffer.from('changed'));
    await events.waitFor(['exists-data']);

    // deletion fires data, exists and child watches on the node and the parent's child watch
    await zk.getData('/n-w/x', events.watcher('del-data'));
    await zk.exists('/n-w/x', events.watcher('del-exists'));
    await zk.getChildren('/n-w/x', events.watcher('del-children'));
    await zk.getChildren('/n-w', events.watcher('parent'));
    await writer.remove('/n-w/x');
    await events.waitFor(['del-data', 'del-exists', 'del-children', 'parent']);

    // a setData does not fire a child watch
    await zk.getChildren('/n-w/z', events.watcher('quiet'));
    await writer.setData('/n-w/z', Buffer.from('quiet'));
    // the same session's later read is answered after any event the write caused
    await zk.getData('/n-w/z');

    assert.deepEqual(events.of('data'), [['NODE_DATA_CHANGED', '/n-w/x']], 'one-shot: two sets, one event');
    assert.deepEqual(events.of('children'), [['NODE_CHILDREN_CHANGED', '/n-w']], 'one-shot: two creates, one event');
    assert.deepEqual(events.of('exists-data'), [['NODE_DATA_CHANGED', '/n-w/y']]);
    assert.deepEqual(events.of('del-data'), [['NODE_DELETED', '/n-w/x']]);
    assert.deepEqual(events.of('del-exists'), [['NODE_DELETED', '/n-w/x']]);
    assert.deepEqual(events.of('del-children'), [['NODE_DELETED', '/n-w/x']]);
    assert.deepEqual(events.of('parent'), [['NODE_CHILDREN_CHANGED', '/n-w']]);
    assert.deepEqual(events.of('quiet'), []);
    assert.deepEqual(events.of('exists'), [['NODE_CREATED', '/n-w/x']]);

    for (const child of ['y', 'z']) await writer.remove(`/n-w/${child}`);
    await writer.remove('/n-w');
    await zk.close();
    await writer.close();
  });

  void test('transaction (multi): commits all or nothing', async () => {
    const zk = await connect();
    await zk.create('/n-tx');
    const ok = await zk.commit(
      zk.client
        .transaction()
        .create('/n-tx/a', Buffer.from('A'))
        .create('/n-tx/s-', undefined, ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL)
        .setData('/n-tx', Buffer.from('parent'), 0)
        .check('/n-tx', 1),
    );
    assert.equal(ok.error, null);
    assert.deepEqual(
      ok.results.map((r) => [r.type, r.path ?? null]),
      [
        [1, '/n-tx/a'],
        [1, '/n-tx/s-0000000001'],
        [5, null],
        [13, null],
      ],
    );
    assert.equal(ok.results[2]?.stat?.version, 1);
    const failed = await zk.commit(zk.client.transaction().create('/n-tx/b').remove('/n-tx/a', 7).create('/n-tx/c'));
    assert.equal(failed.error?.getCode(), Exception.BAD_VERSION);
    assert.deepEqual(
      failed.results.map((r) => [r.type, r.err]),
      [
        [-1, 0],
        [-1, Exception.BAD_VERSION],
        [-1, Exception.RUNTIME_INCONSISTENCY],
      ],
    );
    assert.deepEqual([...(await zk.getChildren('/n-tx'))[0]].sort(), ['a', 's-0000000001']);
    for (const child of ['a', 's-0000000001']) await zk.remove(`/n-tx/${child}`);
    await zk.remove('/n-tx');
    await zk.close();
  });

  void test('an abandoned session expires after its timeout and its ephemerals vanish; it cannot be resumed', async (t) => {
    const owner = await connect({ sessionTimeout: 400 });
    const timeoutMs = owner.client.getSessionTimeout();
    assert.equal(timeoutMs, 400, 'negotiated timeout: 400 ms = 2 ticks, the minimum');
    const observer = await connect();
    await owner.create('/n-exp');
    await owner.create('/n-exp/eph', undefined, CreateMode.EPHEMERAL);
    await owner.create('/n-exp/eph-', undefined, CreateMode.EPHEMERAL_SEQUENTIAL);
    const sessionId = owner.client.getSessionId();
    const password = owner.client.getSessionPassword();
    const events = new Events();
    assert.equal(long((await observer.exists('/n-exp/eph', events.watcher('eph')))!.ephemeralOwner), long(sessionId));
    await observer.getChildren('/n-exp', events.watcher('children'));

    const abandonedAt = Date.now();
    owner.abandon();
    await events.waitFor(['eph', 'children'], timeoutMs + 5000);
    const elapsedMs = Date.now() - abandonedAt;
    t.diagnostic(`ephemerals of a ${timeoutMs} ms session vanished ${elapsedMs} ms after its connection dropped`);
    assert.deepEqual(events.of('eph'), [['NODE_DELETED', '/n-exp/eph']]);
    assert.deepEqual(events.of('children'), [['NODE_CHILDREN_CHANGED', '/n-exp']]);
    assert.ok(elapsedMs >= timeoutMs / 3, `gone after ${elapsedMs} ms: the session must outlive its connection`);
    assert.ok(elapsedMs <= timeoutMs + 3000, `gone only after ${elapsedMs} ms`);
    assert.deepEqual((await observer.getChildren('/n-exp'))[0], []);

    // resuming the expired session is refused: the client hears 'expired'
    const late = zookeeper.createClient(server.connectString, {
      sessionTimeout: 4000,
      spinDelay: 50,
      sessionId,
      sessionPassword: password,
    });
    const expired = once(late, 'expired');
    late.connect();
    await expired;
    late.close();
    await observer.remove('/n-exp');
    await observer.close();
  });

  void test('reconnect keeps the session, and setWatches reports what changed while disconnected', async () => {
    const zk = await connect({ sessionTimeout: 4000 });
    const writer = await connect();
    const events = new Events();
    await writer.create('/n-rc');
    await writer.create('/n-rc/d', Buffer.from('before'));
    await writer.create('/n-rc/del');
    await writer.create('/n-rc/same', Buffer.from('same'));
    await zk.create('/n-rc/eph', undefined, CreateMode.EPHEMERAL);
    const sessionId = zk.sessionId;
    await zk.getData('/n-rc/d', events.watcher('data'));
    await zk.exists('/n-rc/new', events.watcher('exists'));
    await zk.getChildren('/n-rc', events.watcher('children'));
    await zk.getData('/n-rc/del', events.watcher('deleted'));
    await zk.getData('/n-rc/same', events.watcher('unchanged'));

    // Drop the connection and hold the client's reconnect until the writer has made changes.
    const cm = zk.client.connectionManager;
    const reconnect = cm.connect.bind(cm);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    cm.connect = () => {
      void held.then(() => {
        cm.connect = reconnect;
        reconnect();
      });
    };
    const disconnected = once(zk.client, 'disconnected');
    cm.socket.destroy();
    await disconnected;
    await writer.setData('/n-rc/d', Buffer.from('after'));
    await writer.create('/n-rc/new');
    await writer.remove('/n-rc/del');
    assert.deepEqual(events.seen, [], 'no events while disconnected');
    const reconnected = once(zk.client, 'connected');
    release();
    await reconnected;

    assert.equal(zk.sessionId, sessionId, 'same session after the reconnect');
    assert.equal(long((await writer.exists('/n-rc/eph'))!.ephemeralOwner), sessionId, 'its ephemeral is still there');
    await events.waitFor(['data', 'exists', 'children', 'deleted']);
    assert.deepEqual(events.of('data'), [['NODE_DATA_CHANGED', '/n-rc/d']]);
    assert.deepEqual(events.of('exists'), [['NODE_CREATED', '/n-rc/new']]);
    assert.deepEqual(events.of('children'), [['NODE_CHILDREN_CHANGED', '/n-rc']]);
    assert.deepEqual(events.of('deleted'), [['NODE_DELETED', '/n-rc/del']]);
    // the unchanged node's watch was re-registered, not fired: it fires on the next change
    assert.deepEqual(events.of('unchanged'), []);
    await writer.setData('/n-rc/same', Buffer.from('now changed'));
    await events.waitFor(['unchanged']);
    assert.deepEqual(events.of('unchanged'), [['NODE_DATA_CHANGED', '/n-rc/same']]);

    await zk.close();
    assert.equal(await writer.exists('/n-rc/eph'), null, 'closing the session removed its ephemeral');
    for (const child of ['d', 'new', 'same']) await writer.remove(`/n-rc/${child}`);
    await writer.remove('/n-rc');
    await writer.close();
  });

  void test('a new client resumes an abandoned session with its id and password; a wrong password is expired', async () => {
    const zk = await connect({ sessionTimeout: 4000 });
    await zk.create('/n-share', undefined, CreateMode.EPHEMERAL);
    const sessionId = zk.client.getSessionId();
    const password = zk.client.getSessionPassword();
    const wrong = zookeeper.createClient(server.connectString, {
      sessionTimeout: 4000,
      spinDelay: 50,
      sessionId,
      sessionPassword: Buffer.alloc(16, 7),
    });
    const expired = once(wrong, 'expired');
    wrong.connect();
    await expired;
    wrong.close();
    assert.ok(await zk.exists('/n-share'), 'a refused resume leaves the session alone');

    // The first client dies (no closeSession); a new one resumes the session well within its
    // timeout, finds its ephemeral, and its close ends the session.
    zk.abandon();
    const twin = await connect({ sessionTimeout: 4000, sessionId, sessionPassword: password });
    assert.equal(twin.sessionId, long(sessionId));
    assert.equal(twin.client.getSessionTimeout(), 4000);
    assert.equal(long((await twin.exists('/n-share'))!.ephemeralOwner), long(sessionId));
    await twin.create('/n-share-2', undefined, CreateMode.EPHEMERAL);
    await twin.close();
    const checker = await connect();
    assert.equal(await checker.exists('/n-share'), null, 'closing the resumed session removed its ephemerals');
    assert.equal(await checker.exists('/n-share-2'), null);
    await checker.close();
  });

  void test('ACLs: default world:anyone, setACL/aversion, digest auth, NO_AUTH', async () => {
    const zk = await connect();
    await zk.create('/n-acl');
    const [acls, st] = await zk.getACL('/n-acl');
    assert.deepEqual(
      acls.map((a) => [a.permission, a.id.scheme, a.id.id]),
      [[Permission.ALL, 'world', 'anyone']],
    );
    assert.equal(st.aversion, 0);
    const readAdmin = [new ACL(Permission.READ | Permission.ADMIN, new Id('world', 'anyone'))];
    const st1 = await zk.setACL('/n-acl', readAdmin, 0);
    assert.equal(st1.aversion, 1);
    assert.equal(st1.version, 0, 'setACL leaves the data version alone');
    assert.equal(await codeOf(zk.setData('/n-acl', Buffer.from('x'))), Exception.NO_AUTH);
    assert.equal(await codeOf(zk.create('/n-acl/kid')), Exception.NO_AUTH);
    assert.equal(await codeOf(zk.setACL('/n-acl', ACL.OPEN_ACL_UNSAFE, 0)), Exception.BAD_VERSION);
    assert.equal((await zk.setACL('/n-acl', ACL.OPEN_ACL_UNSAFE, 1)).aversion, 2);

    const owner = await connect();
    owner.client.addAuthInfo('digest', Buffer.from('alice:secret'));
    await owner.create('/n-acl/private', Buffer.from('p'), CreateMode.PERSISTENT, ACL.CREATOR_ALL_ACL);
    const [privateAcl] = await owner.getACL('/n-acl/private');
    assert.deepEqual(
      privateAcl.map((a) => [a.permission, a.id.scheme, a.id.id]),
      [[Permission.ALL, 'digest', `alice:${createHash('sha1').update('alice:secret').digest('base64')}`]],
      'auth:"" expands to the digest id of the creator',
    );
    assert.equal((await owner.getData('/n-acl/private'))[0]?.toString(), 'p');
    assert.equal(await codeOf(zk.getData('/n-acl/private')), Exception.NO_AUTH);
    assert.equal(await codeOf(zk.create('/n-acl/open', undefined, CreateMode.PERSISTENT, ACL.CREATOR_ALL_ACL)), Exception.INVALID_ACL);
    assert.equal(await codeOf(zk.remove('/n-acl/private')), 0, 'delete needs DELETE on the parent, not on the node');
    await owner.close();
    await zk.remove('/n-acl');
    await zk.close();
  });
});
