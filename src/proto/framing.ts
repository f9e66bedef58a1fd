/**
 * Splits a TCP byte stream into length-prefixed frames (4-byte big-endian length, then the
 * record). Frames that lie inside one chunk are handed out as views of it, without a copy.
 */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

export class FrameDecoder {
  private pending: Buffer | null = null;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes received but not yet part of a whole frame. */
  get bufferedBytes(): number {
    return this.pending?.length ?? 0;
  }

  /** Peeks at the first 4 bytes of the stream, before any frame was taken (four-letter words). */
  peekHead(): Buffer | null {
    return this.pending && this.pending.length >= 4 ? this.pending.subarray(0, 4) : null;
  }

  /**
   * Appends a chunk and returns every whole frame now available. Throws FrameError for a
   * negative or oversized length; the caller closes the connection, as ZooKeeper does.
   */
  push(chunk: Buffer): Buffer[] {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Buffer[] = [];
    let offset = 0;
    while (buf.length - offset >= 4) {
      const length = buf.readInt32BE(offset);
      if (length < 0 || length > this.maxFrameBytes) {
        this.pending = null;
        throw new FrameError(`Len error ${length}`);
      }
      if (buf.length - offset - 4 < length) break;
      frames.push(buf.subarray(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    if (offset === buf.length) {
      this.pending = null;
    } else {
      // Keep only the tail; copy it so a large consumed chunk can be freed.
      buf = buf.subarray(offset);
      this.pending = offset === 0 && this.pending ? buf : Buffer.from(buf);
    }
    return frames;
  }
}
