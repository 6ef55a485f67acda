// The C backend's per-primitive cases, shared by the C test (primitives.test.ts) and the WGSL
// test (test/wgsl/primitives.test.ts): every primitive op and every unary/binary fn against
// the reference interpreter: f32 and the integer, bool, f16, bf16 and i8 variants, with
// broadcasting, reductions (keepdim, several axes, a middle axis, integers, empty axes),
// size-0 dims, NaN/Inf, cropping pads, strided slices, dilated windows, clamped gathers,
// dropped and repeated scatter indices, topk ties and NaN, saturating and wrapping casts,
// Philox random bit for bit, iota, dim, full, einsum (GEMM-shaped and not). `uncovered()`
// names the ops and fns of the IR no case uses.

import { Builder } from '../../src/ir/build.js';
import { dimAdd, dimConst, dimMul, dimSym } from '../../src/ir/dims.js';
import type { Dtype } from '../../src/ir/dtype.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import { ARITH_FNS, type BinaryFn, COMPARE_FNS, OP_NAMES, UNARY_FNS } from '../../src/ir/ops.js';
import { type LowerOptions } from '../../src/kernels/lower.js';
import { SCHEDULES } from '../../src/kernels/schedule.js';
import { everyScan } from '../ir/scan-cases.js';
import { type RunSpec, type Tol, ht } from './c-harness.js';

export interface Case {
  readonly name: string;
  readonly graph: Graph;
  readonly runs: readonly RunSpec[];
  readonly lower?: LowerOptions;
}

export const cases: Case[] = [];
const covered = new Set<string>();
const EXACT: Tol = { rtol: 0, atol: 0 };

function add(name: string, graph: Graph, ...runs: RunSpec[]): void {
  addLowered(name, graph, undefined, ...runs);
}
function addLowered(name: string, graph: Graph, lower: LowerOptions | undefined, ...runs: RunSpec[]): void {
  if (cases.some((c) => c.name === name)) throw new Error(`duplicate case ${name}`);
  cases.push({ name, graph, runs: runs.length > 0 ? runs : [{}], lower });
}

// Special float values: signed zeros, subnormal, huge, NaN and infinities.
const SPECIAL = [0, -0, 1, -1, 0.5, -2.5, 3.75, 100, -100, 1e-30, 1e30, NaN, Infinity, -Infinity, 1.4e-45, 88.5, -104];

// ---------- unary ----------

const FLOAT_UNARY = UNARY_FNS.filter((f) => f !== 'not');
for (const dtype of ['f32', 'f16', 'bf16'] as const) {
  for (const fn of FLOAT_UNARY) {
    const g = new Builder();
    const x = g.input('x', dtype, [SPECIAL.length]);
    add(`unary ${fn} ${dtype}`, g.graph('forward', { y: g.unary(fn, x) }), {
      inputs: { x: ht(dtype, [SPECIAL.length], SPECIAL) },
    });
    covered.add(`unary:${fn}`);
  }
}
const INTS: Record<string, number[]> = {
  i8: [0, 1, -1, 127, -128, 5, -7, 100],
  i4: [0, 1, -1, 7, -8, 3, -5, 6],
  i32: [0, 1, -1, 2147483647, -2147483648, 12345, -99, 7],
  // Not -2^63: the interpreter's i64 neg/abs run in float64 and give +2^63 where C wraps.
  i64: [0, 1, -1, 2 ** 62, -(2 ** 62), 2 ** 53, -12345678901, 9],
};
for (const [dtype, vals] of Object.entries(INTS) as [Dtype, number[]][]) {
  for (const fn of ['neg', 'abs'] as const) {
    const g = new Builder();
    const x = g.input('x', dtype, [vals.length]);
    add(`unary ${fn} ${dtype}`, g.graph('forward', { y: g.unary(fn, x) }), {
      inputs: { x: ht(dtype, [vals.length], vals) },
    });
  }
}
{
  const g = new Builder();
  const x = g.input('x', 'bool', [2, 3]);
  add('unary not bool', g.graph('forward', { y: g.not(x) }));
  covered.add('unary:not');
}

// ---------- binary ----------

