// Which contractions are GEMMs: a two-operand float einsum whose letters split into batch
// (both operands and the output), M (A and output), N (B and output) and K (both operands)
// is C[b, m, n] = Σ_k A[b, m, k] · B[b, k, n] with each group flattened. The fusion pass
// gives these a blocked kernel with an epilogue; src/kernels/gemm.ts builds it.

import { isFloat } from '../../ir/dtype.js';
import type { Node, NodeOf } from '../../ir/graph.js';
import { parseEinsum } from '../../ir/infer.js';

export interface GemmLetters {
  readonly batch: string[];
  readonly m: string[];
  readonly n: string[];
  readonly k: string[];
}

/**
 * An int8 contraction (int8 activations, src/passes/quantize-act.ts): an i32 einsum of two
 * operands cast to i32 from i8, which src/kernels/gemm-int8.ts computes on bytes.
 */
export const isInt8Contraction = (n: NodeOf<'einsum'>): boolean =>
  n.inputs.length === 2 &&
  n.type.dtype === 'i32' &&
  n.inputs.every((i) => i.op === 'cast' && i.type.dtype === 'i32' && i.inputs[0]!.type.dtype === 'i8');

/** The letter groups of a GEMM-shaped einsum (float, or an int8 contraction), or undefined when it is not one. */
export function gemmGroups(n: NodeOf<'einsum'>): GemmLetters | undefined {
  const float = isFloat(n.type.dtype) && n.inputs.every((i) => isFloat(i.type.dtype));
  if (n.inputs.length !== 2 || !(float || isInt8Contraction(n))) return undefined;
  const { ins, out } = parseEinsum(n.args.spec, 2);
  const [a, b] = ins as [string, string];
  const once = (s: string): boolean => new Set(s).size === s.length;
  if (!once(a) || !once(b) || !once(out)) return undefined;
  for (const c of [...a, ...b]) if (!out.includes(c) && !(a.includes(c) && b.includes(c))) return undefined;
  const g: GemmLetters = { batch: [], m: [], n: [], k: [] };
  for (const c of out) (a.includes(c) && b.includes(c) ? g.batch : a.includes(c) ? g.m : g.n).push(c);
  for (const c of a) if (!out.includes(c)) g.k.push(c);
  // Without M or N letters (a matrix-vector product, a depthwise convolution) register
  // tiles would be mostly padding: the plain einsum loops do better.
  if (g.m.length === 0 || g.n.length === 0) return undefined;
  return g;
}

export const isGemm = (n: NodeOf<'einsum'>): boolean => gemmGroups(n) !== undefined;

/** Whether `n` is a contraction that gets a GEMM kernel. */
export const isGemmNode = (n: Node): n is NodeOf<'einsum'> => n.op === 'einsum' && isGemm(n);
