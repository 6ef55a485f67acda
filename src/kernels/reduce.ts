// Reduction kernels: a loop nest over the output, an accumulator, and loops over the
// reduced axes reading the (fused) input. Float sums reduce across SIMD lanes; max keeps
// the interpreter's NaN propagation through fmc_max, in order.

import { type Dtype, isFloat } from '../ir/dtype.js';
import type { NodeOf } from '../ir/graph.js';
import { type KExpr, type KScalar, type KStmt, dot, int, ivar, loop, scalarOf } from '../ir/kernel.js';
import { DTYPE_BITS } from '../ir/dtype.js';
import type { KernelBuilder } from './builder.js';
import { type Fuser, stridesOf } from './expr.js';
import { nest, numelOf } from './elementwise.js';

export function reduceKernel(kb: KernelBuilder, f: Fuser, n: NodeOf<'reduce'>, out: number): KStmt[] {
  const x = n.inputs[0]!;
  const { fn, axes, keepdim } = n.args;
  const dtype = x.type.dtype;
  const t = scalarOf(dtype);
  const o = kb.param(out, 'write');
  const st = stridesOf(n.type.shape, kb);
  const kept = x.type.shape.filter((_, i) => !axes.includes(i));
  const acc = kb.fresh('acc');
  const accv: KExpr = { k: 'var', name: acc, t };
  return nest(
    kb,
    kept,
    (keptIdx) => {
      const rvars = axes.map(() => kb.fresh('r'));
      let k = 0;
      let m = 0;
      const full = x.type.shape.map((_, i) => (axes.includes(i) ? ivar(rvars[m++]!) : keptIdx[k++]!));
      const v = f.at(kb, x, full);
      let inner: KStmt[] = [{ k: 'set', name: acc, value: reduceStep(fn, t, accv, v) }];
      const simdSum = fn === 'sum' && t === 'f32';
      for (let j = axes.length - 1; j >= 0; j--) {
        const hi = kb.dim(x.type.shape[axes[j]!]!);
        const innermost = j === axes.length - 1 && simdSum;
        inner = [
          loop(
            rvars[j]!,
            hi,
            inner,
            innermost ? 'simd' : 'serial',
            innermost ? { reduce: [{ name: acc, op: '+' }] } : {},
          ),
        ];
      }
      let oi = 0;
      const outIdx = keepdim ? x.type.shape.map((_, i) => (axes.includes(i) ? int(0) : keptIdx[oi++]!)) : keptIdx;
      const wrapped: KExpr = t === 'i64' && dtype !== 'i64' ? { k: 'cast', from: 'i64', to: dtype, a: accv, t } : accv;
      return [
        { k: 'let', name: acc, t, value: reduceInit(fn, dtype) },
        ...inner,
        { k: 'store', buf: o, index: dot(outIdx, st), value: wrapped },
      ];
    },
    numelOf(x.type.shape, kb),
    false,
  );
}

/** The accumulator's start: 0 for a sum, the lowest value of the dtype for a max. */
export function reduceInit(fn: 'sum' | 'max', dtype: Dtype): KExpr {
  const t = scalarOf(dtype);
  const lowest = isFloat(dtype) ? -Infinity : dtype === 'bool' ? 0 : -(2 ** (DTYPE_BITS[dtype] - 1));
  return { k: 'const', t, v: fn === 'sum' ? 0 : lowest };
}

/** One step of a reduction: `acc + v` (`acc || v` on bools) or the max (fmc_max: NaN propagates). */
export function reduceStep(fn: 'sum' | 'max', t: KScalar, acc: KExpr, v: KExpr): KExpr {
  if (fn === 'sum')
    return t === 'bool' ? { k: 'cmp', op: '||', a: acc, b: v } : { k: 'bin', fn: 'add', a: acc, b: v, t };
  return { k: 'bin', fn: 'max', a: acc, b: v, t: t === 'bool' ? 'i64' : t };
}
