// Deriving the block-sparse GEMM's storage (gemm-sparse.ts has the layout): count the nonzero
// blocks of each (block row, K chunk) (parallel), prefix sums into the chunk pointers
// (serial), then record each row's blocks with their columns and runs of consecutive columns
// (parallel). From W itself (`dense`: its blocks are copied into the register tile's panels),
// or from a block table's index (`table`: the values are read in place, so only their slots
// are recorded). `meta` (i32): [0] 1 once derived, [1] 1 when W has more nonzero blocks than
// `cap` (nothing is copied then; never with a table, which has `cap` slots), [2] the count;
// from META_AT the R·nK + 1 chunk pointers (blocks of row i in chunk c: ptr[i·nK + c] ..
// ptr[i·nK + c + 1] - 1), then `cap` block columns, then `cap` runs: at a block starting a run
// of blocks with consecutive columns (and, from a table, consecutive slots), within one group of
// GROUP blocks from its chunk's first and within the chunk, the run's length; 0 inside a run
// (every block starts its own run when nr < b: its panels are not contiguous with the next
// block's); then, from a table, `cap` slots.

import { type KExpr, type KStmt, add, cmp, f32, int, ivar, ix, loop, mul } from '../ir/kernel.js';
import type { GemmBuilder } from './gemm.js';

/** Ints (i32 meta) / floats (f32 vals) before the arrays: 64 bytes keep the blocks aligned. */
export const META_AT = 16;
export const VALS_AT = 16;
/** Blocks a step: their B panels (GROUP · b · b floats) stay in the first-level cache while every tile uses them. */
export const GROUP = 8;

export const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });
const set = (name: string, value: KExpr): KStmt => ({ k: 'set', name, value });
export const v64 = (name: string): KExpr => ({ k: 'var', name, t: 'i64' });
/** Fresh names, one per prefix. */
export const fresh = <const T extends readonly string[]>(G: GemmBuilder, ...prefixes: T): { [I in keyof T]: string } =>
  prefixes.map(G.v) as { [I in keyof T]: string };

export interface Geometry {
  readonly R: number;
  readonly b: number;
  readonly nr: number;
  readonly cap: number;
  readonly K: number;
  /** K chunks of KC columns (a multiple of b; the last may be shorter): the packed A holds one. */
  readonly KC: number;
  readonly nK: number;
  readonly meta: number;
  readonly vals: number;
  /** Where block slot s's values start in `vals`: valsAt + s·b·b. */
  readonly valsAt: number;
  /** A block table's index (kernel param), when W is stored as one (no dense W). */
  readonly index?: number;
}

/** Offsets in meta of the chunk pointers, columns, runs and slots. */
export const metaLayout = (x: Geometry) => {
  const cols = META_AT + x.R * x.nK + 1;
  return { ptr: META_AT, cols, runs: cols + x.cap, slots: cols + 2 * x.cap, size: cols + 3 * x.cap };
};

