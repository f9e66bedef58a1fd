/**
 * cli_mt (the C client's shell, Debian zookeeper-bin 3.8) against a real `paddock start` process.
 *
 * cli_mt quirks (see test/support/cli-tools.ts): `create` always stores the 3 bytes "new";
 * `set` and `delete` always pass version -1; `get` and `ls` leave a watch (watch=1), `wexists`
 * an exists watch, and the global watcher prints "Watcher <TYPE>_EVENT state = ... for path ...".
 *
 * PADDOCK_INTEROP_TARGET=apache runs the same tests against Apache ZooKeeper 3.8 (tickTime 200,
 * like the Paddock process): every expectation here is ZooKeeper's own behaviour.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cliMt, cliMtAvailable, cliMtOne, type CliMtCommandResult, type CliMtResult } from '../support/cli-tools.js';
import { targetForSuite } from './target.js';

const skip = cliMtAvailable() ? false : 'cli_mt (Debian zookeeper-bin) is not installed: run scripts/install-peers.sh';

/** Asserts every command completed and returns the per-command results. */
function results(r: CliMtResult, count: number): CliMtCommandResult[] {
  assert.equal(r.connected, true, `cli_mt did not connect:\n${r.stderr}`);
  assert.equal(r.timedOut, false, `cli_mt was cut short:\n${r.stderr}`);
  assert.equal(r.results.length, count, r.stderr);
  return r.results;
}

/** The watch events cli_mt printed, in order, without the session events. */
function watchEvents(stderr: string): string[] {
  return [...stderr.matchAll(/^Watcher (\w+) state = (\w+) for path (\S*)$/gm)]
    .filter((m) => m[1] !== 'SESSION_EVENT')
    .map((m) => `${m[1]} ${m[3]} (${m[2]})`);
}

