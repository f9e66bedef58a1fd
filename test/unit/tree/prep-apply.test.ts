/**
 * The write path without sockets: Preparer (validation against the tree plus the writes in
 * flight) and DataTree.apply, checked against ZooKeeper's Stat and error semantics.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateFlag, Err, OpCode } from '../../../src/jute/index.js';
import { DataTree, OPEN_ACL_UNSAFE, statOf } from '../../../src/tree/index.js';
import type { ApplyResult, Txn, TxnBody } from '../../../src/tree/index.js';
import { Preparer } from '../../../src/server/prep.js';
import type { PrepContext } from '../../../src/server/prep.js';
import { parseSnapshotBytes, snapshotToBuffer } from '../../../src/storage/index.js';

const SESSION = 0x100n;

/** Preps and applies txns; `hold` keeps prepared txns in flight until `flush`. */
class Harness {
  readonly tree = new DataTree();
  readonly prep = new Preparer(this.tree);
  private zxid = 0n;
  private held: Txn[] = [];
  hold = false;

  run(build: (p: Preparer, ctx: PrepContext) => TxnBody, sessionId = SESSION, timeMs = 1000): ApplyResult | null {
    const zxid = ++this.zxid;
    const body = this.prep.prepare(() => build(this.prep, { sessionId, zxid, authIds: [] }));
    const txn: Txn = { sessionId, cxid: 0, zxid, timeMs, body };
    if (this.hold) {
      this.held.push(txn);
      return null;
    }
    return this.apply(txn);
  }

  private apply(txn: Txn): ApplyResult {
    const { result } = this.tree.apply(txn);
    this.prep.committed(txn.zxid);
    return result;
  }

  flush(): ApplyResult[] {
    const results = this.held.map((txn) => this.apply(txn));
    this.held = [];
    return results;
  }

  create(path: string, flags: number = CreateFlag.persistent, data = 'd', sessionId = SESSION): ApplyResult | null {
    return this.run((p, ctx) => p.create(ctx, { path, data: Buffer.from(data), acl: OPEN_ACL_UNSAFE, flags }), sessionId);
  }

  setData(path: string, version: number, data = 'x'): ApplyResult | null {
    return this.run((p, ctx) => p.setData(ctx, { path, data: Buffer.from(data), version }));
  }

  delete(path: string, version = -1): ApplyResult | null {
    return this.run((p, ctx) => p.delete(ctx, { path, version }));
  }

  stat(path: string) {
    const node = this.tree.get(path);
    assert.ok(node, `${path} exists`);
    return statOf(node);
  }
}

