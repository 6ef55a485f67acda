// Every primitive's gradient rule against float64 central differences on the reference
// interpreter (dot-product test with a random cotangent), exact values at ties, and the
// diagnostics for values that have no gradient.

import { describe, expect, it } from 'vitest';
import { concreteShape } from '../../src/ir/interp.js';
import { evaluate } from '../../src/ir/interp.js';
import { type Graph, type Node, liveNodes } from '../../src/ir/graph.js';
import { OP_NAMES } from '../../src/ir/ops.js';
import type { HostTensor } from '../../src/ir/value.js';
import { verifyProblems } from '../../src/ir/verify.js';
import { gradientGraph } from '../../src/passes/autodiff/index.js';
import { PassError } from '../../src/passes/pass.js';
import { Builder, dotLoss, exact, gradCheck, randomParams, rng } from './gradcheck.js';

interface Case {
  readonly name: string;
  /** Builds the op from the builder; returns the float result. */
  readonly build: (b: Builder) => Node;
  /** Range of the random param values (default [-1, 1]). */
  readonly range?: readonly [number, number];
  readonly inputs?: ReadonlyMap<string, HostTensor>;
  readonly dims?: ReadonlyMap<string, number>;
  readonly eps?: number;
  readonly tol?: number;
}

const none = new Map<string, number>();

function check(c: Case): void {
  const b = new Builder();
  const y = c.build(b);
  const loss = y.type.shape.length === 0 ? y : dotLoss(b, y);
  const g: Graph = b.graph('f', { loss });
  const dims = c.dims ?? none;
  const params = randomParams(g, (n) => concreteShape(n.type.shape, dims), 3, c.range ?? [-1, 1]);
  // The cotangent is always in [-1, 1].
  const cot = params.get('cotangent');
  if (cot)
    params.set(
      'cotangent',
      exact(
        cot.shape,
        Array.from(cot.data, (_, i) => Math.sin(i + 1)),
      ),
    );
  const gg = gradientGraph(g);
  expect(verifyProblems(gg)).toEqual([]);
  const r = gradCheck(g, { params, inputs: c.inputs, dims }, { eps: c.eps });
  expect(r.perParam.length).toBeGreaterThan(0);
  for (const p of r.perParam)
    expect(p.err, `${c.name}: ${p.path} ${p.analytic} vs ${p.numeric}`).toBeLessThan(c.tol ?? 1e-6);
}

const f32 = 'f32' as const;
const P = (b: Builder, name: string, shape: (number | string)[]) => b.param(name, f32, shape);

const UNARY_CASES: Case[] = (
  [
    ['neg', [-1, 1]],
    ['exp', [-1, 1]],
    ['log', [0.5, 2]],
    ['sqrt', [0.5, 2]],
    ['rsqrt', [0.5, 2]],
    ['sin', [-2, 2]],
    ['cos', [-2, 2]],
    ['tanh', [-2, 2]],
    ['erf', [-2, 2]],
    ['abs', [0.2, 1]],
    ['recip', [0.5, 2]],
  ] as const
).map(([fn, range]) => ({ name: `unary ${fn}`, range, build: (b: Builder) => b.unary(fn, P(b, 'x', [2, 3])) }));

const BINARY_CASES: Case[] = (['add', 'sub', 'mul', 'div', 'pow', 'mod', 'max', 'min'] as const).flatMap((fn) =>
  (
    [
      [
        [2, 3],
        [2, 3],
      ],
      [[2, 3], [3]],
      [
        [1, 3],
        [2, 1],
      ],
      [[2, 3], []],
    ] as const
  ).map(([sa, sb]) => ({
    name: `binary ${fn} [${sa}] with [${sb}]`,
    range: [0.5, 2] as const,
    build: (b: Builder) => b.binary(fn, P(b, 'a', [...sa]), P(b, 'b', [...sb])),
  })),
);

const idx = (shape: number[], data: number[]): HostTensor => ({ dtype: 'i32', shape, data: Float64Array.from(data) });

