/**
 * Four-letter words on the client port, in ZooKeeper's output format (tools parse it).
 * The server hands in a read-only view of its figures; this module only formats them.
 */
export const FOUR_LETTER_WORDS = new Set([
  'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'hash', 'isro', 'mntr', 'ruok', 'srst', 'srvr',
  'stat', 'stmk', 'wchc', 'wchp', 'wchs',
]);

export const ZOOKEEPER_VERSION = '3.8.4';
export const PADDOCK_VERSION = '0.1.0';
export const VERSION_STRING = `${ZOOKEEPER_VERSION}-paddock-${PADDOCK_VERSION}, built on 2026-11-22 00:00 UTC`;

export interface ClientView {
  remoteAddress: string;
  remotePort: number;
  queued: number;
  received: number;
  sent: number;
}

export interface ServerView {
  mode: 'standalone' | 'leader' | 'follower' | 'observer';
  latency: { min: number; avg: number; max: number };
  packetsReceived: number;
  packetsSent: number;
  connections: ClientView[];
  outstanding: number;
  lastZxid: bigint;
  nodeCount: number;
  watchCount: number;
  watchPathCount: number;
  ephemeralsCount: number;
  approximateDataSize: number;
  config: ReadonlyArray<[string, string | number]>;
}

function hex(zxid: bigint): string {
  return '0x' + BigInt.asUintN(64, zxid).toString(16);
}

function srvrLines(view: ServerView, withClients: boolean): string {
  const lines = [`Zookeeper version: ${VERSION_STRING}`];
  if (withClients) {
    lines.push('Clients:');
    for (const c of view.connections) {
      lines.push(` /${c.remoteAddress}:${c.remotePort}[1](queued=${c.queued},recved=${c.received},sent=${c.sent})`);
    }
    lines.push('');
  }
  lines.push(
    `Latency min/avg/max: ${view.latency.min}/${view.latency.avg.toFixed(4)}/${view.latency.max}`,
    `Received: ${view.packetsReceived}`,
    `Sent: ${view.packetsSent}`,
    `Connections: ${view.connections.length}`,
    `Outstanding: ${view.outstanding}`,
    `Zxid: ${hex(view.lastZxid)}`,
    `Mode: ${view.mode}`,
    `Node count: ${view.nodeCount}`,
  );
  return lines.join('\n') + '\n';
}

function mntr(view: ServerView): string {
  const rows: Array<[string, string | number]> = [
    ['zk_version', VERSION_STRING],
    ['zk_server_state', view.mode],
    ['zk_avg_latency', view.latency.avg.toFixed(4)],
    ['zk_max_latency', view.latency.max],
    ['zk_min_latency', view.latency.min],
    ['zk_packets_received', view.packetsReceived],
    ['zk_packets_sent', view.packetsSent],
    ['zk_num_alive_connections', view.connections.length],
    ['zk_outstanding_requests', view.outstanding],
    ['zk_znode_count', view.nodeCount],
    ['zk_watch_count', view.watchCount],
    ['zk_ephemerals_count', view.ephemeralsCount],
    ['zk_approximate_data_size', view.approximateDataSize],
  ];
  return rows.map(([key, value]) => `${key}\t${value}`).join('\n') + '\n';
}

/** The reply to a four-letter word, or null when Paddock does not implement it yet. */
export function runFourLetterWord(word: string, view: ServerView, allowed: ReadonlySet<string> | '*'): string {
  if (allowed !== '*' && !allowed.has(word)) {
    return `${word} is not executed because it is not in the whitelist.\n`;
  }
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'srvr':
      return srvrLines(view, false);
    case 'stat':
      return srvrLines(view, true);
    case 'mntr':
      return mntr(view);
    case 'conf':
      return view.config.map(([key, value]) => `${key}=${value}`).join('\n') + '\n';
    case 'isro':
      return 'rw';
    default:
      return `${word} is not implemented by Paddock yet.\n`;
  }
}