describe('create', () => {
  test('a new node has version 0 and czxid = mzxid = pzxid = its zxid', () => {
    const h = new Harness();
    const result = h.create('/a', CreateFlag.persistent, 'hello')!;
    assert.equal(result.err, Err.Ok);
    const stat = h.stat('/a');
    assert.equal(stat.version, 0);
    assert.equal(stat.cversion, 0);
    assert.equal(stat.aversion, 0);
    assert.equal(stat.czxid, 1n);
    assert.equal(stat.mzxid, 1n);
    assert.equal(stat.pzxid, 1n);
    assert.equal(stat.dataLength, 5);
    assert.equal(stat.numChildren, 0);
    assert.equal(stat.ephemeralOwner, 0n);
    assert.equal(stat.ctime, 1000n);
  });

  test('the parent gains a child, cversion + 1 and pzxid = the create zxid; its mzxid stays', () => {
    const h = new Harness();
    h.create('/p');
    h.create('/p/c');
    const parent = h.stat('/p');
    assert.equal(parent.numChildren, 1);
    assert.equal(parent.cversion, 1);
    assert.equal(parent.pzxid, 2n);
    assert.equal(parent.mzxid, 1n);
    assert.equal(parent.version, 0);
  });

  test('errors: NodeExists, NoNode parent, NoChildrenForEphemerals, BadArguments, InvalidACL', () => {
    const h = new Harness();
    h.create('/a');
    assert.equal(h.create('/a')!.err, Err.NodeExists);
    assert.equal(h.create('/missing/child')!.err, Err.NoNode);
    h.create('/e', CreateFlag.ephemeral);
    assert.equal(h.create('/e/child')!.err, Err.NoChildrenForEphemerals);
    assert.equal(h.create('/a/')!.err, Err.BadArguments);
    assert.equal(h.create('/a/./b')!.err, Err.NoNode, 'ZooKeeper looks the parent up before it validates the path');
    assert.equal(h.create('/a/.')!.err, Err.BadArguments);
    assert.equal(h.create('relative')!.err, Err.BadArguments);
    assert.equal(h.create('/bad', 99)!.err, Err.BadArguments);
    const invalidAcl = h.run((p, ctx) => p.create(ctx, { path: '/x', data: null, acl: [], flags: 0 }))!;
    assert.equal(invalidAcl.err, Err.InvalidACL);
    const unknownScheme = h.run((p, ctx) =>
      p.create(ctx, { path: '/x', data: null, acl: [{ perms: 31, id: { scheme: 'nope', id: 'x' } }], flags: 0 }),
    )!;
    assert.equal(unknownScheme.err, Err.InvalidACL);
  });

  test('a failed write still takes a zxid (an error txn), as in ZooKeeper', () => {
    const h = new Harness();
    h.create('/a');
    h.create('/a');
    h.create('/b');
    assert.equal(h.stat('/b').czxid, 3n);
    assert.equal(h.tree.lastProcessedZxid, 3n);
  });

  test('sequential names count child creates; deletes do not advance them (Apache 3.8)', () => {
    const h = new Harness();
    h.create('/q');
    assert.equal(h.create('/q/n-', CreateFlag.persistentSequential)!.path, '/q/n-0000000000');
    h.create('/q/plain');
    h.delete('/q/plain');
    assert.equal(h.stat('/q').cversion, 3, 'the Stat counts creates and deletes');
    assert.equal(h.create('/q/n-', CreateFlag.ephemeralSequential)!.path, '/q/n-0000000002');
    assert.equal(h.create('/q/', CreateFlag.persistentSequential)!.path, '/q/0000000003');
  });

  test('ephemerals are owned by the creating session', () => {
    const h = new Harness();
    h.create('/e', CreateFlag.ephemeral);
    assert.equal(h.stat('/e').ephemeralOwner, SESSION);
    assert.deepEqual([...h.tree.ephemeralsOf(SESSION)], ['/e']);
  });
});

describe('setData and delete', () => {
  test('setData adds 1 to version and sets mzxid; a conditional set passes the version it read', () => {
    const h = new Harness();
    h.create('/a');
    const first = h.setData('/a', 0)!;
    assert.equal(first.err, Err.Ok);
    assert.equal(first.stat!.version, 1);
    assert.equal(first.stat!.mzxid, 2n);
    assert.equal(first.stat!.czxid, 1n);
    assert.equal(h.setData('/a', 0)!.err, Err.BadVersion, 'a stale version is refused');
    assert.equal(h.setData('/a', 2)!.err, Err.BadVersion, 'version + 1 is not the version read');
    assert.equal(h.setData('/a', 1)!.stat!.version, 2);
    assert.equal(h.setData('/a', -1)!.stat!.version, 3, '-1 matches any version');
    assert.equal(h.setData('/missing', -1)!.err, Err.NoNode);
  });

  test('delete checks the version and emptiness, then advances the parent cversion and pzxid', () => {
    const h = new Harness();
    h.create('/p');
    h.create('/p/c');
    assert.equal(h.delete('/p')!.err, Err.NotEmpty);
    assert.equal(h.delete('/p/c', 5)!.err, Err.BadVersion);
    assert.equal(h.delete('/p/c', 0)!.err, Err.Ok);
    const parent = h.stat('/p');
    assert.equal(parent.numChildren, 0);
    assert.equal(parent.cversion, 2);
    assert.equal(parent.pzxid, 5n);
    assert.equal(h.delete('/p/c')!.err, Err.NoNode);
    assert.equal(h.delete('/zookeeper')!.err, Err.BadArguments);
    assert.equal(h.delete('/')!.err, Err.BadArguments);
  });
});

describe('writes in flight', () => {
  test('prep sees earlier writes that are not applied yet', () => {
    const h = new Harness();
    h.hold = true;
    h.create('/a');
    h.create('/a/b');
    h.create('/a');
    h.create('/a/s-', CreateFlag.persistentSequential);
    h.create('/a/s-', CreateFlag.persistentSequential);
    h.setData('/a/b', 0);
    h.setData('/a/b', 0);
    h.delete('/a/b', 2);
    h.delete('/a/b', 1);
    const results = h.flush();
    assert.deepEqual(
      results.map((r) => r.err),
      [Err.Ok, Err.Ok, Err.NodeExists, Err.Ok, Err.Ok, Err.Ok, Err.BadVersion, Err.BadVersion, Err.Ok],
    );
    assert.equal(results[3]!.path, '/a/s-0000000001');
    assert.equal(results[4]!.path, '/a/s-0000000002');
    assert.equal(h.prep.outstandingCount, 0, 'committed txns leave no change records');
    assert.deepEqual(h.tree.childrenOf('/a')!.sort(), ['s-0000000001', 's-0000000002']);
  });
});

