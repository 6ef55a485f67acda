// The flash-style attention kernel (src/kernels/attention*.ts) against the reference
// interpreter: the masks (none, causal, sliding window, key padding, bounds from below),
// rows with no visible key under masked_softmax (0) and plain softmax (NaN), T and S not
// multiples of the tiles, S ≠ T, several heads and batch > 1, letters in other orders; the
// std MultiHeadAttention configurations through the whole compiler; the matcher's key
// bounds; and the rendered kernel as a golden file.

import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { renderC } from '../../src/codegen/c.js';
import { C_PRELUDE } from '../../src/codegen/prelude-c.js';
import { Builder } from '../../src/ir/build.js';
import { dimConstValue } from '../../src/ir/dims.js';
import { type Graph, liveNodes } from '../../src/ir/graph.js';
import { matchAttention } from '../../src/passes/fusion/attention-match.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { SCHEDULES } from '../../src/kernels/schedule.js';
import { expectGolden } from '../golden/golden.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { CACHE_DIR, CBatch, MODEL_TOL, assertClean, compare, runAndCompare } from './c-harness.js';
import { type Case, attention, paddingValid } from './attention-graphs.js';

const kinds = (g: Graph, attention = true): string[] =>
  lowerGraph(g, { gemm: SCHEDULES.avx2, attention }).kernels.map((k) => k.name.replace(/^k\d+_/, ''));

/**
 * Each case at a few bindings 'B,T,S': tiles are (with the AVX2 schedule) 36 queries × 64 keys, so
 * most sizes leave partial tiles, and sizes over 64 keys need the online rescale.
 */
const CASES: [string, Case, string][] = [
  ['no mask', { mask: 'none', guarded: false }, '1,5,7 2,70,100'],
  ['unscaled, no mask', { mask: 'none', guarded: false, unscaled: true }, '1,5,70'],
  ['causal', { mask: 'causal' }, '2,9,9 1,100,100'],
  ['sliding window', { mask: 'window', W: 5 }, '2,13,13 1,150,150'],
  ['sliding window wider than a tile', { mask: 'window', W: 70 }, '1,200,200'],
  ['padding', { mask: 'padding', H: 3 }, '3,6,11 2,40,70'],
  ['rows with no visible key, masked_softmax', { mask: 'shifted' }, '2,8,8 1,40,40'],
  ['rows with no visible key, softmax (NaN)', { mask: 'shifted', guarded: false }, '1,8,8'],
  ['bounds from below (j ≥ i, j - i < W)', { mask: 'from', W: 4 }, '1,12,12 1,90,90'],
  ['cross attention, S ≠ T, causal mask', { mask: 'causal' }, '2,7,3 1,33,90'],
  ['relative position bias', { mask: 'bias', H: 2 }, '1,10,10 2,66,66'],
  ['other letter orders, D ≠ E', { mask: 'causal', D: 4, E: 6, permuted: true, H: 3 }, '2,35,35'],
];

