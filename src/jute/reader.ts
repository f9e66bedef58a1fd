/**
 * Decodes jute primitives from one frame. Every read checks bounds: a frame comes
 * from the network and is hostile until it has been decoded whole.
 */
export class JuteDecodeError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = 'JuteDecodeError';
  }
}

export class JuteReader {
  private offset: number;
  private readonly end: number;

  constructor(private readonly buf: Buffer, start = 0, end = buf.length) {
    // Clamped so that a reader over a bad frame length fails with JuteDecodeError, never RangeError.
    this.end = Math.min(Math.max(end, 0), buf.length);
    this.offset = Math.min(Math.max(start, 0), this.end);
  }

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(count: number): void {
    if (count < 0 || this.offset + count > this.end) {
      throw new JuteDecodeError(`need ${count} bytes, have ${this.end - this.offset}`, this.offset);
    }
  }

  readInt(): number {
    this.need(4);
    const value = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  readLong(): bigint {
    this.need(8);
    const value = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  readBool(): boolean {
    this.need(1);
    const value = this.buf[this.offset] !== 0;
    this.offset += 1;
    return value;
  }

  /** jute `buffer`: length -1 means null, which ZooKeeper treats as empty data. */
  readBuffer(): Buffer | null {
    const length = this.readInt();
    if (length === -1) return null;
    if (length < -1) throw new JuteDecodeError(`negative buffer length ${length}`, this.offset - 4);
    this.need(length);
    const value = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** jute `ustring`: UTF-8 with an int length; -1 means null. */
  readString(): string | null {
    const length = this.readInt();
    if (length === -1) return null;
    if (length < -1) throw new JuteDecodeError(`negative string length ${length}`, this.offset - 4);
    this.need(length);
    const value = this.buf.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** A string where null is not meaningful (paths, schemes): null decodes as "". */
  readText(): string {
    return this.readString() ?? '';
  }

  /** jute `vector<T>`: an int count, -1 means null (decoded here as an empty list). */
  readVector<T>(readItem: (reader: JuteReader) => T): T[] {
    const count = this.readInt();
    if (count === -1) return [];
    if (count < -1) throw new JuteDecodeError(`negative vector length ${count}`, this.offset - 4);
    // Each element takes at least one byte, so a count larger than what is left is a lie.
    if (count > this.remaining) throw new JuteDecodeError(`vector length ${count} exceeds frame`, this.offset - 4);
    const items: T[] = new Array<T>(count);
    for (let i = 0; i < count; i++) items[i] = readItem(this);
    return items;
  }
}
