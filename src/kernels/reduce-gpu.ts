// The GPU form of a reduction with a long reduced extent (KernelGrid.tiled): one workgroup
// of W invocations per output element (reduce.ts) or per row (rows.ts). Invocation l folds
// the reduced elements l, l + W, l + 2W, ... in order into its own accumulator (`strided`);
// `combine` writes the W partials into a workgroup-shared array and reduces them as a binary
// tree (partial l with partial l + s for s = W/2, ..., 1, a barrier after each level), after
// which every invocation reads the result. The order of every add is fixed by W alone, so a
// run gives the same bits every time (no float atomics). A max combines with fmc_max as the
// serial loop does, so a NaN anywhere propagates; integer sums wrap as the serial sum does
// (addition modulo the compute width is associative). Every barrier is in uniform control
// flow: the only branch around them tests the workgroup index. The CUDA dialect renders the
// tree's levels below a warp with shuffles instead (matchCombine, src/codegen/cuda-warp.ts:
// the same adds in the same order). A reduction with few outputs
// (a whole-tensor sum) splits in two kernels, so that many workgroups share each output
// (splitReduce).

import { type KExpr, type KScalar, type KStmt, add, cmp, int, ivar, ix, loop, mapChildren, mul } from '../ir/kernel.js';
import { dimConst } from '../ir/dims.js';
import type { KernelBuilder } from './builder.js';

/** Invocations per workgroup of a tree reduction (a power of two). */
export const REDUCE_WORKGROUP = 64;

/** Whether a reduced extent is long enough for a workgroup: not a known size below REDUCE_WORKGROUP. */
export const treeFits = (reduced: KExpr): boolean => !(reduced.k === 'const' && reduced.v < REDUCE_WORKGROUP);

/** The multi-index over `counts` (row-major, the last fastest) of flat index `flat`. */
export function unflatten(flat: KExpr, counts: readonly KExpr[]): KExpr[] {
  const idx: KExpr[] = [];
  let inner: KExpr = int(1);
  for (let i = counts.length - 1; i >= 0; i--) {
    const q = ix('/', flat, inner);
    idx.unshift(i === 0 ? q : ix('%', q, counts[i]!));
    inner = mul(inner, counts[i]!);
  }
  return idx;
}

/**
 * A kernel body run by a workgroup per output: `body` gets the output's index (the workgroup)
 * and the invocation's index in it; sets the builder's tiled grid.
 */
export function perWorkgroup(
  kb: KernelBuilder,
  outputs: KExpr,
  body: (wg: KExpr, l: KExpr) => readonly KStmt[],
): KStmt[] {
  const W = REDUCE_WORKGROUP;
  kb.grid = { invocations: mul(outputs, int(W)), workgroup: W, tiled: true };
  kb.schedule = { tree: W };
  const [wg, l] = kb.freshNames('wg', 'l');
  return [
    { k: 'let', name: wg, t: 'i64', value: { k: 'wgid' } },
    {
      k: 'if',
      cond: cmp('<', ivar(wg), outputs),
      then: [{ k: 'let', name: l, t: 'i64', value: { k: 'lid' } }, ...body(ivar(wg), ivar(l))],
    },
  ];
}

/** A loop over [0, hi) of which invocation `l` of the workgroup takes l, l + W, l + 2W, ... */
export const strided = (v: string, hi: KExpr, l: KExpr, body: readonly KStmt[]): KStmt =>
  loop(v, hi, body, 'serial', { lo: l, step: REDUCE_WORKGROUP });

/**
 * Combines the workgroup's accumulators `acc` (one per invocation `l`) into every
 * invocation's `acc`: each partial goes into a shared array, which reduces as a tree by
 * `step` (a barrier after each level); every invocation then reads the root. Uniform control
 * flow only (every invocation of the workgroup runs it).
 */
