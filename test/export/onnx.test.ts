// ONNX export checked against onnxruntime-node: every primitive (and fn variant) in a micro
// graph, exported, run in ORT and compared with the reference interpreter (f32 within rtol
// 1e-4 / atol 1e-5, ints and bools exactly).
//
// Inputs avoid the differences documented in src/export/onnx.ts: no NaN into
// maximum/minimum (ORT 1.30 propagates it, ONNX does not promise to), no ties or NaN in
// topk, no integer division by zero. Float -> int casts of NaN/Inf/out-of-range values are
// tested: the export adds the saturation fmc defines.
//
// Graphs are built with the real Builder (src/ir/build.ts); op nodes carry the provenance
// 'blk.sub' (`blk`), params their own path (`param`), inputs none.

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exportOnnx, ExportError } from '../../src/export/onnx.js';
import { Builder, type DimLike } from '../../src/ir/build.js';
import { dimAdd, dimConst, dimDiv, dimFloorDiv, dimMod, dimMul, dimNeg, dimSub, dimSym } from '../../src/ir/dims.js';
import type { Dtype } from '../../src/ir/dtype.js';
import type { Graph, Node, NodeOf } from '../../src/ir/graph.js';
import { initParam, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { everyScan } from '../ir/scan-cases.js';
import { bitsToF16, f16Bits, type HostTensor, hostTensor } from '../../src/ir/value.js';

// ---------- graph building ----------

const B = dimSym('B');
const T = dimSym('T');

/** Runs `f` with the provenance 'blk.sub': the nodes it builds are reported in block 'blk.sub'. */
const blk = <R>(g: Builder, f: () => R): R => g.within('blk.sub', '', f);

/** A param (normal init) whose provenance is its own path. */
const param = (g: Builder, path: string, dtype: Dtype, shape: readonly DimLike[]): NodeOf<'param'> =>
  g.within(path, '', () => g.param(path, dtype, shape));

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
    const g = new Builder();
    const x = g.input('x', 'f32', [3, 4]);
    const outs = blk(g, () => {
      const ax = g.unary('abs', x); // log/sqrt/rsqrt of |x|
      const o: Record<string, Node> = {};
      for (const fn of ['neg', 'exp', 'sin', 'cos', 'tanh', 'erf', 'abs', 'recip', 'floor'] as const)
        o[fn] = g.unary(fn, x);
      for (const fn of ['log', 'sqrt', 'rsqrt'] as const) o[fn] = g.unary(fn, ax);
      return o;
    });
    await check(g.graph('forward', outs));
  });

  it('unary on ints and bool', async () => {
    const g = new Builder();
    const i = g.input('i', 'i32', [5]);
    const l = g.input('l', 'i64', [5]);
    const c = g.input('c', 'bool', [5]);
    const outs = blk(g, () => {
      const i5 = g.sub(i, g.full(5, 'i32', [5]));
      const l5 = g.sub(l, g.full(5, 'i64', [5]));
      return { ni: g.neg(i5), ai: g.unary('abs', i5), nl: g.neg(l5), al: g.unary('abs', l5), nc: g.not(c) };
    });
    await check(g.graph('forward', outs), { intHigh: 10 });
  });

  it('binary arithmetic on f32 with broadcasting', async () => {
    const g = new Builder();
    const a = g.input('a', 'f32', [2, 3]);
    const b = g.input('b', 'f32', [3]);
    const c = g.input('c', 'f32', [2, 1]);
    const outs = blk(g, () => {
      const o: Record<string, Node> = {};
      for (const fn of ['add', 'sub', 'mul', 'div', 'mod', 'max', 'min'] as const) {
        o[fn] = g.binary(fn, a, b);
        o[`${fn}_col`] = g.binary(fn, c, a);
      }
      o.pow = g.pow(g.unary('abs', a), b);
      return o;
    });
    await check(g.graph('forward', outs));
  });

  it('binary arithmetic on i32 and i64 (C division and remainder)', async () => {
    for (const dtype of ['i32', 'i64'] as const) {
      const g = new Builder();
      const a = g.input('a', dtype, [4, 5]);
      const b = g.input('b', dtype, [5]);
      const outs = blk(g, () => {
        const neg = g.sub(a, 10); // dividends of both signs
        const nz = g.add(b, 1); // divisors in [1, 7]
        const nzNeg = g.sub(0, nz);
        const o: Record<string, Node> = {};
        for (const fn of ['add', 'sub', 'mul', 'max', 'min'] as const) o[fn] = g.binary(fn, neg, b);
        o.div = g.div(neg, nz);
        o.mod = g.binary('mod', neg, nz);
        o.divn = g.div(neg, nzNeg);
        o.modn = g.binary('mod', neg, nzNeg);
        o.pow = g.pow(g.min(b, 3), g.min(a, 4));
        return o;
      });
      await check(g.graph('forward', outs), { intHigh: 7, seed: dtype === 'i32' ? 1 : 2 });
    }
  });

  it('compares and logic', async () => {
    const g = new Builder();
    const a = g.input('a', 'f32', [3, 4]);
    const b = g.input('b', 'f32', [4]);
    const i = g.input('i', 'i32', [3, 4]);
    const j = g.input('j', 'i32', [3, 1]);
    const p = g.input('p', 'bool', [3, 4]);
    const q = g.input('q', 'bool', [4]);
    const outs = blk(g, () => {
      const o: Record<string, Node> = {};
      for (const fn of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) {
        o[`f_${fn}`] = g.binary(fn, a, b);
        o[`i_${fn}`] = g.binary(fn, i, j);
      }
      o.f_eq_self = g.eq(a, g.expand(b, [3, 4]));
      o.b_eq = g.eq(p, q);
      o.b_ne = g.ne(p, q);
      o.and = g.and(p, q);
      o.or = g.or(p, q);
      return o;
    });
    await check(g.graph('forward', outs), { intHigh: 3 });
  });

  it('where', async () => {
    const g = new Builder();
    const c = g.input('c', 'bool', [2, 3]);
    const a = g.input('a', 'f32', [2, 3]);
    const b = g.input('b', 'f32', [3]);
    const i = g.input('i', 'i32', [1, 3]);
    const outs = blk(g, () => ({ f: g.where(c, a, b), wi: g.where(c, i, -1) }));
    await check(g.graph('forward', outs), { intHigh: 100 });
  });
});

