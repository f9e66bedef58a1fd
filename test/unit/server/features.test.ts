/**
 * Server features past the basic ops, through the project's client against an in-process
 * server: multi, permission checks, containers and TTL nodes, four-letter words.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ZooKeeperClient, ZooKeeperError, Perm } from '../../../src/client/index.js';
import { digestId } from '../../../src/acl/index.js';
import { fourLetterWord, startInProcess } from '../../support/paddock.js';
import type { InProcessPaddock } from '../../support/paddock.js';

let paddock: InProcessPaddock;
let zk: ZooKeeperClient;
const clients: ZooKeeperClient[] = [];

before(async () => {
  paddock = await startInProcess({
    extendedTypesEnabled: 'true',
    'znode.container.checkIntervalMs': '50',
    'DigestAuthenticationProvider.superDigest': digestId('super:secret'),
  });
  zk = await connect();
});
after(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await paddock.stop();
});

async function connect(): Promise<ZooKeeperClient> {
  const client = await ZooKeeperClient.connect({ connectString: paddock.connectString, sessionTimeoutMs: 2000 });
  clients.push(client);
  return client;
}

async function rejectsWith(promise: Promise<unknown>, codeName: string): Promise<ZooKeeperError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ZooKeeperError, String(error));
    assert.equal(error.codeName, codeName);
    return error;
  }
  assert.fail(`expected ${codeName}`);
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes. */
async function eventually(condition: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 1000; attempt++) {
    if (await condition()) return;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`condition not met within ${timeoutMs} ms`);
}

describe('multi', () => {
  test('a failing multi changes nothing and reports Ok, the error, then RuntimeInconsistency', async () => {
    await zk.create('/m', 'v0');
    const failure = await rejectsWith(
      zk.multi([
        { type: 'create', path: '/m/a' },
        { type: 'setData', path: '/m', data: 'x', version: 7 },
        { type: 'delete', path: '/m/none' },
      ]),
      'BadVersion',
    );
    assert.deepEqual(
      failure.results?.map((r) => (r.type === 'error' ? r.codeName : r.type)),
      ['Ok', 'BadVersion', 'RuntimeInconsistency'],
    );
    assert.equal(await zk.exists('/m/a'), null);
    assert.equal((await zk.getData('/m')).stat.version, 0);
  });

  test('later ops see earlier ones, and a sequential create in a multi is numbered', async () => {
    const results = await zk.multi([
      { type: 'create', path: '/mm' },
      { type: 'create', path: '/mm/s-', mode: 'persistentSequential' },
      { type: 'setData', path: '/mm', data: 'd', version: 0 },
      { type: 'check', path: '/mm', version: 1 },
    ]);
    assert.deepEqual(results[1], { type: 'create', path: '/mm/s-0000000000' });
    assert.equal((await zk.getData('/mm')).data.toString(), 'd');
  });
});

describe('permissions', () => {
  test('digest ACLs: others get NoAuth, the owner and the super user pass', async () => {
    const owner = await connect();
    await owner.addAuth('digest', 'alice:pw');
    await owner.create('/secret', 'shh', { acl: [{ perms: Perm.ALL, id: { scheme: 'auth', id: '' } }] });
    const { acl } = await owner.getACL('/secret');
    assert.deepEqual(acl, [{ perms: Perm.ALL, id: { scheme: 'digest', id: digestId('alice:pw') } }]);
    const stranger = await connect();
    await rejectsWith(stranger.getData('/secret'), 'NoAuth');
    await rejectsWith(stranger.setData('/secret', 'x'), 'NoAuth');
    await rejectsWith(stranger.create('/secret/child'), 'NoAuth');
    await rejectsWith(stranger.getACL('/secret'), 'NoAuth');
    assert.ok(await stranger.exists('/secret'), 'exists needs no permission');
    const admin = await connect();
    await admin.addAuth('digest', 'super:secret');
    assert.equal((await admin.getData('/secret')).data.toString(), 'shh');
  });

  test('read-only ACL and ip ACLs with CIDR masks', async () => {
    await zk.create('/ro', 'r', { acl: [{ perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }] });
    await rejectsWith(zk.setData('/ro', 'w'), 'NoAuth');
    await rejectsWith(zk.create('/ro/child'), 'NoAuth');
    await rejectsWith(zk.delete('/ro/none'), 'NoAuth'); // the parent's ACL is checked before the node is looked up, as in ZooKeeper
    await zk.create('/ip', 'i', { acl: [{ perms: Perm.ALL, id: { scheme: 'ip', id: '127.0.0.0/8' } }] });
    assert.equal((await zk.getData('/ip')).data.toString(), 'i');
    await zk.create('/ip-other', 'i', { acl: [{ perms: Perm.ALL, id: { scheme: 'ip', id: '10.0.0.0/8' } }] });
    await rejectsWith(zk.getData('/ip-other'), 'NoAuth');
  });

  test('invalid ACLs are refused with InvalidACL and nothing is created', async () => {
    await rejectsWith(zk.create('/bad-acl', '', { acl: [] }), 'InvalidACL');
    await rejectsWith(zk.create('/bad-acl', '', { acl: [{ perms: Perm.ALL, id: { scheme: 'nope', id: 'x' } }] }), 'InvalidACL');
    await rejectsWith(zk.create('/bad-acl', '', { acl: [{ perms: Perm.ALL, id: { scheme: 'ip', id: '300.1.1.1' } }] }), 'InvalidACL');
    await rejectsWith(zk.create('/bad-acl', '', { acl: [{ perms: Perm.ALL, id: { scheme: 'auth', id: '' } }] }), 'InvalidACL');
    assert.equal(await zk.exists('/bad-acl'), null);
  });

  test('whoAmI names the digest user without the hash', async () => {
    const client = await connect();
    await client.addAuth('digest', 'bob:pw');
    const ids = await client.whoAmI();
    assert.deepEqual(ids.find((id) => id.authScheme === 'digest'), { authScheme: 'digest', user: 'bob' });
    assert.ok(ids.some((id) => id.authScheme === 'ip' && id.user === '127.0.0.1'));
  });
});

