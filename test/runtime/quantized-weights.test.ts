// QuantizedWeights derives a quantized param again when its f32 source changes, and marks the
// q buffer changed too, so the GEMM's panels dequantized from q (gemm.ts prepackable, a
// packed buffer keyed by q's version) are derived again at the next run.

import { describe, expect, it } from 'vitest';
import { dimConst } from '../../src/ir/dims.js';
import { quantNames, quantizeValues } from '../../src/ir/quantize.js';
import type { PlanParam } from '../../src/kernels/plan.js';
import { QuantizedWeights } from '../../src/runtime/quantized-weights.js';
import { versionOf, weightsChanged } from '../../src/runtime/weight-versions.js';

const N = 4;
const K = 8;
const SPEC = { dtype: 'int8', symmetric: true } as const;

function setup(): { weights: Map<string, ArrayBuffer>; qw: QuantizedWeights; names: ReturnType<typeof quantNames> } {
  const names = quantNames('fc.w', SPEC);
  const w = Float32Array.from({ length: N * K }, (_, i) => Math.sin(i + 1));
  const q = quantizeValues(w, N, K, SPEC);
  const weights = new Map<string, ArrayBuffer>([
    ['fc.w', w.buffer],
    [names.q, Int8Array.from(q.q).buffer],
    [names.scale, Float32Array.from(q.scale).buffer],
  ]);
  const param = (path: string, dtype: PlanParam['dtype'], shape: number[]): PlanParam => ({
    path,
    buffer: 0,
    role: 'param',
    dtype,
    shape: shape.map(dimConst),
    init: { fn: 'zeros', args: {} },
  });
  const params = [param(names.q, 'i8', [N, K]), param(names.scale, 'f32', [N, 1])];
  return { weights, qw: new QuantizedWeights(params, weights), names };
}

describe('QuantizedWeights', () => {
  it('derives q and scale again after the f32 source changes, and bumps the version of q', () => {
    const { weights, qw, names } = setup();
    const q = new Int8Array(weights.get(names.q)!);
    const before = versionOf(weights.get(names.q)!);
    qw.refresh();
    expect(versionOf(weights.get(names.q)!)).toBe(before); // nothing changed: nothing derived

    const w = new Float32Array(weights.get('fc.w')!);
    w.forEach((v, i) => (w[i] = -2 * v));
    weightsChanged([weights.get('fc.w')!]);
    qw.refresh();
    const expected = quantizeValues(w, N, K, SPEC);
    expect([...q]).toEqual([...expected.q]);
    expect([...new Float32Array(weights.get(names.scale)!)]).toEqual([...Float32Array.from(expected.scale)]);
    // The packed panels dequantized from q are keyed by q's version: it must move.
    expect(versionOf(weights.get(names.q)!)).toBe(before + 1);

    qw.refresh(); // once per version of the source
    expect(versionOf(weights.get(names.q)!)).toBe(before + 1);
  });
});
