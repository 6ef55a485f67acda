// The C target's block-sparse GEMM: C = A · Wᵀ (+ the fused epilogue) for a weight W[N, K]
// that the sparsity pass marked as pruned to b×b blocks (src/passes/sparsity.ts), multiplying
// only W's nonzero blocks.
//
// Storage: two plan buffers derived from W's param buffer (kind 'packed', like a prepacked
// weight: the runtime zeroes their first element when W changes, and the next run derives
// them again; once per weight version, never per call). `meta` (i32): [0] 1 once derived,
// [1] 1 when W has more nonzero blocks than `cap` (then this kernel multiplies densely), [2]
// the count; from META_AT the block-row pointers (R + 1 of them, R = N / b), the block
// columns (src/ir/sparse-format.ts's BSR) and runs of consecutive ones (gemm-sparse-derive.ts). `vals` (f32): block p at VALS_AT + p·b·b, as b/nr
// panels of nr columns (W's rows), each b deep along K: panel q of block p holds
// W[i·b + q·nr + c, cols[p]·b + k] at k·nr + c, the register tile's B panel. The pattern is
// data: the kernel is the same for every pattern of the same shape and capacity.
// Deriving: gemm-sparse-derive.ts.
//
// Multiplying: parallel over (chunks of RC block rows × blocks of TILES·mr rows of A); each
// packs its rows of A (all of K, mr-tall panels) and, for each block row and panel, runs the
// register tile (`mma`, mr × nr, b deep) of each of its TILES tiles over the row's stored
// blocks, GROUP blocks at a time (their panels stay in the first-level cache across the
// tiles), then stores the tiles through the epilogue. An empty block row stores the epilogue
// of 0. Few rows (a GEMV) use 1-row tiles. TILES 10 and GROUP 8 were the fastest of those
// tried with bench/sparse.ts (TILES 2, 4, 8, 10; GROUP 4, 8, 16, 64) on the AVX-512 machine.

import { dimConst } from '../ir/dims.js';
import { type KExpr, type KStmt, add, cmp, f32, int, ivar, ix, loop, mul } from '../ir/kernel.js';
import type { GemmBuilder } from './gemm.js';
import { GROUP, type Geometry, META_AT, VALS_AT, derive, fresh, let64, v64 } from './gemm-sparse-derive.js';

const cdiv = (a: KExpr, b: KExpr): KExpr => ix('/', add(a, ix('-', b, int(1))), b);

/** The sparse GEMM's statements; `dense` is the plain form run when W overflows `cap`. */
export function sparseGemm(G: GemmBuilder, w: number, b: number, cap: number, dense: () => KStmt[]): KStmt[] {
  const { N, K } = G as { N: { k: 'const'; v: number }; K: { k: 'const'; v: number } };
  const R = N.v / b;
  const nr = b % G.s.NR === 0 ? G.s.NR : 16;
  const tables = G.kb.tables;
  G.kb.param(w, 'read');
  const meta = G.kb.param(tables.buffer('i32', dimConst(META_AT + R + 1 + 2 * cap), 'packed', w), 'readwrite');
  const vals = G.kb.param(tables.buffer('f32', dimConst(VALS_AT + cap * b * b), 'packed', w), 'readwrite');
  const m = (index: KExpr): KExpr => ({ k: 'load', buf: meta, index, t: 'i64' });
  const geo = { R, b, nr, cap, K: K.v, meta, vals };
  const few = G.M.k === 'const' ? G.M.v < G.s.SMALL_M : undefined;
  const tiles = (mr: number): KStmt[] => multiply(G, geo, mr);
  const sparse: KStmt[] =
    few === undefined
      ? [{ k: 'if', cond: cmp('<', G.M, int(G.s.SMALL_M)), then: tiles(1), else: tiles(G.s.MR) }]
      : tiles(few ? 1 : G.s.MR);
  return [
    { k: 'if', cond: cmp('==', m(int(0)), int(0)), then: derive(G, geo) },
    { k: 'if', cond: cmp('!=', m(int(1)), int(0)), then: dense(), else: sparse },
  ];
}

/** Block rows a work item: its packed rows of A serve all of them. */
const chunkOf = (R: number): number => [16, 8, 4, 2, 1].find((c) => R % c === 0 && R / c >= 4) ?? 1;
/** Register tiles a work item: MB = TILES · mr rows of A, packed once per chunk of block rows. */
const TILES = 10;