// ---------- reductions, views ----------

describe('reductions and views', () => {
  it('reduce sum and max', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [2, 3, 4]);
    const i = g.input('i', 'i32', [2, 3]);
    // node(), not sum/amax: those return their input for no axes (`none`)
    const r = (fn: 'sum' | 'max', axes: number[], keepdim: boolean, y: Node = x) =>
      g.node('reduce', { fn, axes, keepdim }, [y]);
    const outs = blk(g, () => ({
      s1: r('sum', [1], false),
      s02k: r('sum', [0, 2], true),
      sall: r('sum', [0, 1, 2], false),
      m2: r('max', [2], false),
      m01k: r('max', [0, 1], true),
      none: r('sum', [], false),
      si: r('sum', [1], false, i),
      mi: r('max', [0], true, i),
    }));
    await check(g.graph('forward', outs), { intHigh: 50 });
  });

  it('reshape, permute, expand, concat', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [2, 3, 4]);
    const y = g.input('y', 'f32', [3, 1]);
    const z = g.input('z', 'f32', [2, 1, 4]);
    const outs = blk(g, () => ({
      reshape: g.reshape(x, [6, 4]),
      flat: g.reshape(x, [24]),
      permute: g.permute(x, [2, 0, 1]),
      expand: g.expand(y, [2, 3, 4]),
      concat: g.concat([x, z, x], 1),
      concat0: g.concat([x, x], 0),
    }));
    await check(g.graph('forward', outs));
  });

  it('pad with values and negative widths', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [3, 4]);
    const i = g.input('i', 'i32', [3, 4]);
    const p = (lo: number, hi: number) => [lo, hi] as const;
    const outs = blk(g, () => ({
      pad: g.pad(x, [p(1, 0), p(2, 3)], 1.5),
      crop: g.pad(x, [p(-1, 2), p(1, -2)]),
      zero: g.pad(x, [p(0, 0), p(0, 0)]),
      int: g.pad(i, [p(0, 1), p(2, 0)], -7),
    }));
    await check(g.graph('forward', outs), { intHigh: 9 });
  });

  it('slice with steps and empty results', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [5, 7]);
    const s = (starts: number[], sizes: number[], steps: number[]) => g.slice(x, starts, sizes, steps);
    const outs = blk(g, () => ({
      a: s([1, 0], [2, 4], [1, 2]),
      b: s([0, 6], [5, 1], [1, 1]),
      c: s([4, 1], [1, 3], [3, 2]),
      full: s([0, 0], [5, 7], [1, 1]),
      empty: s([0, 3], [0, 2], [2, 1]),
    }));
    await check(g.graph('forward', outs));
  });

  it('window with stride and dilation', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [2, 10]);
    const y = g.input('y', 'f32', [2, 7, 8, 3]);
    const outs = blk(g, () => ({
      w1: g.window(x, [1], [3], [2], [1]),
      w1d: g.window(x, [1], [2], [1], [3]),
      w2: g.window(y, [1, 2], [2, 3], [2, 1], [2, 1]),
      w2r: g.window(y, [2, 1], [3, 2], [1, 2], [1, 1]),
      wlast: g.window(y, [3], [3], [1], [1]),
    }));
    await check(g.graph('forward', outs));
  });
});

