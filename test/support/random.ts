/**
 * The seeded PRNG of the storage, crash and ZAB-core tests (mulberry32: small, fast, and the
 * sequence their recorded seeds replay). The simulator has its own (test/sim/prng.ts), with
 * streams derived per label.
 */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randInt(random: () => number, lo: number, hiInclusive: number): number {
  return lo + Math.floor(random() * (hiInclusive - lo + 1));
}
