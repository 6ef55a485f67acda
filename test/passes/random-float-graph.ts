// Random float graphs with a scalar loss, and the gradient check of autodiff on them
// (checkFloatGraph, used by autodiff-random.test.ts and autodiff-breakage.test.ts). Like
// test/ir/random-graph.ts, a graph is built from a stream of random choices (so fast-check
// shrinks by shortening the stream), but every pool value is a finite f32 tensor and every
// op is one with a gradient rule: smooth unaries, binaries (log, sqrt, rsqrt, recip, div
// and pow see only positive values: x² + 0.5), where on comparisons, sum and max
// reductions, every movement op (reshape, permute, expand, pad with negative widths,
// strided slice, window with stride and dilation, concat), one- and two-operand einsums,
// gather with clamped and scatter_add with dropped indices, cumsum, topk, barriers, dropout
// masks, and the non-smooth and gradient-free ops (abs, max, min, mod, floor, float → int casts).
// Some graphs use the symbolic dim N (bound to N_VALUE). Float → float casts are left out:
// the interpreter rounds at a cast, and a rounded loss has no useful central difference.
//
// The loss is Σ_i Σ sink_i · c_i over a few sinks with fixed cotangent buffers c_i. Besides
// the graph, the generator returns `decisions`: for every node whose value or derivative
// jumps somewhere (a max or min, abs, a comparison, floor, mod, a cast to int, a reduce max
// or topk), a tensor that identifies the branch taken (the sign of a - c, the argmax
// pattern, the chosen indices, ...). Where these are not identical at every point a
// central difference reads, the segment crosses a kink and the difference means nothing.

import { Builder } from '../../src/ir/build.js';
import { type Dim, dimConst, dimConstValue, dimEquals, dimSub, dimSym } from '../../src/ir/dims.js';
import { type Graph, IRError, type Node, graphParams, liveNodes } from '../../src/ir/graph.js';
import { concreteShape, evaluate } from '../../src/ir/interp.js';
import type { HostTensor } from '../../src/ir/value.js';
import { verifyProblems } from '../../src/ir/verify.js';
import { gradientGraph, gradName } from '../../src/passes/autodiff/index.js';
import { Choices, growPool, latestSinks } from '../ir/random-graph.js';
import { rng } from './gradcheck.js';

/** The value of N in graphs that use it. */
export const N_VALUE = 3;
export const DIMS: ReadonlyMap<string, number> = new Map([['N', N_VALUE]]);
const MAX_ELEMENTS = 512;

/** A decision of the graph: a tensor naming the branch taken; `sign`: only its signs count. */
export interface Decision {
  readonly what: string;
  /** The node whose value or derivative the decision switches. */
  readonly guards: Node;
  /** The branch taken, as an f32 tensor. */
  readonly node: Node;
  /** Only the signs of `node` count (else its exact values). */
  readonly sign: boolean;
}

export interface FloatGraph {
  /** The loss graph (one scalar f32 output). */
  readonly graph: Graph;
  /** The loss, `magnitude` (the largest |value|) and every decision tensor (`d0`, `d1`, ...). */
  readonly probe: Graph;
  readonly decisions: readonly Decision[];
  /** Fixed values of the buffers (cotangents, indices), by path. */
  readonly fixed: ReadonlyMap<string, HostTensor>;
  /** Values of the graph inputs (fixed). */
  readonly inputs: ReadonlyMap<string, HostTensor>;
  /** Float params to differentiate, by path. */
  readonly params: readonly string[];
  /** The ops of the loss graph's live nodes. */
  readonly ops: readonly string[];
}

const f32 = 'f32' as const;

class Gen {
  readonly b = new Builder();
  readonly pool: Node[] = [];
  readonly decisions: Decision[] = [];
  readonly fixed = new Map<string, HostTensor>();
  readonly params: string[] = [];
  private buffers = 0;

  constructor(
    readonly r: Choices,
    readonly useN: boolean,
  ) {}

