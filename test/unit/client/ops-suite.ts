/**
 * The client's operations against a real server, as a suite that runs against Paddock
 * (ops.test.ts) and, when it is installed, against Apache ZooKeeper (apache.test.ts): the
 * client must work with the reference, and Paddock must answer like it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test as nodeTest } from 'node:test';
import type { TestContext } from 'node:test';
import { CREATOR_ALL_ACL, OPEN_ACL_UNSAFE, Perm, READ_ACL_UNSAFE, ZooKeeperClient, ZooKeeperError } from '../../../src/client/index.js';
import { rejectsWith, uniquePath } from './helpers.js';

export interface Target {
  name: string;
  start(): Promise<{ connectString: string; stop(): Promise<void> }>;
  /** Tests this server cannot pass, by title, with the reason (its known gaps): run as `todo`. */
  todo?: Record<string, string>;
  /** Tests that do not apply to this server, by title, with the reason. */
  skip?: Record<string, string>;
}

const isCode = (error: unknown, codeName: string): boolean => error instanceof ZooKeeperError && error.codeName === codeName;

export function defineOpsSuite(target: Target): void {
  const test = (title: string, run: (t: TestContext) => Promise<void>): void => {
    void nodeTest(title, { todo: target.todo?.[title], skip: target.skip?.[title] }, run);
  };
  void describe(`client ops against ${target.name}`, { timeout: 60_000 }, () => {
    let server: { connectString: string; stop(): Promise<void> };
    let zk: ZooKeeperClient;
    const connect = (): Promise<ZooKeeperClient> => ZooKeeperClient.connect({ connectString: server.connectString, sessionTimeoutMs: 4000 });

    before(async () => {
      server = await target.start();
      zk = await connect();
    });
    after(async () => {
      await zk?.close();
      await server?.stop();
    });

    test('create, getData, exists of a persistent node', async () => {
      const path = uniquePath('plain');
      assert.equal(await zk.create(path, 'hello'), path);
      const { data, stat } = await zk.getData(path);
      assert.equal(data.toString(), 'hello');
      assert.equal(stat.version, 0);
      assert.equal(stat.cversion, 0);
      assert.equal(stat.aversion, 0);
      assert.equal(stat.dataLength, 5);
      assert.equal(stat.numChildren, 0);
      assert.equal(stat.ephemeralOwner, 0n);
      assert.equal(stat.czxid, stat.mzxid);
      assert.equal(stat.czxid, stat.pzxid);
      assert.deepEqual(await zk.exists(path), stat);
      assert.equal(await zk.exists(`${path}-missing`), null);
      const empty = uniquePath('empty');
      await zk.create(empty);
      assert.equal((await zk.getData(empty)).data.length, 0);
    });

    test('binary and large data round-trip', async () => {
      const path = uniquePath('binary');
      const bytes = Buffer.alloc(1000 * 1000);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
      await zk.create(path, bytes);
      assert.ok((await zk.getData(path)).data.equals(bytes));
      await zk.setData(path, Buffer.from([0, 255, 1]));
      assert.deepEqual([...(await zk.getData(path)).data], [0, 255, 1]);
    });

    test('create errors: NodeExists, NoNode parent, NoChildrenForEphemerals, BadArguments', async () => {
      const path = uniquePath('errors');
      await zk.create(path);
      const exists = await rejectsWith(zk.create(path), 'NodeExists');
      assert.equal(exists.code, -110);
      assert.equal(exists.path, path);
      await rejectsWith(zk.create(`${path}/missing/child`), 'NoNode');
      await zk.create(`${path}/eph`, '', { mode: 'ephemeral' });
      await rejectsWith(zk.create(`${path}/eph/child`), 'NoChildrenForEphemerals');
      await rejectsWith(zk.create('relative'), 'BadArguments');
      await rejectsWith(zk.create(`${path}/`), 'BadArguments');
      await rejectsWith(zk.getData(`${path}//x`), 'BadArguments');
      await rejectsWith(zk.create(`${path}/x`, '', { mode: 'nonsense' as 'persistent' }), 'BadArguments');
    });

    test('sequential names are the parent cversion, zero-padded to 10 digits', async () => {
      const parent = uniquePath('seq');
      await zk.create(parent);
      assert.equal(await zk.create(`${parent}/n-`, '', { mode: 'persistentSequential' }), `${parent}/n-0000000000`);
      assert.equal(await zk.create(`${parent}/n-`, '', { mode: 'ephemeralSequential' }), `${parent}/n-0000000001`);
      await zk.create(`${parent}/plain`);
      // A trailing slash is allowed for sequential nodes; numeric flags work as modes.
      assert.equal(await zk.create(`${parent}/`, '', { mode: 2 }), `${parent}/0000000003`);
      const { stat } = await zk.getChildren2(parent);
      assert.equal(stat.cversion, 4);
      assert.equal(stat.numChildren, 4);
    });

    test('ephemerals belong to the session; getEphemerals lists them', async () => {
      const parent = uniquePath('eph');
      await zk.create(parent);
      const created = await zk.create2(`${parent}/e`, 'x', { mode: 'ephemeral' });
      assert.equal(created.path, `${parent}/e`);
      assert.equal(created.stat.ephemeralOwner, zk.sessionId);
      assert.equal(created.stat.version, 0);
      assert.equal(created.stat.dataLength, 1);
      const seq = await zk.create(`${parent}/s-`, '', { mode: 'ephemeralSequential' });
      // ZooKeeper lists them in no particular order.
      assert.deepEqual((await zk.getEphemerals(parent)).sort(), [`${parent}/e`, seq].sort());
      assert.ok((await zk.getEphemerals()).includes(`${parent}/e`));
    });

    test('setData versions: each write adds one; a conditional write passes the version read', async () => {
      const path = uniquePath('versions');
      await zk.create(path, 'v0');
      assert.equal((await zk.setData(path, 'v1')).version, 1);
      const stat = await zk.setData(path, 'v2', 1);
      assert.equal(stat.version, 2);
      assert.equal(stat.dataLength, 2);
      assert.ok(stat.mzxid > stat.czxid);
      const bad = await rejectsWith(zk.setData(path, 'v3', 1), 'BadVersion');
      assert.equal(bad.code, -103);
      await rejectsWith(zk.setData(`${path}-missing`, 'x'), 'NoNode');
      assert.equal((await zk.getData(path)).data.toString(), 'v2');
    });

    test('delete: BadVersion, NotEmpty, NoNode, then gone', async () => {
      const path = uniquePath('delete');
      await zk.create(path);
      await zk.create(`${path}/child`);
      await rejectsWith(zk.delete(path), 'NotEmpty');
      await zk.setData(`${path}/child`, 'x');
      await rejectsWith(zk.delete(`${path}/child`, 0), 'BadVersion');
      await zk.delete(`${path}/child`, 1);
      await zk.delete(path, 0);
      assert.equal(await zk.exists(path), null);
      await rejectsWith(zk.delete(path), 'NoNode');
    });

    test('getChildren and getChildren2 with cversion, pzxid, numChildren', async () => {
      const parent = uniquePath('children');
      await zk.create(parent);
      assert.deepEqual(await zk.getChildren(parent), []);
      await zk.create(`${parent}/b`);
      await zk.create(`${parent}/a`);
      await zk.create(`${parent}/c`);
      await zk.delete(`${parent}/c`);
      const deleteZxid = zk.lastZxidSeen;
      assert.deepEqual((await zk.getChildren(parent)).sort(), ['a', 'b']);
      const { children, stat } = await zk.getChildren2(parent);
      assert.deepEqual(children.sort(), ['a', 'b']);
      assert.equal(stat.numChildren, 2);
      assert.equal(stat.cversion, 4);
      assert.equal(stat.version, 0);
      assert.equal(stat.pzxid, deleteZxid);
      await rejectsWith(zk.getChildren(`${parent}/missing`), 'NoNode');
      await rejectsWith(zk.getChildren2(`${parent}/missing`), 'NoNode');
    });

    test('getACL and setACL count aversion', async () => {
      const path = uniquePath('acl');
      await zk.create(path);
      const first = await zk.getACL(path);
      assert.deepEqual(first.acl, [...OPEN_ACL_UNSAFE]);
      assert.equal(first.stat.aversion, 0);
      await rejectsWith(zk.setACL(path, READ_ACL_UNSAFE, 1), 'BadVersion');
      const stat = await zk.setACL(path, READ_ACL_UNSAFE, 0);
      assert.equal(stat.aversion, 1);
      const second = await zk.getACL(path);
      assert.deepEqual(second.acl, [{ perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }]);
      await rejectsWith(zk.getACL(`${path}-missing`), 'NoNode');
    });

    test('check succeeds on the version read and fails otherwise', async () => {
      const path = uniquePath('check');
      await zk.create(path);
      await zk.check(path, 0);
      await zk.setData(path, 'x');
      await rejectsWith(zk.check(path, 0), 'BadVersion');
      await zk.check(path, 1);
      await rejectsWith(zk.check(`${path}-missing`, 0), 'NoNode');
    });

    test('sync, then a read sees every write that completed before it', async () => {
      const path = uniquePath('sync');
      const other = await connect();
      try {
        await other.create(path, 'from other');
        await zk.sync(path);
        assert.equal((await zk.getData(path)).data.toString(), 'from other');
      } finally {
        await other.close();
      }
    });

    test('getAllChildrenNumber counts every descendant', async () => {
      const root = uniquePath('count');
      await zk.create(root);
      await zk.create(`${root}/a`);
      await zk.create(`${root}/a/b`);
      await zk.create(`${root}/c`);
      assert.equal(await zk.getAllChildrenNumber(root), 3);
      assert.equal(await zk.getAllChildrenNumber(`${root}/a`), 1);
      await rejectsWith(zk.getAllChildrenNumber(`${root}/missing`), 'NoNode');
    });

    test('whoAmI lists the ip identity, then the digest user name after addAuth', async () => {
      const client = await connect();
      try {
        const before = await client.whoAmI();
        assert.deepEqual(before, [{ authScheme: 'ip', user: '127.0.0.1' }]);
        await client.addAuth('digest', 'alice:secret');
        const after = await client.whoAmI();
        const sorted = [...after].sort((a, b) => a.authScheme.localeCompare(b.authScheme));
        assert.deepEqual(sorted, [
          { authScheme: 'digest', user: 'alice' },
          { authScheme: 'ip', user: '127.0.0.1' },
        ]);
      } finally {
        await client.close();
      }
    });

    test('addAuth digest: the creator ACL lets only that identity in', async () => {
      const client = await connect();
      const stranger = await connect();
      try {
        await client.addAuth('digest', 'alice:secret');
        const path = uniquePath('private');
        await client.create(path, 'mine', { acl: CREATOR_ALL_ACL });
        const { acl } = await client.getACL(path);
        assert.equal(acl.length, 1);
        assert.equal(acl[0]!.id.scheme, 'digest');
        assert.ok(acl[0]!.id.id.startsWith('alice:'));
        assert.equal((await client.getData(path)).data.toString(), 'mine');
        await rejectsWith(stranger.getData(path), 'NoAuth');
        await rejectsWith(stranger.setData(path, 'theirs'), 'NoAuth');
        await stranger.addAuth('digest', 'alice:secret');
        assert.equal((await stranger.getData(path)).data.toString(), 'mine');
      } finally {
        await client.close();
        await stranger.close();
      }
    });

    test('a sequential name after a child was deleted', async () => {
      // Apache ZooKeeper 3.8 names the next child from the cversion its prep stage sees, which
      // a delete does not raise, although the Stat's cversion counts the delete.
      const parent = uniquePath('seq-after-delete');
      await zk.create(parent);
      await zk.create(`${parent}/a`);
      await zk.create(`${parent}/b`);
      await zk.delete(`${parent}/b`);
      assert.equal((await zk.getChildren2(parent)).stat.cversion, 3);
      assert.equal(await zk.create(`${parent}/s-`, '', { mode: 'persistentSequential' }), `${parent}/s-0000000002`);
    });

    test('addAuth with an unknown scheme rejects with AuthFailed; the client reconnects', async () => {
      const client = await connect();
      try {
        const sessionId = client.sessionId;
        await rejectsWith(client.addAuth('nosuchscheme', 'x'), 'AuthFailed');
        // The server drops the connection after AuthFailed; the session goes on over a new one.
        const path = uniquePath('after-authfailed');
        let created: string | undefined;
        for (let attempt = 0; attempt < 50 && created === undefined; attempt++) {
          created = await client.create(path).catch((error: unknown) => {
            if (isCode(error, 'ConnectionLoss')) return undefined;
            throw error;
          });
        }
        assert.equal(created, path);
        assert.equal(client.sessionId, sessionId);
      } finally {
        await client.close();
      }
    });

    test('multiRead returns data, children and per-op errors', async () => {
      const path = uniquePath('multiread');
      await zk.create(path, 'd');
      await zk.create(`${path}/k`);
      const results = await zk.multiRead([
        { type: 'getData', path },
        { type: 'getChildren', path },
        { type: 'getData', path: `${path}/missing` },
      ]);
      assert.equal(results.length, 3);
      const [data, children, missing] = results;
      assert.equal(data?.type, 'getData');
      if (data?.type === 'getData') assert.equal(data.data.toString(), 'd');
      assert.deepEqual(children, { type: 'getChildren', children: ['k'] });
      assert.deepEqual(missing, { type: 'error', code: -101, codeName: 'NoNode' });
    });

    test('multi applies all ops or none', async () => {
      const path = uniquePath('multi');
      await zk.create(path, 'start');
      const results = await zk.multi([
        { type: 'check', path, version: 0 },
        { type: 'create', path: `${path}/a`, data: 'a' },
        { type: 'create', path: `${path}/s-`, mode: 'persistentSequential' },
        { type: 'setData', path, data: 'next', version: 0 },
        { type: 'delete', path: `${path}/a` },
      ]);
      assert.equal(results.length, 5);
      assert.deepEqual(results[0], { type: 'check' });
      assert.deepEqual(results[1], { type: 'create', path: `${path}/a` });
      assert.deepEqual(results[2], { type: 'create', path: `${path}/s-0000000001` });
      assert.equal(results[3]?.type, 'setData');
      if (results[3]?.type === 'setData') assert.equal(results[3].stat.version, 1);
      assert.deepEqual(results[4], { type: 'delete' });
    });

    test('a failing multi applies nothing and reports every op', async () => {
      const path = uniquePath('multi-fail');
      await zk.create(path, 'next');
      await zk.setData(path, 'next');
      assert.deepEqual(await zk.multi([{ type: 'check', path, version: 1 }]), [{ type: 'check' }]);
      const failure = await rejectsWith(
        zk.multi([
          { type: 'create', path: `${path}/b` },
          { type: 'check', path, version: 0 },
          { type: 'delete', path: `${path}/nothing` },
        ]),
        'BadVersion',
      );
      assert.equal(failure.path, path);
      assert.deepEqual(
        failure.results?.map((result) => (result.type === 'error' ? result.codeName : result.type)),
        ['Ok', 'BadVersion', 'RuntimeInconsistency'],
      );
      assert.equal(await zk.exists(`${path}/b`), null);
      assert.equal((await zk.getData(path)).data.toString(), 'next');
    });
  });
}
