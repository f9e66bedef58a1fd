/**
 * Round trips for every record codec in src/jute/records.ts:
 *   decode(encode(x)) deep-equals x, and encode(decode(encode(x))) byte-equals encode(x).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as jute from '../../../src/jute/index.js';
import { decode, encode, OpCode } from '../../../src/jute/index.js';
import type { MultiOp, MultiResult } from '../../../src/jute/index.js';
import { codecCases, multiOpByType, multiResultByType, connectRequest, connectResponse } from './arbitraries.js';

const NUM_RUNS = 300;

void describe('jute round trips', () => {
  void test('the table covers every codec records.ts exports', () => {
    const exported = Object.keys(jute)
      .filter((name) => name.endsWith('Codec'))
      .sort();
    const covered = codecCases.map((c) => c.name).sort();
    assert.deepEqual(covered, exported);
  });

  for (const { name, codec, arb } of codecCases) {
    void test(`${name}: decode(encode(x)) equals x and re-encodes to the same bytes`, () => {
      fc.assert(
        fc.property(arb, (value) => {
          const bytes = encode(codec, value);
          const decoded = decode(codec, bytes);
          assert.deepStrictEqual(decoded, value);
          const again = encode(codec, decoded);
          assert.ok(again.equals(bytes), `${name}: re-encoding changed the bytes`);
        }),
        { numRuns: NUM_RUNS },
      );
    });
  }
});

void describe('multi round trips per op type', () => {
  for (const [name, arb] of Object.entries(multiOpByType)) {
    void test(`MultiRequestCodec carries ${name} ops`, () => {
      fc.assert(
        fc.property(fc.array(arb, { minLength: 1, maxLength: 4 }), (ops: MultiOp[]) => {
          const bytes = encode(jute.MultiRequestCodec, ops);
          const decoded = decode(jute.MultiRequestCodec, bytes);
          assert.deepStrictEqual(decoded, ops);
          assert.equal(decoded[0]?.type, OpCode[name as keyof typeof OpCode]);
          // The first MultiHeader is {type, done=false, err=-1}, as MultiOperationRecord writes it.
          assert.equal(bytes.readInt32BE(0), OpCode[name as keyof typeof OpCode]);
          assert.equal(bytes[4], 0);
          assert.equal(bytes.readInt32BE(5), -1);
          assert.ok(encode(jute.MultiRequestCodec, decoded).equals(bytes));
        }),
        { numRuns: 100 },
      );
    });
  }

  for (const [name, arb] of Object.entries(multiResultByType)) {
    void test(`MultiResponseCodec carries ${name} results`, () => {
      fc.assert(
        fc.property(fc.array(arb, { minLength: 1, maxLength: 4 }), (results: MultiResult[]) => {
          const bytes = encode(jute.MultiResponseCodec, results);
          const decoded = decode(jute.MultiResponseCodec, bytes);
          assert.deepStrictEqual(decoded, results);
          const first = results[0]!;
          assert.equal(bytes.readInt32BE(0), first.type);
          assert.equal(bytes[4], 0);
          // MultiResponse writes err = the error code for an error result, 0 otherwise.
          assert.equal(bytes.readInt32BE(5), first.type === OpCode.error ? first.err : 0);
          assert.ok(encode(jute.MultiResponseCodec, decoded).equals(bytes));
        }),
        { numRuns: 100 },
      );
    });
  }

  void test('mixed multi requests and responses of up to 20 entries', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(...Object.values(multiOpByType)), { maxLength: 20 }),
        fc.array(fc.oneof(...Object.values(multiResultByType)), { maxLength: 20 }),
        (ops, results) => {
          assert.deepStrictEqual(decode(jute.MultiRequestCodec, encode(jute.MultiRequestCodec, ops)), ops);
          assert.deepStrictEqual(decode(jute.MultiResponseCodec, encode(jute.MultiResponseCodec, results)), results);
        },
      ),
      { numRuns: 200 },
    );
  });

  void test('an empty multi is just the terminator, both ways', () => {
    assert.deepStrictEqual(decode(jute.MultiRequestCodec, encode(jute.MultiRequestCodec, [])), []);
    assert.deepStrictEqual(decode(jute.MultiResponseCodec, encode(jute.MultiResponseCodec, [])), []);
    assert.equal(encode(jute.MultiRequestCodec, []).length, 9);
  });
});

void describe('ConnectRequest/ConnectResponse with and without readOnly', () => {
  void test('ConnectRequest: readOnly absent decodes as undefined, present as the boolean', () => {
    fc.assert(
      fc.property(connectRequest, fc.boolean(), (base, readOnly) => {
        const without = encode(jute.ConnectRequestCodec, { ...base, readOnly: undefined });
        const withFlag = encode(jute.ConnectRequestCodec, { ...base, readOnly });
        assert.equal(withFlag.length, without.length + 1);
        assert.ok(withFlag.subarray(0, without.length).equals(without));
        assert.equal(withFlag[without.length], readOnly ? 1 : 0);
        assert.deepStrictEqual(decode(jute.ConnectRequestCodec, without), { ...base, readOnly: undefined });
        assert.deepStrictEqual(decode(jute.ConnectRequestCodec, withFlag), { ...base, readOnly });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  void test('ConnectResponse: readOnly absent decodes as undefined, present as the boolean', () => {
    fc.assert(
      fc.property(connectResponse, fc.boolean(), (base, readOnly) => {
        const without = encode(jute.ConnectResponseCodec, { ...base, readOnly: undefined });
        const withFlag = encode(jute.ConnectResponseCodec, { ...base, readOnly });
        assert.equal(withFlag.length, without.length + 1);
        assert.deepStrictEqual(decode(jute.ConnectResponseCodec, without), { ...base, readOnly: undefined });
        assert.deepStrictEqual(decode(jute.ConnectResponseCodec, withFlag), { ...base, readOnly });
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