  /** Concrete shape (N bound), undefined when a dim is not a positive integer. */
  concrete(shape: readonly Dim[]): number[] | undefined {
    try {
      const s = concreteShape(shape, DIMS);
      return s.every((d) => d >= 1) && s.reduce((a, d) => a * d, 1) <= MAX_ELEMENTS ? s : undefined;
    } catch {
      return undefined;
    }
  }

  /** Runs a builder step; undefined when the builder rejects it or a shape is out of range. */
  try(f: () => Node): Node | undefined {
    try {
      const n = f();
      if (!this.concrete(n.type.shape)) return undefined;
      return n;
    } catch (e) {
      if (e instanceof IRError) return undefined;
      throw e;
    }
  }

  decide(what: string, guards: Node, node: Node, sign = false): void {
    this.decisions.push({ what, guards, node: this.b.cast(node, f32), sign });
  }

  dim(): Dim {
    return this.useN && this.r.bool(25) ? dimSym('N') : dimConst(1 + this.r.int(4));
  }
  shape(maxRank = 3): Dim[] {
    return Array.from({ length: this.r.int(maxRank + 1) }, () => this.dim());
  }

  /** A buffer with fixed values (never differentiated). */
  buffer(dtype: 'f32' | 'i32', shape: readonly Dim[], value: (i: number) => number): Node {
    const path = `fixed${this.buffers++}`;
    const n = this.b.param(path, dtype, shape, 'buffer');
    const s = this.concrete(shape)!;
    const size = s.reduce((a, d) => a * d, 1);
    this.fixed.set(path, { dtype, shape: s, data: Float64Array.from({ length: size }, (_, i) => value(i)) });
    return n;
  }

  param(): Node {
    const path = `p${this.params.length}`;
    this.params.push(path);
    return this.b.param(path, f32, this.shape());
  }

  pick(pred: (n: Node) => boolean = () => true): Node | undefined {
    const xs = this.pool.filter(pred);
    if (xs.length === 0) return undefined;
    return this.r.bool(60) ? xs[xs.length - 1 - this.r.int(Math.min(xs.length, 4))] : this.r.pick(xs);
  }
  /** Another pool node, or a scalar constant. */
  operand(): Node | number {
    return this.r.bool(75) ? (this.pick() ?? 1) : this.r.pick([0.5, -1.5, 2, 0.25]);
  }
  /** x² + 0.5: positive and smooth. */
  positive(x: Node): Node {
    return this.b.add(this.b.mul(x, x), 0.5);
  }

