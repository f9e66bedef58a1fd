/**
 * A real Paddock ensemble (test/support/ensemble.ts) whose members reach each other only
 * through PeerProxies: after Ensemble.create writes the zoo.cfg files, every `server.j` line
 * of member i (j ≠ i) is rewritten to the proxy of (i → j); member i's own line keeps its
 * real listening ports. Client ports are not proxied.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Ensemble } from '../support/ensemble.js';
import type { Mode } from '../support/ensemble.js';
import { fourLetterWord } from '../support/paddock.js';
import { PeerProxies } from './proxy.js';

export interface ChaosCluster {
  ensemble: Ensemble;
  proxies: PeerProxies;
}

export async function createCluster(members: number, settings: Record<string, string>): Promise<ChaosCluster> {
  const ensemble = await Ensemble.create({ voters: members, settings });
  const proxies = await PeerProxies.create(ensemble.members);
  for (const m of ensemble.members) {
    const text = await readFile(m.configFile, 'utf8');
    const rewritten = text.replace(/^server\.(\d+)=127\.0\.0\.1:(\d+):(\d+)(.*)$/gm, (line, id: string, _q: string, _e: string, rest: string) => {
      const to = Number(id);
      if (to === m.id) return line;
      const { quorumPort, electionPort } = proxies.address(m.id, to);
      return `server.${to}=127.0.0.1:${quorumPort}:${electionPort}${rest}`;
    });
    if (rewritten === text) throw new Error(`member ${m.id}: no server lines rewritten in ${m.configFile}`);
    await writeFile(m.configFile, rewritten);
  }
  return { ensemble, proxies };
}

export interface MemberStatus {
  id: number;
  mode: Mode;
  /** Zxid of srvr as hex ('' when the member does not answer). */
  zxid: string;
}

/** srvr of one member: its mode and last zxid ('not serving' if it does not answer in time). */
export async function memberStatus(ensemble: Ensemble, id: number, timeoutMs = 1000): Promise<MemberStatus> {
  const m = ensemble.member(id);
  if (m.child === null) return { id, mode: 'down', zxid: '' };
  const reply = await fourLetterWord(m.clientPort, 'srvr', timeoutMs).catch(() => '');
  const mode = /Mode: (\w+)/.exec(reply)?.[1] as Mode | undefined;
  const zxid = /Zxid: (0x[0-9a-f]+)/i.exec(reply)?.[1] ?? '';
  return { id, mode: mode ?? 'not serving', zxid };
}

/** Every member's status, asked in parallel (a stopped member costs one timeout, not five). */
export async function statuses(ensemble: Ensemble, timeoutMs = 1000): Promise<MemberStatus[]> {
  return await Promise.all(ensemble.members.map((m) => memberStatus(ensemble, m.id, timeoutMs)));
}

/** The member that says it leads, if exactly one does. */
export async function findLeader(ensemble: Ensemble): Promise<number | null> {
  const leaders = (await statuses(ensemble)).filter((s) => s.mode === 'leader');
  return leaders.length === 1 ? leaders[0]!.id : null;
}

/**
 * Waits (bounded) until every member is up, one leads, the others follow, and all report
 * the same zxid twice in a row. Returns the last statuses; throws with them on timeout.
 */
export async function waitConverged(ensemble: Ensemble, timeoutMs: number): Promise<MemberStatus[]> {
  const deadline = Date.now() + timeoutMs;
  let last: MemberStatus[] = [];
  let previousZxid = '';
  for (let attempt = 0; attempt < 1000 && Date.now() < deadline; attempt++) {
    last = await statuses(ensemble);
    const leaders = last.filter((s) => s.mode === 'leader').length;
    const serving = last.every((s) => s.mode === 'leader' || s.mode === 'follower');
    const zxids = new Set(last.map((s) => s.zxid));
    if (leaders === 1 && serving && zxids.size === 1) {
      const zxid = last[0]!.zxid;
      if (zxid === previousZxid) return last;
      previousZxid = zxid;
    } else {
      previousZxid = '';
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`members did not converge within ${timeoutMs} ms: ${JSON.stringify(last)}\n${ensemble.tails()}`);
}
