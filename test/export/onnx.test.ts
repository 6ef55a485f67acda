// ONNX export checked against onnxruntime-node: every primitive (and fn variant) in a micro
// graph, exported, run in ORT and compared with the reference interpreter (f32 within rtol
// 1e-4 / atol 1e-5, ints and bools exactly).
//
// Inputs avoid the differences documented in src/export/onnx.ts: no NaN into
// maximum/minimum (ORT 1.30 propagates it, ONNX does not promise to), no ties or NaN in
// topk, no integer division by zero. Float -> int casts of NaN/Inf/out-of-range values are
// tested: the export adds the saturation fmc defines.

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exportOnnx, ExportError } from '../../src/export/onnx.js';
import {
  type Dim,
  dimAdd,
  dimConst,
  dimDiv,
  dimFloorDiv,
  dimMod,
  dimMul,
  dimNeg,
  dimSub,
  dimSym,
  dimSymbols,
} from '../../src/ir/dims.js';
import type { Dtype } from '../../src/ir/dtype.js';
import { type Graph, GraphBuilder, type Node, type NodeOf } from '../../src/ir/graph.js';
import { initParam, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { type BinaryFn, type OpArgs, type OpName, type UnaryFn } from '../../src/ir/ops.js';
import { bitsToF16, f16Bits, type HostTensor, hostTensor } from '../../src/ir/value.js';

// ---------- graph building ----------

type DimLike = number | Dim;
const dim = (d: DimLike): Dim => (typeof d === 'number' ? dimConst(d) : d);
const B = dimSym('B');
const T = dimSym('T');

/** A GraphBuilder with shortcuts; `graph` closes it into a Graph. */
class G {
  readonly b = new GraphBuilder();
  readonly inputs: NodeOf<'input'>[] = [];

  input(name: string, dtype: Dtype, shape: readonly DimLike[]): NodeOf<'input'> {
    const n = this.b.node('input', { name, index: this.inputs.length, dtype, shape: shape.map(dim) }, []);
    this.inputs.push(n);
    return n;
  }
  op<K extends OpName>(op: K, args: OpArgs[K], ...inputs: Node[]): NodeOf<K> {
    return this.b.node(op, args, inputs, 'blk.sub');
  }
  un(fn: UnaryFn, x: Node): Node {
    return this.op('unary', { fn }, x);
  }
  bin(fn: BinaryFn, x: Node, y: Node): Node {
    return this.op('binary', { fn }, x, y);
  }
  full(value: number, dtype: Dtype, shape: readonly DimLike[]): Node {
    return this.op('full', { value, dtype, shape: shape.map(dim) });
  }
  param(path: string, dtype: Dtype, shape: readonly DimLike[]): Node {
    const init = { fn: 'normal' as const, args: {} };
    return this.b.node('param', { path, role: 'param', dtype, shape: shape.map(dim), init }, [], path);
  }
  graph(outputs: Record<string, Node>, name = 'forward'): Graph {
    const dims = [...new Set(this.inputs.flatMap((n) => n.args.shape.flatMap(dimSymbols)))].sort();
    const outs = Object.entries(outputs).map(([name, node]) => ({ name, node }));
    return { name, dims, inputs: this.inputs, outputs: outs, updates: [] };
  }
}

// ---------- running ----------

const ORT_TYPE: Partial<Record<Dtype, ort.Tensor.Type>> = {
  f32: 'float32',
  f16: 'float16',
  i8: 'int8',
  i32: 'int32',
  i64: 'int64',
  bool: 'bool',
};

function toOrt(t: HostTensor): ort.Tensor {
  const dims = [...t.shape];
  const d = t.data;
  switch (t.dtype) {
    case 'f32':
      return new ort.Tensor('float32', Float32Array.from(d), dims);
    case 'f16':
      return new ort.Tensor('float16', Uint16Array.from(d, f16Bits), dims);
    case 'i8':
      return new ort.Tensor('int8', Int8Array.from(d), dims);
    case 'i32':
      return new ort.Tensor('int32', Int32Array.from(d), dims);
    case 'i64':
      return new ort.Tensor(
        'int64',
        BigInt64Array.from(d, (x) => BigInt(x)),
        dims,
      );
    case 'bool':
      return new ort.Tensor('bool', Uint8Array.from(d), dims);
    default:
      throw new Error(`no ORT tensor for ${t.dtype}`);
  }
}

function fromOrt(t: ort.Tensor): { type: string; shape: number[]; data: Float64Array } {
  const src = t.data as ArrayLike<number | bigint | boolean>;
  const data = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    data[i] = t.type === 'float16' && src instanceof Uint16Array ? bitsToF16(v as number) : Number(v);
  }
  return { type: t.type, shape: [...t.dims], data };
}