const OTHER_CASES: Case[] = [
  {
    name: 'where with broadcasting',
    build: (b) => {
      const c = b.gt(b.param('c', f32, [2, 1], 'buffer'), 0);
      return b.where(c, P(b, 'a', [3]), P(b, 'b', [2, 3]));
    },
  },
  { name: 'reduce sum', build: (b) => b.sum(P(b, 'x', [2, 3, 4]), [0, 2]) },
  { name: 'reduce sum keepdim', build: (b) => b.sum(P(b, 'x', [2, 3, 4]), [1], true) },
  { name: 'reduce max', build: (b) => b.amax(P(b, 'x', [2, 3, 4]), [2]) },
  { name: 'reduce max keepdim, all axes', build: (b) => b.amax(P(b, 'x', [2, 3]), [0, 1], true) },
  { name: 'reshape', build: (b) => b.reshape(P(b, 'x', [2, 6]), [3, 2, 2]) },
  { name: 'permute', build: (b) => b.permute(P(b, 'x', [2, 3, 4]), [2, 0, 1]) },
  { name: 'expand', build: (b) => b.expand(P(b, 'x', [3, 1]), [2, 3, 4]) },
  {
    name: 'pad with negative widths',
    build: (b) =>
      b.pad(
        P(b, 'x', [4, 5]),
        [
          [2, -1],
          [-2, 3],
        ],
        1.5,
      ),
  },
  { name: 'slice with steps', build: (b) => b.slice(P(b, 'x', [7, 9]), [1, 2], [3, 3], [2, 3]) },
  { name: 'slice, step 1', build: (b) => b.slice(P(b, 'x', [5, 4]), [1, 0], [3, 4]) },
  { name: 'window, stride and dilation', build: (b) => b.window(P(b, 'x', [2, 11]), [1], [3], [2], [2]) },
  { name: 'window over two axes', build: (b) => b.window(P(b, 'x', [6, 7, 2]), [0, 1], [3, 2], [1, 2], [1, 1]) },
  // Windows that tile their axes (a pooling's): the adjoint is a view (autodiff/adjoints.ts).
  {
    name: 'window tiling two axes, with tails',
    build: (b) => b.window(P(b, 'x', [2, 7, 5, 3]), [1, 2], [2, 2], [2, 2], [1, 1]),
  },
  {
    name: 'window tiling a symbolic axis',
    build: (b) => b.window(b.param('x', f32, [2, 'T']), [1], [3], [3], [1]),
    dims: new Map([['T', 11]]),
  },
  {
    name: 'window over a symbolic axis',
    build: (b) => b.window(b.param('x', f32, [2, 'T']), [1], [3], [2], [1]),
    dims: new Map([['T', 9]]),
  },
  { name: 'concat', build: (b) => b.concat([P(b, 'x', [2, 3]), P(b, 'y', [2, 1]), P(b, 'x', [2, 3])], 1) },
  { name: 'einsum matmul', build: (b) => b.einsum('ij,jk->ik', P(b, 'a', [2, 3]), P(b, 'b', [3, 4])) },
  { name: 'einsum batched', build: (b) => b.einsum('bij,bkj->bki', P(b, 'a', [2, 3, 4]), P(b, 'b', [2, 5, 4])) },
  {
    name: 'einsum, letters in one operand only',
    build: (b) => b.einsum('ijl,jk->k', P(b, 'a', [2, 3, 2]), P(b, 'b', [3, 4])),
  },
  { name: 'einsum, one operand', build: (b) => b.einsum('ijk->ki', P(b, 'a', [2, 3, 4])) },
  { name: 'einsum, outer product', build: (b) => b.einsum('i,j->ij', P(b, 'a', [2]), P(b, 'b', [3])) },
  {
    name: 'gather with clamped indices',
    build: (b) => b.gather(P(b, 'x', [2, 3, 2]), b.input('i', 'i32', [2, 2]), 1),
    inputs: new Map([['i', idx([2, 2], [0, 2, -4, 7])]]),
  },
  {
    name: 'scatter_add drops out-of-range indices',
    build: (b) => b.scatterAdd(P(b, 'x', [4, 2]), b.input('i', 'i32', [3]), P(b, 's', [3, 2]), 0),
    inputs: new Map([['i', idx([3], [1, -1, 4])]]),
  },
  {
    name: 'cast f32 to f16 and back',
    build: (b) => b.cast(b.cast(P(b, 'x', [3]), 'f16'), 'f32'),
    eps: 1e-2,
    tol: 1e-3,
  },
  { name: 'topk values', build: (b) => b.topk(P(b, 'x', [3, 5]), 2, 1, 'values') },
  { name: 'topk values on axis 0', build: (b) => b.topk(P(b, 'x', [5, 2, 3]), 3, 0, 'values') },
  { name: 'cumsum inclusive', build: (b) => b.cumsum(P(b, 'x', [3, 4]), 1) },
  { name: 'cumsum exclusive on axis 0', build: (b) => b.cumsum(P(b, 'x', [4, 2, 3]), 0, true) },
  { name: 'cumsum reverse', build: (b) => b.cumsum(P(b, 'x', [2, 5]), 1, false, true) },
  { name: 'cumsum exclusive reverse', build: (b) => b.cumsum(P(b, 'x', [3, 4, 2]), 1, true, true) },
  { name: 'barrier', build: (b) => b.barrier(P(b, 'x', [3]), 'k') },
  { name: 'a node used twice (x * x)', build: (b) => b.mul(P(b, 'x', [3]), P(b, 'x', [3])) },
  {
    name: 'dropout: the backward reuses the random node',
    build: (b) => {
      const keep = b.ge(b.random(5, 'drop', [4, 4]), 0.3);
      return b.where(keep, b.div(P(b, 'x', [4, 4]), 0.7), 0);
    },
  },
  {
    name: 'iota, full and dim in the expression',
    build: (b) => b.mul(b.add(P(b, 'x', [2, 'T']), b.cast(b.iota(1, 'i32', [2, 'T']), 'f32')), b.dim('T', 'f32')),
    dims: new Map([['T', 3]]),
  },
];

