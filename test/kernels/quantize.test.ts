// Quantized weights on the C target: `y = x @ W.T + b` with W quantized by the quantize pass
// (int8 per channel and grouped, int4 groups 32/64/128, odd sizes, asymmetric), fused as the
// C pipeline fuses it (the dequantization computed inside the GEMM: no kernel of its own),
// run at M = 1 and 3 (the GEMV along K) and 9 (the packed GEMM, B packed from its bytes by
// gemm-quant-pack.ts) and compared with the
// reference interpreter running dequantize-then-f32 on the same quantized weights, at a tight
// tolerance. The quantization error itself (against the f32 weights) is printed and checked
// to be small but not zero. Also: C's floor (which the int4 unpacking uses) on special values.

import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import type { Graph } from '../../src/ir/graph.js';
import { NO_HINTS } from '../../src/ir/module.js';
import { type QuantSpec, withQuantized } from '../../src/ir/quantize.js';
import type { HostTensor } from '../../src/ir/value.js';
import { fusion } from '../../src/passes/fusion/index.js';
import type { PassContext } from '../../src/passes/pass.js';
import { toHost } from '../../src/runtime/tensor.js';
import { CBatch, runAndCompare } from './c-harness.js';
import { quantizedLinear, weight } from './quantized-linear.js';

/** f32 rounding only: the GEMM sums K products in f32 where the reference sums in float64. */
const tight = (K: number) => ({ rtol: 1e-5, atol: 1e-8 * Math.max(K, 100) });

const CASES: [string, number, number, QuantSpec, number][] = [
  // name, N, K, spec, the largest error allowed relative to max |y|
  ['int8 per channel, N 33, K 100', 33, 100, { dtype: 'int8', symmetric: true }, 0.02],
  ['int8 groups of 32', 16, 96, { dtype: 'int8', group: 32, symmetric: true }, 0.02],
  ['int4 groups of 32', 20, 96, { dtype: 'int4', group: 32, symmetric: true }, 0.2],
  ['int4 groups of 64', 20, 192, { dtype: 'int4', group: 64, symmetric: true }, 0.2],
  ['int4 groups of 128', 20, 256, { dtype: 'int4', group: 128, symmetric: true }, 0.2],
  ['int4 per channel, K 45', 17, 45, { dtype: 'int4', symmetric: true }, 0.25],
  ['int4 asymmetric, groups of 32', 20, 64, { dtype: 'int4', group: 32, symmetric: false }, 0.2],
  // K past one K block of the packed GEMM: blocks that start inside an int4 block or an int8 group.
  ['int4 groups of 32, K 1120', 20, 1120, { dtype: 'int4', group: 32, symmetric: true }, 0.2],
  ['int8 asymmetric, groups of 100, K 1100', 12, 1100, { dtype: 'int8', group: 100, symmetric: false }, 0.02],
];

const linear = (N: number, K: number, spec: QuantSpec | 'none'): Graph => quantizedLinear(N, K, spec);

describe('quantized GEMM and GEMV on C', () => {
  it(
    'match dequantize-then-f32 in the reference; the quantization error is reported apart',
    { timeout: 120_000 },
    () => {
      const graphs = CASES.flatMap(([, N, K, spec]) => [linear(N, K, spec), linear(N, K, 'none')]);
      for (const g of graphs.filter((_, i) => i % 2 === 0)) {
        // One GEMM kernel: the dequantization has no kernel (and no buffer) of its own.
        expect(g.groups!.map((k) => k.kind)).toEqual(['gemm']);
        expect(g.groups![0]!.prologue.some((n) => n.op === 'cast')).toBe(true);
      }
      const batch = CBatch.build(graphs);
      CASES.forEach(([what, , K, , bound], c) => {
        const f32 = new Map(['fc.w', 'fc.b'].map((p) => [p, weight(graphs[2 * c + 1]!, p)]));
        const params = withQuantized([graphs[2 * c]!], f32);
        for (const M of [1, 3, 9]) {
          const q = runAndCompare(batch, 2 * c, { dims: { M }, params, tol: tight(K), seed: M });
          expect(q.problems, `${what} at M = ${M}`).toEqual([]);
          const f = runAndCompare(batch, 2 * c + 1, { dims: { M }, params: f32, seed: M });
          expect(f.problems).toEqual([]);
          const yq = toHost(q.c.y!).data;
          const yf = toHost(f.c.y!).data;
          const scale = Math.max(...yf.map(Math.abs));
          const err = Math.max(...yq.map((v, i) => Math.abs(v - yf[i]!))) / scale;
          if (M === 1) console.log(`quantization error, ${what}: ${(100 * err).toFixed(3)}% of max |y|`);
          expect(err).toBeGreaterThan(0);
          expect(err).toBeLessThan(bound);
        }
      });
    },
  );

  it('floors special values exactly as the reference (the vectorizable floor of the C prelude)', () => {
    const values = [
      -0,
      0,
      0.5,
      -0.5,
      -0.3,
      0.3,
      2.5,
      -2.5,
      1,
      -1,
      8388607.5,
      -8388607.5,
      8388608,
      -8388609,
      1e30,
      -1e30,
      1.401298464324817e-45,
      -1.401298464324817e-45,
      Infinity,
      -Infinity,
      NaN,
      0.99999994,
      -0.99999994,
      4194303.75,
    ].map(Math.fround);
    const b = new Builder();
    const x = b.input('x', 'f32', [values.length]);
    const g = b.graph('floor', { y: b.unary('floor', x) });
    const ctx: PassContext = { target: 'c', mode: 'inference', hints: NO_HINTS, options: {} };
    const batch = CBatch.build([fusion.run(g, ctx)]);
    const input: HostTensor = { dtype: 'f32', shape: [values.length], data: Float64Array.from(values) };
    const r = runAndCompare(batch, 0, { inputs: { x: input }, tol: { rtol: 0, atol: 0 } });
    expect(r.problems).toEqual([]);
    const got = toHost(r.c.y!).data;
    values.forEach((v, i) => expect(Object.is(got[i], Math.floor(v)), `floor(${v})`).toBe(true));
  });
});