  step(): Node | undefined {
    const { b, r } = this;
    const kind = r.pick([
      'smooth',
      'smooth',
      'positive',
      'abs',
      'binary',
      'binary',
      'div',
      'pow',
      'maxmin',
      'mod',
      'where',
      'sum',
      'max',
      'reshape',
      'permute',
      'expand',
      'pad',
      'slice',
      'window',
      'concat',
      'einsum',
      'einsum',
      'gather',
      'scatter_add',
      'cumsum',
      'topk',
      'barrier',
      'dropout',
      'floor',
      'int',
      'param',
    ] as const);
    const x = this.pick();
    if (!x) return undefined;
    const shape = x.type.shape;
    const rank = shape.length;
    switch (kind) {
      case 'smooth': {
        const fn = r.pick(['neg', 'exp', 'sin', 'cos', 'tanh', 'erf'] as const);
        return this.try(() => b.unary(fn, fn === 'exp' ? b.tanh(x) : x));
      }
      case 'positive': {
        const fn = r.pick(['log', 'sqrt', 'rsqrt', 'recip'] as const);
        return this.try(() => b.unary(fn, this.positive(x)));
      }
      case 'abs': {
        const n = this.try(() => b.unary('abs', x));
        if (n) this.decide('abs', n, x, true);
        return n;
      }
      case 'binary': {
        const fn = r.pick(['add', 'sub', 'mul'] as const);
        const y = this.operand();
        return this.try(() => (r.bool() ? b.binary(fn, x, y) : b.binary(fn, y, x)));
      }
      case 'div': {
        const y = this.pick() ?? x;
        return this.try(() => (r.bool() ? b.div(x, this.positive(y)) : b.div(y, this.positive(x))));
      }
      case 'pow': {
        const y = r.bool() ? (this.pick() ?? x) : r.pick([2, 0.5, -1.5, 3]);
        return this.try(() => b.pow(this.positive(x), y));
      }
      case 'maxmin': {
        const fn = r.pick(['max', 'min'] as const);
        const y = this.operand();
        const n = this.try(() => b.binary(fn, x, y));
        if (n) this.decide(fn, n, b.sub(x, y), true);
        return n;
      }
      case 'mod': {
        const y = this.pick() ?? x;
        const c = this.positive(y);
        const n = this.try(() => b.binary('mod', x, c));
        if (n) this.decide('mod', n, b.unary('floor', b.div(x, c)));
        return n;
      }
      case 'where': {
        const fn = r.pick(['lt', 'le', 'gt', 'ge', 'eq', 'ne'] as const);
        const z = this.pick() ?? x;
        const cond = this.try(() => b.binary(fn, z, r.bool() ? 0.3 : (this.pick() ?? x)));
        const y = this.operand();
        const n = cond && this.try(() => b.where(cond, x, y));
        if (n) this.decide(`compare ${fn}`, n, cond!);
        return n;
      }
      case 'cumsum':
        return rank > 0 ? this.try(() => b.cumsum(x, r.int(rank), r.bool(), r.bool())) : undefined;
      case 'sum':
      case 'max': {
        const axes = shape.map((_, i) => i).filter(() => r.bool());
        if (axes.length === 0) return undefined;
        const keepdim = r.bool();
        const n = this.try(() => (kind === 'sum' ? b.sum(x, axes, keepdim) : b.amax(x, axes, keepdim)));
        if (n && kind === 'max') {
          const kept = shape.map((d, i) => (axes.includes(i) ? dimConst(1) : d));
          this.decide('reduce max', n, b.eq(x, b.expand(b.reshape(n, kept), shape)));
        }
        return n;
      }
      case 'reshape': {
        const s = this.concrete(shape)!;
        if (s.length !== shape.length || shape.some((d) => dimConstValue(d) === undefined)) {
          // Symbolic: split or merge around N only by moving 1s.
          return this.try(() => b.reshape(x, r.shuffle([...shape, dimConst(1)])));
        }
        let total = s.reduce((a, d) => a * d, 1);
        const dims: number[] = [];
        for (let k = r.int(3); k > 0 && total > 1; k--) {
          const divisors = Array.from({ length: total }, (_, i) => i + 1).filter((f) => total % f === 0);
          const f = r.pick(divisors);
          dims.push(f);
          total /= f;
        }
        dims.push(total);
        return this.try(() => b.reshape(x, dims));
      }
      case 'permute':
        return this.try(() => b.permute(x, r.shuffle(shape.map((_, i) => i))));
      case 'expand': {
        const target = shape.map((d) => (dimConstValue(d) === 1 ? this.dim() : d));
        for (let k = r.int(3); k > 0; k--) target.unshift(this.dim());
        return this.try(() => b.expand(x, target));
      }
      case 'pad': {
        const pads = shape.map(() => [r.int(4) - 1, r.int(4) - 1] as const);
        return this.try(() => b.pad(x, pads, r.pick([0, 1.5, -0.5])));
      }
      case 'slice': {
        const starts: Dim[] = [];
        const sizes: Dim[] = [];
        const steps: number[] = [];
        for (const d of shape) {
          const cv = dimConstValue(d);
          const step = 1 + r.int(3);
          if (cv !== undefined) {
            const start = r.int(cv);
            starts.push(dimConst(start));
            sizes.push(dimConst(1 + r.int(Math.floor((cv - 1 - start) / step) + 1)));
            steps.push(step);
          } else {
            const start = r.int(Math.min(2, this.concrete([d])![0]!));
            starts.push(dimConst(start));
            sizes.push(r.bool(30) ? dimConst(1) : dimSub(d, dimConst(start)));
            steps.push(1);
          }
        }
        return this.try(() => b.slice(x, starts, sizes, steps));
      }
      case 'window': {
        const axes = shape.map((_, i) => i).filter(() => r.bool(50));
        if (axes.length === 0) return undefined;
        return this.try(() =>
          b.window(
            x,
            axes,
            axes.map(() => 1 + r.int(3)),
            axes.map(() => 1 + r.int(2)),
            axes.map(() => 1 + r.int(2)),
          ),
        );
      }
      case 'concat': {
        if (rank === 0) return undefined;
        const axis = r.int(rank);
        const fits = (n: Node) =>
          n.type.shape.length === rank && n.type.shape.every((d, i) => i === axis || dimEquals(d, shape[i]!));
        const others = Array.from({ length: 1 + r.int(2) }, () => this.pick(fits) ?? x);
        return this.try(() => b.concat([x, ...others], axis));
      }
      case 'einsum': {
        if (rank > 3) return undefined;
        const letters = 'abcdefgh';
        const xs = shape.map((_, i) => letters[i]!);
        const size = new Map(xs.map((l, i) => [l, shape[i]!] as const));
        const y = r.bool(70) ? this.pick((n) => n.type.shape.length <= 3) : undefined;
        const ys: string[] = [];
        let fresh = rank;
        for (const d of y?.type.shape ?? []) {
          const reuse = xs.filter((l) => dimEquals(size.get(l)!, d) && !ys.includes(l));
          const l = reuse.length > 0 && r.bool(70) ? r.pick(reuse) : letters[fresh++]!;
          size.set(l, d);
          ys.push(l);
        }
        const out = r.shuffle([...size.keys()].filter(() => r.bool(60)));
        const spec = `${xs.join('')}${y ? `,${ys.join('')}` : ''}->${out.join('')}`;
        return this.try(() => (y ? b.einsum(spec, x, y) : b.einsum(spec, x)));
      }
      case 'gather':
      case 'scatter_add': {
        const axes = shape.map((_, i) => i).filter((i) => dimConstValue(shape[i]!) !== undefined);
        if (axes.length === 0) return undefined;
        const axis = r.pick(axes);
        const len = dimConstValue(shape[axis]!)!;
        // Indices in [-1, len]: out of range at both ends (clamped by gather, dropped by scatter_add).
        const idxShape = Array.from({ length: r.int(3) }, () => dimConst(1 + r.int(3)));
        const vals = Array.from({ length: 16 }, () => r.int(len + 2) - 1);
        const idx = this.buffer('i32', idxShape, (i) => vals[i % 16]!);
        if (kind === 'gather') return this.try(() => b.gather(x, idx, axis));
        const src = this.try(() => b.gather(this.pick((n) => n.type.shape.length === rank) ?? x, idx, axis));
        return src && this.try(() => b.scatterAdd(x, idx, b.tanh(src), axis));
      }
      case 'topk': {
        const axes = shape.map((_, i) => i).filter((i) => dimConstValue(shape[i]!) !== undefined);
        if (axes.length === 0) return undefined;
        const axis = r.pick(axes);
        const k = 1 + r.int(Math.min(dimConstValue(shape[axis]!)!, 3));
        const n = this.try(() => b.topk(x, k, axis, 'values'));
        if (n) this.decide('topk', n, b.topk(x, k, axis, 'indices'));
        return n;
      }
      case 'barrier':
        return this.try(() => b.barrier(x, r.pick(['a', 'b'])));
      case 'dropout': {
        const keep = b.ge(b.random(r.int(100), 'drop', shape), 0.3);
        return this.try(() => b.where(keep, b.div(x, 0.7), 0));
      }
      case 'floor': {
        const n = this.try(() => b.add(b.unary('floor', x), x));
        if (n) this.decide('floor', n, b.unary('floor', x));
        return n;
      }
      case 'int': {
        const i = b.cast(b.mul(x, 2), 'i32');
        const n = this.try(() => b.mul(b.cast(i, f32), x));
        if (n) this.decide('cast to int', n, i);
        return n;
      }
      case 'param':
        return this.param();
    }
  }
}

