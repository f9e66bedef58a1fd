/**
 * What the members must agree on, from the facts the simulator sees inside them: one leader
 * per epoch, the same txn at the same zxid, the same tree at the same zxid.
 */
import type { History, Violation } from '../history.js';
import { parseZxid } from './session.js';

/** No epoch has two different established leaders. */
export function checkOneLeaderPerEpoch(history: History): Violation[] {
  const violations: Violation[] = [];
  const leaders = new Map<number, { leader: number; member: number; index: number }>();
  for (const m of history.members ?? []) {
    for (const l of m.leaderships) {
      const known = leaders.get(l.epoch);
      if (!known) leaders.set(l.epoch, { leader: l.leader, member: m.member, index: l.index });
      else if (known.leader !== l.leader) {
        violations.push({
          checker: 'one-leader-per-epoch',
          message: `epoch ${l.epoch}: member ${known.member} saw leader ${known.leader} (at ${known.index}), member ${m.member} saw leader ${l.leader} (at ${l.index})`,
        });
      }
    }
  }
  return violations;
}

/**
 * Each member applies zxids in increasing order between two resets (a reset: a restart that
 * reloaded snapshot and log, or a snapshot from the leader; after one, the next applied zxid
 * is above the reset's), and two members never apply different txns at one zxid.
 */
export function checkLogsAgree(history: History): Violation[] {
  const violations: Violation[] = [];
  const byZxid = new Map<string, { hash: string; member: number }>();
  for (const m of history.members ?? []) {
    const resets = [...(m.resets ?? [])].sort((a, b) => a.index - b.index);
    let nextReset = 0;
    let previous: bigint | null = null;
    for (const [position, a] of m.applied.entries()) {
      let resetAt: string | null = null;
      while (nextReset < resets.length && resets[nextReset]!.index <= position) {
        const reset = resets[nextReset++]!;
        previous = parseZxid(reset.zxid);
        resetAt = `${reset.reason} at 0x${reset.zxid}`;
      }
      const zxid = parseZxid(a.zxid);
      if (zxid === null) {
        violations.push({ checker: 'logs-agree', message: `member ${m.member} applied a txn with zxid '${a.zxid}' (position ${position})` });
        continue;
      }
      if (previous !== null && zxid <= previous) {
        const after = resetAt === null ? `after 0x${previous.toString(16)}` : `right after a reset (${resetAt})`;
        violations.push({ checker: 'logs-agree', message: `member ${m.member} applied zxid 0x${zxid.toString(16)} ${after} (position ${position})` });
      }
      previous = zxid;
      const key = zxid.toString(16);
      const known = byZxid.get(key);
      if (!known) byZxid.set(key, { hash: a.hash, member: m.member });
      else if (known.hash !== a.hash) {
        violations.push({ checker: 'logs-agree', message: `zxid 0x${key}: member ${known.member} applied txn ${known.hash}, member ${m.member} applied ${a.hash}` });
      }
    }
  }
  return violations;
}

/** Equal zxid ⇒ equal tree digest, across and within members. */
export function checkDigestsAgree(history: History): Violation[] {
  const violations: Violation[] = [];
  const byZxid = new Map<string, { digest: string; member: number }>();
  for (const m of history.members ?? []) {
    for (const d of m.digests) {
      const zxid = parseZxid(d.zxid);
      const key = zxid === null ? d.zxid : zxid.toString(16);
      const known = byZxid.get(key);
      if (!known) byZxid.set(key, { digest: d.digest, member: m.member });
      else if (known.digest !== d.digest) {
        violations.push({ checker: 'digests-agree', message: `zxid 0x${key}: member ${known.member} has digest ${known.digest}, member ${m.member} has ${d.digest}` });
      }
    }
  }
  return violations;
}
