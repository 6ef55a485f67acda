// Deriving the sparse tensor-core GEMM's storage of a 2:4 weight W[N, K] (gemm-frag-sparse.ts
// multiplies with it): one kernel launched before the GEMM, one invocation per 32-bit word,
// which does nothing unless the buffer's first word is 0 (the runtime zeroes it when W may have
// changed; the GEMM sets it to 1). The words are src/ir/sparse-format.ts's 2:4 form (per row and
// group of 4 along K: the two kept values, in increasing position; a group with fewer than two
// nonzeros keeps zeros at its lowest free positions; the positions 2 bits each, the first in the
// low bits), arranged as mma.sp's registers so that each lane of a warp reads its own words:
//
//   [0] 1 once derived; records from SP_AT, one per (32 rows of W: tile i, 32 columns of K: step
//   s) at SP_AT + (i·KS + s)·REC, KS = ceil(K / 32), each of REC = 288 words:
//   - words 0..31, lane L = 4g + t's metadata register: with m = t >> 1 (the 16-row half, the
//     selector that reads it) and h = t & 1 (columns 16h..16h+15 of the step), the format's 16
//     position bits of row 16m + g in its low half and of row 16m + g + 8 in its high half (the
//     low or high half of the format's word of that row);
//   - words 32 + (m·4 + j)·32 + L: register j of lane L's A fragment of half m, the kept values
//     2j', 2j' + 1 of one group: row 16m + g + 8·(j & 1), group t + 4·(j >> 1) of the step (low
//     half the first kept value's f16/bf16 bits).
// Rows past N and columns past K are zeros (positions 0 and 1). W is read through the fuser:
// the precision pass's cast of an f32 master weight to bf16 is applied as the bits are taken.
// A group with more than two nonzeros keeps its first two (the sparsity pass marks only weights
// that pruneWeights prunes 2:4 where they are bound).

import { dimConst } from '../ir/dims.js';
import type { Node } from '../ir/graph.js';
import { type KExpr, type KStmt, add, cmp, f32, int, ivar, ix, loop, mul } from '../ir/kernel.js';
import type { GemmBuilder } from './gemm.js';

/** Words before the records (the flag in word 0); words a record. */
export const SP_AT = 16;
export const REC = 288;

const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });
const set = (name: string, value: KExpr): KStmt => ({ k: 'set', name, value });
const i32 = (e: KExpr): KExpr => ({ k: 'cast', from: 'i64', to: 'i32', a: e, t: 'i32' });
const bits = (op: '|' | '<<', a: KExpr, b: KExpr): KExpr => ({ k: 'bits', op, a, b });
const v32 = (name: string): KExpr => ({ k: 'var', name, t: 'i32' });
const SIXTEEN: KExpr = { k: 'const', t: 'i32', v: 16 };

/** The storage's geometry: tiles of 32 rows, steps of 32 along K. */
export interface SparseGeometry {
  readonly N: number;
  readonly K: number;
  readonly NT: number;
  readonly KS: number;
}

export const geometryOf = (N: number, K: number): SparseGeometry => ({
  N,
  K,
  NT: Math.ceil(N / 32),
  KS: Math.ceil(K / 32),
});

/** Words of the storage. */
export const storageWords = (x: SparseGeometry): number => SP_AT + x.NT * x.KS * REC;

/**
 * Adds the derive kernel to G's group (launched before the GEMM) filling storage buffer `sp`
 * (a plan buffer id) from B, the marked weight `w` (read as W[n, k]).
 */
