/**
 * Decoder robustness. A frame comes from the network: whatever its bytes, every decoder
 * either returns a value or throws JuteDecodeError — never a RangeError or TypeError, never
 * a hang, never an allocation sized by an unchecked length field.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decode,
  encode,
  JuteDecodeError,
  JuteReader,
  GetChildrenResponseCodec,
  MultiRequestCodec,
  MultiResponseCodec,
  SetWatches2Codec,
  WhoAmIResponseCodec,
  GetACLResponseCodec,
  CreateRequestCodec,
  GetDataResponseCodec,
  AuthPacketCodec,
} from '../../../src/jute/index.js';
import type { Codec } from '../../../src/jute/index.js';
import { codecCases, hex, LengthRecordingWriter, INT32_MAX, INT32_MIN } from './arbitraries.js';

const NUM_RUNS = 200;
/** Generous: every single decode here is microseconds; a hang trips the per-test timeout. */
const TEST_OPTIONS = { timeout: 20_000 };

/** Decodes; returns true on success, false on JuteDecodeError, and fails the test on anything else. */
function decodesOrRejects(codec: Codec<unknown>, bytes: Buffer, label: string): boolean {
  try {
    decode(codec, bytes);
    return true;
  } catch (error) {
    if (error instanceof JuteDecodeError) return false;
    assert.fail(`${label}: ${String(error)} (${(error as Error)?.constructor?.name}) on ${bytes.toString('hex')}`);
  }
}

/** Bytes that look like jute: ints near the interesting edges, lengths, short runs of bytes. */
const int32Bytes = (value: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value);
  return b;
};
const juteish = fc
  .array(
    fc.oneof(
      fc.constantFrom(-1, -2, 0, 1, 2, 3, 4, 5, 8, 13, 14, 15, 16, INT32_MAX, INT32_MIN, 0x10000).map(int32Bytes),
      fc.integer({ min: INT32_MIN, max: INT32_MAX }).map(int32Bytes),
      fc.constantFrom(Buffer.from([0]), Buffer.from([1]), Buffer.from([0xff])),
      fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a)),
    ),
    { maxLength: 24 },
  )
  .map((parts) => Buffer.concat(parts));

/** Length values that must never make a decoder misbehave. */
const corruptLength = fc.oneof(
  fc.constantFrom(-2, -3, -1000, INT32_MIN, INT32_MIN + 1, INT32_MAX, INT32_MAX - 1, 0x40000000, 0x7ffffff0, 0x01000000),
  fc.integer({ min: INT32_MIN, max: INT32_MAX }),
  fc.integer({ min: -1, max: 64 }),
);

void describe('decoders never throw anything but JuteDecodeError', () => {
  for (const { name, codec } of codecCases) {
    void test(`${name}: arbitrary bytes`, TEST_OPTIONS, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 160 }), (raw) => {
          decodesOrRejects(codec, Buffer.from(raw), name);
        }),
        { numRuns: NUM_RUNS },
      );
    });

    void test(`${name}: jute-shaped garbage`, TEST_OPTIONS, () => {
      fc.assert(
        fc.property(juteish, (bytes) => {
          decodesOrRejects(codec, bytes, name);
        }),
        { numRuns: NUM_RUNS },
      );
    });
  }
});