describe('attention as one kernel on the C target', () => {
  const graphs = CASES.map(([, c]) => attention(c));
  const batch = CBatch.build(graphs, { lower: () => ({ gemm: SCHEDULES.avx2 }) });

  for (const [k, [name, c, bindings]] of CASES.entries()) {
    it(name, () => {
      // One attention kernel, no materialized scores or softmax reductions.
      expect(kinds(graphs[k]!)).toEqual(['attention']);
      expect(kinds(graphs[k]!, false)).not.toContain('attention');
      for (const [n, text] of bindings.split(' ').entries()) {
        const [B, T, S] = text.split(',').map(Number) as [number, number, number];
        const dims = { B, T, S };
        const inputs = c.mask === 'padding' ? { valid: paddingValid(dims.B!, dims.S!) } : undefined;
        const { problems } = runAndCompare(batch, k, { dims, seed: 3 + n, inputs });
        assertClean(graphs[k]!, problems, JSON.stringify(dims));
      }
    });
  }

  it('a padding mask with an all-padding sequence gives zeros there', () => {
    const k = CASES.findIndex(([, c]) => c.mask === 'padding');
    const valid = paddingValid(2, 9);
    valid.data.fill(0, 0, 9);
    const { c, problems } = runAndCompare(batch, k, { dims: { B: 2, T: 5, S: 9 }, inputs: { valid } });
    expect(problems).toEqual([]);
    const y = c.y!.data as Float32Array;
    expect([...y.subarray(0, y.length / 2)].every((x) => x === 0)).toBe(true);
    expect([...y.subarray(y.length / 2)].some((x) => x !== 0)).toBe(true);
  });

  it('reads key bounds from causal and sliding-window masks', () => {
    const bounds = (c: Case) => {
      const g = attention(c);
      const [m] = matchAttention(liveNodes(g), g);
      return m!.bounds.map((b) => ({ ct: b.ct, cs: b.cs, c: dimConstValue(b.c) }));
    };
    // causal: j - i - 1 < 0; window W: (i - j) - W < 0.
    expect(bounds({ mask: 'causal' })).toEqual([{ ct: -1, cs: 1, c: -1 }]);
    expect(bounds({ mask: 'window', W: 256 })).toEqual([
      { ct: -1, cs: 1, c: -1 },
      { ct: 1, cs: -1, c: -256 },
    ]);
    expect(bounds({ mask: 'padding' })).toEqual([]);
  });

  it('does not match when the probabilities have another reader (a backward pass)', () => {
    const g = attention({ mask: 'causal' });
    const y = g.outputs[0]!.node;
    const p = y.inputs[0]!;
    const g2: Graph = { ...g, outputs: [...g.outputs, { name: 'p', node: p }] };
    expect(matchAttention(liveNodes(g2), g2)).toEqual([]);
    expect(kinds(g2)).not.toContain('attention');
  });

  it('does not match a softmax over the queries', () => {
    const g = new Builder();
    const q = g.input('q', 'f32', ['B', 2, 'T', 8]);
    const k = g.input('k', 'f32', ['B', 2, 'S', 8]);
    const v = g.input('v', 'f32', ['B', 2, 'S', 8]);
    // Scores [b, h, s, t] with the softmax over t, then contracted over s.
    const x = g.einsum('bhtd,bhsd->bhst', q, k);
    const e = g.exp(g.sub(x, g.amax(x, [3], true)));
    const p = g.div(e, g.sum(e, [3], true));
    const graph = g.graph('forward', { y: g.einsum('bhst,bhse->bhte', p, v) });
    expect(matchAttention(liveNodes(graph), graph)).toEqual([]);
    expect(kinds(graph)).not.toContain('attention');
  });

  it('golden kernel: sliding-window attention', () => {
    const plan = lowerGraph(attention({ mask: 'window', W: 4 }), { gemm: SCHEDULES.avx2 });
    const source = renderC(plan.kernels, 'golden/kernels/attention.c');
    expectGolden('kernels/attention.c', source.replace(C_PRELUDE.trim(), '/* C_PRELUDE (src/codegen/prelude-c.ts) */'));
  });
});

const STD_SOURCE = `import { MultiHeadAttention } from "std/attention"
model M(d = 32, heads = 4) {
  full = MultiHeadAttention(d, heads)
  causal = MultiHeadAttention(d, heads, causal = true, use_rope = true)
  window = MultiHeadAttention(d, heads, kv_heads = 2, window = 6)
  rel = MultiHeadAttention(d, heads, rel_pos = true, max_distance = 8)
  fn forward(x: f32[B, T, d], valid: bool[B, T]) -> (a: f32[B, T, d], b: f32[B, T, d], c: f32[B, T, d], e: f32[B, T, d]) {
    return (full.forward_padded(x, valid), causal(x), window(x), rel.forward_padded(x, valid))
  }
}
`;

describe('std MultiHeadAttention through the compiler', () => {
  it('padded, causal with rope, sliding window with grouped kv heads, relative bias', { timeout: 120_000 }, () => {
    const compiled = compileModel(STD_SOURCE, { fns: ['forward'], cacheDir: CACHE_DIR, seed: 4 });
    const plan = compiled.functions[0]!.plan;
    const names = plan.kernels.map((k) => k.name);
    expect(names.filter((n) => n.endsWith('_attention')).length).toBeGreaterThanOrEqual(4);
    expect(names.some((n) => n.endsWith('_reduce'))).toBe(false);
    const g = compiled.lowered[0]!.graph;
    for (const [k, binding] of [
      { B: 2, T: 9 },
      { B: 1, T: 150 },
    ].entries()) {
      const dims = new Map(g.dims.map((d) => [d, binding[d as 'B' | 'T']]));
      const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 30 + k, indexBound(g, n))]));
      inputs.set('valid', paddingValid(binding.B, binding.T));
      const c = compiled.model.run(Object.fromEntries([...inputs].map(([name, t]) => [name, fromHost(t)])));
      const ref = evaluate(g, { inputs, params: compiled.weights, dims }).outputs;
      const problems = g.outputs.flatMap((o) =>
        compare(`${o.name} at ${JSON.stringify(binding)}`, toHost(c[o.name]!), ref.get(o.name)!, MODEL_TOL),
      );
      expect(problems).toEqual([]);
    }
  });
});
