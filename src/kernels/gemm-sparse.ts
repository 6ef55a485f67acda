// The C target's block-sparse GEMM: C = A · Wᵀ (+ the fused epilogue) for a weight W[N, K]
// that the sparsity pass marked as pruned to b×b blocks (src/passes/sparsity.ts), multiplying
// only W's nonzero blocks.
//
// Storage, W bound dense (training shares it): two plan buffers derived from W's param buffer
// (kind 'packed', like a prepacked weight: the runtime zeroes their first element when W
// changes, and the next run derives them again; once per weight version, never per call).
// `meta` (i32, gemm-sparse-derive.ts) holds the chunk pointers, block columns and runs; `vals`
// (f32): block p at VALS_AT + p·b·b, as b/nr panels of nr columns (W's rows), each b deep
// along K: panel q of block p holds W[i·b + q·nr + c, cols[p]·b + k] at k·nr + c, the
// register tile's B panel. W bound as a block table (src/ir/sparse-format.ts: inference with
// no train step): the table's values are those panels already (nr = bsrPanel(b)), read in
// place at their slots, and only `meta` is derived, from the table's index. The pattern is
// data: the kernel is the same for every pattern of the same shape and capacity.
//
// Multiplying: parallel over (chunks of RC block rows × blocks of TILES·mr rows of A); each,
// for each chunk of KC columns of K, packs its rows of A there (mr-tall panels: at most
// PACK_FLOATS floats a thread, whatever K) and, for each block row and panel, runs the
// register tile (`mma`, mr × nr, b deep) of each of its TILES tiles over the row's stored
// blocks in the chunk, GROUP blocks at a time (their panels stay in the first-level cache
// across the tiles); with several chunks the tiles' sums wait in a per-thread `hold` between
// them; after the last, the tiles are stored through the epilogue. An empty block row stores
// the epilogue of 0. Few rows (a GEMV) use 1-row tiles. TILES 10 and GROUP 8 were the fastest
// of those tried with bench/sparse.ts (TILES 2, 4, 8, 10; GROUP 4, 8, 16, 64) on the AVX-512
// machine.

import { dimConst } from '../ir/dims.js';
import type { Node } from '../ir/graph.js';
import { type KExpr, type KStmt, add, cmp, f32, int, ivar, ix, loop, mul } from '../ir/kernel.js';
import { parseBsrKey } from '../ir/sparse-format.js';
import { bsrPanel, parseTableName } from '../ir/sparse-table.js';
import type { GemmBuilder } from './gemm.js';
import { GROUP, type Geometry, VALS_AT, derive, fresh, let64, metaLayout, v64 } from './gemm-sparse-derive.js';

const cdiv = (a: KExpr, b: KExpr): KExpr => ix('/', add(a, ix('-', b, int(1))), b);

/** A block-sparse B operand: W's param buffer, or its block table's two. */
export interface SparseWeight {
  readonly b: number;
  readonly cap: number;
  readonly w?: number;
  readonly table?: { readonly index: number; readonly values: number };
}

/** B's storage when B is a block-sparse mark over an f32 param or a block table, with constant N and K. */
export function sparseWeightOf(G: GemmBuilder): SparseWeight | undefined {
  const x = G.n.inputs[1]!;
  const key = x.op === 'barrier' ? parseBsrKey(x.args.key) : undefined;
  if (!key || G.N.k !== 'const' || G.K.k !== 'const' || G.g.batch.length > 0) return undefined;
  const src = x.inputs[0]!;
  if (src.op === 'param') {
    const w = G.f.buffers.get(src);
    return w === undefined ? undefined : { ...key, w };
  }
  const parts = new Map<string, number | undefined>();
  const stack: Node[] = [src];
  for (let n = stack.pop(); n; n = stack.pop()) {
    const t = n.op === 'param' ? parseTableName(n.args.path) : undefined;
    if (t?.b === key.b) parts.set(t.part, G.f.buffers.get(n));
    stack.push(...n.inputs);
  }
  const [index, values] = [parts.get('index'), parts.get('values')];
  return index === undefined || values === undefined ? undefined : { ...key, table: { index, values } };
}

/** Floats of packed A a thread at most: K is cut into chunks that fit. */
export const PACK_FLOATS = 1 << 19;

