/**
 * The text an ensemble member shows in /zookeeper/config: its quorum configuration as
 * ZooKeeper 3.8 writes it there (ZKDatabase.initConfigInZKDatabase with the QuorumVerifier's
 * text). Clients parse it: `zkCli config`, kazoo, Curator's EnsembleTracker.
 *
 * Observed on ZooKeeper 3.8.0 (Debian), static config, reconfigEnabled unset:
 *
 *   server.1=127.0.0.1:2888:3888:participant
 *   server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182
 *   server.4=127.0.0.1:2891:3891:observer;0.0.0.0:2184
 *   version=0
 *
 * One line a server and a `version=` line, joined by "\n", no newline at the end. The role is
 * always written. The client address appears only where the server.N line itself gives one
 * (a separate clientPort key adds none), and a bare `;port` shows as `0.0.0.0:port`. Hosts are
 * written as configured, except IP literals, which Java's InetSocketAddress prints in its own
 * form (`[::1]` as `[0:0:0:0:0:0:0:1]`, `127.1` as `127.0.0.1`).
 */
import { isIPv6 } from 'node:net';
import type { ServerSpec } from './config.js';

/** The version of a configuration read from zoo.cfg: the only kind Paddock has, without reconfig. */
export const STATIC_CONFIG_VERSION = 0n;

/** `version` is the configuration's version, printed in hex as ZooKeeper does. */
export function quorumConfigText(servers: readonly ServerSpec[], version: bigint): string {
  const lines = javaHashMapOrder(servers).map((s) => {
    let line = `server.${s.id}=${javaHostString(s.host)}:${s.quorumPort}:${s.electionPort}:${s.role}`;
    if (s.clientPort !== undefined) line += `;${javaHostString(s.clientHost ?? '0.0.0.0')}:${s.clientPort}`;
    return line;
  });
  lines.push(`version=${version.toString(16)}`);
  return lines.join('\n');
}

/**
 * ZooKeeper prints its members from a HashMap<Long, QuorumServer>, so the lines come in that
 * map's bucket order: ids 1..15 ascending, but 20 before 10. Ids that share a bucket (equal
 * modulo the table size, 16 up to 12 servers) come in the order Java's Properties handed them
 * over, which depends on the whole file; those keep `servers`' order here (by id).
 */
function javaHashMapOrder(servers: readonly ServerSpec[]): ServerSpec[] {
  let capacity = 16;
  while (servers.length > capacity * 0.75) capacity *= 2;
  const bucket = (id: number): number => {
    // Long.hashCode of an int-sized id, then HashMap.hash's spreading of the high bits.
    const h = id >= 0 ? id : ~id;
    return (h ^ (h >>> 16)) & (capacity - 1);
  };
  return servers
    .map((server, index) => ({ server, index, bucket: bucket(server.id) }))
    .sort((a, b) => a.bucket - b.bucket || a.index - b.index)
    .map((entry) => entry.server);
}

/**
 * ZooKeeper's delimitedHostString(InetSocketAddress): getHostString(), in brackets when it
 * holds a ':'. A hostname stays as written; an IP literal is parsed by Java and printed back.
 */
export function javaHostString(host: string): string {
  const v4 = javaIPv4(host);
  if (v4 !== null) return v4;
  const v6 = javaIPv6(host);
  if (v6 !== null) return v6.includes(':') ? `[${v6}]` : v6;
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Java's IPv4 literal forms (IPAddressUtil.textToNumericFormatV4): one to four decimal parts,
 * the last one filling the remaining bytes (`127.1` is 127.0.0.1), at most 15 characters.
 */
function javaIPv4(text: string): string | null {
  if (text.length === 0 || text.length > 15 || !/^\d+(\.\d+){0,3}$/.test(text)) return null;
  const parts = text.split('.').map(Number);
  const last = parts.pop()!;
  if (parts.some((part) => part > 255) || last >= 2 ** (8 * (4 - parts.length))) return null;
  const bytes = [...parts];
  for (let i = 3 - parts.length; i >= 0; i--) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return bytes.join('.');
}

/**
 * Inet6Address.getHostAddress: eight groups in lowercase hex without leading zeros and
 * without `::`. An IPv4-mapped address (::ffff:a.b.c.d) becomes Java's Inet4Address. A
 * numeric scope stays (`%1`); a named one Java could not resolve here, so it stays as written.
 */
function javaIPv6(text: string): string | null {
  const [address = '', scope, ...rest] = text.split('%');
  if (rest.length > 0 || !isIPv6(address)) return null;
  if (scope !== undefined && !/^\d+$/.test(scope)) return null;
  const groups = ipv6Groups(address);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return groups.map((g) => g.toString(16)).join(':') + (scope === undefined ? '' : `%${scope}`);
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted tail converted). */
function ipv6Groups(address: string): number[] {
  const parse = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((field) => {
      if (!field.includes('.')) return [Number.parseInt(field, 16)];
      const [a, b, c, d] = field.split('.').map(Number) as [number, number, number, number];
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const [head = '', tail] = address.split('::');
  const front = parse(head);
  if (tail === undefined) return front;
  const back = parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}