export function combine(
  kb: KernelBuilder,
  l: KExpr,
  acc: string,
  t: KScalar,
  step: (a: KExpr, b: KExpr) => KExpr,
): KStmt[] {
  const W = REDUCE_WORKGROUP;
  const sh = kb.fresh('sh');
  const part = (i: KExpr): KExpr => ({ k: 'aload', name: sh, index: i, t });
  const stmts: KStmt[] = [
    { k: 'array', name: sh, t, size: W, space: 'shared' },
    { k: 'astore', name: sh, index: l, value: { k: 'var', name: acc, t } },
    { k: 'barrier' },
  ];
  for (let s = W / 2; s >= 1; s /= 2) {
    const value = step(part(l), part(add(l, int(s))));
    stmts.push(
      { k: 'if', cond: cmp('<', l, int(s)), then: [{ k: 'astore', name: sh, index: l, value }] },
      { k: 'barrier' },
    );
  }
  stmts.push({ k: 'set', name: acc, value: part(int(0)) });
  return stmts;
}

/** A `combine` found in a statement list (matchCombine): what a target may render another way. */
export interface CombineMatch {
  /** Its statements are ss[start, end) of the list searched. */
  readonly start: number;
  readonly end: number;
  /** The shared array, the local index, the accumulator and its type, the workgroup size. */
  readonly sh: string;
  readonly l: KExpr;
  readonly acc: string;
  readonly t: KScalar;
  readonly W: number;
  /** Level s's combined value, step(sh[l], sh[l + s]), by s (W/2, ..., 1). */
  readonly levels: ReadonlyMap<number, KExpr>;
}

const same = (a: KExpr, b: KExpr): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The `combine` (of a workgroup of REDUCE_WORKGROUP) starting at ss[start], if one does: the
 * exact statements combine() gives, so that a dialect can render its tree another way (CUDA:
 * warp shuffles, src/codegen/cuda-warp.ts) knowing what it replaces.
 */
export function matchCombine(ss: readonly KStmt[], start: number): CombineMatch | undefined {
  const W = REDUCE_WORKGROUP;
  const [decl, put, bar] = [ss[start], ss[start + 1], ss[start + 2]];
  if (decl?.k !== 'array' || decl.space !== 'shared' || decl.size !== W) return undefined;
  if (put?.k !== 'astore' || put.name !== decl.name || put.value.k !== 'var' || bar?.k !== 'barrier') return undefined;
  const [sh, l, acc, t] = [decl.name, put.index, put.value.name, decl.t];
  const part = (i: KExpr): KExpr => ({ k: 'aload', name: sh, index: i, t });
  const levels = new Map<number, KExpr>();
  let at = start + 3;
  for (let s = W / 2; s >= 1; s /= 2, at += 2) {
    const [lv, b] = [ss[at], ss[at + 1]];
    if (lv?.k !== 'if' || lv.else || !same(lv.cond, cmp('<', l, int(s))) || b?.k !== 'barrier') return undefined;
    const st = lv.then[0];
    if (lv.then.length !== 1 || st?.k !== 'astore' || st.name !== sh || !same(st.index, l)) return undefined;
    const reads: KExpr[] = [];
    const walk = (e: KExpr): KExpr => (e.k === 'aload' && e.name === sh ? (reads.push(e), e) : mapChildren(e, walk));
    walk(st.value);
    if (!reads.every((r) => same(r, part(l)) || same(r, part(add(l, int(s)))))) return undefined;
    levels.set(s, st.value);
  }
  const last = ss[at];
  if (last?.k !== 'set' || last.name !== acc || !same(last.value, part(int(0)))) return undefined;
  return { start, end: at + 1, sh, l, acc, t, W, levels };
}

/** Statements run by invocation 0 of the workgroup only. */
export const first = (l: KExpr, then: readonly KStmt[]): KStmt => ({ k: 'if', cond: cmp('==', l, int(0)), then });