// Pairs as two rank-1 inputs (all fns on specials against specials: 17 x 17 through broadcasting).
const FLOAT_BINARY: BinaryFn[] = [...ARITH_FNS, ...COMPARE_FNS];
for (const dtype of ['f32', 'f16', 'bf16'] as const) {
  for (const fn of FLOAT_BINARY) {
    const g = new Builder();
    const a = g.input('a', dtype, [SPECIAL.length, 1]);
    const b = g.input('b', dtype, [SPECIAL.length]);
    add(`binary ${fn} ${dtype}`, g.graph('forward', { y: g.binary(fn, a, b) }), {
      inputs: { a: ht(dtype, [SPECIAL.length, 1], SPECIAL), b: ht(dtype, [SPECIAL.length], SPECIAL) },
      tol: fn === 'pow' ? { rtol: 2e-4, atol: 1e-5 } : undefined,
    });
    covered.add(`binary:${fn}`);
  }
}
const INT_PAIRS: Record<string, number[]> = {
  i8: [0, 1, -1, 2, -3, 7, 100, 127, -128, 13],
  i4: [0, 1, -1, 2, -3, 7, -8, 5],
  i32: [0, 1, -1, 2, -3, 7, 65536, 2147483647, -2147483648, 31, -31],
  i64: [0, 1, -1, 2, -3, 7, 2 ** 32, 2 ** 62, -(2 ** 63), 63, 3e15],
};
for (const [dtype, vals] of Object.entries(INT_PAIRS) as [Dtype, number[]][]) {
  for (const fn of [...ARITH_FNS, ...COMPARE_FNS]) {
    const g = new Builder();
    const a = g.input('a', dtype, [vals.length, 1]);
    const b = g.input('b', dtype, [vals.length]);
    add(`binary ${fn} ${dtype}`, g.graph('forward', { y: g.binary(fn, a, b) }), {
      inputs: { a: ht(dtype, [vals.length, 1], vals), b: ht(dtype, [vals.length], vals) },
    });
  }
}
for (const fn of ['and', 'or', 'eq', 'ne'] as const) {
  covered.add(`binary:${fn}`);
  const g = new Builder();
  const a = g.input('a', 'bool', [2, 1]);
  const b = g.input('b', 'bool', [2]);
  add(`binary ${fn} bool`, g.graph('forward', { y: g.binary(fn, a, b) }), {
    inputs: { a: ht('bool', [2, 1], [0, 1]), b: ht('bool', [2], [0, 1]) },
  });
}
{
  // Broadcasting: [3,1] with [1,4]; [4] with [2,3,4]; a scalar with [2,3]; a size-1 middle dim.
  const g = new Builder();
  const a = g.input('a', 'f32', [3, 1]);
  const b = g.input('b', 'f32', [1, 4]);
  const c = g.input('c', 'f32', [4]);
  const d = g.input('d', 'f32', [2, 3, 4]);
  const s = g.input('s', 'f32', []);
  const m = g.input('m', 'f32', [2, 1, 4]);
  add(
    'binary broadcasting',
    g.graph('forward', {
      ab: g.sub(a, b),
      cd: g.div(c, d),
      sd: g.mul(s, d),
      ds: g.pow(g.unary('abs', d), s),
      md: g.max(m, d),
      chain: g.add(g.mul(a, b), g.sub(d, m)),
    }),
  );
}

// ---------- where ----------
{
  const g = new Builder();
  const c = g.input('c', 'bool', [3, 1]);
  const a = g.input('a', 'f32', [4]);
  const b = g.input('b', 'f32', [3, 4]);
  const i = g.input('i', 'i32', [1, 4]);
  const j = g.input('j', 'i32', []);
  const nan = g.full(NaN, 'f32', []);
  add(
    'where',
    g.graph('forward', {
      y: g.node('where', {}, [c, a, b]),
      nan: g.node('where', {}, [g.gt(b, a), b, nan]),
      int: g.node('where', {}, [c, i, j]),
    }),
  );
  covered.add('where');
}

// ---------- reduce ----------
{
  const g = new Builder();
  const x = g.input('x', 'f32', [3, 4, 5]);
  const r = (fn: 'sum' | 'max', axes: number[], keepdim: boolean): Node => g.node('reduce', { fn, axes, keepdim }, [x]);
  add(
    'reduce f32',
    g.graph('forward', {
      sum_all: r('sum', [0, 1, 2], false),
      sum_mid: r('sum', [1], false),
      sum_mid_keep: r('sum', [1], true),
      sum_outer_keep: r('sum', [0, 2], true),
      sum_last: r('sum', [2], false),
      sum_none: r('sum', [], false),
      max_all_keep: r('max', [0, 1, 2], true),
      max_mid: r('max', [1], false),
      max_02: r('max', [0, 2], false),
    }),
  );
  covered.add('reduce');
}
{
  const g = new Builder();
  const x = g.input('x', 'f32', [2, 5]);
  const out = {
    sum: g.sum(x, [1]),
    max: g.amax(x, [1]),
  };
  // Row 0: NaN in the middle; row 1: +inf and -inf (sum NaN, max inf).
  add('reduce NaN and Inf', g.graph('forward', out), {
    inputs: { x: ht('f32', [2, 5], [1, 2, NaN, -3, 4, Infinity, 1, -Infinity, 0, 2]) },
  });
  const g2 = new Builder();
  const y = g2.input('x', 'f32', [1, 4]);
  add('reduce max of -inf and -0', g2.graph('forward', { m: g2.amax(y, [1], true) }), {
    inputs: { x: ht('f32', [1, 4], [-Infinity, -0, -Infinity, -5]) },
  });
}
for (const dtype of ['i32', 'i8', 'i64', 'bool', 'f16', 'bf16'] as const) {
  const g = new Builder();
  const x = g.input('x', dtype, [3, 4]);
  const vals =
    dtype === 'i8'
      ? [100, 100, 100, -5, -128, -128, 1, 2, 127, 0, 3, -1]
      : dtype === 'i32'
        ? [2147483647, 1, 5, -7, -2147483648, -1, 0, 3, 9, 9, 9, 9]
        : dtype === 'i64'
          ? [2 ** 62, 2 ** 62, 1, -3, -(2 ** 63), -1, 7, 7, 0, 0, 0, 0]
          : undefined;
  add(
    `reduce ${dtype}`,
    g.graph('forward', {
      sum0: g.sum(x, [0]),
      sum1: g.sum(x, [1], true),
      max0: g.amax(x, [0], true),
      max1: g.amax(x, [1]),
    }),
    { inputs: vals ? { x: ht(dtype, [3, 4], vals) } : {} },
  );
}

