/** Building reply frames: ReplyHeader, then the body record when the error code is Ok. */
import { JuteWriter, ReplyHeaderCodec } from '../jute/index.js';
import type { Codec } from '../jute/index.js';

export function replyFrame<T>(xid: number, zxid: bigint, err: number, codec?: Codec<T>, body?: T): Buffer {
  const writer = JuteWriter.frame(codec ? 128 : 20);
  ReplyHeaderCodec.write(writer, { xid, zxid, err });
  if (err === 0 && codec && body !== undefined) codec.write(writer, body);
  return writer.toBuffer();
}

export function errorFrame(xid: number, zxid: bigint, err: number): Buffer {
  return replyFrame(xid, zxid, err);
}
