// The reference interpreter as the targets' oracle (issue 17, item 3): in its default precision
// 'dtype' every float result is rounded to its dtype, so overflow gives ±Inf where C and ONNX
// Runtime do, and i64 arithmetic is exact and wraps at 2^63 as C's does. The unrounded
// 'float64' mode, which the gradient checks and the float64 PyTorch oracles use, is kept.

import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { Builder } from '../../src/ir/build.js';
import type { Dtype } from '../../src/ir/dtype.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { type Precision, evaluate } from '../../src/ir/interp.js';
import { type HostTensor, hostTensor, i64Tensor } from '../../src/ir/value.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { CACHE_DIR, MODEL_TOL, checkGraphs, compare } from '../kernels/c-harness.js';

const none = new Map<string, number>();

/** out = f(x) for one input x holding `values`. */
function unaryGraph(dtype: Dtype, values: readonly number[], f: (b: Builder, x: Node) => Node) {
  const b = new Builder();
  const x = b.input('x', dtype, [values.length]);
  const graph = b.graph('f', { y: f(b, x) });
  return { graph, inputs: { x: hostTensor(dtype, [values.length], values) } };
}

function run(c: { graph: Graph; inputs: Record<string, HostTensor> }, precision?: Precision): number[] {
  const out = evaluate(
    c.graph,
    { inputs: new Map(Object.entries(c.inputs)), params: new Map(), dims: none },
    {
      precision,
    },
  );
  return [...out.outputs.get('y')!.data];
}

const k = (b: Builder, v: number, dtype: Dtype = 'f32') => b.full(v, dtype, []);

const FLOAT_CASES = {
  '(x * 1e30) * 1e30 / 1e30 in f32': unaryGraph('f32', [1, -2, 0.5], (b, x) =>
    b.div(b.mul(b.mul(x, k(b, 1e30)), k(b, 1e30)), k(b, 1e30)),
  ),
  'exp(88.73) in f32': unaryGraph('f32', [88.73, 88.72], (b, x) => b.unary('exp', x)),
  'recip(1e-45) in f32': unaryGraph('f32', [1e-45, -1e-45], (b, x) => b.unary('recip', x)),
  'exp(300) in f16': unaryGraph('f16', [300, 11], (b, x) => b.unary('exp', x)),
  'a sum past the f32 range': unaryGraph('f32', [3e38, 3e38], (b, x) => b.sum(x, [0])),
};

describe('float results rounded to their dtype (precision "dtype", the default)', () => {
  it('overflow gives Inf as on the C target', () => {
    expect(run(FLOAT_CASES['(x * 1e30) * 1e30 / 1e30 in f32'])).toEqual([Infinity, -Infinity, Infinity]);
    expect(run(FLOAT_CASES['exp(88.73) in f32'])).toEqual([Infinity, Math.fround(Math.exp(Math.fround(88.72)))]);
    expect(run(FLOAT_CASES['recip(1e-45) in f32'])).toEqual([Infinity, -Infinity]);
    expect(run(FLOAT_CASES['exp(300) in f16'])[0]).toBe(Infinity);
    expect(run(FLOAT_CASES['a sum past the f32 range'])).toEqual([Infinity]);
  });

  it('the float64 mode keeps the unrounded values', () => {
    const [a] = run(FLOAT_CASES['(x * 1e30) * 1e30 / 1e30 in f32'], 'float64');
    expect(a! / 1e30).toBeCloseTo(1, 6);
    expect(run(FLOAT_CASES['exp(300) in f16'], 'float64')[0]! / Math.exp(300)).toBeCloseTo(1, 12);
    expect(run(FLOAT_CASES['exp(88.73) in f32'], 'float64')[0]).toBe(Math.exp(Math.fround(88.73)));
  });

  it('every intermediate is rounded: f16 (x * 1000) / 1000 overflows at x = 100', () => {
    const c = unaryGraph('f16', [100, 1], (b, x) => b.div(b.mul(x, k(b, 1000, 'f16')), k(b, 1000, 'f16')));
    expect(run(c)).toEqual([Infinity, 1]);
  });

  it('C agrees on every case', { timeout: 120_000 }, () => {
    const cases = Object.values(FLOAT_CASES);
    const { results } = checkGraphs(cases.map((c) => ({ graph: c.graph, run: { inputs: c.inputs } })));
    results.forEach((r, i) => {
      expect(r.problems, Object.keys(FLOAT_CASES)[i]).toEqual([]);
      const got = [...toHost(r.c.y!).data];
      expect(
        got.map((v, j) => (Number.isFinite(v) ? 'finite' : v)),
        Object.keys(FLOAT_CASES)[i],
      ).toEqual([...r.ref.get('y')!.data].map((v) => (Number.isFinite(v) ? 'finite' : v)));
    });
  });
});

