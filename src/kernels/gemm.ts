import type { NodeOf } from '../ir/graph.js';
import type { KStmt } from '../ir/kernel.js';
import type { KernelBuilder } from './builder.js';
import type { Fuser } from './expr.js';

export const isGemm = (n: NodeOf<'einsum'>): boolean => n.inputs.length < 0;
export function gemmKernel(kb: KernelBuilder, f: Fuser, n: NodeOf<'einsum'>, out: number): KStmt[] {
  (void kb, f, n, out);
  return [];
}