/** Builds the graph a list of choices describes (deterministic; see the header). */
export function buildFloatGraph(choices: readonly number[]): FloatGraph {
  const r = new Choices(choices);
  const g = new Gen(r, r.bool(30));
  const b = g.b;
  for (let k = 1 + r.int(3); k > 0; k--) g.pool.push(g.param());
  if (r.bool(30)) g.pool.push(b.input('x', f32, g.shape()));
  const steps = 4 + r.int(30);
  growPool(g.pool, () => g.step(), r, steps);
  // The loss: Σ sink · c over the latest sinks (nodes nothing else in the pool uses).
  const sinks = latestSinks(g.pool);
  const chosen = sinks.slice(0, 2 + r.int(3));
  if (chosen.length === 0) chosen.push(g.pool[g.pool.length - 1]!);
  const terms = chosen.map((y) => {
    const c = g.buffer(f32, y.type.shape, (i) => Math.sin(1.3 * i + 0.7 * g.fixed.size));
    return b.sum(b.mul(y, c), [...y.type.shape.keys()]);
  });
  const loss = terms.reduce((a, t) => b.add(a, t));
  const graph = b.graph('loss', { loss });
  // Only the decisions of nodes the loss reads matter.
  const live = new Set(liveNodes(graph));
  const decisions = g.decisions.filter((d) => live.has(d.guards));
  // The largest |value| of the graph: infinite or NaN when any value overflowed, even one
  // that a saturating op (tanh(inf) = 1) or a where hides from the loss.
  const magnitude = [...live]
    .filter((n) => n.type.dtype === f32 && n.op !== 'param' && n.op !== 'input')
    .map((n) => b.amax(b.unary('abs', n), [...n.type.shape.keys()]))
    .reduce((a, t) => b.max(a, t), b.full(0, f32));
  const probe = b.graph('probe', [
    { name: 'loss', node: loss },
    { name: 'magnitude', node: magnitude },
    ...decisions.map((d, i) => ({ name: `d${i}`, node: d.node })),
  ]);
  const inputs = new Map<string, HostTensor>();
  for (const n of b.inputs) {
    const s = g.concrete(n.type.shape)!;
    const size = s.reduce((a, d) => a * d, 1);
    inputs.set(n.args.name, { dtype: f32, shape: s, data: Float64Array.from({ length: size }, (_, i) => Math.cos(i)) });
  }
  const ops = [...new Set(liveNodes(graph).map((n) => n.op))];
  return { graph, probe, decisions, fixed: g.fixed, inputs, params: g.params, ops };
}

