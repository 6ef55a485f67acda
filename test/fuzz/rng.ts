// A seeded random stream for the whole-pipeline fuzzer: Philox 4×32-10 (src/ir/philox.ts)
// keyed by the case's seed, so a seed names one program on every machine.

import { philox4x32, streamKey } from '../../src/ir/philox.js';

export class Rng {
  private readonly key: [number, number];
  private counter = 0;
  private words: number[] = [];

  constructor(
    readonly seed: number,
    stream = 'fuzz',
  ) {
    this.key = streamKey(seed, stream);
  }

  /** A uniform uint32. */
  u32(): number {
    if (this.words.length === 0) {
      const c = this.counter++;
      this.words = philox4x32([c >>> 0, Math.floor(c / 2 ** 32), 0, 0], this.key);
    }
    return this.words.pop()!;
  }
  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 2 ** 32;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor(this.float() * n);
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  bool(percent = 50): boolean {
    return this.int(100) < percent;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError('pick from nothing');
    return xs[this.int(xs.length)]!;
  }
  /** An element of `xs` drawn with weight w. */
  weighted<T>(xs: readonly (readonly [number, T])[]): T {
    const total = xs.reduce((a, [w]) => a + w, 0);
    let r = this.float() * total;
    for (const [w, x] of xs) {
      if (r < w) return x;
      r -= w;
    }
    return xs[xs.length - 1]![1];
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}
