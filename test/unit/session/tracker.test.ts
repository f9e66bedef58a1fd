/**
 * SessionTracker against ZooKeeper 3.8's SessionTrackerImpl and ExpiryQueue: deadlines go into
 * buckets at roundToNextInterval(now + timeout) = (t / tick + 1) * tick, a bucket expires once
 * now >= its time, expired sessions are marked closing and cannot be touched. All times are
 * injected; no timers run.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  SessionTracker,
  sessionPassword,
  checkSessionPassword,
  initialSessionId,
  SESSION_PASSWORD_BYTES,
} from '../../../src/session/tracker.js';

/** ExpiryQueue.roundToNextInterval with Java's integer division (times are non-negative). */
const roundToNextInterval = (timeMs: number, tickMs: number): number => (Math.floor(timeMs / tickMs) + 1) * tickMs;

const ids = (infos: Iterable<{ id: bigint }>): bigint[] => [...infos].map((s) => s.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

void describe('expiry buckets', () => {
  void test('a deadline is rounded up to the next multiple of the tick', () => {
    const tracker = new SessionTracker(2000, 1, 0);
    const info = tracker.add(7n, 6000, 10_500);
    assert.equal(info.expiresAtMs, 18_000);
    assert.equal(tracker.get(7n)?.expiresAtMs, 18_000);
  });

  void test('a deadline that is already a tick multiple goes to the next bucket', () => {
    const tracker = new SessionTracker(2000, 1, 0);
    assert.equal(tracker.add(1n, 6000, 10_000).expiresAtMs, 18_000);
    assert.deepEqual(tracker.expire(16_000), []);
    assert.deepEqual(tracker.expire(17_999), []);
    assert.deepEqual(ids(tracker.expire(18_000)), [1n]);
  });

  void test('a session expires exactly when now reaches its bucket time, not a millisecond before', () => {
    const tracker = new SessionTracker(1000, 1, 0);
    tracker.add(1n, 4000, 0); // bucket 5000
    assert.deepEqual(tracker.expire(4999), []);
    const expired = tracker.expire(5000);
    assert.deepEqual(ids(expired), [1n]);
    assert.equal(expired[0]!.closing, true);
    assert.equal(tracker.get(1n)?.closing, true);
  });

  void test('property: the bucket is roundToNextInterval(now + timeout), never before the timeout', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 2 ** 42 }),
        fc.integer({ min: 0, max: 120_000 }),
        (tickMs, nowMs, timeoutMs) => {
          const tracker = new SessionTracker(tickMs, 1, nowMs);
          const info = tracker.add(1n, timeoutMs, nowMs);
          const bucket = roundToNextInterval(nowMs + timeoutMs, tickMs);
          assert.equal(info.expiresAtMs, bucket);
          assert.ok(bucket > nowMs + timeoutMs && bucket <= nowMs + timeoutMs + tickMs);
          assert.equal(bucket % tickMs, 0);
          assert.deepEqual(tracker.expire(bucket - 1), []);
          assert.deepEqual(ids(tracker.expire(bucket)), [1n]);
        },
      ),
      { numRuns: 300 },
    );
  });

  void test('expire returns exactly the sessions whose bucket time has passed', () => {
    const tracker = new SessionTracker(1000, 1, 0);
    tracker.add(1n, 2000, 0); // 3000
    tracker.add(2n, 2000, 500); // 3000
    tracker.add(3n, 4000, 0); // 5000
    tracker.add(4n, 9000, 0); // 10000
    assert.deepEqual(ids(tracker.expire(2999)), []);
    assert.deepEqual(ids(tracker.expire(3000)), [1n, 2n]);
    assert.deepEqual(ids(tracker.expire(7000)), [3n]);
    assert.equal(tracker.get(4n)?.closing, false);
    assert.deepEqual(ids(tracker.expire(10_000)), [4n]);
  });

  void test('a late expire call picks up every overdue bucket at once', () => {
    const tracker = new SessionTracker(1000, 1, 0);
    tracker.add(1n, 1000, 0); // 2000
    tracker.add(2n, 3000, 0); // 4000
    tracker.add(3n, 8000, 0); // 9000
    assert.deepEqual(ids(tracker.expire(50_000)), [1n, 2n, 3n]);
  });

  void test('a session is never returned twice', () => {
    const tracker = new SessionTracker(1000, 1, 0);
    tracker.add(1n, 2000, 0);
    assert.deepEqual(ids(tracker.expire(3000)), [1n]);
    assert.deepEqual(tracker.expire(3000), []);
    assert.deepEqual(tracker.expire(100_000), []);
  });
});

