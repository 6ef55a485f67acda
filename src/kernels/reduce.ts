// Reduction kernels: a loop nest over the output, an accumulator, and loops over the
// reduced axes reading the (fused) input. Float sums reduce across SIMD lanes; max keeps
// the interpreter's NaN propagation through fmc_max, in order. On a GPU, a reduced extent
// that is not known to be short reduces with a workgroup per output (reduce-gpu.ts).

import { type Dtype, isFloat } from '../ir/dtype.js';
import type { NodeOf } from '../ir/graph.js';
import { type KExpr, type KScalar, type KStmt, dot, int, ivar, loop, scalarOf } from '../ir/kernel.js';
import { DTYPE_BITS } from '../ir/dtype.js';
import type { KernelBuilder } from './builder.js';
import { type Fuser, stridesOf } from './expr.js';
import { nest, numelOf } from './elementwise.js';
import { splitFits, splitReduce, treeFits, treeReduce, unflatten } from './reduce-gpu.js';

export function reduceKernel(kb: KernelBuilder, f: Fuser, n: NodeOf<'reduce'>, out: number): KStmt[] {
  const x = n.inputs[0]!;
  const { fn, axes, keepdim } = n.args;
  const dtype = x.type.dtype;
  const t = scalarOf(dtype);
  const o = kb.param(out, 'write');
  const st = stridesOf(n.type.shape, kb);
  const kept = x.type.shape.filter((_, i) => !axes.includes(i));
  const reducedDims = axes.map((a) => x.type.shape[a]!);
  /** The input coordinates of kept and reduced coordinates. */
  const full = (keptIdx: readonly KExpr[], redIdx: readonly KExpr[]): KExpr[] => {
    let [k, m] = [0, 0];
    return x.type.shape.map((_, i) => (axes.includes(i) ? redIdx[m++]! : keptIdx[k++]!));
  };
  /** Stores accumulator `v` of the output at `keptIdx` (wrapped to the dtype's width). */
  const store = (keptIdx: readonly KExpr[], v: KExpr): KStmt => {
    let oi = 0;
    const outIdx = keepdim ? x.type.shape.map((_, i) => (axes.includes(i) ? int(0) : keptIdx[oi++]!)) : keptIdx;
    const value: KExpr = t === 'i64' && dtype !== 'i64' ? { k: 'cast', from: 'i64', to: dtype, a: v, t } : v;
    return { k: 'store', buf: o, index: dot(outIdx, st), value };
  };
  // (Only for a GPU: numelOf binds dim slots, and the C kernels keep their slot order.)
  const extent = kb.target === 'gpu' && kb.workgroups ? numelOf(reducedDims, kb) : undefined;
  if (extent && treeFits(extent)) {
    const [keptCounts, redCounts] = [kept.map((d) => kb.dim(d)), reducedDims.map((d) => kb.dim(d))];
    const outputs = numelOf(kept, kb);
    return (splitFits(outputs, extent) ? splitReduce : treeReduce)(kb, {
      outputs,
      extent,
      t,
      init: reduceInit(fn, dtype),
      step: (a, v) => reduceStep(fn, t, a, v),
      element: (b, w, r) => f.at(b, x, full(unflatten(w, keptCounts), unflatten(r, redCounts))),
      store: (w, v) => store(unflatten(w, keptCounts), v),
    });
  }
  const acc = kb.fresh('acc');
  const accv: KExpr = { k: 'var', name: acc, t };
  return nest(
    kb,
    kept,
    (keptIdx) => {
      const rvars = axes.map(() => kb.fresh('r'));
      const v = f.at(kb, x, full(keptIdx, rvars.map(ivar)));
      let inner: KStmt[] = [{ k: 'set', name: acc, value: reduceStep(fn, t, accv, v) }];
      const simdSum = fn === 'sum' && t === 'f32';
      for (let j = axes.length - 1; j >= 0; j--) {
        const hi = kb.dim(reducedDims[j]!);
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
      return [{ k: 'let', name: acc, t, value: reduceInit(fn, dtype) }, ...inner, store(keptIdx, accv)];
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
