// Element expressions: the value of one element of a graph node as a kernel expression.
// A materialized node is a load from its buffer; any other node is computed in place from
// its inputs, so elementwise chains and movement ops (reshape, permute, expand, pad, slice,
// window, concat, gather) fuse into whichever kernel reads them.

import { type Dim, dimConst, dimConstValue, dimEquals, dimMul } from '../ir/dims.js';
import type { Dtype } from '../ir/dtype.js';
import type { Node, NodeOf } from '../ir/graph.js';
import {
  type KExpr,
  type KScalar,
  type KStmt,
  add,
  cmp,
  computeOf,
  dot,
  int,
  isFloatScalar,
  ix,
  mul,
  scalarOf,
  select,
  typeOf,
} from '../ir/kernel.js';
import type { OpName } from '../ir/ops.js';
import { streamKey } from '../ir/philox.js';
import { roundTo } from '../ir/value.js';
import type { KernelBuilder } from './builder.js';

/** Row-major strides of a shape, as dims. */
export function stridesOf(shape: readonly Dim[], kb: KernelBuilder): KExpr[] {
  const out: KExpr[] = [];
  let acc: KExpr = int(1);
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = acc;
    acc = mul(acc, kb.dim(shape[i]!));
  }
  return out;
}

const isOne = (d: Dim): boolean => dimConstValue(d) === 1;
const and = (a: KExpr, b: KExpr): KExpr => (a.k === 'const' ? b : cmp('&&', a, b));

/** Integer results of narrow dtypes wrap to their width after every op, as the interpreter's do. */
function wrapInt(e: KExpr, d: Dtype): KExpr {
  return d === 'i64' || scalarOf(d) !== 'i64' ? e : { k: 'cast', from: 'i64', to: d, a: e, t: 'i64' };
}

/** The row-major multi-index of flat position `flat` in `shape`. */
function unflatten(kb: KernelBuilder, shape: readonly Dim[], flat: KExpr): KExpr[] {
  const st = stridesOf(shape, kb);
  return shape.map((d, i) => (i === 0 ? ix('/', flat, st[0]!) : ix('%', ix('/', flat, st[i]!), kb.dim(d))));
}

/** `NumPy` broadcasting: the index of an input of shape `s` read at output index `idx`. */
function broadcastIndex(s: readonly Dim[], out: readonly Dim[], idx: readonly KExpr[]): KExpr[] {
  const off = out.length - s.length;
  return s.map((d, i) => (isOne(d) && !isOne(out[off + i]!) ? int(0) : idx[off + i]!));
}

export class Fuser {
  constructor(
    /** Buffer id of each materialized node. */
    readonly buffers: ReadonlyMap<Node, number>,
    /**
     * Nodes whose element at the kernel's current index is already a local (a GEMM's
     * accumulated value, an epilogue or row kernel's earlier values): read as that local.
     */
    readonly locals: ReadonlyMap<Node, KExpr> = new Map(),
  ) {}

  /** This fuser with more locals. */
  with(locals: ReadonlyMap<Node, KExpr>): Fuser {
    return new Fuser(this.buffers, new Map([...this.locals, ...locals]));
  }

  /**
   * Element `idx` of `n` in its wide compute type (scalarOf: f32 for every float dtype), what
   * accumulating kernels (reductions, GEMM, scans) read: an f16 or bf16 value widened exactly.
   */
  at(kb: KernelBuilder, n: Node, idx: readonly KExpr[]): KExpr {
    return retype(this.value(kb, n, idx), scalarOf(n.type.dtype));
  }

  /**
   * Element `idx` of `n` in its own compute type (computeOf): its local, a load when `n` is
   * materialized, else its computation.
   */
  value(kb: KernelBuilder, n: Node, idx: readonly KExpr[]): KExpr {
    return this.stored(kb, n, () => dot(idx, stridesOf(n.type.shape, kb))) ?? this.compute(kb, n, idx);
  }

  /** Element `flat` of buffer `buf` holding `n`, in n's own compute type. */
  load(kb: KernelBuilder, buf: number, n: Node, flat: KExpr): KExpr {
    return { k: 'load', buf: kb.param(buf, 'read'), index: flat, t: computeOf(n.type.dtype) };
  }

  /** Element at a row-major flat position of `n` (what a reshape reads), in its own compute type. */
  atFlat(kb: KernelBuilder, n: Node, flat: KExpr): KExpr {
    return this.stored(kb, n, () => flat) ?? this.compute(kb, n, unflatten(kb, n.type.shape, flat));
  }

