// Every composite of the standard library (every top-level `fn` and `block` of std/*.fm)
// through autodiff: each case is a small model lowered from .fm source whose `forward`
// returns a scalar loss, `dot(composite(...))` = Σ y · w with w = sin(1.7 i + 0.3) a fixed
// pseudo-random cotangent computed in the graph, and every float param's gradient is
// checked against float64 central differences on the reference interpreter (gradcheck.ts,
// relative error < 1e-5). Composites without params read their input from a param of the
// test model (`param x: ...`); integer and bool operands (targets, indices, masks) are
// buffers with fixed values. Same-dtype float casts (`cast(per_item, f32)` on an f32 value in
// cross_entropy and mse) are removed before the check: the interpreter rounds at every cast,
// and a loss rounded to f32 has no useful central difference at eps = 1e-6 (the cast's
// derivative is the identity either way). A last test asserts that every std name is used by some case,
// so a new composite cannot be added without a gradient check.
//
// The cases: composite-cases.ts.

import { describe, expect, it } from 'vitest';
import { isFloat } from '../../src/ir/dtype.js';
import type { Graph } from '../../src/ir/graph.js';
import { evaluate } from '../../src/ir/interp.js';
import { rewrite } from '../../src/ir/rewrite.js';
import { verifyProblems } from '../../src/ir/verify.js';
import { gradientGraph } from '../../src/passes/autodiff/index.js';
import { type Case, GROUPS, feeds, lower, missingStd } from './composite-cases.js';
import { Builder, exact, gradCheck } from './gradcheck.js';

const TOL = 1e-5;

/** `g` without float casts to the dtype they already have (see the header). */
const withoutIdentityCasts = (g: Graph): Graph =>
  rewrite(g, {
    cast: (n, [x]) => (isFloat(x!.type.dtype) && x!.type.dtype === n.args.dtype ? x : undefined),
  }).graph;

function check(c: Case): void {
  const lowered = lower(c);
  const g = withoutIdentityCasts(lowered.graph);
  const gg = gradientGraph(g, { hints: lowered.hints });
  expect(verifyProblems(gg)).toEqual([]);
  const params = feeds(lowered, c, 11);
  const r = gradCheck(g, { params }, { hints: lowered.hints, seed: 5 });
  expect(r.perParam.length, `${c.name}: params checked`).toBeGreaterThan(0);
  for (const [p, t] of r.grads) expect(t.data.every(Number.isFinite), `${c.name}: grad.${p} is finite`).toBe(true);
  for (const p of r.perParam)
    expect(p.err, `${c.name}: ${p.path} analytic ${p.analytic} vs numeric ${p.numeric}`).toBeLessThan(TOL);
}

describe('autodiff: std composites against central differences', () => {
  for (const [group, cases] of GROUPS)
    describe(group, () => {
      for (const c of cases) it(c.name, () => check(c));
    });
});

describe('autodiff: rule constants in the float64 oracle', () => {
  it('the gradient of erf holds 2/√π beyond f32 (a full is rounded to its dtype)', () => {
    const b = new Builder();
    const x = b.param('x', 'f32', [5]);
    const g = b.graph('f', { loss: b.sum(b.unary('erf', x), [0]) });
    const xs = [-1.7, -0.4, 0.1, 0.9, 2.3];
    const out = evaluate(
      gradientGraph(g),
      { inputs: new Map(), params: new Map([['x', exact([5], xs)]]), dims: new Map() },
      { precision: 'float64' },
    );
    const grad = out.outputs.get('grad.x')!.data;
    xs.forEach((v, i) => {
      const want = (2 / Math.sqrt(Math.PI)) * Math.exp(-v * v);
      expect(Math.abs(grad[i]! - want) / want).toBeLessThan(1e-14);
    });
  });
});

describe('autodiff composites: coverage', () => {
  it('every fn and block of std/*.fm is used by a case', () => {
    expect(missingStd()).toEqual([]);
  });
});