// ---------- the check ----------

/** Step sizes of the central differences (h, 2h, 4h). */
const STEPS = [1e-6, 2e-6, 4e-6];
/** Largest relative error between the analytic and the numeric directional derivative. */
export const TOL = 1e-5;

/** What a check did: compared, or why not (see checkFloatGraph). */
export type Outcome = 'checked' | 'non-finite' | 'kink' | 'no param' | 'unstable';

interface Probe {
  readonly loss: number;
  readonly magnitude: number;
  readonly decisions: readonly Float64Array[];
}

function probe(fg: FloatGraph, params: ReadonlyMap<string, HostTensor>): Probe {
  const out = evaluate(fg.probe, { inputs: fg.inputs, params, dims: DIMS }, { precision: 'float64' }).outputs;
  return {
    loss: out.get('loss')!.data[0]!,
    magnitude: out.get('magnitude')!.data[0]!,
    decisions: fg.decisions.map((_, i) => out.get(`d${i}`)!.data),
  };
}

const same = (a: Float64Array, b: Float64Array, sign: boolean): boolean =>
  a.every((x, i) => (sign ? Math.sign(x) === Math.sign(b[i]!) : x === b[i]));

/**
 * Checks the graph of `choices`: its gradient graph must verify, and where a central
 * difference means something, Σ_p <grad p, v_p> for a random direction v of all params
 * must match the Richardson extrapolation of the central differences at h and 2h (error
 * O(h⁴)) to TOL. Throws an Error on a mismatch. Not compared, and returned as such:
 *   - 'no param': no param reaches the loss;
 *   - 'non-finite': some value of the graph (not only the loss) is not finite at one of the
 *     points p, p ± h v, p ± 2h v, p ± 4h v;
 *   - 'kink': a decision (see the header) differs between those points. A tie that holds at
 *     all of them (max(x, x), a max over an expand) is not a kink and is compared;
 *   - 'unstable': the numeric derivative is not reliable to TOL / 10: the extrapolations
 *     from (h, 2h) and (2h, 4h) disagree (curvature, oscillation), or the largest value of
 *     the graph is so large that rounding at 2^-52 of it, over h, exceeds that.
 */