// ---------- contractions, indexing, casts, constants ----------

describe('einsum, gather, scatter, cast, constants, topk', () => {
  it('einsum', async () => {
    const g = new Builder();
    const a = g.input('a', 'f32', [3, 4]);
    const b = g.input('b', 'f32', [4, 5]);
    const x = g.input('x', 'f32', [2, 3, 4]);
    const y = g.input('y', 'f32', [2, 4, 5]);
    const h = g.input('h', 'f16', [3, 4]);
    const i = g.input('i', 'i32', [3, 4]);
    const outs = blk(g, () => ({
      mm: g.einsum('ij,jk->ik', a, b),
      bmm: g.einsum('bij,bjk->bik', x, y),
      outer: g.einsum('ij,kl->ijkl', a, b),
      t: g.einsum('ij->ji', a),
      sum: g.einsum('ij->', a),
      upper: g.einsum('bIJ,bJk->bkI', x, y),
      half: g.einsum('ij,jk->ik', h, g.cast(b, 'f16')),
      int: g.einsum('ij,kj->ik', i, i),
    }));
    await check(g.graph('forward', outs), { intHigh: 5 });
  });

  it('gather clamps indices (NumPy take)', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [5, 3]);
    const idx = g.input('idx', 'i32', [2, 4]);
    const l = g.input('l', 'i64', [3]);
    const outs = blk(g, () => ({
      g0: g.gather(x, idx, 0),
      g1: g.gather(x, idx, 1),
      g64: g.gather(x, l, 1),
      scalar: g.gather(x, g.full(2, 'i32'), 0),
    }));
    const inputs = {
      idx: t('i32', [2, 4], [0, 4, -2, 7, 1, 2, 3, 5]),
      l: t('i64', [3], [-1, 1, 9]),
    };
    await check(g.graph('forward', outs), { inputs });
  });

  it('scatter_add drops out-of-range indices and accumulates duplicates', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [5, 3]);
    const idx = g.input('idx', 'i32', [4]);
    const src = g.input('src', 'f32', [4, 3]);
    const idx2 = g.input('idx2', 'i64', [2, 2]);
    const src2 = g.input('src2', 'f32', [5, 2, 2]);
    const ix = g.input('ix', 'i32', [2, 3]);
    const outs = blk(g, () => ({
      s0: g.scatterAdd(x, idx, src, 0),
      s1: g.scatterAdd(x, idx2, src2, 1),
      int: g.scatterAdd(ix, g.full(1, 'i32', [2]), g.full(5, 'i32', [2, 3]), 0),
    }));
    const inputs = {
      idx: t('i32', [4], [1, 7, 1, -1]),
      idx2: t('i64', [2, 2], [2, 0, 3, 2]),
    };
    await check(g.graph('forward', outs), { inputs, intHigh: 4 });
  });

  it('cast', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [8]);
    const i = g.input('i', 'i32', [8]);
    const l = g.input('l', 'i64', [8]);
    const c = g.input('c', 'bool', [8]);
    const h = g.input('h', 'f16', [8]);
    const sat = g.input('sat', 'f32', [12]);
    const cast = (dtype: Dtype, v: Node) => g.cast(v, dtype); // every cast here changes the dtype
    const outs = blk(g, () => {
      const big = g.mul(x, 20); // truncation toward zero, in range
      return {
        f2i: cast('i32', big),
        f2l: cast('i64', big),
        f2i8: cast('i8', g.mul(x, 3)),
        f2b: cast('bool', g.unary('floor', x)),
        i2f: cast('f32', i),
        i2b: cast('bool', i),
        l2i: cast('i32', l),
        b2f: cast('f32', c),
        b2i: cast('i32', c),
        f2h: cast('f16', big),
        h2f: cast('f32', h),
        h2hexp: cast('f32', cast('f16', g.exp(cast('f32', h)))),
        // saturation and NaN -> 0 (added Clip/Where in the export; a bare ORT Cast gives INT_MIN)
        s2i: cast('i32', sat),
        s2i8: cast('i8', sat),
        s2l: cast('i64', sat),
        s2b: cast('bool', sat),
        sh2i: cast('i32', cast('f16', sat)),
        sb2i8: cast('i8', cast('bf16', sat)),
      };
    });
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
    await check(g.graph('forward', outs), { intHigh: 3, inputs: { sat: t('f32', [12], special) } });
  });

  it('iota and full', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [2, 3]);
    const outs = blk(g, () => ({
      i1: g.iota(1, 'i32', [2, 3]),
      i0: g.iota(0, 'f32', [2, 3]),
      il: g.iota(0, 'i64', [4]),
      i3: g.iota(1, 'i32', [2, 4, 3]),
      ff: g.add(x, g.full(2.5, 'f32', [2, 3])),
      fi: g.full(7, 'i32', [3]),
      fb: g.full(1, 'bool', [2, 2]),
      fs: g.full(-1, 'f32'),
      finf: g.full(-Infinity, 'f32', [2]),
      fh: g.full(0.1, 'f16', [2]),
    }));
    await check(g.graph('forward', outs));
  });

  it('topk values and indices', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [3, 6]);
    const k = (kk: number, axis: number, output: 'values' | 'indices') => g.topk(x, kk, axis, output);
    const outs = blk(g, () => ({
      v: k(2, 1, 'values'),
      i: k(2, 1, 'indices'),
      v0: k(3, 0, 'values'),
      i0: k(1, 0, 'indices'),
    }));
    await check(g.graph('forward', outs)); // random normal inputs: no ties
  });

  it('cumsum (CumSum) along every axis, each direction, f32, i32 and i64', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [B, 3, 4]);
    const xi = g.input('xi', 'i32', [3, 4]);
    const xl = g.input('xl', 'i64', [4, 2]);
    const outs = blk(g, () => {
      const o = everyScan(g, x, 'c');
      o.i = g.cumsum(xi, 1, false, true);
      o.l = g.cumsum(xl, 0, true);
      return o;
    });
    await check(g.graph('forward', outs), { dims: { B: 2 }, intHigh: 1000 });
  });
});

