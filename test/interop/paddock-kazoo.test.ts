/**
 * kazoo (Debian python3-kazoo 2.8, the Python client) against a real `paddock start` process.
 *
 * Each test runs one Python script with /usr/bin/python3; the script prints one JSON line as its
 * last line of stdout, which the test compares with what ZooKeeper 3.8 answers. Every wait in a
 * script is bounded (Event.wait(timeout), client start(timeout)), and each script has an
 * overall process timeout.
 *
 * PADDOCK_INTEROP_TARGET=apache runs the same tests against Apache ZooKeeper 3.8 (tickTime 200,
 * like the Paddock process): every expectation here is ZooKeeper's own behaviour.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kazooAvailable, kazooPython, spawnKazooPython, type RunningPython } from '../support/cli-tools.js';
import { targetForSuite } from './target.js';

const skip = kazooAvailable() ? false : 'python3-kazoo (Debian) is not installed: run scripts/install-peers.sh';

/** Imports and helpers every script starts with. */
const PRELUDE = `
import json, logging, os, sys, threading, time
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (BadVersionError, NoNodeError, NodeExistsError, NotEmptyError,
    NoChildrenForEphemeralsError, RolledBackError, SessionExpiredError)
HOSTS = os.environ['ZK_HOSTS']
# kazoo keeps the timeout it asked for; the negotiated one (ConnectResponse.timeOut) is only logged
NEGOTIATED = []
class _Negotiated(logging.Handler):
    def emit(self, record):
        if str(record.msg).startswith('Session created'):
            NEGOTIATED.append(record.args[2])
_kazoo_log = logging.getLogger('kazoo')
_kazoo_log.setLevel(5)  # kazoo's BLATHER level
_kazoo_log.addHandler(_Negotiated())
_kazoo_log.propagate = False
def client(timeout=10.0, **kw):
    zk = KazooClient(hosts=HOSTS, timeout=timeout, **kw)
    zk.start(timeout=10)
    return zk
def stat(st):
    return None if st is None else {
        'czxid': st.czxid, 'mzxid': st.mzxid, 'pzxid': st.pzxid, 'version': st.version,
        'cversion': st.cversion, 'aversion': st.aversion, 'ephemeralOwner': st.ephemeralOwner,
        'dataLength': st.dataLength, 'numChildren': st.numChildren}
def raises(fn, exc):
    try:
        fn()
        return 'no error'
    except exc:
        return exc.__name__
    except Exception as e:
        return 'unexpected %s: %s' % (type(e).__name__, e)
def done(out):
    print(json.dumps(out))
    sys.stdout.flush()
`;

type Json = Record<string, any>;

interface ZnodeStat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: number;
  dataLength: number;
  numChildren: number;
}

function lastJsonLine(stdout: string): Json {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Json;
  } catch {
    throw new Error(`no JSON result line in the script's output:\n${stdout}`);
  }
}