/** The sparse GEMM's statements; `dense` is the plain form run when a dense W overflows `cap`. */
export function sparseGemm(G: GemmBuilder, s: SparseWeight, dense: () => KStmt[]): KStmt[] {
  const { b, cap } = s;
  const { N, K } = G as { N: { k: 'const'; v: number }; K: { k: 'const'; v: number } };
  const R = N.v / b;
  const nr = s.table ? bsrPanel(b) : b % G.s.NR === 0 ? G.s.NR : 16;
  const few = G.M.k === 'const' ? G.M.v < G.s.SMALL_M : undefined;
  const geometry = (mr: number): Geometry => {
    const maxKC = Math.max(b, Math.floor(PACK_FLOATS / ((mr === 1 ? 1 : TILES) * mr) / b) * b);
    const nK = Math.ceil(K.v / maxKC);
    return { R, b, nr, cap, K: K.v, KC: Math.ceil(K.v / nK / b) * b, nK, meta: -1, vals: -1, valsAt: VALS_AT };
  };
  // One derived layout serves both tile heights: the one with more K chunks.
  const shape = [geometry(1), geometry(G.s.MR)].reduce((a, c) => (few === true || c.nK <= a.nK ? a : c));
  const tables = G.kb.tables;
  const from = s.table ? s.table.index : s.w!;
  G.kb.param(from, 'read');
  const meta = G.kb.param(tables.buffer('i32', dimConst(metaLayout(shape).size), 'packed', from), 'readwrite');
  const geo: Geometry = s.table
    ? { ...shape, meta, vals: G.kb.param(s.table.values, 'read'), valsAt: 0, index: G.kb.param(s.table.index, 'read') }
    : {
        ...shape,
        meta,
        vals: G.kb.param(tables.buffer('f32', dimConst(VALS_AT + cap * b * b), 'packed', from), 'readwrite'),
      };
  const m = (index: KExpr): KExpr => ({ k: 'load', buf: meta, index, t: 'i64' });
  const tiles = (mr: number): KStmt[] => multiply(G, geo, mr);
  const sparse: KStmt[] =
    few === undefined
      ? [{ k: 'if', cond: cmp('<', G.M, int(G.s.SMALL_M)), then: tiles(1), else: tiles(G.s.MR) }]
      : tiles(few ? 1 : G.s.MR);
  return [
    { k: 'if', cond: cmp('==', m(int(0)), int(0)), then: derive(G, geo) },
    // A table has `cap` slots, so it never overflows (the runtime refuses one that would).
    { k: 'if', cond: cmp('!=', m(int(1)), int(0)), then: s.table ? [] : dense(), else: sparse },
  ];
}

/** Block rows a work item: its packed rows of A serve all of them. */
const chunkOf = (R: number): number => [16, 8, 4, 2, 1].find((c) => R % c === 0 && R / c >= 4) ?? 1;
/** Register tiles a work item: MB = TILES · mr rows of A, packed once per chunk of block rows. */
const TILES = 10;

