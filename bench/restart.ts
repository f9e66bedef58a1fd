/**
 * Case 4: restart time and on-disk size for a large tree. Each server in turn:
 *
 *  1. starts on a fresh dataDir with forceSync=no (for loading speed; the bytes written are
 *     the same, only the fsyncs are skipped) and otherwise default settings (snapCount
 *     100000, no autopurge), so it snapshots and rolls its log as it naturally would;
 *  2. gets N znodes of 100 bytes by pipelined creates (8 sessions × 64 in flight), as
 *     /bench-tree/p<k>/n<j> with 1000 children per parent;
 *  3. is stopped with SIGTERM; its storage folder is measured (like du);
 *  4. is started again on the same dataDir: the restart time runs from spawn until a client
 *     has a session and getData of the last created node answered. Both servers are polled
 *     every 100 ms (ruok for Paddock, srvr for ZooKeeper, then the getData).
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeClients, connectClients, runCount } from './load.js';
import { throwIfAborted, trackDir } from './lifecycle.js';
import type { BenchOptions } from './options.js';
import { diskUsage } from './proc.js';
import type { DiskUsage } from './proc.js';
import { SERVER_LABEL, nodeCountOf, startServer } from './servers.js';
import type { BenchServer, ServerKind } from './servers.js';
import { PAYLOAD, profileEnv } from './throughput.js';

const CHILDREN_PER_PARENT = 1000;
const LOAD_SHAPE = { sessions: 8, depth: 64 };
const READY_POLL_MS = 100;
const READY_TIMEOUT_MS = 300_000;

export interface RestartResult {
  server: ServerKind;
  znodes: number;
  /** srvr's node count after loading and after the restart (system nodes included). */
  nodeCountLoaded: number;
  nodeCountRestarted: number;
  loadSeconds: number;
  loadRatePerSecond: number;
  /** VmHWM of the loaded server (peak during the load) and VmRSS when loading was done. */
  loadPeakRssBytes: number;
  loadedRssBytes: number;
  stopMs: number;
  disk: DiskUsage;
  files: StorageFiles;
  restartMs: number;
  /** VmHWM of the restarted server: its peak during recovery. */
  restartPeakRssBytes: number;
  restartedRssBytes: number;
}

export interface StorageFiles {
  snapshots: number;
  logs: number;
  /**
   * Size of the largest snapshot file: the most complete image of the tree. (Not the newest:
   * ZooKeeper writes a snapshot under its final name in the background, so the newest one may
   * be a partial file cut off by the SIGTERM; ZooKeeper skips it at the restart.)
   */
  largestSnapshotBytes: number;
  /**
   * That snapshot's size divided by its zxid (the low 32 bits, the txn counter). In this load
   * nearly every txn is one create, so this is about the snapshot's bytes per znode; it
   * compares the encodings even when the two servers snapshotted at different points.
   */
  snapshotBytesPerZnode: number;
}

/** Both servers name their files snapshot.<zxid hex> and log.<zxid hex>. */
async function storageFiles(dir: string): Promise<StorageFiles> {
  const names = await readdir(dir);
  const snapshots = names.filter((name) => /^snapshot\.[0-9a-f]+$/.test(name));
  let largestSnapshotBytes = NaN;
  let largestZxid = 0n;
  for (const name of snapshots) {
    const { size } = await stat(join(dir, name));
    if (size <= largestSnapshotBytes) continue;
    largestSnapshotBytes = size;
    largestZxid = BigInt('0x' + name.slice('snapshot.'.length)) & 0xffffffffn;
  }
  return {
    snapshots: snapshots.length,
    logs: names.filter((name) => /^log\.[0-9a-f]+$/.test(name)).length,
    largestSnapshotBytes,
    snapshotBytesPerZnode: largestZxid > 0n ? largestSnapshotBytes / Number(largestZxid) : NaN,
  };
}

function nodePath(index: number): string {
  return `/bench-tree/p${Math.floor(index / CHILDREN_PER_PARENT)}/n${index % CHILDREN_PER_PARENT}`;
}

/** Time budget for loading: generous (2,500 creates/s at worst), but bounded. */
function loadTimeoutMs(nodes: number): number {
  return 60_000 + Math.ceil(nodes / 2.5);
}