void describe('truncated, extended and corrupted valid encodings', () => {
  for (const { name, codec, arb, optionalTail } of codecCases) {
    void test(`${name}: every proper prefix is rejected with JuteDecodeError`, TEST_OPTIONS, () => {
      fc.assert(
        fc.property(arb, (value) => {
          const bytes = encode(codec, value);
          for (let cut = 0; cut < bytes.length; cut++) {
            const ok = decodesOrRejects(codec, bytes.subarray(0, cut), name);
            // Only the optional trailing readOnly byte of the handshake may be missing.
            const mayOmit = optionalTail === true && cut === bytes.length - 1 && (value as { readOnly?: boolean }).readOnly !== undefined;
            assert.equal(ok, mayOmit, `${name}: prefix of ${cut}/${bytes.length} bytes ${ok ? 'decoded' : 'rejected'}`);
          }
        }),
        { numRuns: 50 },
      );
    });

    void test(`${name}: trailing bytes are rejected by decode()`, TEST_OPTIONS, () => {
      fc.assert(
        fc.property(arb, fc.uint8Array({ minLength: 1, maxLength: 16 }), (value, extra) => {
          const bytes = Buffer.concat([encode(codec, value), extra]);
          const ok = decodesOrRejects(codec, bytes, name);
          // A handshake without readOnly reads exactly one more byte as the flag.
          const mayAccept = optionalTail === true && extra.length === 1 && (value as { readOnly?: boolean }).readOnly === undefined;
          assert.equal(ok, mayAccept);
        }),
        { numRuns: NUM_RUNS },
      );
    });

    void test(`${name}: corrupted length fields (negative, huge, off by some)`, TEST_OPTIONS, () => {
      fc.assert(
        fc.property(arb, fc.nat(), corruptLength, (value, pick, length) => {
          const writer = new LengthRecordingWriter();
          codec.write(writer, value);
          const bytes = Buffer.from(writer.toBuffer());
          if (writer.lengthOffsets.length === 0) return; // no length fields in this record
          const offset = writer.lengthOffsets[pick % writer.lengthOffsets.length]!;
          bytes.writeInt32BE(length, offset);
          decodesOrRejects(codec, bytes, name);
        }),
        { numRuns: NUM_RUNS },
      );
    });

    void test(`${name}: single-byte corruption anywhere`, TEST_OPTIONS, () => {
      fc.assert(
        fc.property(arb, fc.nat(), fc.integer({ min: 0, max: 255 }), (value, pick, byte) => {
          const bytes = Buffer.from(encode(codec, value));
          if (bytes.length === 0) return;
          bytes[pick % bytes.length] = byte;
          decodesOrRejects(codec, bytes, name);
        }),
        { numRuns: NUM_RUNS },
      );
    });
  }

  void test('the length recorder sees the length fields it should', () => {
    const writer = new LengthRecordingWriter();
    CreateRequestCodec.write(writer, {
      path: '/a',
      data: Buffer.from('x'),
      acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
      flags: 0,
    });
    // path @0, data @6, acl vector @11, scheme @19, id @28
    assert.deepEqual(writer.lengthOffsets, [0, 6, 11, 19, 28]);
  });
});

void describe('hostile lengths fail fast', () => {
  const vectorCodecs: [string, Codec<unknown>][] = [
    ['GetChildrenResponse', GetChildrenResponseCodec as Codec<unknown>],
    ['WhoAmIResponse', WhoAmIResponseCodec as Codec<unknown>],
    ['GetACLResponse', GetACLResponseCodec as Codec<unknown>],
  ];

  for (const [name, codec] of vectorCodecs) {
    void test(`${name}: a vector count of 2^31-1 in a tiny frame throws JuteDecodeError at once`, TEST_OPTIONS, () => {
      const started = process.hrtime.bigint();
      for (let i = 0; i < 1000; i++) {
        assert.throws(() => decode(codec, hex('7fffffff 00000000 00000000')), JuteDecodeError);
      }
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      // 1000 rejections: a pre-allocated 2^31-element array even once would take far longer.
      assert.ok(elapsedMs < 2000, `took ${elapsedMs} ms`);
    });
  }

  void test('the vector error names the lie and where it was told', () => {
    assert.throws(
      () => decode(GetChildrenResponseCodec, hex('7fffffff 00000000')),
      (error: unknown) => error instanceof JuteDecodeError && error.offset === 0 && /vector length 2147483647/.test(error.message),
    );
  });

  void test('a vector whose count fits the frame but whose items do not is still rejected', () => {
    // count 1000 with 1000 zero bytes: each empty string needs 4 bytes, so the frame runs out.
    const bytes = Buffer.concat([hex('000003e8'), Buffer.alloc(1000)]);
    assert.throws(() => decode(GetChildrenResponseCodec, bytes), JuteDecodeError);
    // count 250 with 1000 zero bytes: exactly 250 empty strings.
    const exact = Buffer.concat([hex('000000fa'), Buffer.alloc(1000)]);
    assert.equal(decode(GetChildrenResponseCodec, exact).children.length, 250);
  });

  void test('SetWatches2 with a huge count in its last vector', () => {
    const bytes = hex('0000000000000000 00000000 00000000 00000000 00000000 7fffffff');
    assert.throws(() => decode(SetWatches2Codec, bytes), JuteDecodeError);
  });

  void test('buffer and string lengths: 2^31-1, -2 and INT32_MIN are rejected, -1 is null', () => {
    for (const length of ['7fffffff', 'fffffffe', '80000000', '00000100']) {
      assert.throws(() => decode(GetDataResponseCodec, hex(length + '00'.repeat(68))), JuteDecodeError, length);
      assert.throws(() => decode(AuthPacketCodec, hex('00000000' + length + '00000000')), JuteDecodeError, length);
    }
    assert.equal(decode(GetDataResponseCodec, hex('ffffffff' + '00'.repeat(68))).data, null);
  });

  void test('a long multi made of empty ops terminates and decodes', () => {
    // 10,000 delete ops with empty path, then the terminator.
    const op = hex('00000002 00 ffffffff 00000000 00000000');
    const bytes = Buffer.concat([...Array<Buffer>(10_000).fill(op), hex('ffffffff 01 ffffffff')]);
    assert.equal(decode(MultiRequestCodec, bytes).length, 10_000);
    assert.throws(() => decode(MultiRequestCodec, bytes.subarray(0, bytes.length - 1)), JuteDecodeError);
  });

  void test('a multi response of only headers without done is rejected', () => {
    const op = hex('00000002 00 00000000');
    assert.throws(() => decode(MultiResponseCodec, Buffer.concat(Array<Buffer>(1000).fill(op))), JuteDecodeError);
  });
});

