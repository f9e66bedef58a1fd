/**
 * A simulated Paddock ensemble: N real PaddockServers (3 or 5 voters, optionally an
 * observer), each on its own host of the SimNetwork, with its own SimDisk and a Platform
 * from the kernel. Crashes are a power cut: the incarnation's timers go, the host's sockets
 * close, the disk loses what was not durable (server.stop() is not called). A restart is a new
 * PaddockServer on the same disk.
 *
 * The cluster records, per member, what history.ts's MemberRecord holds: applied txns (zxid
 * and a hash of the encoded txn), leaderships from role changes, and tree digests.
 */
import { createHash } from 'node:crypto';
import { PaddockServer, buildConfig, silentLogger } from '../../src/server/index.js';
import type { ServerConfig } from '../../src/server/index.js';
import { encodeTxn, statOf } from '../../src/tree/index.js';
import type { DataTree, Txn } from '../../src/tree/index.js';
import type { RoleChange } from '../../src/zab/index.js';
import { hex } from './recording.js';
import type { Recorder } from './recording.js';
import { SimDisk } from './fs.js';
import type { MemberRecord } from './history.js';
import type { Incarnation, Kernel, SimPlatform } from './kernel.js';
import type { SimNetwork } from './network.js';

export const CLIENT_PORT = 2181;

export interface ClusterOptions {
  voters: number;
  observers?: number;
  tickTimeMs?: number;
  snapCount?: number;
  /** Committed txns a member keeps for DIFF (see ServerOptions.commitLogWindow). */
  commitLogWindow?: number;
  extendedTypes?: boolean;
  /** Extra zoo.cfg entries (win over the defaults). */
  config?: Record<string, string>;
}

/** Clock and timer faults of one member; they stay across restarts (they are the machine's). */
export interface MachineFaults {
  skewMs: number;
  driftPpm: number;
  timerJitterMs: number;
}

export interface Member {
  id: number;
  host: string;
  observer: boolean;
  disk: SimDisk;
  server: PaddockServer | null;
  platform: SimPlatform | null;
  incarnation: Incarnation | null;
  /** up: running (maybe not serving); crashed: power cut; stopped: it stopped itself (onFatal). */
  status: 'up' | 'crashed' | 'stopped';
  role: RoleChange | null;
  record: MemberRecord & { resets: Array<{ index: number; zxid: string; reason: string }> };
  machine: MachineFaults;
  starts: number;
}

/** A deterministic digest of a tree: every node's path, data and Stat, in path order. */
export function treeDigest(tree: DataTree): string {
  const hash = createHash('sha1');
  const paths = [...tree.entries()].map(([path]) => path).sort();
  for (const path of paths) {
    const node = tree.get(path)!;
    const s = statOf(node);
    hash.update(`${path}\0${node.data.toString('base64')}\0${s.czxid},${s.mzxid},${s.pzxid},${s.ctime},${s.mtime},${s.version},${s.cversion},${s.aversion},${s.ephemeralOwner},${s.dataLength},${s.numChildren}\n`);
  }
  return hash.digest('hex').slice(0, 16);
}

export function txnHash(txn: Txn): string {
  return createHash('sha1').update(encodeTxn(txn)).digest('hex').slice(0, 16);
}

export class SimCluster {
  readonly members: Member[] = [];
  readonly connectString: string;
  /** Stops that were not a full disk, and other fatal errors, fail the run through the kernel. */
  fatalStops = 0;

  constructor(
    readonly kernel: Kernel,
    readonly network: SimNetwork,
    private readonly recorder: Recorder,
    readonly options: ClusterOptions,
  ) {
    const total = options.voters + (options.observers ?? 0);
    for (let id = 1; id <= total; id++) {
      const host = `m${id}`;
      const disk = new SimDisk(kernel, host);
      disk.writeDurable('/data/myid', Buffer.from(`${id}\n`));
      this.members.push({
        id,
        host,
        observer: id > options.voters,
        disk,
        server: null,
        platform: null,
        incarnation: null,
        status: 'crashed',
        role: null,
        record: { member: id, applied: [], leaderships: [], digests: [], resets: [] },
        machine: { skewMs: 0, driftPpm: 0, timerJitterMs: 0 },
        starts: 0,
      });
    }
    this.connectString = this.members.map((m) => `${m.host}:${CLIENT_PORT}`).join(',');
  }

  get hosts(): string[] {
    return this.members.map((m) => m.host);
  }

  private config(): ServerConfig {
    const { voters } = this.options;
    const entries = new Map<string, string>([
      ['tickTime', String(this.options.tickTimeMs ?? 100)],
      ['initLimit', '10'],
      ['syncLimit', '5'],
      ['dataDir', '/data'],
      ['clientPort', String(CLIENT_PORT)],
      ['maxSessionTimeout', '10000'],
      ['snapCount', String(this.options.snapCount ?? 100)],
      // KiB: the default preallocates 64 MiB per segment.
      ['preAllocSize', '16'],
      // Snapshots uncompressed: zlib's async deflate would run on the thread pool.
      ['znode.container.checkIntervalMs', '1000'],
      ['zookeeper.extendedTypesEnabled', this.options.extendedTypes ? 'true' : 'false'],
    ]);
    for (const m of this.members) entries.set(`server.${m.id}`, `${m.host}:2888:3888${m.id > voters ? ':observer' : ''}`);
    for (const [k, v] of Object.entries(this.options.config ?? {})) entries.set(k, v);
    const config = buildConfig(entries, { baseDir: '/', env: {} });
    if (config.compressSnapshots) throw new Error('the simulator needs snapshot compression off (thread-pool work is not deterministic)');
    return config;
  }

