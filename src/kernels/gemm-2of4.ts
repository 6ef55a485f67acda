// The C target's GEMV for a 2:4 weight read in its compressed form (src/ir/sparse-format.ts):
// few rows of A (M < SMALL_M) against W[N, K] stored as its K/2 kept values a row and their
// 2-bit positions (16 to a 32-bit word), so it reads 2.25 bytes a weight instead of 4 (the
// GEMV is memory bound: ~56% of the dense bytes). B is the sparsity pass's decoding of the
// two params under a TWO_FOUR_STORED_KEY barrier; this kernel reads the params instead of
// computing the decoding. Each output is a dot product over the kept values in 2·16 lanes (two
// `omp simd` loops of 16, one per metadata word, read once as a scalar: lane l's value at kept
// element e = 32c + 16h + l, its column 4·⌊e/2⌋ + its position p; a word read per lane was a
// gather, twice as slow), the lanes added up pairwise at the end, then the epilogue and the
// store. A's row is copied per thread as four rows xq[i][e] = A[4·⌊e/2⌋ + i], so a lane's
// operand is a select among four unit-stride loads by p (no gather). The threads split N in
// blocks of NC. More rows (M ≥ SMALL_M) go through the packed GEMM, which reads B through
// twoFourRead as it packs B's panels once per weight version (gemm.ts prepackable): the same
// params, a few integer operations a value; the weight stays compressed as a param.

import type { Node } from '../ir/graph.js';
import { type KExpr, type KStmt, add, cmp, f32, int, ivar, ix, loop, mul } from '../ir/kernel.js';
import { TWO_FOUR_STORED_KEY, parseTwoFourName } from '../ir/sparse-format.js';
import type { GemmBuilder } from './gemm.js';

/** B's 2:4 param buffers (values, meta) when B is a 2:4 weight read as B[n, k] with constant sizes. */
export function twoFourParams(G: GemmBuilder): { values: number; meta: number } | undefined {
  const B = G.n.inputs[1]!;
  const { n, k, batch } = G.g;
  if (B.op !== 'barrier' || B.args.key !== TWO_FOUR_STORED_KEY || batch.length > 0) return undefined;
  if (n.length !== 1 || k.length !== 1 || G.spec.ins[1] !== n[0]! + k[0]!) return undefined;
  if (G.N.k !== 'const' || G.K.k !== 'const' || G.K.v % 32 !== 0) return undefined;
  const parts = new Map<string, number | undefined>();
  const stack: Node[] = [B];
  for (let x = stack.pop(); x; x = stack.pop()) {
    const name = x.op === 'param' ? parseTwoFourName(x.args.path) : undefined;
    if (name) parts.set(name.part, G.f.buffers.get(x));
    stack.push(...x.inputs);
  }
  const [values, meta] = [parts.get('values'), parts.get('meta')];
  return values === undefined || meta === undefined ? undefined : { values, meta };
}

/** Lanes a step: the kept values of two metadata words. */
const LANES = 32;