void describe('touch', () => {
  void test('touch moves the deadline to roundToNextInterval(now + timeout)', () => {
    const tracker = new SessionTracker(1000, 1, 0);
    tracker.add(1n, 4000, 0); // 5000
    assert.equal(tracker.touch(1n, 3500), true);
    assert.equal(tracker.get(1n)?.expiresAtMs, 8000);
    assert.deepEqual(tracker.expire(5000), []);
    assert.deepEqual(tracker.expire(7999), []);
    assert.deepEqual(ids(tracker.expire(8000)), [1n]);
  });

  void test('a session touched more often than its timeout never expires', () => {
    const tracker = new SessionTracker(500, 1, 0);
    tracker.add(1n, 3000, 0);
    for (let now = 0; now <= 60_000; now += 1000) {
      assert.equal(tracker.touch(1n, now), true, `touch at ${now}`);
      assert.deepEqual(tracker.expire(now), [], `expired at ${now}`);
    }
  });

  void test('touching one session does not save another', () => {
    const tracker = new SessionTracker(1000, 1, 0);
    tracker.add(1n, 2000, 0);
    tracker.add(2n, 2000, 0);
    tracker.touch(1n, 2500);
    assert.deepEqual(ids(tracker.expire(3000)), [2n]);
  });

  void test('touch of an unknown session is false', () => {
    const tracker = new SessionTracker(1000, 1, 0);
    assert.equal(tracker.touch(99n, 0), false);
    assert.equal(tracker.get(99n), undefined);
  });

  void test('touch of an expired (closing) session is false and does not revive it', () => {
    const tracker = new SessionTracker(1000, 1, 0);
    tracker.add(1n, 2000, 0);
    assert.deepEqual(ids(tracker.expire(3000)), [1n]);
    assert.equal(tracker.touch(1n, 3000), false);
    assert.equal(tracker.get(1n)?.closing, true);
    assert.deepEqual(tracker.expire(10_000), []);
  });

  void test('setClosing: touch is refused and expire does not report the session', () => {
    const tracker = new SessionTracker(1000, 1, 0);
    tracker.add(1n, 2000, 0);
    tracker.setClosing(1n);
    assert.equal(tracker.touch(1n, 1000), false);
    assert.deepEqual(tracker.expire(100_000), []);
    tracker.setClosing(42n); // unknown: no effect, no throw
    assert.equal(tracker.get(42n), undefined);
  });
});

void describe('remove', () => {
  void test('a removed session is forgotten: never expired, never touched', () => {
    const tracker = new SessionTracker(1000, 1, 0);
    tracker.add(1n, 2000, 0);
    tracker.add(2n, 2000, 0);
    assert.equal(tracker.size, 2);
    tracker.remove(1n);
    assert.equal(tracker.size, 1);
    assert.equal(tracker.get(1n), undefined);
    assert.equal(tracker.touch(1n, 500), false);
    assert.deepEqual(ids(tracker.expire(3000)), [2n]);
    assert.deepEqual(ids(tracker.all()), [2n]);
  });

  void test('remove after expiry, and remove of an unknown id, are harmless', () => {
    const tracker = new SessionTracker(1000, 1, 0);
    tracker.add(1n, 1000, 0);
    tracker.expire(2000);
    tracker.remove(1n);
    tracker.remove(1n);
    tracker.remove(77n);
    assert.equal(tracker.size, 0);
    assert.deepEqual(tracker.expire(1e9), []);
  });

  void test('a session id can be tracked again after removal', () => {
    const tracker = new SessionTracker(1000, 1, 0);
    tracker.add(1n, 1000, 0);
    tracker.expire(2000);
    tracker.remove(1n);
    const again = tracker.add(1n, 1000, 5000);
    assert.equal(again.closing, false);
    assert.equal(again.expiresAtMs, 7000);
    assert.deepEqual(ids(tracker.expire(7000)), [1n]);
  });
});

