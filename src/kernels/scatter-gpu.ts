// The GPU forms of a scatter_add that are not one invocation per column (select.ts):
// - scatterTree, a short target axis (a known length V whose V × W partials fit in 16 KiB of
//   workgroup memory: V ≤ 64 for f32, 32 for i64): a workgroup per column (the src
//   coordinates outside the index axes). Invocation l takes the index positions l, l + W,
//   l + 2W, ... in order and adds each src element into its own V partial sums (a local
//   array; an out-of-range index is dropped); the workgroup then combines the W partials of
//   each target as a tree in workgroup memory (reduce-gpu.ts's order: a barrier after each
//   level), and the invocations store x + total for the V targets.
// - scatterGather, a 1-D scatter (no columns) into a longer or unknown axis: a workgroup per
//   target, whose invocations scan the index positions and sum the src elements that hit
//   it (reduce-gpu.ts treeReduce). Every target scans every index: V × N loads, parallel
//   over V × W invocations, where the serial form did V + N in one invocation.
// No two invocations write one element and the order of every add is fixed by W alone: the
// result is the same bits on every run (no float atomics). A float target whose total is ±0
// (no index hit it, or the hits cancel) keeps x's bits, -0 included (x + 0 would make -0
// +0). Integer sums wrap as the serial adds do (addition modulo 2^bits is associative),
// bools are `||`.

import type { Node, NodeOf } from '../ir/graph.js';
import {
  type KExpr,
  type KScalar,
  type KStmt,
  add,
  cmp,
  dot,
  int,
  ivar,
  lit,
  loop,
  mul,
  scalarOf,
  select,
} from '../ir/kernel.js';
import type { KernelBuilder } from './builder.js';
import { numelOf } from './elementwise.js';
import { type Fuser, stridesOf } from './expr.js';
import { REDUCE_WORKGROUP, perWorkgroup, strided, treeReduce, unflatten } from './reduce-gpu.js';

/**
 * Bytes of workgroup memory a scatter into a short axis may use for its W partials of each
 * target (the WebGPU default limit: 64 targets of f32, 32 of i64, two words each on WGSL).
 */
export const SCATTER_TREE_BYTES = 16384;
/** The longest known target axis of a 1-D scatter scanned by a workgroup per target. */
export const SCATTER_GATHER_MAX = 4096;

/** The GPU form of a scatter_add, if not one invocation per column. */
export function scatterForm(kb: KernelBuilder, n: NodeOf<'scatter_add'>): 'tree' | 'gather' | undefined {
  const [x, idx, src] = n.inputs as [Node, Node, Node];
  const V = kb.dim(x.type.shape[n.args.axis]!);
  const bytes = scalarOf(n.type.dtype) === 'i64' ? 8 : 4;
  if (V.k === 'const' && V.v * REDUCE_WORKGROUP * bytes <= SCATTER_TREE_BYTES) return 'tree';
  const oneD = src.type.shape.length === idx.type.shape.length;
  return oneD && !(V.k === 'const' && V.v > SCATTER_GATHER_MAX) ? 'gather' : undefined;
}

/** x + total, keeping x where a float total is ±0; narrow integers wrapped to their width. */
function plusTotal(n: NodeOf<'scatter_add'>, t: KScalar, xv: KExpr, sum: KExpr): KExpr {
  const plus = addOf(t);
  const total = t === 'f32' ? select(cmp('!=', sum, lit(t, 0)), plus(xv, sum), xv, t) : plus(xv, sum);
  return t === 'i64' && n.type.dtype !== 'i64' ? { k: 'cast', from: 'i64', to: n.type.dtype, a: total, t } : total;
}

/** The add of a scatter_add's compute type (`||` on bools). */
const addOf =
  (t: KScalar) =>
  (a: KExpr, b: KExpr): KExpr =>
    t === 'bool' ? cmp('||', a, b) : { k: 'bin', fn: 'add', a, b, t: t === 'f32' ? 'f32' : 'i64' };

