// The GPU form of a GEMM group: no packing buffers, register tiles or `mma`. Each parallel
// iteration computes one output element C[b, m, n]: an f32 accumulator, K serial with fma,
// then the fused epilogue and the store. A K of 0 stores the epilogue of 0 (the sum of nothing).

import { type KStmt, f32, ivar, loop } from '../ir/kernel.js';
import type { GemmBuilder } from './gemm.js';

export function plainGemm(G: GemmBuilder): KStmt[] {
  const [b, m, n, k, acc] = ['b', 'm', 'n', 'k', 'acc'].map(G.v) as [string, string, string, string, string];
  const a = { k: 'var', name: acc, t: 'f32' } as const;
  const body: KStmt[] = [
    { k: 'let', name: acc, t: 'f32', value: f32(0) },
    loop(k, G.K, [
      {
        k: 'set',
        name: acc,
        value: {
          k: 'fma',
          a: G.operand(0, ivar(b), ivar(m), ivar(k)),
          b: G.operand(1, ivar(b), ivar(n), ivar(k)),
          c: a,
        },
      },
    ]),
    ...G.store(a, ivar(b), ivar(m), ivar(n), true),
  ];
  return [loop(b, G.NB, [loop(m, G.M, [loop(n, G.N, body)])], 'parallel', { collapse: 3, work: G.work() })];
}