void describe('model check: random add/touch/remove/close/expire with a monotonic clock', () => {
  type Cmd =
    | { kind: 'add'; id: number; timeoutMs: number }
    | { kind: 'touch'; id: number }
    | { kind: 'remove'; id: number }
    | { kind: 'close'; id: number }
    | { kind: 'expire' };
  const id = fc.integer({ min: 1, max: 8 });
  const cmd: fc.Arbitrary<Cmd> = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), id, timeoutMs: fc.integer({ min: 0, max: 10_000 }) }),
    fc.record({ kind: fc.constant('touch' as const), id }),
    fc.record({ kind: fc.constant('remove' as const), id }),
    fc.record({ kind: fc.constant('close' as const), id }),
    fc.record({ kind: fc.constant('expire' as const) }),
  );

  void test('expire returns exactly the live sessions whose bucket time <= now, each once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.array(fc.tuple(cmd, fc.integer({ min: 0, max: 4000 })), { maxLength: 80 }),
        (tickMs, script) => {
          const tracker = new SessionTracker(tickMs, 3, 0);
          const model = new Map<number, { timeoutMs: number; deadline: number; closing: boolean }>();
          const everExpired = new Set<number>();
          let now = 0;
          for (const [c, advance] of script) {
            now += advance;
            switch (c.kind) {
              case 'add':
                if (model.has(c.id)) break; // only fresh ids: re-adding is not part of this model
                tracker.add(BigInt(c.id), c.timeoutMs, now);
                model.set(c.id, { timeoutMs: c.timeoutMs, deadline: roundToNextInterval(now + c.timeoutMs, tickMs), closing: false });
                everExpired.delete(c.id);
                break;
              case 'touch': {
                const m = model.get(c.id);
                const expected = m !== undefined && !m.closing;
                assert.equal(tracker.touch(BigInt(c.id), now), expected);
                if (m && expected) m.deadline = roundToNextInterval(now + m.timeoutMs, tickMs);
                break;
              }
              case 'remove':
                tracker.remove(BigInt(c.id));
                model.delete(c.id);
                break;
              case 'close': {
                tracker.setClosing(BigInt(c.id));
                const m = model.get(c.id);
                if (m) m.closing = true;
                break;
              }
              case 'expire': {
                const expected = [...model]
                  .filter(([, m]) => !m.closing && m.deadline <= now)
                  .map(([k]) => BigInt(k))
                  .sort((a, b) => (a < b ? -1 : 1));
                const got = ids(tracker.expire(now));
                assert.deepEqual(got, expected, `expire(${now})`);
                for (const g of got) {
                  assert.ok(!everExpired.has(Number(g)), `session ${g} expired twice`);
                  everExpired.add(Number(g));
                  model.get(Number(g))!.closing = true;
                }
                break;
              }
            }
            assert.equal(tracker.size, model.size);
            for (const [k, m] of model) {
              const info = tracker.get(BigInt(k));
              assert.ok(info, `session ${k} missing`);
              assert.equal(info.closing, m.closing);
              if (!m.closing) assert.equal(info.expiresAtMs, m.deadline);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

void describe('session passwords', () => {
  void test('16 bytes, deterministic per session id', () => {
    for (const id of [0n, 1n, 0x0123456789abcdefn, -1n, -(2n ** 63n), 2n ** 63n - 1n]) {
      const a = sessionPassword(id);
      const b = sessionPassword(id);
      assert.equal(SESSION_PASSWORD_BYTES, 16);
      assert.equal(a.length, 16);
      assert.ok(a.equals(b));
    }
  });

  void test('different sessions get different passwords', () => {
    const seen = new Set<string>();
    const base = initialSessionId(1, 1_700_000_000_000);
    for (let i = 0n; i < 200n; i++) seen.add(sessionPassword(base + i).toString('hex'));
    assert.equal(seen.size, 200);
  });

  void test('checkSessionPassword accepts the right password only', () => {
    const id = initialSessionId(2, 1_700_000_000_000);
    const good = Buffer.from(sessionPassword(id));
    assert.equal(checkSessionPassword(id, good), true);
    const flipped = Buffer.from(good);
    flipped[15]! ^= 1;
    assert.equal(checkSessionPassword(id, flipped), false);
    assert.equal(checkSessionPassword(id, sessionPassword(id + 1n)), false);
    assert.equal(checkSessionPassword(id + 1n, good), false);
    assert.equal(checkSessionPassword(id, Buffer.alloc(16)), false);
  });

  void test('checkSessionPassword rejects short, long and empty passwords', () => {
    const id = 0x55n;
    const good = sessionPassword(id);
    assert.equal(checkSessionPassword(id, good.subarray(0, 15)), false);
    assert.equal(checkSessionPassword(id, Buffer.concat([good, Buffer.from([0])])), false);
    assert.equal(checkSessionPassword(id, Buffer.alloc(0)), false);
  });

  void test('a caller mutating its copy cannot change the password of the session', () => {
    const id = 0x77n;
    const before = Buffer.from(sessionPassword(id));
    const handed = sessionPassword(id);
    handed.fill(0);
    assert.ok(sessionPassword(id).equals(before));
    assert.equal(checkSessionPassword(id, before), true);
  });
});

void describe('initialSessionId (SessionTrackerImpl.initializeNextSessionId)', () => {
  /** ((time << 24) >>> 8) | (id << 56) on Java longs. */
  const java = (serverId: number, nowMs: number): bigint => {
    const time = BigInt.asUintN(64, BigInt(nowMs) << 24n) >> 8n;
    let sid = BigInt.asIntN(64, time | (BigInt(serverId) << 56n));
    if (sid === -(2n ** 63n)) sid += 1n; // EphemeralType.CONTAINER_EPHEMERAL_OWNER is skipped
    return sid;
  };

  void test('the server id is the top byte, the low 40 bits of the time come next, the low 16 bits are 0', () => {
    assert.equal(initialSessionId(1, 0x123456789a), 0x01123456789a0000n);
    assert.equal(initialSessionId(5, 0), 0x0500000000000000n);
    assert.equal(initialSessionId(0, 0xffffffffff), 0x00ffffffffff0000n);
  });

  void test('time bits above the low 40 are dropped (the >>> 8 keeps the top byte for the id)', () => {
    assert.equal(initialSessionId(1, 2 ** 40 + 5), 0x0100000000050000n);
    assert.equal(initialSessionId(0, 1_700_000_000_000) >> 56n, 0n);
  });

  void test('ids of servers 128..255 are negative Java longs with the server id in the top byte', () => {
    const id = initialSessionId(255, 1_700_000_000_000);
    assert.ok(id < 0n);
    assert.equal(BigInt.asUintN(64, id) >> 56n, 255n);
    assert.ok(id >= -(2n ** 63n));
  });

  void test('never the container owner marker 0x8000000000000000', () => {
    assert.equal(initialSessionId(128, 0), -(2n ** 63n) + 1n);
    assert.equal(initialSessionId(128, 2 ** 40), -(2n ** 63n) + 1n);
  });

  void test('property: matches initializeNextSessionId for every server id and time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (serverId, nowMs) => {
        const id = initialSessionId(serverId, nowMs);
        assert.equal(id, java(serverId, nowMs));
        assert.equal(BigInt.asUintN(64, id) >> 56n, BigInt(serverId));
        if (id !== -(2n ** 63n) + 1n) assert.equal(id & 0xffffn, 0n);
      }),
      { numRuns: 500 },
    );
  });

  void test('a tracker hands out consecutive ids starting at initialSessionId', () => {
    const tracker = new SessionTracker(2000, 3, 1_700_000_000_000);
    const first = tracker.newSessionId();
    assert.equal(first, initialSessionId(3, 1_700_000_000_000));
    assert.equal(tracker.newSessionId(), first + 1n);
    assert.equal(tracker.newSessionId(), first + 2n);
  });
});
