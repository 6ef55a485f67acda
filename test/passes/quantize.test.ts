// Weight quantization (src/ir/quantize.ts, src/passes/quantize.ts) on the reference
// interpreter, against an independent float64 implementation written here: it quantizes with
// its own rounding and reads the stored bytes with bit operations (nibbles by shifts and
// masks, not the f32 arithmetic the pass's graph uses). Checked: the quantized values and
// scales, the round-trip error bound (half a step), the int4 nibble order, odd sizes, int8
// per channel and grouped, int4 groups 32/64/128, asymmetric zero points, and that the pass's
// dequantization graph reproduces the decoded weights exactly; which params a hint or a
// `--quantize` rule reaches.

import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import { graphParams } from '../../src/ir/graph.js';
import { evaluate } from '../../src/ir/interp.js';
import { type Hints, NO_HINTS } from '../../src/ir/module.js';
import {
  type QuantSpec,
  packInt4,
  parseQuantName,
  parseQuantSpec,
  quantNames,
  quantizeValues,
  withQuantized,
} from '../../src/ir/quantize.js';
import type { HostTensor } from '../../src/ir/value.js';
import type { QuantRule } from '../../src/passes/pass.js';
import { quantize } from '../../src/passes/quantize.js';

/** Round half to even, written apart from the library's. */
const rne = (x: number): number => {
  const f = Math.floor(x);
  const d = x - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
};

/** The test's own quantizer: q values (unpacked), scales, zero points. */
function reference(w: Float64Array, N: number, K: number, s: QuantSpec) {
  const Q = s.dtype === 'int8' ? 127 : 7;
  const g = s.group ?? K;
  const G = K / g;
  const q = new Int8Array(N * K);
  const scale = new Float64Array(N * G);
  const zero = new Float64Array(N * G);
  for (let n = 0; n < N; n++)
    for (let j = 0; j < G; j++) {
      const xs = Array.from({ length: g }, (_, i) => w[n * K + j * g + i]!);
      // The asymmetric range holds 0 (PyTorch's observers' min(min, 0), max(max, 0)).
      const lo = Math.min(...xs, ...(s.symmetric ? [] : [0]));
      const hi = Math.max(...xs, ...(s.symmetric ? [] : [0]));
      const sc = Math.fround(s.symmetric ? Math.max(-lo, hi) / Q : (hi - lo) / (2 * Q + 1));
      const z = s.symmetric || sc === 0 ? 0 : Math.max(-Q - 1, Math.min(Q, rne(-lo / sc) - Q - 1));
      scale[n * G + j] = sc;
      zero[n * G + j] = z;
      xs.forEach((x, i) => {
        const v = sc === 0 ? 0 : rne(x / sc) + z;
        q[n * K + j * g + i] = Math.max(s.symmetric ? -Q : -Q - 1, Math.min(Q, v));
      });
    }
  return { q, scale, zero };
}

/** Reads value (n, k) from stored q bytes with bit operations (int4: blocks of 64, i low / 32 + i high). */
function storedValue(bytes: Int8Array, n: number, k: number, K: number, s: QuantSpec): number {
  if (s.dtype === 'int8') return bytes[n * K + k]!;
  const W = 32 * Math.ceil(K / 64);
  const byte = bytes[n * W + 32 * Math.floor(k / 64) + (k % 32)]! & 0xff;
  const nibble = k % 64 < 32 ? byte & 0x0f : byte >>> 4;
  return (nibble << 28) >> 28; // sign-extend 4 bits
}

/** Seeded values with a few outliers and a zero group, so scales differ per group. */
function weights(N: number, K: number, seed: number): Float64Array {
  let x = seed;
  const next = (): number => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return Float64Array.from({ length: N * K }, (_, i) => Math.fround(i < K / 2 ? 0 : next() * (i % 13 === 0 ? 3 : 0.1)));
}

const CASES: [string, number, number, QuantSpec][] = [
  ['int8 per channel', 5, 37, { dtype: 'int8', symmetric: true }],
  ['int8 groups of 32', 3, 96, { dtype: 'int8', group: 32, symmetric: true }],
  ['int4 groups of 32', 4, 96, { dtype: 'int4', group: 32, symmetric: true }],
  ['int4 groups of 64', 3, 192, { dtype: 'int4', group: 64, symmetric: true }],
  ['int4 groups of 128', 2, 256, { dtype: 'int4', group: 128, symmetric: true }],
  ['int4 per channel, odd K', 3, 45, { dtype: 'int4', symmetric: true }],
  ['int4 asymmetric, groups of 32', 3, 64, { dtype: 'int4', group: 32, symmetric: false }],
  ['int8 asymmetric, odd K', 2, 33, { dtype: 'int8', symmetric: false }],
];