/** The multiplication with mr-row tiles (see the top of the file). */
function multiply(G: GemmBuilder, x: Geometry, mr: number): KStmt[] {
  const { R, b, nr, meta, vals, KC, nK } = x;
  const at = metaLayout(x);
  const m = (index: KExpr): KExpr => ({ k: 'load', buf: meta, index, t: 'i64' });
  const RC = chunkOf(R);
  const T = mr === 1 ? 1 : TILES;
  const MB = T * mr;
  const [it, ap, ch, mi, m0, ml, ii, i, q, pg, pe, p, e, ie, jj, kc, hold] = fresh(
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
    'kc',
    'hold',
  );
  const accs = Array.from({ length: T }, () => G.v('acc'));
  const mBlocks = cdiv(G.M, int(MB));
  // Row i's blocks in chunk kc: ptr[i·nK + kc] .. ptr[i·nK + kc + 1] - 1.
  const ptr = (d: number): KExpr => m(add(int(at.ptr + d), add(mul(ivar(i), int(nK)), ivar(kc))));
  // Blocks p .. p + run - 1 have consecutive columns: one b·run deep mma (0: inside a run).
  const run = m(add(int(at.runs), ivar(p)));
  const slot = x.index !== undefined ? m(add(int(at.slots), ivar(p))) : ivar(p);
  // Tile t (rows m0 + t·mr ..) exists when t·mr < ml; tile 0 always does.
  const ifTile = (t: number, body: KStmt[]): KStmt[] =>
    t === 0 ? body : [{ k: 'if', cond: cmp('<', int(t * mr), ivar(ml)), then: body }];
  const mma = (t: number): KStmt => ({
    k: 'mma',
    acc: accs[t]!,
    a: ap,
    aOffset: add(
      int(t * mr * KC),
      mul(ix('-', m(add(int(at.cols), ivar(p))), mul(ivar(kc), int(KC / b))), int(b * mr)),
    ),
    b: vals,
    bOffset: add(int(x.valsAt), add(mul(slot, int(b * b)), mul(ivar(q), int(b * nr)))),
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
  // Several K chunks: tile t's sums wait in hold between them.
  const held = (t: number): KExpr =>
    add(mul(add(mul(add(mul(ivar(ii), int(b / nr)), ivar(q)), int(T)), int(t)), int(mr * nr)), ivar(e));
  const first = cmp('==', ivar(kc), int(0));
  const last = cmp('==', ivar(kc), int(nK - 1));
  const init = (acc: string, t: number): KStmt => {
    const zero: KStmt = { k: 'astore', name: acc, index: ivar(e), value: f32(0) };
    if (nK === 1) return loop(e, int(mr * nr), [zero], 'simd');
    const load: KStmt = {
      k: 'astore',
      name: acc,
      index: ivar(e),
      value: { k: 'aload', name: hold, index: held(t), t: 'f32' },
    };
    return {
      k: 'if',
      cond: first,
      then: [loop(e, int(mr * nr), [zero], 'simd')],
      else: [loop(e, int(mr * nr), [load])],
    };
  };
  const finish = (t: number): KStmt[] => {
    if (nK === 1) return store(t);
    const save: KStmt = {
      k: 'astore',
      name: hold,
      index: held(t),
      value: { k: 'aload', name: accs[t]!, index: ivar(e), t: 'f32' },
    };
    return [{ k: 'if', cond: last, then: store(t), else: [loop(e, int(mr * nr), [save])] }];
  };
  const panel: KStmt[] = [
    ...accs.flatMap((acc, t): KStmt[] => [
      { k: 'array', name: acc, t: 'f32', size: mr * nr, space: 'local' },
      init(acc, t),
    ]),
    loop(
      pg,
      ptr(1),
      [
        let64(pe, ix('min', add(ivar(pg), int(GROUP)), ptr(1))),
        ...accs.flatMap((_, t) =>
          ifTile(t, [
            loop(p, ivar(pe), [{ k: 'if', cond: cmp('>', run, int(0)), then: [mma(t)] }], 'serial', { lo: ivar(pg) }),
          ]),
        ),
      ],
      'serial',
      { lo: ptr(0), step: GROUP },
    ),
    ...accs.flatMap((_, t) => ifTile(t, finish(t))),
  ];
  const body: KStmt[] = [
    G.kb.scratch(ap, 'f32', MB * KC),
    ...(nK > 1 ? [G.kb.scratch(hold, 'f32', RC * b * MB)] : []),
    let64(ch, ix('/', ivar(it), mBlocks)),
    let64(mi, ix('%', ivar(it), mBlocks)),
    let64(m0, mul(ivar(mi), int(MB))),
    let64(ml, ix('min', int(MB), ix('-', G.M, ivar(m0)))),
    loop(kc, int(nK), [
      ...packA(G, ap, ivar(m0), ivar(ml), ivar(kc), x, mr),
      loop(ii, int(RC), [let64(i, add(mul(ivar(ch), int(RC)), ivar(ii))), loop(q, int(b / nr), panel)]),
    ]),
  ];
  return [G.kb.parallel(it, mul(int(R / RC), mBlocks), body, G.work())];
}

/**
 * Rows r0 .. r0 + rows - 1 of A, columns of K chunk kc, into mr-tall panels, zero past `rows`:
 * ap[p·KC + k·mr + r] = A[r0 + p + r, kc·KC + k], in b-deep steps so that a step's stores stay
 * in the first-level cache (gemm-pack.ts walks all of K per row: stores mr floats apart over
 * the whole panel, several times slower here).
 */
function packA(G: GemmBuilder, ap: string, r0: KExpr, rows: KExpr, kc: KExpr, x: Geometry, mr: number): KStmt[] {
  const { KC, b } = x;
  const [p, k0, r, kk, row] = fresh(G, 'p', 'k0', 'r', 'kk', 'row');
  const value: KExpr = {
    k: 'select',
    c: cmp('<', v64(row), rows),
    a: G.operand(0, int(0), add(r0, v64(row)), add(mul(kc, int(KC)), add(ivar(k0), ivar(kk)))),
    b: f32(0),
    t: 'f32',
  };
  const index = add(mul(ivar(p), int(KC)), add(mul(add(ivar(k0), ivar(kk)), int(mr)), ivar(r)));
  const width = x.nK === 1 ? int(KC) : ix('min', int(KC), ix('-', int(x.K), mul(kc, int(KC))));
  return [
    loop(
      p,
      rows,
      [
        loop(
          k0,
          width,
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
