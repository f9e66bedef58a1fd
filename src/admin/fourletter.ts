/**
 * Four-letter words on the client port, in ZooKeeper's output format (monitoring tools parse
 * it). The server hands in a read-only view of its state; this module only formats it.
 */
import { hostname } from 'node:os';

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
  sessionId: bigint | null;
  timeoutMs: number;
  establishedAtMs: number;
  lastZxid: bigint;
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
  sessions: Array<{ id: bigint; timeoutMs: number }>;
  ephemerals: Array<{ sessionId: bigint; paths: string[] }>;
  /** Watched paths with the sessions watching them. */
  watchesByPath: Array<{ path: string; sessions: bigint[] }>;
  dataDirBytes: number;
  dataLogDirBytes: number;
  config: ReadonlyArray<[string, string | number]>;
  /** Ensemble figures for mntr; absent when standalone. */
  ensemble?: {
    /** ZooKeeper's zk_peer_state, e.g. "following - broadcast". */
    peerState: string;
    quorumSize: number;
    /** Elections of this member (LOOKING until serving), as ZooKeeper's election_time summary. */
    electionTime: { count: number; sumMs: number; minMs: number; maxMs: number };
    /** Leader only, from the leader role: every learner, the synced voters and observers. */
    learners?: number;
    syncedFollowers?: number;
    syncedObservers?: number;
    /** Leader only (Paddock's own key): proposals not committed yet. */
    pendingProposals?: number;
  };
}

/** What a word may do besides answer: reset counters. */
export interface FourLetterActions {
  resetConnectionStats(): void;
  resetServerStats(): void;
}

export function hex(value: bigint): string {
  return '0x' + BigInt.asUintN(64, value).toString(16);
}

