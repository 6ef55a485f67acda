// Random valid graphs of the primitive ops, for property tests (print/parse, verify, the
// interpreter, and later passes). A graph is built from a stream of random choices through
// the Builder's `node` (src/ir/build.ts, no shortcuts, so no no-op is elided): each step picks
// an op and operands, and a choice the builder rejects (or one giving an empty or oversized
// tensor) is dropped and another step is tried. Shrinking works on the choice stream: fewer
// choices give fewer, simpler nodes.
//
// Inputs have small concrete shapes and, in some graphs, the symbolic dim N. Every dim of
// every node is a positive integer for each N in ARB_N_VALUES, and each tensor has at most
// MAX_ELEMENTS elements there, so the graphs evaluate quickly with N bound to any of them.

import fc from 'fast-check';
import { Builder } from '../../src/ir/build.js';
import {
  type Dim,
  dimAdd,
  dimConst,
  dimConstValue,
  dimDiv,
  dimEquals,
  dimFloorDiv,
  dimFrac,
  dimMod,
  dimMul,
  dimNeg,
  dimSub,
  dimSubst,
  dimSym,
  dimToString,
} from '../../src/ir/dims.js';
import { type Dtype, isFloat, isInt } from '../../src/ir/dtype.js';
import { type Graph, IRError, type Node, type NodeOf } from '../../src/ir/graph.js';
import {
  BINARY_FNS,
  type BinaryFn,
  INIT_FNS,
  type InitFn,
  type OpArgs,
  type OpName,
  UNARY_FNS,
} from '../../src/ir/ops.js';
import { canonicalOrder, formatNumber } from '../../src/ir/print.js';

/** The values of N for which every generated graph is valid (all dims positive integers). */
export const ARB_N_VALUES: readonly number[] = [2, 3, 5];
/** The most elements of any tensor of a generated graph (with N at its largest). */
export const MAX_ELEMENTS = 2048;

/** A random valid graph (see the header). */
export function arbGraph(opts: { maxChoices?: number } = {}): fc.Arbitrary<Graph> {
  return fc
    .array(fc.noBias(fc.nat({ max: 1 << 30 })), { maxLength: opts.maxChoices ?? 600, size: 'max' })
    .map((choices) => buildRandomGraph(choices));
}

const SYMS = ['T', 'B', 'd', 'heads', 'x.y', 'floor', 'n_1'];

/** Random dim expressions built with the dims.ts operations (a failing operation gives its first operand). */
export const arbDim: fc.Arbitrary<Dim> = fc.letrec<{ dim: Dim }>((tie) => ({
  dim: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -6, max: 6 }).map(dimConst),
    fc.constantFrom(...SYMS).map(dimSym),
    fc.tuple(fc.integer({ min: -7, max: 7 }), fc.integer({ min: 1, max: 4 })).map(([n, m]) => dimFrac(n, m)),
    fc
      .tuple(fc.constantFrom('add', 'sub', 'mul', 'div', 'floor', 'mod', 'neg'), tie('dim'), tie('dim'))
      .map(([op, a, b]) => {
        try {
          switch (op) {
            case 'add':
              return dimAdd(a, b);
            case 'sub':
              return dimSub(a, b);
            case 'mul':
              return dimMul(a, b);
            case 'div':
              return dimDiv(a, b);
            case 'floor':
              return dimFloorDiv(a, b);
            case 'mod':
              return dimMod(a, b);
            default:
              return dimNeg(a);
          }
        } catch {
          return a;
        }
      }),
  ),
})).dim;

// ---------- choices ----------

/** Adds up to `steps` new nodes to `pool` from `step` (4 tries a node at most, until the choices run out). */
export function growPool(pool: Node[], step: () => Node | undefined, r: Choices, steps: number): void {
  for (let k = 0, tries = 0; k < steps && tries < 4 * steps && !r.exhausted; tries++) {
    const n = step();
    if (n && !pool.includes(n)) {
      pool.push(n);
      k++;
    }
  }
}