/** One output of a tree reduction: how each reduced element is read and how the result is stored. */
export interface TreeReduction {
  /** Output elements (one workgroup each). */
  readonly outputs: KExpr;
  /** Reduced elements per output. */
  readonly extent: KExpr;
  readonly t: KScalar;
  /** The accumulator's start. */
  readonly init: KExpr;
  /** `acc` combined with `v` (also how two partials combine). */
  readonly step: (acc: KExpr, v: KExpr) => KExpr;
  /** Element `r` (of `extent`) of output `o`, read by the kernel `kb` builds. */
  readonly element: (kb: KernelBuilder, o: KExpr, r: KExpr) => KExpr;
  /** The statement storing result `v` of output `o` (run by invocation 0 only). */
  readonly store: (o: KExpr, v: KExpr) => KStmt;
}

/** The kernel body of a tree reduction; sets the builder's tiled grid. */
export function treeReduce(kb: KernelBuilder, red: TreeReduction): KStmt[] {
  const [acc, r] = kb.freshNames('acc', 'r');
  const { t } = red;
  const accv: KExpr = { k: 'var', name: acc, t };
  return perWorkgroup(kb, red.outputs, (wg, l) => [
    { k: 'let', name: acc, t, value: red.init },
    strided(r, red.extent, l, [{ k: 'set', name: acc, value: red.step(accv, red.element(kb, wg, ivar(r))) }]),
    ...combine(kb, l, acc, t, red.step),
    first(l, [red.store(wg, accv)]),
  ]);
}

/** Workgroups per output of a split reduction's first kernel. */
export const SPLIT_PARTS = 64;
/** Reductions with at most this many outputs (a known count) split when their extent is long. */
export const SPLIT_MAX_OUTPUTS = 16;

/** Whether a tree reduction splits: few outputs, an extent not known below SPLIT_PARTS workgroups' worth. */
export const splitFits = (outputs: KExpr, extent: KExpr): boolean =>
  outputs.k === 'const' &&
  outputs.v <= SPLIT_MAX_OUTPUTS &&
  !(extent.k === 'const' && extent.v < SPLIT_PARTS * REDUCE_WORKGROUP);

/**
 * A tree reduction of few outputs in two kernels, so that more than one workgroup works on
 * each: the first (in kb.before) has SPLIT_PARTS workgroups per output, workgroup p folding
 * the elements p·W + l, p·W + l + P·W, ... of its output and storing its tree's result into
 * a partials buffer; the second (the body returned) reduces each output's P partials as
 * treeReduce does. The order of every add is still fixed by W and P alone.
 */
export function splitReduce(kb: KernelBuilder, red: TreeReduction): KStmt[] {
  const [W, P] = [REDUCE_WORKGROUP, SPLIT_PARTS];
  const n = (red.outputs as { v: number }).v;
  const { t } = red;
  const partials = kb.tables.buffer(t === 'f32' ? 'f32' : t === 'bool' ? 'bool' : 'i64', dimConst(n * P), 'transient');
  const kp = kb.another();
  const out = kp.param(partials, 'write');
  const [acc, r] = kp.freshNames('acc', 'r');
  const accv: KExpr = { k: 'var', name: acc, t };
  const body = perWorkgroup(kp, int(n * P), (g, l) => {
    const [o, p] = [ix('/', g, int(P)), ix('%', g, int(P))];
    return [
      { k: 'let', name: acc, t, value: red.init },
      loop(r, red.extent, [{ k: 'set', name: acc, value: red.step(accv, red.element(kp, o, ivar(r))) }], 'serial', {
        lo: add(mul(p, int(W)), l),
        step: P * W,
      }),
      ...combine(kp, l, acc, t, red.step),
      first(l, [{ k: 'store', buf: out, index: g, value: accv }]),
    ];
  });
  kb.before.push(kp.finish('reduce', body, 'partials of a split reduction'));
  const from = kb.param(partials, 'read');
  return treeReduce(kb, {
    ...red,
    extent: int(P),
    element: (_, o, q) => ({ k: 'load', buf: from, index: add(mul(o, int(P)), q), t }),
  });
}
