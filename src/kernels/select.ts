// Selection kernels: topk and scatter_add.
//
// topk picks, k times per row, the best element that comes after the previous pick in the
// order (value descending, NaN first, ties by lower index): O(k·n) and no scratch memory,
// which suits the small k of mixture-of-experts routing.
//
// scatter_add copies x, then adds each src element at its index on one thread (indices may
// repeat, so the adds must not race); out-of-range indices are dropped. For a GPU, a short
// target axis takes a workgroup per column and a 1-D scatter a workgroup per target
// (scatter-gpu.ts); any other runs one invocation per column (the src coordinates outside
// the index axes): each copies its column of x and adds its column's elements in index
// order, so no two invocations write one element and the adds keep the interpreter's order.

import type { Node, NodeOf } from '../ir/graph.js';
import { type KExpr, type KStmt, cmp, dot, int, ivar, loop, scalarOf, select } from '../ir/kernel.js';
import type { KernelBuilder } from './builder.js';
import { type Fuser, stridesOf } from './expr.js';
import { copyKernel, nest, numelOf } from './elementwise.js';
import { scatterForm, scatterGather, scatterTree } from './scatter-gpu.js';

const or = (a: KExpr, b: KExpr): KExpr => cmp('||', a, b);
const and = (a: KExpr, b: KExpr): KExpr => cmp('&&', a, b);

/** (a, i) comes before (b, j): a > b, or NaN a over a number b, or equal with i < j. */
function before(a: KExpr, i: KExpr, b: KExpr, j: KExpr, float: boolean): KExpr {
  const byValue = or(cmp('>', a, b), and(cmp('==', a, b), cmp('<', i, j)));
  if (!float) return byValue;
  const nanA = cmp('!=', a, a);
  const nanB = cmp('!=', b, b);
  return select(nanA, or(cmp('<', i, j), cmp('==', nanB, int(0))), and(cmp('==', nanB, int(0)), byValue), 'bool');
}

export function topkKernel(kb: KernelBuilder, f: Fuser, n: NodeOf<'topk'>, out: number): KStmt[] {
  const x = n.inputs[0]!;
  const { k, axis, output } = n.args;
  const t = scalarOf(x.type.dtype);
  const float = t === 'f32';
  const o = kb.param(out, 'write');
  const ost = stridesOf(n.type.shape, kb);
  const rowShape = x.type.shape.map((d, i) => (i === axis ? n.type.shape[axis]! : d)).filter((_, i) => i !== axis);
  const len = kb.dim(x.type.shape[axis]!);
  return nest(
    kb,
    rowShape,
    (rowIdx) => {
      const [pv, pi, bv, bi, r, i] = kb.freshNames('pv', 'pi', 'bv', 'bi', 'r', 'j');
      const at = (pos: KExpr): KExpr[] => [...rowIdx.slice(0, axis), pos, ...rowIdx.slice(axis)];
      const v = f.at(kb, x, at(ivar(i)));
      const V = (name: string): KExpr => ({ k: 'var', name, t });
      const cand = kb.fresh('v');
      const afterPrev = or(cmp('==', ivar(r), int(0)), before(V(pv), ivar(pi), V(cand), ivar(i), float));
      const better = or(cmp('<', ivar(bi), int(0)), before(V(cand), ivar(i), V(bv), ivar(bi), float));
      const result: KExpr = output === 'values' ? V(bv) : ivar(bi);
      return [
        { k: 'let', name: pv, t, value: { k: 'const', t, v: 0 } },
        { k: 'let', name: pi, t: 'i64', value: int(-1) },
        loop(r, int(k), [
          { k: 'let', name: bv, t, value: { k: 'const', t, v: 0 } },
          { k: 'let', name: bi, t: 'i64', value: int(-1) },
          loop(i, len, [
            { k: 'let', name: cand, t, value: v },
            {
              k: 'if',
              cond: and(afterPrev, better),
              then: [
                { k: 'set', name: bv, value: V(cand) },
                { k: 'set', name: bi, value: ivar(i) },
              ],
            },
          ]),
          { k: 'store', buf: o, index: dot(at(ivar(r)), ost), value: result },
          { k: 'set', name: pv, value: V(bv) },
          { k: 'set', name: pi, value: ivar(bi) },
        ]),
      ];
    },
    { k: 'ix', op: '*', a: numelOf(x.type.shape, kb), b: int(k) },
    false,
  );
}

export function scatterAddKernel(kb: KernelBuilder, f: Fuser, n: NodeOf<'scatter_add'>, out: number): KStmt[] {
  const [x, idxNode, src] = n.inputs as [Node, Node, Node];
  const { axis } = n.args;
  const form = kb.target === 'gpu' && kb.workgroups ? scatterForm(kb, n) : undefined;
  if (form) return (form === 'tree' ? scatterTree : scatterGather)(kb, f, n, out);
  const copy = kb.target === 'cpu' ? copyKernel(kb, f, x, out) : [];
  const o = kb.param(out, 'readwrite');
  const ost = stridesOf(n.type.shape, kb);
  const t = scalarOf(n.type.dtype);
  const r = idxNode.type.shape.length;
  const vars = src.type.shape.map(() => kb.fresh('s'));
  const s = vars.map(ivar);
  const tgt = kb.fresh('t');
  const pos = dot([...s.slice(0, axis), ivar(tgt), ...s.slice(axis + r)], ost);
  const cur: KExpr = { k: 'load', buf: o, index: pos, t };
  // bool adds are `or`, as the interpreter's (wrapped to 0/1) are.
  const sum: KExpr =
    t === 'bool' ? cmp('||', cur, f.at(kb, src, s)) : { k: 'bin', fn: 'add', a: cur, b: f.at(kb, src, s), t };
  const value: KExpr =
    t === 'i64' && n.type.dtype !== 'i64' ? { k: 'cast', from: 'i64', to: n.type.dtype, a: sum, t } : sum;
  const len = kb.dim(x.type.shape[axis]!);
  let body: KStmt[] = [
    { k: 'let', name: tgt, t: 'i64', value: f.at(kb, idxNode, s.slice(axis, axis + r)) },
    {
      k: 'if',
      cond: and(cmp('>=', ivar(tgt), int(0)), cmp('<', ivar(tgt), len)),
      then: [{ k: 'store', buf: o, index: pos, value }],
    },
  ];
  const isCol = (i: number): boolean => i < axis || i >= axis + r;
  for (let i = vars.length - 1; i >= 0; i--)
    if (kb.target === 'cpu' || !isCol(i)) body = [loop(vars[i]!, kb.dim(src.type.shape[i]!), body)];
  if (kb.target === 'cpu') return [...copy, ...body];
  // GPU: the index loops inside one invocation per column, after the column's copy.
  const cols = src.type.shape.filter((_, i) => isCol(i));
  return nest(
    kb,
    cols,
    (c) => {
      const colVars = vars.filter((_, i) => isCol(i));
      const at = (t: KExpr): KExpr[] => [...c.slice(0, axis), t, ...c.slice(axis)];
      const lets: KStmt[] = colVars.map((v, i) => ({ k: 'let', name: v, t: 'i64', value: c[i]! }));
      const j = kb.fresh('j');
      const copyCol = loop(j, len, [
        { k: 'store', buf: o, index: dot(at(ivar(j)), ost), value: f.at(kb, x, at(ivar(j))) },
      ]);
      return [...lets, copyCol, ...body];
    },
    numelOf(src.type.shape, kb),
    false,
  );
}