describe('containers and TTL nodes', () => {
  test('a container goes once it has had children and lost them all; a new one stays', async () => {
    await zk.create('/box', '', { mode: 'container' });
    await zk.create('/fresh-box', '', { mode: 'container' });
    await zk.create('/box/item');
    assert.equal((await zk.exists('/box'))?.ephemeralOwner, 0n, 'clients see ephemeralOwner 0 for containers');
    await zk.delete('/box/item');
    await eventually(async () => (await zk.exists('/box')) === null);
    assert.ok(await zk.exists('/fresh-box'), 'a container that never had children is kept');
  });

  test('a TTL node without children goes after its TTL; one with a child stays', async () => {
    await zk.create('/ttl', '', { mode: 'persistentWithTtl', ttlMs: 100 });
    await zk.create('/ttl-parent', '', { mode: 'persistentWithTtl', ttlMs: 100 });
    await zk.create('/ttl-parent/child');
    await eventually(async () => (await zk.exists('/ttl')) === null);
    assert.ok(await zk.exists('/ttl-parent'));
  });

  test('a TTL out of range is BadArguments', async () => {
    await rejectsWith(zk.create('/ttl-bad', '', { mode: 'persistentWithTtl', ttlMs: 0 }), 'BadArguments');
  });
});

describe('four-letter words', () => {
  test('srvr, stat, mntr, conf, cons, wchs, dump, envi, dirs answer in ZooKeeper formats', async () => {
    const watcher = await connect();
    await watcher.create('/watched-4lw');
    await watcher.getData('/watched-4lw', () => undefined);
    const srvr = await fourLetterWord(paddock.port, 'srvr');
    assert.match(srvr, /^Zookeeper version: 3\.8\.\d+-paddock/);
    assert.match(srvr, /\nMode: standalone\n/);
    assert.match(srvr, /\nZxid: 0x[0-9a-f]+\n/);
    assert.match(await fourLetterWord(paddock.port, 'stat'), /\nClients:\n \/127\.0\.0\.1:\d+\[1\]\(queued=/);
    const mntr = await fourLetterWord(paddock.port, 'mntr');
    assert.match(mntr, /^zk_version\t/);
    assert.match(mntr, /\nzk_server_state\tstandalone\n/);
    assert.match(mntr, /\nzk_znode_count\t\d+\n/);
    assert.match(await fourLetterWord(paddock.port, 'conf'), /\ntickTime=100\n/);
    assert.match(await fourLetterWord(paddock.port, 'cons'), /sid=0x[0-9a-f]+/);
    assert.match(await fourLetterWord(paddock.port, 'wchs'), /^\d+ connections watching \d+ paths\nTotal watches:\d+\n$/);
    assert.match(await fourLetterWord(paddock.port, 'wchp'), /\/watched-4lw\n\t0x[0-9a-f]+/);
    assert.match(await fourLetterWord(paddock.port, 'dump'), /^SessionTracker dump:\n/);
    assert.match(await fourLetterWord(paddock.port, 'envi'), /^Environment:\nzookeeper\.version=/);
    assert.match(await fourLetterWord(paddock.port, 'dirs'), /^datadir_size: \d+\nlogdir_size: \d+\n$/);
    assert.equal(await fourLetterWord(paddock.port, 'ruok'), 'imok');
  });

  test('a word off the whitelist is refused in ZooKeeper words; srvr is always allowed', async () => {
    const strict = await startInProcess({ '4lw.commands.whitelist': 'ruok' });
    try {
      assert.equal(await fourLetterWord(strict.port, 'mntr'), 'mntr is not executed because it is not in the whitelist.\n');
      assert.equal(await fourLetterWord(strict.port, 'ruok'), 'imok');
      assert.match(await fourLetterWord(strict.port, 'srvr'), /Mode: standalone/);
    } finally {
      await strict.stop();
    }
  });
});
