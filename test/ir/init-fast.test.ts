// The fast initializers (WebAssembly Philox, fused loops, small chunks) draw exactly the bits of
// the first JavaScript version (src/ir/init-reference.ts): every init kind, dtype and seed,
// counts that are not multiples of 4, unaligned starts, chunk and piece boundaries.

import { describe, expect, it } from 'vitest';
import { dimConst } from '../../src/ir/dims.js';
import type { Dtype } from '../../src/ir/dtype.js';
import { INIT_PIECE, initParam, initParamPieces, normalStream } from '../../src/ir/init.js';
import { referenceInitParam, referenceNormalStream, referenceUniformStream } from '../../src/ir/init-reference.js';
import { INIT_FNS, type InitFn, type OpArgs } from '../../src/ir/ops.js';
import { streamKey, UNIFORM_PIECE, uniformsAt, uniformsByBlock, uniformStream } from '../../src/ir/philox.js';

const SEEDS = [0, 1, -1, -123456789, 2 ** 31, 2 ** 53 - 1, -(2 ** 53 - 1)];

/** The first index where two arrays differ as bits (Object.is: -0 is not 0), or -1. */
function firstDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

const param = (fn: InitFn, args: Record<string, number>, shape: number[], dtype: Dtype = 'f32'): OpArgs['param'] => ({
  path: `blocks.0.${fn}`,
  role: 'param',
  dtype,
  shape: shape.map(dimConst),
  init: { fn, args },
});

describe('the WebAssembly Philox kernel', () => {
  it('gives the words of philox4x32 block by block over millions of elements', () => {
    let checked = 0;
    for (const [i, seed] of SEEDS.entries()) {
      const k = streamKey(seed, `stream ${i}`);
      const s: [number, number] = [(i * 0x9e3779b9) >>> 0, i];
      // Starts before the block counter's low word wraps, unaligned, with odd block counts.
      for (const start of [0, 3, 4 * (2 ** 32 - 3) + 1, 2 ** 52 + 2]) {
        const count = start === 0 ? 1 << 21 : 4099;
        const fast = uniformsAt(k, s, start, count);
        const want = uniformsByBlock(k, s, start, count);
        expect(firstDifference(fast.u.slice(fast.at, fast.at + count), want)).toBe(-1);
        checked += count;
      }
    }
    expect(checked).toBeGreaterThan(14e6);
  });
  it('maps the uniforms to a + b · u, rounded to f32 or not, like JavaScript', () => {
    const k = streamKey(7, 'map');
    for (const map of [
      { a: -0.1, b: 0.2, f32: true },
      { a: -0.1, b: 0.2, f32: false },
      { a: 1e-3, b: -3.7, f32: true },
    ]) {
      const fast = uniformsAt(k, [0, 0], 5, 100_003, map);
      // More than UNIFORM_PIECE values take the JavaScript path: the same numbers.
      const slow = uniformsAt(k, [0, 0], 5, UNIFORM_PIECE + 1, map);
      const want = uniformsByBlock(k, [0, 0], 5, 100_003).map((u) => {
        const x = map.a + map.b * u;
        return map.f32 ? Math.fround(x) : x;
      });
      expect(firstDifference(fast.u.slice(fast.at, fast.at + 100_003), want)).toBe(-1);
      expect(firstDifference(slow.u.slice(0, 100_003), want)).toBe(-1);
    }
  });
});

describe('streams', () => {
  it('uniformStream and normalStream equal the reference across pieces', () => {
    const n = UNIFORM_PIECE + 7;
    for (const [seed, step, start] of [
      [0, 0, 0],
      [-5, 3, 1],
      [2 ** 53 - 1, 2 ** 40, 4 * 2 ** 32 - 2],
      [11, -2, 6],
    ] as const) {
      const a = uniformStream(seed, 'u', n, step, start);
      expect(firstDifference(a, referenceUniformStream(seed, 'u', n, step, start))).toBe(-1);
    }
    for (const count of [0, 1, 3, 2 * INIT_PIECE + 3])
      for (const seed of [0, -7])
        expect(firstDifference(normalStream(seed, 'z', count), referenceNormalStream(seed, 'z', count))).toBe(-1);
  });
});

describe('initParam', () => {
  const args: Record<InitFn, Record<string, number>[]> = {
    zeros: [{}],
    ones: [{}],
    constant: [{ value: 0.1 }, { value: -2.5 }],
    normal: [{}, { mean: 0.5, std: 0.02 }],
    uniform: [{}, { low: -3, high: 0.25 }],
    // The last two redraw often and, far in the tail, clamp after 64 rounds.
    trunc_normal: [{}, { std: 1, a: -0.5, b: 0.3 }, { std: 1, mean: 0, a: 3, b: 3.01 }],
    xavier_uniform: [{}, { gain: 2 }],
    xavier_normal: [{}, { gain: 0.5 }],
    kaiming_uniform: [{}, { a: Math.sqrt(5) }],
    kaiming_normal: [{}, { a: 0.1 }],
  };
  it('every init kind, seed and odd shape gives the reference bits', () => {
    for (const fn of INIT_FNS)
      for (const a of args[fn])
        for (const shape of [[1], [3], [7, 5], [3, 5461], [2, 3, 4097]])
          for (const seed of SEEDS) {
            const p = param(fn, a, shape);
            const got = initParam(p, new Map(), seed).data;
            expect(firstDifference(got, referenceInitParam(p, shape, seed)), `${fn} ${shape} ${seed}`).toBe(-1);
          }
  });
  it('every dtype, and params bigger than a piece, give the reference bits', () => {
    for (const dtype of ['f32', 'f16', 'bf16', 'i32', 'i8', 'i64', 'bool'] as const)
      for (const fn of ['normal', 'uniform', 'kaiming_uniform', 'constant'] as const) {
        const p = param(fn, fn === 'constant' ? { value: 2.7 } : { std: 3, high: 9 }, [61, 77], dtype);
        expect(firstDifference(initParam(p, new Map(), 3).data, referenceInitParam(p, [61, 77], 3))).toBe(-1);
      }
    for (const fn of ['normal', 'xavier_uniform', 'trunc_normal'] as const) {
      const shape = [2, INIT_PIECE + 3];
      const p = param(fn, {}, shape);
      const got = initParam(p, new Map(), -9).data;
      expect(firstDifference(got, referenceInitParam(p, shape, -9))).toBe(-1);
      // The pieces are slices of the whole, each handed out once, in order.
      const starts: number[] = [];
      initParamPieces(p, shape, -9, (start, v) => {
        starts.push(start);
        expect(firstDifference(v.slice(), got.slice(start, start + v.length))).toBe(-1);
      });
      expect(starts).toEqual([0, INIT_PIECE, 2 * INIT_PIECE]);
    }
  });
});