// ---------- empty dims ----------
{
  const g = new Builder();
  const x = g.input('x', 'f32', [2, 0, 3]);
  const i = g.input('i', 'i32', [0, 3]);
  const a = g.input('a', 'f32', [4, 0]);
  const b = g.input('b', 'f32', [0, 5]);
  const e = g.input('e', 'f32', [2, 3]);
  add(
    'empty dims',
    g.graph('forward', {
      exp: g.exp(x),
      sum_empty_axis: g.sum(x, [1]),
      max_empty_axis: g.amax(x, [1], true),
      imax_empty_axis: g.amax(i, [0]),
      isum_empty_axis: g.sum(i, [0]),
      sum_of_empty: g.sum(x, [0, 2]),
      matmul_k0: g.einsum('ik,kj->ij', a, b),
      einsum_k0_int: g.einsum('ik->i', g.cast(a, 'i32')),
      concat_empty_part: g.node('concat', { axis: 1 }, [g.sum(x, [1], true), x]),
      perm: g.node('permute', { axes: [2, 0, 1] }, [x]),
      pad_empty: g.node(
        'pad',
        {
          pads: [
            [dimConst(0), dimConst(0)],
            [dimConst(1), dimConst(1)],
            [dimConst(0), dimConst(0)],
          ],
          value: 7,
        },
        [x],
      ),
      gather_empty_idx: g.node('gather', { axis: 0 }, [e, g.sum(i, [1])]),
    }),
  );
}

