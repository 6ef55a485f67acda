// The sparse tensor-core GEMM (CUDA): y = x · Wᵀ (+ the fused epilogue) for f16/bf16 operands
// whose weight W[N, K] the sparsity pass marked 2:4 (a barrier keyed TWO_FOUR_KEY, under the
// precision pass's cast when there is one), multiplying only W's kept values with PTX's mma.sp
// m16n8k32 (KStmt 'fragMma' with FragSparse). mma.sp takes the sparse matrix as A, so the
// product is computed transposed: yᵀ = W · xᵀ, W's rows the tiles' rows (M of the instruction)
// and x's rows their columns (N of the instruction); the accumulator element (r, c) of a tile
// is y[x row c, W row r].
//
// W's kept values and metadata are derived into a plan buffer (kind packed, from W's param
// buffer; gemm-frag-sparse-derive.ts has the layout) by a kernel launched before this one that
// works only when the buffer's first word is 0 (the runtime zeroes it when the weights may have
// changed); this kernel sets it to 1.
//
// A workgroup of 4 warps computes a 64×64 block of y (x rows m0.., W rows n0..), the same
// blocks as the dense fragment GEMM (gemm-frag.ts): warp (wn, wm) takes W rows n0 + 32·wn..
// (two 16-row halves, whose metadata one register holds: selector 0 and 1) and x rows
// m0 + 32·wm.. (4 tiles of 8). Over K in steps of 32, the workgroup stages x's 64×32 tile in a
// shared array of the operand dtype (zero outside M and K), meets at a barrier, each lane reads
// its metadata word and A registers from the derived buffer (coalesced: lane-consecutive
// words) and its 8 b fragments from the shared tile, runs the 8 sparse products, and meets
// again. Barriers are in uniform control flow, as in gemm-frag.ts.

import { isFloat } from '../ir/dtype.js';
import type { Node } from '../ir/graph.js';
import { WARP } from '../ir/fragments.js';
import { type KExpr, type KStmt, add, cmp, int, ivar, ix, loop, mul } from '../ir/kernel.js';
import { TWO_FOUR_KEY } from '../passes/sparsity.js';
import type { GemmBuilder } from './gemm.js';
import { REC, SP_AT, deriveSparse, geometryOf, storageBuffer } from './gemm-frag-sparse-derive.js';
import { storeFragment } from './gemm-frag.js';
import { blockLaunch, stageTile } from './gemm-tiled.js';

const WARPS = 4;
const BLOCK = 64;
const BK = 32; // K per step: one mma.sp deep
const N_FRAGS = 4; // a warp's 32 x rows as 8-row tiles
/** Metadata for a tile past N's last: every group's positions 0 and 1 (0 would be invalid PTX). */
const NO_META = 0x44444444;

/** `x` without a 2:4 mark (the weight itself; C reads the mark so). */
export const unmarked = (x: Node): Node => (x.op === 'barrier' && x.args.key === TWO_FOUR_KEY ? x.inputs[0]! : x);

/**
 * B's mark when it is a 2:4 weight (a marked param, or a float cast of one) that the sparse GEMM
 * can multiply: constant N and K (K a multiple of 4), no batch letters; else undefined.
 */
export function twoFourWeight(G: GemmBuilder): Node | undefined {
  const b = G.n.inputs[1]!;
  const m = b.op === 'cast' && isFloat(b.type.dtype) ? b.inputs[0]! : b;
  if (m.op !== 'barrier' || m.args.key !== TWO_FOUR_KEY || m.inputs[0]!.op !== 'param') return undefined;
  if (G.N.k !== 'const' || G.K.k !== 'const' || G.K.v === 0 || G.K.v % 4 !== 0 || G.g.batch.length > 0)
    return undefined;
  return G.f.buffers.has(m.inputs[0]!) ? m : undefined;
}

const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });
const lt = (a: KExpr, b: KExpr): KExpr => cmp('<', a, b);
const i32 = (v: number): KExpr => ({ k: 'const', t: 'i32', v });

