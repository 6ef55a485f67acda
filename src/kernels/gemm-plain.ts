// The GPU form of a GEMM group: no packing buffers or `mma`. Each parallel iteration computes
// a column of TM output elements C[b, m0 .. m0 + TM, n]: TM f32 accumulators, K serial with
// fma, each B element loaded once for the TM rows (the seed models' GEMMs are skinny: few
// tokens against a large weight, which the plain form streamed once per row), then the fused
// epilogue and the store of the rows inside M (rows past M read the last row and are not
// stored). A K of 0 stores the epilogue of 0 (the sum of nothing). An int8 contraction (int8
// activations, src/passes/quantize-act.ts: an i32 einsum of two operands cast from i8) sums
// exact i32 products the same way; the quantize pass bounds K·127·127 below 2^31.

import { type KExpr, type KStmt, cmp, int, ivar, ix, loop } from '../ir/kernel.js';
import type { GemmBuilder } from './gemm.js';

/** Output rows per invocation. */
export const GPU_GEMM_ROWS = 4;

export function plainGemm(G: GemmBuilder): KStmt[] {
  const TM = GPU_GEMM_ROWS;
  const [b, mt, n, k, bv] = ['b', 'mt', 'n', 'k', 'bv'].map(G.v) as [string, string, string, string, string];
  const rows = Array.from({ length: TM }, (_, i) => ({
    acc: G.v('acc'),
    m: ix('+', ix('*', ivar(mt), int(TM)), int(i)),
  }));
  const sums32 = G.n.type.dtype === 'i32';
  // Integers compute as i64 in kernel IR (the fuser's operands are i64 values).
  const t = sums32 ? 'i64' : 'f32';
  const accOf = (name: string): KExpr => ({ k: 'var', name, t });
  const step = (a: KExpr, b: KExpr, c: KExpr): KExpr =>
    sums32 ? { k: 'bin', fn: 'add', a: { k: 'bin', fn: 'mul', a, b, t }, b: c, t } : { k: 'fma', a, b, c };
  const last = ix('-', G.M, int(1));
  const body: KStmt[] = [
    ...rows.map(({ acc }): KStmt => ({ k: 'let', name: acc, t, value: { k: 'const', t, v: 0 } })),
    loop(k, G.K, [
      { k: 'let', name: bv, t, value: G.operand(1, ivar(b), ivar(n), ivar(k)) },
      ...rows.map(({ acc, m }): KStmt => ({
        k: 'set',
        name: acc,
        value: step(G.operand(0, ivar(b), ix('min', m, last), ivar(k)), accOf(bv), accOf(acc)),
      })),
    ]),
    ...rows.map(({ acc, m }): KStmt => ({
      k: 'if',
      cond: cmp('<', m, G.M),
      then: G.store(accOf(acc), ivar(b), m, ivar(n), true, undefined, t),
    })),
  ];
  const tiles = ix('/', ix('+', G.M, int(TM - 1)), int(TM));
  return [loop(b, G.NB, [loop(mt, tiles, [loop(n, G.N, body)])], 'parallel', { collapse: 3 })];
}
