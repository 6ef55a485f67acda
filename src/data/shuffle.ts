// Deterministic shuffles: Fisher–Yates driven by Philox4x32-10 (src/ir/philox.ts), so a seed gives
// the same order on every machine. The stream (seed, key) yields 32-bit words; word w is word
// w % 4 of philox4x32([w / 4 (low 32 bits), w / 4 (high bits), 0, 0], streamKey(seed, key)) — the
// words behind `uniformStream`. Fisher–Yates runs from the end: for i = n − 1 down to 1 it draws
// words until one, w, is below 2^32 − (2^32 mod (i + 1)) (so every j is equally likely), and swaps
// items i and j = w mod (i + 1).

import { philox4x32, streamKey } from '../ir/philox.js';

/** The 32-bit words of the Philox stream (seed, key), in order. */
export class WordStream {
  private readonly key: [number, number];
  private block = 0;
  private words: number[] = [];

  constructor(seed: number, key: string) {
    this.key = streamKey(seed, key);
  }

  next(): number {
    if (this.words.length === 0) {
      this.words = philox4x32([this.block >>> 0, Math.floor(this.block / 2 ** 32), 0, 0], this.key).reverse();
      this.block++;
    }
    return this.words.pop()!;
  }

  /** A uniform integer in [0, bound), for 1 ≤ bound ≤ 2^32, by rejection. */
  below(bound: number): number {
    const limit = 2 ** 32 - (2 ** 32 % bound);
    for (;;) {
      const w = this.next();
      if (w < limit) return w % bound;
    }
  }
}

/** A new array: `items` shuffled by the stream (seed, key). */
export function shuffled<T>(items: readonly T[], seed: number, key: string): T[] {
  if (items.length > 2 ** 32) throw new RangeError(`cannot shuffle ${items.length} items (at most 2^32)`);
  const out = [...items];
  const words = new WordStream(seed, key);
  for (let i = out.length - 1; i > 0; i--) {
    const j = words.below(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
