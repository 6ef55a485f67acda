// Gradient checks on the reference interpreter: the analytic gradients of gradientGraph
// against float64 central differences along a random direction (the directional
// derivative), with a random cotangent on non-scalar results (the dot-product test).

import { Builder } from '../../src/ir/build.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import { type EvalOptions, evaluate } from '../../src/ir/interp.js';
import type { Hints } from '../../src/ir/module.js';
import type { HostTensor } from '../../src/ir/value.js';
import { gradientGraph, gradName } from '../../src/passes/autodiff/index.js';

/** A deterministic generator of floats in [lo, hi). */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0 || 1;
  return (lo = -1, hi = 1) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return lo + ((s >>> 0) / 2 ** 32) * (hi - lo);
  };
}

/** A float host tensor holding exactly `data` (float64 values, not rounded: the interpreter computes in float64). */
export const exact = (
  shape: readonly number[],
  data: readonly number[] | Float64Array,
  dtype: 'f32' = 'f32',
): HostTensor => ({
  dtype,
  shape: [...shape],
  data: Float64Array.from(data),
});

export interface Feeds {
  readonly inputs?: ReadonlyMap<string, HostTensor>;
  readonly params: ReadonlyMap<string, HostTensor>;
  readonly dims?: ReadonlyMap<string, number>;
}

export interface CheckResult {
  /** Per param: analytic directional derivative, numeric one, and their relative error. */
  readonly perParam: { path: string; analytic: number; numeric: number; err: number }[];
  readonly grads: ReadonlyMap<string, HostTensor>;
  readonly worst: number;
}

/** Finite differences need the interpreter's unrounded float64 mode (f32 rounding would swamp them). */
const F64: EvalOptions = { precision: 'float64' };

/** The scalar loss of `g` (its only output must be a scalar). */
function lossOf(g: Graph, f: Feeds, params: ReadonlyMap<string, HostTensor>): number {
  const out = evaluate(g, { inputs: f.inputs ?? new Map(), params, dims: f.dims ?? new Map() }, F64).outputs;
  return out.get(g.outputs[0]!.name)!.data[0]!;
}

/**
 * Checks every float param of `g` (a scalar-result graph): for a random direction v, the
 * central difference (L(p + eps v) - L(p - eps v)) / 2 eps against <grad, v>.
 */
export function gradCheck(
  g: Graph,
  f: Feeds,
  opts: { seed?: number; eps?: number; wrt?: readonly string[]; hints?: Hints } = {},
): CheckResult {
  const gg = gradientGraph(g, { wrt: opts.wrt, hints: opts.hints });
  const outs = evaluate(
    gg,
    { inputs: f.inputs ?? new Map(), params: f.params, dims: f.dims ?? new Map() },
    F64,
  ).outputs;
  const grads = new Map<string, HostTensor>();
  for (const [name, t] of outs) if (name.startsWith('grad.')) grads.set(name.slice(5), t);
  const r = rng(opts.seed ?? 7);
  const eps = opts.eps ?? 1e-6;
  const perParam = [...grads.keys()].map((path) => {
    const p = f.params.get(path)!;
    const v = Float64Array.from(p.data, () => r());
    const shifted = (sign: number) => {
      const m = new Map(f.params);
      m.set(path, { ...p, data: Float64Array.from(p.data, (x, i) => x + sign * eps * v[i]!) });
      return lossOf(g, f, m);
    };
    const numeric = (shifted(1) - shifted(-1)) / (2 * eps);
    const gr = grads.get(path)!;
    const analytic = gr.data.reduce((a, x, i) => a + x * v[i]!, 0);
    const err = Math.abs(analytic - numeric) / Math.max(1e-3, Math.abs(numeric), Math.abs(analytic));
    return { path, analytic, numeric, err };
  });
  return { perParam, grads, worst: Math.max(0, ...perParam.map((p) => p.err)) };
}

/**
 * A scalar loss from any float result `y`: sum(y * c) with c a random constant of y's
 * shape (a buffer, so it gets no gradient): the dot-product test of the vector-Jacobian product.
 */
export function dotLoss(b: Builder, y: Node): Node {
  const c = b.param('cotangent', y.type.dtype, y.type.shape, 'buffer');
  const prod = b.mul(y, c);
  return b.sum(prod, [...y.type.shape.keys()]);
}

/** Random params (uniform in [lo, hi)) for every param and buffer of `g` at concrete `dims`. */
export function randomParams(
  g: Graph,
  shapeOf: (n: Node) => number[],
  seed = 1,
  range: readonly [number, number] = [-1, 1],
): Map<string, HostTensor> {
  const r = rng(seed);
  const out = new Map<string, HostTensor>();
  const seen = new Set<Node>();
  const visit = (n: Node): void => {
    if (seen.has(n)) return;
    seen.add(n);
    n.inputs.forEach(visit);
    if (n.op === 'param') {
      const shape = shapeOf(n);
      const size = shape.reduce((a, d) => a * d, 1);
      out.set(
        n.args.path,
        exact(
          shape,
          Array.from({ length: size }, () => r(...range)),
        ),
      );
    }
  };
  g.outputs.forEach((o) => visit(o.node));
  return out;
}

export { Builder, gradName };
