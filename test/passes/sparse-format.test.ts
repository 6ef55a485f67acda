// Compressed storage of pruned weights (src/ir/sparse-format.ts) against decoders written
// here independently of it: BSR (block-sparse rows) and 2:4 (values and 2-bit positions),
// on weights pruned by the same magnitude pruning the runtime applies (sparseMask), with odd
// shapes, empty block rows, all-zero and all-kept weights, and groups of 4 with fewer than
// two nonzeros.

import { describe, expect, it } from 'vitest';
import { bsrBytes, decodeTwoFour, encodeBsr, encodeTwoFour, twoFourBytes } from '../../src/ir/sparse-format.js';
import { sparseMask } from '../../src/ir/sparsity.js';

/** N×K values from a sine (every one different and nonzero), pruned by `mask`. */
function pruned(N: number, K: number, mask: (w: Float64Array) => Float64Array): Float64Array {
  const w = Float64Array.from({ length: N * K }, (_, e) => Math.sin(0.71 * e + 0.3) + 0.01);
  const m = mask(w);
  return w.map((x, i) => (m[i] ? x : 0));
}

/** Dense from BSR by scattering every stored block: reads only the three arrays. */
function bsrToDense(N: number, K: number, b: number, rowptr: Int32Array, cols: Int32Array, values: Float32Array) {
  const out = new Float64Array(N * K);
  expect(rowptr[0]).toBe(0);
  for (let i = 0; i + 1 < rowptr.length; i++) {
    expect(rowptr[i + 1]).toBeGreaterThanOrEqual(rowptr[i]!);
    let last = -1;
    for (let p = rowptr[i]!; p < rowptr[i + 1]!; p++) {
      expect(cols[p]).toBeGreaterThan(last); // increasing columns
      last = cols[p]!;
      for (let e = 0; e < b * b; e++)
        out[(i * b + Math.floor(e / b)) * K + cols[p]! * b + (e % b)] = values[p * b * b + e]!;
    }
  }
  expect(rowptr[rowptr.length - 1]).toBe(cols.length);
  return out;
}

describe('BSR storage', () => {
  const cases: [string, number, number, number, number][] = [
    // name, N, K, b, density
    ['32×32 blocks at 0.5', 96, 160, 32, 0.5],
    ['16×16 blocks at 0.25', 48, 128, 16, 0.25],
    ['16×16 blocks, every block', 32, 48, 16, 1],
  ];
  for (const [name, N, K, b, density] of cases)
    it(`round-trips ${name}, storing exactly the kept blocks`, () => {
      const w = pruned(N, K, (x) => sparseMask(x, [N, K], { kind: 'block', block: b, density }));
      const s = encodeBsr(w, N, K, b);
      const kept = Math.max(1, Math.round(density * (N / b) * (K / b)));
      expect(s.cols.length).toBe(kept);
      expect(s.rowptr.length).toBe(N / b + 1);
      expect(Array.from(bsrToDense(N, K, b, s.rowptr, s.cols, s.values))).toEqual(Array.from(Float32Array.from(w)));
      expect(bsrBytes(N, b, kept)).toBe(4 * (s.values.length + s.rowptr.length + s.cols.length));
    });

  it('stores nothing for zero weights, and empty block rows as equal pointers', () => {
    const zero = encodeBsr(new Float64Array(32 * 64), 32, 64, 16);
    expect([zero.cols.length, zero.values.length, Array.from(zero.rowptr)]).toEqual([0, 0, [0, 0, 0]]);
    // Block row 1 of 3 empty; a NaN makes its block nonzero.
    const w = new Float64Array(48 * 32);
    w[5] = 1;
    w[40 * 32 + 20] = NaN;
    const s = encodeBsr(w, 48, 32, 16);
    expect(Array.from(s.rowptr)).toEqual([0, 1, 1, 2]);
    expect(Array.from(s.cols)).toEqual([0, 1]);
    expect(Number.isNaN(bsrToDense(48, 32, 16, s.rowptr, s.cols, s.values)[40 * 32 + 20]!)).toBe(true);
  });
});

/** Dense from 2:4 reading each kept element's 2 bits as text: an independent bit order check. */
function twoFourToDense(N: number, K: number, values: Float32Array, meta: Uint32Array): Float64Array {
  const out = new Float64Array(N * K);
  const words = meta.length / N;
  for (let n = 0; n < N; n++) {
    // Word w's bits, least significant first, then 2 bits an element.
    const bits = Array.from({ length: words }, (_, w) =>
      meta[n * words + w]!.toString(2).padStart(32, '0').split('').reverse().join(''),
    ).join('');
    let prev = -1;
    for (let e = 0; e < K / 2; e++) {
      const pos = Number.parseInt(bits[2 * e + 1]! + bits[2 * e]!, 2);
      if (e % 2 === 1) expect(pos, `row ${n}, element ${e}`).toBeGreaterThan(prev); // increasing in a group
      prev = pos;
      out[n * K + 4 * Math.floor(e / 2) + pos] = values[n * (K / 2) + e]!;
    }
  }
  return out;
}

describe('2:4 storage', () => {
  it.each([
    [8, 64],
    [5, 36],
    [3, 4],
  ])('round-trips %i×%i weights pruned 2:4, half the values and 2 bits each', (N, K) => {
    const w = pruned(N, K, (x) => sparseMask(x, [N, K], { kind: 'n:m', n: 2, m: 4 }));
    const t = encodeTwoFour(w, N, K);
    expect(t.values.length).toBe((N * K) / 2);
    expect(t.meta.length).toBe(N * Math.ceil(K / 32));
    const dense = Array.from(Float32Array.from(w));
    expect(Array.from(twoFourToDense(N, K, t.values, t.meta))).toEqual(dense);
    expect(Array.from(decodeTwoFour(t))).toEqual(dense);
    expect(twoFourBytes(N, K)).toBe(4 * t.values.length + 4 * t.meta.length);
  });

  it('keeps zeros at the lowest free positions where a group has fewer than two nonzeros', () => {
    // Groups: [0 0 0 0], [0 0 3 0], [1 0 0 2], [0 5 6 0].
    const w = [0, 0, 0, 0, 0, 0, 3, 0, 1, 0, 0, 2, 0, 5, 6, 0];
    const t = encodeTwoFour(w, 1, 16);
    expect(Array.from(t.values)).toEqual([0, 0, 0, 3, 1, 2, 5, 6]);
    // Positions (0,1) (0,2) (0,3) (1,2), 2 bits each from the low end.
    const pos = [0, 1, 0, 2, 0, 3, 1, 2];
    expect(t.meta[0]).toBe(pos.reduce((a, p, e) => a + p * 4 ** e, 0));
    expect(Array.from(twoFourToDense(1, 16, t.values, t.meta))).toEqual(w);
  });

  it('refuses a group with three nonzeros', () => {
    expect(() => encodeTwoFour([1, 2, 3, 0], 1, 4)).toThrow(/3 nonzeros/);
  });
});
