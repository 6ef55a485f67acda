// The packed GEMM loop nests (Goto/BLIS) in kernel IR, for the GemmBuilder of gemm.ts.
//
// shared (one batch entry): the threads share B, packed whole (NR-wide panels of all of K).
//   pack B: a weight's packed buffer (once), else a scratch buffer of the plan, per K block
//     (kLoop) in parallel over the panels;
//   parallel over M blocks: for K blocks of about KC (kLoop): pack A (M block × KC, MR-tall
//     panels, thread-private), then every MR × NR tile of the block across all of N:
//     `mma` (prefetching the tile's rows of C meanwhile), then store the tile. Fewer M
//     blocks than MSPLIT (a few tiles of M) split N too, in parts of whole panels.
//   Each element of A and B is packed once; the threads meet once per product (and once
//   per K block while B is packed).
// private (a batch of products, as attention's heads): parallel over (batch × M blocks × N
//   blocks), each thread packing its own A and B blocks; many small products need no
//   sharing and one fork/join is all they can afford.
//
// M blocks are MR-rounded and at most MC rows, and at least MSPLIT of them when M allows,
// so that a short M still splits across threads (the pool claims blocks dynamically); the
// shared nest's are balanced to within one tile.
// A tile is stored by loops to its edge (GCC vectorizes them): the first K block writes
// the sum, later ones add to it, and the last one applies the epilogue.

import { type KExpr, type KStmt, add, cmp, int, ivar, ix, loop, mul } from '../ir/kernel.js';
import type { GemmBuilder } from './gemm.js';

/** Floats before a prepacked operand's panels: element 0 is 1 once it is packed (64 bytes keep the panels aligned). */
export const PREPACK_AT = 16;

const cdiv = (a: KExpr, b: KExpr): KExpr => ix('/', add(a, ix('-', b, int(1))), b);
const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });
const aload = (name: string, index: KExpr): KExpr => ({ k: 'aload', name, index, t: 'f32' });
const minix = (a: KExpr, b: KExpr): KExpr => ix('min', a, b);
/** Fresh names, one per prefix. */
const fresh = <const T extends readonly string[]>(G: GemmBuilder, ...prefixes: T): { [I in keyof T]: string } =>
  prefixes.map(G.v) as { [I in keyof T]: string };

/** The M block: M over MSPLIT rounded up to MR, within [MR, MC]. */
function mBlock(G: GemmBuilder): KExpr {
  const { MR, MC, MSPLIT } = G.s;
  return minix(int(MC), ix('max', int(MR), mul(cdiv(cdiv(G.M, int(MSPLIT)), int(MR)), int(MR))));
}

/** Names of one block's loops and locals. */
export interface Block {
  b: KExpr;
  m0: string;
  ml: string;
  n0: string;
  nl: string;
  pc: string;
  kc: string;
}

/**
 * The tiles of one (M block × N block × K block): mma into a local tile, then the store.
 * B's panel for tile column `jr` is at `bAt(jr)` in `bp`.
 */