// ---------- movement ----------
{
  const g = new Builder();
  const x = g.input('x', 'f32', [4, 5]);
  const c = dimConst;
  add(
    'pad and crop',
    g.graph('forward', {
      pad: g.node(
        'pad',
        {
          pads: [
            [c(1), c(2)],
            [c(0), c(3)],
          ],
          value: -1.5,
        },
        [x],
      ),
      crop: g.node(
        'pad',
        {
          pads: [
            [c(-1), c(-2)],
            [c(2), c(-3)],
          ],
          value: NaN,
        },
        [x],
      ),
      both: g.node(
        'pad',
        {
          pads: [
            [c(-3), c(1)],
            [c(-1), c(-1)],
          ],
          value: 0,
        },
        [g.exp(x)],
      ),
    }),
  );
  covered.add('pad');
}
{
  const g = new Builder();
  const x = g.input('x', 'i32', [9, 7]);
  const c = dimConst;
  add(
    'slice with steps',
    g.graph('forward', {
      s1: g.node('slice', { starts: [c(1), c(0)], sizes: [c(4), c(3)], steps: [2, 3] }, [x]),
      s2: g.node('slice', { starts: [c(8), c(6)], sizes: [c(1), c(1)], steps: [1, 5] }, [x]),
      s3: g.node('slice', { starts: [c(0), c(2)], sizes: [c(3), c(5)], steps: [4, 1] }, [x]),
    }),
  );
  covered.add('slice');
}
{
  const g = new Builder();
  const x = g.input('x', 'f32', [2, 11, 9]);
  add(
    'window stride dilation',
    g.graph('forward', {
      w1: g.node('window', { axes: [1], size: [3], stride: [2], dilation: [2] }, [x]),
      w2: g.node('window', { axes: [1, 2], size: [2, 3], stride: [3, 1], dilation: [1, 3] }, [x]),
      w3: g.node('window', { axes: [0, 2], size: [2, 1], stride: [1, 4], dilation: [1, 1] }, [x]),
    }),
  );
  covered.add('window');
}
{
  const g = new Builder();
  const a = g.input('a', 'f32', [2, 1, 3]);
  const b = g.input('b', 'f32', [2, 4, 3]);
  const c = g.input('c', 'f32', [2, 2, 3]);
  const i = g.input('i', 'i8', [3]);
  const j = g.input('j', 'i8', [2]);
  add(
    'concat',
    g.graph('forward', {
      three: g.node('concat', { axis: 1 }, [a, b, c]),
      first: g.node('concat', { axis: 0 }, [b, g.neg(b), b]),
      last: g.node('concat', { axis: 2 }, [c, g.mul(c, c)]),
      ints: g.node('concat', { axis: 0 }, [i, j, i]),
      one: g.node('concat', { axis: 1 }, [b]),
    }),
  );
  covered.add('concat');
}
{
  const g = new Builder();
  const x = g.input('x', 'f32', [2, 3, 4]);
  const s = g.input('s', 'f32', [3, 1]);
  add(
    'reshape permute expand',
    g.graph('forward', {
      reshape: g.node('reshape', { shape: [dimConst(4), dimConst(6)] }, [x]),
      reshape_of_permute: g.node('reshape', { shape: [dimConst(24)] }, [g.node('permute', { axes: [2, 0, 1] }, [x])]),
      permute: g.node('permute', { axes: [1, 2, 0] }, [g.sin(x)]),
      expand: g.node('expand', { shape: [dimConst(2), dimConst(3), dimConst(5)] }, [s]),
      expand_add: g.add(g.node('expand', { shape: [dimConst(2), dimConst(3), dimConst(4)] }, [s]), x),
    }),
  );
  for (const op of ['reshape', 'permute', 'expand']) covered.add(op);
}
{
  // Reshapes fused into their readers (split and merged runs, size-1 axes, symbolic dims, chains).
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 'T', 12]);
  const B = dimSym('B');
  const T = dimSym('T');
  const c = dimConst;
  const e = g.tanh(x);
  const heads = g.node('reshape', { shape: [B, T, c(3), c(4)] }, [e]);
  add(
    'reshape fusion',
    g.graph('forward', {
      heads_perm: g.node('permute', { axes: [0, 2, 1, 3] }, [heads]),
      merged: g.mul(g.node('reshape', { shape: [dimMul(B, T), c(12)] }, [e]), g.full(2, 'f32', [])),
      ones: g.node('reshape', { shape: [c(1), B, c(1), T, c(2), c(1), c(6)] }, [e]),
      all: g.node('reshape', { shape: [dimMul(dimMul(B, T), c(12))] }, [e]),
      chain: g.node('reshape', { shape: [B, dimMul(T, c(3)), c(4)] }, [
        g.node('permute', { axes: [0, 1, 3, 2] }, [heads]),
      ]),
      back: g.node('reshape', { shape: [B, T, c(12)] }, [g.node('reshape', { shape: [B, c(2), T, c(6)] }, [e])]),
      sum_heads: g.sum(heads, [3]),
    }),
    { dims: { B: 2, T: 3 } },
    { dims: { B: 1, T: 5 } },
  );
  covered.add('reshape');
}
{
  const g = new Builder();
  const x = g.input('x', 'f32', [5, 3]);
  const idx = g.input('idx', 'i32', [2, 3]);
  const i8 = g.input('i8', 'i8', [4]);
  const x3 = g.input('x3', 'f32', [2, 5, 3]);
  add(
    'gather with clamping',
    g.graph('forward', {
      g0: g.node('gather', { axis: 0 }, [x, idx]),
      g1: g.node('gather', { axis: 1 }, [x, idx]),
      g_i8: g.node('gather', { axis: 0 }, [x, i8]),
      g_mid: g.node('gather', { axis: 1 }, [x3, i8]),
      g_int: g.node('gather', { axis: 0 }, [g.cast(x, 'i32'), i8]),
    }),
    {
      inputs: {
        idx: ht('i32', [2, 3], [0, -5, 4, 100, 2, -1]),
        i8: ht('i8', [4], [-128, 127, 1, 3]),
        x: ht(
          'f32',
          [5, 3],
          [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14].map((v) => v * 1.5),
        ),
      },
    },
  );
  covered.add('gather');
}
{
  const g = new Builder();
  const x = g.input('x', 'f32', [4, 3]);
  const idx = g.input('idx', 'i32', [5]);
  const src = g.input('src', 'f32', [5, 3]);
  const xi = g.input('xi', 'i8', [3, 4]);
  const srci = g.input('srci', 'i8', [3, 5]);
  const idx2 = g.input('idx2', 'i32', [2, 2]);
  const src2 = g.input('src2', 'f32', [2, 2, 3]);
  add(
    'scatter_add dropped and repeated',
    g.graph('forward', {
      s0: g.node('scatter_add', { axis: 0 }, [x, idx, src]),
      s_int_axis1: g.node('scatter_add', { axis: 1 }, [xi, idx, srci]),
      s_2d_idx: g.node('scatter_add', { axis: 0 }, [x, idx2, src2]),
      s_fused: g.node('scatter_add', { axis: 0 }, [g.exp(x), idx, g.mul(src, src)]),
    }),
    {
      inputs: {
        idx: ht('i32', [5], [1, -1, 1, 4, 3]),
        idx2: ht('i32', [2, 2], [0, 0, 7, 2]),
        xi: ht('i8', [3, 4], [120, 1, 2, 3, -128, 5, 6, 7, 8, 9, 10, 11]),
        srci: ht('i8', [3, 5], [10, 20, 30, 40, 50, -1, -2, -3, -4, -5, 100, 100, 100, 100, 100]),
      },
    },
  );
  covered.add('scatter_add');
}
{
  const g = new Builder();
  const x = g.input('x', 'f32', [3, 6]);
  const xi = g.input('xi', 'i32', [6, 2]);
  const out: Record<string, Node> = {};
  for (const k of [1, 3, 6]) {
    out[`v${k}`] = g.node('topk', { k, axis: 1, output: 'values' }, [x]);
    out[`i${k}`] = g.node('topk', { k, axis: 1, output: 'indices' }, [x]);
  }
  out['vi'] = g.node('topk', { k: 4, axis: 0, output: 'values' }, [xi]);
  out['ii'] = g.node('topk', { k: 4, axis: 0, output: 'indices' }, [xi]);
  out['fused'] = g.node('topk', { k: 2, axis: 0, output: 'indices' }, [g.neg(x)]);
  add('topk ties and NaN', g.graph('forward', out), {
    inputs: {
      x: ht('f32', [3, 6], [1, NaN, 3, 3, NaN, -Infinity, 2, 2, 2, 2, 2, 2, -0, 0, -1, Infinity, 5, Infinity]),
      xi: ht('i32', [6, 2], [5, 1, 5, 1, -3, 7, 9, 1, 5, -2147483648, 9, 2147483647]),
    },
  });
  const g2 = new Builder();
  const h = g2.input('h', 'f16', [2, 5]);
  add(
    'topk f16',
    g2.graph('forward', {
      v: g2.node('topk', { k: 3, axis: 1, output: 'values' }, [h]),
      i: g2.node('topk', { k: 3, axis: 1, output: 'indices' }, [h]),
    }),
    { inputs: { h: ht('f16', [2, 5], [1, 1.0001, 1, NaN, -2, 0.5, 0.5, 0.25, 70000, -70000]) } },
  );
  covered.add('topk');
}