/** The multiplication with mr-row tiles (see the top of the file). */
function multiply(G: GemmBuilder, x: Geometry, mr: number): KStmt[] {
  const { R, b, nr, meta, vals } = x;
  const m = (index: KExpr): KExpr => ({ k: 'load', buf: meta, index, t: 'i64' });
  const RC = chunkOf(R);
  const T = mr === 1 ? 1 : TILES;
  const MB = T * mr;
  const [it, ap, ch, mi, m0, ml, ii, i, q, pg, pe, p, e, ie, jj] = fresh(
    G,
    'it',
    'ap',
    'ch',
    'mi',
    'm0',
    'ml',
    'ii',
    'i',
    'q',
    'pg',
    'pe',
    'p',
    'e',
    'ie',
    'jj',
  );
  const accs = Array.from({ length: T }, () => G.v('acc'));
  const mBlocks = cdiv(G.M, int(MB));
  const end = m(add(int(META_AT + 1), ivar(i)));
  // Blocks p .. p + run - 1 have consecutive columns: one b·run deep mma (0: inside a run).
  const run = m(add(int(META_AT + R + 1 + x.cap), ivar(p)));
  // Tile t (rows m0 + t·mr ..) exists when t·mr < ml; tile 0 always does.
  const ifTile = (t: number, body: KStmt[]): KStmt[] =>
    t === 0 ? body : [{ k: 'if', cond: cmp('<', int(t * mr), ivar(ml)), then: body }];
  const mma = (t: number): KStmt => ({
    k: 'mma',
    acc: accs[t]!,
    a: ap,
    aOffset: add(int(t * mr * x.K), mul(m(add(int(META_AT + R + 1), ivar(p))), int(b * mr))),
    b: vals,
    bOffset: add(int(VALS_AT), add(mul(ivar(p), int(b * b)), mul(ivar(q), int(b * nr)))),
    kc: mul(run, int(b)),
    mr,
    nr,
  });
  const store = (t: number): KStmt[] => [
    let64(ie, ix('min', int(mr), ix('-', ivar(ml), int(t * mr)))),
    loop(e, ivar(ie), [
      loop(
        jj,
        int(nr),
        G.store(
          { k: 'aload', name: accs[t]!, index: add(mul(ivar(e), int(nr)), ivar(jj)), t: 'f32' },
          int(0),
          add(ivar(m0), add(int(t * mr), ivar(e))),
          add(mul(ivar(i), int(b)), add(mul(ivar(q), int(nr)), ivar(jj))),
          true,
        ),
      ),
    ]),
  ];
  const panel: KStmt[] = [
    ...accs.flatMap((acc): KStmt[] => [
      { k: 'array', name: acc, t: 'f32', size: mr * nr, space: 'local' },
      loop(e, int(mr * nr), [{ k: 'astore', name: acc, index: ivar(e), value: f32(0) }], 'simd'),
    ]),
    loop(
      pg,
      end,
      [
        let64(pe, ix('min', add(ivar(pg), int(GROUP)), end)),
        ...accs.flatMap((_, t) =>
          ifTile(t, [
            loop(p, ivar(pe), [{ k: 'if', cond: cmp('>', run, int(0)), then: [mma(t)] }], 'serial', { lo: ivar(pg) }),
          ]),
        ),
      ],
      'serial',
      { lo: m(add(int(META_AT), ivar(i))), step: GROUP },
    ),
    ...accs.flatMap((_, t) => ifTile(t, store(t))),
  ];
  const body: KStmt[] = [
    G.kb.scratch(ap, 'f32', MB * x.K),
    let64(ch, ix('/', ivar(it), mBlocks)),
    let64(mi, ix('%', ivar(it), mBlocks)),
    let64(m0, mul(ivar(mi), int(MB))),
    let64(ml, ix('min', int(MB), ix('-', G.M, ivar(m0)))),
    ...packA(G, ap, ivar(m0), ivar(ml), x.K, b, mr),
    loop(ii, int(RC), [let64(i, add(mul(ivar(ch), int(RC)), ivar(ii))), loop(q, int(b / nr), panel)]),
  ];
  return [G.kb.parallel(it, mul(int(R / RC), mBlocks), body, G.work())];
}

/**
 * Rows r0 .. r0 + rows - 1 of A (all of K) into mr-tall panels, zero past `rows`:
 * ap[p·K + k·mr + r] = A[r0 + p + r, k], in b-deep steps so that a step's stores stay in
 * the first-level cache (gemm-pack.ts walks all of K per row: stores mr floats apart over
 * the whole panel, several times slower here).
 */
function packA(G: GemmBuilder, ap: string, r0: KExpr, rows: KExpr, K: number, b: number, mr: number): KStmt[] {
  const [p, k0, r, kk, row] = fresh(G, 'p', 'k0', 'r', 'kk', 'row');
  const value: KExpr = {
    k: 'select',
    c: cmp('<', v64(row), rows),
    a: G.operand(0, int(0), add(r0, v64(row)), add(ivar(k0), ivar(kk))),
    b: f32(0),
    t: 'f32',
  };
  const index = add(mul(ivar(p), int(K)), add(mul(add(ivar(k0), ivar(kk)), int(mr)), ivar(r)));
  return [
    loop(
      p,
      rows,
      [
        loop(
          k0,
          int(K),
          [
            loop(r, int(mr), [
              let64(row, add(ivar(p), ivar(r))),
              loop(kk, int(b), [{ k: 'astore', name: ap, index, value }]),
            ]),
          ],
          'serial',
          { step: b },
        ),
      ],
      'serial',
      { step: mr },
    ),
  ];
}