/** Fills meta (and, from W, vals) (see the top of the file). */
export function derive(G: GemmBuilder, x: Geometry): KStmt[] {
  const { R, b, nr, cap, meta, vals, nK } = x;
  const C = x.K / b;
  const CB = x.KC / b;
  const at = metaLayout(x);
  const m = (index: KExpr): KExpr => ({ k: 'load', buf: meta, index, t: 'i64' });
  const put = (index: KExpr, value: KExpr): KStmt => ({ k: 'store', buf: meta, index, value });
  const [s0, st, pj, ps, sl] = fresh(G, 's0', 'st', 'pj', 'ps', 'sl');
  const [i, c0, j, r, c, nz, cnt, t, p, q, kk, jj, i2, i3] = fresh(
    G,
    'i',
    'c',
    'j',
    'r',
    'c',
    'nz',
    'cnt',
    't',
    'p',
    'q',
    'kk',
    'jj',
    'i',
    'i',
  );
  const wAt = (row: KExpr, col: KExpr): KExpr => G.operand(1, int(0), row, col);
  const nzv: KExpr = { k: 'var', name: nz, t: 'bool' };
  const slot = (bi: string): KExpr => ({
    k: 'load',
    buf: x.index!,
    index: add(mul(ivar(bi), int(C)), ivar(j)),
    t: 'i64',
  });
  // nz: whether block (bi, j) is stored (a slot in the table, where a slot past `cap` counts as none,
  // so a table the runtime did not check reads nothing out of bounds; from W: a value other than 0,
  // NaN included).
  const test = (bi: string): KStmt[] =>
    x.index !== undefined
      ? [{ k: 'let', name: nz, t: 'bool', value: cmp('&&', cmp('>=', slot(bi), int(0)), cmp('<', slot(bi), int(cap))) }]
      : [
          { k: 'let', name: nz, t: 'bool', value: { k: 'const', t: 'bool', v: 0 } },
          loop(r, int(b), [
            loop(c, int(b), [
              set(
                nz,
                cmp(
                  '||',
                  nzv,
                  cmp('!=', wAt(add(mul(ivar(bi), int(b)), ivar(r)), add(mul(ivar(j), int(b)), ivar(c))), f32(0)),
                ),
              ),
            ]),
          ]),
        ];
  const work = int(x.index !== undefined ? R * C : R * C * b * b);
  const count = G.kb.parallel(
    i,
    int(R),
    [
      loop(c0, int(nK), [
        let64(cnt, int(0)),
        loop(
          j,
          ix('min', int(C), mul(add(ivar(c0), int(1)), int(CB))),
          [...test(i), { k: 'if', cond: nzv, then: [set(cnt, add(v64(cnt), int(1)))] }],
          'serial',
          {
            lo: mul(ivar(c0), int(CB)),
          },
        ),
        put(add(int(at.ptr + 1), add(mul(ivar(i), int(nK)), ivar(c0))), v64(cnt)),
      ]),
    ],
    work,
  );
  const prefix: KStmt[] = [
    put(int(at.ptr), int(0)),
    let64(t, int(0)),
    loop(i2, int(R * nK), [
      set(t, add(v64(t), m(add(int(at.ptr + 1), ivar(i2))))),
      put(add(int(at.ptr + 1), ivar(i2)), v64(t)),
    ]),
    put(int(2), v64(t)),
    put(int(1), { k: 'select', c: cmp('>', v64(t), int(cap)), a: int(1), b: int(0), t: 'i64' }),
  ];
  const copy: KStmt[] = [
    loop(q, int(b / nr), [
      loop(kk, int(b), [
        loop(jj, int(nr), [
          {
            k: 'store',
            buf: vals,
            index: add(
              int(x.valsAt),
              add(mul(ivar(p), int(b * b)), add(mul(ivar(q), int(b * nr)), add(mul(ivar(kk), int(nr)), ivar(jj)))),
            ),
            value: wAt(
              add(mul(ivar(i3), int(b)), add(mul(ivar(q), int(nr)), ivar(jj))),
              add(mul(ivar(j), int(b)), ivar(kk)),
            ),
          },
        ]),
      ]),
    ]),
  ];
  // The slot of block p: its own index from W (the copy), the table's otherwise.
  const own: KStmt[] =
    x.index !== undefined
      ? [let64(sl, slot(i3)), put(add(int(at.slots), ivar(p)), v64(sl))]
      : [let64(sl, ivar(p)), ...copy];
  // Block p continues the run at st: the next column and slot, in the same group and chunk.
  const continues = cmp(
    '&&',
    cmp(
      '&&',
      cmp('&&', cmp('==', add(ivar(pj), int(1)), ivar(j)), cmp('==', add(v64(ps), int(1)), v64(sl))),
      cmp(
        '&&',
        cmp('!=', ix('%', ix('-', ivar(p), ivar(s0)), int(GROUP)), int(0)),
        cmp('!=', ix('%', ivar(j), int(CB)), int(0)),
      ),
    ),
    { k: 'const', t: 'bool', v: b === nr ? 1 : 0 },
  );
  const fill = G.kb.parallel(
    i3,
    int(R),
    [
      let64(p, m(add(int(at.ptr), mul(ivar(i3), int(nK))))),
      let64(s0, ivar(p)),
      let64(st, ivar(p)),
      let64(pj, int(-2)),
      let64(ps, int(-2)),
      loop(j, int(C), [
        // A chunk's first block starts its groups.
        { k: 'if', cond: cmp('==', ix('%', ivar(j), int(CB)), int(0)), then: [set(s0, ivar(p))] },
        ...test(i3),
        {
          k: 'if',
          cond: nzv,
          then: [
            put(add(int(at.cols), ivar(p)), ivar(j)),
            ...own,
            {
              k: 'if',
              cond: continues,
              then: [
                put(add(int(at.runs), ivar(st)), add(m(add(int(at.runs), ivar(st))), int(1))),
                put(add(int(at.runs), ivar(p)), int(0)),
              ],
              else: [put(add(int(at.runs), ivar(p)), int(1)), set(st, ivar(p))],
            },
            set(pj, ivar(j)),
            set(ps, v64(sl)),
            set(p, add(v64(p), int(1))),
          ],
        },
      ]),
    ],
    work,
  );
  return [count, ...prefix, { k: 'if', cond: cmp('==', m(int(1)), int(0)), then: [fill] }, put(int(0), int(1))];
}