// ---------- cumsum ----------
{
  // Every axis of a rank-3 tensor (the innermost: a register sum per row; the others: SIMD
  // rows of sums), each direction, a symbolic axis length, and integer, i64 and f16 sums.
  // Exact: C adds in the interpreter's order, in f32. Then a fused input (exp: within
  // tolerance, as C's exp is).
  const T = dimSym('T');
  const g = new Builder();
  const x = g.input('x', 'f32', [3, T, 4]);
  const out = everyScan(g, x, 'a');
  const xi = g.input('xi', 'i8', [2, 4]);
  const xl = g.input('xl', 'i64', [3, 2]);
  const xh = g.input('xh', 'f16', [4, 3]);
  for (const axis of [0, 1]) {
    out[`i8_${axis}`] = g.cumsum(xi, axis);
    out[`i64_${axis}`] = g.cumsum(xl, axis, axis === 1);
    out[`f16_${axis}`] = g.cumsum(xh, axis, false, axis === 0);
  }
  add(
    'cumsum every axis and direction',
    g.graph('forward', out),
    {
      dims: { T: 5 },
      tol: EXACT,
      inputs: {
        xi: ht('i8', [2, 4], [100, 100, -100, 50, -128, -1, 127, 1]),
        xl: ht('i64', [3, 2], [2 ** 62, 1, 2 ** 62, -3, 2 ** 53, 7]),
        xh: ht('f16', [4, 3], [2048, 1, 0.1, 1, 1, 0.2, 1, 1, 0.3, 65504, -1, 0.4]),
      },
    },
    { dims: { T: 1 }, tol: EXACT },
  );
  const h = new Builder();
  const e = h.exp(h.input('x', 'f32', [3, 5, 4]));
  add('cumsum fused', h.graph('forward', { mid: h.cumsum(e, 1), last: h.cumsum(e, 2, true) }));
  covered.add('cumsum');
}