void describe('kazoo against Paddock', { skip, timeout: 60_000 }, () => {
  const paddock = targetForSuite();
  const env = (): NodeJS.ProcessEnv => ({ ZK_HOSTS: paddock.connectString });

  /** Runs PRELUDE + body, asserts a clean exit and returns the script's JSON result. */
  async function kazoo(body: string, extraEnv: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<Json> {
    const r = await kazooPython(PRELUDE + body, { ...env(), ...extraEnv }, timeoutMs);
    assert.equal(r.timedOut, false, `kazoo script timed out\n${r.stdout}\n${r.stderr}`);
    assert.equal(r.code, 0, `kazoo script failed\n${r.stdout}\n${r.stderr}`);
    return lastJsonLine(r.stdout);
  }

  void test('create/get/set/delete, Stat fields and versions', async () => {
    const out = await kazoo(`
zk = client()
out = {}
out['created'] = zk.create('/k-crud', b'v0')
out['exists_missing'] = stat(zk.exists('/k-crud-none'))
d, st = zk.get('/k-crud')
out['get0'] = [d.decode(), stat(st)]
st1 = zk.set('/k-crud', b'value-1', version=0)
out['set1'] = stat(st1)
out['stale_set'] = raises(lambda: zk.set('/k-crud', b'x', version=0), BadVersionError)
out['future_set'] = raises(lambda: zk.set('/k-crud', b'x', version=5), BadVersionError)
st2 = zk.set('/k-crud', b'value-2', version=-1)
out['set_any'] = st2.version
d, st = zk.get('/k-crud')
out['get2'] = [d.decode(), stat(st)]
out['stale_delete'] = raises(lambda: zk.delete('/k-crud', version=1), BadVersionError)
zk.delete('/k-crud', version=2)
out['after_delete'] = stat(zk.exists('/k-crud'))
out['get_missing'] = raises(lambda: zk.get('/k-crud'), NoNodeError)
out['set_missing'] = raises(lambda: zk.set('/k-crud', b'x'), NoNodeError)
out['delete_missing'] = raises(lambda: zk.delete('/k-crud'), NoNodeError)
out['children_missing'] = raises(lambda: zk.get_children('/k-crud'), NoNodeError)
out['create_no_parent'] = raises(lambda: zk.create('/k-crud/a/b', b''), NoNodeError)
out['empty_data'] = [zk.create('/k-empty'), zk.get('/k-empty')[0].decode(), zk.get('/k-empty')[1].dataLength]
zk.delete('/k-empty')
zk.stop(); zk.close()
done(out)
`);
    assert.equal(out.created, '/k-crud');
    assert.equal(out.exists_missing, null);
    const [data0, st0] = out.get0 as [string, ZnodeStat];
    assert.equal(data0, 'v0');
    assert.equal(st0.version, 0, 'a new znode has version 0');
    assert.equal(st0.cversion, 0);
    assert.equal(st0.aversion, 0);
    assert.equal(st0.ephemeralOwner, 0);
    assert.equal(st0.dataLength, 2);
    assert.equal(st0.numChildren, 0);
    assert.equal(st0.czxid, st0.mzxid);
    assert.equal(st0.pzxid, st0.czxid, 'pzxid of a childless node is its czxid');
    const st1 = out.set1 as ZnodeStat;
    assert.equal(st1.version, 1, 'setData with the version read (0) gives version 1');
    assert.equal(st1.dataLength, 7);
    assert.equal(st1.czxid, st0.czxid);
    assert.ok(st1.mzxid > st0.mzxid);
    assert.equal(out.stale_set, 'BadVersionError');
    assert.equal(out.future_set, 'BadVersionError');
    assert.equal(out.set_any, 2, 'version -1 matches any version');
    const [data2, st2] = out.get2 as [string, ZnodeStat];
    assert.equal(data2, 'value-2');
    assert.equal(st2.version, 2);
    assert.equal(out.stale_delete, 'BadVersionError');
    assert.equal(out.after_delete, null);
    assert.equal(out.get_missing, 'NoNodeError');
    assert.equal(out.set_missing, 'NoNodeError');
    assert.equal(out.delete_missing, 'NoNodeError');
    assert.equal(out.children_missing, 'NoNodeError');
    assert.equal(out.create_no_parent, 'NoNodeError');
    assert.deepEqual(out.empty_data, ['/k-empty', '', 0]);
  });

  void test('NodeExistsError, NotEmptyError, NoChildrenForEphemeralsError, get_children and parent Stat', async () => {
    const out = await kazoo(`
zk = client()
out = {}
zk.create('/k-tree', b'')
out['dup'] = raises(lambda: zk.create('/k-tree', b''), NodeExistsError)
zk.create('/k-tree/b', b'bee')
zk.create('/k-tree/a', b'a')
zk.create('/k-tree/c', b'')
out['makepath'] = zk.create('/k-tree/deep/er/node', b'x', makepath=True)
out['children'] = sorted(zk.get_children('/k-tree'))
kids, st = zk.get_children('/k-tree', include_data=True)
out['parent'] = stat(st)
out['not_empty'] = raises(lambda: zk.delete('/k-tree'), NotEmptyError)
zk.create('/k-tree/eph', b'', ephemeral=True)
out['eph_child'] = raises(lambda: zk.create('/k-tree/eph/kid', b''), NoChildrenForEphemeralsError)
zk.delete('/k-tree/c')
out['after_child_delete'] = stat(zk.exists('/k-tree'))
zk.delete('/k-tree', recursive=True)
out['gone'] = zk.exists('/k-tree') is None
out['root_children'] = sorted(zk.get_children('/'))
zk.stop(); zk.close()
done(out)
`);
    assert.equal(out.dup, 'NodeExistsError');
    assert.equal(out.makepath, '/k-tree/deep/er/node');
    assert.deepEqual(out.children, ['a', 'b', 'c', 'deep']);
    const parent = out.parent as ZnodeStat;
    assert.equal(parent.numChildren, 4);
    assert.equal(parent.cversion, 4, 'cversion counts child creations');
    assert.equal(parent.version, 0, 'child changes do not change the data version');
    assert.ok(parent.pzxid > parent.czxid, 'pzxid is the zxid of the last child change');
    assert.equal(out.not_empty, 'NotEmptyError');
    assert.equal(out.eph_child, 'NoChildrenForEphemeralsError');
    const afterDelete = out.after_child_delete as ZnodeStat;
    assert.equal(afterDelete.numChildren, 4, 'a, b, deep and eph remain');
    assert.equal(afterDelete.cversion, 6, 'eph created (5), c deleted (6)');
    assert.ok(afterDelete.pzxid > parent.pzxid);
    assert.equal(out.gone, true);
    assert.deepEqual(out.root_children, ['zookeeper']);
  });

  void test('sequential and ephemeral nodes: 10-digit suffixes, ephemeralOwner, removal at close', async () => {
    const out = await kazoo(`
zk = client()
other = client()
out = {}
zk.create('/k-seq', b'')
out['p0'] = zk.create('/k-seq/p-', b'', sequence=True)
out['p1'] = zk.create('/k-seq/p-', b'', sequence=True)
out['bare'] = zk.create('/k-seq/', b'', sequence=True)
out['es'] = zk.create('/k-seq/e-', b'', ephemeral=True, sequence=True)
out['e'] = zk.create('/k-seq/e', b'eph', ephemeral=True)
# 64-bit ids go out as strings: JSON numbers in JavaScript lose bits above 2**53
out['session'] = str(zk.client_id[0])
out['e_owner'] = str(zk.exists('/k-seq/e').ephemeralOwner)
out['es_owner'] = str(zk.exists(out['es']).ephemeralOwner)
out['p_owner'] = zk.exists(out['p0']).ephemeralOwner
out['other_sees'] = sorted(other.get_children('/k-seq'))
zk.stop(); zk.close()
# closeSession removes the session's ephemerals before the close is acknowledged
out['after_close'] = sorted(other.get_children('/k-seq'))
out['parent_after_close'] = stat(other.exists('/k-seq'))
other.delete('/k-seq', recursive=True)
other.stop(); other.close()
done(out)
`);
    assert.equal(out.p0, '/k-seq/p-0000000000');
    assert.equal(out.p1, '/k-seq/p-0000000001');
    assert.equal(out.bare, '/k-seq/0000000002');
    assert.equal(out.es, '/k-seq/e-0000000003');
    assert.equal(out.e, '/k-seq/e');
    assert.ok(BigInt(out.session) > 0n);
    assert.equal(out.e_owner, out.session);
    assert.equal(out.es_owner, out.session);
    assert.equal(out.p_owner, 0);
    assert.deepEqual(out.other_sees, ['0000000002', 'e', 'e-0000000003', 'p-0000000000', 'p-0000000001']);
    assert.deepEqual(out.after_close, ['0000000002', 'p-0000000000', 'p-0000000001']);
    const parent = out.parent_after_close as ZnodeStat;
    assert.equal(parent.numChildren, 3);
    assert.equal(parent.cversion, 7, '5 creates + 2 ephemeral deletions at close');
  });

  void test('a sequential suffix counts child creations only, not deletions (reported cversion counts both)', async () => {
    // ZooKeeper keeps the parent's cversion as the number of child creations (StatPersisted)
    // and names sequential children from it; the cversion a client sees is
    // 2 * creations - numChildren (DataNode.copyStat), i.e. creations + deletions.
    const out = await kazoo(`
zk = client()
out = {}
zk.create('/k-seqdel', b'')
steps = []
def note(tag, result=None):
    steps.append([tag, result, zk.exists('/k-seqdel').cversion])
note('start')
zk.create('/k-seqdel/a', b''); note('create a')
zk.delete('/k-seqdel/a'); note('delete a')
note('seq', zk.create('/k-seqdel/s-', b'', sequence=True))
zk.create('/k-seqdel/e', b'', ephemeral=True); note('create e')
zk.delete('/k-seqdel/e'); note('delete e')
note('seq', zk.create('/k-seqdel/s-', b'', sequence=True))
zk.delete('/k-seqdel', recursive=True)
zk.stop(); zk.close()
done({'steps': steps})
`);
    assert.deepEqual(out.steps, [
      ['start', null, 0],
      ['create a', null, 1],
      ['delete a', null, 2],
      ['seq', '/k-seqdel/s-0000000001', 3],
      ['create e', null, 4],
      ['delete e', null, 5],
      ['seq', '/k-seqdel/s-0000000003', 6],
    ]);
  });
  void test('ephemeral /data: get with a watch, set with the version read, version 1, watch fires CHANGED /data', async () => {
    const out = await kazoo(`
zk = client()
out = {}
fired = threading.Event()
events = []
def watcher(event):
    events.append([event.type, event.path, event.state])
    fired.set()
out['create'] = zk.create('/data', b'data', ephemeral=True)
data, st = zk.get('/data', watch=watcher)
out['read'] = [data.decode(), st.version, st.ephemeralOwner == zk.client_id[0]]
st2 = zk.set('/data', b'data2', version=st.version)
out['set_version'] = st2.version
data, st3 = zk.get('/data')
out['read_back'] = [data.decode(), st3.version]
out['fired'] = fired.wait(5)
out['events'] = events
zk.stop(); zk.close()
done(out)
`);
    assert.equal(out.create, '/data');
    assert.deepEqual(out.read, ['data', 0, true]);
    assert.equal(out.set_version, 1);
    assert.deepEqual(out.read_back, ['data2', 1]);
    assert.equal(out.fired, true, 'the data watch fired');
    assert.deepEqual(out.events, [['CHANGED', '/data', 'CONNECTED']]);
  });

  void test('watches: data, exists (created), child and delete events, one-shot, recipes', async () => {
    const out = await kazoo(`
from kazoo.recipe.watchers import ChildrenWatch, DataWatch
zk = client()
writer = client()
out = {}
lock = threading.Lock()
events = []
cond = threading.Condition(lock)
def rec(tag):
    def w(event):
        with cond:
            events.append([tag, event.type, event.path])
            cond.notify_all()
    return w
def wait_for(pred, timeout=5):
    deadline = time.time() + timeout
    with cond:
        while not pred():
            left = deadline - time.time()
            if left <= 0:
                return False
            cond.wait(left)
        return True
def tagged(tag):
    return [e[1:] for e in events if e[0] == tag]

zk.create('/k-w', b'')
# exists watch on a missing node fires CREATED
out['exists_before'] = zk.exists('/k-w/x', watch=rec('exists')) is None
writer.create('/k-w/x', b'1')
out['exists_fired'] = wait_for(lambda: len(tagged('exists')) >= 1)
# data watch fires CHANGED, once
zk.get('/k-w/x', watch=rec('data'))
writer.set('/k-w/x', b'2')
writer.set('/k-w/x', b'3')
out['data_fired'] = wait_for(lambda: len(tagged('data')) >= 1)
# child watch fires CHILD on create and (after re-arming) on delete
zk.get_children('/k-w', watch=rec('child1'))
writer.create('/k-w/y', b'')
out['child1_fired'] = wait_for(lambda: len(tagged('child1')) >= 1)
zk.get_children('/k-w', watch=rec('child2'))
writer.delete('/k-w/y')
out['child2_fired'] = wait_for(lambda: len(tagged('child2')) >= 1)
# a data watch and an exists watch on a node that is deleted fire DELETED
zk.get('/k-w/x', watch=rec('del_data'))
zk.exists('/k-w/x', watch=rec('del_exists'))
zk.get_children('/k-w/x', watch=rec('del_child'))
writer.delete('/k-w/x')
out['delete_fired'] = wait_for(lambda: len(tagged('del_data')) >= 1 and len(tagged('del_exists')) >= 1 and len(tagged('del_child')) >= 1)
# a setData on a node with only a child watch does not fire it
writer.create('/k-w/z', b'')
zk.get_children('/k-w/z', watch=rec('quiet'))
writer.set('/k-w/z', b'changed')
# the sync makes the following reads see everything before it, events included
zk.sync('/k-w')
zk.get('/k-w/z')
with cond:
    out['quiet'] = [e[1:] for e in events if e[0] == 'quiet']

# recipes: DataWatch and ChildrenWatch run once at once, then on every change
data_seen = []
child_seen = []
@DataWatch(zk, '/k-w/z')
def dw(data, st):
    with cond:
        data_seen.append(None if data is None else data.decode())
        cond.notify_all()
@ChildrenWatch(zk, '/k-w')
def cw(children):
    with cond:
        child_seen.append(sorted(children))
        cond.notify_all()
out['recipes_initial'] = wait_for(lambda: len(data_seen) >= 1 and len(child_seen) >= 1)
writer.set('/k-w/z', b'recipe')
writer.create('/k-w/r', b'')
out['recipes_changed'] = wait_for(lambda: 'recipe' in data_seen and ['r', 'z'] in child_seen)
writer.delete('/k-w/z')
out['recipes_deleted'] = wait_for(lambda: data_seen[-1] is None and ['r'] in child_seen)
out['data_seen'] = data_seen
out['child_seen'] = child_seen
with cond:
    out['events'] = list(events)
writer.delete('/k-w', recursive=True)
writer.stop(); writer.close()
zk.stop(); zk.close()
done(out)
`);
    assert.equal(out.exists_before, true);
    assert.equal(out.exists_fired, true, 'exists watch on a missing node fires on create');
    assert.equal(out.data_fired, true);
    assert.equal(out.child1_fired, true);
    assert.equal(out.child2_fired, true);
    assert.equal(out.delete_fired, true);
    assert.equal(out.recipes_initial, true);
    assert.equal(out.recipes_changed, true, JSON.stringify(out));
    assert.equal(out.recipes_deleted, true, JSON.stringify(out));
    const events = out.events as [string, string, string][];
    const of = (tag: string): [string, string][] => events.filter((e) => e[0] === tag).map((e) => [e[1], e[2]]);
    assert.deepEqual(of('exists'), [['CREATED', '/k-w/x']]);
    assert.deepEqual(of('data'), [['CHANGED', '/k-w/x']], 'a watch is one-shot: two sets, one event');
    assert.deepEqual(of('child1'), [['CHILD', '/k-w']]);
    assert.deepEqual(of('child2'), [['CHILD', '/k-w']]);
    assert.deepEqual(of('del_data'), [['DELETED', '/k-w/x']]);
    assert.deepEqual(of('del_exists'), [['DELETED', '/k-w/x']]);
    assert.deepEqual(of('del_child'), [['DELETED', '/k-w/x']]);
    assert.deepEqual(out.quiet, [], 'setData does not fire a child watch');
    assert.deepEqual(of('quiet'), [['DELETED', '/k-w/z']], 'deleting the node fires its child watch');
    assert.equal((out.data_seen as unknown[])[0], 'changed');
    assert.deepEqual((out.child_seen as unknown[])[0], ['z']);
  });

  void test('transactions (multi): all or nothing, per-op errors', async () => {
    const out = await kazoo(`
zk = client()
out = {}
zk.create('/k-tx', b'')
t = zk.transaction()
t.create('/k-tx/a', b'A')
t.create('/k-tx/s-', b'', sequence=True)
t.set_data('/k-tx', b'parent', version=0)
t.check('/k-tx', 1)
out['ok'] = [r if isinstance(r, (str, bool)) else stat(r) if hasattr(r, 'czxid') else repr(r) for r in t.commit()]
t = zk.transaction()
t.create('/k-tx/b', b'')
t.delete('/k-tx/a', version=7)
t.create('/k-tx/c', b'')
out['fail'] = [type(r).__name__ for r in t.commit()]
out['children'] = sorted(zk.get_children('/k-tx'))
out['parent_version'] = zk.exists('/k-tx').version
zk.delete('/k-tx', recursive=True)
zk.stop(); zk.close()
done(out)
`);
    const ok = out.ok as unknown[];
    assert.equal(ok[0], '/k-tx/a');
    assert.equal(ok[1], '/k-tx/s-0000000001');
    assert.equal((ok[2] as ZnodeStat).version, 1);
    assert.equal(ok[3], true);
    assert.deepEqual(out.fail, ['RolledBackError', 'BadVersionError', 'RuntimeInconsistency']);
    assert.deepEqual(out.children, ['a', 's-0000000001']);
    assert.equal(out.parent_version, 1);
  });

  void test('a killed client’s session expires after its timeout and its ephemerals vanish', async (t) => {
    // Client A (0.5 s session) creates ephemerals and then hangs; we SIGKILL it, so no
    // closeSession is ever sent. Client B watches them and reports when they are deleted.
    const owner = spawnKazooPython(
      PRELUDE +
        `
zk = client(timeout=0.5)
zk.create('/k-exp', b'', makepath=True) if zk.exists('/k-exp') is None else None
zk.create('/k-exp/eph', b'', ephemeral=True)
zk.create('/k-exp/eph-', b'', ephemeral=True, sequence=True)
print(json.dumps({'session': str(zk.client_id[0]), 'timeout_ms': NEGOTIATED[-1]}))
sys.stdout.flush()
time.sleep(25)
`,
      env(),
      30_000,
    );
    let watcher: RunningPython | undefined;
    try {
      assert.ok(await owner.waitForStdout((s) => s.includes('\n'), 15_000), `owner did not start:\n${owner.stderr()}`);
      const ownerInfo = lastJsonLine(owner.stdout());
      const timeoutMs = Number(ownerInfo.timeout_ms);
      assert.equal(timeoutMs, 500, 'negotiated timeout: as asked, within [2, 20] ticks of 200 ms');
      watcher = spawnKazooPython(
        PRELUDE +
          `
zk = client()
gone = threading.Event()
kids = zk.get_children('/k-exp')
owners = [str(zk.exists('/k-exp/' + k).ephemeralOwner) for k in kids]
def on_child(event):
    gone.set()
zk.get_children('/k-exp', watch=on_child)
print(json.dumps({'ready': True, 'kids': sorted(kids), 'owners': owners}))
sys.stdout.flush()
start = time.time()
fired = gone.wait(20)
deadline = time.time() + 10
left = zk.get_children('/k-exp')
while left and time.time() < deadline:
    time.sleep(0.05)
    left = zk.get_children('/k-exp')
zk.delete('/k-exp', recursive=True)
zk.stop(); zk.close()
done({'fired': fired, 'left': left})
`,
        env(),
        40_000,
      );
      assert.ok(await watcher.waitForStdout((s) => s.includes('"ready"'), 15_000), watcher.stderr());
      const ready = lastJsonLine(watcher.stdout());
      assert.deepEqual(ready.kids, ['eph', 'eph-0000000001']);
      assert.deepEqual(ready.owners, [ownerInfo.session, ownerInfo.session]);
      const killedAt = Date.now();
      owner.signal('SIGKILL');
      assert.ok(
        await watcher.waitForStdout((s) => s.includes('"fired"'), timeoutMs + 10_000),
        `the watcher saw no result\n${watcher.stdout()}\n${watcher.stderr()}`,
      );
      const elapsedMs = Date.now() - killedAt;
      t.diagnostic(`ephemerals of a ${timeoutMs} ms session vanished ${elapsedMs} ms after the kill`);
      const result = lastJsonLine(watcher.stdout());
      assert.equal(result.fired, true, 'the child watch fired when the session expired');
      assert.deepEqual(result.left, []);
      // The session outlives the socket: ZooKeeper keeps it until the timeout (well, at least
      // a good part of it — the last ping was up to a third of the timeout before the kill).
      assert.ok(elapsedMs >= timeoutMs / 3, `deleted after ${elapsedMs} ms, before the ${timeoutMs} ms session could expire`);
      assert.ok(elapsedMs <= timeoutMs + 3000, `deleted only after ${elapsedMs} ms (session timeout ${timeoutMs} ms)`);
      const watcherResult = await watcher.done;
      assert.equal(watcherResult.code, 0, watcherResult.stderr);
    } finally {
      owner.signal('SIGKILL');
      watcher?.signal('SIGKILL');
      await owner.done;
      if (watcher) await watcher.done;
    }
  });

  void test('client_id: after its client is killed, a new client resumes the session; a wrong password does not', async () => {
    // Client A (4 s session) creates an ephemeral and hangs; we SIGKILL it (no closeSession).
    const owner = spawnKazooPython(
      PRELUDE +
        `
zk = client(timeout=4.0)
zk.create('/k-resume', b'', ephemeral=True)
sid, pwd = zk.client_id
print(json.dumps({'session': str(sid), 'password': pwd.hex(), 'timeout_ms': NEGOTIATED[-1]}))
sys.stdout.flush()
time.sleep(25)
`,
      env(),
      30_000,
    );
    try {
      assert.ok(await owner.waitForStdout((s) => s.includes('\n'), 15_000), `owner did not start:\n${owner.stderr()}`);
      const info = lastJsonLine(owner.stdout());
      assert.equal(info.timeout_ms, 4000);
      owner.signal('SIGKILL');
      await owner.done;
      const out = await kazoo(`
sid = int(os.environ['SID'])
pwd = bytes.fromhex(os.environ['PWD_HEX'])
out = {}
# a wrong password is refused as an expired session (timeOut 0 in the ConnectResponse); kazoo,
# still in its initial LOST state, then starts a new session of its own
states = []
c = KazooClient(hosts=HOSTS, timeout=4.0, client_id=(sid, bytes(16)))
c.add_listener(lambda s: states.append(s))
c.start(timeout=10)
out['c_states'] = list(states)
out['c_new_session'] = c.client_id[0] != sid
st = c.exists('/k-resume')
out['eph_survives_bad_password'] = st is not None and st.ephemeralOwner == sid
# the right (session id, password) resumes the session: its ephemeral is still there
b = client(timeout=4.0, client_id=(sid, pwd))
out['same_session'] = b.client_id[0] == sid
out['b_timeout'] = NEGOTIATED[-1]
out['b_sees_owner'] = b.exists('/k-resume').ephemeralOwner == sid
b.create('/k-resume-b', b'', ephemeral=True)
out['b_owner'] = b.exists('/k-resume-b').ephemeralOwner == sid
# closing the resumed session removes the ephemerals made before and after the resume
b.stop(); b.close()
out['after_close'] = [c.exists('/k-resume') is None, c.exists('/k-resume-b') is None]
c.stop(); c.close()
done(out)
`, { SID: String(info.session), PWD_HEX: String(info.password) });
      assert.deepEqual(out, {
        c_states: ['CONNECTED'],
        c_new_session: true,
        eph_survives_bad_password: true,
        same_session: true,
        b_timeout: 4000,
        b_sees_owner: true,
        b_owner: true,
        after_close: [true, true],
      });
    } finally {
      owner.signal('SIGKILL');
      await owner.done;
    }
  });

  void test('session timeout negotiation: clamped to [2, 20] ticks (tickTime 200 ms)', async () => {
    const out = await kazoo(`
out = []
for asked in [0.1, 1.0, 100.0]:
    zk = client(timeout=asked)
    out.append(NEGOTIATED[-1])
    zk.stop(); zk.close()
done({'negotiated': out})
`);
    assert.deepEqual(out.negotiated, [400, 1000, 4000]);
  });

  void test('sync and /zookeeper', async () => {
    const out = await kazoo(`
zk = client()
out = {}
out['sync'] = zk.sync('/')
out['sync_path'] = zk.sync('/zookeeper')
out['zk_children'] = sorted(zk.get_children('/zookeeper'))
out['ruok'] = zk.command(b'ruok')
zk.stop(); zk.close()
done(out)
`);
    assert.equal(out.sync, '/');
    assert.equal(out.sync_path, '/zookeeper');
    assert.ok((out.zk_children as string[]).includes('quota'), JSON.stringify(out.zk_children));
    assert.equal(out.ruok, 'imok');
  });

  void test('server_version() parses zookeeper.version from the envi four-letter word', async () => {
    const out = await kazoo(`
zk = client()
out = {'version': list(zk.server_version())}
zk.stop(); zk.close()
done(out)
`);
    const version = out.version as number[];
    assert.ok(version.length >= 2 && version.every((n) => Number.isInteger(n)), JSON.stringify(version));
  });
});