export function tiles(G: GemmBuilder, x: Block, ap: string, bp: string | number, bAt: (jr: KExpr) => KExpr): KStmt[] {
  const { MR, NR } = G.s;
  const KC = kcMax(G.s.KC);
  const [jr, ir, acc, i, j, ie, je] = fresh(G, 'jr', 'ir', 'acc', 'i', 'j', 'ie', 'je');
  const at = [x.b, add(ivar(x.m0), add(ivar(ir), ivar(i))), add(ivar(x.n0), add(ivar(jr), ivar(j)))] as const;
  // When C's address divides (a convolution's NCHW output), a table per tile row and column.
  const parts = G.cParts(x.b);
  const [co, ro] = parts ? fresh(G, 'co', 'ro') : ['', ''];
  const aloadI = (name: string, index: KExpr): KExpr => ({ k: 'aload', name, index, t: 'i64' });
  const cAt = parts ? add(aloadI(ro, ivar(i)), aloadI(co, ivar(j))) : G.cIndex(...at);
  const table = (name: string, size: number, n: KExpr, v: string, off: KExpr): KStmt[] => [
    { k: 'array', name, t: 'i64', size, space: 'local' },
    loop(v, n, [{ k: 'astore', name, index: ivar(v), value: off }]),
  ];
  const colTable = parts ? table(co, NR, minix(int(NR), ix('-', ivar(x.nl), ivar(jr))), j, parts.nOff(at[2])) : [];
  const rowTable = parts ? table(ro, MR, ivar(ie), i, parts.mOff(at[1])) : [];
  const sum = aload(acc, add(mul(ivar(i), int(NR)), ivar(j)));
  const plus: KExpr = { k: 'bin', fn: 'add', a: { k: 'load', buf: G.out, index: cAt, t: 'f32' }, b: sum, t: 'f32' };
  // A whole tile (all but the edges) by loops of constant bounds, which GCC vectorizes
  // whole (by a runtime bound it made the first K block's copy 8-byte moves): +3-5% at 512³.
  const whole = cmp('&&', cmp('==', ivar(ie), int(MR)), cmp('==', ivar(je), int(NR)));
  const edge = (body: KStmt[]): KStmt[] => [
    {
      k: 'if',
      cond: whole,
      then: [loop(i, int(MR), [loop(j, int(NR), body)])],
      else: [loop(i, ivar(ie), [loop(j, ivar(je), body)])],
    },
  ];
  const store = (value: KExpr, last: boolean): KStmt[] => edge(G.store(value, ...at, last, parts ? cAt : undefined));
  // The tile's rows of C, prefetched while the mma runs, when they are plain rows.
  const ld = parts ? undefined : G.cRowStride();
  const cTile = ld && {
    buf: G.out,
    at: G.cIndex(x.b, add(ivar(x.m0), ivar(ir)), add(ivar(x.n0), ivar(jr))),
    ld,
    rows: ivar(ie),
    cols: ivar(je),
  };
  // The first K block stores the sum, later ones add to C; the last applies the epilogue.
  const K = G.K;
  const first = cmp('==', ivar(x.pc), int(0));
  const isLast = cmp('>=', add(ivar(x.pc), ivar(x.kc)), K);
  const oneBlock = K.k === 'const' && K.v <= KC;
  const byLast = (value: KExpr): KStmt[] =>
    G.epilogue.length === 0
      ? store(value, false)
      : oneBlock
        ? store(value, true)
        : [{ k: 'if', cond: isLast, then: store(value, true), else: store(value, false) }];
  return [
    loop(
      jr,
      ivar(x.nl),
      [
        ...colTable,
        loop(
          ir,
          ivar(x.ml),
          [
            { k: 'array', name: acc, t: 'f32', size: MR * NR, space: 'local' },
            loop(
              i,
              int(MR * NR),
              [{ k: 'astore', name: acc, index: ivar(i), value: { k: 'const', t: 'f32', v: 0 } }],
              'simd',
            ),
            let64(ie, minix(int(MR), ix('-', ivar(x.ml), ivar(ir)))),
            let64(je, minix(int(NR), ix('-', ivar(x.nl), ivar(jr)))),
            {
              k: 'mma',
              acc,
              a: ap,
              aOffset: mul(ivar(ir), int(KC)),
              b: bp,
              bOffset: bAt(ivar(jr)),
              kc: ivar(x.kc),
              mr: MR,
              nr: NR,
              ...(cTile ? { cTile } : {}),
            },
            ...rowTable,
            ...(oneBlock ? byLast(sum) : [{ k: 'if', cond: first, then: byLast(sum), else: byLast(plus) } as const]),
          ],
          'serial',
          { step: MR },
        ),
      ],
      'serial',
      { step: NR },
    ),
  ];
}

/**
 * B packed whole into prepacked buffer `pre` (panels of Kp = `kp` floats a column, after the
 * PREPACK_AT header) when its first element is 0, as the runtime leaves it after the weight
 * changed; then set to 1.
 */