// ---------- cast ----------
{
  const FROM_F32 = [
    0,
    -0,
    0.9,
    -0.9,
    2.5,
    -2.5,
    127.9,
    128,
    -129,
    300,
    -300,
    3e9,
    -3e9,
    1e19,
    -1e19,
    NaN,
    Infinity,
    -Infinity,
    65519,
    65520,
    1e-8,
    3.0e-5,
    1.17e-38,
    0.1,
  ];
  const g = new Builder();
  const x = g.input('x', 'f32', [FROM_F32.length]);
  const out: Record<string, Node> = {};
  for (const to of ['f16', 'bf16', 'i4', 'i8', 'i32', 'i64', 'bool'] as const) out[`f32_${to}`] = g.cast(x, to);
  out['f32_f16_f32'] = g.cast(g.cast(x, 'f16'), 'f32');
  out['f32_bf16_f16'] = g.cast(g.cast(x, 'bf16'), 'f16');
  add('cast from f32', g.graph('forward', out), { inputs: { x: ht('f32', [FROM_F32.length], FROM_F32) } });

  const FROM_I32 = [
    0, 1, -1, 7, 8, -9, 127, 128, -129, 255, 256, 300, 70000, -70000, 2147483647, -2147483648, 16777217,
  ];
  const g2 = new Builder();
  const y = g2.input('y', 'i32', [FROM_I32.length]);
  const out2: Record<string, Node> = {};
  for (const to of ['f32', 'f16', 'bf16', 'i4', 'i8', 'i64', 'bool'] as const) out2[`i32_${to}`] = g2.cast(y, to);
  add('cast from i32', g2.graph('forward', out2), { inputs: { y: ht('i32', [FROM_I32.length], FROM_I32) } });

  const FROM_I64 = [0, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 40 + 5, -(2 ** 63), 2 ** 62, 2 ** 53 + 2];
  const g3 = new Builder();
  const z = g3.input('z', 'i64', [FROM_I64.length]);
  const out3: Record<string, Node> = {};
  for (const to of ['f32', 'i32', 'i8', 'bool', 'bf16'] as const) out3[`i64_${to}`] = g3.cast(z, to);
  add('cast from i64', g3.graph('forward', out3), { inputs: { z: ht('i64', [FROM_I64.length], FROM_I64) } });

  const g4 = new Builder();
  const b = g4.input('b', 'bool', [4]);
  const h = g4.input('h', 'f16', [6]);
  const bf = g4.input('bf', 'bf16', [6]);
  const i8 = g4.input('i8', 'i8', [4]);
  const out4: Record<string, Node> = {};
  for (const to of ['f32', 'f16', 'i8', 'i32', 'i64'] as const) out4[`bool_${to}`] = g4.cast(b, to);
  for (const to of ['f32', 'bf16', 'i8', 'bool'] as const) out4[`f16_${to}`] = g4.cast(h, to);
  for (const to of ['f32', 'f16', 'i32'] as const) out4[`bf16_${to}`] = g4.cast(bf, to);
  for (const to of ['i4', 'f16', 'i64', 'bool'] as const) out4[`i8_${to}`] = g4.cast(i8, to);
  add('cast from bool f16 bf16 i8', g4.graph('forward', out4), {
    inputs: {
      b: ht('bool', [4], [0, 1, 1, 0]),
      h: ht('f16', [6], [65504, -65504, 6e-8, NaN, -Infinity, 1000.5]),
      bf: ht('bf16', [6], [3e38, -1.5, 1e-39, NaN, Infinity, 70000]),
      i8: ht('i8', [4], [-128, 127, 9, -9]),
    },
  });
  covered.add('cast');
}

// ---------- creation ----------
{
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 3]);
  const B = dimSym('B');
  add(
    'random',
    g.graph('forward', {
      r: g.node('random', { seed: 42, key: 'drop', shape: [dimConst(3), dimConst(7)] }, []),
      rb: g.node('random', { seed: 0, key: '', shape: [B, dimConst(5)] }, []),
      keep: g.mul(x, g.node('random', { seed: 7, key: 'noise"x', shape: [B, dimConst(3)] }, [])),
    }),
    { tol: EXACT, inputs: { x: ht('f32', [2, 3], [1, 2, 3, 4, 5, 6]) } },
    {
      tol: EXACT,
      inputs: {
        x: ht(
          'f32',
          [5, 3],
          Array.from({ length: 15 }, (_, i) => i),
        ),
      },
    },
  );
  covered.add('random');
}
{
  // A train step's dropout: the step input is the high half of the Philox counter.
  const g = new Builder();
  const step = g.input('step', 'i64', []);
  add(
    'random keyed by a step',
    g.graph('forward', {
      r: g.random(42, 'drop', [4, 5], step),
      r0: g.random(42, 'drop', [4, 5]),
    }),
    { tol: EXACT, inputs: { step: ht('i64', [], [0]) } },
    { tol: EXACT, inputs: { step: ht('i64', [], [3]) } },
    { tol: EXACT, inputs: { step: ht('i64', [], [2 ** 40 + 5]) } },
  );
}
{
  const g = new Builder();
  const x = g.input('x', 'f32', ['T', 2]);
  const T = dimSym('T');
  add(
    'iota dim full',
    g.graph('forward', {
      iota_i32: g.node('iota', { axis: 1, dtype: 'i32', shape: [dimConst(3), T] }, []),
      iota_f32: g.node('iota', { axis: 0, dtype: 'f32', shape: [T, dimConst(2)] }, []),
      iota_i8: g.node('iota', { axis: 0, dtype: 'i8', shape: [dimConst(200)] }, []),
      dim_i32: g.node('dim', { value: dimAdd(dimMul(dimConst(2), T), dimConst(1)), dtype: 'i32' }, []),
      dim_f32: g.node('dim', { value: T, dtype: 'f32' }, []),
      dim_i64: g.node('dim', { value: dimMul(T, T), dtype: 'i64' }, []),
      full_nan: g.full(NaN, 'f32', [2]),
      full_negzero: g.full(-0, 'f32', [2]),
      full_inf_f16: g.full(-Infinity, 'f16', [2]),
      full_bf16: g.full(0.1, 'bf16', [2]),
      full_i8: g.full(300, 'i8', [3]),
      full_bool: g.full(1, 'bool', [1]),
      plus_iota: g.add(x, g.node('iota', { axis: 0, dtype: 'f32', shape: [T, dimConst(2)] }, [])),
    }),
    { dims: { T: 4 } },
    { dims: { T: 7 } },
  );
  for (const op of ['iota', 'dim', 'full']) covered.add(op);
}

