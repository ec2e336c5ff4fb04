import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** A seeded source of randomness: the same seed gives the same sequence, on any machine. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
}

export function seededRandom(seed: number): Random {
  const rng = xoroshiro128plus(seed);
  return {
    next: () => uniformFloat64(rng),
    int: (min, max) => uniformInt(rng, min, max),
  };
}

/**
 * Draws indexes 0..weights.length-1 in proportion to their weights, by binary
 * search over the cumulative distribution: O(log n) a draw.
 */
export function weightedSampler(weights: ArrayLike<number>, random: Random): () => number {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    total += weights[i] ?? 0;
    cumulative[i] = total;
  }
  return () => {
    const target = random.next() * total;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((cumulative[middle] ?? 0) > target) high = middle;
      else low = middle + 1;
    }
    return low;
  };
}

/**
 * Zipf-like popularity: the k-th most popular of n items has weight 1/k^exponent,
 * and which item holds rank k is shuffled, so popularity does not follow ids.
 */
export function zipfWeights(n: number, exponent: number, random: Random): Float64Array {
  const weights = new Float64Array(n);
  for (let rank = 1; rank <= n; rank++) weights[rank - 1] = 1 / rank ** exponent;
  for (let i = n - 1; i > 0; i--) {
    const j = random.int(0, i);
    const swap = weights[i] ?? 0;
    weights[i] = weights[j] ?? 0;
    weights[j] = swap;
  }
  return weights;
}
