// Packing a GEMM operand block into MR- or NR-wide panels (gemm.ts's GemmBuilder.pack):
// dst[at + p*stride + k*width + r] = op(r0 + p + r, pc + k), zero-padded past `rows`.
//
// When the operand's address splits into a row part and a k part (separable.ts: an affine
// view such as a convolution's window over a padded buffer), the parts go into tables, and
// the innermost loop copies runs: stretches of the table whose addresses follow one another
// (a panel of 14 output positions along one image row is one run of 14). Each run is a
// plain copy of consecutive floats, which the compiler vectorizes; when the runs are short
// (a strided window) the tables are read per element. Elsewhere the address is computed per
// element with its divisions.

import { type KExpr, type KStmt, add, cmp, f32, int, ivar, ix, loop, mul, select } from '../ir/kernel.js';
import type { GemmBuilder } from './gemm.js';
import { kcMax } from './gemm-packed.js';
import { splitOperand } from './separable.js';

export interface PackArgs {
  readonly which: 0 | 1;
  /** A local array, or a buffer param when a number. */
  readonly buf: string | number;
  readonly b: KExpr;
  readonly r0: KExpr;
  readonly rows: KExpr;
  readonly pc: KExpr;
  readonly kc: KExpr;
  readonly width: number;
  /** The panel loop's mode: parallel when the threads share the packed panels. */
  readonly outer: 'serial' | 'parallel';
  readonly at: KExpr;
  /** kcMax for a block, K for a whole prepacked operand. */
  readonly stride: KExpr;
}

const lt = (a: KExpr, b: KExpr): KExpr => cmp('<', a, b);
const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });
const set = (name: string, value: KExpr): KStmt => ({ k: 'set', name, value });
const aloadI = (name: string, index: KExpr): KExpr => ({ k: 'aload', name, index, t: 'i64' });
const table = (name: string, size: number): KStmt => ({ k: 'array', name, t: 'i64', size, space: 'local' });

/** k per run of a k-innermost pack: one 64-byte line of each source row. */
const K_RUN = 16;