describe('autodiff: every primitive against central differences', () => {
  const all = [...UNARY_CASES, ...BINARY_CASES, ...OTHER_CASES];
  for (const c of all) it(c.name, () => check(c));
  it('covers every primitive', () => {
    const seen = new Set<string>();
    for (const c of all) {
      const b = new Builder();
      for (const n of liveNodes(b.graph('f', { y: c.build(b) }))) seen.add(n.op);
    }
    // Leaves without inputs, and inputs only: nothing to differentiate through.
    const leaves = ['input', 'param', 'full', 'dim', 'iota'];
    expect(OP_NAMES.filter((op) => !seen.has(op) && !leaves.includes(op))).toEqual([]);
  });
});

/** The gradients of `loss` for fixed param values. */
function gradsOf(build: (b: Builder) => Node, params: Record<string, HostTensor>): Map<string, number[]> {
  const b = new Builder();
  const g = b.graph('f', { loss: build(b) });
  // Exact values (1/3 at a three-way tie): the unrounded float64 mode.
  const out = evaluate(
    gradientGraph(g),
    { inputs: new Map(), params: new Map(Object.entries(params)), dims: none },
    { precision: 'float64' },
  );
  return new Map([...out.outputs].filter(([k]) => k.startsWith('grad.')).map(([k, v]) => [k.slice(5), [...v.data]]));
}

describe('autodiff: exact values at ties', () => {
  it('reduce max averages over tied maxima', () => {
    const gr = gradsOf((b) => b.amax(P(b, 'x', [4]), [0]), { x: exact([4], [1, 1, 0, 1]) });
    expect(gr.get('x')).toEqual([1 / 3, 1 / 3, 0, 1 / 3]);
  });
  it('binary max and min split ties 0.5 / 0.5', () => {
    const a = exact([3], [1, 2, 3]);
    const c = exact([3], [1, 5, 0]);
    const sum = (b: Builder, fn: 'max' | 'min') => b.sum(b.binary(fn, P(b, 'a', [3]), P(b, 'c', [3])), [0]);
    const mx = gradsOf((b) => sum(b, 'max'), { a, c });
    expect(mx.get('a')).toEqual([0.5, 0, 1]);
    expect(mx.get('c')).toEqual([0.5, 1, 0]);
    const mn = gradsOf((b) => sum(b, 'min'), { a, c });
    expect(mn.get('a')).toEqual([0.5, 1, 0]);
    expect(mn.get('c')).toEqual([0.5, 0, 1]);
  });
  it('topk routes to the chosen index only (ties: the lower index)', () => {
    const gr = gradsOf((b) => b.sum(b.topk(P(b, 'x', [5]), 2, 0, 'values'), [0]), { x: exact([5], [2, 7, 7, 1, 7]) });
    expect(gr.get('x')).toEqual([0, 1, 1, 0, 0]);
  });
  it('concat([x, x]) sums both contributions', () => {
    const gr = gradsOf(
      (b) => {
        const x = P(b, 'x', [2]);
        const w = b.param('w', f32, [4], 'buffer');
        return b.sum(b.mul(b.concat([x, x], 0), w), [0]);
      },
      { x: exact([2], [1, 2]), w: exact([4], [1, 10, 100, 1000]) },
    );
    expect(gr.get('x')).toEqual([101, 1010]);
  });
});

describe('autodiff: values without gradients are diagnostics', () => {
  const graph = () => {
    const b = new Builder();
    const x = P(b, 'x', [3]);
    const n = b.param('n', 'i32', [3]);
    const s = b.param('s', f32, [3], 'buffer');
    return b.graph('loss', { loss: b.sum(b.add(b.mul(x, s), b.cast(n, f32)), [0]) });
  };
  it('an integer param', () => {
    expect(() => gradientGraph(graph(), { wrt: ['n'] })).toThrow(PassError);
    expect(() => gradientGraph(graph(), { wrt: ['n'] })).toThrow(/i32\[3\], and only float values have gradients/);
  });
  it('a buffer', () => expect(() => gradientGraph(graph(), { wrt: ['s'] })).toThrow(/it is a buffer/));
  it('an unknown path', () => expect(() => gradientGraph(graph(), { wrt: ['nope'] })).toThrow(/does not use a param/));
  it('a non-scalar result', () => {
    const b = new Builder();
    const g = b.graph('forward', { y: P(b, 'x', [3]) });
    expect(() => gradientGraph(g)).toThrow(/returns f32\[3\]; gradients need a float scalar/);
  });
  it('by default only float params get gradients', () => {
    const out = gradientGraph(graph()).outputs.map((o) => o.name);
    expect(out).toEqual(['loss', 'grad.x']);
  });
});

void rng;