// ---------- einsum ----------
{
  const g = new Builder();
  const a = g.input('a', 'f32', [7, 300]);
  const b = g.input('b', 'f32', [300, 33]);
  const at = g.input('at', 'f32', [300, 7]);
  const bt = g.input('bt', 'f32', [33, 300]);
  const x = g.input('x', 'f32', [3, 5, 4]);
  const y = g.input('y', 'f32', [3, 4, 6]);
  const sq = g.input('sq', 'f32', [5, 5]);
  const m = g.input('m', 'f32', [4, 6]);
  const n = g.input('n', 'f32', [6, 3]);
  add(
    'einsum f32',
    g.graph('forward', {
      matmul: g.einsum('ij,jk->ik', a, b),
      trans_a: g.einsum('ji,jk->ik', at, b),
      trans_b: g.einsum('ij,kj->ik', a, bt),
      trans_both_out: g.einsum('ji,kj->ki', at, bt),
      batched: g.einsum('bij,bjk->bik', x, y),
      batched_out_perm: g.einsum('bij,bjk->kbi', x, y),
      transpose: g.einsum('ij->ji', sq),
      row_sum: g.einsum('ij,jk->i', m, n),
      outer: g.einsum('i,j->ij', g.einsum('ij->i', m), g.einsum('ij->j', n)),
      fused_operand: g.einsum('ij,jk->ik', g.tanh(m), g.mul(n, n)),
    }),
  );
  covered.add('einsum');
}
for (const dtype of ['f16', 'bf16'] as const) {
  const g = new Builder();
  const a = g.input('a', dtype, [5, 40]);
  const b = g.input('b', dtype, [40, 9]);
  add(
    `einsum ${dtype}`,
    g.graph('forward', {
      y: g.einsum('ik,kj->ij', a, b),
      t: g.einsum('ik,jk->ij', a, g.node('permute', { axes: [1, 0] }, [b])),
    }),
    {
      // Products of 40 rounded terms: the dtype tolerance applies to the f32 sum stored in the dtype.
    },
  );
}
{
  const g = new Builder();
  const a = g.input('a', 'i32', [3, 4]);
  const b = g.input('b', 'i32', [4, 2]);
  const c = g.input('c', 'i8', [3, 4]);
  add(
    'einsum int',
    g.graph('forward', {
      mm: g.einsum('ij,jk->ik', a, b),
      sum: g.einsum('ij->', a),
      wrap_i8: g.einsum('ij,ij->i', c, c),
    }),
    {
      inputs: {
        a: ht('i32', [3, 4], [2147483647, 1, -5, 3, 7, 8, 9, 10, -2147483648, 0, 1, 1]),
        b: ht('i32', [4, 2], [2, 1, 3, -1, 4, 0, 5, 2]),
        c: ht('i8', [3, 4], [100, 100, 1, 2, -128, 127, 3, 4, 50, 60, 70, 80]),
      },
    },
  );
}

// ---------- sizes that take the parallel paths and cross the GEMM blocking ----------
{
  const g = new Builder();
  const x = g.input('x', 'f32', [96, 700]);
  const y = g.input('y', 'f32', [8, 300, 40]);
  const idx = g.input('idx', 'i32', [5000]);
  add(
    'large elementwise and reductions',
    g.graph('forward', {
      ew: g.mul(g.exp(x), g.full(2, 'f32', [])),
      sum0: g.sum(x, [0], true),
      max1: g.amax(x, [1]),
      mid: g.sum(y, [1]),
      top: g.node('topk', { k: 3, axis: 1, output: 'indices' }, [x]),
      scatter: g.node('scatter_add', { axis: 0 }, [
        g.full(0, 'f32', [700]),
        idx,
        g.node('reshape', { shape: [dimConst(5000)] }, [
          g.node('slice', { starts: [dimConst(0), dimConst(0)], sizes: [dimConst(50), dimConst(100)], steps: [1, 1] }, [
            x,
          ]),
        ]),
      ]),
    }),
    {
      inputs: {
        idx: ht(
          'i32',
          [5000],
          Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 760) - 30),
        ),
      },
    },
  );
}
{
  const g = new Builder();
  const a = g.input('a', 'f32', [100, 300]);
  const b = g.input('b', 'f32', [300, 530]);
  const x = g.input('x', 'f32', [3, 50, 70]);
  const w = g.input('w', 'f32', [70, 40]);
  add(
    'large gemm across the blocking',
    g.graph('forward', {
      mm: g.einsum('ik,kj->ij', a, b),
      mm_t: g.einsum('ik,kj->ji', a, b),
      bcast: g.einsum('bij,jk->bik', x, w),
      scaled: g.einsum(
        'bij,jk->bik',
        g.mul(x, x),
        g.node('permute', { axes: [1, 0] }, [g.node('permute', { axes: [1, 0] }, [w])]),
      ),
    }),
    { tol: { rtol: 1e-4, atol: 1e-4 } },
  );
}

