// Einsum kernels that are not a GEMM (one operand, integer dtypes, letters summed within
// one operand): loops over the output letters, an accumulator over the rest. Float
// products accumulate with fused multiply-adds in f32, as the interpreter's f32 einsum.
// Depthwise convolutions run as depthwise.ts's kernel where it applies.

import type { Dim } from '../ir/dims.js';
import type { NodeOf } from '../ir/graph.js';
import { parseEinsum } from '../ir/infer.js';
import { type KExpr, type KStmt, cmp, dot, ivar, loop, scalarOf } from '../ir/kernel.js';
import type { KernelBuilder } from './builder.js';
import { depthwiseKernel } from './depthwise.js';
import { type Fuser, stridesOf } from './expr.js';
import { nest, numelOf } from './elementwise.js';

/** The size of each letter of an einsum, read from the operands' shapes. */
export function letterSizes(n: NodeOf<'einsum'>): Map<string, Dim> {
  const { ins } = parseEinsum(n.args.spec, n.inputs.length);
  const sizes = new Map<string, Dim>();
  ins.forEach((s, i) => [...s].forEach((c, j) => sizes.set(c, n.inputs[i]!.type.shape[j]!)));
  return sizes;
}

export function einsumKernel(kb: KernelBuilder, f: Fuser, n: NodeOf<'einsum'>, out: number): KStmt[] {
  const depthwise = depthwiseKernel(kb, f, n, out);
  if (depthwise) return depthwise;
  const { ins, out: outSpec } = parseEinsum(n.args.spec, n.inputs.length);
  const sizes = letterSizes(n);
  const summed = [...sizes.keys()].filter((c) => !outSpec.includes(c)).sort();
  const t = scalarOf(n.type.dtype);
  const o = kb.param(out, 'write');
  const st = stridesOf(n.type.shape, kb);
  const acc = kb.fresh('acc');
  const accv: KExpr = { k: 'var', name: acc, t };
  const work = numelOf([...sizes.values()], kb);
  return nest(
    kb,
    n.type.shape,
    (outIdx) => {
      const env = new Map<string, KExpr>([...outSpec].map((c, i) => [c, outIdx[i]!]));
      const svars = summed.map((c) => {
        const v = kb.fresh('s');
        env.set(c, ivar(v));
        return v;
      });
      const operand = (i: number): KExpr =>
        f.at(
          kb,
          n.inputs[i]!,
          [...ins[i]!].map((c) => env.get(c)!),
        );
      const product = (): KExpr => (ins.length === 1 ? operand(0) : cmp('&&', operand(0), operand(1)));
      // bool: the interpreter's sum of products wrapped to 0/1 is an `or` of `and`s.
      const step: KExpr =
        t === 'bool'
          ? cmp('||', accv, product())
          : ins.length === 1
            ? { k: 'bin', fn: 'add', a: accv, b: operand(0), t }
            : t === 'f32'
              ? { k: 'fma', a: operand(0), b: operand(1), c: accv }
              : { k: 'bin', fn: 'add', a: accv, b: { k: 'bin', fn: 'mul', a: operand(0), b: operand(1), t }, t };
      let inner: KStmt[] = [{ k: 'set', name: acc, value: step }];
      for (let j = summed.length - 1; j >= 0; j--) inner = [loop(svars[j]!, kb.dim(sizes.get(summed[j]!)!), inner)];
      const value: KExpr =
        t === 'i64' && n.type.dtype !== 'i64' ? { k: 'cast', from: 'i64', to: n.type.dtype, a: accv, t } : accv;
      return [
        { k: 'let', name: acc, t, value: { k: 'const', t, v: 0 } },
        ...inner,
        { k: 'store', buf: o, index: dot(outIdx, st), value },
      ];
    },
    work,
    false,
  );
}