// ---------- dtypes ORT's CPU provider lacks kernels for (computed widened) ----------

describe('half precision and i8', () => {
  const pair = (lo: number, hi: number) => [lo, hi] as const;
  const ops = (g: Builder, x: Node, y: Node, idx: Node, c: Node) => ({
    un: g.neg(g.unary('abs', x)),
    add: g.add(x, y),
    mul: g.mul(x, x),
    max: g.max(x, y),
    lt: g.lt(x, y),
    sum: g.sum(g.mul(x, x), [0]),
    rmax: g.amax(x, [1], true),
    where: g.where(c, x, y),
    pad: g.pad(x, [pair(0, 1), pair(1, 0)], 2),
    expand: g.expand(y, [2, 3, 4]),
    topk: g.topk(x, 2, 1, 'values'),
    einsum: g.einsum('ij,kj->ik', x, x),
    scatter: g.scatterAdd(x, idx, g.gather(x, idx, 0), 0),
    gather: g.gather(x, idx, 1),
    cumsum: g.cumsum(x, 0, true),
  });

  for (const dtype of ['bf16', 'f16'] as const)
    it(`${dtype} ops (outputs cast to f32)`, async () => {
      const g = new Builder();
      const x = g.input('x', 'f32', [3, 4]);
      const y = g.input('y', 'f32', [4]);
      const c = g.input('c', 'bool', [3, 4]);
      const idx = g.input('idx', 'i32', [2]);
      const h = (v: Node) => g.cast(v, dtype);
      const f32 = blk(g, () => {
        const outs = ops(g, h(x), h(y), idx, c);
        const o: Record<string, Node> = Object.fromEntries(
          Object.entries(outs).map(([k, v]) => [k, v.type.dtype === dtype ? g.cast(v, 'f32') : v]),
        );
        o.exp = g.cast(g.exp(h(x)), 'f32');
        o.full = g.cast(g.full(0.1, dtype, [2]), 'f32');
        o.iota = g.cast(g.iota(0, dtype, [3]), 'f32');
        return o;
      });
      await check(g.graph('forward', f32), { inputs: { idx: t('i32', [2], [2, 0]) }, rtol: 1e-2 });
    });

  it('i8 ops (wrapping)', async () => {
    const g = new Builder();
    const x = g.input('x', 'i8', [3, 4]);
    const y = g.input('y', 'i8', [4]);
    const c = g.input('c', 'bool', [3, 4]);
    const idx = g.input('idx', 'i8', [2]);
    const outs = blk(g, () => {
      const o = ops(g, x, y, idx, c);
      const nz = g.add(y, 1);
      return {
        ...o,
        div: g.div(x, nz),
        mod: g.binary('mod', g.neg(x), nz),
        cast: g.node('cast', { dtype: 'i8' }, [x]), // an i8 -> i8 cast: g.cast would return x
      };
    });
    await check(g.graph('forward', outs), { inputs: { idx: t('i8', [2], [2, 0]) }, intHigh: 12 });
  });

  it('encodes initializers of every dtype', async () => {
    const g = new Builder();
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
        const p = param(g, `p.${d}`, d, [3]);
        return [d, d === 'bf16' ? blk(g, () => g.cast(p, 'f32')) : p];
      }),
    );
    const graph = g.graph('forward', outs);
    await check(graph, { params });
    expect((await session(graph, params)).outputNames).toEqual(values.map(([d]) => d));
  });
});

