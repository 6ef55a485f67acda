// bf16 × bf16 GEMM and GEMV on C with pair-interleaved panels (KStmt 'dotbf16': AMX-BF16's
// tdpbf16ps or AVX-512 BF16's vdpbf16ps where the CPU has them, src/codegen/c-dotbf16.ts), for
// a contraction whose operands are both bf16 and whose B is a weight: a bf16 param, or an f32
// (or f16) param cast to bf16 (the precision pass's master weight), with no batch letters and
// constant N and K.
//
//   1. B is packed once per weight version into a plan buffer of kind 'packed' (i32 words):
//      PREPACK_AT words of header (word 0 is 1 once packed), then NR-wide panels of all of K,
//      panel q at q·NR·Kp, word p·NR + j holding B[2p, n] (low half) and B[2p+1, n] (high
//      half) for n = q·NR + j; Kp = ceil(K/2) rounded up to 16 (AMX's tile depth), zero past N
//      and K. Half the bytes of f32 panels.
//   2. A's rows are packed at each call into a transient buffer of such words, row m at m·Kp,
//      zero rows up to a whole tile.
//   3. M ≥ SMALL_M, on a CPU with AVX-512 BF16: the threads split (blocks of MC rows × blocks
//      of NC columns); a block runs its panels, and for each, its MR × NR tiles (32 × 32 where
//      the CPU has AMX-BF16: 2 × 2 AMX tiles): one `dotbf16` over all of K into f32 sums (K in
//      one block: an f16/bf16 store could not hold partial sums), then the group's epilogue
//      and the store. Without AVX-512 BF16, the widening GEMM (gemm.ts `packed`: B converted to
//      f32 once, f32 fma), which the portable loop's per-use widening does not beat (0.9-1.0×
//      at M 128, bench/bf16.ts). M < SMALL_M (batch 1), on every CPU: tiles of one row, the
//      threads splitting N in blocks of GEMV_NC columns; B's panels are read once per row,
//      contiguously: 2 bytes a weight where the widening GEMV reads the f32 master weight's 4
//      (memory-bound: the portable loop pays too).
// The sums are f32, as in gemm.ts; they differ from its widen-then-fma order (by pairs, and
// vdpbf16ps flushes subnormals), within bf16's tolerance (docs/ir.md "bf16 products on C").

import { type Dim, dimAdd, dimConst, dimMul } from '../ir/dims.js';
import { isFloat } from '../ir/dtype.js';
import { type KExpr, type KStmt, add, cmp, f32, int, ivar, ix, loop, mul } from '../ir/kernel.js';
import type { GemmBuilder } from './gemm.js';
import { PREPACK_AT } from './gemm-packed.js';
import { hostCpuFlags } from './schedule.js';

/** Columns a GEMV work item takes (a quarter of a GEMM block: more items for the threads). */
const GEMV_NC = 128;

const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });
const cdiv = (a: KExpr, b: KExpr): KExpr => ix('/', add(a, ix('-', b, int(1))), b);
const minix = (a: KExpr, b: KExpr): KExpr => ix('min', a, b);
/** Fresh names, one per prefix. */
const fresh = <const T extends readonly string[]>(G: GemmBuilder, ...prefixes: T): { [I in keyof T]: string } =>
  prefixes.map(G.v) as { [I in keyof T]: string };
const bitcast = (a: KExpr): KExpr => ({ k: 'bitcast', to: 'i32', a });

/** The word holding bf16 values `lo` (even k, low half) and `hi` (odd k), given as exact f32 values. */
export const pairWord = (lo: KExpr, hi: KExpr): KExpr => ({
  k: 'bits',
  op: '|',
  a: bitcast(hi),
  b: { k: 'bits', op: '>>>', a: bitcast(lo), b: int(16) },
});

/** B's param buffer when the bf16 kernel applies to this GEMM (see the top of the file), else undefined. */
export function bf16Weight(G: GemmBuilder): number | undefined {
  if (process.env.FMC_BF16_DOT === '0') return undefined; // the widening GEMM (bench/bf16.ts compares)
  const [a, b] = [G.n.inputs[0]!, G.n.inputs[1]!];
  if (a.type.dtype !== 'bf16' || b.type.dtype !== 'bf16') return undefined;
  if (G.g.batch.length > 0 || G.N.k !== 'const' || G.K.k !== 'const' || G.K.v === 0) return undefined;
  const x = b.op === 'cast' && isFloat(b.inputs[0]!.type.dtype) ? b.inputs[0]! : b;
  return x.op === 'param' ? G.f.buffers.get(x) : undefined;
}