function srvrLines(view: ServerView, withClients: boolean): string {
  const lines = [`Zookeeper version: ${VERSION_STRING}`];
  if (withClients) {
    lines.push('Clients:');
    for (const c of view.connections) lines.push(` /${c.remoteAddress}:${c.remotePort}[1](queued=${c.queued},recved=${c.received},sent=${c.sent})`);
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

function cons(view: ServerView): string {
  const lines = view.connections.map((c) => {
    const fields = [`queued=${c.queued}`, `recved=${c.received}`, `sent=${c.sent}`];
    if (c.sessionId !== null) {
      fields.push(`sid=${hex(c.sessionId)}`, `est=${c.establishedAtMs}`, `to=${c.timeoutMs}`, `lzxid=${hex(c.lastZxid)}`);
    }
    return ` /${c.remoteAddress}:${c.remotePort}[1](${fields.join(',')})`;
  });
  return lines.join('\n') + '\n\n';
}

/** A double as Java prints it (AvgMinMaxCounter's avg): 12.0, 3.25. */
function javaDouble(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

function mntr(view: ServerView): string {
  const memory = process.memoryUsage();
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
    ['zk_global_sessions', view.sessions.length],
    ['zk_last_proposal_size', -1],
    ['zk_heap_used_bytes', memory.heapUsed],
    ['zk_rss_bytes', memory.rss],
  ];
  const e = view.ensemble;
  if (e !== undefined) {
    rows.push(['zk_peer_state', e.peerState], ['zk_quorum_size', e.quorumSize]);
    const t = e.electionTime;
    rows.push(
      ['zk_avg_election_time', javaDouble(t.count === 0 ? 0 : Math.round((t.sumMs / t.count) * 1e4) / 1e4)],
      ['zk_min_election_time', t.minMs],
      ['zk_max_election_time', t.maxMs],
      ['zk_cnt_election_time', t.count],
      ['zk_sum_election_time', t.sumMs],
    );
    if (e.learners !== undefined) {
      rows.push(
        ['zk_learners', e.learners],
        ['zk_synced_followers', e.syncedFollowers ?? 0],
        ['zk_synced_non_voting_followers', 0],
        ['zk_synced_observers', e.syncedObservers ?? 0],
        ['zk_pending_syncs', 0],
        ['zk_pending_proposals', e.pendingProposals ?? 0],
      );
    }
  }
  return rows.map(([key, value]) => `${key}\t${value}`).join('\n') + '\n';
}

function envi(): string {
  const memory = process.memoryUsage();
  const mb = (bytes: number) => `${Math.round(bytes / 1048576)}MB`;
  const rows: Array<[string, string]> = [
    ['zookeeper.version', VERSION_STRING],
    ['host.name', hostname()],
    ['java.version', `node ${process.version}`],
    ['java.vendor', 'Paddock on Node.js'],
    ['java.home', process.execPath],
    ['java.class.path', ''],
    ['java.library.path', ''],
    ['java.io.tmpdir', process.env.TMPDIR ?? '/tmp'],
    ['java.compiler', '<NA>'],
    ['os.name', process.platform === 'linux' ? 'Linux' : process.platform],
    ['os.arch', process.arch === 'x64' ? 'amd64' : process.arch],
    ['os.version', process.version],
    ['user.name', process.env.USER ?? ''],
    ['user.home', process.env.HOME ?? ''],
    ['user.dir', process.cwd()],
    ['os.memory.free', mb(memory.heapTotal - memory.heapUsed)],
    ['os.memory.max', mb(memory.rss)],
    ['os.memory.total', mb(memory.heapTotal)],
  ];
  return 'Environment:\n' + rows.map(([key, value]) => `${key}=${value}`).join('\n') + '\n';
}

function dump(view: ServerView): string {
  const lines = ['SessionTracker dump:', `Global Sessions(${view.sessions.length}):`];
  for (const s of view.sessions) lines.push(`${hex(s.id)}\t${s.timeoutMs}ms`);
  lines.push('ephemeral nodes dump:', `Sessions with Ephemerals (${view.ephemerals.length}):`);
  for (const e of view.ephemerals) {
    lines.push(`${hex(e.sessionId)}:`);
    for (const path of e.paths) lines.push(`\t${path}`);
  }
  lines.push('Connections dump:', `Connections Sets (${view.connections.length}):`);
  for (const c of view.connections) if (c.sessionId !== null) lines.push(`${hex(c.sessionId)}`);
  return lines.join('\n') + '\n';
}

function wchc(view: ServerView): string {
  const bySession = new Map<bigint, string[]>();
  for (const { path, sessions } of view.watchesByPath) {
    for (const id of sessions) {
      let paths = bySession.get(id);
      if (!paths) bySession.set(id, (paths = []));
      paths.push(path);
    }
  }
  const lines: string[] = [];
  for (const [id, paths] of bySession) {
    lines.push(hex(id));
    for (const path of paths.sort()) lines.push(`\t${path}`);
  }
  return lines.join('\n') + '\n';
}

function wchp(view: ServerView): string {
  const lines: string[] = [];
  for (const { path, sessions } of [...view.watchesByPath].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    lines.push(path);
    for (const id of sessions) lines.push(`\t${hex(id)}`);
  }
  return lines.join('\n') + '\n';
}

/** The reply to a four-letter word, after the whitelist check. */
export function runFourLetterWord(
  word: string,
  view: () => ServerView,
  allowed: ReadonlySet<string> | '*',
  actions: FourLetterActions,
): string {
  if (allowed !== '*' && !allowed.has(word)) return `${word} is not executed because it is not in the whitelist.\n`;
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'srvr':
      return srvrLines(view(), false);
    case 'stat':
      return srvrLines(view(), true);
    case 'mntr':
      return mntr(view());
    case 'conf':
      return view().config.map(([key, value]) => `${key}=${value}`).join('\n') + '\n';
    case 'cons':
      return cons(view());
    case 'crst':
      actions.resetConnectionStats();
      return 'Connection stats reset.\n';
    case 'srst':
      actions.resetServerStats();
      return 'Server stats reset.\n';
    case 'envi':
      return envi();
    case 'dirs': {
      const v = view();
      return `datadir_size: ${v.dataDirBytes}\nlogdir_size: ${v.dataLogDirBytes}\n`;
    }
    case 'dump':
      return dump(view());
    case 'wchs': {
      const v = view();
      return `${new Set(v.watchesByPath.flatMap((w) => w.sessions)).size} connections watching ${v.watchPathCount} paths\nTotal watches:${v.watchCount}\n`;
    }
    case 'wchc':
      return wchc(view());
    case 'wchp':
      return wchp(view());
    case 'isro':
      return 'rw';
    case 'gtmk':
      // Paddock has no trace mask to set; it reports that nothing is traced.
      return '0';
    case 'stmk':
    case 'hash':
      return `${word} is not supported by Paddock.\n`;
    default:
      return `${word} is not a known command.\n`;
  }
}
