/**
 * What travels: a Request is one encoded call awaiting its reply (its frame, how to decode
 * the reply, which watch to register when it succeeds, how to settle its promise), and the
 * reply decoders, one function per response record, allocated once.
 */
import {
  Create2ResponseCodec,
  GetACLResponseCodec,
  GetChildren2ResponseCodec,
  GetEphemeralsResponseCodec,
  JuteWriter,
  StatCodec,
  WhoAmIResponseCodec,
} from '../jute/index.js';
import type { ACL, ClientInfo, JuteReader, Stat } from '../jute/index.js';
import type { WatchKind } from './watches.js';
import type { WatchCallback } from './types.js';

/** Decodes a reply body (the header was read); throwing a ZooKeeperError fails only this call. */
export type Decoder = (reader: JuteReader) => unknown;

export class Request {
  constructor(
    readonly xid: number,
    readonly opCode: number,
    /** The encoded request; emptied once written to a socket. */
    public frame: Buffer,
    readonly path: string,
    readonly decode: Decoder,
    readonly watchKind: WatchKind,
    readonly watch: WatchCallback | undefined,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: Error) => void,
  ) {}
}

/** A credential added with addAuth; re-sent after every reconnect. */
export class AuthEntry {
  /** The addAuth() call still waiting for the server's answer, if any. */
  waiter: { resolve: () => void; reject: (error: Error) => void } | null = null;
  constructor(
    readonly scheme: string,
    readonly auth: Buffer,
    readonly frame: Buffer,
  ) {}
}

/** RequestHeader (xid, type) at the start of a frame; `bodyBytes` sizes the buffer once. */
export function requestWriter(xid: number, opCode: number, bodyBytes: number): JuteWriter {
  return JuteWriter.frame(12 + bodyBytes).writeInt(xid).writeInt(opCode);
}

/** Upper bound of a string's UTF-8 size without measuring it. */
export function maxUtf8Bytes(text: string): number {
  return text.length * 3;
}

export interface DataResult {
  data: Buffer;
  stat: Stat;
}
export interface ChildrenResult {
  children: string[];
  stat: Stat;
}
export interface ACLResult {
  acl: ACL[];
  stat: Stat;
}
export interface CreateResult {
  path: string;
  stat: Stat;
}

export const EMPTY_DATA: Buffer = Buffer.alloc(0);

export const decodeNothing: Decoder = () => undefined;
export const decodePath: Decoder = (r) => r.readText();
export const decodeStat: Decoder = (r): Stat => StatCodec.read(r);
export const decodeCreate2: Decoder = (r): CreateResult => Create2ResponseCodec.read(r);
/** The data is a view of the received bytes, not a copy. */
export const decodeData: Decoder = (r): DataResult => ({ data: r.readBuffer() ?? EMPTY_DATA, stat: StatCodec.read(r) });
export const decodeChildren: Decoder = (r): string[] => r.readVector((x) => x.readText());
export const decodeChildren2: Decoder = (r): ChildrenResult => GetChildren2ResponseCodec.read(r);
export const decodeACL: Decoder = (r): ACLResult => GetACLResponseCodec.read(r);
export const decodeEphemerals: Decoder = (r): string[] => GetEphemeralsResponseCodec.read(r).ephemerals;
export const decodeInt: Decoder = (r): number => r.readInt();
export const decodeWhoAmI: Decoder = (r): ClientInfo[] => WhoAmIResponseCodec.read(r).clientInfo;
