// Row kernels (groups of kind `rows`, src/passes/fusion/rows.ts): a parallel loop over the
// rows [...O] of a row space [...O, L]; inside a row, in the members' order, each reduction
// is one loop over the row into a scalar accumulator (a SIMD sum, or fmc_max in order for
// NaN propagation), each per-row scalar a local, and the row values are computed where a
// loop reads them (one local each per element). The stored node is written by a last loop
// over the row, or once per row when it is a scalar. Softmax: max, sum of exp(x - max),
// then exp(x - max) / sum; layer norm: sum of x, sum of squares of x - mean, then the
// normalized row. A row value with a transcendental in it that the last reduction's loop
// and the final loop both need (softmax's exp) is written to the output by the first and
// read back by the second, not computed twice; nothing else row-sized touches memory.
// On a GPU, a row not known to be short takes a workgroup (reduce-gpu.ts): its invocations
// stride over the row in every loop, and each reduction ends in a tree over their partials.

import type { KernelGroup, Node, NodeOf } from '../ir/graph.js';
import {
  type KExpr,
  type KScalar,
  type KStmt,
  cmp,
  dot,
  f32,
  int,
  ivar,
  loop,
  scalarOf,
  select,
} from '../ir/kernel.js';
import { rowShapeOf } from '../passes/fusion/rows.js';
import type { KernelBuilder } from './builder.js';
import { nest, numelOf } from './elementwise.js';
import { type Fuser, defineLocals, stridesOf } from './expr.js';
import { reduceInit, reduceStep } from './reduce.js';
import { combine, first, perWorkgroup, strided, treeFits, unflatten } from './reduce-gpu.js';

/** Unary fns worth a store and a load to compute once per element instead of twice. */
const COSTLY = new Set(['exp', 'log', 'tanh', 'erf', 'sin', 'cos']);

