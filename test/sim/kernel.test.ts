import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { Kernel, Prng } from './kernel.js';
import { SimNetwork } from './network.js';

describe('sim kernel', () => {
  test('the PRNG replays from a seed and derived streams differ', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const xs = Array.from({ length: 20 }, () => a.nextUint32());
    assert.deepEqual(Array.from({ length: 20 }, () => b.nextUint32()), xs);
    assert.notDeepEqual(
      Array.from({ length: 5 }, () => Prng.derive(1, 'm1').next()),
      Array.from({ length: 5 }, () => Prng.derive(1, 'm2').next()),
    );
    const r = new Prng(7);
    for (let i = 0; i < 1000; i++) {
      const n = r.int(5);
      assert.ok(n >= 0 && n < 5 && Number.isInteger(n));
      const x = r.next();
      assert.ok(x >= 0 && x < 1);
    }
    assert.deepEqual(new Prng(3).shuffle([1, 2, 3, 4, 5]).sort(), [1, 2, 3, 4, 5]);
  });

  test('events run in (time, insertion) order; promise jobs run between events', async () => {
    const k = new Kernel({ seed: 1 });
    const seen: string[] = [];
    k.schedule(10, () => seen.push('b'));
    k.schedule(5, () => {
      seen.push('a');
      void Promise.resolve().then(() => seen.push('a-job'));
    });
    k.schedule(10, () => seen.push('c'));
    await k.runFor(20);
    assert.deepEqual(seen, ['a', 'a-job', 'b', 'c']);
    assert.equal(k.elapsed, 20);
  });

  test('a killed incarnation drops its timers and soon-callbacks; every() repeats', async () => {
    const k = new Kernel({ seed: 2 });
    const inc = k.incarnation('m1');
    const p = k.platformFor(inc, { net: new SimNetwork(k).host('m1') });
    let ticks = 0;
    let after = 0;
    p.timers.every(100, () => ticks++);
    p.timers.after(1000, () => after++);
    await k.runFor(550);
    assert.equal(ticks, 5);
    inc.kill();
    p.timers.soon(() => after++);
    await k.runFor(1000);
    assert.equal(ticks, 5);
    assert.equal(after, 0);
  });

  test('clock skew, steps and drift', async () => {
    const k = new Kernel({ seed: 3 });
    const p = k.platformFor(k.incarnation('m1'), { net: new SimNetwork(k).host('m1'), skewMs: 500, driftPpm: 1000 });
    assert.equal(p.clock.now(), k.now + 500);
    await k.runFor(10_000);
    assert.equal(p.clock.now(), k.now + 500 + 10);
    p.stepClock(-2000);
    assert.equal(p.clock.now(), k.now + 500 + 10 - 2000);
  });

  // (An unhandled rejection fails the run the same way; node:test's own handler would fail
  // this test too, so it is not provoked here.)
  test('an exception in an event fails the run', async () => {
    const k = new Kernel({ seed: 4 });
    k.schedule(1, () => {
      throw new Error('boom');
    });
    await assert.rejects(k.runFor(10), /an event threw: Error: boom/);
  });

  test('runUntil and settle stop at the predicate or the limit', async () => {
    const k = new Kernel({ seed: 6 });
    let n = 0;
    const p = k.platformFor(k.incarnation('x'), { net: new SimNetwork(k).host('x') });
    p.timers.every(10, () => n++);
    assert.equal(await k.runUntil(() => n >= 3, 1000), true);
    assert.equal(k.elapsed, 30);
    assert.equal(await k.runUntil(() => false, 100), false);
    assert.equal(k.elapsed, 130);
    const value = await k.settle(new Promise<number>((resolve) => p.timers.after(50, () => resolve(9))));
    assert.equal(value, 9);
    await assert.rejects(k.settle(new Promise(() => undefined), 100), /did not settle/);
  });

  test('the trace ring keeps the last entries', () => {
    const k = new Kernel({ seed: 7, traceLimit: 3 });
    for (let i = 0; i < 5; i++) k.trace(`e${i}`);
    assert.deepEqual(
      k.traceLines().map((l) => l.split(' ')[1]),
      ['e2', 'e3', 'e4'],
    );
  });
});
