/** Many calls in flight on one connection against an in-process Paddock server. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ZooKeeperClient } from '../../../src/client/index.js';
import type { Stat } from '../../../src/client/index.js';
import { startInProcess } from '../../support/paddock.js';
import type { InProcessPaddock } from '../../support/paddock.js';
import { rejectsWith, uniquePath } from './helpers.js';

void describe('client pipelining (Paddock)', { timeout: 30_000 }, () => {
  let server: InProcessPaddock;
  let zk: ZooKeeperClient;

  before(async () => {
    server = await startInProcess();
    zk = await ZooKeeperClient.connect({ connectString: server.connectString, sessionTimeoutMs: 2000 });
  });
  after(async () => {
    await zk?.close();
    await server?.stop();
  });

  void test('1000 setData in flight resolve in order with versions 1..1000', async () => {
    const path = uniquePath('pipelined');
    await zk.create(path, 'start');
    const settled: number[] = [];
    const calls: Promise<Stat>[] = [];
    for (let i = 0; i < 1000; i++) {
      calls.push(
        zk.setData(path, `value ${i}`).then((stat) => {
          settled.push(i);
          return stat;
        }),
      );
    }
    const stats = await Promise.all(calls);
    assert.deepEqual(
      stats.map((stat) => stat.version),
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
    assert.deepEqual(settled, Array.from({ length: 1000 }, (_, i) => i));
    for (let i = 1; i < stats.length; i++) assert.ok(stats[i]!.mzxid > stats[i - 1]!.mzxid);
    assert.equal(zk.lastZxidSeen, stats[999]!.mzxid);
    assert.equal((await zk.getData(path)).data.toString(), 'value 999');
  });

  void test('a session is FIFO: reads issued after writes, in one batch, see them', async () => {
    const path = uniquePath('fifo');
    const created = zk.create(path, 'a');
    const read = zk.getData(path);
    const written = zk.setData(path, 'b', 0);
    const readAgain = zk.getData(path);
    const conditional = zk.setData(path, 'c', 0);
    const removed = zk.delete(path, 1);
    const gone = zk.exists(path);
    assert.equal(await created, path);
    assert.equal((await read).data.toString(), 'a');
    assert.equal((await written).version, 1);
    assert.equal((await readAgain).data.toString(), 'b');
    await rejectsWith(conditional, 'BadVersion');
    await removed;
    assert.equal(await gone, null);
  });

  void test('mixed reads and writes from many callers in flight at once', async () => {
    const root = uniquePath('mixed');
    await zk.create(root);
    const creates = Array.from({ length: 200 }, (_, i) => zk.create(`${root}/n${i}`, String(i)));
    const reads = Array.from({ length: 200 }, (_, i) => zk.getData(`${root}/n${i}`));
    await Promise.all(creates);
    const data = await Promise.all(reads);
    assert.deepEqual(
      data.map((d) => d.data.toString()),
      Array.from({ length: 200 }, (_, i) => String(i)),
    );
    assert.equal((await zk.getChildren(root)).length, 200);
  });
});