export function rowsKernel(kb: KernelBuilder, f0: Fuser, k: KernelGroup, out: number): KStmt[] {
  const seed = k.root as NodeOf<'reduce'>;
  const row = seed.inputs[0]!.type.shape;
  const L = kb.dim(row[row.length - 1]!);
  const nodes = [k.root, ...k.members, k.store];
  const inGroup = new Set(nodes);
  const kindOf = (n: Node): 'row' | 'scalar' => (n.op === 'reduce' && inGroup.has(n) ? 'scalar' : rowShapeOf(seed, n)!);
  /** The row members among `from` and what they read through other row members (not through `stop`), in order. */
  const rowInputs = (from: readonly Node[], stop?: Node): Node[] => {
    const seen = new Set<Node>();
    const stack = [...from];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (seen.has(x) || !inGroup.has(x) || kindOf(x) !== 'row') continue;
      seen.add(x);
      if (x !== stop) stack.push(...x.inputs);
    }
    return [...seen].sort((a, b) => a.id - b.id);
  };
  const reductions = nodes.filter((n) => n.op === 'reduce');
  const last = reductions[reductions.length - 1]!;
  const final = kindOf(k.store) === 'row' ? rowInputs(k.store.inputs) : [];
  const cached =
    k.store.type.dtype === 'f32'
      ? rowInputs([last.inputs[0]!])
          .filter((n) => final.includes(n) && n.type.dtype === 'f32' && costly(n, f0, inGroup))
          .pop()
      : undefined;
  const o = kb.param(out, 'write');
  const st = stridesOf(k.store.type.shape, kb);
  /** The statements of the row at `outer`; `l` is the invocation's index in the row's workgroup, if it has one. */
  const rowBody = (outer: readonly KExpr[], l?: KExpr): KStmt[] => {
    // The index of a node of the row space: row nodes at (outer, j), scalars at (outer[, 0]).
    const at = (n: Node, j: KExpr): KExpr[] =>
      kindOf(n) === 'row' ? [...outer, j] : n.type.shape.length === outer.length ? [...outer] : [...outer, int(0)];
    let f = f0;
    const stmts: KStmt[] = [];
    for (const n of nodes) {
      if (n.op === 'reduce') {
        const x = n.inputs[0]!;
        const acc = kb.fresh('acc');
        const { fn } = (n as NodeOf<'reduce'>).args;
        const t: KScalar = scalarOf(x.type.dtype);
        const j = kb.fresh('j');
        const inner = defineLocals(kb, f, rowInputs([x]), (m) => at(m, ivar(j)));
        const keep: KStmt[] =
          n === last && cached
            ? [{ k: 'store', buf: o, index: dot(at(cached, ivar(j)), st), value: inner.f.at(kb, cached, []) }]
            : [];
        const v = inner.f.at(kb, x, at(x, ivar(j)));
        const accv: KExpr = { k: 'var', name: acc, t };
        const step = (a: KExpr, b: KExpr): KExpr => reduceStep(fn, t, a, b);
        if (l) {
          // A workgroup: NaNs propagate through fmc_max in each invocation and in the tree.
          stmts.push(
            { k: 'let', name: acc, t, value: reduceInit(fn, x.type.dtype) },
            strided(j, L, l, [...inner.stmts, ...keep, { k: 'set', name: acc, value: step(accv, v) }]),
            ...combine(kb, l, acc, t, step),
          );
        } else if (t === 'f32') {
          // SIMD lanes: a sum adds, a max keeps fmc_max per lane and counts NaNs apart (the
          // lanes' maxima combine by comparison, which would drop a NaN), so that any NaN
          // in the row still gives NaN.
          const [xv, nans] = [kb.fresh('x'), kb.fresh('nan')];
          const xe: KExpr = { k: 'var', name: xv, t };
          const isMax = fn === 'max';
          const body: KStmt[] = [
            ...inner.stmts,
            ...keep,
            { k: 'let', name: xv, t, value: v },
            { k: 'set', name: acc, value: reduceStep(fn, t, accv, xe) },
            ...(isMax ? [{ k: 'set', name: nans, value: nanCount(nans, xe) } as const] : []),
          ];
          stmts.push(
            { k: 'let', name: acc, t, value: reduceInit(fn, x.type.dtype) },
            ...(isMax ? [{ k: 'let', name: nans, t, value: f32(0) } as const] : []),
            loop(j, L, body, 'simd', {
              reduce: [{ name: acc, op: isMax ? 'max' : '+' }, ...(isMax ? [{ name: nans, op: '+' as const }] : [])],
            }),
            ...(isMax
              ? [
                  {
                    k: 'set',
                    name: acc,
                    value: select(cmp('>', { k: 'var', name: nans, t }, f32(0)), f32(NaN), accv, t),
                  } as const,
                ]
              : []),
          );
        } else {
          const step: KStmt = { k: 'set', name: acc, value: reduceStep(fn, t, accv, v) };
          stmts.push(
            { k: 'let', name: acc, t, value: reduceInit(fn, x.type.dtype) },
            loop(j, L, [...inner.stmts, ...keep, step], 'serial'),
          );
        }
        f = f.with(new Map([[n, { k: 'var', name: acc, t }]]));
      } else if (kindOf(n) === 'scalar') {
        const def = defineLocals(kb, f, [n], (m) => at(m, int(0)));
        stmts.push(...def.stmts);
        f = def.f;
      }
    }
    const s = k.store;
    if (kindOf(s) === 'scalar') {
      const store: KStmt = { k: 'store', buf: o, index: dot(at(s, int(0)), st), value: f.at(kb, s, at(s, int(0))) };
      stmts.push(l ? first(l, [store]) : store);
      return stmts;
    }
    const j = kb.fresh('j');
    const index = dot(at(s, ivar(j)), st);
    // The cached value is read back from where the last reduction's loop wrote it.
    const g = cached ? f.with(new Map([[cached, f.load(kb, out, s, index)]])) : f;
    const needed = rowInputs(s.inputs, cached).filter((n) => n !== cached);
    const inner = defineLocals(kb, g, needed, (m) => at(m, ivar(j)));
    const tail: KStmt[] = [
      ...inner.stmts,
      { k: 'store', buf: o, index, value: inner.f.compute(kb, s, at(s, ivar(j))) },
    ];
    stmts.push(l ? strided(j, L, l, tail) : loop(j, L, tail, 'simd'));
    return stmts;
  };
  const outer = row.slice(0, -1);
  if (kb.target === 'gpu' && kb.workgroups && treeFits(L)) {
    const counts = outer.map((d) => kb.dim(d));
    return perWorkgroup(kb, numelOf(outer, kb), (wg, l) => rowBody(unflatten(wg, counts), l));
  }
  return nest(kb, outer, (idx) => rowBody(idx), numelOf(row, kb), false);
}

/** Whether computing row member `n` inline evaluates a costly unary fn (through members and unbuffered nodes). */
function costly(n: Node, f: Fuser, inGroup: ReadonlySet<Node>): boolean {
  const seen = new Set<Node>();
  const stack = [n];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (seen.has(x) || f.buffers.has(x) || (x !== n && inGroup.has(x) && x.op === 'reduce')) continue;
    seen.add(x);
    if (x.op === 'unary' && COSTLY.has(x.args.fn)) return true;
    stack.push(...x.inputs);
  }
  return false;
}

/** `nans + (x is NaN)`: the NaN count of a vectorized max. */
function nanCount(nans: string, x: KExpr): KExpr {
  const one = select(cmp('!=', x, x), f32(1), f32(0), 'f32');
  return { k: 'bin', fn: 'add', a: { k: 'var', name: nans, t: 'f32' }, b: one, t: 'f32' };
}