export function scatterGather(kb: KernelBuilder, f: Fuser, n: NodeOf<'scatter_add'>, out: number): KStmt[] {
  const [x, idxNode, src] = n.inputs as [Node, Node, Node];
  const t: KScalar = scalarOf(n.type.dtype);
  const o = kb.param(out, 'write');
  const idxDims = idxNode.type.shape.map((d) => kb.dim(d));
  return treeReduce(kb, {
    outputs: kb.dim(x.type.shape[0]!),
    extent: numelOf(idxNode.type.shape, kb),
    t,
    init: lit(t, 0),
    step: addOf(t),
    element: (_, tgt, s) => {
      const si = unflatten(s, idxDims);
      return select(cmp('==', f.at(kb, idxNode, si), tgt), f.at(kb, src, si), lit(t, 0), t);
    },
    store: (tgt, sum) => ({ k: 'store', buf: o, index: tgt, value: plusTotal(n, t, f.at(kb, x, [tgt]), sum) }),
  });
}

export function scatterTree(kb: KernelBuilder, f: Fuser, n: NodeOf<'scatter_add'>, out: number): KStmt[] {
  const [x, idxNode, src] = n.inputs as [Node, Node, Node];
  const { axis } = n.args;
  const W = REDUCE_WORKGROUP;
  const V = (kb.dim(x.type.shape[axis]!) as { v: number }).v;
  const t: KScalar = scalarOf(n.type.dtype);
  const o = kb.param(out, 'write');
  const ost = stridesOf(n.type.shape, kb);
  const r = idxNode.type.shape.length;
  const cols = src.type.shape.filter((_, i) => i < axis || i >= axis + r);
  const idxDims = idxNode.type.shape.map((d) => kb.dim(d));
  const plus = addOf(t);
  const [part, sh, v, s, tgt, lv] = kb.freshNames('part', 'sh', 'v', 's', 't', 'lv');
  const el = (name: string, i: KExpr): KExpr => ({ k: 'aload', name, index: i, t });
  const colCounts = cols.map((d) => kb.dim(d));
  return perWorkgroup(kb, numelOf(cols, kb), (wg, l) => {
    const c = unflatten(wg, colCounts);
    const at = (pos: KExpr): KExpr[] => [...c.slice(0, axis), pos, ...c.slice(axis)];
    const si = unflatten(ivar(s), idxDims);
    const srcAt = [...c.slice(0, axis), ...si, ...c.slice(axis)];
    const hit = cmp('&&', cmp('>=', ivar(tgt), int(0)), cmp('<', ivar(tgt), int(V)));
    const slot = (k: KExpr, lane: KExpr): KExpr => add(mul(k, int(W)), lane);
    const tree: KStmt[] = [];
    for (let step = W / 2; step >= 1; step /= 2) {
      const sum = plus(el(sh, slot(ivar(v), l)), el(sh, slot(ivar(v), add(l, int(step)))));
      tree.push(
        {
          k: 'if',
          cond: cmp('<', l, int(step)),
          then: [loop(v, int(V), [{ k: 'astore', name: sh, index: slot(ivar(v), l), value: sum }])],
        },
        { k: 'barrier' },
      );
    }
    const value = plusTotal(n, t, f.at(kb, x, at(ivar(v))), el(sh, slot(ivar(v), int(0))));
    return [
      { k: 'array', name: part, t, size: V, space: 'local' },
      loop(v, int(V), [{ k: 'astore', name: part, index: ivar(v), value: lit(t, 0) }]),
      strided(s, numelOf(idxNode.type.shape, kb), l, [
        { k: 'let', name: tgt, t: 'i64', value: f.at(kb, idxNode, si) },
        {
          k: 'if',
          cond: hit,
          then: [{ k: 'astore', name: part, index: ivar(tgt), value: plus(el(part, ivar(tgt)), f.at(kb, src, srcAt)) }],
        },
      ]),
      { k: 'array', name: sh, t, size: V * W, space: 'shared' },
      loop(v, int(V), [{ k: 'astore', name: sh, index: slot(ivar(v), l), value: el(part, ivar(v)) }]),
      { k: 'barrier' },
      ...tree,
      strided(lv, int(V), l, [
        { k: 'let', name: v, t: 'i64', value: ivar(lv) },
        { k: 'store', buf: o, index: dot(at(ivar(v)), ost), value },
      ]),
    ];
  });
}
