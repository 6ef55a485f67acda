// Elementwise kernels: one loop nest over a node's output, the node's (fused) expression
// stored at each element. Also the loop-nest helper the other kernel kinds share.

import type { Dim } from '../ir/dims.js';
import type { Node } from '../ir/graph.js';
import { type KExpr, type KStmt, dot, int, ivar, loop, mul } from '../ir/kernel.js';
import type { KernelBuilder } from './builder.js';
import { type Fuser, stridesOf } from './expr.js';

/** Number of elements of a shape as a kernel expression. */
export const numelOf = (shape: readonly Dim[], kb: KernelBuilder): KExpr =>
  shape.reduce<KExpr>((a, d) => mul(a, kb.dim(d)), int(1));

/**
 * Loops over `shape` (outer loops shared across threads, the innermost one SIMD), with the
 * body built from the loop variables. `work` is the total work, for the one-thread cutoff.
 * For a GPU every loop is collapsed into the parallel one (one invocation per element or
 * row; the grid binding takes them all).
 */
export function nest(
  kb: KernelBuilder,
  shape: readonly Dim[],
  body: (idx: readonly KExpr[]) => readonly KStmt[],
  work: KExpr = numelOf(shape, kb),
  innerSimd = true,
): KStmt[] {
  const vars = shape.map(() => kb.fresh('i'));
  const idx = vars.map(ivar);
  let stmts: readonly KStmt[] = body(idx);
  const r = shape.length;
  for (let i = r - 1; i >= 0; i--) {
    const hi = kb.dim(shape[i]!);
    if (i === 0) {
      const collapse = kb.target === 'gpu' ? r : Math.max(1, r - 1);
      stmts = [kb.parallel(vars[i]!, hi, stmts, work, { collapse })];
    } else if (i === r - 1 && innerSimd) {
      stmts = [loop(vars[i]!, hi, stmts, r === 1 ? 'serial' : 'simd')];
    } else {
      stmts = [loop(vars[i]!, hi, stmts)];
    }
  }
  return [...stmts];
}

/** A kernel computing `n` (fused with whatever it reads) into buffer `out`. */
export function elementwiseKernel(kb: KernelBuilder, f: Fuser, n: Node, out: number): KStmt[] {
  const o = kb.param(out, 'write');
  const st = stridesOf(n.type.shape, kb);
  return nest(kb, n.type.shape, (idx) => [{ k: 'store', buf: o, index: dot(idx, st), value: f.compute(kb, n, idx) }]);
}

/** A kernel copying node `n` (materialized or not) into buffer `out`. */
export function copyKernel(kb: KernelBuilder, f: Fuser, n: Node, out: number): KStmt[] {
  const o = kb.param(out, 'write');
  const st = stridesOf(n.type.shape, kb);
  return nest(kb, n.type.shape, (idx) => [{ k: 'store', buf: o, index: dot(idx, st), value: f.at(kb, n, idx) }]);
}