/** The graph `out = w` with param w f32[N, K], through the quantize pass. */
function dequantGraph(N: number, K: number, rules: readonly QuantRule[], hints: Hints = NO_HINTS) {
  const b = new Builder();
  const w = b.param('layer.w', 'f32', [N, K]);
  const g = b.graph('f', { out: w });
  return quantize.run(g, { target: 'reference', mode: 'inference', hints, options: { quantize: rules } });
}

describe('weight quantization', () => {
  for (const [what, N, K, spec] of CASES)
    it(`${what}: values, scales and round trip against float64, and the pass's graph decodes them exactly`, () => {
      const w = weights(N, K, N * K);
      const mine = quantizeValues(w, N, K, spec);
      const ref = reference(w, N, K, spec);
      const G = mine.scale.length / N;
      expect([...mine.scale]).toEqual([...ref.scale]);
      if (!spec.symmetric) expect([...mine.zero!]).toEqual([...ref.zero]);
      const decoded = new Float64Array(N * K);
      for (let n = 0; n < N; n++)
        for (let k = 0; k < K; k++) {
          const v = storedValue(mine.q, n, k, K, spec);
          expect(v, `q[${n}, ${k}]`).toBe(ref.q[n * K + k]);
          const j = n * G + Math.floor(k / (spec.group ?? K));
          decoded[n * K + k] = Math.fround((v - ref.zero[j]!) * ref.scale[j]!);
          // Half a step of rounding (and the scale's own f32 rounding).
          const err = Math.abs(decoded[n * K + k]! - w[n * K + k]!);
          expect(err).toBeLessThanOrEqual(ref.scale[j]! * 0.5 * (1 + 1e-6) + 1e-12);
        }
      // The padded nibbles of an int4 row past K are zeros.
      if (spec.dtype === 'int4' && K % 64 !== 0) expect(storedValue(mine.q, 0, K + 1, K, spec)).toBe(0);
      // The pass's dequantization, evaluated on the derived params, is the decoded weights.
      const g = dequantGraph(N, K, [{ path: 'layer', spec }]);
      const params = withQuantized([g], new Map([['layer.w', { dtype: 'f32', shape: [N, K], data: w }]]));
      const out = evaluate(g, { inputs: new Map(), params, dims: new Map() }).outputs.get('out')!;
      expect([...out.data]).toEqual([...decoded]);
    });

  it('asymmetric: a constant group (max = min) keeps its value, through the pass on the reference interpreter', () => {
    // Rows of one value each (positive, negative, zero) and, in groups of 1, every group constant.
    const [N, K] = [4, 64];
    const w = Float64Array.from({ length: N * K }, (_, i) => [1, -0.75, 0, 3.5][Math.floor(i / K)]!);
    const mixed = Float64Array.from({ length: N * K }, (_, i) => Math.fround(Math.sin(i) * 2 + 0.5));
    for (const [text, values] of [
      ['int8:asym', w],
      ['int4:asym', w],
      ['int4:1:asym', mixed],
      ['int8:1:asym', mixed],
    ] as const) {
      const spec = parseQuantSpec(text) as QuantSpec;
      const g = dequantGraph(N, K, [{ path: 'layer', spec }]);
      const params = withQuantized([g], new Map([['layer.w', { dtype: 'f32', shape: [N, K], data: values }]]));
      const out = evaluate(g, { inputs: new Map(), params, dims: new Map() }).outputs.get('out')!;
      out.data.forEach((v, i) => expect(v, `${text} [${i}]`).toBeCloseTo(values[i]!, 5));
    }
  });

  it('packs int4 in blocks of 64: value i in the low nibble of byte i, value 32 + i in the high one', () => {
    const v = Int8Array.from({ length: 64 }, (_, k) => (k < 32 ? (k % 16) - 8 : 7 - (k % 16)));
    const bytes = packInt4(v, 1, 64);
    expect(bytes.length).toBe(32);
    // byte 0: low v[0] = -8 (0x8), high v[32] = 7 → 0x78; byte 1: low -7 (0x9), high v[33] = 6 → 0x69;
    // byte 31: low v[31] = 7, high v[63] = -8 → 0x87 (a negative i8).
    expect([bytes[0], bytes[1], bytes[31]]).toEqual([0x78, 0x69, (-8 << 4) | 7]);
    // A row of 45 values takes one padded block; rows start at multiples of 32 bytes.
    expect(packInt4(new Int8Array(2 * 45).fill(1), 2, 45).length).toBe(64);
  });

  it('names quantized params after their source and spec, and parses the names and specs back', () => {
    const s: QuantSpec = { dtype: 'int4', group: 128, symmetric: false };
    const names = quantNames('blocks.0.ffn.up.w', s);
    expect(names).toEqual({
      q: 'blocks.0.ffn.up.w:int4g128a.q',
      scale: 'blocks.0.ffn.up.w:int4g128a.scale',
      zero: 'blocks.0.ffn.up.w:int4g128a.zero',
    });
    expect(parseQuantName(names.zero!)).toEqual({ path: 'blocks.0.ffn.up.w', spec: s, part: 'zero' });
    expect(parseQuantName('blocks.0.ffn.up.w')).toBeUndefined();
    expect(parseQuantSpec('int4:128:asym')).toEqual(s);
    expect(parseQuantSpec('int8')).toEqual({ dtype: 'int8', symmetric: true });
    for (const bad of ['int2', 'int4:0', 'int4:asym:128', 'int8:32:64'])
      expect(typeof parseQuantSpec(bad)).toBe('string');
  });

  it('reaches float params of rank ≥ 2 under a rule path or a hint; `none` and later rules win', () => {
    const int8: QuantSpec = { dtype: 'int8', symmetric: true };
    const build = (rules: readonly QuantRule[], hints: Hints = NO_HINTS): string[] => {
      const b = new Builder();
      const x = b.input('x', 'f32', [2, 4]);
      const up = b.param('blocks.0.ffn.up.w', 'f32', [4, 4]);
      const bias = b.param('blocks.0.ffn.up.b', 'f32', [4]);
      const attn = b.param('blocks.0.attn.q.w', 'f32', [4, 4]);
      const y = b.add(b.einsum('ni,oi->no', b.einsum('ni,oi->no', x, up), attn), b.expand(bias, [2, 4]));
      const g = quantize.run(b.graph('f', { y }), {
        target: 'c',
        mode: 'inference',
        hints,
        options: { quantize: rules },
      });
      return graphParams(g)
        .map((p) => p.args.path)
        .sort();
    };
    expect(build([{ path: 'ffn', spec: int8 }])).toEqual([
      'blocks.0.attn.q.w',
      'blocks.0.ffn.up.b',
      'blocks.0.ffn.up.w:int8.q',
      'blocks.0.ffn.up.w:int8.scale',
    ]);
    expect(
      build([
        { path: 'all', spec: int8 },
        { path: 'attn', spec: 'none' },
      ]),
    ).toContain('blocks.0.attn.q.w');
    expect(build([{ path: 'all', spec: int8 }])).toContain('blocks.0.attn.q.w:int8.q');
    const hints: Hints = { params: new Map(), blocks: new Map([['blocks.0.attn', { quantize: int8 }]]) };
    expect(build([], hints)).toContain('blocks.0.attn.q.w:int8.q');
    expect(build([{ path: 'all', spec: 'none' }], hints)).toContain('blocks.0.attn.q.w');
  });

  it('leaves grad and train graphs in f32, and reports a group that does not divide', () => {
    const int8: QuantSpec = { dtype: 'int8', symmetric: true };
    const b = new Builder();
    const w = b.param('w', 'f32', [3, 4]);
    const g = b.graph('f', { out: w });
    const ctx = { target: 'c' as const, hints: NO_HINTS, options: { quantize: [{ path: 'all', spec: int8 }] } };
    expect(quantize.run(g, { ...ctx, mode: 'grad' })).toBe(g);
    const bad = [{ path: 'all', spec: { ...int8, group: 3 } }];
    expect(() => quantize.run(g, { ...ctx, mode: 'inference', options: { quantize: bad } })).toThrow(
      /group 3 does not divide 4/,
    );
  });

  it('derives quantized params once from the weights, keeps ones already given, and checks their shape', () => {
    const g = dequantGraph(2, 32, [{ path: 'all', spec: { dtype: 'int4', group: 32, symmetric: true } }]);
    const w: HostTensor = { dtype: 'f32', shape: [2, 32], data: weights(2, 32, 5) };
    const derived = withQuantized([g], new Map([['layer.w', w]]));
    expect([...derived.keys()].sort()).toEqual(['layer.w', 'layer.w:int4g32.q', 'layer.w:int4g32.scale']);
    expect(derived.get('layer.w:int4g32.q')!.shape).toEqual([2, 32]);
    const given = new Map(derived);
    const q = given.get('layer.w:int4g32.q')!;
    given.delete('layer.w');
    expect(withQuantized([g], given).get('layer.w:int4g32.q')).toBe(q);
    given.set('layer.w:int4g32.q', { ...q, shape: [2, 16], data: new Float64Array(32) });
    expect(() => withQuantized([g], given)).toThrow(/the model needs i8\[2, 32\]/);
  });
});