describe('sessions', () => {
  test('closeSession deletes the session ephemerals, also those still in flight', () => {
    const h = new Harness();
    h.run(() => ({ type: OpCode.createSession, timeoutMs: 4000 }));
    assert.equal(h.tree.sessions().get(SESSION), 4000);
    h.create('/p');
    h.create('/p/e1', CreateFlag.ephemeral);
    h.hold = true;
    h.create('/p/e2', CreateFlag.ephemeral);
    h.run((p, ctx) => p.closeSession(ctx));
    h.flush();
    assert.equal(h.tree.get('/p/e1'), undefined);
    assert.equal(h.tree.get('/p/e2'), undefined);
    assert.equal(h.tree.sessions().has(SESSION), false);
    assert.equal(h.tree.ephemeralsOf(SESSION).size, 0);
    assert.equal(h.stat('/p').numChildren, 0);
  });

  test('another session ephemerals survive', () => {
    const h = new Harness();
    h.create('/mine', CreateFlag.ephemeral);
    h.create('/theirs', CreateFlag.ephemeral, 'd', 0x200n);
    h.run((p, ctx) => p.closeSession(ctx));
    assert.equal(h.tree.get('/mine'), undefined);
    assert.ok(h.tree.get('/theirs'));
  });
});

describe('tree invariants', () => {
  test('txns must come in increasing zxid order', () => {
    const tree = new DataTree();
    tree.apply({ sessionId: 1n, cxid: 0, zxid: 5n, timeMs: 0, body: { type: OpCode.error, err: Err.NoNode } });
    assert.throws(() => tree.apply({ sessionId: 1n, cxid: 0, zxid: 5n, timeMs: 0, body: { type: OpCode.error, err: 0 } }), /out of order/);
  });

  test('the system nodes exist as in ZooKeeper', () => {
    const tree = new DataTree();
    assert.deepEqual(tree.childrenOf('/')!, ['zookeeper']);
    assert.deepEqual(tree.childrenOf('/zookeeper')!.sort(), ['config', 'quota']);
  });

  test('apply reports watch events: created + parent children, data changed, deleted + parent children', () => {
    const tree = new DataTree();
    const create = tree.apply({
      sessionId: 1n, cxid: 0, zxid: 1n, timeMs: 0,
      body: { type: OpCode.create, path: '/n', data: Buffer.alloc(0), acl: OPEN_ACL_UNSAFE, ephemeralOwner: 0n, parentCVersion: 2 },
    });
    assert.deepEqual(create.events.map(({ type, path }) => ({ type, path })), [{ type: 1, path: '/n' }, { type: 4, path: '/' }]);
    const set = tree.apply({ sessionId: 1n, cxid: 0, zxid: 2n, timeMs: 0, body: { type: OpCode.setData, path: '/n', data: Buffer.from('x'), version: 1 } });
    assert.deepEqual(set.events.map(({ type, path }) => ({ type, path })), [{ type: 3, path: '/n' }]);
    const del = tree.apply({ sessionId: 1n, cxid: 0, zxid: 3n, timeMs: 0, body: { type: OpCode.delete, path: '/n' } });
    assert.deepEqual(del.events.map(({ type, path }) => ({ type, path })), [{ type: 2, path: '/n' }, { type: 4, path: '/' }]);
  });
});

