/**
 * zkCli.sh (the Java CLI of Debian's ZooKeeper 3.8, i.e. the Java client library) against a real
 * `paddock start` process. Each zkCli() call is one JVM and one session running a batch of
 * commands in order (see test/support/cli-tools.ts for how output is split per command).
 *
 * PADDOCK_INTEROP_TARGET=apache runs the same tests against Apache ZooKeeper 3.8 (tickTime 200,
 * like the Paddock process): every expectation here is ZooKeeper's own behaviour.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  parseZkCliList,
  parseZkCliStat,
  zkCli,
  zkCliAvailable,
  zkCliOne,
  zkCliWithoutStat,
  type ZkCliResult,
  type ZkCliStat,
} from '../support/cli-tools.js';
import { targetForSuite } from './target.js';

const skip = zkCliAvailable() ? false : 'zkCli.sh or java (Debian zookeeper) is not installed: run scripts/install-peers.sh';

/** Asserts the batch ran to the end and returns each command's output. */
function outputs(r: ZkCliResult, count: number): string[] {
  assert.equal(r.timedOut, false, `zkCli timed out:\n${r.output}`);
  assert.equal(r.results.length, count, `zkCli ran ${r.results.length} of ${count} commands:\n${r.output}`);
  return r.results.map((x) => x.output);
}

function stat(text: string | undefined): ZkCliStat {
  const s = parseZkCliStat(text ?? '');
  assert.ok(s, `no Stat in:\n${text}`);
  return s;
}