describe('a repeat 2000 Linear chain', () => {
  it('overflows and turns to NaN where C does', { timeout: 300_000 }, () => {
    const source = `import { Linear } from "std/nn"

model Deep(d = 4) {
  layers = repeat 2000 Linear(d, d)
  fn forward(x: f32[B, d]) -> (y: f32[B, d]) {
    return layers(x)
  }
}
`;
    const compiled = compileModel(source, { cacheDir: CACHE_DIR, seed: 3 });
    const g = compiled.lowered[0]!.graph;
    const dims = new Map([['B', 2]]);
    const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 7, indexBound(g, n))]));
    const c = toHost(compiled.model.run({ x: fromHost(inputs.get('x')!) }).y!);
    const ref = evaluate(g, { inputs, params: compiled.weights, dims }).outputs.get('y')!;
    expect(compare('y', c, ref, MODEL_TOL)).toEqual([]);
    const kinds = (t: HostTensor) =>
      [...t.data].map((v) => (Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? 'finite' : v));
    expect(kinds(ref)).toEqual(kinds(c));
    // The chain does overflow (the old float64 reference gave Infinity where C gives NaN).
    expect(kinds(ref).some((v) => v !== 'finite')).toBe(true);
    const f64 = evaluate(g, { inputs, params: compiled.weights, dims }, { precision: 'float64' }).outputs.get('y')!;
    expect(kinds(f64)).not.toEqual(kinds(c));
  });
});

