/** The binary codec of ZAB messages: round trips, and hostile bytes fail with JuteDecodeError. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JuteDecodeError, OpCode } from '../../../src/jute/index.js';
import type { Txn } from '../../../src/tree/index.js';
import { decodeMessage, encodeMessage } from '../../../src/zab/index.js';
import type { ZabMessage } from '../../../src/zab/index.js';

const zxid = fc.bigInt({ min: 0n, max: (1n << 63n) - 1n });
const epoch = fc.integer({ min: 0, max: 0xffffffff });
const bytes = fc.option(fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b)), { nil: null });
const txn: fc.Arbitrary<Txn> = fc.record({
  sessionId: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
  cxid: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  zxid,
  timeMs: fc.integer({ min: 0, max: 2 ** 48 }),
  body: fc.oneof(
    fc.record({ type: fc.constant(OpCode.setData), path: fc.string(), data: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)), version: fc.integer({ min: -1, max: 1000 }) }),
    fc.record({ type: fc.constant(OpCode.delete), path: fc.string() }),
    fc.record({ type: fc.constant(OpCode.createSession), timeoutMs: fc.integer({ min: 0, max: 60000 }) }),
  ),
});

const message: fc.Arbitrary<ZabMessage> = fc.oneof(
  fc.record({
    type: fc.constant('vote' as const),
    leader: fc.integer({ min: -1, max: 255 }),
    zxid: fc.oneof(zxid, fc.constant(-1n)),
    electionEpoch: fc.integer({ min: 0, max: 2 ** 40 }),
    peerEpoch: fc.oneof(epoch, fc.constant(-1)),
    state: fc.constantFrom('looking' as const, 'following' as const, 'leading' as const, 'observing' as const),
  }),
  fc.record({ type: fc.constant('followerInfo' as const), observer: fc.boolean(), acceptedEpoch: epoch, lastZxid: zxid }),
  fc.record({ type: fc.constant('leaderInfo' as const), epoch }),
  fc.record({ type: fc.constant('ackEpoch' as const), currentEpoch: fc.oneof(epoch, fc.constant(-1)), lastZxid: zxid }),
  fc.record({ type: fc.constantFrom('commit' as const, 'ack' as const, 'upToDate' as const), zxid }),
  fc.record({ type: fc.constantFrom('diff' as const, 'trunc' as const), zxid, lastZxid: zxid }),
  fc.record({ type: fc.constant('snap' as const), zxid, lastZxid: zxid, snapshot: bytes }),
  fc.record({ type: fc.constantFrom('proposal' as const, 'inform' as const), txn }),
  fc.record({ type: fc.constant('newLeader' as const), epoch, lastZxid: zxid }),
  fc.record({ type: fc.constant('ping' as const), zxid, payload: bytes }),
);

/** fast-check builds null-prototype records; deepEqual compares prototypes. */
function plain(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(plain);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
}

describe('zab codec', () => {
  test('every message round-trips', () => {
    fc.assert(
      fc.property(message, (m) => {
        assert.deepEqual(decodeMessage(encodeMessage(m)), plain(m));
      }),
      { seed: 4242, numRuns: 2000 },
    );
  });

  test('truncated, extended and random bytes fail with JuteDecodeError only', () => {
    fc.assert(
      fc.property(message, fc.nat(), (m, cut) => {
        const full = encodeMessage(m);
        assert.throws(() => decodeMessage(full.subarray(0, cut % full.length)), JuteDecodeError);
        assert.throws(() => decodeMessage(Buffer.concat([full, Buffer.from([0])])), JuteDecodeError);
      }),
      { seed: 7, numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
        try {
          decodeMessage(Buffer.from(raw));
        } catch (err) {
          assert.ok(err instanceof JuteDecodeError, String(err));
        }
      }),
      { seed: 8, numRuns: 2000 },
    );
  });

  test('packet numbers are ZooKeeper QuorumPacket types', () => {
    assert.equal(encodeMessage({ type: 'proposal', txn: { sessionId: 1n, cxid: 1, zxid: 1n, timeMs: 1, body: { type: OpCode.closeSession } } }).readInt32BE(0), 2);
    assert.equal(encodeMessage({ type: 'newLeader', epoch: 1, lastZxid: 0n }).readInt32BE(0), 10);
    assert.equal(encodeMessage({ type: 'followerInfo', observer: true, acceptedEpoch: 1, lastZxid: 0n }).readInt32BE(0), 16);
    assert.equal(encodeMessage({ type: 'ackEpoch', currentEpoch: -1, lastZxid: 0n }).readInt32BE(0), 18);
  });
});