void describe('cli_mt against Paddock', { skip, timeout: 60_000 }, () => {
  const server = targetForSuite();

  void test('create (plain, +e, +s, +es, create2), get, set, ls, ls2, exists, delete and error codes', async (t) => {
    const commands = [
      'create /cm', // 0
      'create +e /cm/e', // 1
      'create +s /cm/s-', // 2
      'create +es /cm/es-', // 3
      'create2 +e /cm/e2', // 4
      'myid', // 5: prints the session id to stdout
      'get /cm', // 6
      'set /cm hello world', // 7
      'get /cm', // 8
      'ls /cm', // 9
      'ls2 /cm', // 10
      'exists /cm/e', // 11
      'exists /cm/none', // 12
      'create /cm', // 13
      'create /cm-none/x', // 14
      'delete /cm', // 15
      'get /cm-none', // 16
      'set /cm-none x', // 17
      'ls /cm-none', // 18
      'delete /cm-none', // 19
      'delete /cm/s-0000000001', // 20
      'get /cm/s-0000000001', // 21
      'sync /cm', // 22
    ];
    const started = Date.now();
    const r = await cliMt(server.connectString, commands);
    t.diagnostic(`cli_mt batch of ${commands.length} took ${Date.now() - started} ms`);
    const res = results(r, commands.length);
    assert.equal(res[0]?.rc, 0);
    assert.equal(res[0]?.name, '/cm');
    assert.equal(res[1]?.name, '/cm/e');
    assert.equal(res[2]?.name, '/cm/s-0000000001', 'the suffix is the parent cversion: 10 digits');
    assert.equal(res[3]?.name, '/cm/es-0000000002');
    assert.equal(res[4]?.rc, 0);
    assert.equal(res[4]?.name, '/cm/e2');
    const e2 = res[4]?.stat;
    assert.ok(e2, res[4]?.output);
    assert.equal(e2.version, 0);
    assert.equal(e2.czxid, e2.mzxid);
    const session = /^session Id = ([0-9a-f]+)$/m.exec(r.stdout);
    assert.ok(session, `myid printed no session id: ${r.stdout}`);
    assert.equal(e2.ephemeralOwner, BigInt('0x' + session[1]), 'create2 returns the Stat: owner = this session');

    assert.equal(res[6]?.rc, 0);
    assert.equal(res[6]?.value, 'new', 'cli_mt always creates with the data "new"');
    assert.equal(res[6]?.stat?.version, 0);
    assert.equal(res[6]?.stat?.ephemeralOwner, 0n);
    assert.equal(res[7]?.rc, 0);
    assert.equal(res[7]?.stat?.version, 1);
    assert.ok((res[7]?.stat?.mzxid ?? 0n) > (res[6]?.stat?.mzxid ?? 0n));
    assert.equal(res[8]?.value, 'hello world');
    assert.equal(res[8]?.stat?.version, 1);
    assert.equal(res[8]?.stat?.czxid, res[6]?.stat?.czxid);
    assert.deepEqual([...(res[9]?.children ?? [])].sort(), ['e', 'e2', 'es-0000000002', 's-0000000001']);
    assert.deepEqual([...(res[10]?.children ?? [])].sort(), ['e', 'e2', 'es-0000000002', 's-0000000001']);
    assert.equal(res[10]?.stat?.version, 1);
    assert.equal(res[11]?.rc, 0);
    assert.equal(res[12]?.rc, -101);
    assert.equal(res[13]?.rc, -110, 'NodeExists');
    assert.equal(res[14]?.rc, -101, 'NoNode: no parent');
    assert.equal(res[15]?.rc, -111, 'NotEmpty');
    for (const i of [16, 17, 18, 19]) assert.equal(res[i]?.rc, -101, commands[i]);
    assert.equal(res[16]?.value, null);
    assert.equal(res[16]?.stat, null);
    assert.equal(res[17]?.stat, null);
    assert.equal(res[20]?.rc, 0);
    assert.equal(res[21]?.rc, -101);
    assert.equal(res[22]?.rc, 0);
    assert.equal(r.code, 0);
  });

  void test('the ephemerals of a cli_mt session are gone after it quits; cleanup', async () => {
    const r = await cliMt(server.connectString, [
      'get /cm/e',
      'get /cm/e2',
      'get /cm/es-0000000002',
      'ls /cm',
      'delete /cm',
      'get /cm',
    ]);
    const res = results(r, 6);
    for (const i of [0, 1, 2]) assert.equal(res[i]?.rc, -101, res[i]?.command);
    assert.deepEqual(res[3]?.children, []);
    assert.equal(res[4]?.rc, 0);
    assert.equal(res[5]?.rc, -101);
  });

  void test('watches: get, ls and wexists leave watches that fire CHANGED, CHILD, CREATED and DELETED', async () => {
    const r = await cliMt(server.connectString, [
      'create /cw', // 0
      'get /cw', // 1: data watch on /cw
      'ls /cw', // 2: child watch on /cw
      'wexists /cw/kid', // 3: missing: exists watch
      'set /cw one', // 4: CHANGED /cw
      'set /cw two', // 5: nothing (one-shot)
      'create /cw/kid', // 6: CREATED /cw/kid, CHILD /cw
      'create /cw/kid2', // 7: nothing (the child watch was used up)
      'get /cw/kid', // 8: data watch on /cw/kid
      'delete /cw/kid', // 9: DELETED /cw/kid
      'delete /cw/kid2', // 10
      'get /cw', // 11: data watch on /cw again
      'delete /cw', // 12: DELETED /cw
      'sync /', // 13
    ]);
    const res = results(r, 14);
    assert.equal(res[3]?.rc, -101, 'wexists on a missing node fails but leaves the watch');
    for (const i of [0, 4, 5, 6, 7, 9, 10, 12]) assert.equal(res[i]?.rc, 0, res[i]?.output);
    assert.deepEqual(watchEvents(r.stderr), [
      'CHANGED_EVENT /cw (CONNECTED_STATE)',
      'CREATED_EVENT /cw/kid (CONNECTED_STATE)',
      'CHILD_EVENT /cw (CONNECTED_STATE)',
      'DELETED_EVENT /cw/kid (CONNECTED_STATE)',
      'DELETED_EVENT /cw (CONNECTED_STATE)',
    ]);
  });

  void test('a sequential suffix counts child creations only, not deletions', async () => {
    // ZooKeeper names sequential children from the parent's count of child creations (the
    // cversion it reports, 2 * creations - numChildren, also counts deletions).
    const r = await cliMt(server.connectString, [
      'create /cq',
      'create /cq/a',
      'delete /cq/a',
      'create +s /cq/s-',
      'delete /cq/s-0000000001',
      'delete /cq',
    ]);
    const res = results(r, 6);
    assert.equal(res[3]?.name, '/cq/s-0000000001');
    assert.equal(res[4]?.rc, 0);
    assert.equal(res[5]?.rc, 0);
  });

  void test('batch mode (-c) runs one command and exits', async () => {
    const r = await cliMtOne(server.connectString, 'ls /');
    assert.equal(r.timedOut, false, r.stderr);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^\/: rc = 0$/m);
    assert.match(r.stderr, /^\tzookeeper$/m);
  });
});
