/**
 * A compact latency histogram in the spirit of HdrHistogram: log-linear buckets with 32
 * sub-buckets per power of two, so any recorded value is known within about 3 %. Values are
 * microseconds; recording is a few integer operations and one array increment, with no
 * allocation, so the load generator's own cost stays small.
 *
 * Buckets: values below 64 µs have a bucket each; above that, a value v with its highest set
 * bit at position m goes to bucket (m - 5) * 32 + (v >> (m - 5)), i.e. the top 6 bits of v.
 * Values are capped at 2^31 - 1 µs (about 36 minutes).
 */
const SUB_BUCKET_BITS = 5;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS; // 32
const DIRECT_LIMIT = SUB_BUCKETS * 2; // 64: below this every value has its own bucket
const MAX_VALUE_US = 0x7fffffff;
const BUCKET_COUNT = (31 - SUB_BUCKET_BITS) * SUB_BUCKETS + DIRECT_LIMIT;

function bucketOf(valueUs: number): number {
  if (valueUs < DIRECT_LIMIT) return valueUs;
  const msb = 31 - Math.clz32(valueUs);
  const shift = msb - SUB_BUCKET_BITS;
  return shift * SUB_BUCKETS + (valueUs >>> shift);
}

/** The middle of a bucket's range, in µs. */
function bucketMidUs(index: number): number {
  if (index < DIRECT_LIMIT) return index;
  const shift = Math.floor(index / SUB_BUCKETS) - 1;
  const mantissa = index - shift * SUB_BUCKETS;
  return mantissa * 2 ** shift + 2 ** shift / 2;
}

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKET_COUNT);
  private total = 0;
  private sumUs = 0;
  private maxUs = 0;

  /** Records one latency given in nanoseconds (a process.hrtime.bigint() difference). */
  recordNs(ns: bigint): void {
    this.recordUs(Number(ns) / 1000);
  }

  recordUs(us: number): void {
    const value = us <= 0 ? 0 : us >= MAX_VALUE_US ? MAX_VALUE_US : Math.round(us);
    this.counts[bucketOf(value)]!++;
    this.total++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  get count(): number {
    return this.total;
  }

  /** The value (ms) at or below which `fraction` of the recorded values lie. */
  quantileMs(fraction: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil(fraction * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(bucketMidUs(i), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  summary(): LatencySummary {
    return {
      count: this.total,
      meanMs: this.total === 0 ? NaN : this.sumUs / this.total / 1000,
      p50Ms: this.quantileMs(0.5),
      p90Ms: this.quantileMs(0.9),
      p99Ms: this.quantileMs(0.99),
      p999Ms: this.quantileMs(0.999),
      maxMs: this.total === 0 ? NaN : this.maxUs / 1000,
    };
  }
}