export function packOnce(G: GemmBuilder, pre: number, kp: KExpr): KStmt {
  return {
    k: 'if',
    cond: cmp('==', { k: 'load', buf: pre, index: int(0), t: 'f32' }, { k: 'const', t: 'f32', v: 0 }),
    then: [
      ...G.pack(1, pre, int(0), int(0), G.N, int(0), G.K, G.s.NR, 'parallel', int(PREPACK_AT), kp),
      { k: 'store', buf: pre, index: int(0), value: { k: 'const', t: 'f32', v: 1 } },
    ],
  };
}

/** Fresh names for one block. */
export function names(G: GemmBuilder, b: KExpr): Block {
  const [m0, ml, n0, nl, pc, kc] = fresh(G, 'm0', 'ml', 'n0', 'nl', 'pc', 'kc');
  return { b, m0, ml, n0, nl, pc, kc };
}

/**
 * The K blocks: as many as KC-deep ones would be, less one when the last would be under a
 * quarter of KC (a 3×3 convolution over 32 channels has K = 288: one block, not 256 and a
 * 32-deep one that costs another pass over C), then balanced: each at most kcMax deep.
 */
export function kLoop(G: GemmBuilder, x: Block, body: KStmt[]): KStmt[] {
  const { KC } = G.s;
  const [kb, nk, kcb] = fresh(G, 'kb', 'nk', 'kcb');
  return [
    let64(nk, ix('max', int(1), cdiv(ix('-', G.K, int(kcMax(KC) - KC)), int(KC)))),
    let64(kcb, cdiv(G.K, ivar(nk))),
    loop(kb, ivar(nk), [
      let64(x.pc, mul(ivar(kb), ivar(kcb))),
      let64(x.kc, minix(ivar(kcb), ix('-', G.K, ivar(x.pc)))),
      ...body,
    ]),
  ];
}

/** The deepest K block kLoop makes, and the K stride of the packing buffers. */
export const kcMax = (KC: number): number => KC + Math.floor(KC / 4);

/**
 * One batch entry `b`. B is packed whole first, into NR-wide panels of all of K (panel j at
 * j*Kp*NR): a weight's packed buffer (packed by the first run after it changed), else a
 * scratch buffer of the plan packed here, K block by K block (a fork/join each, the threads
 * splitting the panels). Then one parallel loop over M blocks: each thread packs its A block
 * per K block and runs all of N, so the block's rows of C stay in its L2 across the K blocks,
 * A is packed once, and the threads meet once.
 */
