// The C target's GEMV for a B operand read along K (a Linear's weight W[N, K], or its
// dequantization from int8/int4 params): few rows of A (M < SMALL_M) against the whole of B,
// which is read once per row, contiguously. Each output is a dot product over K in
// CHAINS × LANES partial sums (`omp simd` loops over LANES lanes, one vector operation each;
// CHAINS blocks of K a step, so the fma of one block does not wait on the previous one's),
// added up in order at the end, then the epilogue and the store. The threads split N in blocks of NC
// columns. gemm.ts's `skinny` form instead walks B across its rows for each k, which for a
// K-innermost B reads one element per cache line and row.

import { type KExpr, type KStmt, add, f32, int, ivar, ix, loop, mapChildren, mul } from '../ir/kernel.js';
import type { GemmBuilder } from './gemm.js';
import { dequantizedParams, quantGemv } from './gemm-quant.js';
import { twoFourGemv, twoFourParams } from './gemm-2of4.js';

/** Partial sums per block: one AVX-512 vector of f32 (two AVX2 ones). */
export const LANES = 32;
/** Blocks a step, each into its own LANES sums: independent chains of fma. */
const CHAINS = 2;

const cdiv = (a: KExpr, b: KExpr): KExpr => ix('/', add(a, ix('-', b, int(1))), b);
const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });

export function dotGemv(G: GemmBuilder): KStmt[] {
  const quantized = dequantizedParams(G);
  const fast = quantized && quantGemv(G, quantized);
  if (fast) return fast;
  const twoFour = twoFourParams(G);
  if (twoFour) return twoFourGemv(G, twoFour);
  const { NC } = G.s;
  const [it, b, n0, nl, m, j, k0, l, kt, s] = ['it', 'b', 'n0', 'nl', 'm', 'j', 'k0', 'l', 'kt', 's'].map(G.v) as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const parts = Array.from({ length: CHAINS }, () => G.v('part'));
  const at = (name: string, index: KExpr): KExpr => ({ k: 'aload', name, index, t: 'f32' });
  const fmaInto = (part: string, lane: KExpr, kk: KExpr): KStmt => ({
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
  // One block of LANES values at ku (a multiple of LANES) into `part`: k = ku + l, B's index
  // math split at ku where that makes it affine in l (a group's scale at k / 128 is ku / 128
  // for every lane; an int4 block's byte at k % 16 is l), which the compiler's vectorizer needs.
  const block = (part: string, ku: KExpr): KStmt[] => {
    const u = G.v('u');
    return [let64(u, ku), loop(l, int(LANES), [splitAt(fmaInto(part, ivar(l), add(ivar(u), ivar(l))), u, l)], 'simd')];
  };
  const step = LANES * CHAINS;
  const kChains = mul(ix('/', G.K, int(step)), int(step));
  const kFull = mul(ix('/', G.K, int(LANES)), int(LANES));
  const sum: KExpr = { k: 'var', name: s, t: 'f32' };
  const dot: KStmt[] = [
    ...parts.flatMap((p): KStmt[] => [
      { k: 'array', name: p, t: 'f32', size: LANES, space: 'local' },
      loop(l, int(LANES), [{ k: 'astore', name: p, index: ivar(l), value: f32(0) }], 'simd'),
    ]),
    // CHAINS blocks a step into independent sums (one would wait on its own previous fma).
    loop(
      k0,
      kChains,
      parts.flatMap((p, c) => block(p, add(ivar(k0), int(c * LANES)))),
      'serial',
      { step },
    ),
    loop(k0, kFull, block(parts[0]!, ivar(k0)), 'serial', { lo: kChains, step: LANES }),
    loop(kt, G.K, [fmaInto(parts[0]!, ix('-', ivar(kt), kFull), ivar(kt))], 'serial', { lo: kFull }),
    { k: 'let', name: s, t: 'f32', value: f32(0) },
    ...parts.map((p) =>
      loop(l, int(LANES), [{ k: 'set', name: s, value: { k: 'bin', fn: 'add', a: sum, b: at(p, ivar(l)), t: 'f32' } }]),
    ),
    ...G.store(sum, ivar(b), ivar(m), add(ivar(n0), ivar(j)), true),
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