  /** The local of `n` or its load at flat position `flat()` (own type); undefined when `n` is computed. */
  private stored(kb: KernelBuilder, n: Node, flat: () => KExpr): KExpr | undefined {
    const local = this.locals.get(n);
    if (local !== undefined) return retype(local, computeOf(n.type.dtype));
    const buf = this.buffers.get(n);
    return buf === undefined ? undefined : this.load(kb, buf, n, flat());
  }

  /**
   * Computes element `idx` of `n` from its inputs (never loads `n` itself), in its own compute
   * type: an f16 or bf16 unary or binary result is typed f16 or bf16, which rounds it to the
   * format as a store would (the type's meaning, docs/ir.md), so a fused chain computes what the
   * chain of kernels (and the reference) computes.
   */
  compute(kb: KernelBuilder, n: Node, idx: readonly KExpr[]): KExpr {
    return retype((ELEMENT[n.op] as ElementRule<OpName>)(this, kb, n, idx), computeOf(n.type.dtype));
  }
}

/**
 * A float value `e` as float compute type `t`: unchanged when it already is, else an explicit
 * cast (exact when widening, rounding to nearest even when narrowing); non-floats unchanged.
 */
export function retype(e: KExpr, t: KScalar): KExpr {
  const from = typeOf(e);
  if (from === t || !isFloatScalar(from) || !isFloatScalar(t)) return e;
  return { k: 'cast', from, to: t, a: e, t };
}

/** How one op computes element `idx` of node `n` from its inputs. */
type ElementRule<K extends OpName> = (f: Fuser, kb: KernelBuilder, n: NodeOf<K>, idx: readonly KExpr[]) => KExpr;

/** Element `j` of input `i` of `n`, in the input's own compute type. */
const inAt = (f: Fuser, kb: KernelBuilder, n: Node, i: number, j: readonly KExpr[]): KExpr =>
  f.value(kb, n.inputs[i]!, j);

/** Input `i` of `n` broadcast to element `idx` of `n`. */
const bcast = (f: Fuser, kb: KernelBuilder, n: Node, i: number, idx: readonly KExpr[]): KExpr =>
  inAt(f, kb, n, i, broadcastIndex(n.inputs[i]!.type.shape, n.type.shape, idx));

/** Ops that always get a buffer (ALWAYS in lower.ts), so the fuser never computes them inline. */
const buffered =
  (why: string) =>
  (_f: Fuser, _kb: KernelBuilder, n: Node): never => {
    throw new Error(`internal: ${n.op} %${n.id} must be materialized before it is read (${why})`);
  };
const leaf = buffered('its value is a buffer of the plan');
const ownKernel = buffered('it is computed by a kernel of its own');