const session = (g: Graph, params: ReadonlyMap<string, HostTensor> = new Map()) =>
  ort.InferenceSession.create(exportOnnx(g, params), { intraOpNumThreads: 1, interOpNumThreads: 1 });

interface RunOptions {
  dims?: Record<string, number>;
  params?: ReadonlyMap<string, HostTensor>;
  /** Inputs by name (others are random). */
  inputs?: Record<string, HostTensor>;
  /** Random integer inputs are in [0, intHigh). */
  intHigh?: number;
  seed?: number;
  /** Relative tolerance of float outputs (default 1e-4 for f32). */
  rtol?: number;
}

/** Runs `g` in ORT (an existing session or a fresh one) and compares every output with the interpreter. */
async function check(g: Graph, opts: RunOptions = {}, sess?: ort.InferenceSession): Promise<void> {
  const dims = new Map(Object.entries(opts.dims ?? {}));
  const params = opts.params ?? new Map<string, HostTensor>();
  const inputs = new Map(
    g.inputs.map((n) => [
      n.args.name,
      opts.inputs?.[n.args.name] ?? randomInput(n, dims, opts.seed ?? 1, opts.intHigh ?? 2),
    ]),
  );
  const want = evaluate(g, { inputs, params, dims }).outputs;
  const s = sess ?? (await session(g, params));
  const feeds = Object.fromEntries([...inputs].map(([k, v]) => [k, toOrt(v)]));
  const got = await s.run(feeds);
  for (const o of g.outputs) {
    const w = want.get(o.name)!;
    const r = fromOrt(got[o.name]!);
    const where = `output '${o.name}'`;
    expect(r.type, where).toBe(ORT_TYPE[w.dtype]);
    expect(r.shape, where).toEqual(w.shape);
    const [rtol, atol] = w.dtype === 'f32' ? [opts.rtol ?? 1e-4, 1e-5] : w.dtype === 'f16' ? [2e-3, 1e-3] : [0, 0];
    for (let i = 0; i < w.data.length; i++) {
      const [a, b] = [r.data[i]!, w.data[i]!];
      if (Number.isNaN(b) && Number.isNaN(a)) continue;
      if (a === b) continue;
      if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b)))
        expect.fail(`${where}[${i}]: ORT ${a}, interpreter ${b} (shape [${w.shape.join(', ')}])`);
    }
  }
}

const t = hostTensor;

// ---------- elementwise ----------