/** The nodes of `pool` that no other node of it uses (inputs aside), latest first. */
export function latestSinks(pool: readonly Node[]): Node[] {
  const used = new Set(pool.flatMap((n) => n.inputs));
  return pool.filter((n) => !used.has(n) && n.op !== 'input').reverse();
}

/** Reads random choices from a list; past its end every choice is 0 (so building always ends). */
export class Choices {
  private i = 0;
  constructor(private readonly xs: readonly number[]) {}
  get exhausted(): boolean {
    return this.i >= this.xs.length;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    const x = this.xs[this.i++] ?? 0;
    return n <= 1 ? 0 : x % n;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError('pick from nothing');
    return xs[this.int(xs.length)]!;
  }
  bool(percent = 50): boolean {
    return this.int(100) < percent;
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

// ---------- concrete checks ----------

const N = dimSym('N');
const c = dimConst;
const ENVS = ARB_N_VALUES.map((v) => new Map([['N', c(v)]]));

/** The values of a dim for each N in ARB_N_VALUES (undefined when not an integer). */
function values(d: Dim): (number | undefined)[] {
  let vs = valueCache.get(d.key);
  if (!vs) {
    vs = ENVS.map((env) => {
      const v = dimConstValue(dimSubst(d, env));
      return v !== undefined && Number.isInteger(v) ? v : undefined;
    });
    valueCache.set(d.key, vs);
  }
  return vs;
}
const valueCache = new Map<string, (number | undefined)[]>();
const minValue = (d: Dim): number => Math.min(...values(d).map((v) => v ?? -Infinity));
const allPositive = (shape: readonly Dim[]): boolean => shape.every((d) => minValue(d) >= 1);
function maxElements(shape: readonly Dim[]): number {
  let m = 0;
  ENVS.forEach((_, k) => {
    m = Math.max(
      m,
      shape.reduce((a, d) => a * (values(d)[k] ?? Infinity), 1),
    );
  });
  return m;
}

// ---------- building ----------

const FLOAT_VALUES = [0, 1, -1.5, 0.1, 2, NaN, Infinity, -Infinity, -0, 5e-324, 1e-310, 3.4e38, -7];
const INT_VALUES = [0, 1, -1, 2, 3, -4, 7];

class RandomGraph {
  readonly b = new Builder();
  readonly pool: Node[] = [];
  private n = 0;

  constructor(
    readonly r: Choices,
    readonly useN: boolean,
  ) {}

  /** Builds a node; undefined when the builder rejects it or a dim is not a positive integer. */
  node<K extends OpName>(op: K, args: OpArgs[K], inputs: readonly Node[]): NodeOf<K> | undefined {
    const path = this.r.bool(30) ? this.r.pick(['', 'blocks.0', 'blocks.1.attn', 'héad "q"']) : '';
    try {
      const n = this.b.within(path, '', () => this.b.node(op, args, inputs));
      if (!allPositive(n.type.shape) || maxElements(n.type.shape) > MAX_ELEMENTS) return undefined;
      return n;
    } catch (e) {
      if (e instanceof IRError || e instanceof RangeError) return undefined;
      throw e;
    }
  }

  dim(): Dim {
    return this.useN && this.r.bool(25) ? N : c(1 + this.r.int(4));
  }
  shape(maxRank = 3): Dim[] {
    return Array.from({ length: this.r.int(maxRank + 1) }, () => this.dim());
  }
  value(dtype: Dtype): number {
    if (isFloat(dtype)) return this.r.pick(FLOAT_VALUES);
    if (dtype === 'bool') return this.r.int(2);
    return this.r.pick(INT_VALUES);
  }
  /** A pool node, favouring recent ones; optionally one satisfying `pred`. */
  pick(pred: (n: Node) => boolean = () => true): Node | undefined {
    const xs = this.pool.filter(pred);
    if (xs.length === 0) return undefined;
    return this.r.bool(60) ? xs[xs.length - 1 - this.r.int(Math.min(xs.length, 4))] : this.r.pick(xs);
  }
  full(dtype: Dtype, shape: readonly Dim[]): Node | undefined {
    return this.node('full', { value: this.value(dtype), dtype, shape }, []);
  }
  intIndices(): Node | undefined {
    const have = this.pick((n) => isInt(n.type.dtype));
    if (have && this.r.bool(60)) return have;
    const shape = this.shape(2);
    return this.r.bool(50)
      ? this.node('iota', { axis: 0, dtype: 'i32', shape: shape.length > 0 ? shape : [c(3)] }, [])
      : this.full('i32', shape);
  }

  input(index: number): NodeOf<'input'> {
    const dtype = this.r.pick<Dtype>(['f32', 'f32', 'f32', 'i32', 'bool', 'f16']);
    const shape = this.shape();
    return this.b.node('input', { name: `x${index}`, index, dtype, shape }, []);
  }

  param(): Node | undefined {
    const fn = this.r.pick<InitFn>(INIT_FNS);
    const args: Record<string, number> = {};
    if (fn === 'constant') args['value'] = this.r.pick([0, 1, -0.5]);
    if (fn === 'normal') Object.assign(args, { mean: 0, std: 0.02 });
    if (fn === 'uniform' && this.r.bool()) Object.assign(args, { low: -0.1, high: 0.1 });
    if (fn.startsWith('kaiming') && this.r.bool()) args['a'] = Math.sqrt(5);
    const role = this.r.bool(30) ? 'buffer' : 'param';
    const path = `p${this.n++}.${role === 'buffer' ? 'running_mean' : 'weight'}`;
    const dtype = this.r.pick<Dtype>(['f32', 'f32', 'f16', 'bf16']);
    const shape = this.shape();
    return this.node('param', { path, role, dtype, shape, init: { fn, args } }, []);
  }

  /** One random op on pool nodes. */
  step(): Node | undefined {
    const r = this.r;
    const kind = r.pick([
      'unary',
      'binary',
      'binary',
      'where',
      'reduce',
      'reshape',
      'permute',
      'expand',
      'pad',
      'slice',
      'window',
      'concat',
      'einsum',
      'gather',
      'scatter_add',
      'cumsum',
      'cast',
      'iota',
      'full',
      'topk',
      'random',
      'dim',
      'param',
    ] as const);
    const x = this.pick();
    if (!x) return undefined;
    const { dtype, shape } = x.type;
    const rank = shape.length;
    switch (kind) {
      case 'unary': {
        const fns = UNARY_FNS.filter((f) =>
          f === 'not' ? dtype === 'bool' : f === 'neg' || f === 'abs' ? dtype !== 'bool' : isFloat(dtype),
        );
        return this.node('unary', { fn: r.pick(fns) }, [x]);
      }
      case 'binary': {
        const y = r.bool(70) ? this.pick((n) => n.type.dtype === dtype) : this.full(dtype, r.bool() ? [] : [c(1)]);
        if (!y) return undefined;
        const fns: readonly BinaryFn[] =
          dtype === 'bool' ? ['and', 'or', 'eq', 'ne'] : BINARY_FNS.filter((f) => f !== 'and' && f !== 'or');
        return this.node('binary', { fn: r.pick(fns) }, r.bool() ? [x, y] : [y, x]);
      }
      case 'where': {
        const y = this.pick((n) => n.type.dtype === dtype) ?? x;
        let cond = this.pick((n) => n.type.dtype === 'bool');
        if (!cond || r.bool(40)) {
          const z = this.pick((n) => n.type.dtype !== 'bool');
          const zero = z && this.full(z.type.dtype, []);
          cond = z && zero && this.node('binary', { fn: 'gt' }, [z, zero]);
        }
        return cond && this.node('where', {}, [cond, x, y]);
      }
      case 'reduce': {
        if (dtype === 'bool') return undefined;
        const axes = shape.map((_, i) => i).filter(() => r.bool());
        return this.node('reduce', { fn: r.pick(['sum', 'max'] as const), axes, keepdim: r.bool() }, [x]);
      }
      case 'reshape': {
        const sym = shape.filter((d) => dimConstValue(d) === undefined);
        let total = shape.reduce((a, d) => a * (dimConstValue(d) ?? 1), 1);
        const dims: Dim[] = [];
        for (let k = r.int(3); k > 0 && total > 1; k--) {
          const divisors = Array.from({ length: total }, (_, i) => i + 1).filter((f) => total % f === 0);
          const f = r.pick(divisors);
          dims.push(c(f));
          total /= f;
        }
        if (total > 1 || r.bool(20)) dims.push(c(total));
        for (const s of sym) dims.splice(r.int(dims.length + 1), 0, s);
        return this.node('reshape', { shape: dims }, [x]);
      }
      case 'permute':
        return this.node('permute', { axes: r.shuffle(shape.map((_, i) => i)) }, [x]);
      case 'expand': {
        const target = shape.map((d) => (dimConstValue(d) === 1 ? this.dim() : d));
        for (let k = r.int(3); k > 0; k--) target.unshift(this.dim());
        return this.node('expand', { shape: target }, [x]);
      }
      case 'pad': {
        const pads = shape.map(() => [c(r.int(4) - 1), c(r.int(4) - 1)] as const);
        return this.node('pad', { pads, value: this.value(dtype) }, [x]);
      }
      case 'slice': {
        const starts: Dim[] = [];
        const sizes: Dim[] = [];
        const steps: number[] = [];
        for (const d of shape) {
          const m = minValue(d);
          const cv = dimConstValue(d);
          const step = 1 + r.int(2);
          if (cv !== undefined) {
            const start = r.int(cv);
            const most = Math.floor((cv - 1 - start) / step) + 1;
            starts.push(c(start));
            sizes.push(c(1 + r.int(most)));
          } else {
            // Symbolic: from 0 or 1 to the end (a floor dim when the step is 2), or one element.
            const start = m >= 2 ? r.int(2) : 0;
            const rest = dimSub(d, c(start));
            starts.push(c(start));
            sizes.push(r.bool(20) ? c(1) : dimAdd(dimFloorDiv(dimSub(rest, c(1)), c(step)), c(1)));
          }
          steps.push(step);
        }
        return this.node('slice', { starts, sizes, steps }, [x]);
      }
      case 'window': {
        const axes = shape.map((_, i) => i).filter(() => r.bool(40));
        const size = axes.map(() => 1 + r.int(3));
        const stride = axes.map(() => 1 + r.int(2));
        const dilation = axes.map(() => 1 + r.int(2));
        return this.node('window', { axes, size, stride, dilation }, [x]);
      }
      case 'concat': {
        if (rank === 0) return undefined;
        const axis = r.int(rank);
        const fits = (n: Node) =>
          n.type.dtype === dtype &&
          n.type.shape.length === rank &&
          n.type.shape.every((d, i) => i === axis || dimEquals(d, shape[i]!));
        const others = Array.from({ length: r.int(3) }, () => this.pick(fits) ?? x);
        return this.node('concat', { axis }, [x, ...others]);
      }
      case 'einsum': {
        if (!isFloat(dtype) || rank > 3) return undefined;
        const letters = 'abcdefgh';
        const xs = shape.map((_, i) => letters[i]!);
        const size = new Map(xs.map((l, i) => [l, shape[i]!] as const));
        const y = r.bool(70) ? this.pick((n) => n.type.dtype === dtype && n.type.shape.length <= 3) : undefined;
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
        return this.node('einsum', { spec }, y ? [x, y] : [x]);
      }
      case 'gather': {
        const idx = this.intIndices();
        return idx && rank > 0 ? this.node('gather', { axis: r.int(rank) }, [x, idx]) : undefined;
      }
      case 'scatter_add': {
        const idx = this.intIndices();
        if (!idx || rank === 0 || dtype === 'bool') return undefined;
        const axis = r.int(rank);
        const src = this.node('gather', { axis }, [x, idx]);
        return src && this.node('scatter_add', { axis }, [x, idx, src]);
      }
      case 'cumsum':
        if (rank === 0 || dtype === 'bool') return undefined;
        return this.node('cumsum', { axis: r.int(rank), exclusive: r.bool(), reverse: r.bool() }, [x]);
      case 'cast':
        return this.node('cast', { dtype: r.pick<Dtype>(['f32', 'f16', 'bf16', 'i32', 'i8', 'bool']) }, [x]);
      case 'iota': {
        const s = this.shape();
        if (s.length === 0) return undefined;
        return this.node('iota', { axis: r.int(s.length), dtype: r.pick<Dtype>(['i32', 'f32']), shape: s }, []);
      }
      case 'full':
        return this.full(r.pick<Dtype>(['f32', 'i32', 'bool', 'bf16']), this.shape());
      case 'topk': {
        if (rank === 0 || dtype === 'bool') return undefined;
        const axis = r.int(rank);
        const most = minValue(shape[axis]!);
        const output = r.pick(['values', 'indices'] as const);
        return this.node('topk', { k: 1 + r.int(Math.min(most, 4)), axis, output }, [x]);
      }
      case 'random':
        return this.node('random', { seed: r.int(1000), key: r.pick(['drop', 'noise', '']), shape: this.shape() }, []);
      case 'dim': {
        const value = rank > 0 ? r.pick(shape) : c(r.int(5));
        return this.node('dim', { value, dtype: r.pick<Dtype>(['i32', 'f32']) }, []);
      }
      case 'param':
        return this.param();
    }
  }
}

/**
 * The structure of a graph as plain data, independent of node ids and of the key order of
 * args (numbers as text so that -0 and NaN compare): equal for a graph and its reparse.
 */
export function graphStructure(g: Graph): unknown {
  const order = canonicalOrder(g);
  const num = new Map(order.map((n, i) => [n, i] as const));
  const plain = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(plain);
    if (typeof v === 'number') return formatNumber(v);
    if (typeof v !== 'object' || v === null) return v;
    if ('terms' in v && 'key' in v) return `dim ${dimToString(v as Dim)}`;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, plain(o[k])]),
    );
  };
  return plain({
    name: g.name,
    dims: g.dims,
    nodes: order.map((n) => ({
      op: n.op,
      args: n.args,
      path: n.path,
      type: n.type,
      ins: n.inputs.map((i) => num.get(i)),
    })),
    inputs: g.inputs.map((n) => num.get(n)),
    outputs: g.outputs.map((o) => [o.name, num.get(o.node)]),
    updates: g.updates.map((u) => [u.path, num.get(u.node)]),
  });
}

