// The graphs and inputs of the f16/bf16 compute-type tests (C: half-types.test.ts, WGSL:
// test/wgsl/half-types.test.ts): every unary and binary fn over every value of the format, and
// fused chains.

import { Builder } from '../../src/ir/build.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import { ARITH_FNS, UNARY_FNS } from '../../src/ir/ops.js';
import { type HostTensor, bitsToBf16, bitsToF16, hostTensor } from '../../src/ir/value.js';

export type Half = 'f16' | 'bf16';
/** Every 16-bit pattern. */
export const N = 65536;

/** Every value of the format (x), and a permutation of them (y: bits times an odd constant). */
export function halfInputs(dtype: Half): Map<string, HostTensor> {
  const of = dtype === 'f16' ? bitsToF16 : bitsToBf16;
  const all = (perm: (i: number) => number): HostTensor =>
    hostTensor(
      dtype,
      [N],
      Array.from({ length: N }, (_, i) => of(perm(i))),
    );
  return new Map([
    ['x', all((i) => i)],
    ['y', all((i) => Math.imul(i, 40503) & 0xffff)],
  ]);
}

/** Fused chains of `dtype` on x and y, each one kernel. */
export function chainOutputs(g: Builder, x: Node, y: Node, dtype: Half): Record<string, Node> {
  const other: Half = dtype === 'f16' ? 'bf16' : 'f16';
  return {
    chain: g.div(g.tanh(g.add(g.mul(g.exp(x), y), x)), y),
    select: g.where(g.gt(x, y), g.sqrt(g.unary('abs', x)), g.sub(g.neg(y), g.full(1, dtype))),
    casts: g.mul(
      g.cast(g.add(g.cast(x, other), g.full(0.1, other)), dtype),
      g.cast(g.mul(g.cast(y, 'f32'), g.full(3, 'f32')), dtype),
    ),
  };
}

/**
 * Every unary and binary fn of `dtype` over the inputs, and the chains. With `trigBound`, sin
 * and cos read x only where |x| < trigBound (0 elsewhere).
 */
export function halfGraph(dtype: Half, trigBound?: number): Graph {
  const g = new Builder();
  const x = g.input('x', dtype, [N]);
  const y = g.input('y', dtype, [N]);
  const outs: Record<string, Node> = chainOutputs(g, x, y, dtype);
  const small =
    trigBound === undefined ? x : g.where(g.lt(g.unary('abs', x), g.full(trigBound, dtype)), x, g.full(0, dtype));
  for (const f of UNARY_FNS) if (f !== 'not') outs[f] = g.unary(f, f === 'sin' || f === 'cos' ? small : x);
  for (const f of ARITH_FNS) outs[f] = g.binary(f, x, y);
  return g.graph('forward', outs);
}