// ---------- symbolic dims, params, errors ----------

describe('export', () => {
  it('keeps symbolic dims dynamic: one model, two sizes', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [B, T, 4]);
    const idx = g.input('idx', 'i32', [3]);
    const Tm1 = dimSub(T, dimConst(1));
    const pair = (lo: number, hi: number) => [lo, hi] as const;
    const outs = blk(g, () => ({
      reshape: g.reshape(x, [dimMul(B, T), 4]),
      pad: g.pad(x, [pair(0, 0), pair(1, 2), pair(0, 0)]),
      slice: g.slice(x, [0, 1, 0], [B, Tm1, 4], [1, 1, 1]),
      sliceBack: g.slice(x, [0, Tm1, 1], [B, 1, 2], [1, 1, 2]),
      iota: g.iota(1, 'i32', [B, T]),
      full: g.full(3, 'f32', [T, 2]),
      window: g.window(x, [1], [2], [2], [1]),
      gather: g.gather(x, idx, 1),
      expand: g.expand(g.amax(x, [0, 2], true), [B, T, 4]),
      scatter: g.scatterAdd(g.full(0, 'f32', [B, T]), idx, g.full(1, 'f32', [B, 3]), 1),
      topk: g.topk(x, 2, 1, 'indices'),
    }));
    const graph = g.graph('forward', outs);
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
    const g = new Builder();
    const T2 = dimMul(dimConst(2), T);
    const y = g.input('y', 'f32', [B, dimSub(T2, dimConst(-1))]);
    const outs = blk(g, () => {
      const body = g.slice(y, [0, 1], [B, T2], [1, 1]);
      return { split: g.reshape(body, [B, T, 2]), iota: g.iota(0, 'i64', [T]) };
    });
    const graph = g.graph('forward', outs);
    const sess = await session(graph);
    await check(graph, { dims: { B: 2, T: 3 } }, sess);
    await check(graph, { dims: { B: 1, T: 6 } }, sess);
  });

  it('evaluates Laurent, floor and mod dims at run time', async () => {
    const g = new Builder();
    const N = dimSym('N');
    const H = dimSym('H');
    const x = g.input('x', 'f32', [N]);
    g.input('h', 'f32', [H]);
    const outs = blk(g, () => ({
      split: g.reshape(x, [H, dimDiv(N, H)]), // N/H: a division by a symbol
      padMod: g.pad(x, [[dimMod(N, dimConst(4)), dimSub(H, dimConst(1))]], -1),
      iota: g.iota(0, 'i32', [dimFloorDiv(N, H)]),
      frac: g.iota(0, 'i32', [dimDiv(dimAdd(N, H), dimConst(2))]), // (N + H)/2
      win: g.window(x, [0], [2], [3], [1]),
      tail: g.slice(x, [dimSub(N, H)], [H], [1]),
      crop: g.pad(x, [[0, dimNeg(H)]]),
      // `dim`: the run-time value of a dim as a scalar (the mean's divisor when an axis is symbolic)
      mean: g.div(g.sum(x, [0]), g.dim(N, 'f32')),
      count: g.dim(dimMul(N, H), 'i32'),
    }));
    const graph = g.graph('forward', outs);
    const sess = await session(graph);
    await check(graph, { dims: { N: 6, H: 2 } }, sess);
    await check(graph, { dims: { N: 15, H: 3 } }, sess);
  });

  it('exports params as initializers named by path', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [2, 4]);
    const w = param(g, 'lin.weight', 'f32', [4, 3]);
    const b = param(g, 'lin.bias', 'f32', [3]);
    const y = blk(g, () => g.add(g.einsum('ij,jk->ik', x, w), b));
    const graph = g.graph('forward', { y, w });
    const params = new Map([w, b].map((n) => [n.args.path, initParam(n.args, new Map(), 7)] as const));
    const sess = await session(graph, params);
    expect(sess.inputNames).toEqual(['x']);
    expect(sess.outputNames).toEqual(['y', 'w']);
    await check(graph, { params }, sess);
  });

  it('returns inputs under their own and other names', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [3]);
    await check(g.graph('forward', { x, copy: x, twice: blk(g, () => g.add(x, x)) }));
  });

  it('gives identical bytes for the same graph', () => {
    const build = () => {
      const g = new Builder();
      const x = g.input('x', 'f32', [B, T]);
      const outs = blk(g, () => ({ w: g.window(x, [1], [3], [2], [1]), r: g.reshape(x, [dimMul(B, T)]) }));
      return g.graph('forward', outs);
    };
    const a = exportOnnx(build(), new Map(), { producerVersion: '1.2.3' });
    const b = exportOnnx(build(), new Map(), { producerVersion: '1.2.3' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).includes(Buffer.from('1.2.3'))).toBe(true);
  });

  it('refuses random, missing or mis-shaped params, i4 and unbindable dims', () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [4]);
    const r = blk(g, () => g.random(0, 'drop', [4]));
    const err = (f: () => unknown): Error => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ExportError);
        return e as Error;
      }
      throw new Error('no ExportError');
    };
    const msg = err(() => exportOnnx(g.graph('forward', { y: blk(g, () => g.mul(x, r)) }), new Map())).message;
    expect(msg).toContain("random (node %1) in block 'blk.sub'");
    expect(msg).toContain('random numbers (dropout in training) cannot be exported; export an inference function');
    // Only what the outputs need is exported: a random node feeding nothing is fine.
    expect(exportOnnx(g.graph('forward', { x }), new Map()).length).toBeGreaterThan(0);

    const w = param(g, 'enc.w', 'f32', [4]);
    const pg = g.graph('forward', { y: blk(g, () => g.mul(x, w)) });
    expect(() => exportOnnx(pg, new Map())).toThrow(/parameter 'enc\.w' has no value/);
    expect(() => exportOnnx(pg, new Map([['enc.w', t('f32', [5])]]))).toThrow(
      /'enc\.w' has shape \[5\], expected \[4\]/,
    );

    const q = g.input('q', 'i4', [4]);
    expect(() => exportOnnx(g.graph('forward', { q }), new Map())).toThrow(ExportError);
    expect(() => exportOnnx(g.graph('forward', { q }), new Map())).toThrow(/i4/);

    const h = new Builder();
    const hx = h.input('x', 'f32', [dimMul(B, T)]);
    const io = blk(h, () => h.iota(0, 'i32', [T]));
    expect(() => exportOnnx(h.graph('forward', { hx, io }), new Map())).toThrow(
      /dim T is not the size of any input axis/,
    );
  });
});
