// The tiled GPU form of a GEMM group (KernelGrid.tiled): each workgroup of T×T invocations
// computes a (T·R)×(T·R) block of C[b] for one batch entry, each invocation R×R outputs
// (rows ty + T·i, columns tx + T·j, so that neighbouring invocations store neighbouring
// columns). Over K in steps of TK, the workgroup stages the block's A (T·R × TK) and B
// (TK × T·R) tiles in workgroup-shared arrays (zero outside M, N and K: masked loads, so no
// invocation leaves early), meets at a barrier, accumulates from the shared tiles in f32
// registers, and meets again before the next tiles overwrite them. Every barrier is in
// uniform control flow: the only branch around them tests the workgroup index (a workgroup
// past the grid skips the whole body) and the K loop's bounds are dims. The fused epilogue
// (gemm.ts GemmBuilder.store) is applied to each in-bounds output as gemm-plain.ts does; a
// K of 0 stores the epilogue of 0.

import { type KExpr, type KStmt, add, cmp, f32, int, ivar, ix, loop, mul, select } from '../ir/kernel.js';
import type { GemmBuilder } from './gemm.js';

/** A tiled GEMM's shape: T×T invocations, R×R outputs each, K tiles of TK. */
export interface TiledSchedule {
  readonly T: number;
  readonly R: number;
  readonly TK: number;
}

export const TILED: TiledSchedule = { T: 16, R: 4, TK: 16 };

/**
 * Whether lowerGraph(g, { target: 'gpu' }) tiles GEMMs by default. Not yet: on SwiftShader
 * (the only adapter measured), a 256×256×256 f32 GEMM took ~0.33 s untiled and ~1.5 s tiled
 * (T 8, R 4: ~0.85 s; R 1: ~2.1 s); its barriers and workgroup arrays are slow on a CPU.
 * FMC_GPU_TILED=1 turns it on; measure on a real GPU before changing this.
 */
export const DEFAULT_GPU_TILED = false;

/** Below this many rows or columns (known sizes) a GEMM runs one output per invocation. */
export const TILED_MIN = 16;

/** Whether a GEMM is big enough to tile: M and N not known to be below TILED_MIN. */
export const tiledFits = (G: GemmBuilder, _s: TiledSchedule): boolean =>
  !((G.M.k === 'const' && G.M.v < TILED_MIN) || (G.N.k === 'const' && G.N.v < TILED_MIN));

/** Bytes of workgroup storage a tiled GEMM uses: its two f32 tiles. */
export const tiledBytes = (s: TiledSchedule): number => 4 * 2 * s.TK * s.T * s.R;

const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });
const aload = (name: string, index: KExpr): KExpr => ({ k: 'aload', name, index, t: 'f32' });
const lt = (a: KExpr, b: KExpr): KExpr => cmp('<', a, b);
const cdiv = (a: KExpr, b: number): KExpr => ix('/', add(a, int(b - 1)), int(b));

/** A workgroup per block×block part of C[b]: its names and the statements around its body. */
export interface BlockLaunch {
  /** The batch entry, the block's first row and column, the local index. */
  readonly b: string;
  readonly m0: string;
  readonly n0: string;
  readonly l: string;
  /** The body run by the workgroups inside the grid, with the names above defined. */
  readonly around: (body: readonly KStmt[]) => KStmt[];
}

/** Sets the grid of a GEMM whose workgroups of W invocations take a block×block part of C each. */
export function blockLaunch(G: GemmBuilder, block: number, W: number): BlockLaunch {
  const [wg, b, t, m0, n0, l] = G.kb.freshNames('wg', 'b', 't', 'm0', 'n0', 'l');
  const tilesN = cdiv(G.N, block);
  const perBatch = mul(cdiv(G.M, block), tilesN);
  const groups = mul(G.NB, perBatch);
  G.kb.grid = { invocations: mul(groups, int(W)), workgroup: W, tiled: true };
  const around = (body: readonly KStmt[]): KStmt[] => [
    let64(wg, { k: 'wgid' }),
    {
      k: 'if',
      cond: lt(ivar(wg), groups),
      then: [
        let64(b, ix('/', ivar(wg), perBatch)),
        let64(t, ix('%', ivar(wg), perBatch)),
        let64(m0, mul(ix('/', ivar(t), tilesN), int(block))),
        let64(n0, mul(ix('%', ivar(t), tilesN), int(block))),
        let64(l, { k: 'lid' }),
        ...body,
      ],
    },
  ];
  return { b, m0, n0, l, around };
}

/** Where and how a workgroup stages one operand's tile (rows r0.. of the operand, K from k0). */
export interface Staging {
  readonly which: 0 | 1;
  /** The shared array, and the position in it of the tile's element (row r, k c). */
  readonly arr: string;
  readonly at: (r: KExpr, c: KExpr) => KExpr;
  /** Rows of the tile, K of a step, invocations of the workgroup. */
  readonly rows: number;
  readonly TK: number;
  readonly W: number;
  /** Names of the batch entry, the first row, the step's first k and the local index. */
  readonly b: string;
  readonly r0: string;
  readonly k0: string;
  readonly l: string;
  /** The staged value from the operand's (widened, f32) value; default as it is. */
  readonly convert?: (v: KExpr) => KExpr;
}