describe('elementwise ops', () => {
  it('unary on f32', async () => {
    const g = new G();
    const x = g.input('x', 'f32', [3, 4]);
    const ax = g.un('abs', x); // log/sqrt/rsqrt of |x|
    const outs: Record<string, Node> = {};
    for (const fn of ['neg', 'exp', 'sin', 'cos', 'tanh', 'erf', 'abs', 'recip', 'floor'] as const)
      outs[fn] = g.un(fn, x);
    for (const fn of ['log', 'sqrt', 'rsqrt'] as const) outs[fn] = g.un(fn, ax);
    await check(g.graph(outs));
  });

  it('unary on ints and bool', async () => {
    const g = new G();
    const i = g.input('i', 'i32', [5]);
    const l = g.input('l', 'i64', [5]);
    const c = g.input('c', 'bool', [5]);
    const i5 = g.bin('sub', i, g.full(5, 'i32', [5]));
    const l5 = g.bin('sub', l, g.full(5, 'i64', [5]));
    const outs = { ni: g.un('neg', i5), ai: g.un('abs', i5), nl: g.un('neg', l5), al: g.un('abs', l5) };
    await check(g.graph({ ...outs, nc: g.un('not', c) }), { intHigh: 10 });
  });

  it('binary arithmetic on f32 with broadcasting', async () => {
    const g = new G();
    const a = g.input('a', 'f32', [2, 3]);
    const b = g.input('b', 'f32', [3]);
    const c = g.input('c', 'f32', [2, 1]);
    const outs: Record<string, Node> = {};
    for (const fn of ['add', 'sub', 'mul', 'div', 'mod', 'max', 'min'] as const) {
      outs[fn] = g.bin(fn, a, b);
      outs[`${fn}_col`] = g.bin(fn, c, a);
    }
    outs.pow = g.bin('pow', g.un('abs', a), b);
    await check(g.graph(outs));
  });

  it('binary arithmetic on i32 and i64 (C division and remainder)', async () => {
    for (const dtype of ['i32', 'i64'] as const) {
      const g = new G();
      const a = g.input('a', dtype, [4, 5]);
      const b = g.input('b', dtype, [5]);
      const neg = g.bin('sub', a, g.full(10, dtype, [])); // dividends of both signs
      const nz = g.bin('add', b, g.full(1, dtype, [])); // divisors in [1, 7]
      const nzNeg = g.bin('sub', g.full(0, dtype, []), nz);
      const outs: Record<string, Node> = {};
      for (const fn of ['add', 'sub', 'mul', 'max', 'min'] as const) outs[fn] = g.bin(fn, neg, b);
      outs.div = g.bin('div', neg, nz);
      outs.mod = g.bin('mod', neg, nz);
      outs.divn = g.bin('div', neg, nzNeg);
      outs.modn = g.bin('mod', neg, nzNeg);
      outs.pow = g.bin('pow', g.bin('min', b, g.full(3, dtype, [])), g.bin('min', a, g.full(4, dtype, [])));
      await check(g.graph(outs), { intHigh: 7, seed: dtype === 'i32' ? 1 : 2 });
    }
  });

  it('compares and logic', async () => {
    const g = new G();
    const a = g.input('a', 'f32', [3, 4]);
    const b = g.input('b', 'f32', [4]);
    const i = g.input('i', 'i32', [3, 4]);
    const j = g.input('j', 'i32', [3, 1]);
    const p = g.input('p', 'bool', [3, 4]);
    const q = g.input('q', 'bool', [4]);
    const outs: Record<string, Node> = {};
    for (const fn of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) {
      outs[`f_${fn}`] = g.bin(fn, a, b);
      outs[`i_${fn}`] = g.bin(fn, i, j);
    }
    outs.f_eq_self = g.bin('eq', a, g.op('expand', { shape: [dimConst(3), dimConst(4)] }, b));
    outs.b_eq = g.bin('eq', p, q);
    outs.b_ne = g.bin('ne', p, q);
    outs.and = g.bin('and', p, q);
    outs.or = g.bin('or', p, q);
    await check(g.graph(outs), { intHigh: 3 });
  });

  it('where', async () => {
    const g = new G();
    const c = g.input('c', 'bool', [2, 3]);
    const a = g.input('a', 'f32', [2, 3]);
    const b = g.input('b', 'f32', [3]);
    const i = g.input('i', 'i32', [1, 3]);
    const outs = { f: g.op('where', {}, c, a, b), wi: g.op('where', {}, c, i, g.full(-1, 'i32', [])) };
    await check(g.graph(outs), { intHigh: 100 });
  });
});

// ---------- reductions, views ----------