export function checkFloatGraph(choices: readonly number[]): Outcome {
  const fg = buildFloatGraph(choices);
  const gg = gradientGraph(fg.graph);
  const problems = verifyProblems(gg);
  if (problems.length > 0) throw new Error(`the gradient graph does not verify: ${problems.join('; ')}`);
  // Random values and a random direction for every param the loss reads.
  const r = rng(choices.length * 7919 + (choices[0] ?? 0) + 1);
  const params = new Map(fg.fixed);
  const dirs = new Map<string, Float64Array>();
  for (const p of graphParams(fg.graph)) {
    if (p.args.role !== 'param') continue;
    const shape = concreteShape(p.type.shape, DIMS);
    const size = shape.reduce((a, d) => a * d, 1);
    params.set(p.args.path, { dtype: f32, shape, data: Float64Array.from({ length: size }, () => r(-1.5, 1.5)) });
    dirs.set(
      p.args.path,
      Float64Array.from({ length: size }, () => r()),
    );
  }
  if (dirs.size === 0) return 'no param';
  const at = (t: number): Probe => {
    const m = new Map(params);
    for (const [path, v] of dirs) {
      const p = params.get(path)!;
      m.set(path, { ...p, data: Float64Array.from(p.data, (x, i) => x + t * v[i]!) });
    }
    return probe(fg, m);
  };
  const mid = probe(fg, params);
  const steps = STEPS.map((h) => [at(h), at(-h)] as const);
  const all = [mid, ...steps.flat()];
  if (!all.every((q) => Number.isFinite(q.magnitude) && Number.isFinite(q.loss))) return 'non-finite';
  if (fg.decisions.some((d, i) => all.some((q) => !same(mid.decisions[i]!, q.decisions[i]!, d.sign)))) return 'kink';
  const central = steps.map(([hi, lo], k) => (hi.loss - lo.loss) / (2 * STEPS[k]!));
  const [numeric, coarse] = [0, 1].map((k) => central[k]! + (central[k]! - central[k + 1]!) / 3) as [number, number];
  const reliable = (TOL / 10) * Math.max(1e-3, Math.abs(numeric));
  const rounding = (Math.max(...all.map((q) => q.magnitude)) * 2 ** -52) / STEPS[0]!;
  if (Math.abs(numeric - coarse) > reliable || rounding > reliable) return 'unstable';
  const grads = evaluate(gg, { inputs: fg.inputs, params, dims: DIMS }, { precision: 'float64' }).outputs;
  let analytic = 0;
  for (const [path, v] of dirs) {
    const g = grads.get(gradName(path))!;
    if (!g.data.every(Number.isFinite)) throw new Error(`grad.${path} is not finite where every value is`);
    analytic += g.data.reduce((a, x, i) => a + x * v[i]!, 0);
  }
  const err = Math.abs(analytic - numeric) / Math.max(1e-3, Math.abs(numeric), Math.abs(analytic));
  if (!(err < TOL))
    throw new Error(
      `analytic ${analytic} vs numeric ${numeric}: relative error ${err} (loss ${mid.loss}, ops ${fg.ops.join(' ')})`,
    );
  return 'checked';
}