async function load(server: BenchServer, nodes: number): Promise<number> {
  const clients = await connectClients(server.connectString, LOAD_SHAPE.sessions);
  try {
    const parents = Math.ceil(nodes / CHILDREN_PER_PARENT);
    await clients[0]!.create('/bench-tree');
    const parentSeconds = await runCount(clients, LOAD_SHAPE, parents, (client, i) => client.create(`/bench-tree/p${i}`), loadTimeoutMs(parents));
    const childSeconds = await runCount(clients, LOAD_SHAPE, nodes, (client, i) => client.create(nodePath(i), PAYLOAD), loadTimeoutMs(nodes));
    return parentSeconds + childSeconds;
  } finally {
    await closeClients(clients);
  }
}

/** Starts the server on `dataDir` and waits until getData of `path` answers; resolves with the ms since spawn. */
async function restartAndRead(kind: ServerKind, dataDir: string, path: string, options: BenchOptions): Promise<{ server: BenchServer; restartMs: number }> {
  const started = Date.now();
  const server = await startServer(kind, {
    forceSync: false,
    zkHeapMb: options.zkHeapMb,
    dataDir,
    startTimeoutMs: READY_TIMEOUT_MS,
    paddockEnv: profileEnv(options, 'restart'),
  });
  try {
    let lastError: unknown;
    for (let attempt = 0; attempt < READY_TIMEOUT_MS / READY_POLL_MS && Date.now() - started < READY_TIMEOUT_MS; attempt++) {
      throwIfAborted();
      try {
        const [client] = await connectClients(server.connectString, 1);
        try {
          await client!.getData(path);
          return { server, restartMs: Date.now() - started };
        } finally {
          await closeClients([client!]);
        }
      } catch (error) {
        lastError = error;
      }
      await sleep(READY_POLL_MS);
    }
    throw new Error(`${SERVER_LABEL[kind]} did not answer getData ${path} after its restart: ${String(lastError)}`);
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function runOne(kind: ServerKind, root: string, options: BenchOptions, log: (line: string) => void): Promise<RestartResult> {
  const dataDir = join(root, `${kind}-data`);
  await mkdir(dataDir, { recursive: true });
  const untrack = trackDir(dataDir);
  try {
    const settings = { forceSync: false, zkHeapMb: options.zkHeapMb, dataDir, startTimeoutMs: READY_TIMEOUT_MS, paddockEnv: profileEnv(options, 'load') };
    const loaded = await startServer(kind, settings);
    let loadSeconds: number;
    let nodeCountLoaded: number;
    let loadMemory;
    let stopMs: number;
    try {
      loadSeconds = await load(loaded, options.nodes);
      nodeCountLoaded = nodeCountOf(await loaded.srvr());
      loadMemory = loaded.memory();
    } finally {
      stopMs = await loaded.stop();
    }
    log(`  ${SERVER_LABEL[kind].padEnd(9)} loaded ${options.nodes.toLocaleString('en-US')} znodes in ${loadSeconds.toFixed(1)} s, stopped in ${stopMs} ms`);
    const disk = await diskUsage(loaded.storageDir);
    const files = await storageFiles(loaded.storageDir);
    throwIfAborted();
    const { server, restartMs } = await restartAndRead(kind, dataDir, nodePath(options.nodes - 1), options);
    let nodeCountRestarted: number;
    let restartMemory;
    try {
      nodeCountRestarted = nodeCountOf(await server.srvr());
      restartMemory = server.memory();
    } finally {
      await server.stop();
    }
    log(`  ${SERVER_LABEL[kind].padEnd(9)} restarted in ${(restartMs / 1000).toFixed(2)} s (${nodeCountRestarted.toLocaleString('en-US')} nodes)`);
    return {
      server: kind,
      znodes: options.nodes,
      nodeCountLoaded,
      nodeCountRestarted,
      loadSeconds,
      loadRatePerSecond: options.nodes / loadSeconds,
      loadPeakRssBytes: loadMemory?.peakRssBytes ?? NaN,
      loadedRssBytes: loadMemory?.rssBytes ?? NaN,
      stopMs,
      disk,
      files,
      restartMs,
      restartPeakRssBytes: restartMemory?.peakRssBytes ?? NaN,
      restartedRssBytes: restartMemory?.rssBytes ?? NaN,
    };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    untrack();
  }
}

export async function runRestartCase(root: string, options: BenchOptions, log: (line: string) => void): Promise<RestartResult[]> {
  const results: RestartResult[] = [];
  for (const kind of options.servers) {
    throwIfAborted();
    results.push(await runOne(kind, root, options, log));
  }
  return results;
}
