/**
 * Encodes jute primitives into a growable buffer. `frame()` reserves the 4-byte length
 * prefix up front so a whole packet is built with one allocation in the common case.
 */
const INITIAL_CAPACITY_BYTES = 256;
/** Room for at least the frame's length prefix; a zero capacity would never grow by doubling. */
const MIN_CAPACITY_BYTES = 8;

export class JuteWriter {
  private buf: Buffer;
  private offset = 0;
  private readonly framed: boolean;

  constructor(options: { framed?: boolean; capacityBytes?: number } = {}) {
    const capacityBytes = Math.max(Math.trunc(options.capacityBytes ?? INITIAL_CAPACITY_BYTES) || 0, MIN_CAPACITY_BYTES);
    this.buf = Buffer.allocUnsafe(capacityBytes);
    this.framed = options.framed ?? false;
    if (this.framed) this.offset = 4;
  }

  static frame(capacityBytes?: number): JuteWriter {
    return new JuteWriter({ framed: true, capacityBytes });
  }

  get length(): number {
    return this.offset;
  }

  private ensure(count: number): void {
    if (this.offset + count <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < this.offset + count) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  }

  writeInt(value: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(value, this.offset);
    this.offset += 4;
    return this;
  }

  writeLong(value: bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt.asIntN(64, value), this.offset);
    this.offset += 8;
    return this;
  }

  writeBool(value: boolean): this {
    this.ensure(1);
    this.buf[this.offset++] = value ? 1 : 0;
    return this;
  }

  writeBuffer(value: Uint8Array | null): this {
    if (value === null) return this.writeInt(-1);
    this.writeInt(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.offset);
    this.offset += value.length;
    return this;
  }

  writeString(value: string | null): this {
    if (value === null) return this.writeInt(-1);
    const byteLength = Buffer.byteLength(value, 'utf8');
    this.writeInt(byteLength);
    this.ensure(byteLength);
    this.buf.write(value, this.offset, byteLength, 'utf8');
    this.offset += byteLength;
    return this;
  }

  writeVector<T>(items: readonly T[] | null, writeItem: (writer: JuteWriter, item: T) => void): this {
    if (items === null) return this.writeInt(-1);
    this.writeInt(items.length);
    for (const item of items) writeItem(this, item);
    return this;
  }

  writeRaw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.offset);
    this.offset += bytes.length;
    return this;
  }

  /** The encoded bytes; for a framed writer, with the length prefix filled in. */
  toBuffer(): Buffer {
    if (this.framed) this.buf.writeInt32BE(this.offset - 4, 0);
    return this.buf.subarray(0, this.offset);
  }
}