export function packedShared(G: GemmBuilder, b: KExpr): KStmt[] {
  const { MC, NR } = G.s;
  const KC = kcMax(G.s.KC);
  const x = names(G, b);
  const [tl, nb, mi, ap, kp] = fresh(G, 'tl', 'nb', 'mi', 'ap', 'kp');
  const pre = G.prepacked();
  // Kp: K rounded up so that every panel starts 64-byte aligned.
  const q = Math.max(1, 16 / NR);
  const bp = pre ?? G.scratch(G.packedSize(q));
  // A constant when K is (the outlined loops see it as one), else computed once.
  const kpE = G.K.k === 'const' ? int(Math.ceil(G.K.v / q) * q) : ivar(kp);
  const base = pre === undefined ? int(0) : int(PREPACK_AT);
  // Panel (n0 + jr) / NR holds all of K, NR floats per k.
  const bAt = (jr: KExpr) => add(base, add(mul(add(ivar(x.n0), jr), kpE), mul(ivar(x.pc), int(NR))));
  const packB = (): KStmt[] => {
    if (pre === undefined) {
      const y = names(G, b);
      return kLoop(
        G,
        y,
        G.pack(1, bp, b, int(0), G.N, ivar(y.pc), ivar(y.kc), NR, 'parallel', mul(ivar(y.pc), int(NR)), kpE),
      );
    }
    return [packOnce(G, pre, kpE)];
  };
  // nb M blocks of whole tiles, their sizes within one tile of each other (block i: tiles
  // [T*i/nb, T*(i+1)/nb)), at most MC rows, their count a multiple of MSPLIT (and at most T):
  // threads that claim blocks at the same pace finish together.
  // Under MSPLIT blocks (M under MSPLIT tiles: 5 to 55 rows on AVX-512), each block's N
  // splits into nn parts of whole panels, so that the threads share a short M's product
  // (each part packs the block's A, a few rows).
  const { MR, MSPLIT } = G.s;
  const [nn, np, bi, part] = fresh(G, 'nn', 'np', 'bi', 'part');
  const tiles0 = (i: KExpr): KExpr => mul(ix('/', mul(ivar(tl), i), ivar(nb)), int(MR));
  const panels0 = (i: KExpr): KExpr => mul(ix('/', mul(ivar(np), i), ivar(nn)), int(NR));
  const perBlock: KStmt[] = [
    G.kb.scratch(ap, 'f32', MC * KC),
    let64(bi, ix('/', ivar(mi), ivar(nn))),
    let64(part, ix('%', ivar(mi), ivar(nn))),
    let64(x.m0, tiles0(ivar(bi))),
    let64(x.ml, ix('-', minix(tiles0(add(ivar(bi), int(1))), G.M), ivar(x.m0))),
    let64(x.n0, panels0(ivar(part))),
    let64(x.nl, ix('-', minix(panels0(add(ivar(part), int(1))), G.N), ivar(x.n0))),
    ...kLoop(G, x, [
      ...G.pack(0, ap, b, ivar(x.m0), ivar(x.ml), ivar(x.pc), ivar(x.kc), G.s.MR),
      ...tiles(G, x, ap, bp, bAt),
    ]),
  ];
  return [
    ...(G.K.k === 'const' ? [] : [let64(kp, mul(cdiv(G.K, int(q)), int(q)))]),
    ...packB(),
    let64(tl, cdiv(G.M, int(MR))),
    let64(nb, minix(ivar(tl), mul(cdiv(cdiv(ivar(tl), int(MC / MR)), int(MSPLIT)), int(MSPLIT)))),
    let64(np, cdiv(G.N, int(NR))),
    let64(nn, ix('max', int(1), minix(ivar(np), cdiv(int(MSPLIT), ix('max', ivar(nb), int(1)))))),
    G.kb.parallel(mi, mul(ivar(nb), ivar(nn)), perBlock, G.work()),
  ];
}

/** Parallel over (batch × M blocks × N blocks), each thread packing its own blocks. */
export function packedPrivate(G: GemmBuilder): KStmt[] {
  const { MC, NC } = G.s;
  const KC = kcMax(G.s.KC);
  const [it, bv, mb, ap, bp] = fresh(G, 'it', 'b', 'mb', 'ap', 'bp');
  const x = names(G, ivar(bv));
  const mbs = mBlock(G);
  const mBlocks = cdiv(G.M, mbs);
  const nBlocks = cdiv(G.N, int(NC));
  const body: KStmt[] = [
    G.kb.scratch(ap, 'f32', MC * KC),
    G.kb.scratch(bp, 'f32', KC * NC),
    let64(mb, mbs),
    let64(bv, ix('/', ivar(it), mul(mBlocks, nBlocks))),
    let64(x.m0, mul(ix('%', ix('/', ivar(it), nBlocks), mBlocks), ivar(mb))),
    let64(x.n0, mul(ix('%', ivar(it), nBlocks), int(NC))),
    let64(x.ml, minix(ivar(mb), ix('-', G.M, ivar(x.m0)))),
    let64(x.nl, minix(int(NC), ix('-', G.N, ivar(x.n0)))),
    ...kLoop(G, x, [
      ...G.pack(1, bp, x.b, ivar(x.n0), ivar(x.nl), ivar(x.pc), ivar(x.kc), G.s.NR),
      ...G.pack(0, ap, x.b, ivar(x.m0), ivar(x.ml), ivar(x.pc), ivar(x.kc), G.s.MR),
      ...tiles(G, x, ap, bp, (jr) => mul(jr, int(KC))),
    ]),
  ];
  return [G.kb.parallel(it, mul(G.NB, mul(mBlocks, nBlocks)), body, G.work())];
}