describe('reductions and views', () => {
  it('reduce sum and max', async () => {
    const g = new G();
    const x = g.input('x', 'f32', [2, 3, 4]);
    const i = g.input('i', 'i32', [2, 3]);
    const r = (fn: 'sum' | 'max', axes: number[], keepdim: boolean, y: Node = x) =>
      g.op('reduce', { fn, axes, keepdim }, y);
    const outs = {
      s1: r('sum', [1], false),
      s02k: r('sum', [0, 2], true),
      sall: r('sum', [0, 1, 2], false),
      m2: r('max', [2], false),
      m01k: r('max', [0, 1], true),
      none: r('sum', [], false),
      si: r('sum', [1], false, i),
      mi: r('max', [0], true, i),
    };
    await check(g.graph(outs), { intHigh: 50 });
  });

  it('reshape, permute, expand, concat', async () => {
    const g = new G();
    const x = g.input('x', 'f32', [2, 3, 4]);
    const y = g.input('y', 'f32', [3, 1]);
    const z = g.input('z', 'f32', [2, 1, 4]);
    const outs = {
      reshape: g.op('reshape', { shape: [6, 4].map(dimConst) }, x),
      flat: g.op('reshape', { shape: [dimConst(24)] }, x),
      permute: g.op('permute', { axes: [2, 0, 1] }, x),
      expand: g.op('expand', { shape: [2, 3, 4].map(dimConst) }, y),
      concat: g.op('concat', { axis: 1 }, x, z, x),
      concat0: g.op('concat', { axis: 0 }, x, x),
    };
    await check(g.graph(outs));
  });

  it('pad with values and negative widths', async () => {
    const g = new G();
    const x = g.input('x', 'f32', [3, 4]);
    const i = g.input('i', 'i32', [3, 4]);
    const p = (a: number, b: number) => [dimConst(a), dimConst(b)] as const;
    const outs = {
      pad: g.op('pad', { pads: [p(1, 0), p(2, 3)], value: 1.5 }, x),
      crop: g.op('pad', { pads: [p(-1, 2), p(1, -2)], value: 0 }, x),
      zero: g.op('pad', { pads: [p(0, 0), p(0, 0)], value: 0 }, x),
      int: g.op('pad', { pads: [p(0, 1), p(2, 0)], value: -7 }, i),
    };
    await check(g.graph(outs), { intHigh: 9 });
  });

  it('slice with steps and empty results', async () => {
    const g = new G();
    const x = g.input('x', 'f32', [5, 7]);
    const s = (starts: number[], sizes: number[], steps: number[]) =>
      g.op('slice', { starts: starts.map(dimConst), sizes: sizes.map(dimConst), steps }, x);
    const outs = {
      a: s([1, 0], [2, 4], [1, 2]),
      b: s([0, 6], [5, 1], [1, 1]),
      c: s([4, 1], [1, 3], [3, 2]),
      full: s([0, 0], [5, 7], [1, 1]),
      empty: s([0, 3], [0, 2], [2, 1]),
    };
    await check(g.graph(outs));
  });

  it('window with stride and dilation', async () => {
    const g = new G();
    const x = g.input('x', 'f32', [2, 10]);
    const y = g.input('y', 'f32', [2, 7, 8, 3]);
    const w = (v: Node, axes: number[], size: number[], stride: number[], dilation: number[]) =>
      g.op('window', { axes, size, stride, dilation }, v);
    const outs = {
      w1: w(x, [1], [3], [2], [1]),
      w1d: w(x, [1], [2], [1], [3]),
      w2: w(y, [1, 2], [2, 3], [2, 1], [2, 1]),
      w2r: w(y, [2, 1], [3, 2], [1, 2], [1, 1]),
      wlast: w(y, [3], [3], [1], [1]),
    };
    await check(g.graph(outs));
  });
});

// ---------- contractions, indexing, casts, constants ----------

