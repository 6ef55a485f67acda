// The GEMM of f16 or bf16 operands on typed tiles (KStmt 'frag': m16n8k16 fragments, the
// shape of a tensor core's mma): a workgroup of 4 warps (128 invocations) computes a 64×64
// block of C[b] for one batch entry, each warp a 32×32 quarter of it as 2×4 accumulator
// fragments. Over K in steps of 16 the workgroup stages the block's A (64×16, row-major) and
// B (16×64, row-major) tiles in shared arrays of the operand dtype (zero outside M, N and K:
// masked loads, so no invocation leaves early), meets at a barrier, loads each warp's 2 a and
// 4 b fragments from them and accumulates the 8 products in f32, and meets again before the
// next tiles overwrite them. Barriers and fragment statements are in uniform control flow:
// the only branch around them tests the workgroup index, and the K loop's bounds are dims.
// The fused epilogue (gemm.ts GemmBuilder.store) is applied to each in-bounds element of the
// accumulators as the other GEMMs do; a K of 0 stores the epilogue of 0.

import { FRAG_STAGE, WARP } from '../ir/fragments.js';
import { type KExpr, type KStmt, add, cmp, int, ivar, ix, loop, mul } from '../ir/kernel.js';
import type { GemmBuilder } from './gemm.js';
import { TILED_MIN, blockLaunch, stageTile } from './gemm-tiled.js';

const WARPS = 4;
const BLOCK = 64; // rows and columns of a workgroup's block
const BK = 16; // K per step: one fragment deep
const M_FRAGS = 2; // a warp's 32 rows as 16-row fragments
const N_FRAGS = 4; // a warp's 32 columns as 8-column fragments

/** Bytes of workgroup storage it uses on a target that holds f16/bf16 in 32-bit words (WGSL). */
export const FRAG_GEMM_BYTES = 4 * (2 * BLOCK * BK + WARPS * FRAG_STAGE);

/** The operands' dtype when the GEMM can run on fragments (both f16 or both bf16, M and N not tiny). */
export function fragDtype(G: GemmBuilder): 'f16' | 'bf16' | undefined {
  const [a, b] = G.n.inputs.map((x) => x.type.dtype);
  if (a !== b || (a !== 'f16' && a !== 'bf16')) return undefined;
  if ((G.M.k === 'const' && G.M.v < TILED_MIN) || (G.N.k === 'const' && G.N.v < TILED_MIN)) return undefined;
  return a;
}

const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });
const lt = (a: KExpr, b: KExpr): KExpr => cmp('<', a, b);

export function fragGemm(G: GemmBuilder, dtype: 'f16' | 'bf16'): KStmt[] {
  const W = WARPS * WARP;
  const { b, m0, n0, l, around } = blockLaunch(G, BLOCK, W);
  const [wm, wn, as, bs, stage, k0] = G.kb.freshNames('wm', 'wn', 'as', 'bs', 'stage', 'k0');
  G.kb.schedule = { fragments: `m16n8k16 ${dtype}`, block: `${BLOCK}x${BLOCK}x${BK}` };

  // Operand tiles staged as A: as[r * BK + k], B: bs[k * BLOCK + n], in their own dtype (exact).
  const tile = { rows: BLOCK, TK: BK, W, b, k0, l };
  const convert = (v: KExpr): KExpr => ({ k: 'cast', from: dtype, to: dtype, a: v, t: dtype });
  const stageA = stageTile(G, { ...tile, which: 0, arr: as, r0: m0, convert, at: (r, c) => add(mul(r, int(BK)), c) });
  const stageB = stageTile(G, {
    ...tile,
    which: 1,
    arr: bs,
    r0: n0,
    convert,
    at: (r, c) => add(mul(c, int(BLOCK)), r),
  });

  const aFrags = Array.from({ length: M_FRAGS }, () => G.kb.fresh('fa'));
  const bFrags = Array.from({ length: N_FRAGS }, () => G.kb.fresh('fb'));
  const accs = aFrags.map(() => bFrags.map(() => G.kb.fresh('fc')));
  const rows = (mi: number): KExpr => add(mul(ivar(wm), int(M_FRAGS * 16)), int(mi * 16));
  const cols = (ni: number): KExpr => add(mul(ivar(wn), int(N_FRAGS * 8)), int(ni * 8));
  const step: KStmt[] = [
    stageA,
    stageB,
    { k: 'barrier' },
    ...aFrags.map((name, mi): KStmt => ({
      k: 'fragLoad',
      name,
      role: 'a',
      t: dtype,
      src: as,
      offset: mul(rows(mi), int(BK)),
      ld: int(BK),
    })),
    ...bFrags.map((name, ni): KStmt => ({
      k: 'fragLoad',
      name,
      role: 'b',
      t: dtype,
      src: bs,
      offset: cols(ni),
      ld: int(BLOCK),
    })),
    ...accs.flatMap((row, mi) =>
      row.map((acc, ni): KStmt => ({ k: 'fragMma', acc, a: aFrags[mi]!, b: bFrags[ni]!, t: dtype, stage })),
    ),
    { k: 'barrier' },
  ];

  const epilogue = accs.flatMap((row, mi) =>
    row.map((acc, ni) =>
      storeFragment(G, acc, b, (r, c) => [add(ivar(m0), add(rows(mi), r)), add(ivar(n0), add(cols(ni), c))]),
    ),
  );

  const body: KStmt[] = [
    let64(wm, ix('/', ix('/', ivar(l), int(WARP)), int(2))),
    let64(wn, ix('%', ix('/', ivar(l), int(WARP)), int(2))),
    { k: 'array', name: as, t: dtype, size: BLOCK * BK, space: 'shared' },
    { k: 'array', name: bs, t: dtype, size: BK * BLOCK, space: 'shared' },
    { k: 'array', name: stage, t: 'f32', size: WARPS * FRAG_STAGE, space: 'shared' },
    ...aFrags.map((name): KStmt => ({ k: 'frag', name, role: 'a', t: dtype })),
    ...bFrags.map((name): KStmt => ({ k: 'frag', name, role: 'b', t: dtype })),
    ...accs.flat().map((name): KStmt => ({ k: 'frag', name, role: 'acc', t: 'f32' })),
    loop(k0, G.K, step, 'serial', { step: BK }),
    ...epilogue,
  ];
  return around(body);
}

/**
 * Stores accumulator fragment `acc` through G's epilogue (GemmBuilder.store): its element (r, c)
 * at C[b, m, n], (m, n) = place(r, c), where m and n are inside M and N.
 */
export function storeFragment(
  G: GemmBuilder,
  acc: string,
  b: string,
  place: (r: KExpr, c: KExpr) => readonly [KExpr, KExpr],
): KStmt {
  const [r, c, v, m, n] = G.kb.freshNames('r', 'c', 'v', 'm', 'n');
  const [pm, pn] = place(ivar(r), ivar(c));
  return {
    k: 'fragEach',
    name: acc,
    row: r,
    col: c,
    value: v,
    body: [
      let64(m, pm),
      let64(n, pn),
      {
        k: 'if',
        cond: cmp('&&', lt(ivar(m), G.M), lt(ivar(n), G.N)),
        then: G.store({ k: 'var', name: v, t: 'f32' }, ivar(b), ivar(m), ivar(n), true),
      },
    ],
  };
}
