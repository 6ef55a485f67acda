// The C target's GEMV for a B operand read along K (a Linear's weight W[N, K], or its
// dequantization from int8/int4 params): few rows of A (M < SMALL_M) against the whole of B,
// which is read once per row, contiguously. Each output is a dot product over K in LANES
// partial sums (an `omp simd` loop over the lanes, one vector operation), added up in lane
// order at the end, then the epilogue and the store. The threads split N in blocks of NC
// columns. gemm.ts's `skinny` form instead walks B across its rows for each k, which for a
// K-innermost B reads one element per cache line and row.

import { type KExpr, type KStmt, add, f32, int, ivar, ix, loop, mapChildren, mul } from '../ir/kernel.js';
import type { GemmBuilder } from './gemm.js';

/** Partial sums per dot product: one AVX-512 vector of f32 (two AVX2 ones). */
export const LANES = 16;

const cdiv = (a: KExpr, b: KExpr): KExpr => ix('/', add(a, ix('-', b, int(1))), b);
const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });

export function dotGemv(G: GemmBuilder): KStmt[] {
  const { NC } = G.s;
  const [it, b, n0, nl, m, j, part, k0, l, kt, s] = ['it', 'b', 'n0', 'nl', 'm', 'j', 'part', 'k0', 'l', 'kt', 's'].map(
    G.v,
  ) as [string, string, string, string, string, string, string, string, string, string, string];
  const at = (name: string, index: KExpr): KExpr => ({ k: 'aload', name, index, t: 'f32' });
  const fmaInto = (lane: KExpr, kk: KExpr): KStmt => ({
    k: 'astore',
    name: part,
    index: lane,
    value: {
      k: 'fma',
      a: G.operand(0, ivar(b), ivar(m), kk),
      b: G.operand(1, ivar(b), add(ivar(n0), ivar(j)), kk),
      c: at(part, lane),
    },
  });
  const kFull = mul(ix('/', G.K, int(LANES)), int(LANES));
  // In a block, k = k0 + l with k0 a multiple of LANES: the index math of B is split at k0
  // where that makes it affine in l (a group's scale at k / 128 is k0 / 128 for every lane;
  // an int4 block's byte at k % 16 is l), which the compiler's vectorizer needs.
  const lane = splitAt(fmaInto(ivar(l), add(ivar(k0), ivar(l))), k0, l);
  const dot: KStmt[] = [
    { k: 'array', name: part, t: 'f32', size: LANES, space: 'local' },
    loop(l, int(LANES), [{ k: 'astore', name: part, index: ivar(l), value: f32(0) }], 'simd'),
    loop(k0, kFull, [loop(l, int(LANES), [lane], 'simd')], 'serial', { step: LANES }),
    loop(kt, G.K, [fmaInto(ix('-', ivar(kt), kFull), ivar(kt))], 'serial', { lo: kFull }),
    { k: 'let', name: s, t: 'f32', value: at(part, int(0)) },
    loop(
      l,
      int(LANES),
      [
        {
          k: 'set',
          name: s,
          value: { k: 'bin', fn: 'add', a: { k: 'var', name: s, t: 'f32' }, b: at(part, ivar(l)), t: 'f32' },
        },
      ],
      'serial',
      {
        lo: int(1),
      },
    ),
    ...G.store({ k: 'var', name: s, t: 'f32' }, ivar(b), ivar(m), add(ivar(n0), ivar(j)), true),
  ];
  const nBlocks = cdiv(G.N, int(NC));
  const body: KStmt[] = [
    let64(b, ix('/', ivar(it), nBlocks)),
    let64(n0, mul(ix('%', ivar(it), nBlocks), int(NC))),
    let64(nl, ix('min', int(NC), ix('-', G.N, ivar(n0)))),
    loop(m, G.M, [loop(j, ivar(nl), dot)]),
  ];
  return [G.kb.parallel(it, mul(G.NB, nBlocks), body, G.work())];
}

/** `st` (an astore) with `(k0 + l) / d` and `(k0 + l) % d` split at k0 where LANES divides d (l < LANES). */
function splitAt(st: KStmt, k0: string, l: string): KStmt {
  const isK = (e: KExpr): boolean =>
    e.k === 'ix' && e.op === '+' && e.a.k === 'var' && e.a.name === k0 && e.b.k === 'var' && e.b.name === l;
  const walk = (e: KExpr): KExpr => {
    if (e.k === 'ix' && (e.op === '/' || e.op === '%') && e.b.k === 'const' && e.b.v % LANES === 0 && isK(e.a)) {
      const k = ivar(k0);
      return e.op === '/' ? ix('/', k, e.b) : add(ix('%', k, e.b), ivar(l));
    }
    return mapChildren(e, walk);
  };
  return st.k === 'astore' ? { ...st, value: walk(st.value) } : st;
}
