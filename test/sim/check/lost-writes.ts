/**
 * No acknowledged write is lost: a cheap cross-check, independent of the linearizability
 * search. For every path whose writes all have a known outcome (no write in doubt, no
 * ephemeral, container or ttl node), each syncRead of it invoked after every write to it
 * completed must show the effect of one of the last ok writes in real-time order (an ok write
 * no other ok write started after), or the initial state if no write succeeded.
 */
import type { History, Op, OkValue, Operation, Violation } from '../history.js';
import { Code, IN_DOUBT_CODES } from './model.js';

type WriteOp = Extract<Op, { type: 'create' | 'setData' | 'delete' | 'check' }>;

/** What a path holds after a write: absent, or data with a version (null: not known). */
type Effect = { present: false } | { present: true; data: string; version: number | null };

interface Write {
  op: Operation;
  /** The effect on the path, if the op succeeded. */
  effect: Effect;
}

function subOps(o: Operation): Array<{ sub: WriteOp; value: OkValue | undefined }> {
  const value = o.outcome?.type === 'ok' ? o.outcome.value : undefined;
  if (o.op.type === 'multi') return o.op.ops.map((sub, i) => ({ sub, value: value?.kind === 'multi' ? value.results[i] : undefined }));
  if (o.op.type === 'create' || o.op.type === 'setData' || o.op.type === 'delete') return [{ sub: o.op, value }];
  return [];
}

/** The path a sub-op writes (the created name for a sequential create), or null. */
function writtenPath(sub: WriteOp, value: OkValue | undefined): string | null {
  if (sub.type === 'check') return null;
  if (sub.type === 'create' && sub.mode.endsWith('_sequential')) return value?.kind === 'created' ? value.path : null;
  return sub.path;
}

function inDoubt(o: Operation): boolean {
  const out = o.outcome;
  return out === null || o.completeIndex === null || out.type === 'unknown' || (out.type === 'fail' && IN_DOUBT_CODES.has(out.code));
}

interface PathWrites {
  writes: Write[];
  lastComplete: number;
  unsure: boolean;
}

function collectWrites(history: History): Map<string, PathWrites> {
  const byPath = new Map<string, PathWrites>();
  for (const o of history.operations) {
    const effects = new Map<string, Effect>();
    for (const { sub, value } of subOps(o)) {
      const path = writtenPath(sub, value);
      if (path === null) continue;
      const entry = byPath.get(path) ?? { writes: [], lastComplete: -Infinity, unsure: false };
      byPath.set(path, entry);
      entry.lastComplete = Math.max(entry.lastComplete, o.completeIndex ?? Infinity);
      if (inDoubt(o) || (sub.type === 'create' && sub.mode !== 'persistent' && sub.mode !== 'persistent_sequential')) entry.unsure = true;
      if (sub.type === 'create') effects.set(path, { present: true, data: sub.data, version: 0 });
      else if (sub.type === 'delete') effects.set(path, { present: false });
      else if (sub.type === 'setData') effects.set(path, { present: true, data: sub.data, version: value?.kind === 'stat' ? value.version : null });
    }
    if (o.outcome?.type !== 'ok' || inDoubt(o)) continue;
    for (const [path, effect] of effects) byPath.get(path)!.writes.push({ op: o, effect });
  }
  return byPath;
}

function shows(read: Operation): Effect | null {
  const out = read.outcome;
  if (out?.type === 'fail' && out.code === Code.NoNode) return { present: false };
  if (out?.type === 'ok' && out.value.kind === 'data') return { present: true, data: out.value.data, version: out.value.version };
  return null;
}

function matches(expected: Effect, seen: Effect): boolean {
  if (!expected.present || !seen.present) return expected.present === seen.present;
  return expected.data === seen.data && (expected.version === null || expected.version === seen.version);
}

export function checkNoLostWrites(history: History, initial: Record<string, { data: string; version: number }> = {}): Violation[] {
  const violations: Violation[] = [];
  const byPath = collectWrites(history);
  for (const read of history.operations) {
    if (read.op.type !== 'syncRead') continue;
    const seen = shows(read);
    const entry = byPath.get(read.op.path);
    if (seen === null || entry?.unsure || (entry && read.invokeIndex < entry.lastComplete)) continue;
    const writes = entry?.writes ?? [];
    const last = writes.filter((w) => !writes.some((later) => w.op.completeIndex! < later.op.invokeIndex));
    const start = initial[read.op.path];
    const candidates: Effect[] = last.length > 0 ? last.map((w) => w.effect) : [start ? { present: true, ...start } : { present: false }];
    if (candidates.some((c) => matches(c, seen))) continue;
    const describe = (e: Effect) => (e.present ? `data '${e.data}' version ${e.version ?? '?'}` : 'no node');
    violations.push({
      checker: 'no-lost-writes',
      message: `final syncRead #${read.id} of ${read.op.path} shows ${describe(seen)}; the last acknowledged writes (${last.map((w) => `#${w.op.id}`).join(', ') || 'none'}) leave ${candidates.map(describe).join(' or ')}`,
      operations: [read.id, ...last.map((w) => w.op.id)],
    });
  }
  return violations;
}
