import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { StreamSocket } from '../../src/platform/index.js';
import { Kernel } from './kernel.js';
import { SimNetwork } from './network.js';

interface Ends {
  client: StreamSocket;
  server: StreamSocket | null;
  log: string[];
}

/** A listener on b:80 and a connection from a; every event of both ends goes to `log`. */
async function connectPair(k: Kernel, net: SimNetwork, a = 'a', b = 'b'): Promise<Ends> {
  const ends: Ends = { client: null as unknown as StreamSocket, server: null, log: [] };
  const watch = (name: string, s: StreamSocket) => {
    s.on('data', (d) => ends.log.push(`${name}:data:${d.toString()}`));
    s.on('end', () => ends.log.push(`${name}:end`));
    s.on('close', () => ends.log.push(`${name}:close`));
    s.on('error', (e) => ends.log.push(`${name}:error:${(e as NodeJS.ErrnoException).code}`));
    s.on('connect', () => ends.log.push(`${name}:connect`));
  };
  await net.host(b).listen(b, 80, (s) => {
    ends.server = s;
    watch('S', s);
  });
  ends.client = net.host(a).connect(b, 80);
  watch('C', ends.client);
  await k.runFor(50);
  return ends;
}

describe('sim network', () => {
  test('connect, FIFO delivery per direction, end closes both', async () => {
    const k = new Kernel({ seed: 1 });
    const net = new SimNetwork(k, { minLatencyMs: 0.1, maxLatencyMs: 20 });
    const e = await connectPair(k, net);
    assert.deepEqual(e.log, ['C:connect']);
    for (let i = 0; i < 50; i++) e.client.write(`${i}`);
    for (let i = 0; i < 50; i++) e.server!.write(`r${i}`);
    e.client.end();
    await k.runFor(5000);
    const got = e.log.filter((l) => l.startsWith('S:data')).map((l) => l.slice(7));
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => `${i}`));
    const back = e.log.filter((l) => l.startsWith('C:data')).map((l) => l.slice(7));
    assert.deepEqual(back, Array.from({ length: 50 }, (_, i) => `r${i}`));
    assert.ok(e.log.indexOf('S:end') > e.log.lastIndexOf('S:data:49'));
    assert.ok(e.log.includes('S:close') && e.log.includes('C:end') && e.log.includes('C:close'));
  });

  test('nothing listening: ECONNREFUSED then close', async () => {
    const k = new Kernel({ seed: 2 });
    const net = new SimNetwork(k);
    const s = net.host('a').connect('b', 81);
    const log: string[] = [];
    s.on('error', (e) => log.push((e as NodeJS.ErrnoException).code!));
    s.on('close', () => log.push('close'));
    await k.runFor(100);
    assert.deepEqual(log, ['ECONNREFUSED', 'close']);
  });

  test('a partition holds data and delivers it in order when healed; connects time out', async () => {
    const k = new Kernel({ seed: 3 });
    const net = new SimNetwork(k, { userTimeoutMs: 10_000 });
    const e = await connectPair(k, net);
    net.partition(['a'], ['b']);
    e.client.write('x1');
    e.client.write('x2');
    await k.runFor(3000);
    assert.ok(!e.log.some((l) => l.startsWith('S:data')));
    const late = net.host('a').connect('b', 80);
    const lateLog: string[] = [];
    late.on('error', (err) => lateLog.push((err as NodeJS.ErrnoException).code!));
    await k.runFor(1500);
    assert.deepEqual(lateLog, ['ETIMEDOUT']);
    net.heal();
    await k.runFor(100);
    assert.deepEqual(
      e.log.filter((l) => l.startsWith('S:data')),
      ['S:data:x1', 'S:data:x2'],
    );
  });

  test('asymmetric partition: one direction flows, the other is held', async () => {
    const k = new Kernel({ seed: 4 });
    const net = new SimNetwork(k, { userTimeoutMs: 60_000 });
    const e = await connectPair(k, net);
    net.partition(['a'], ['b'], false);
    e.client.write('up');
    e.server!.write('down');
    await k.runFor(1000);
    assert.deepEqual(
      e.log.filter((l) => l.includes('data')),
      ['C:data:down'],
    );
    net.unblock('a', 'b');
    await k.runFor(100);
    assert.ok(e.log.includes('S:data:up'));
  });

  test('held data past the user timeout resets; the RST reaches the peer after the heal', async () => {
    const k = new Kernel({ seed: 5 });
    const net = new SimNetwork(k, { userTimeoutMs: 5000 });
    const e = await connectPair(k, net);
    net.partition(['a'], ['b']);
    e.client.write('lost');
    await k.runFor(6000);
    assert.deepEqual(e.log.slice(1), ['C:error:ETIMEDOUT', 'C:close']);
    net.heal();
    await k.runFor(100);
    assert.deepEqual(e.log.slice(3), ['S:error:ECONNRESET', 'S:close']);
    assert.ok(!e.log.includes('S:data:lost'));
  });

  test('a drop resets the connection at both ends; a crashed host closes its peers', async () => {
    const k = new Kernel({ seed: 6 });
    const net = new SimNetwork(k);
    const e = await connectPair(k, net);
    net.dropRate = 1;
    e.client.write('x');
    await k.runFor(100);
    assert.deepEqual(e.log.slice(1).sort(), ['C:close', 'C:error:ECONNRESET', 'S:close', 'S:error:ECONNRESET']);
    net.dropRate = 0;
    const f = await connectPair(k, net, 'c', 'd');
    f.server!.write('bye');
    net.crashHost('d');
    await k.runFor(100);
    assert.deepEqual(f.log, ['C:connect', 'C:data:bye', 'C:end', 'C:close']);
    const again = net.host('c').connect('d', 80);
    let code = '';
    again.on('error', (err) => (code = (err as NodeJS.ErrnoException).code!));
    await k.runFor(100);
    assert.equal(code, 'ECONNREFUSED');
  });

  test('nothing written after a dropped segment arrives: TCP delivers no gap', async () => {
    const k = new Kernel({ seed: 8 });
    const net = new SimNetwork(k);
    const e = await connectPair(k, net);
    e.client.write('a');
    net.dropRate = 1;
    e.client.write('b');
    net.dropRate = 0;
    e.client.write('c');
    await k.runFor(100);
    const data = e.log.filter((line) => line.startsWith('S:data:'));
    assert.deepEqual(data, ['S:data:a']);
    assert.ok(e.log.includes('S:error:ECONNRESET'));
  });

  test('pause holds data events until resume', async () => {
    const k = new Kernel({ seed: 7 });
    const net = new SimNetwork(k);
    const e = await connectPair(k, net);
    e.server!.pause();
    e.client.write('p');
    await k.runFor(100);
    assert.ok(!e.log.includes('S:data:p'));
    e.server!.resume();
    await k.runFor(1);
    assert.ok(e.log.includes('S:data:p'));
  });

  test('the same seed gives the same delivery trace', async () => {
    const runOnce = async (seed: number) => {
      const k = new Kernel({ seed });
      const net = new SimNetwork(k, { recordDeliveries: true, maxLatencyMs: 10 });
      const e = await connectPair(k, net);
      for (let i = 0; i < 30; i++) {
        k.schedule(k.random.int(100), () => e.client.write(`c${i}`));
        k.schedule(k.random.int(100), () => e.server!.write(`s${i}`));
      }
      k.schedule(50, () => net.partition(['a'], ['b'], k.random.chance(0.5)));
      k.schedule(80, () => net.heal());
      await k.runFor(1000);
      return JSON.stringify({ d: net.deliveries, log: e.log });
    };
    assert.equal(await runOnce(11), await runOnce(11));
    assert.notEqual(await runOnce(11), await runOnce(12));
  });
});