describe('i64 is exact and wraps at 2^63', () => {
  const i64 = (values: readonly bigint[]) => i64Tensor([values.length], BigInt64Array.from(values));
  const cases: Record<string, { graph: Graph; inputs: Record<string, HostTensor>; want: bigint[] }> = {};
  {
    const b = new Builder();
    const x = b.input('x', 'i64', [2]);
    cases['-(-2^63)'] = {
      graph: b.graph('f', { y: b.unary('neg', x) }),
      inputs: { x: i64([-(2n ** 63n), 5n]) },
      want: [-(2n ** 63n), -5n],
    };
  }
  {
    const b = new Builder();
    const x = b.input('x', 'i64', [2]);
    cases['sum([2^62, 2^62])'] = {
      graph: b.graph('f', { y: b.sum(x, [0]) }),
      inputs: { x: i64([2n ** 62n, 2n ** 62n]) },
      want: [-(2n ** 63n)],
    };
  }
  {
    // (x + 1) - x at x = 2^62: 2^62 + 1 has no float64.
    const b = new Builder();
    const x = b.input('x', 'i64', [1]);
    const one = b.full(1, 'i64', []);
    cases['(2^62 + 1) - 2^62'] = {
      graph: b.graph('f', { y: b.sub(b.add(x, one), x) }),
      inputs: { x: i64([2n ** 62n]) },
      want: [1n],
    };
  }
  {
    // 3^39 does not fit a float64 exactly; times 3 wraps.
    const b = new Builder();
    const x = b.input('x', 'i64', [1]);
    const three = b.full(3, 'i64', []);
    cases['3^40 wraps'] = {
      graph: b.graph('f', {
        y: b.binary('pow', x, b.full(40, 'i64', [])),
        z: b.mul(b.binary('pow', x, b.full(39, 'i64', [])), three),
      }),
      inputs: { x: i64([3n]) },
      want: [BigInt.asIntN(64, 3n ** 40n)],
    };
  }

  for (const [name, c] of Object.entries(cases))
    it(name, () => {
      const out = evaluate(c.graph, { inputs: new Map(Object.entries(c.inputs)), params: new Map(), dims: none });
      const y = out.outputs.get('y')!;
      expect(y.exact && [...y.exact]).toEqual(c.want);
      expect([...y.data]).toEqual(c.want.map(Number));
    });

  it('C agrees', { timeout: 120_000 }, () => {
    const list = Object.values(cases);
    const { results } = checkGraphs(list.map((c) => ({ graph: c.graph, run: { inputs: c.inputs } })));
    results.forEach((r, i) => {
      expect(r.problems).toEqual([]);
      expect([...(r.c.y!.data as BigInt64Array)], Object.keys(cases)[i]).toEqual(list[i]!.want);
    });
  });

  it('every op carries exact values: results above 2^53 less 2^62 match C', { timeout: 120_000 }, () => {
    const b = new Builder();
    const x = b.input('x', 'i64', [2, 3]);
    const idx = b.input('idx', 'i32', [2]);
    const base = b.full(2 ** 62, 'i64', []);
    const big = b.add(x, base); // 2^62 + x: no float64 holds these
    const low = (n: Node) => b.sub(n, base);
    const outs: Record<string, Node> = {
      permute: low(b.permute(big, [1, 0])),
      reshape: low(b.reshape(big, [3, 2])),
      slice: low(b.slice(big, [0, 1], [2, 2])),
      concat: low(b.concat([big, b.add(big, b.full(7, 'i64', []))], 0)),
      gather: low(b.gather(big, idx, 1)),
      where: low(b.where(b.gt(x, b.full(2, 'i64', [])), big, b.add(big, big))),
      topk: low(b.topk(big, 2, 1, 'values')),
      max: low(b.amax(big, [1])),
      sum: b.sum(big, [0]), // 2^63 + ...: wraps
      einsum: b.einsum('ij,kj->ik', big, x),
      scatter: low(b.scatterAdd(big, idx, b.full(1, 'i64', [2, 2]), 1)),
      f32: b.cast(b.add(base, b.full(2 ** 38 + 1, 'i64', [])), 'f32'), // correctly rounded: no double rounding
      i32: b.cast(b.add(big, b.full(2 ** 32, 'i64', [])), 'i32'),
      neg: b.add(b.unary('neg', big), base),
    };
    const graph = b.graph('f', outs);
    const inputs = {
      x: hostTensor('i64', [2, 3], [1, -2, 3, 4, 5, -6]),
      idx: hostTensor('i32', [2], [2, 0]),
    };
    const ref = evaluate(graph, { inputs: new Map(Object.entries(inputs)), params: new Map(), dims: none }).outputs;
    expect([...ref.get('permute')!.data]).toEqual([1, 4, -2, 5, 3, -6]);
    expect([...ref.get('concat')!.data]).toEqual([1, -2, 3, 4, 5, -6, 8, 5, 10, 11, 12, 1]);
    // 2x + 2^63 wraps to 2x - 2^63, less 2^62 wraps again to 2x + 2^62.
    expect([...ref.get('where')!.exact!]).toEqual([2n ** 62n + 2n, 2n ** 62n - 4n, 3n, 4n, 5n, 2n ** 62n - 12n]);
    expect(ref.get('f32')!.data[0]).toBe(2 ** 62 + 2 ** 39);
    const { results } = checkGraphs([{ graph, run: { inputs } }]);
    expect(results[0]!.problems).toEqual([]);
    for (const name of Object.keys(outs)) {
      const c = results[0]!.c[name]!;
      const want = ref.get(name)!;
      if (want.exact) expect([...(c.data as BigInt64Array)], name).toEqual([...want.exact]);
    }
  });
});

describe('i64 through safetensors', () => {
  it('reads and writes exact values beyond 2^53', async () => {
    const { readSafetensors, writeSafetensors } = await import('../../src/runtime/safetensors.js');
    const values = [2n ** 62n + 1n, -(2n ** 63n), 2n ** 63n - 1n, -3n];
    const bytes = writeSafetensors(new Map([['t', i64Tensor([4], BigInt64Array.from(values))]]));
    const t = readSafetensors(bytes).tensors.get('t')!;
    expect([...t.exact!]).toEqual(values);
    expect([...t.data]).toEqual(values.map(Number));
    // Evaluated exactly: t - (2^62 + 1) at element 0 is 0, not the float64 difference.
    const b = new Builder();
    const x = b.input('x', 'i64', [4]);
    const g = b.graph('f', { y: b.sub(x, b.add(b.full(2 ** 62, 'i64', []), b.full(1, 'i64', []))) });
    const y = evaluate(g, { inputs: new Map([['x', t]]), params: new Map(), dims: none }).outputs.get('y')!;
    expect(y.exact![0]).toBe(0n);
    expect(readSafetensors(writeSafetensors(new Map([['y', y]]))).tensors.get('y')!.exact).toEqual(y.exact);
  });
});
