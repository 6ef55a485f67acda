// Deriving the block-sparse GEMM's storage from W (gemm-sparse.ts has the layout): count each
// block row's nonzero blocks (parallel), prefix sums into the row pointers (serial), then copy
// each row's nonzero blocks into the register tile's panels, with their columns and runs of
// consecutive columns (parallel). `meta` (i32): [0] 1 once derived, [1] 1 when W has more
// nonzero blocks than `cap` (nothing is copied then), [2] the count; from META_AT the R + 1
// row pointers, then `cap` block columns, then `cap` runs: at a block starting a run of
// blocks with consecutive columns, within one group of GROUP blocks from its row's first, the
// run's length; 0 inside a run (every block starts its own run when nr < b: its panels are not
// contiguous with the next block's).

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
  readonly meta: number;
  readonly vals: number;
}

/** Fills meta and vals from W (see the top of the file). */
export function derive(G: GemmBuilder, x: Geometry): KStmt[] {
  const { R, b, nr, cap, meta, vals } = x;
  const C = x.K / b;
  const m = (index: KExpr): KExpr => ({ k: 'load', buf: meta, index, t: 'i64' });
  const put = (index: KExpr, value: KExpr): KStmt => ({ k: 'store', buf: meta, index, value });
  const RUN_AT = META_AT + R + 1 + cap;
  const [s0, st, pj] = fresh(G, 's0', 'st', 'pj');
  const [i, j, r, c, nz, cnt, t, p, q, kk, jj, i2, i3] = fresh(
    G,
    'i',
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
  // nz: whether block (bi, j) holds a value other than 0 (NaN included).
  const test = (bi: string): KStmt[] => [
    { k: 'let', name: nz, t: 'bool', value: { k: 'const', t: 'bool', v: 0 } },
    loop(r, int(b), [
      loop(c, int(b), [
        set(
          nz,
          cmp(
            '||',
            { k: 'var', name: nz, t: 'bool' },
            cmp('!=', wAt(add(mul(ivar(bi), int(b)), ivar(r)), add(mul(ivar(j), int(b)), ivar(c))), f32(0)),
          ),
        ),
      ]),
    ]),
  ];
  const nzv: KExpr = { k: 'var', name: nz, t: 'bool' };
  const work = int(R * C * b * b);
  const count = G.kb.parallel(
    i,
    int(R),
    [
      let64(cnt, int(0)),
      loop(j, int(C), [...test(i), { k: 'if', cond: nzv, then: [set(cnt, add(v64(cnt), int(1)))] }]),
      put(add(int(META_AT + 1), ivar(i)), v64(cnt)),
    ],
    work,
  );
  const prefix: KStmt[] = [
    put(int(META_AT), int(0)),
    let64(t, int(0)),
    loop(i2, int(R), [
      set(t, add(v64(t), m(add(int(META_AT + 1), ivar(i2))))),
      put(add(int(META_AT + 1), ivar(i2)), v64(t)),
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
              int(VALS_AT),
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
  const fill = G.kb.parallel(
    i3,
    int(R),
    [
      let64(p, m(add(int(META_AT), ivar(i3)))),
      let64(s0, ivar(p)),
      let64(st, ivar(p)),
      let64(pj, int(-2)),
      loop(j, int(C), [
        ...test(i3),
        {
          k: 'if',
          cond: nzv,
          then: [
            put(add(int(META_AT + R + 1), ivar(p)), ivar(j)),
            ...copy,
            // Runs: block p continues the run at st when it is the next column, in the same group.
            {
              k: 'if',
              cond: cmp(
                '&&',
                cmp(
                  '&&',
                  cmp('==', add(ivar(pj), int(1)), ivar(j)),
                  cmp('!=', ix('%', ix('-', ivar(p), ivar(s0)), int(GROUP)), int(0)),
                ),
                { k: 'const', t: 'bool', v: b === nr ? 1 : 0 },
              ),
              then: [
                put(add(int(RUN_AT), ivar(st)), add(m(add(int(RUN_AT), ivar(st))), int(1))),
                put(add(int(RUN_AT), ivar(p)), int(0)),
              ],
              else: [put(add(int(RUN_AT), ivar(p)), int(1)), set(st, ivar(p))],
            },
            set(pj, ivar(j)),
            set(p, add(v64(p), int(1))),
          ],
        },
      ]),
    ],
    work,
  );
  return [count, ...prefix, { k: 'if', cond: cmp('==', m(int(1)), int(0)), then: [fill] }, put(int(0), int(1))];
}