describe('einsum, gather, scatter, cast, constants, topk', () => {
  it('einsum', async () => {
    const g = new G();
    const a = g.input('a', 'f32', [3, 4]);
    const b = g.input('b', 'f32', [4, 5]);
    const x = g.input('x', 'f32', [2, 3, 4]);
    const y = g.input('y', 'f32', [2, 4, 5]);
    const h = g.input('h', 'f16', [3, 4]);
    const i = g.input('i', 'i32', [3, 4]);
    const e = (spec: string, ...xs: Node[]) => g.op('einsum', { spec }, ...xs);
    const outs = {
      mm: e('ij,jk->ik', a, b),
      bmm: e('bij,bjk->bik', x, y),
      outer: e('ij,kl->ijkl', a, b),
      t: e('ij->ji', a),
      sum: e('ij->', a),
      upper: e('bIJ,bJk->bkI', x, y),
      half: e('ij,jk->ik', h, g.op('cast', { dtype: 'f16' }, b)),
      int: e('ij,kj->ik', i, i),
    };
    await check(g.graph(outs), { intHigh: 5 });
  });

  it('gather clamps indices (NumPy take)', async () => {
    const g = new G();
    const x = g.input('x', 'f32', [5, 3]);
    const idx = g.input('idx', 'i32', [2, 4]);
    const l = g.input('l', 'i64', [3]);
    const outs = {
      g0: g.op('gather', { axis: 0 }, x, idx),
      g1: g.op('gather', { axis: 1 }, x, idx),
      g64: g.op('gather', { axis: 1 }, x, l),
      scalar: g.op('gather', { axis: 0 }, x, g.full(2, 'i32', [])),
    };
    const inputs = {
      idx: t('i32', [2, 4], [0, 4, -2, 7, 1, 2, 3, 5]),
      l: t('i64', [3], [-1, 1, 9]),
    };
    await check(g.graph(outs), { inputs });
  });

  it('scatter_add drops out-of-range indices and accumulates duplicates', async () => {
    const g = new G();
    const x = g.input('x', 'f32', [5, 3]);
    const idx = g.input('idx', 'i32', [4]);
    const src = g.input('src', 'f32', [4, 3]);
    const idx2 = g.input('idx2', 'i64', [2, 2]);
    const src2 = g.input('src2', 'f32', [5, 2, 2]);
    const ix = g.input('ix', 'i32', [2, 3]);
    const outs = {
      s0: g.op('scatter_add', { axis: 0 }, x, idx, src),
      s1: g.op('scatter_add', { axis: 1 }, x, idx2, src2),
      int: g.op('scatter_add', { axis: 0 }, ix, g.full(1, 'i32', [2]), g.full(5, 'i32', [2, 3])),
    };
    const inputs = {
      idx: t('i32', [4], [1, 7, 1, -1]),
      idx2: t('i64', [2, 2], [2, 0, 3, 2]),
    };
    await check(g.graph(outs), { inputs, intHigh: 4 });
  });

  it('cast', async () => {
    const g = new G();
    const x = g.input('x', 'f32', [8]);
    const i = g.input('i', 'i32', [8]);
    const l = g.input('l', 'i64', [8]);
    const c = g.input('c', 'bool', [8]);
    const h = g.input('h', 'f16', [8]);
    const sat = g.input('sat', 'f32', [12]);
    const big = g.bin('mul', x, g.full(20, 'f32', [])); // truncation toward zero, in range
    const cast = (dtype: Dtype, v: Node) => g.op('cast', { dtype }, v);
    const outs = {
      f2i: cast('i32', big),
      f2l: cast('i64', big),
      f2i8: cast('i8', g.bin('mul', x, g.full(3, 'f32', []))),
      f2b: cast('bool', g.un('floor', x)),
      i2f: cast('f32', i),
      i2b: cast('bool', i),
      l2i: cast('i32', l),
      b2f: cast('f32', c),
      b2i: cast('i32', c),
      f2h: cast('f16', big),
      h2f: cast('f32', h),
      h2hexp: cast('f32', cast('f16', g.un('exp', cast('f32', h)))),
      // saturation and NaN -> 0 (added Clip/Where in the export; a bare ORT Cast gives INT_MIN)
      s2i: cast('i32', sat),
      s2i8: cast('i8', sat),
      s2l: cast('i64', sat),
      s2b: cast('bool', sat),
      sh2i: cast('i32', cast('f16', sat)),
      sb2i8: cast('i8', cast('bf16', sat)),
    };
    const special = [
      NaN,
      Infinity,
      -Infinity,
      3e10,
      -3e10,
      200.7,
      -200.7,
      2 ** 31,
      -(2 ** 31),
      2 ** 31 - 128,
      1e20,
      -0.5,
    ];
    await check(g.graph(outs), { intHigh: 3, inputs: { sat: t('f32', [12], special) } });
  });

  it('iota and full', async () => {
    const g = new G();
    const x = g.input('x', 'f32', [2, 3]);
    const s = [2, 3].map(dimConst);
    const outs = {
      i1: g.op('iota', { axis: 1, dtype: 'i32', shape: s }),
      i0: g.op('iota', { axis: 0, dtype: 'f32', shape: s }),
      il: g.op('iota', { axis: 0, dtype: 'i64', shape: [dimConst(4)] }),
      i3: g.op('iota', { axis: 1, dtype: 'i32', shape: [2, 4, 3].map(dimConst) }),
      ff: g.bin('add', x, g.full(2.5, 'f32', [2, 3])),
      fi: g.full(7, 'i32', [3]),
      fb: g.full(1, 'bool', [2, 2]),
      fs: g.full(-1, 'f32', []),
      finf: g.full(-Infinity, 'f32', [2]),
      fh: g.full(0.1, 'f16', [2]),
    };
    await check(g.graph(outs));
  });

  it('topk values and indices', async () => {
    const g = new G();
    const x = g.input('x', 'f32', [3, 6]);
    const k = (kk: number, axis: number, output: 'values' | 'indices') => g.op('topk', { k: kk, axis, output }, x);
    const outs = { v: k(2, 1, 'values'), i: k(2, 1, 'indices'), v0: k(3, 0, 'values'), i0: k(1, 0, 'indices') };
    await check(g.graph(outs)); // random normal inputs: no ties
  });
});

