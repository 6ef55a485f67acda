// Grid binding (GPU targets): Kernel → Kernel, setting `Kernel.grid` (the launch contract in
// src/ir/kernel.ts, KernelGrid). A kernel whose body is one top-level parallel loop nest
// (comments aside) runs one invocation per iteration of its collapsed loops: the loops are
// replaced by the flat invocation index `gid`, decomposed into the loop variables (row-major,
// the innermost loop fastest) and guarded by `gid < invocations`. The nest is the perfectly
// nested prefix of the `collapse` loops whose bounds are constants and dims (host-evaluable);
// loops inside it stay (serially) in each invocation. Any other kernel runs as one
// invocation, its body unchanged. A nest of no iterations (a constant size-0 axis) gets an
// empty body and zero invocations. A tiled kernel (KernelGrid.tiled) keeps the grid it was
// built with.

import { type KExpr, type KStmt, type Kernel, cmp, int, ix } from '../ir/kernel.js';
import type { Plan } from './plan.js';

type For = Extract<KStmt, { k: 'for' }>;

export interface GridOptions {
  /** Invocations per workgroup (default 64). */
  readonly workgroup?: number;
}

export const DEFAULT_WORKGROUP = 64;

/** Whether `e` uses only constants, dims and index arithmetic (the host can evaluate it). */
export function hostEvaluable(e: KExpr): boolean {
  if (e.k === 'const') return e.t === 'i64';
  if (e.k === 'dim') return true;
  if (e.k === 'ix') return hostEvaluable(e.a) && hostEvaluable(e.b);
  return false;
}

/** The collapsed loops of a top-level parallel loop that the grid can take, outermost first. */
function gridNest(body: readonly KStmt[]): For[] | undefined {
  const stmts = body.filter((s) => s.k !== 'comment');
  const top = stmts[0];
  if (stmts.length !== 1 || top?.k !== 'for' || top.mode !== 'parallel' || (top.reduce ?? []).length > 0)
    return undefined;
  const nest: For[] = [];
  let s: KStmt | undefined = top;
  while (s?.k === 'for' && nest.length < (top.collapse ?? 1) && hostEvaluable(s.lo) && hostEvaluable(s.hi)) {
    nest.push(s);
    s = s.body.length === 1 ? s.body[0] : undefined;
  }
  return nest.length > 0 ? nest : undefined;
}

/** The trip count of a loop: ceil((hi - lo) / step), at least 0 for the bounds the kernels use. */
const trips = (l: For): KExpr =>
  l.step === 1 ? ix('-', l.hi, l.lo) : ix('/', ix('+', ix('-', l.hi, l.lo), int(l.step - 1)), int(l.step));

export function bindGrid(kernel: Kernel, opts: GridOptions = {}): Kernel {
  if (kernel.grid?.tiled) return kernel; // built with its own grid (gemm-tiled.ts)
  const nest = gridNest(kernel.body);
  if (!nest) return { ...kernel, grid: { invocations: int(1), workgroup: 1 } };
  const counts = nest.map(trips);
  const invocations = counts.reduce((a, b) => ix('*', a, b));
  const comments = kernel.body.filter((s) => s.k === 'comment');
  // No iterations (a size-0 axis of constant length): nothing runs; the body would divide by 0.
  if (invocations.k === 'const' && invocations.v === 0)
    return { ...kernel, body: comments, grid: { invocations, workgroup: opts.workgroup ?? DEFAULT_WORKGROUP } };
  const gid: KExpr = { k: 'gid' };
  // Innermost first: v = lo + ((gid / (product of the inner counts)) % count) * step.
  const lets: KStmt[] = [];
  let inner: KExpr = int(1);
  for (let i = nest.length - 1; i >= 0; i--) {
    const l = nest[i]!;
    const q = ix('/', gid, inner);
    const pos = i === 0 ? q : ix('%', q, counts[i]!);
    lets.unshift({ k: 'let', name: l.v, t: 'i64', value: ix('+', l.lo, ix('*', pos, int(l.step))) });
    inner = ix('*', inner, counts[i]!);
  }
  const guarded: KStmt = { k: 'if', cond: cmp('<', gid, invocations), then: [...lets, ...nest[nest.length - 1]!.body] };
  return {
    ...kernel,
    body: [...comments, guarded],
    grid: { invocations, workgroup: opts.workgroup ?? DEFAULT_WORKGROUP },
  };
}

/** Every kernel of a plan bound to its grid. */
export const bindPlanGrids = (plan: Plan, opts: GridOptions = {}): Plan => ({
  ...plan,
  kernels: plan.kernels.map((k) => bindGrid(k, opts)),
});