/** Each op's element expression. */
export const ELEMENT: { readonly [K in OpName]: ElementRule<K> } = {
  input: leaf,
  param: leaf,
  full: (_f, _kb, n) => ({ k: 'const', t: computeOf(n.type.dtype), v: roundTo(n.type.dtype, n.args.value) }),
  dim: (_f, kb, n) => convert(kb.dim(n.args.value), 'i64', n.type.dtype),
  iota: (_f, _kb, n, idx) => convert(idx[n.args.axis]!, 'i64', n.type.dtype),
  random: (f, kb, n, idx) => {
    const [k0, k1] = streamKey(n.args.seed, n.args.key);
    const step = n.inputs.length > 0 ? inAt(f, kb, n, 0, []) : ({ k: 'const', t: 'i64', v: 0 } as const);
    return { k: 'uniform', k0, k1, index: dot(idx, stridesOf(n.type.shape, kb)), step };
  },
  unary: (f, kb, n, idx) =>
    wrapInt({ k: 'un', fn: n.args.fn, a: inAt(f, kb, n, 0, idx), t: computeOf(n.type.dtype) }, n.type.dtype),
  binary: (f, kb, n, idx) =>
    wrapInt(
      { k: 'bin', fn: n.args.fn, a: bcast(f, kb, n, 0, idx), b: bcast(f, kb, n, 1, idx), t: computeOf(n.type.dtype) },
      n.type.dtype,
    ),
  where: (f, kb, n, idx) =>
    select(bcast(f, kb, n, 0, idx), bcast(f, kb, n, 1, idx), bcast(f, kb, n, 2, idx), computeOf(n.type.dtype)),
  reduce: ownKernel,
  reshape: (f, kb, n, idx) => reshapeAt(f, kb, n.inputs[0]!, n.type.shape, idx),
  permute: (f, kb, n, idx) =>
    inAt(
      f,
      kb,
      n,
      0,
      n.inputs[0]!.type.shape.map((_, i) => idx[n.args.axes.indexOf(i)]!),
    ),
  expand: (f, kb, n, idx) => bcast(f, kb, n, 0, idx),
  pad: (f, kb, n, idx) => padAt(f, kb, n, idx),
  slice: (f, kb, n, idx) => {
    const { starts, steps } = n.args;
    return inAt(
      f,
      kb,
      n,
      0,
      idx.map((e, k) => add(kb.dim(starts[k]!), mul(e, int(steps[k]!)))),
    );
  },
  window: (f, kb, n, idx) => {
    const { axes, stride, dilation } = n.args;
    const shape = n.inputs[0]!.type.shape;
    const r = shape.length;
    return inAt(
      f,
      kb,
      n,
      0,
      shape.map((_, i) => {
        const m = axes.indexOf(i);
        return m < 0 ? idx[i]! : add(mul(idx[i]!, int(stride[m]!)), mul(idx[r + m]!, int(dilation[m]!)));
      }),
    );
  },
  concat: (f, kb, n, idx) => concatAt(f, kb, n, idx),
  einsum: ownKernel,
  gather: (f, kb, n, idx) => {
    const { axis } = n.args;
    const r = n.inputs[1]!.type.shape.length;
    const last = ix('-', kb.dim(n.inputs[0]!.type.shape[axis]!), int(1));
    const raw = inAt(f, kb, n, 1, idx.slice(axis, axis + r));
    const t0 = ix('max', int(0), ix('min', last, raw));
    return inAt(f, kb, n, 0, [...idx.slice(0, axis), t0, ...idx.slice(axis + r)]);
  },
  scatter_add: ownKernel,
  cumsum: ownKernel,
  cast: (f, kb, n, idx) => convert(inAt(f, kb, n, 0, idx), n.inputs[0]!.type.dtype, n.type.dtype),
  topk: ownKernel,
  barrier: (f, kb, n, idx) => inAt(f, kb, n, 0, idx),
};

/**
 * Element `idx` of `x` reshaped to `shape`. The two shapes are split into runs of equal
 * product (`[B, T, 256]` and `[B, T, 4, 64]`: B | T | 256 = 4·64), and indices are
 * converted within each run, so splitting or merging axes costs a multiply-add or a
 * division by a constant rather than divisions of the whole flat index. When `x` has a
 * buffer, or the runs cannot be matched, the flat index is used.
 */
function reshapeAt(f: Fuser, kb: KernelBuilder, x: Node, shape: readonly Dim[], idx: readonly KExpr[]): KExpr {
  const runs = f.buffers.has(x) || f.locals.has(x) ? undefined : matchRuns(x.type.shape, shape);
  if (!runs) return f.atFlat(kb, x, dot(idx, stridesOf(shape, kb)));
  const src: KExpr[] = [];
  for (const [[i0, i1], [o0, o1]] of runs) {
    const flat = dot(idx.slice(o0, o1), stridesOf(shape.slice(o0, o1), kb));
    const st = stridesOf(x.type.shape.slice(i0, i1), kb);
    for (let i = i0; i < i1; i++) {
      const q = ix('/', flat, st[i - i0]!);
      src.push(i === i0 ? q : ix('%', q, kb.dim(x.type.shape[i]!)));
    }
  }
  return f.value(kb, x, src);
}

function padAt(f: Fuser, kb: KernelBuilder, n: NodeOf<'pad'>, idx: readonly KExpr[]): KExpr {
  const x = n.inputs[0]!;
  const src = idx.map((e, k) => ix('-', e, kb.dim(n.args.pads[k]![0])));
  let inside: KExpr = int(1);
  src.forEach((e, k) => {
    const [lo, hi] = n.args.pads[k]!;
    if (dimConstValue(lo) === 0 && dimConstValue(hi) === 0) return;
    inside = and(inside, and(cmp('>=', e, int(0)), cmp('<', e, kb.dim(x.type.shape[k]!))));
  });
  const t = computeOf(n.type.dtype);
  const fill: KExpr = { k: 'const', t, v: roundTo(n.type.dtype, n.args.value) };
  return inside.k === 'const' ? f.value(kb, x, src) : select(inside, f.value(kb, x, src), fill, t);
}