// ---------- dtypes ORT's CPU provider lacks kernels for (computed widened) ----------

describe('half precision and i8', () => {
  const pair = (a: number, b: number) => [dimConst(a), dimConst(b)] as const;
  const ops = (g: G, x: Node, y: Node, idx: Node, c: Node) => ({
    un: g.un('neg', g.un('abs', x)),
    add: g.bin('add', x, y),
    mul: g.bin('mul', x, x),
    max: g.bin('max', x, y),
    lt: g.bin('lt', x, y),
    sum: g.op('reduce', { fn: 'sum', axes: [0], keepdim: false }, g.bin('mul', x, x)),
    rmax: g.op('reduce', { fn: 'max', axes: [1], keepdim: true }, x),
    where: g.op('where', {}, c, x, y),
    pad: g.op('pad', { pads: [pair(0, 1), pair(1, 0)], value: 2 }, x),
    expand: g.op('expand', { shape: [2, 3, 4].map(dimConst) }, y),
    topk: g.op('topk', { k: 2, axis: 1, output: 'values' }, x),
    einsum: g.op('einsum', { spec: 'ij,kj->ik' }, x, x),
    scatter: g.op('scatter_add', { axis: 0 }, x, idx, g.op('gather', { axis: 0 }, x, idx)),
    gather: g.op('gather', { axis: 1 }, x, idx),
  });

  for (const dtype of ['bf16', 'f16'] as const)
    it(`${dtype} ops (outputs cast to f32)`, async () => {
      const g = new G();
      const x = g.input('x', 'f32', [3, 4]);
      const y = g.input('y', 'f32', [4]);
      const c = g.input('c', 'bool', [3, 4]);
      const idx = g.input('idx', 'i32', [2]);
      const h = (v: Node) => g.op('cast', { dtype }, v);
      const outs = ops(g, h(x), h(y), idx, c);
      const f32 = Object.fromEntries(
        Object.entries(outs).map(([k, v]) => [k, v.type.dtype === dtype ? g.op('cast', { dtype: 'f32' }, v) : v]),
      );
      f32.exp = g.op('cast', { dtype: 'f32' }, g.un('exp', h(x)));
      f32.full = g.op('cast', { dtype: 'f32' }, g.full(0.1, dtype, [2]));
      f32.iota = g.op('cast', { dtype: 'f32' }, g.op('iota', { axis: 0, dtype, shape: [dimConst(3)] }));
      await check(g.graph(f32), { inputs: { idx: t('i32', [2], [2, 0]) }, rtol: 1e-2 });
    });

  it('i8 ops (wrapping)', async () => {
    const g = new G();
    const x = g.input('x', 'i8', [3, 4]);
    const y = g.input('y', 'i8', [4]);
    const c = g.input('c', 'bool', [3, 4]);
    const idx = g.input('idx', 'i8', [2]);
    const outs = ops(g, x, y, idx, c);
    const nz = g.bin('add', y, g.full(1, 'i8', []));
    const more = {
      div: g.bin('div', x, nz),
      mod: g.bin('mod', g.un('neg', x), nz),
      cast: g.op('cast', { dtype: 'i8' }, x),
    };
    await check(g.graph({ ...outs, ...more }), { inputs: { idx: t('i8', [2], [2, 0]) }, intHigh: 12 });
  });

  it('encodes initializers of every dtype', async () => {
    const g = new G();
    const values: [Dtype, number[]][] = [
      ['f32', [1.5, -2.25, 1e-8]],
      ['f16', [1.5, -2.25, 65504]],
      ['bf16', [1.5, -2.25, 3e38]],
      ['i8', [-128, 0, 127]],
      ['i32', [-(2 ** 31), 0, 2 ** 31 - 1]],
      ['i64', [-(2 ** 53), 7, 2 ** 53]],
      ['bool', [1, 0, 1]],
    ];
    const params = new Map(values.map(([d, v]) => [`p.${d}`, t(d, [3], v)]));
    const outs = Object.fromEntries(
      values.map(([d]) => {
        const p = g.param(`p.${d}`, d, [3]);
        return [d, d === 'bf16' ? g.op('cast', { dtype: 'f32' }, p) : p];
      }),
    );
    const graph = g.graph(outs);
    await check(graph, { params });
    expect((await session(graph, params)).outputNames).toEqual(values.map(([d]) => d));
  });
});