/**
 * The workgroup's loads of one operand's rows × TK tile into a shared array, zero outside the
 * operand (masked: no invocation leaves early); consecutive invocations read along the
 * operand's contiguous axis.
 */
export function stageTile(G: GemmBuilder, s: Staging): KStmt {
  const [e, idx] = G.kb.freshNames('e', 'idx');
  const kFast = G.kInnermost(s.which);
  const r = kFast ? ix('/', ivar(idx), int(s.TK)) : ix('%', ivar(idx), int(s.rows));
  const c = kFast ? ix('%', ivar(idx), int(s.TK)) : ix('/', ivar(idx), int(s.rows));
  const [row, kk] = [add(ivar(s.r0), r), add(ivar(s.k0), c)];
  const inside = cmp('&&', lt(row, s.which === 0 ? G.M : G.N), lt(kk, G.K));
  const value = select(inside, G.operand(s.which, ivar(s.b), row, kk), f32(0), 'f32');
  const store: KStmt = { k: 'astore', name: s.arr, index: s.at(r, c), value: s.convert?.(value) ?? value };
  return loop(e, int((s.rows * s.TK) / s.W), [let64(idx, add(ivar(s.l), mul(ivar(e), int(s.W)))), store], 'unroll');
}

export function tiledGemm(G: GemmBuilder, s: TiledSchedule = TILED): KStmt[] {
  const { T, R, TK } = s;
  const BS = T * R; // the block's rows and columns
  const W = T * T; // invocations per workgroup
  if ((BS * TK) % W !== 0) throw new Error(`internal: a ${BS}×${TK} tile does not split over ${W} invocations`);
  const { b, m0, n0, l, around } = blockLaunch(G, BS, W);
  const [tx, ty, as, bs, acc, ra, rb, k0] = G.kb.freshNames('tx', 'ty', 'as', 'bs', 'acc', 'ra', 'rb', 'k0');
  G.kb.schedule = { tiled: `${T}x${T}x${R}x${R}`, TK };

  // Operand tiles staged as arr[k * BS + r].
  const tile = { at: (r: KExpr, c: KExpr) => add(mul(c, int(BS)), r), rows: BS, TK, W, b, k0, l };
  const stage = (which: 0 | 1, arr: string, r0: string): KStmt => stageTile(G, { ...tile, which, arr, r0 });

  const [kk, i, j] = G.kb.freshNames('kk', 'i', 'j');
  const at = (i: KExpr, j: KExpr): KExpr => add(mul(i, int(R)), j);
  // This invocation's R elements (lane + r·T) of row kk of a staged tile, into registers `reg`.
  const fetch = (reg: string, tile: string, lane: string, r: string): KStmt => {
    const value = aload(tile, add(mul(ivar(kk), int(BS)), add(ivar(lane), mul(ivar(r), int(T)))));
    return loop(r, int(R), [{ k: 'astore', name: reg, index: ivar(r), value }], 'unroll');
  };
  const step: KStmt[] = [
    stage(0, as, m0),
    stage(1, bs, n0),
    { k: 'barrier' },
    loop(kk, int(TK), [
      fetch(ra, as, ty, i),
      fetch(rb, bs, tx, j),
      loop(
        i,
        int(R),
        [
          loop(
            j,
            int(R),
            [
              {
                k: 'astore',
                name: acc,
                index: at(ivar(i), ivar(j)),
                value: { k: 'fma', a: aload(ra, ivar(i)), b: aload(rb, ivar(j)), c: aload(acc, at(ivar(i), ivar(j))) },
              },
            ],
            'unroll',
          ),
        ],
        'unroll',
      ),
    ]),
    { k: 'barrier' },
  ];

  const [m, n] = G.kb.freshNames('m', 'n');
  const epilogue = loop(
    i,
    int(R),
    [
      loop(
        j,
        int(R),
        [
          let64(m, add(ivar(m0), add(ivar(ty), mul(ivar(i), int(T))))),
          let64(n, add(ivar(n0), add(ivar(tx), mul(ivar(j), int(T))))),
          {
            k: 'if',
            cond: cmp('&&', lt(ivar(m), G.M), lt(ivar(n), G.N)),
            then: G.store(aload(acc, at(ivar(i), ivar(j))), ivar(b), ivar(m), ivar(n), true),
          },
        ],
        'unroll',
      ),
    ],
    'unroll',
  );

  const body: KStmt[] = [
    let64(tx, ix('%', ivar(l), int(T))),
    let64(ty, ix('/', ivar(l), int(T))),
    { k: 'array', name: as, t: 'f32', size: TK * BS, space: 'shared' },
    { k: 'array', name: bs, t: 'f32', size: TK * BS, space: 'shared' },
    { k: 'array', name: acc, t: 'f32', size: R * R, space: 'local' },
    { k: 'array', name: ra, t: 'f32', size: R, space: 'local' },
    { k: 'array', name: rb, t: 'f32', size: R, space: 'local' },
    loop(i, int(R * R), [{ k: 'astore', name: acc, index: ivar(i), value: f32(0) }], 'unroll'),
    loop(k0, G.K, step, 'serial', { step: TK }),
    epilogue,
  ];
  return around(body);
}
