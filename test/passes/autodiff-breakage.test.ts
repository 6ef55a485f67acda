// The gradient checks catch broken rules: one entry of GRAD_RULES is replaced by a wrong
// rule for the duration of a test (restored in `finally`), and the same check that passes
// with the real rule must then fail: the gradcheck.ts check of one op (float64 central
// differences, dot-product test) by far more than its tolerance, and the random-graph
// property of autodiff-random.test.ts within its usual runs and seed.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concreteShape } from '../../src/ir/interp.js';
import type { Node } from '../../src/ir/graph.js';
import type { OpName } from '../../src/ir/ops.js';
import type { HostTensor } from '../../src/ir/value.js';
import { windowAdjoint } from '../../src/passes/autodiff/adjoints.js';
import { GRAD_RULES, type GradRule } from '../../src/passes/autodiff/rules.js';
import { dimConst, dimSub } from '../../src/ir/dims.js';
import { Builder, dotLoss, exact, gradCheck, randomParams } from './gradcheck.js';
import { checkFloatGraph } from './random-float-graph.js';

const TOL = 1e-5;
/** The real rules, for the cases a broken rule passes on to them. */
const REAL = { unary: GRAD_RULES.unary, binary: GRAD_RULES.binary };

/**
 * The error of the random-graph property at autodiff-random.test.ts's seed and run count
 * (which passes with the real rules), or undefined when it passes.
 */
function randomGraphsError(): string | undefined {
  const r = fc.check(
    fc.property(fc.array(fc.noBias(fc.nat({ max: 1 << 30 })), { maxLength: 400, size: 'max' }), (choices) => {
      checkFloatGraph(choices);
    }),
    { seed: 20240611, numRuns: 500, endOnFailure: true },
  );
  return r.failed ? String((r.errorInstance as Error).message) : undefined;
}

const brokenExp: GradRule<'unary'> = (n, g, c) => (n.args.fn === 'exp' ? [c.b.mul(g, c.x(0))] : REAL.unary(n, g, c));

/** Runs `f` with GRAD_RULES[op] replaced by `rule`. */
function withRule<K extends OpName>(op: K, rule: GradRule<K>, f: () => void): void {
  const rules = GRAD_RULES as unknown as Record<OpName, GradRule<OpName>>;
  const saved = rules[op];
  rules[op] = rule as unknown as GradRule<OpName>;
  try {
    f();
  } finally {
    rules[op] = saved;
  }
}

/** The worst relative error of the gradient check of `build` (a dot-product loss of its result). */
function worst(build: (b: Builder) => Node, fix?: (params: Map<string, HostTensor>) => void): number {
  const b = new Builder();
  const g = b.graph('f', { loss: dotLoss(b, build(b)) });
  const params = randomParams(g, (n) => concreteShape(n.type.shape, new Map()), 3);
  const cot = params.get('cotangent')!;
  params.set(
    'cotangent',
    exact(
      cot.shape,
      Array.from(cot.data, (_, i) => Math.sin(i + 1)),
    ),
  );
  fix?.(params);
  return gradCheck(g, { params }).worst;
}

const P = (b: Builder, name: string, shape: number[]) => b.param(name, 'f32', shape);

describe('autodiff: a broken rule fails the gradient check', () => {
  it('exp whose rule multiplies by x instead of exp(x)', () => {
    const build = (b: Builder) => b.exp(b.tanh(P(b, 'x', [2, 3])));
    expect(worst(build)).toBeLessThan(TOL);
    withRule('unary', brokenExp, () => expect(worst(build)).toBeGreaterThan(1e-2));
    expect(worst(build)).toBeLessThan(TOL);
  });

  it('maximum without the even split at ties (the tie gets all of it on one side)', () => {
    // a == c everywhere: the central difference is the mean of the one-sided derivatives,
    // (v_a + v_c) / 2, which is what the 0.5 / 0.5 split gives.
    const build = (b: Builder) => b.max(P(b, 'a', [2, 3]), P(b, 'c', [2, 3]));
    const tie = (params: Map<string, HostTensor>) => params.set('c', params.get('a')!);
    expect(worst(build, tie)).toBeLessThan(TOL);
    withRule(
      'binary',
      (n, g, c) => {
        if (n.args.fn !== 'max') return REAL.binary(n, g, c);
        const first = c.b.ge(c.x(0), c.x(1));
        return [c.b.where(first, g, 0), c.b.where(first, 0, g)];
      },
      () => expect(worst(build, tie)).toBeGreaterThan(1e-2),
    );
    expect(worst(build, tie)).toBeLessThan(TOL);
  });

  it('a strided slice whose adjoint ignores the steps', () => {
    const build = (b: Builder) => b.tanh(b.slice(P(b, 'x', [7, 9]), [1, 2], [3, 3], [2, 3]));
    expect(worst(build)).toBeLessThan(TOL);
    withRule(
      'slice',
      (n, g, c) => {
        const full = n.inputs[0]!.type.shape;
        const pads = full.map((d, i) => {
          const start = n.args.starts[i]!;
          return [start, dimSub(dimSub(d, start), g.type.shape[i] ?? dimConst(0))] as const;
        });
        return [c.b.pad(g, pads)];
      },
      () => expect(worst(build)).toBeGreaterThan(1e-2),
    );
    expect(worst(build)).toBeLessThan(TOL);
  });

  it('the random-graph property finds the broken exp rule', { timeout: 60_000 }, () => {
    withRule('unary', brokenExp, () =>
      expect(randomGraphsError()).toMatch(/^analytic .* vs numeric .*: relative error/),
    );
  });

  it('the random-graph property finds a window adjoint that ignores the dilation', { timeout: 60_000 }, () => {
    withRule(
      'window',
      (n, g, c) => [windowAdjoint(c.b, { ...n, args: { ...n.args, dilation: n.args.dilation.map(() => 1) } }, g)],
      () => expect(randomGraphsError()).toMatch(/^analytic .* vs numeric .*: relative error/),
    );
  });
});