void describe('JuteReader primitives', () => {
  void test('reads respect the end given to the constructor, not the buffer length', () => {
    const buf = hex('00000001 00000002 00000003');
    const reader = new JuteReader(buf, 4, 8);
    assert.equal(reader.remaining, 4);
    assert.equal(reader.readInt(), 2);
    assert.equal(reader.position, 8);
    assert.throws(() => reader.readInt(), JuteDecodeError);
    assert.throws(() => reader.readBool(), JuteDecodeError);
  });

  void test('a failed read does not move the position', () => {
    const reader = new JuteReader(hex('000000'));
    assert.throws(() => reader.readInt(), JuteDecodeError);
    assert.throws(() => reader.readLong(), JuteDecodeError);
    assert.equal(reader.position, 0);
  });

  void test('JuteDecodeError carries the offset and a name', () => {
    const reader = new JuteReader(hex('00000001 00000010 00'));
    reader.readInt();
    assert.throws(
      () => reader.readBuffer(),
      (error: unknown) =>
        error instanceof JuteDecodeError && error.name === 'JuteDecodeError' && error.offset === 8 && error instanceof Error,
    );
  });

  void test('primitives on arbitrary bytes only ever throw JuteDecodeError', () => {
    const reads: ((r: JuteReader) => unknown)[] = [
      (r) => r.readInt(),
      (r) => r.readLong(),
      (r) => r.readBool(),
      (r) => r.readBuffer(),
      (r) => r.readString(),
      (r) => r.readText(),
      (r) => r.readVector((x) => x.readString()),
      (r) => r.readVector((x) => x.readLong()),
    ];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat({ max: reads.length - 1 }), { maxLength: 12 }), (raw, plan) => {
        const reader = new JuteReader(Buffer.from(raw));
        for (const step of plan) {
          try {
            reads[step]!(reader);
          } catch (error) {
            assert.ok(error instanceof JuteDecodeError, String(error));
            return;
          }
          assert.ok(reader.remaining >= 0);
        }
      }),
      { numRuns: 500 },
    );
  });

  void test('invalid UTF-8 decodes (with replacement characters) rather than throwing', () => {
    const reader = new JuteReader(hex('00000003 ff c3 28'));
    assert.equal(typeof reader.readString(), 'string');
    assert.equal(reader.remaining, 0);
  });
});
