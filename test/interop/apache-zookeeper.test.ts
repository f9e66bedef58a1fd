/**
 * Proves the test peers work against the real thing: starts Apache ZooKeeper 3.8 (Debian
 * package) and drives it with zkCli.sh, cli_mt and kazoo through test/support/cli-tools.ts.
 * The same helpers are later pointed at Paddock.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  apacheZooKeeperAvailable,
  fourLetterWord,
  parseSrvrVersion,
  startApacheZooKeeper,
  type ApacheZooKeeper,
} from '../support/apache-zookeeper.js';
import {
  cliMt,
  cliMtAvailable,
  cliMtOne,
  kazooAvailable,
  kazooPython,
  parseZkCliList,
  parseZkCliStat,
  zkCli,
  zkCliAvailable,
  zkCliOne,
} from '../support/cli-tools.js';

const skipAll = apacheZooKeeperAvailable() ? false : 'Apache ZooKeeper (Debian zookeeper) is not installed';

void describe('Apache ZooKeeper peer and CLI helpers', { skip: skipAll, timeout: 90_000 }, () => {
  let zk: ApacheZooKeeper;

  before(async () => {
    zk = await startApacheZooKeeper();
  });

  after(async () => {
    await zk?.stop();
  });

  void test('srvr reports a standalone 3.8 server', async () => {
    const srvr = await fourLetterWord('127.0.0.1', zk.port, 'srvr');
    assert.match(srvr, /^Mode: standalone$/m);
    assert.match(parseSrvrVersion(srvr) ?? '', /^3\.8\./);
    assert.equal(await fourLetterWord('127.0.0.1', zk.port, 'ruok'), 'imok');
  });

  void test('zkCli: a batch of commands on one session', { skip: zkCliAvailable() ? false : 'zkCli.sh missing' }, async (t) => {
    const r = await zkCli(zk.connectString, [
      'create /zkcli "hello world"',
      'get -s /zkcli',
      'set /zkcli v2',
      'stat /zkcli',
      'ls /',
      'create /zkcli again',
      'create -e /zkcli/eph',
      'create -s /zkcli/seq- x',
      'ls -s /zkcli',
      'deleteall /zkcli',
      'get /zkcli',
    ]);
    t.diagnostic(`zkCli batch of 11 took ${r.durationMs} ms`);
    assert.equal(r.timedOut, false, r.output);
    assert.equal(r.results.length, 11, r.output);
    const out = r.results.map((x) => x.output);
    assert.match(r.banner, /WatchedEvent state:SyncConnected type:None path:null/);
    assert.equal(out[0], 'Created /zkcli');
    assert.equal(out[1]?.split('\n')[0], 'hello world');
    const s1 = parseZkCliStat(out[1] ?? '');
    assert.ok(s1, out[1]);
    assert.equal(s1.dataVersion, 0);
    assert.equal(s1.dataLength, 11);
    assert.equal(s1.numChildren, 0);
    assert.equal(s1.cZxid, s1.mZxid);
    assert.equal(s1.ephemeralOwner, 0n);
    assert.equal(out[2], '');
    const s3 = parseZkCliStat(out[3] ?? '');
    assert.ok(s3, out[3]);
    assert.equal(s3.dataVersion, 1);
    assert.equal(s3.dataLength, 2);
    assert.ok(s3.mZxid > s3.cZxid);
    assert.deepEqual(parseZkCliList(out[4] ?? ''), ['zkcli', 'zookeeper']);
    assert.equal(out[5], 'Node already exists: /zkcli');
    assert.equal(out[6], 'Created /zkcli/eph');
    assert.equal(out[7], 'Created /zkcli/seq-0000000001');
    assert.deepEqual(parseZkCliList(out[8] ?? ''), ['eph', 'seq-0000000001']);
    const s8 = parseZkCliStat(out[8] ?? '');
    assert.equal(s8?.numChildren, 2);
    assert.equal(s8?.cversion, 2);
    assert.equal(out[9], '');
    assert.equal(out[10], 'Node does not exist: /zkcli');
    assert.equal(r.code, 1, 'exit code is that of the last command');
  });

  void test('zkCliOne: one command per JVM, separate stdout/stderr', { skip: zkCliAvailable() ? false : 'zkCli.sh missing' }, async (t) => {
    const created = await zkCliOne(zk.connectString, ['create', '/zkone', 'data1']);
    t.diagnostic(`zkCliOne took ${created.durationMs} ms`);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /^Created \/zkone$/m);
    const got = await zkCliOne(zk.connectString, ['get', '/zkone']);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /^data1$/m);
    const missing = await zkCliOne(zk.connectString, ['get', '/zkone-missing']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Node does not exist: \/zkone-missing$/m);
    assert.equal((await zkCliOne(zk.connectString, ['delete', '/zkone'])).code, 0);
  });

  void test('cli_mt: create/get/set/ls/exists/delete', { skip: cliMtAvailable() ? false : 'cli_mt missing' }, async (t) => {
    const started = Date.now();
    const r = await cliMt(zk.connectString, [
      'create /climt',
      'get /climt',
      'set /climt hello world',
      'get /climt',
      'ls /climt',
      'create /climt/c1',
      'create +s /climt/s-',
      'create2 /climt/c2',
      'ls2 /climt',
      'exists /climt',
      'exists /climt-nope',
      'create /climt',
      'delete /climt',
      'delete /climt/c1',
      'delete /climt/c2',
      'delete /climt/s-0000000001',
      'delete /climt',
      'get /climt',
      'sync /',
    ]);
    t.diagnostic(`cli_mt batch of 19 took ${Date.now() - started} ms`);
    assert.equal(r.timedOut, false, r.stderr);
    assert.equal(r.code, 0);
    assert.equal(r.results.length, 19, r.stderr);
    const [
      create,
      get1,
      set,
      get2,
      ls,
      c1,
      seq,
      c2,
      ls2,
      exists,
      notExists,
      dup,
      notEmpty,
      d1,
      d2,
      d3,
      d4,
      gone,
      sync,
    ] = r.results;
    assert.equal(create?.rc, 0);
    assert.equal(create?.name, '/climt');
    assert.equal(get1?.rc, 0);
    assert.equal(get1?.value, 'new', 'cli_mt always creates with data "new"');
    assert.equal(get1?.stat?.version, 0);
    assert.equal(set?.rc, 0);
    assert.equal(set?.stat?.version, 1);
    assert.match(set?.output ?? '', /Watcher CHANGED_EVENT state = CONNECTED_STATE for path \/climt/);
    assert.equal(get2?.value, 'hello world');
    assert.equal(get2?.stat?.version, 1);
    assert.ok((get2?.stat?.mzxid ?? 0n) > (get2?.stat?.czxid ?? 0n));
    assert.deepEqual(ls?.children, []);
    assert.equal(c1?.name, '/climt/c1');
    assert.equal(seq?.name, '/climt/s-0000000001');
    assert.equal(c2?.rc, 0);
    assert.equal(c2?.stat?.version, 0);
    assert.deepEqual([...(ls2?.children ?? [])].sort(), ['c1', 'c2', 's-0000000001']);
    assert.equal(exists?.rc, 0);
    assert.equal(notExists?.rc, -101);
    assert.equal(dup?.rc, -110);
    assert.equal(notEmpty?.rc, -111);
    for (const d of [d1, d2, d3, d4]) assert.equal(d?.rc, 0, d?.output);
    assert.equal(gone?.rc, -101);
    assert.equal(gone?.value, null);
    assert.equal(gone?.stat, null);
    assert.equal(sync?.rc, 0);
  });

  void test('cliMtOne: batch mode (-c) runs one command and exits', { skip: cliMtAvailable() ? false : 'cli_mt missing' }, async () => {
    const r = await cliMtOne(zk.connectString, 'ls /');
    assert.equal(r.timedOut, false, r.stderr);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^\/: rc = 0$/m);
    assert.match(r.stderr, /^\tzookeeper$/m);
  });

  void test('kazoo: create/get/set/delete with versions', { skip: kazooAvailable() ? false : 'python3-kazoo missing' }, async (t) => {
    const script = `
import json, os
from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NoNodeError
zk = KazooClient(hosts=os.environ['ZK_HOSTS'], timeout=10)
zk.start(timeout=10)
out = {}
out['path'] = zk.create('/kazoo', b'v0')
data, st = zk.get('/kazoo')
out['get'] = [data.decode(), st.version, st.czxid == st.mzxid]
st = zk.set('/kazoo', b'v1', version=0)
out['set'] = st.version
try:
    zk.set('/kazoo', b'v2', version=0)
    out['badversion'] = False
except BadVersionError:
    out['badversion'] = True
out['seq'] = zk.create('/kazoo/q-', b'', sequence=True)
out['children'] = zk.get_children('/kazoo')
zk.delete('/kazoo', recursive=True)
try:
    zk.get('/kazoo')
    out['nonode'] = False
except NoNodeError:
    out['nonode'] = True
zk.stop()
zk.close()
print(json.dumps(out))
`;
    const r = await kazooPython(script, { ZK_HOSTS: zk.connectString }, 30_000);
    t.diagnostic(`kazoo script took ${r.durationMs} ms`);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    assert.deepEqual(out, {
      path: '/kazoo',
      get: ['v0', 0, true],
      set: 1,
      badversion: true,
      seq: '/kazoo/q-0000000000',
      children: ['q-0000000000'],
      nonode: true,
    });
  });

  void test('a second server with options starts, and stop() kills it and removes its directory', async () => {
    const other = await startApacheZooKeeper({
      tickTime: 500,
      forceSync: false,
      heapMb: 128,
      extraConfig: { maxClientCnxns: '10' },
    });
    assert.notEqual(other.port, zk.port);
    const conf = await fourLetterWord('127.0.0.1', other.port, 'conf');
    assert.match(conf, /^tickTime=500$/m);
    assert.match(conf, /^maxClientCnxns=10$/m);
    await other.stop();
    await other.stop(); // idempotent
    assert.equal(existsSync(other.dir), false);
    assert.throws(() => process.kill(other.pid, 0), /ESRCH/);
    await assert.rejects(fourLetterWord('127.0.0.1', other.port, 'ruok', 1000));
  });
});