// ---------- symbolic dims, params, errors ----------

describe('export', () => {
  it('keeps symbolic dims dynamic: one model, two sizes', async () => {
    const g = new G();
    const x = g.input('x', 'f32', [B, T, 4]);
    const idx = g.input('idx', 'i32', [3]);
    const one = dimConst(1);
    const zero = dimConst(0);
    const Tm1 = dimSub(T, one);
    const outs = {
      reshape: g.op('reshape', { shape: [dimMul(B, T), dimConst(4)] }, x),
      pad: g.op(
        'pad',
        {
          pads: [
            [zero, zero],
            [one, dimConst(2)],
            [zero, zero],
          ],
          value: 0,
        },
        x,
      ),
      slice: g.op('slice', { starts: [0, 1, 0].map(dimConst), sizes: [B, Tm1, dimConst(4)], steps: [1, 1, 1] }, x),
      sliceBack: g.op(
        'slice',
        { starts: [dimConst(0), Tm1, dimConst(1)], sizes: [B, one, dimConst(2)], steps: [1, 1, 2] },
        x,
      ),
      iota: g.op('iota', { axis: 1, dtype: 'i32', shape: [B, T] }),
      full: g.full(3, 'f32', [T, 2]),
      window: g.op('window', { axes: [1], size: [2], stride: [2], dilation: [1] }, x),
      gather: g.op('gather', { axis: 1 }, x, idx),
      expand: g.op(
        'expand',
        { shape: [B, T, dimConst(4)] },
        g.op('reduce', { fn: 'max', axes: [0, 2], keepdim: true }, x),
      ),
      scatter: g.op('scatter_add', { axis: 1 }, g.full(0, 'f32', [B, T]), idx, g.full(1, 'f32', [B, dimConst(3)])),
      topk: g.op('topk', { k: 2, axis: 1, output: 'indices' }, x),
    };
    const graph = g.graph(outs);
    const sess = await session(graph);
    const meta = sess.inputMetadata.map((m) => [m.name, m.isTensor && m.shape]);
    expect(meta).toEqual([
      ['x', ['B', 'T', 4]],
      ['idx', [3]],
    ]);
    const outMeta = Object.fromEntries(sess.outputMetadata.map((m) => [m.name, m.isTensor && m.shape]));
    expect(outMeta.reshape).toEqual(['B*T', 4]);
    expect(outMeta.slice).toEqual(['B', 'T - 1', 4]);
    const inputs = { idx: t('i32', [3], [0, 4, 9]) };
    await check(graph, { dims: { B: 2, T: 5 }, inputs }, sess);
    await check(graph, { dims: { B: 3, T: 8 }, inputs }, sess);
  });

  it('solves dims from linear input dims (2*T + 1)', async () => {
    const g = new G();
    const T2 = dimMul(dimConst(2), T);
    const y = g.input('y', 'f32', [B, dimSub(T2, dimConst(-1))]);
    const body = g.op('slice', { starts: [0, 1].map(dimConst), sizes: [B, T2], steps: [1, 1] }, y);
    const outs = {
      split: g.op('reshape', { shape: [B, T, dimConst(2)] }, body),
      iota: g.op('iota', { axis: 0, dtype: 'i64', shape: [T] }),
    };
    const graph = g.graph(outs);
    const sess = await session(graph);
    await check(graph, { dims: { B: 2, T: 3 } }, sess);
    await check(graph, { dims: { B: 1, T: 6 } }, sess);
  });

  it('evaluates Laurent, floor and mod dims at run time', async () => {
    const g = new G();
    const N = dimSym('N');
    const H = dimSym('H');
    const x = g.input('x', 'f32', [N]);
    g.input('h', 'f32', [H]);
    const zero = dimConst(0);
    const outs = {
      split: g.op('reshape', { shape: [H, dimDiv(N, H)] }, x), // N/H: a division by a symbol
      padMod: g.op('pad', { pads: [[dimMod(N, dimConst(4)), dimSub(H, dimConst(1))]], value: -1 }, x),
      iota: g.op('iota', { axis: 0, dtype: 'i32', shape: [dimFloorDiv(N, H)] }),
      frac: g.op('iota', { axis: 0, dtype: 'i32', shape: [dimDiv(dimAdd(N, H), dimConst(2))] }), // (N + H)/2
      win: g.op('window', { axes: [0], size: [2], stride: [3], dilation: [1] }, x),
      tail: g.op('slice', { starts: [dimSub(N, H)], sizes: [H], steps: [1] }, x),
      crop: g.op('pad', { pads: [[zero, dimNeg(H)]], value: 0 }, x),
      // `dim`: the run-time value of a dim as a scalar (the mean's divisor when an axis is symbolic)
      mean: g.op(
        'binary',
        { fn: 'div' },
        g.op('reduce', { fn: 'sum', axes: [0], keepdim: false }, x),
        g.op('dim', { value: N, dtype: 'f32' }),
      ),
      count: g.op('dim', { value: dimMul(N, H), dtype: 'i32' }),
    };
    const graph = g.graph(outs);
    const sess = await session(graph);
    await check(graph, { dims: { N: 6, H: 2 } }, sess);
    await check(graph, { dims: { N: 15, H: 3 } }, sess);
  });

  it('exports params as initializers named by path', async () => {
    const g = new G();
    const x = g.input('x', 'f32', [2, 4]);
    const w = g.param('lin.weight', 'f32', [4, 3]);
    const b = g.param('lin.bias', 'f32', [3]);
    const y = g.bin('add', g.op('einsum', { spec: 'ij,jk->ik' }, x, w), b);
    const graph = g.graph({ y, w });
    const params = new Map(
      [w, b].map((n) => {
        const p = (n as NodeOf<'param'>).args;
        return [p.path, initParam(p, new Map(), 7)] as const;
      }),
    );
    const sess = await session(graph, params);
    expect(sess.inputNames).toEqual(['x']);
    expect(sess.outputNames).toEqual(['y', 'w']);
    await check(graph, { params }, sess);
  });

  it('returns inputs under their own and other names', async () => {
    const g = new G();
    const x = g.input('x', 'f32', [3]);
    await check(g.graph({ x, copy: x, twice: g.bin('add', x, x) }));
  });

  it('gives identical bytes for the same graph', () => {
    const build = () => {
      const g = new G();
      const x = g.input('x', 'f32', [B, T]);
      const w = g.op('window', { axes: [1], size: [3], stride: [2], dilation: [1] }, x);
      return g.graph({ w, r: g.op('reshape', { shape: [dimMul(B, T)] }, x) });
    };
    const a = exportOnnx(build(), new Map(), { producerVersion: '1.2.3' });
    const b = exportOnnx(build(), new Map(), { producerVersion: '1.2.3' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).includes(Buffer.from('1.2.3'))).toBe(true);
  });

  it('refuses random, missing or mis-shaped params, i4 and unbindable dims', () => {
    const g = new G();
    const x = g.input('x', 'f32', [4]);
    const r = g.op('random', { seed: 0, key: 'drop', shape: [dimConst(4)] });
    const err = (f: () => unknown): Error => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ExportError);
        return e as Error;
      }
      throw new Error('no ExportError');
    };
    const msg = err(() => exportOnnx(g.graph({ y: g.bin('mul', x, r) }), new Map())).message;
    expect(msg).toContain("random (node %1) in block 'blk.sub'");
    expect(msg).toContain('random numbers (dropout in training) cannot be exported; export an inference function');
    // Only what the outputs need is exported: a random node feeding nothing is fine.
    expect(exportOnnx(g.graph({ x }), new Map()).length).toBeGreaterThan(0);

    const w = g.param('enc.w', 'f32', [4]);
    const pg = g.graph({ y: g.bin('mul', x, w) });
    expect(() => exportOnnx(pg, new Map())).toThrow(/parameter 'enc\.w' has no value/);
    expect(() => exportOnnx(pg, new Map([['enc.w', t('f32', [5])]]))).toThrow(
      /'enc\.w' has shape \[5\], expected \[4\]/,
    );

    const q = g.input('q', 'i4', [4]);
    expect(() => exportOnnx(g.graph({ q }), new Map())).toThrow(ExportError);
    expect(() => exportOnnx(g.graph({ q }), new Map())).toThrow(/i4/);

    const h = new G();
    const hx = h.input('x', 'f32', [dimMul(B, T)]);
    const io = h.op('iota', { axis: 0, dtype: 'i32', shape: [T] });
    expect(() => exportOnnx(h.graph({ hx, io }), new Map())).toThrow(/dim T is not the size of any input axis/);
  });
});
