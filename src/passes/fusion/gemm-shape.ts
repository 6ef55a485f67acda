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

/** The letter groups of a GEMM-shaped einsum, or undefined when it is not one. */
export function gemmGroups(n: NodeOf<'einsum'>): GemmLetters | undefined {
  if (n.inputs.length !== 2 || !isFloat(n.type.dtype) || !n.inputs.every((i) => isFloat(i.type.dtype)))
    return undefined;
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
