// The prefix-sum kernel (cumsum): O(n) along the scanned axis, parallel over the others.
//
// The loops over the other axes are shared across threads, except the innermost one when
// the scanned axis is not innermost: that one runs as SIMD lanes inside the sequential loop
// along the axis, each step adding a row of x to the row of sums just stored (read back from
// the output), so the running sums of a row are computed side by side and every access is
// contiguous. When the scanned axis is innermost, or the dtype is f16 or bf16 (summed in f32
// and rounded only when stored, as the interpreter and ONNX Runtime do), each row keeps its
// running sum in a register. Integer sums wrap at each store, which gives the numbers that
// wrapping each add gives.

import type { NodeOf } from '../ir/graph.js';
import { type KExpr, type KStmt, cmp, dot, int, ix, ivar, loop, scalarOf, select } from '../ir/kernel.js';
import type { KernelBuilder } from './builder.js';
import { type Fuser, stridesOf } from './expr.js';
import { numelOf } from './elementwise.js';

export function cumsumKernel(kb: KernelBuilder, f: Fuser, n: NodeOf<'cumsum'>, out: number): KStmt[] {
  const x = n.inputs[0]!;
  const { axis, exclusive, reverse } = n.args;
  const shape = x.type.shape;
  const dtype = n.type.dtype;
  const t = scalarOf(dtype);
  const o = kb.param(out, 'readwrite');
  const st = stridesOf(shape, kb);
  const len = kb.dim(shape[axis]!);
  const half = t === 'f32' && dtype !== 'f32';
  const lanes = axis < shape.length - 1 && !half ? shape.length - 1 : -1;
  const vars = shape.map(() => kb.fresh('i'));
  const idx: KExpr[] = vars.map(ivar);
  // Step j of the scan is at position `pos` along the axis; the step before it at `prev`.
  const j = vars[axis]!;
  const last = ix('-', len, int(1));
  const pos = reverse ? ix('-', last, ivar(j)) : ivar(j);
  const prev = reverse ? ix('+', pos, int(1)) : ix('-', pos, int(1));
  const at = (p: KExpr): KExpr[] => idx.map((e, i) => (i === axis ? p : e));
  const flat = (p: KExpr): KExpr => dot(at(p), st);
  const zero: KExpr = { k: 'const', t, v: 0 };
  const add = (a: KExpr, b: KExpr): KExpr => ({ k: 'bin', fn: 'add', a, b, t });
  let body: KStmt[];
  let scan: KStmt;
  if (lanes < 0) {
    // A running sum in a register per row.
    const acc = kb.fresh('acc');
    const accv: KExpr = { k: 'var', name: acc, t };
    const v = f.at(kb, x, at(pos));
    const step: KStmt[] = exclusive
      ? [
          { k: 'store', buf: o, index: flat(pos), value: accv },
          { k: 'set', name: acc, value: add(accv, v) },
        ]
      : [
          { k: 'set', name: acc, value: add(accv, v) },
          { k: 'store', buf: o, index: flat(pos), value: accv },
        ];
    scan = loop(j, len, step);
    body = [{ k: 'let', name: acc, t, value: zero }, scan];
  } else {
    // Rows of sums: out[pos] = out[prev] + x[pos] (exclusive: out[prev] + x[prev]).
    const first = cmp('==', ivar(j), int(0));
    const value = exclusive
      ? select(first, zero, add({ k: 'load', buf: o, index: flat(prev), t }, f.at(kb, x, at(prev))), t)
      : add(select(first, zero, { k: 'load', buf: o, index: flat(prev), t }, t), f.at(kb, x, at(pos)));
    const inner = loop(vars[lanes]!, kb.dim(shape[lanes]!), [{ k: 'store', buf: o, index: flat(pos), value }], 'simd');
    scan = loop(j, len, [inner]);
    body = [scan];
  }
  // The other axes (all but the scanned one and the SIMD one) are split across threads.
  const outer = shape.map((_, i) => i).filter((i) => i !== axis && i !== lanes);
  for (let k = outer.length - 1; k >= 0; k--) {
    const i = outer[k]!;
    const hi = kb.dim(shape[i]!);
    body = [
      k === 0
        ? kb.parallel(vars[i]!, hi, body, numelOf(shape, kb), { collapse: outer.length })
        : loop(vars[i]!, hi, body),
    ];
  }
  return body;
}