/** The dot products of the 2:4 GEMV, into G.store. */
export function twoFourGemv(G: GemmBuilder, p: { values: number; meta: number }): KStmt[] {
  const K = (G.K as { v: number }).v;
  const words = K / 32;
  const { NC } = G.s;
  const [it, n0, nl, m, j, c, l, jx, xp, part, v0, v1] = [
    'it',
    'n0',
    'nl',
    'm',
    'j',
    'c',
    'l',
    'jx',
    'xp',
    'part',
    'v',
    'v',
  ].map(G.v) as [string, string, string, string, string, string, string, string, string, string, string, string];
  const vals = G.kb.param(p.values, 'read');
  const meta = G.kb.param(p.meta, 'read');
  const b0 = int(0);
  const n = add(ivar(n0), ivar(j));
  const at = (name: string, index: KExpr): KExpr => ({ k: 'aload', name, index, t: 'f32' });
  // Step c covers two metadata words (kept elements 32c .. 32c + 31; a last odd word alone):
  // word 2c + h is read once, as a scalar, and its 16 lanes l are kept element 32c + 16h + l,
  // at bits 2l (read per lane, the word would be a gather). A's value at kept element c0 + ll
  // whose position is p: xq[p][c0 + ll], as selects.
  const pick = (c0: KExpr, ll: KExpr, p: KExpr): KExpr => {
    const x = (i: number): KExpr => at(xp, add(int(i * (K / 2)), add(c0, ll)));
    const is = (i: number): KExpr => cmp('==', p, int(i));
    return {
      k: 'select',
      c: is(0),
      a: x(0),
      b: { k: 'select', c: is(1), a: x(1), b: { k: 'select', c: is(2), a: x(2), b: x(3), t: 'f32' }, t: 'f32' },
      t: 'f32',
    };
  };
  const step = (lanes: number): KStmt[] =>
    [v0, v1].slice(0, lanes / 16).flatMap((v, h): KStmt[] => {
      const base = add(mul(ivar(c), int(LANES)), int(16 * h));
      const word: KExpr = { k: 'var', name: v, t: 'i32' };
      const lane = add(int(16 * h), ivar(l));
      return [
        {
          k: 'let',
          name: v,
          t: 'i32',
          value: { k: 'load', buf: meta, index: add(mul(n, int(words)), add(mul(ivar(c), int(2)), int(h))), t: 'i32' },
        },
        loop(
          l,
          int(16),
          [
            {
              k: 'astore',
              name: part,
              index: lane,
              value: {
                k: 'fma',
                a: { k: 'load', buf: vals, index: add(mul(n, int(K / 2)), add(base, ivar(l))), t: 'f32' },
                b: pick(base, ivar(l), {
                  k: 'bits',
                  op: '&',
                  a: { k: 'bits', op: '>>', a: word, b: mul(ivar(l), int(2)) },
                  b: int(3),
                }),
                c: at(part, lane),
              },
            },
          ],
          'simd',
          { simdlen: 16 },
        ),
      ];
    });
  const halves: KStmt[] = [];
  for (let h = LANES / 2; h >= 1; h /= 2)
    halves.push(
      loop(
        l,
        int(h),
        [
          {
            k: 'astore',
            name: part,
            index: ivar(l),
            value: { k: 'bin', fn: 'add', a: at(part, ivar(l)), b: at(part, add(ivar(l), int(h))), t: 'f32' },
          },
        ],
        h >= 8 ? 'simd' : 'serial',
      ),
    );
  const full = Math.floor(words / 2);
  const dot: KStmt[] = [
    { k: 'array', name: part, t: 'f32', size: LANES, space: 'local' },
    loop(l, int(LANES), [{ k: 'astore', name: part, index: ivar(l), value: f32(0) }], 'simd'),
    loop(c, int(full), step(LANES)),
    ...(words % 2 === 1 ? [{ k: 'let', name: c, t: 'i64', value: int(full) } as KStmt, ...step(16)] : []),
    ...halves,
    ...G.store(at(part, int(0)), b0, ivar(m), n, true),
  ];
  // xq[i·K/2 + e] = A[m, 4·⌊e/2⌋ + i].
  const half = K / 2;
  const fill = loop(
    jx,
    int(2 * K),
    [
      {
        k: 'astore',
        name: xp,
        index: ivar(jx),
        value: G.operand(
          0,
          b0,
          ivar(m),
          add(mul(ix('/', ix('%', ivar(jx), int(half)), int(2)), int(4)), ix('/', ivar(jx), int(half))),
        ),
      },
    ],
    'simd',
  );
  const rows: KStmt[] = [
    G.kb.scratch(xp, 'f32', 2 * K),
    { k: 'let', name: n0, t: 'i64', value: mul(ivar(it), int(NC)) },
    { k: 'let', name: nl, t: 'i64', value: ix('min', int(NC), ix('-', G.N, ivar(n0))) },
    loop(m, G.M, [fill, loop(j, ivar(nl), dot)]),
  ];
  return [G.kb.parallel(it, int(Math.ceil((G.N as { v: number }).v / NC)), rows, G.work())];
}

/**
 * B[n, k] read from a 2:4 weight's params (undefined: B is not one): group g = ⌊k/4⌋'s two
 * positions from bits 4·(g mod 8) of its metadata word, the value whose position is k mod 4.
 */
export function twoFourRead(G: GemmBuilder): ((n: KExpr, k: KExpr) => KExpr) | undefined {
  const p = twoFourParams(G);
  if (!p) return undefined;
  const K = (G.K as { v: number }).v;
  const vals = G.kb.param(p.values, 'read');
  const meta = G.kb.param(p.meta, 'read');
  return (n, k) => {
    const g = ix('/', k, int(4));
    const word: KExpr = { k: 'load', buf: meta, index: add(mul(n, int(K / 32)), ix('/', g, int(8))), t: 'i32' };
    const shift = mul(ix('%', g, int(8)), int(4));
    const pos = (s: number): KExpr => ({
      k: 'bits',
      op: '&',
      a: { k: 'bits', op: '>>', a: word, b: add(shift, int(s)) },
      b: int(3),
    });
    const value = (s: number): KExpr => ({
      k: 'load',
      buf: vals,
      index: add(mul(n, int(K / 2)), add(mul(g, int(2)), int(s))),
      t: 'f32',
    });
    const i = ix('%', k, int(4));
    return {
      k: 'select',
      c: cmp('==', pos(0), i),
      a: value(0),
      b: { k: 'select', c: cmp('==', pos(2), i), a: value(1), b: f32(0), t: 'f32' },
      t: 'f32',
    };
  };
}
