/**
 * JuteWriter: primitives, the 4-byte big-endian frame prefix, and growth past the initial
 * capacity.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JuteReader, JuteWriter, encode, StatCodec, GetDataResponseCodec, ReplyHeaderCodec } from '../../../src/jute/index.js';
import { hex, int32, int64, stat, bytes as bytesArb } from './arbitraries.js';

void describe('JuteWriter primitives', () => {
  void test('int, long, bool, buffer, string, vector in big-endian jute layout', () => {
    const w = new JuteWriter();
    w.writeInt(-2).writeLong(0x0102030405060708n).writeBool(true).writeBool(false);
    w.writeBuffer(Buffer.from('ab')).writeBuffer(null).writeBuffer(new Uint8Array(0));
    w.writeString('é').writeString(null).writeString('');
    w.writeVector(['x'], (x, s) => void x.writeString(s)).writeVector(null, () => undefined).writeVector([], () => undefined);
    w.writeRaw(Buffer.from([0xaa, 0xbb]));
    assert.equal(
      w.toBuffer().toString('hex'),
      hex(
        'fffffffe 0102030405060708 01 00' +
          '00000002 6162 ffffffff 00000000' +
          '00000002 c3a9 ffffffff 00000000' +
          '00000001 00000001 78 ffffffff 00000000' +
          'aabb',
      ).toString('hex'),
    );
    assert.equal(w.length, 4 + 8 + 1 + 1 + 6 + 4 + 4 + 6 + 4 + 4 + 9 + 4 + 4 + 2);
  });

  void test('longs wrap to signed 64 bits; the 64-bit edges are exact', () => {
    const w = new JuteWriter();
    w.writeLong(-(1n << 63n)).writeLong((1n << 63n) - 1n).writeLong(1n << 64n).writeLong((1n << 64n) - 1n);
    assert.equal(w.toBuffer().toString('hex'), '8000000000000000' + '7fffffffffffffff' + '0000000000000000' + 'ffffffffffffffff');
  });

  void test('what the writer writes, the reader reads', () => {
    fc.assert(
      fc.property(int32, int64, fc.boolean(), bytesArb, fc.string(), (i, l, b, buf, s) => {
        const w = new JuteWriter({ capacityBytes: 1 });
        w.writeInt(i).writeLong(l).writeBool(b).writeBuffer(buf).writeString(s);
        const r = new JuteReader(w.toBuffer());
        assert.equal(r.readInt(), i);
        assert.equal(r.readLong(), l);
        assert.equal(r.readBool(), b);
        assert.deepStrictEqual(r.readBuffer(), buf);
        assert.equal(r.readString(), s);
        assert.equal(r.remaining, 0);
      }),
      { numRuns: 300 },
    );
  });
});

void describe('JuteWriter.frame()', () => {
  void test('an empty frame is just a zero length', () => {
    assert.equal(JuteWriter.frame().toBuffer().toString('hex'), '00000000');
    assert.equal(JuteWriter.frame().length, 4);
  });

  void test('the prefix is the 4-byte big-endian length of the body', () => {
    const w = JuteWriter.frame();
    ReplyHeaderCodec.write(w, { xid: 1, zxid: 2n, err: 0 });
    const packet = w.toBuffer();
    assert.equal(packet.length, 20);
    assert.equal(packet.subarray(0, 4).toString('hex'), '00000010');
    assert.equal(packet.subarray(4).toString('hex'), '00000001 0000000000000002 00000000'.replace(/ /g, ''));
  });

  void test('framed bytes = 4-byte BE length + the unframed encoding, for any record', () => {
    fc.assert(
      fc.property(fc.record({ data: fc.option(bytesArb, { nil: null }), stat }, { noNullPrototype: true }), (value) => {
        const body = encode(GetDataResponseCodec, value);
        const w = JuteWriter.frame();
        GetDataResponseCodec.write(w, value);
        const packet = w.toBuffer();
        assert.equal(packet.readUInt32BE(0), body.length);
        assert.ok(packet.subarray(4).equals(body));
      }),
      { numRuns: 300 },
    );
  });

  void test('a body above 65535 bytes sets the high bytes of the prefix', () => {
    const data = Buffer.alloc(70_000, 7);
    const w = JuteWriter.frame();
    w.writeBuffer(data);
    const packet = w.toBuffer();
    assert.equal(packet.subarray(0, 4).toString('hex'), (70_004).toString(16).padStart(8, '0'));
    assert.equal(packet.readInt32BE(0), 70_004);
    assert.ok(packet.subarray(8).equals(data));
  });

  void test('toBuffer() may be called again after more writes; the prefix follows', () => {
    const w = JuteWriter.frame(8);
    w.writeInt(1);
    assert.equal(w.toBuffer().toString('hex'), '00000004' + '00000001');
    w.writeInt(2);
    assert.equal(w.toBuffer().toString('hex'), '00000008' + '00000001' + '00000002');
  });
});

void describe('JuteWriter growth', () => {
  void test('growing across the default 256-byte capacity keeps every byte', () => {
    const w = new JuteWriter();
    for (let i = 0; i < 1000; i++) w.writeInt(i);
    const out = w.toBuffer();
    assert.equal(out.length, 4000);
    for (let i = 0; i < 1000; i++) assert.equal(out.readInt32BE(i * 4), i);
  });

  void test('a single write much larger than the capacity', () => {
    const big = Buffer.alloc(100_000);
    for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
    const w = JuteWriter.frame(16);
    w.writeInt(42).writeBuffer(big).writeString('end');
    const packet = w.toBuffer();
    const r = new JuteReader(packet);
    assert.equal(r.readInt(), packet.length - 4);
    assert.equal(r.readInt(), 42);
    assert.ok(r.readBuffer()?.equals(big));
    assert.equal(r.readString(), 'end');
  });

  void test('any capacity, framed or not, gives the same bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.boolean(), fc.array(stat, { maxLength: 8 }), (capacityBytes, framed, stats) => {
        const reference = new JuteWriter({ framed, capacityBytes: 4096 });
        const small = new JuteWriter({ framed, capacityBytes });
        for (const s of stats) {
          StatCodec.write(reference, s);
          StatCodec.write(small, s);
        }
        assert.ok(small.toBuffer().equals(reference.toBuffer()));
        assert.equal(small.length, (framed ? 4 : 0) + 68 * stats.length);
      }),
      { numRuns: 300 },
    );
  });

  void test('tiny and zero capacities work (a zero-capacity buffer used to never grow)', () => {
    for (const capacityBytes of [0, 1, 2, 3, 4]) {
      assert.equal(JuteWriter.frame(capacityBytes).toBuffer().toString('hex'), '00000000', `frame(${capacityBytes})`);
      const w = new JuteWriter({ capacityBytes });
      w.writeLong(-1n).writeString('abc');
      assert.equal(w.toBuffer().toString('hex'), 'ffffffffffffffff' + '00000003' + '616263');
    }
  });

  void test('growth of strings with multi-byte characters at the capacity edge', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.string({ unit: 'grapheme', maxLength: 30 }), (pad, s) => {
        const w = new JuteWriter({ capacityBytes: 32 });
        w.writeRaw(Buffer.alloc(pad));
        w.writeString(s);
        const r = new JuteReader(w.toBuffer(), pad);
        assert.equal(r.readString(), s);
        assert.equal(r.remaining, 0);
      }),
      { numRuns: 300 },
    );
  });
});