  /** Starts (or restarts) a member on its disk. */
  start(member: Member): void {
    if (member.status === 'up') return;
    const { kernel } = this;
    const incarnation = kernel.incarnation(member.host);
    const platform = kernel.platformFor(incarnation, { net: this.network.host(member.host, incarnation), ...member.machine });
    member.incarnation = incarnation;
    member.platform = platform;
    member.status = 'up';
    member.role = null;
    member.starts++;
    const record = member.record;
    const alive = () => incarnation.alive && member.incarnation === incarnation;
    const server = new PaddockServer(this.config(), silentLogger(), {
      ...(this.options.commitLogWindow === undefined ? {} : { commitLogWindow: this.options.commitLogWindow }),
      fs: member.disk.fs(),
      platform,
      onFatal: (error) => {
        if (!alive()) return;
        this.onStopped(member, error);
      },
      onApplied: (txn) => {
        if (alive()) record.applied.push({ zxid: hex(txn.zxid), hash: txnHash(txn) });
      },
      onTreeReplaced: (zxid) => {
        if (alive()) record.resets.push({ index: record.applied.length, zxid: hex(zxid), reason: 'snap' });
      },
      onRoleChange: (change) => {
        if (!alive()) return;
        if (member.role?.state !== change.state || member.role.serving !== change.serving || member.role.epoch !== change.epoch) {
          kernel.trace(`${member.host}: ${change.state}${change.serving ? ' serving' : ''} epoch ${change.epoch ?? '-'} leader ${change.leader ?? '-'} (${change.reason})`);
        }
        member.role = change;
        if (change.serving && change.epoch !== null && change.leader !== null && (change.state === 'leading' || change.state === 'following' || change.state === 'observing')) {
          record.leaderships.push({ epoch: change.epoch, leader: change.leader, index: this.recorder.mark().index });
        }
      },
    });
    member.server = server;
    kernel.trace(`${member.host}: start #${member.starts}`);
    server.start().then(
      () => {
        if (alive()) record.resets.push({ index: record.applied.length, zxid: hex(server.tree.lastProcessedZxid), reason: 'start' });
      },
      (error: Error) => {
        if (!alive()) return;
        this.onStopped(member, error);
      },
    );
  }

  /** The server stopped itself (or could not start): fine on a full disk, a failure otherwise. */
  private onStopped(member: Member, error: Error): void {
    const code = (error as NodeJS.ErrnoException).code;
    const diskFull = member.disk.isFull || code === 'ENOSPC' || /ENOSPC|failed earlier/.test(error.message);
    this.kernel.trace(`${member.host}: stopped: ${error.message}`);
    member.status = 'stopped';
    member.incarnation?.kill();
    this.network.crashHost(member.host);
    member.server = null;
    if (!diskFull) {
      this.fatalStops++;
      this.kernel.fail(`member ${member.host} stopped on a fatal error: ${error.stack ?? error.message}`);
    }
  }

  /** A power cut: timers, sockets and what the disk did not make durable are gone. */
  crash(member: Member, tearLastWrite: boolean): void {
    if (member.status === 'crashed') return;
    this.kernel.trace(`${member.host}: crash${tearLastWrite ? ' (tearing)' : ''}`);
    member.incarnation?.kill();
    this.network.crashHost(member.host);
    member.disk.crash({ tearLastWrite });
    member.server = null;
    member.platform = null;
    member.status = 'crashed';
    member.role = null;
  }

  get leader(): Member | undefined {
    return this.members.find((m) => m.status === 'up' && m.role?.state === 'leading' && m.role.serving);
  }

  serving(member: Member): boolean {
    return member.status === 'up' && member.server !== null && (member.role?.serving ?? false);
  }

  /** Every member up and serving, all at the same lastProcessedZxid. */
  converged(): boolean {
    let zxid: bigint | null = null;
    for (const m of this.members) {
      if (!this.serving(m)) return false;
      const at = m.server!.tree?.lastProcessedZxid;
      if (at === undefined) return false;
      if (zxid === null) zxid = at;
      else if (at !== zxid) return false;
    }
    return true;
  }

  /** Records a digest for every serving member when all of those are at the same zxid. */
  digestIfAligned(): boolean {
    const serving = this.members.filter((m) => this.serving(m) && m.server!.tree !== undefined);
    if (serving.length === 0) return false;
    const zxid = serving[0]!.server!.tree.lastProcessedZxid;
    if (!serving.every((m) => m.server!.tree.lastProcessedZxid === zxid)) return false;
    for (const m of serving) {
      const last = m.record.digests.at(-1);
      if (last?.zxid === hex(zxid)) continue;
      m.record.digests.push({ zxid: hex(zxid), digest: treeDigest(m.server!.tree) });
    }
    return true;
  }

  records(): MemberRecord[] {
    return this.members.map((m) => m.record);
  }
}