// Every register tile and blocking the lowering can pick (the host's is above), on edge sizes:
// M, N and K around MR, NR, KC, MC and the small-M path, transposed and fused operands.
for (const [name, gemm] of Object.entries(SCHEDULES)) {
  const g = new Builder();
  const a = g.input('a', 'f32', [17, 263]);
  const b = g.input('b', 'f32', [263, 45]);
  const row = g.input('row', 'f32', [3, 263]);
  const x = g.input('x', 'f32', [2, 101, 20]);
  const y = g.input('y', 'f32', [2, 20, 9]);
  const h = g.input('h', 'bf16', [15, 33]);
  const k = g.input('k', 'f16', [33, 7]);
  addLowered(
    `gemm schedule ${name}`,
    g.graph('forward', {
      mm: g.einsum('ik,kj->ij', a, b),
      small_m: g.einsum('ik,kj->ij', row, b),
      trans: g.einsum('ki,jk->ji', g.node('permute', { axes: [1, 0] }, [a]), g.node('permute', { axes: [1, 0] }, [b])),
      batched: g.einsum('bik,bkj->bij', x, y),
      fused: g.einsum('bik,bkj->bji', g.exp(g.mul(x, g.full(0.1, 'f32', []))), y),
      half: g.einsum('ik,kj->ij', h, g.cast(k, 'bf16')),
    }),
    { gemm },
    { tol: { rtol: 1e-4, atol: 1e-4 } },
  );
}

// ---------- barrier ----------
{
  // An identity (recomputation's fence): barriers of one node under two keys stay two nodes,
  // each computing its input, alone or fused with the elementwise ops around it.
  const g = new Builder();
  const x = g.input('x', 'f32', [3, 4]);
  const e = g.exp(x);
  add(
    'barrier',
    g.graph('forward', {
      a: g.add(g.barrier(e, 'r0'), 1),
      b: g.mul(g.barrier(e, 'r1'), x),
      raw: g.barrier(x, 'r0'),
      int: g.barrier(g.cast(x, 'i32'), 'r0'),
    }),
  );
  covered.add('barrier');
}

// ---------- params and updates ----------
{
  const g = new Builder();
  const x = g.input('x', 'f32', ['B', 4]);
  const w = g.param('lin.weight', 'f32', [4, 3]);
  const bias = g.param('lin.bias', 'bf16', [3]);
  const mean = g.param('bn.running_mean', 'f32', [4], 'buffer', { fn: 'zeros', args: {} });
  const y = g.add(g.einsum('bi,io->bo', x, w), g.cast(bias, 'f32'));
  const newMean = g.add(mean, g.sum(x, [0]));
  add('params and updates', g.graph('forward', { y }, [{ path: 'bn.running_mean', node: newMean }]), {
    dims: { B: 3 },
  });
  covered.add('input');
  covered.add('param');
}

{
  // Outputs that are inputs, params, or the same node twice; an update that is also an output;
  // a no-op update (a buffer set to itself).
  const g = new Builder();
  const x = g.input('x', 'f32', [2, 3]);
  const p = g.param('p', 'f32', [3]);
  const buf = g.param('state.count', 'i32', [1], 'buffer', { fn: 'zeros', args: {} });
  const keep = g.param('state.keep', 'f32', [2], 'buffer', { fn: 'ones', args: {} });
  const y = g.add(x, p);
  const next = g.add(buf, g.full(1, 'i32', [1]));
  add(
    'aliased outputs and updates',
    g.graph(
      'forward',
      [
        { name: 'x_again', node: x },
        { name: 'p', node: p },
        { name: 'y', node: y },
        { name: 'y2', node: y },
        { name: 'count', node: next },
      ],
      [
        { path: 'state.count', node: next },
        { path: 'state.keep', node: keep },
      ],
    ),
  );
}

/** The ops and `unary:`/`binary:` fns of the IR that no case covers (empty when all are). */
export function uncovered(): string[] {
  const ops = [...OP_NAMES].filter((op) => !covered.has(op) && ![...covered].some((c) => c.startsWith(`${op}:`)));
  const fns = [
    ...UNARY_FNS.map((fn) => `unary:${fn}`),
    ...([...ARITH_FNS, ...COMPARE_FNS, 'and', 'or'] as BinaryFn[]).map((fn) => `binary:${fn}`),
  ].filter((f) => !covered.has(f));
  return [...ops, ...fns];
}