/** The sparse GEMM's statements for B's 2:4 `mark` (twoFourWeight). */
export function sparseFragGemm(G: GemmBuilder, dtype: 'f16' | 'bf16', mark: Node): KStmt[] {
  const x = geometryOf((G.N as { v: number }).v, (G.K as { v: number }).v);
  const w = G.f.buffers.get(mark.inputs[0]!)!;
  const spBuf = storageBuffer(G, w, x);
  deriveSparse(G, G.n.inputs[1]!, spBuf, x, dtype);
  const sp = G.kb.param(spBuf, 'readwrite');
  const W = WARPS * WARP;
  const { b, m0, n0, l, around } = blockLaunch(G, BLOCK, W);
  const [wm, wn, lane, tile, xs, k0, rec, meta] = G.kb.freshNames(
    'wm',
    'wn',
    'lane',
    'tile',
    'xs',
    'k0',
    'rec',
    'meta',
  );
  G.kb.schedule = { fragments: `m16n8k32 ${dtype} 2:4`, block: `${BLOCK}x${BLOCK}x${BK}` };

  // x's tile staged as xs[k * BLOCK + r] (r: x row in the block), in its own dtype (exact).
  const convert = (v: KExpr): KExpr => ({ k: 'cast', from: dtype, to: dtype, a: v, t: dtype });
  const at = (r: KExpr, c: KExpr): KExpr => add(mul(c, int(BLOCK)), r);
  const stage = stageTile(G, { which: 0, arr: xs, rows: BLOCK, TK: BK, W, b, r0: m0, k0, l, convert, at });

  const aw = [0, 1].map(() => G.kb.fresh('aw')); // the two halves' A registers (i32 words)
  const bLo = Array.from({ length: N_FRAGS }, () => G.kb.fresh('fb'));
  const bHi = Array.from({ length: N_FRAGS }, () => G.kb.fresh('fb'));
  const accs = aw.map(() => bLo.map(() => G.kb.fresh('fc')));
  const word = (index: KExpr): KExpr => ({ k: 'load', buf: sp, index, t: 'i32' });
  const cols = (ni: number): KExpr => add(mul(ivar(wm), int(N_FRAGS * 8)), int(ni * 8));
  const registers: KStmt = {
    k: 'if',
    cond: lt(ivar(tile), int(x.NT)),
    then: [
      let64(rec, add(int(SP_AT), mul(add(mul(ivar(tile), int(x.KS)), ix('/', ivar(k0), int(BK))), int(REC)))),
      { k: 'set', name: meta, value: word(add(ivar(rec), ivar(lane))) },
      ...aw.flatMap((name, mt) =>
        [0, 1, 2, 3].map((j): KStmt => ({
          k: 'astore',
          name,
          index: int(j),
          value: word(add(ivar(rec), add(int(32 + (mt * 4 + j) * 32), ivar(lane)))),
        })),
      ),
    ],
  };
  const loadB = (names: string[], k: number): KStmt[] =>
    names.map((name, ni) => ({
      k: 'fragLoad',
      name,
      role: 'b',
      t: dtype,
      src: xs,
      offset: add(int(k * BLOCK), cols(ni)),
      ld: int(BLOCK),
    }));
  const step: KStmt[] = [
    stage,
    { k: 'barrier' },
    registers,
    ...loadB(bLo, 0),
    ...loadB(bHi, 16),
    ...accs.flatMap((row, mt) =>
      row.map((acc, ni): KStmt => ({
        k: 'fragMma',
        acc,
        a: aw[mt]!,
        b: bLo[ni]!,
        t: dtype,
        stage: xs,
        sparse: { b2: bHi[ni]!, meta, selector: mt === 0 ? 0 : 1 },
      })),
    ),
    { k: 'barrier' },
  ];

  // Element (r, c) of half mt's tile ni is y[x row m0 + cols(ni) + c, W row n0 + 32·wn + 16·mt + r].
  const epilogue = accs.flatMap((row, mt) =>
    row.map((acc, ni) =>
      storeFragment(G, acc, b, (r, c) => [
        add(ivar(m0), add(cols(ni), c)),
        add(ivar(n0), add(add(mul(ivar(wn), int(32)), int(mt * 16)), r)),
      ]),
    ),
  );

  const body: KStmt[] = [
    let64(wm, ix('%', ix('/', ivar(l), int(WARP)), int(2))),
    let64(wn, ix('/', ix('/', ivar(l), int(WARP)), int(2))),
    let64(lane, ix('%', ivar(l), int(WARP))),
    let64(tile, add(ix('/', ivar(n0), int(32)), ivar(wn))),
    // The derived words stay valid until the runtime zeroes the flag again.
    { k: 'if', cond: cmp('==', ivar(l), int(0)), then: [{ k: 'store', buf: sp, index: int(0), value: i32(1) }] },
    { k: 'array', name: xs, t: dtype, size: BK * BLOCK, space: 'shared' },
    ...aw.map((name): KStmt => ({ k: 'array', name, t: 'i32', size: 4, space: 'local' })),
    ...aw.flatMap((name) => [0, 1, 2, 3].map((j): KStmt => ({ k: 'astore', name, index: int(j), value: i32(0) }))),
    { k: 'let', name: meta, t: 'i32', value: i32(NO_META) },
    ...[...bLo, ...bHi].map((name): KStmt => ({ k: 'frag', name, role: 'b', t: dtype })),
    ...accs.flat().map((name): KStmt => ({ k: 'frag', name, role: 'acc', t: 'f32' })),
    loop(k0, G.K, step, 'serial', { step: BK }),
    ...epilogue,
  ];
  return around(body);
}