export function deriveSparse(G: GemmBuilder, w: Node, sp: number, x: SparseGeometry, dtype: 'f16' | 'bf16'): void {
  const kp = G.kb.another();
  const out = kp.param(sp, 'readwrite');
  const [i, r, word, tile, ks, res] = kp.freshNames('i', 'r', 'w', 'tile', 'ks', 'word');
  const flat = G.f.buffers.get(w);
  const W = (row: KExpr, col: KExpr): KExpr =>
    flat !== undefined ? G.f.load(kp, flat, w, add(mul(row, int(x.K)), col)) : G.f.at(kp, w, [row, col]);
  const inside = (row: KExpr, col: KExpr): KExpr => cmp('&&', cmp('<', row, int(x.N)), cmp('<', col, int(x.K)));
  const toBits = (v: KExpr): KExpr => ({
    k: 'call',
    fn: dtype === 'f16' ? 'fmc_f2h' : 'fmc_f2bf',
    args: [v],
    t: 'i32',
  });

  /** Lets p0 and p1: the kept positions of the group of 4 at (row, c0), as the format chooses them. */
  const positions = (row: KExpr, c0: KExpr, p0: string, p1: string): KStmt[] => {
    const [cnt, q, nz] = kp.freshNames('cnt', 'q', 'nz');
    const col = add(c0, ivar(q));
    return [
      let64(cnt, int(0)),
      let64(p0, int(0)),
      let64(p1, int(0)),
      loop(q, int(4), [
        { k: 'let', name: nz, t: 'bool', value: cmp('&&', inside(row, col), cmp('!=', W(row, col), f32(0))) },
        {
          k: 'if',
          cond: cmp('&&', { k: 'var', name: nz, t: 'bool' }, cmp('<', ivar(cnt), int(2))),
          then: [
            { k: 'if', cond: cmp('==', ivar(cnt), int(0)), then: [set(p0, ivar(q))], else: [set(p1, ivar(q))] },
            set(cnt, add(ivar(cnt), int(1))),
          ],
        },
      ]),
      // Fewer than two nonzeros: zeros at the lowest free positions, still increasing.
      { k: 'if', cond: cmp('==', ivar(cnt), int(0)), then: [set(p1, int(1))] },
      {
        k: 'if',
        cond: cmp('==', ivar(cnt), int(1)),
        then: [
          {
            k: 'if',
            cond: cmp('==', ivar(p0), int(0)),
            then: [set(p1, int(1))],
            else: [set(p1, ivar(p0)), set(p0, int(0))],
          },
        ],
      },
    ];
  };

  // Metadata word of lane w (w < 32): two rows' 16 position bits.
  const [g, t, rowA, c0, mA, mB, q, p0, p1] = kp.freshNames('g', 't', 'row', 'c0', 'ma', 'mb', 'q', 'p', 'p');
  const half = (row: KExpr, m: string, sh = kp.fresh('sh')): KStmt[] => [
    let64(m, int(0)),
    let64(sh, int(1)),
    loop(q, int(4), [
      ...positions(row, add(ivar(c0), mul(int(4), ivar(q))), p0, p1),
      set(m, add(ivar(m), mul(ivar(sh), add(ivar(p0), mul(int(4), ivar(p1)))))),
      set(sh, mul(ivar(sh), int(16))),
    ]),
  ];
  const meta: KStmt[] = [
    let64(g, ix('/', ivar(word), int(4))),
    let64(t, ix('%', ivar(word), int(4))),
    let64(rowA, add(mul(ivar(tile), int(32)), add(mul(ix('/', ivar(t), int(2)), int(16)), ivar(g)))),
    let64(c0, add(mul(ivar(ks), int(32)), mul(ix('%', ivar(t), int(2)), int(16)))),
    ...half(ivar(rowA), mA),
    ...half(add(ivar(rowA), int(8)), mB),
    { k: 'let', name: res, t: 'i32', value: bits('|', i32(ivar(mA)), bits('<<', i32(ivar(mB)), SIXTEEN)) },
  ];

  // Register j of lane L's A fragment of half m (w ≥ 32): one group's two kept values.
  const [v, j, lane, row, c1, lo, hi] = kp.freshNames('v', 'j', 'lane', 'row', 'c0', 'lo', 'hi');
  const at = (p: string): KExpr => add(ivar(c1), ivar(p));
  const value = (p: string): KExpr =>
    toBits({ k: 'select', c: inside(ivar(row), at(p)), a: W(ivar(row), at(p)), b: f32(0), t: 'f32' });
  const vals: KStmt[] = [
    let64(v, ix('-', ivar(word), int(32))),
    let64(j, ix('%', ix('/', ivar(v), int(32)), int(4))),
    let64(lane, ix('%', ivar(v), int(32))),
    let64(
      row,
      add(
        mul(ivar(tile), int(32)),
        add(
          mul(ix('/', ivar(v), int(128)), int(16)),
          add(ix('/', ivar(lane), int(4)), mul(int(8), ix('%', ivar(j), int(2)))),
        ),
      ),
    ),
    let64(
      c1,
      add(mul(ivar(ks), int(32)), mul(int(4), add(ix('%', ivar(lane), int(4)), mul(int(4), ix('/', ivar(j), int(2)))))),
    ),
    ...positions(ivar(row), ivar(c1), p0, p1),
    { k: 'let', name: lo, t: 'i32', value: value(p0) },
    { k: 'let', name: hi, t: 'i32', value: value(p1) },
    { k: 'let', name: res, t: 'i32', value: bits('|', v32(lo), bits('<<', v32(hi), SIXTEEN)) },
  ];

  const flag: KExpr = { k: 'load', buf: out, index: int(0), t: 'i32' };
  const body = kp.parallel(
    i,
    int(x.NT * x.KS * REC),
    [
      {
        k: 'if',
        cond: cmp('==', flag, int(0)),
        then: [
          let64(r, ix('/', ivar(i), int(REC))),
          let64(word, ix('%', ivar(i), int(REC))),
          let64(tile, ix('/', ivar(r), int(x.KS))),
          let64(ks, ix('%', ivar(r), int(x.KS))),
          {
            k: 'if',
            cond: cmp('<', ivar(word), int(32)),
            then: [...meta, { k: 'store', buf: out, index: add(int(SP_AT), ivar(i)), value: v32(res) }],
            else: [...vals, { k: 'store', buf: out, index: add(int(SP_AT), ivar(i)), value: v32(res) }],
          },
        ],
      },
    ],
    int(x.NT * x.KS * REC * 32),
  );
  G.kb.before.push(kp.finish('gemm', [body], '2:4 weight as mma.sp registers'));
}

/** The storage buffer of a 2:4 weight's param buffer `w`: i32, kind packed (derived from w). */
export const storageBuffer = (G: GemmBuilder, w: number, x: SparseGeometry): number =>
  G.kb.tables.buffer('i32', dimConst(storageWords(x)), 'packed', w);