export function packOperand(G: GemmBuilder, a: PackArgs): KStmt[] {
  const { which, buf, rows, kc, width, outer, at, stride } = a;
  const [p, k, r] = [G.v('p'), G.v('k'), G.v('r')];
  const dst = (kk: KExpr, rr: KExpr, value: KExpr): KStmt => {
    const index = add(add(at, add(mul(ivar(p), stride), mul(kk, int(width)))), rr);
    return typeof buf === 'number' ? { k: 'store', buf, index, value } : { k: 'astore', name: buf, index, value };
  };
  const panels = (body: KStmt[]): KStmt =>
    outer === 'parallel'
      ? G.kb.parallel(p, rows, body, mul(rows, kc), { step: width })
      : loop(p, rows, body, 'serial', { step: width });
  // Tables only for block packs (kc ≤ KC, a loop variable), not a whole prepacked operand.
  // The placeholders are never declared: the split substitutes them away.
  const [R, K] = ['\0R', '\0K'];
  const split = kc.k === 'var' ? splitOperand(G.operand(which, a.b, ivar(R), ivar(K)), R, K) : undefined;
  if (!split) {
    const row = add(ivar(p), ivar(r));
    const value = select(lt(row, rows), G.operand(which, a.b, add(a.r0, row), add(a.pc, ivar(k))), f32(0), 'f32');
    const store = dst(ivar(k), ivar(r), value);
    // Read along the operand's contiguous axis: when its last letter is a K letter (a
    // PyTorch-layout weight, x @ W.T) walk k innermost, in runs of K_RUN: the run's part of
    // the panel (K_RUN × width floats) stays in L1 while each row fills its column (a whole
    // panel, 1024 × 14 floats on AVX-512, does not, and every row reloaded it from L2).
    // Else walk the panel's rows.
    const [kr, ke] = [G.v('kr'), G.v('ke')];
    const body = G.kInnermost(which)
      ? [
          loop(
            kr,
            kc,
            [
              let64(ke, ix('min', add(ivar(kr), int(K_RUN)), kc)),
              loop(r, int(width), [loop(k, ivar(ke), [store], 'serial', { lo: ivar(kr) })]),
            ],
            'serial',
            { step: K_RUN },
          ),
        ]
      : [loop(k, kc, [loop(r, int(width), [store], which === 1 ? 'simd' : 'unroll')])];
    return [panels(body)];
  }

  const [ko, ro, starts, n, q, s, e, o, nv, base] = ['ko', 'ro', 'rs', 'nq', 'q', 's', 'e', 'o', 'nv', 'ba'].map(
    G.v,
  ) as [string, string, string, string, string, string, string, string, string, string];
  const KC = kcMax(G.s.KC);
  /** Starts of the runs of `tab` over [0, len) into `starts` (with `len` after the last), their count in `n`. */
  const runs = (tab: string, len: KExpr, size: number, v: string): KStmt[] => {
    const prev = add(aloadI(tab, ix('max', ix('-', ivar(v), int(1)), int(0))), int(1));
    const starts1 = cmp('||', cmp('==', ivar(v), int(0)), cmp('!=', aloadI(tab, ivar(v)), prev));
    return [
      table(starts, size + 1),
      let64(n, int(0)),
      loop(v, len, [
        {
          k: 'if',
          cond: starts1,
          then: [{ k: 'astore', name: starts, index: ivar(n), value: ivar(v) }, set(n, add(ivar(n), int(1)))],
        },
      ]),
      { k: 'astore', name: starts, index: ivar(n), value: len },
    ];
  };
  /** For each run: `o` = address of its first element minus its start, then `body` over [s, e). */
  const overRuns = (v: string, tab: string, shift: KExpr, body: KStmt, mode: 'simd' | 'serial'): KStmt =>
    loop(q, ivar(n), [
      let64(s, aloadI(starts, ivar(q))),
      let64(e, aloadI(starts, add(ivar(q), int(1)))),
      let64(o, add(ix('-', aloadI(tab, ivar(s)), ivar(s)), shift)),
      loop(v, ivar(e), [body], mode, { lo: ivar(s) }),
    ]);
  const kTable: KStmt[] = [
    table(ko, KC),
    loop(k, kc, [{ k: 'astore', name: ko, index: ivar(k), value: split.kOff(add(a.pc, ivar(k))) }]),
  ];
  const valid = let64(nv, ix('min', int(width), ix('-', rows, ivar(p))));
  // Runs of 4 or more on average are copied as runs; shorter ones (a strided convolution's
  // window: every run is 1 long) element by element through the tables.
  const long = (len: KExpr): KExpr => cmp('<=', mul(ivar(n), int(4)), len);
  const rowOff = split.rowOff(add(a.r0, add(ivar(p), ivar(r))));

  if (G.kInnermost(which)) {
    // Runs along k (once per pack, or per panel when the threads split the panels); each
    // row copies them.
    const kRuns = [...kTable, ...runs(ko, kc, KC, k)];
    const perRow: KStmt[] = [
      {
        k: 'if',
        cond: lt(ivar(r), ivar(nv)),
        then: [
          let64(base, rowOff),
          {
            k: 'if',
            cond: long(kc),
            then: [overRuns(k, ko, ivar(base), dst(ivar(k), ivar(r), split.at(add(ivar(o), ivar(k)))), 'serial')],
            else: [loop(k, kc, [dst(ivar(k), ivar(r), split.at(add(ivar(base), aloadI(ko, ivar(k)))))])],
          },
        ],
        else: [loop(k, kc, [dst(ivar(k), ivar(r), f32(0))])],
      },
    ];
    const panel = [valid, loop(r, int(width), perRow)];
    return outer === 'parallel' ? [panels([...kRuns, ...panel])] : [...kRuns, panels(panel)];
  }
  // Runs along the panel's rows, per panel; each k copies them.
  const panel: KStmt[] = [
    ...(outer === 'parallel' ? kTable : []),
    valid,
    table(ro, width),
    loop(r, ivar(nv), [{ k: 'astore', name: ro, index: ivar(r), value: rowOff }]),
    ...runs(ro, ivar(nv), width, r),
    {
      k: 'if',
      cond: long(ivar(nv)),
      then: [
        loop(k, kc, [
          overRuns(r, ro, aloadI(ko, ivar(k)), dst(ivar(k), ivar(r), split.at(add(ivar(o), ivar(r)))), 'simd'),
          loop(r, int(width), [dst(ivar(k), ivar(r), f32(0))], 'serial', { lo: ivar(nv) }),
        ]),
      ],
      else: [
        loop(k, kc, [
          loop(
            r,
            int(width),
            [
              dst(
                ivar(k),
                ivar(r),
                select(lt(ivar(r), ivar(nv)), split.at(add(aloadI(ro, ivar(r)), aloadI(ko, ivar(k)))), f32(0), 'f32'),
              ),
            ],
            'unroll',
          ),
        ]),
      ],
    },
  ];
  return [...(outer === 'parallel' ? [] : kTable), panels(panel)];
}