/** Builds the graph a list of choices describes (deterministic; see the header). */
export function buildRandomGraph(choices: readonly number[]): Graph {
  const r = new Choices(choices);
  const g = new RandomGraph(r, r.bool(50));
  const inputs = Array.from({ length: 1 + r.int(3) }, (_, i) => g.input(i));
  g.pool.push(...inputs);
  for (let k = r.int(3); k > 0; k--) {
    const p = g.param();
    if (p) g.pool.push(p);
  }
  const steps = 3 + r.int(30);
  growPool(g.pool, () => g.step(), r, steps);
  // Outputs: mostly the latest sinks (nodes nothing else uses), so that most nodes are live.
  const sinks = latestSinks(g.pool);
  const outputs: { name: string; node: Node }[] = [];
  for (let k = 1 + r.int(4); k > 0; k--) {
    const node = (r.bool(80) ? sinks[outputs.length] : undefined) ?? g.pick() ?? g.pool[0]!;
    outputs.push({ name: r.bool(80) ? `out${outputs.length}` : `out ${outputs.length}`, node });
  }
  const updates: { path: string; node: Node }[] = [];
  for (const p of g.pool)
    if (p.op === 'param' && p.args.role === 'buffer' && r.bool(60)) {
      const node = g.node('binary', { fn: 'add' }, [p, p]);
      if (node) updates.push({ path: p.args.path, node });
    }
  return g.b.graph(r.bool(80) ? 'forward' : 'step', outputs, updates, inputs);
}
