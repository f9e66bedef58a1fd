/**
 * Wing & Gong's linearizability search with Lowe's memo, as Porcupine does it: a doubly
 * linked list of call and return entries in index order; the search lifts a call (and its
 * return) out of the list when the model accepts the op at that point, and backtracks when it
 * meets the return of an op it has not placed. A memo of (set of placed ops, model state)
 * prunes every configuration seen before.
 *
 * An op without a return (its outcome is in doubt) may be placed at any point after its call,
 * or never: the search succeeds once every op with a return is placed.
 */

export interface SearchOp {
  call: number;
  /** null: in doubt; completes at +infinity and may be left out. */
  ret: number | null;
}

export interface SearchModel<S> {
  init: S;
  /** The state after op `index` at this point, or null if it cannot take place here. */
  step(state: S, index: number): S | null;
  key(state: S): string;
}

export interface SearchResult {
  outcome: 'linearizable' | 'violation' | 'budget';
  statesExplored: number;
  /** The longest sequence of placed ops found (indexes into the op list). */
  longest: number[];
  /** The op whose return stopped that longest sequence (null when linearizable). */
  blocked: number | null;
}

interface Entry {
  op: number;
  call: boolean;
  at: number;
  prev: Entry | null;
  next: Entry | null;
  match: Entry | null;
}

function buildList(ops: readonly SearchOp[]): Entry {
  const entries: Entry[] = [];
  for (const [op, o] of ops.entries()) {
    const call: Entry = { op, call: true, at: o.call, prev: null, next: null, match: null };
    entries.push(call);
    if (o.ret !== null) {
      const ret: Entry = { op, call: false, at: o.ret, prev: null, next: null, match: null };
      call.match = ret;
      entries.push(ret);
    }
  }
  // At equal indexes (only synthetic ops share one) returns go first: the stricter order.
  entries.sort((a, b) => a.at - b.at || Number(a.call) - Number(b.call));
  const head: Entry = { op: -1, call: false, at: -Infinity, prev: null, next: null, match: null };
  let last = head;
  for (const e of entries) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

function unlink(e: Entry): void {
  e.prev!.next = e.next;
  if (e.next) e.next.prev = e.prev;
}

function relink(e: Entry): void {
  e.prev!.next = e;
  if (e.next) e.next.prev = e;
}

function lift(call: Entry): void {
  unlink(call);
  if (call.match) unlink(call.match);
}

function unlift(call: Entry): void {
  if (call.match) relink(call.match);
  relink(call);
}

/** Two 32-bit random words per op (splitmix32): the set of placed ops hashes to their XOR. */
function zobrist(count: number): Uint32Array {
  const out = new Uint32Array(count * 2);
  let x = 0x9e3779b9;
  for (let i = 0; i < out.length; i++) {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    out[i] = (z ^ (z >>> 16)) >>> 0;
  }
  return out;
}

/**
 * The memo: configurations seen, keyed by the placed set's hash and the state's key, with the
 * placed sets kept to compare exactly (a hash collision must not prune a configuration).
 */
class Memo {
  private readonly seen = new Map<string, Uint32Array[]>();
  size = 0;

  /** Adds the configuration; false if it was there already. */
  add(hash: string, stateKey: string, words: Uint32Array): boolean {
    const key = `${hash}|${stateKey}`;
    const sets = this.seen.get(key);
    if (sets?.some((w) => sameWords(w, words))) return false;
    if (sets) sets.push(words.slice());
    else this.seen.set(key, [words.slice()]);
    this.size++;
    return true;
  }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function searchLinearization<S>(ops: readonly SearchOp[], model: SearchModel<S>, maxStates: number): SearchResult {
  const head = buildList(ops);
  const words = new Uint32Array(Math.ceil(ops.length / 32) || 1);
  const random = zobrist(ops.length);
  let h1 = 0;
  let h2 = 0;
  const toggle = (op: number) => {
    words[op >>> 5] ^= 1 << op % 32;
    h1 ^= random[2 * op]!;
    h2 ^= random[2 * op + 1]!;
  };
  const memo = new Memo();
  const stack: Array<{ entry: Entry; state: S }> = [];
  let state = model.init;
  let remaining = ops.filter((o) => o.ret !== null).length;
  let longest: number[] = [];
  let blocked: number | null = null;
  let entry = head.next;
  // Each pass either places an op (bounded by maxStates memo entries) or moves along or back
  // through the list: the loop is bounded by maxStates times the list's length, twice.
  const maxIterations = (maxStates + 1) * (2 * ops.length + 2) * 2;
  for (let iteration = 0; remaining > 0; iteration++) {
    if (iteration > maxIterations) throw new Error(`linearizability search: iteration bound ${maxIterations} passed`);
    if (entry === null) throw new Error('linearizability search: list ended with a return still pending');
    if (entry.call) {
      const next = model.step(state, entry.op);
      if (next !== null) {
        toggle(entry.op);
        if (memo.size >= maxStates) return { outcome: 'budget', statesExplored: memo.size, longest, blocked };
        if (memo.add(`${h1},${h2}`, model.key(next), words)) {
          stack.push({ entry, state });
          state = next;
          lift(entry);
          if (entry.match) remaining--;
          if (stack.length > longest.length) {
            longest = stack.map((s) => s.entry.op);
            blocked = null;
          }
          entry = head.next;
          continue;
        }
        toggle(entry.op);
      }
      entry = entry.next;
    } else {
      if (blocked === null && stack.length === longest.length) blocked = entry.op;
      const top = stack.pop();
      if (!top) return { outcome: 'violation', statesExplored: memo.size, longest, blocked };
      state = top.state;
      toggle(top.entry.op);
      if (top.entry.match) remaining++;
      unlift(top.entry);
      entry = top.entry.next;
    }
  }
  return { outcome: 'linearizable', statesExplored: memo.size, longest: [], blocked: null };
}