/** Whether AMX can take an mr × nr 'dotbf16' tile: multiples of 16, in at most its 8 tile registers. */
export const amxFits = (mr: number, nr: number): boolean =>
  mr % 16 === 0 && nr % 16 === 0 && (mr / 16) * (nr / 16) + mr / 16 + nr / 16 <= 8;

/** Words of pairs a row of K values takes: ceil(K/2) rounded up to 16 (AMX's tile depth). */
const pairsOf = (K: number): number => Math.ceil(K / 32) * 16;

/**
 * Stores operand `which`'s row `r` (of `rows` valid ones) as pairsOf(K) words at `at(p)` of
 * buffer `into`: zeros past `rows` and past K.
 */
function packRow(G: GemmBuilder, which: 0 | 1, r: KExpr, rows: KExpr, into: number, at: (p: KExpr) => KExpr): KStmt {
  const K = (G.K as { v: number }).v;
  const p = G.v('p');
  const val = (k: KExpr): KExpr => G.operand(which, int(0), r, k);
  const pair = (pp: KExpr, hi: KExpr): KStmt => ({
    k: 'store',
    buf: into,
    index: at(pp),
    value: pairWord(val(mul(pp, int(2))), hi),
  });
  const [half, Kp] = [Math.ceil(K / 2), pairsOf(K)];
  const zeros = (lo: number): KStmt =>
    loop(p, int(Kp), [{ k: 'store', buf: into, index: at(ivar(p)), value: { k: 'const', t: 'i32', v: 0 } }], 'serial', {
      lo: int(lo),
    });
  const words: KStmt[] = [loop(p, int(Math.floor(K / 2)), [pair(ivar(p), val(add(mul(ivar(p), int(2)), int(1))))])];
  if (K % 2 === 1) words.push(pair(int(half - 1), f32(0)));
  if (half < Kp) words.push(zeros(half));
  return { k: 'if', cond: cmp('<', r, rows), then: words, else: [zeros(0)] };
}

/** Whether this machine's CPU has feature `f` (`-march=native` then gives C its instructions). */
const hostHas = (f: string): boolean => hostCpuFlags().split(/\s+/).includes(f);