describe('a fresh tree', () => {
  test('system nodes carry the Stats of a fresh Apache ZooKeeper 3.8', () => {
    const tree = new DataTree();
    const stat = (path: string) => statOf(tree.get(path)!);
    assert.equal(stat('/').cversion, -1);
    assert.equal(stat('/').numChildren, 1);
    assert.equal(stat('/zookeeper').cversion, -2);
    assert.equal(stat('/zookeeper/quota').cversion, 0);
    assert.equal(stat('/zookeeper/config').aversion, -1);
    assert.deepEqual(tree.get('/zookeeper/config')!.acl, [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
  });

  test('a sequential node under the root of a fresh tree is numbered 0', () => {
    const h = new Harness();
    assert.equal(h.create('/s-', CreateFlag.persistentSequential)!.path, '/s-0000000000');
    assert.equal(h.stat('/').cversion, 0, 'one create, two children: 2 * 1 - 2');
  });
});

describe('the ACL table', () => {
  test('nodes with equal ACLs share one array, counted; a changed ACL takes its own entry', () => {
    const h = new Harness();
    const before = h.tree.acls.size;
    h.create('/a');
    h.create('/b');
    assert.equal(h.tree.get('/a')!.acl, h.tree.get('/b')!.acl, 'one shared array');
    assert.equal(h.tree.acls.size, before);
    h.run((p, ctx) => p.setACL(ctx, { path: '/a', acl: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }], version: -1 }));
    assert.equal(h.tree.acls.size, before, 'READ-only world is already used by /zookeeper/config');
    h.run((p, ctx) => p.setACL(ctx, { path: '/b', acl: [{ perms: 3, id: { scheme: 'world', id: 'anyone' } }], version: -1 }));
    assert.equal(h.tree.acls.size, before + 1);
    h.delete('/b');
    assert.equal(h.tree.acls.size, before, 'an ACL no node uses any more leaves the table');
    assert.throws(() => (h.tree.get('/a')!.acl as { perms: number }[]).push({ perms: 1 }), 'shared arrays cannot be changed');
  });
});

describe('the ensemble configuration in /zookeeper/config', () => {
  const config = (text: string): Buffer => Buffer.from(text, 'utf8');
  const MINE = 'server.1=127.0.0.1:2888:3888:participant\nserver.2=127.0.0.1:2889:3889:participant\nversion=0';
  const READ_ONLY = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];

  test('a member\'s configuration shows with the Stat a ZooKeeper 3.8 member gives it (mtime aside)', () => {
    const tree = new DataTree();
    tree.setLocalConfig(config(MINE), 0n);
    const node = tree.get('/zookeeper/config')!;
    assert.equal(node.data.toString('utf8'), MINE);
    assert.deepEqual(statOf(node), {
      czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: -1, cversion: 0, aversion: -1,
      ephemeralOwner: 0n, dataLength: Buffer.byteLength(MINE), numChildren: 0, pzxid: 0n,
    });
    assert.deepEqual(node.acl, READ_ONLY);
    assert.equal(tree.lastProcessedZxid, 0n, 'no txn');
    tree.setLocalConfig(config(MINE), 0x100000000n);
    assert.equal(tree.get('/zookeeper/config')!.mzxid, 0x100000000n, 'mzxid is the configuration\'s version');
  });

  test('a SNAP from the leader leaves this member\'s configuration in place, with the same Stat as the leader\'s', async () => {
    const leader = new Harness();
    leader.tree.setLocalConfig(config(MINE), 0n);
    leader.create('/a');
    leader.setData('/a', -1, 'x');
    const learner = new DataTree();
    learner.setLocalConfig(config(MINE), 0n);
    learner.replaceWith(parseSnapshotBytes(await snapshotToBuffer(leader.tree, false), 'test').tree);
    assert.deepEqual(statOf(learner.get('/zookeeper/config')!), statOf(leader.tree.get('/zookeeper/config')!));
    assert.equal(learner.get('/zookeeper/config')!.data.toString('utf8'), MINE);
    assert.equal(learner.get('/a')!.data.toString(), 'x');

    // A leader that wrote its hosts otherwise: each member shows its own zoo.cfg, as ZooKeeper's.
    const other = new DataTree();
    other.setLocalConfig(config('server.1=localhost:2888:3888:participant\nversion=0'), 0n);
    learner.replaceWith(parseSnapshotBytes(await snapshotToBuffer(other, false), 'test').tree);
    assert.equal(learner.get('/zookeeper/config')!.data.toString('utf8'), MINE);
  });

  test('a snapshot without the node (written before it existed) gets it back', () => {
    const records = [...new DataTree().entries()]
      .filter(([path]) => path !== '/zookeeper/config')
      .map(([path, node]) => ({ ...node, path }));
    const tree = DataTree.restore(records, [], 5n);
    assert.equal(tree.get('/zookeeper/config'), undefined);
    tree.setLocalConfig(config(MINE), 0n);
    assert.deepEqual(tree.childrenOf('/zookeeper')!.sort(), ['config', 'quota']);
    assert.equal(statOf(tree.get('/zookeeper/config')!).aversion, -1);
    assert.deepEqual(tree.get('/zookeeper/config')!.acl, READ_ONLY);
  });
});
