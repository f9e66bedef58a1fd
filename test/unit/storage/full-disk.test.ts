/**
 * A full disk under a real in-process server: writes acknowledged before the disk filled
 * survive a restart with their data and versions; the write that hit the full disk is never
 * acknowledged (the client sees ConnectionLoss), onFatal is called with ENOSPC, the server
 * stops, and after a restart on the same data dir (real file system) that write is absent
 * and the server takes new writes that survive the next restart too.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { PaddockServer, buildConfig, parseProperties, silentLogger } from '../../../src/server/index.js';
import type { ServerConfig, ServerOptions } from '../../../src/server/index.js';
import { ZooKeeperClient, ZooKeeperError } from '../../../src/client/index.js';
import { SEGMENT_HEADER_BYTES } from '../../../src/storage/index.js';
import { FaultyFileSystem } from '../../support/faulty-fs.js';
import { bounded } from './helpers.js';

function configFor(dataDir: string): ServerConfig {
  const entries = parseProperties(`tickTime=100\ndataDir=${dataDir}\nclientPort=0\nclientPortAddress=127.0.0.1\n`);
  // Small segments, so that preallocation steps happen too.
  entries.set('zookeeper.preAllocSize', '64');
  return buildConfig(entries, { baseDir: dataDir, env: {} });
}

interface Running {
  server: PaddockServer;
  client: ZooKeeperClient;
}

async function startWith(config: ServerConfig, options?: ServerOptions): Promise<Running> {
  const server = new PaddockServer(config, silentLogger(), options);
  await bounded(server.start(), 'server start');
  // The first start writes a snapshot in the background; let it finish before faults begin.
  await bounded(server.storage.snapshot(server.tree), 'startup snapshot');
  const client = await bounded(ZooKeeperClient.connect({ connectString: `127.0.0.1:${server.address().port}`, sessionTimeoutMs: 4000 }), 'client connect');
  return { server, client };
}

/** Resolves true when nothing accepts connections on the port any more. */
function portClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

type Expected = Map<string, { data: string; version: number }>;

async function ackedWrites(client: ZooKeeperClient): Promise<Expected> {
  const expected: Expected = new Map();
  await client.create('/acked', 'v0');
  expected.set('/acked', { data: 'v0', version: 0 });
  for (let i = 1; i <= 5; i++) {
    const stat = await client.setData('/acked', `v${i}`, i - 1);
    expected.set('/acked', { data: `v${i}`, version: stat.version });
  }
  assert.equal(expected.get('/acked')!.version, 5);
  await client.create('/dir', '');
  expected.set('/dir', { data: '', version: 0 });
  const pending: Array<Promise<string>> = [];
  for (let i = 0; i < 50; i++) pending.push(client.create(`/dir/n${i}`, `data ${i} ${'x'.repeat(i * 20)}`));
  await Promise.all(pending);
  for (let i = 0; i < 50; i++) expected.set(`/dir/n${i}`, { data: `data ${i} ${'x'.repeat(i * 20)}`, version: 0 });
  await client.create('/gone', 'bye');
  await client.delete('/gone', 0);
  const stat = await client.setData('/dir/n7', 'seven', 0);
  expected.set('/dir/n7', { data: 'seven', version: stat.version });
  return expected;
}

async function checkContents(client: ZooKeeperClient, expected: Expected, where: string): Promise<void> {
  for (const [path, { data, version }] of expected) {
    const got = await client.getData(path);
    assert.equal(Buffer.from(got.data).toString('utf8'), data, `${where}: data of ${path}`);
    assert.equal(got.stat.version, version, `${where}: version of ${path}`);
  }
  assert.equal(await client.exists('/gone'), null, `${where}: /gone stays deleted`);
  assert.equal((await client.getChildren('/dir')).length, 50, `${where}: children of /dir`);
}

type Fill = 'nothing written' | 'a partial record' | 'right after a new segment header';

describe('full disk under a running server', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  for (const fill of ['nothing written', 'a partial record', 'right after a new segment header'] as const satisfies readonly Fill[]) {
    test(`full disk (${fill}): acknowledged writes survive, the failed one is neither acknowledged nor recovered`, async () => {
      const fs = await FaultyFileSystem.create('paddock-fulldisk-');
      const config = configFor(fs.dir);
      let resolveFatal: (error: Error) => void = () => undefined;
      const fatal = new Promise<Error>((resolve) => (resolveFatal = resolve));
      let fatalCalls = 0;
      const first = await startWith(config, {
        fs,
        onFatal: (error) => {
          fatalCalls++;
          resolveFatal(error);
        },
      });
      cleanups.push(async () => {
        await first.client.close();
        await first.server.stop();
        await fs.cleanup();
      });
      const port = first.server.address().port;
      const expected = await ackedWrites(first.client);

      if (fill === 'right after a new segment header') {
        // A snapshot rolls the log: the next batch opens a new segment.
        await bounded(first.server.storage.snapshot(first.server.tree), 'snapshot');
        fs.failWritesAfter(SEGMENT_HEADER_BYTES);
      } else if (fill === 'a partial record') {
        fs.setCapacity(fs.writtenBytes + 13);
      } else {
        fs.failWritesAfter(0);
      }
      const lostSet = first.client.setData('/acked', 'lost', 5);
      const lostCreate = first.client.create('/lost', 'never');
      const outcomes = await bounded(Promise.allSettled([lostSet, lostCreate]), 'the unacknowledged writes to fail');
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 'rejected', 'a write on a full disk is never acknowledged');
        const reason = (outcome as PromiseRejectedResult).reason as unknown;
        assert.ok(reason instanceof ZooKeeperError, String(reason));
        assert.equal(reason.codeName, 'ConnectionLoss');
      }
      const error = await bounded(fatal, 'onFatal');
      assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
      assert.equal(fatalCalls, 1);
      assert.equal(await bounded(portClosed(port), 'port check'), true, 'the server stopped listening');
      await bounded(first.client.close(), 'closing the first client');

      // Restart on the same data dir with the real file system.
      const second = await startWith(config);
      cleanups.push(async () => {
        await second.client.close();
        await second.server.stop();
      });
      await checkContents(second.client, expected, `${fill}, after restart`);
      assert.equal(await second.client.exists('/lost'), null, 'the unacknowledged create is absent');
      // The server goes on taking writes, and they survive the next restart too.
      const stat = await bounded(second.client.setData('/acked', 'after restart', 5), 'a write after the restart');
      expected.set('/acked', { data: 'after restart', version: stat.version });
      assert.equal(stat.version, 6);
      await bounded(second.client.close(), 'closing the second client');
      await bounded(second.server.stop(), 'stopping the second server');

      const third = await startWith(config);
      cleanups.push(async () => {
        await third.client.close();
        await third.server.stop();
      });
      await checkContents(third.client, expected, `${fill}, after the second restart`);
      await bounded(third.client.close(), 'closing the third client');
      await bounded(third.server.stop(), 'stopping the third server');
    });
  }
});