function concatAt(f: Fuser, kb: KernelBuilder, n: NodeOf<'concat'>, idx: readonly KExpr[]): KExpr {
  const axis = n.args.axis;
  const t = computeOf(n.type.dtype);
  // Offsets of each part along the axis; the last part needs no test.
  const offsets: KExpr[] = [];
  let off: KExpr = int(0);
  for (const x of n.inputs) {
    offsets.push(off);
    off = add(off, kb.dim(x.type.shape[axis]!));
  }
  // Parts [lo, hi): a chain of selects, the last part untested; a long list is first split
  // in halves (a balanced tree of tests), so that thousands of parts stay shallow.
  const parts = (lo: number, hi: number): KExpr => {
    if (hi - lo > CONCAT_CHAIN) {
      const mid = (lo + hi) >> 1;
      return select(cmp('<', idx[axis]!, offsets[mid]!), parts(lo, mid), parts(mid, hi), t);
    }
    let e: KExpr | undefined;
    for (let p = hi - 1; p >= lo; p--) {
      const part = n.inputs[p]!;
      const j = idx.map((v, k) => (k === axis ? ix('-', v, offsets[p]!) : v));
      const val = f.value(kb, part, j);
      e =
        e === undefined
          ? val
          : select(cmp('<', idx[axis]!, add(offsets[p]!, kb.dim(part.type.shape[axis]!))), val, e, t);
    }
    return e!;
  };
  return parts(0, n.inputs.length);
}

/** The most parts of a `concat` tested one after another; more are split in halves first. */
const CONCAT_CHAIN = 16;

/**
 * Splits two shapes of equal size into aligned runs [in axes) ↔ [out axes) of equal
 * products (size-1 axes join a neighbouring run); undefined when the symbolic products do
 * not line up.
 */
export function matchRuns(a: readonly Dim[], b: readonly Dim[]): [[number, number], [number, number]][] | undefined {
  const runs: [[number, number], [number, number]][] = [];
  let [i, j] = [0, 0];
  while (i < a.length || j < b.length) {
    const [i0, j0] = [i, j];
    // A size-1 axis is a run of its own, against no axis on the other side.
    if (i < a.length && dimConstValue(a[i]!) === 1 && !(j < b.length && dimConstValue(b[j]!) === 1)) {
      runs.push([
        [i, ++i],
        [j, j],
      ]);
      continue;
    }
    if (j < b.length && dimConstValue(b[j]!) === 1 && !(i < a.length && dimConstValue(a[i]!) === 1)) {
      runs.push([
        [i, i],
        [j, ++j],
      ]);
      continue;
    }
    let [pa, pb] = [dimConst(1), dimConst(1)];
    if (i < a.length) pa = a[i++]!;
    if (j < b.length) pb = b[j++]!;
    for (let guard = 0; !dimEquals(pa, pb); guard++) {
      const ca = dimConstValue(pa);
      const cb = dimConstValue(pb);
      // Grow the side that is behind: the smaller constant, else whichever still has axes.
      const growA =
        i < a.length && (j >= b.length || (ca !== undefined && cb !== undefined ? ca < cb : i - i0 <= j - j0));
      if (growA) pa = dimMul(pa, a[i++]!);
      else if (j < b.length) pb = dimMul(pb, b[j++]!);
      else return undefined;
      if (guard > a.length + b.length) return undefined;
    }
    runs.push([
      [i0, i],
      [j0, j],
    ]);
  }
  return runs;
}

/** fmc's cast of a compute value from dtype `from` to `to`. */
export function convert(e: KExpr, from: Dtype | 'i64', to: Dtype): KExpr {
  if (from === to) return e;
  return { k: 'cast', from, to, a: e, t: computeOf(to) };
}

/**
 * `let`s computing `nodes` (in topological order) at index `idx` of each, every one read
 * afterwards as its local: the fused nodes of an epilogue or of a row, computed once each
 * however often the later ones read them.
 */
export function defineLocals(
  kb: KernelBuilder,
  f: Fuser,
  nodes: readonly Node[],
  idx: (n: Node) => readonly KExpr[],
): { stmts: KStmt[]; f: Fuser } {
  const stmts: KStmt[] = [];
  for (const n of nodes) {
    const name = kb.fresh('v');
    const t = computeOf(n.type.dtype);
    stmts.push({ k: 'let', name, t, value: f.compute(kb, n, idx(n)) });
    f = f.with(new Map([[n, { k: 'var', name, t }]]));
  }
  return { stmts, f };
}