void describe('zkCli.sh against Paddock', { skip, timeout: 60_000 }, () => {
  const server = targetForSuite();

  void test('create (plain, -s, -e, -s -e), get, set -v, stat, ls, delete, deleteall and their errors', async (t) => {
    const commands = [
      'create /zc "hello world"', // 0
      'create -s /zc/s- a', // 1
      'create -e /zc/e bee', // 2
      'create -s -e /zc/es- c', // 3
      'get -s /zc', // 4
      'set -v 0 /zc v1', // 5
      'set -v 0 /zc v2', // 6: stale version
      'set -s /zc v3', // 7
      'stat /zc/e', // 8
      'stat /zc/es-0000000002', // 9
      'ls /zc', // 10
      'ls -s /zc', // 11
      'get /zc', // 12
      'create /zc/n', // 13: no data
      'get -s /zc/n', // 14
      'delete /zc', // 15: not empty
      'delete -v 5 /zc/n', // 16: stale version
      'delete -v 0 /zc/n', // 17
      'create /zc', // 18: exists
      'create /zc-missing/x', // 19: no parent
      'get /zc-missing', // 20
      'set /zc-missing x', // 21
      'stat /zc-missing', // 22
      'ls /zc-missing', // 23
      'delete /zc-missing', // 24
      'deleteall /zc', // 25
      'ls /', // 26
      'get /zc', // 27
    ];
    const r = await zkCli(server.connectString, commands);
    t.diagnostic(`zkCli batch of ${commands.length} took ${r.durationMs} ms`);
    const out = outputs(r, commands.length);
    assert.match(r.banner, /WatchedEvent state:SyncConnected type:None path:null/);
    assert.equal(out[0], 'Created /zc');
    assert.equal(out[1], 'Created /zc/s-0000000000');
    assert.equal(out[2], 'Created /zc/e');
    assert.equal(out[3], 'Created /zc/es-0000000002', 'the suffix is the parent cversion: 10 digits');

    assert.equal(zkCliWithoutStat(out[4] ?? ''), 'hello world');
    const s4 = stat(out[4]);
    assert.equal(s4.dataVersion, 0);
    assert.equal(s4.dataLength, 11);
    assert.equal(s4.numChildren, 3);
    assert.equal(s4.cversion, 3);
    assert.equal(s4.aclVersion, 0);
    assert.equal(s4.ephemeralOwner, 0n);
    assert.equal(s4.cZxid, s4.mZxid);
    assert.ok(s4.pZxid > s4.cZxid, 'pzxid: the last child creation');
    assert.match(s4.ctime, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \w+ \d{4}$/, 'ctime prints as a Java Date');

    assert.equal(out[5], '', 'set -v with the version read succeeds silently');
    assert.equal(out[6], 'version No is not valid : /zc');
    const s7 = stat(out[7]);
    assert.equal(s7.dataVersion, 2);
    assert.equal(s7.dataLength, 2);
    assert.ok(s7.mZxid > s4.mZxid);
    assert.equal(s7.cZxid, s4.cZxid);
    assert.equal(s7.pZxid, s4.pZxid, 'setData leaves pzxid alone');

    const s8 = stat(out[8]);
    const s9 = stat(out[9]);
    assert.notEqual(s8.ephemeralOwner, 0n, 'an ephemeral has its session as owner');
    assert.equal(s9.ephemeralOwner, s8.ephemeralOwner, 'same session, same owner');
    assert.equal(s8.dataLength, 3);
    assert.equal(s8.numChildren, 0);
    assert.equal(s8.pZxid, s8.cZxid);

    assert.deepEqual(parseZkCliList(out[10] ?? ''), ['e', 'es-0000000002', 's-0000000000']);
    assert.deepEqual(parseZkCliList(out[11] ?? ''), ['e', 'es-0000000002', 's-0000000000']);
    assert.equal(stat(out[11]).dataVersion, 2);
    assert.equal(out[12], 'v3');
    assert.equal(out[13], 'Created /zc/n');
    const s14 = stat(out[14]);
    assert.equal(s14.dataLength, 0);
    assert.equal(s14.dataVersion, 0);
    assert.equal(out[15], 'Node not empty: /zc');
    assert.equal(out[16], 'version No is not valid : /zc/n');
    assert.equal(out[17], '');
    assert.equal(out[18], 'Node already exists: /zc');
    assert.equal(out[19], 'Node does not exist: /zc-missing/x');
    for (const i of [20, 21, 22, 23, 24]) assert.equal(out[i], 'Node does not exist: /zc-missing', commands[i]);
    assert.equal(out[25], '', 'deleteall removes the subtree');
    assert.deepEqual(parseZkCliList(out[26] ?? ''), ['zookeeper']);
    assert.equal(out[27], 'Node does not exist: /zc');
    assert.equal(r.code, 1, 'exit code of the last command (NoNode)');
  });

  void test('watches: get -w, ls -w and stat -w fire in the same session', async () => {
    const commands = [
      'create /zw a',
      'get -w /zw',
      'set /zw b',
      'ls -w /zw',
      'create /zw/kid',
      'stat -w /zw-new',
      'create /zw-new',
      'stat -w /zw/kid',
      'delete /zw/kid',
      'sync /',
      'deleteall /zw',
      'delete /zw-new',
    ];
    const r = await zkCli(server.connectString, commands);
    outputs(r, commands.length);
    // The event prints from zkCli's event thread, so it may land in a later command's output.
    const events = [...r.output.matchAll(/^WatchedEvent state:SyncConnected type:(Node\w+) path:(\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(events, [
      'NodeDataChanged /zw',
      'NodeChildrenChanged /zw',
      'NodeCreated /zw-new',
      'NodeDeleted /zw/kid',
    ]);
    assert.match(r.results[6]?.output ?? '', /^Created \/zw-new$/m);
  });

  void test('ephemerals live as long as the zkCli session; quit closes it', async () => {
    const first = await zkCli(server.connectString, ['create /ze', 'create -e /ze/eph x', 'stat /ze/eph']);
    const out = outputs(first, 3);
    assert.equal(out[1], 'Created /ze/eph');
    assert.notEqual(stat(out[2]).ephemeralOwner, 0n);
    // The batch ended with `quit`: closeSession has removed the ephemeral.
    const second = await zkCli(server.connectString, ['stat /ze/eph', 'ls -s /ze', 'delete /ze']);
    const out2 = outputs(second, 3);
    assert.equal(out2[0], 'Node does not exist: /ze/eph');
    assert.deepEqual(parseZkCliList(out2[1] ?? ''), []);
    const parent = stat(out2[1]);
    assert.equal(parent.numChildren, 0);
    assert.equal(parent.cversion, 2, 'one creation and one deletion');
    assert.equal(out2[2], '');
  });

  void test('a sequential suffix counts child creations only (after a delete, it lags the cversion)', async () => {
    // ZooKeeper names sequential children from the parent's count of child creations; the
    // cversion it reports also counts deletions (2 * creations - numChildren).
    const commands = ['create /zq', 'create /zq/a', 'delete /zq/a', 'create -s /zq/s- x', 'stat /zq', 'deleteall /zq'];
    const r = await zkCli(server.connectString, commands);
    const out = outputs(r, commands.length);
    assert.equal(out[3], 'Created /zq/s-0000000001');
    const s = stat(out[4]);
    assert.equal(s.cversion, 3);
    assert.equal(s.numChildren, 1);
  });

  void test('zkCliOne: one command per JVM with its exit status; getAcl and sync', async () => {
    const created = await zkCliOne(server.connectString, ['create', '/zone', 'data1']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /^Created \/zone$/m);
    const got = await zkCliOne(server.connectString, ['get', '/zone']);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /^data1$/m);
    const missing = await zkCliOne(server.connectString, ['get', '/zone-missing']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Node does not exist: \/zone-missing$/m);
    const r = await zkCli(server.connectString, ['getAcl /zone', 'sync /zone', 'delete /zone']);
    const out = outputs(r, 3);
    assert.equal(out[0], "'world,'anyone\n: cdrwa");
    assert.equal(out[1], 'Sync is OK');
    assert.equal(out[2], '');
  });
});