/** The kernel; `wide()` is the widening GEMM, which M ≥ SMALL_M takes on a CPU without AVX-512 BF16. */
export function bf16Gemm(G: GemmBuilder, w: number, wide: () => KStmt[]): KStmt[] {
  const { kb } = G;
  const { NR, MC, NC, SMALL_M } = G.s;
  // Tiles of 32 rows for AMX (2 × 2 of its 16 × 16 tiles with NR = 32), else the f32 tile's rows.
  const MR = hostHas('amx_bf16') && amxFits(32, NR) ? 32 : G.s.MR;
  const [N, K] = [(G.N as { v: number }).v, (G.K as { v: number }).v];
  const Kp = pairsOf(K);
  const Np = Math.ceil(N / NR) * NR;
  // 1. B's panels, packed by the first run after the weight changed.
  kb.param(w, 'read');
  const qb = kb.param(kb.tables.buffer('i32', dimConst(PREPACK_AT + Np * Kp), 'packed', w), 'readwrite');
  const packB = (): KStmt => {
    const n = G.v('n');
    const at = (p: KExpr): KExpr =>
      add(
        int(PREPACK_AT),
        add(mul(ix('/', ivar(n), int(NR)), int(NR * Kp)), add(mul(p, int(NR)), ix('%', ivar(n), int(NR)))),
      );
    return {
      k: 'if',
      cond: cmp('==', { k: 'load', buf: qb, index: int(0), t: 'i32' }, { k: 'const', t: 'i32', v: 0 }),
      then: [
        kb.parallel(n, int(Np), [packRow(G, 1, ivar(n), G.N, qb, at)], int(Np * K)),
        { k: 'store', buf: qb, index: int(0), value: { k: 'const', t: 'i32', v: 1 } },
      ],
    };
  };
  // 2. A's rows of words (row m at m·Kp), padded to whole tiles of mr rows.
  const M: Dim = G.g.m.reduce((a, c) => dimMul(a, G.sizes.get(c)!), dimConst(1));
  const qa = kb.param(
    kb.tables.buffer('i32', dimMul(dimAdd(M, dimConst(MR - 1)), dimConst(Kp)), 'transient'),
    'readwrite',
  );
  const packA = (mr: number): KStmt => {
    const r = G.v('r');
    const at = (p: KExpr): KExpr => add(mul(ivar(r), int(Kp)), p);
    return kb.parallel(r, mul(cdiv(G.M, int(mr)), int(mr)), [packRow(G, 0, ivar(r), G.M, qa, at)], mul(G.M, int(K)));
  };
  // 3. Tiles of mr × NR: rows m0 + ir.., columns n0 + jr...
  const tile = (mr: number, m: KExpr, ml: KExpr, col: KExpr, nl: KExpr): KStmt[] => {
    const [acc, i, j, ie, je] = fresh(G, 'acc', 'i', 'j', 'ie', 'je');
    const sum: KExpr = { k: 'aload', name: acc, index: add(mul(ivar(i), int(NR)), ivar(j)), t: 'f32' };
    return [
      { k: 'array', name: acc, t: 'f32', size: mr * NR, space: 'local' },
      loop(i, int(mr * NR), [{ k: 'astore', name: acc, index: ivar(i), value: f32(0) }], 'simd'),
      {
        k: 'dotbf16',
        acc,
        a: qa,
        aOffset: mul(m, int(Kp)),
        lda: int(Kp),
        b: qb,
        bOffset: add(int(PREPACK_AT), mul(col, int(Kp))),
        np: int(Kp),
        mr,
        nr: NR,
      },
      let64(ie, minix(int(mr), ml)),
      let64(je, minix(int(NR), nl)),
      loop(i, ivar(ie), [loop(j, ivar(je), G.store(sum, int(0), add(m, ivar(i)), add(col, ivar(j)), true))]),
    ];
  };
  // One work item: rows [m0, m0 + ml) × columns [n0, n0 + nl), its panels outermost (a panel
  // stays in cache while the rows pass).
  const item = (mr: number, mb: number, nb: number): KStmt => {
    const [it, m0, ml, n0, nl, jr, ir] = fresh(G, 'it', 'm0', 'ml', 'n0', 'nl', 'jr', 'ir');
    const nBlocks = cdiv(G.N, int(nb));
    return kb.parallel(
      it,
      mul(cdiv(G.M, int(mb)), nBlocks),
      [
        let64(m0, mul(ix('/', ivar(it), nBlocks), int(mb))),
        let64(n0, mul(ix('%', ivar(it), nBlocks), int(nb))),
        let64(ml, minix(int(mb), ix('-', G.M, ivar(m0)))),
        let64(nl, minix(int(nb), ix('-', G.N, ivar(n0)))),
        loop(
          jr,
          ivar(nl),
          [
            loop(
              ir,
              ivar(ml),
              tile(
                mr,
                add(ivar(m0), ivar(ir)),
                ix('-', ivar(ml), ivar(ir)),
                add(ivar(n0), ivar(jr)),
                ix('-', ivar(nl), ivar(jr)),
              ),
              'serial',
              { step: mr },
            ),
          ],
          'serial',
          { step: NR },
        ),
      ],
      G.work(),
    );
  };
  // Without vdpbf16ps the tiles lose to the f32 GEMM on operands converted once (bench/bf16.ts).
  const gemm = (): KStmt[] =>
    hostHas('avx512_bf16') ? [packB(), packA(MR), item(MR, MR * Math.max(1, Math.floor(MC / MR)), NC)] : wide();
  const gemv = (): KStmt[] => [packB(), packA(1), item(1, SMALL_M, GEMV_NC)];
  const small = G.M.k === 'const' ? G.M.v < SMALL_M : undefined;
  const body =
    small === true
      ? gemv()
      : small === false
        ? gemm()
        : [{ k: 'if', cond: cmp('<', G.M, int(SMALL_M)), then: gemv(), else: gemm() } as KStmt];
  return body;
}
