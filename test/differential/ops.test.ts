/**
 * Hand-written differential scripts, one test per op family, each covering every error code
 * Apache ZooKeeper 3.8 gives for it (assertCovers checks ZooKeeper really gave them): the same
 * script runs on Paddock and on ZooKeeper and the traces must agree, step by step.
 */
import { describe, test } from 'node:test';
import {
  create,
  create2,
  createRaw,
  del,
  exists,
  getAllChildrenNumber,
  getChildren,
  getChildren2,
  getData,
  getEphemerals,
  m,
  multi,
  multiRead,
  on,
  reopen,
  script,
  setData,
  sync,
  addAuth,
} from './dsl.js';
import { SKIP_WITHOUT_ZOOKEEPER, pairForSuite, assertCovers } from './servers.js';

const OP = { create: 1, create2: 15, createContainer: 19, createTTL: 21 } as const;

void describe('differential: hand-written scripts per op', { skip: SKIP_WITHOUT_ZOOKEEPER, timeout: 120_000 }, () => {
  const pair = pairForSuite({ extendedTypes: true });

  void test('create and create2: every mode, sequence numbers, every error', async () => {
    const trace = await pair.expectSame(
      script(
        on(0, create2('a', { data: 'hello' })),
        on(0, create('a')), // NodeExists
        on(0, create('missing/x')), // NoNode
        on(0, create2('a/e', { mode: 'ephemeral' })),
        on(0, create('a/e/child')), // NoChildrenForEphemerals
        on(0, create('a/e/', { mode: 'persistentSequential' })), // NoChildrenForEphemerals (sequential)
        on(0, create2('a/s-', { mode: 'persistentSequential' })),
        on(0, create2('a/s-', { mode: 'ephemeralSequential' })),
        on(0, del('a/s-0000000003')),
        on(0, create2('a/s-', { mode: 'persistentSequential' })), // the counter is cversion: 5, not 4
        on(0, create2('a/', { mode: 'persistentSequential', data: 'x' })), // a trailing slash is fine for sequential
        on(0, create('a/')), // ... and not otherwise: BadArguments
        on(0, create2('c', { mode: 'container' })),
        on(0, create2('t', { mode: 'persistentWithTtl' })),
        on(0, create2('t/q-', { mode: 'persistentSequentialWithTtl' })),
        on(0, create2('c/x', { mode: 'ephemeral' })),
        on(0, create('b', { acl: 'empty' })), // InvalidACL
        on(0, create('b', { acl: 'creator' })), // InvalidACL: no authenticated id
        on(0, create2('n', { acl: 'noCreate' })),
        on(0, create('n/x')), // NoAuth
        on(0, create('n/x', { acl: 'empty' })), // InvalidACL comes before the parent's NoAuth
        on(0, create('missing/x', { acl: 'empty' })), // ... and before NoNode
        on(0, create('^/zookeeper')), // NodeExists on the reserved node
        on(0, create('^')), // BadArguments: empty path
        on(0, create('^relative')), // BadArguments
        on(0, create('a//x')), // BadArguments
        on(0, create('a/./x')),
        on(0, create('a/../x')),
        on(0, create('a/x\u0000y')),
        on(0, create('a/\u0001')),
        on(0, create('a/\ue000')),
        on(0, getChildren2('a'), getChildren2('')),
      ),
    );
    assertCovers(trace, ['NodeExists', 'NoNode', 'NoChildrenForEphemerals', 'BadArguments', 'InvalidACL', 'NoAuth']);
  });

  // Not here (README.md, "Excluded"): a create op whose flags say container, or a
  // createContainer op whose flags do not: ZooKeeper takes them and makes a plain node.
  void test('create on the wire: flags, op codes and TTLs no client sends', async () => {
    const day = 86_400_000;
    const trace = await pair.expectSame(
      script(
        on(0, createRaw(OP.create, 'f7', 7)), // unknown flags: BadArguments
        on(0, createRaw(OP.create, 'fneg', -1)),
        on(0, createRaw(OP.create2, 'f100', 100)),
        on(0, createRaw(OP.create, 't1', 5)), // TTL flags without a TTL
        on(0, createRaw(OP.createTTL, 't2', 0, day)), // a TTL with persistent flags
        on(0, createRaw(OP.createTTL, 't3', 5, 0)), // TTL 0
        on(0, createRaw(OP.createTTL, 't4', 5, -5)),
        on(0, createRaw(OP.createTTL, 't5', 5, 2 ** 40)), // beyond the largest TTL
        on(0, createRaw(OP.createTTL, 't6', 5, 2 ** 40 - 1)),
        on(0, createRaw(OP.createTTL, 't7-', 6, 1)),
        on(0, createRaw(OP.createTTL, 't8', 1, day)), // TTL with ephemeral flags
        on(0, getChildren2('')),
      ),
    );
    assertCovers(trace, ['BadArguments']);
  });

  void test('delete: versions, every error, reserved paths', async () => {
    const trace = await pair.expectSame(
      script(
        on(0, create2('a'), create2('a/x'), create2('b'), create2('e', { mode: 'ephemeral' })),
        on(0, setData('b', 'one')),
        on(0, del('a')), // NotEmpty
        on(0, del('a', 7)), // BadVersion comes before NotEmpty
        on(0, del('missing')), // NoNode
        on(0, del('missing/x')), // NoNode (parent)
        on(0, del('b', 0)), // BadVersion
        on(0, del('b', 'v')), // the version last read (1)
        on(0, del('a/x', 0), del('a', 0)),
        on(1, del('e')), // another session may delete an ephemeral
        on(0, create2('n', { acl: 'noDelete' }), create2('n/x')),
        on(0, del('n/x')), // NoAuth: the parent's DELETE permission counts
        on(0, del('n')), // the node's own ACL does not
        on(0, del('^/')), // BadArguments: reserved
        on(0, del('^/zookeeper')),
        on(0, del('^/zookeeper/quota')),
        on(0, del('^/zookeeper/config')),
        on(0, del('^')),
        on(0, del('^relative')),
        on(0, del('a//b')), // the parent "<root>/a/" does not exist: NoNode, not BadArguments
        on(0, del('a/')),
        on(0, del('x\u0000')),
        on(0, getChildren2('')),
      ),
    );
    assertCovers(trace, ['NotEmpty', 'BadVersion', 'NoNode', 'NoAuth', 'BadArguments']);
  });

  void test('exists, getData, getChildren, getChildren2: results, NoNode, NoAuth, invalid paths', async () => {
    const trace = await pair.expectSame(
      script(
        on(0, create('a', { data: 'hello' }), create('a/y'), create('a/x'), create('a/z', { mode: 'ephemeral' })),
        on(0, exists('a'), getData('a'), getChildren('a'), getChildren2('a')),
        on(0, exists('missing'), getData('missing'), getChildren('missing'), getChildren2('missing')),
        on(0, create('r', { acl: 'noRead', data: 'secret' })),
        on(0, exists('r'), getData('r'), getChildren('r'), getChildren2('r')), // exists needs no permission (3.8.0)
        on(0, exists('a/z'), getData('a/z')),
        on(0, exists('a//b'), getData('a/'), getChildren('^relative'), getChildren2('a/./x')),
        on(0, exists('a\u0000b')), // exists alone checks for NUL: BadArguments
        on(0, getData('a\u0000b')),
        on(0, exists('^/zookeeper'), getData('^/zookeeper'), getChildren('^/zookeeper')),
        on(0, exists('^/zookeeper/quota'), getData('^/zookeeper/quota'), getChildren2('^/zookeeper/quota')),
        on(0, exists('^/zookeeper/config'), getData('^/zookeeper/config')),
      ),
    );
    assertCovers(trace, ['NoNode', 'NoAuth', 'BadArguments']);
  });

  void test('setData: versions, Stats, every error', async () => {
    const trace = await pair.expectSame(
      script(
        on(0, create2('a', { data: 'x' })),
        on(0, setData('a', 'hello')),
        on(0, setData('a', 'again', 1)),
        on(0, setData('a', 'stale', 1)), // BadVersion
        on(0, setData('a', 'next', 'v')),
        on(0, setData('a', 'skip', 'v+1')), // BadVersion
        on(0, setData('a', '', -1)),
        on(0, setData('missing', 'x')), // NoNode
        on(0, setData('missing', 'x', 3)),
        on(0, create2('w', { acl: 'noWrite' })),
        on(0, setData('w', 'x')), // NoAuth
        on(0, setData('w', 'x', 9)), // NoAuth comes before BadVersion
        on(0, setData('a/', 'x')), // BadArguments
        on(0, setData('^', 'x')),
        on(0, setData('^/zookeeper/config', 'x')), // NoAuth: read-only ACL
        on(0, getData('a'), getChildren2('')),
      ),
    );
    assertCovers(trace, ['BadVersion', 'NoNode', 'NoAuth', 'BadArguments']);
  });

  void test('sync: existing, missing and invalid paths', async () => {
    await pair.expectSame(script(on(0, create('a')), on(0, sync('a'), sync('missing'), sync('')), on(0, sync('a//b'), sync('^relative'), sync('a\ue000'), sync('^'))));
  });

  void test('getAllChildrenNumber and getEphemerals', async () => {
    const trace = await pair.expectSame(
      script(
        on(0, create('a'), create('a/x'), create('a/x/y'), create('a/q-', { mode: 'ephemeralSequential' }), create('b', { mode: 'ephemeral' })),
        on(1, create('a/q-', { mode: 'ephemeralSequential' }), create('c', { mode: 'ephemeral' })),
        on(0, getAllChildrenNumber(''), getAllChildrenNumber('a'), getAllChildrenNumber('a/x/y'), getAllChildrenNumber('missing')),
        on(0, create('r', { acl: 'noRead' }), create('r/x')),
        on(0, getAllChildrenNumber('r')), // NoAuth
        on(0, getAllChildrenNumber('a//')),
        on(0, getEphemerals('^/'), getEphemerals(''), getEphemerals('a'), getEphemerals('a/q'), getEphemerals('a/q-0000000003'), getEphemerals('zzz')),
        on(1, getEphemerals('^/'), getEphemerals('a/')),
        on(0, getEphemerals('^'), getEphemerals('^relative')),
        on(1, reopen()),
        on(1, getEphemerals('^/')),
        on(0, getEphemerals('^/'), getAllChildrenNumber('')),
      ),
    );
    assertCovers(trace, ['NoNode', 'NoAuth']);
  });

  void test('multi: results of every op, every failure code, all or nothing', async () => {
    const trace = await pair.expectSame(
      script(
        on(0, multi()),
        on(0, multi(m.create('a', { data: 'x' }), m.create('a/q-', { mode: 'persistentSequential' }), m.setData('a', 'y', 0), m.check('a', 1), m.create('a/e', { mode: 'ephemeral' }))),
        on(0, getChildren2('a'), getData('a')),
        on(0, multi(m.create('c', { mode: 'container' }), m.create('t', { mode: 'persistentWithTtl' }), m.create('c/x'), m.del('c/x'))),
        on(0, multi(m.create('b'), m.del('b'), m.create('b', { data: 'again' }))),
        on(0, multi(m.create('z'), m.create('a'), m.create('y'))), // NodeExists: nothing applied
        on(0, multi(m.setData('a', 'n'), m.del('missing'))), // NoNode
        on(0, multi(m.check('a', 7))), // BadVersion via check
        on(0, multi(m.setData('a', 'n', 9))),
        on(0, multi(m.del('a', 0))),
        on(0, multi(m.del('a'))), // NotEmpty
        on(0, multi(m.create('a/e/x'))), // NoChildrenForEphemerals
        on(0, multi(m.create('n', { acl: 'empty' }))), // InvalidACL
        on(0, create('w', { acl: 'read' })),
        on(0, multi(m.setData('w', 'x'))), // NoAuth
        on(0, multi(m.check('w', 0), m.check('w', 'v'))), // check needs READ only
        on(0, create('nr', { acl: 'noRead' })),
        on(0, multi(m.check('nr', 0))), // check: NoAuth without READ
        on(0, multi(m.create('a/'), m.create('k'))), // BadArguments
        on(0, multi(m.check('a//x', 0))),
        on(0, multi(m.del('^/zookeeper'))),
        on(0, getChildren2(''), getChildren2('a')),
      ),
    );
    assertCovers(trace, ['NodeExists', 'NoNode', 'BadVersion', 'NotEmpty', 'NoChildrenForEphemerals', 'InvalidACL', 'NoAuth', 'BadArguments', 'RuntimeInconsistency']);
  });

  void test('multiRead: per-op results and errors, no atomicity', async () => {
    const trace = await pair.expectSame(
      script(
        on(0, create('a', { data: 'x' }), create('a/x'), create('r', { acl: 'noRead', data: 's' })),
        on(0, multiRead()),
        on(0, multiRead(m.getData('a'), m.getChildren('a'), m.getData('missing'), m.getChildren('missing'), m.getData('r'), m.getChildren('r'))),
        on(0, multiRead(m.getData('a//'), m.getChildren('^relative'))),
      ),
    );
    assertCovers(trace, ['NoNode', 'NoAuth']);
  });

  void test('pipelined requests of one session are answered in order, each seeing the ones before', async () => {
    await pair.expectSame(
      script(
        on(0, create('a'), setData('a', 'x', 0), getData('a'), del('a', 1), exists('a'), create('a/x'), create('a'), getChildren2('a')),
        on(0, create('b', { mode: 'ephemeral' }), create('b/x'), multi(m.create('c'), m.create('c/d')), getAllChildrenNumber('')),
        on(1, setData('c', 'y'), setData('c', 'z', 1), setData('c', 'w', 1), getData('c')),
      ),
    );
  });

  void test('sessions: closing one deletes its ephemerals, seen from another', async () => {
    await pair.expectSame(
      script(
        on(0, create('a'), create('a/e1', { mode: 'ephemeral' }), create('a/q-', { mode: 'ephemeralSequential' }), create('p', { mode: 'ephemeral' })),
        on(1, getChildren2('a'), exists('p'), exists('a/e1')),
        on(0, reopen()),
        on(1, getChildren2('a'), exists('p'), getEphemerals('^/')),
        on(0, create('a/e1', { mode: 'ephemeral' })),
        on(1, exists('a/e1')),
      ),
    );
  });

  void test('addAuth with a scheme the server does not know: AuthFailed, the session goes on', async () => {
    const trace = await pair.expectSame(script(on(0, create('a')), on(0, addAuth('x', 'nosuchscheme')), on(0, getData('a'), create('b'))));
    assertCovers(trace, ['AuthFailed']);
  });
});

void describe('differential: extended types disabled', { skip: SKIP_WITHOUT_ZOOKEEPER, timeout: 60_000 }, () => {
  const pair = pairForSuite({ extendedTypes: false });

  void test('TTL creates are Unimplemented; containers still work', async () => {
    const trace = await pair.expectSame(
      script(
        on(0, create2('t', { mode: 'persistentWithTtl' })),
        on(0, create2('t-', { mode: 'persistentSequentialWithTtl' })),
        on(0, multi(m.create('t3', { mode: 'persistentWithTtl' }))),
        on(0, create2('c', { mode: 'container' })),
        on(0, getChildren2('')),
      ),
    );
    assertCovers(trace, ['Unimplemented']);
  });
});
