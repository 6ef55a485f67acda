// The C target's GEMV for a 2:4 weight read in its compressed form (src/ir/sparse-format.ts):
// few rows of A (M < SMALL_M) against W[N, K] stored as its K/2 kept values a row and their
// 2-bit positions (16 to a 32-bit word), so it reads 2.25 bytes a weight instead of 4 (the
// GEMV is memory bound: ~56% of the dense bytes). B is the sparsity pass's decoding of the
// two params under a TWO_FOUR_KEY barrier; this kernel reads the params instead of computing
// the decoding. Each output is a dot product over the kept values in 2·16 lanes (an `omp simd`
// loop over two words of metadata: lane l's value at kept element 32c + l, its column
// 64c + 4·⌊l/2⌋ + its position), A's row gathered from a per-thread copy, the lanes added up
// pairwise at the end, then the epilogue and the store. The threads split N in blocks of NC.
// More rows (M ≥ SMALL_M) go through the packed GEMM, which computes the decoding while it
// packs B's blocks (the weight stays compressed; it is not prepacked once).

import type { Node } from '../ir/graph.js';
import { type KExpr, type KStmt, add, f32, int, ivar, ix, loop, mul } from '../ir/kernel.js';
import { TWO_FOUR_KEY, parseTwoFourName } from '../ir/sparse-format.js';
import type { GemmBuilder } from './gemm.js';

/** B's 2:4 param buffers (values, meta) when B is a 2:4 weight read as B[n, k] with constant sizes. */
export function twoFourParams(G: GemmBuilder): { values: number; meta: number } | undefined {
  const B = G.n.inputs[1]!;
  const { n, k, batch } = G.g;
  if (B.op !== 'barrier' || B.args.key !== TWO_FOUR_KEY || batch.length > 0) return undefined;
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
  const [it, n0, nl, m, j, c, l, jx, xp, part, v] = ['it', 'n0', 'nl', 'm', 'j', 'c', 'l', 'jx', 'xp', 'part', 'v'].map(
    G.v,
  ) as [string, string, string, string, string, string, string, string, string, string, string];
  const vals = G.kb.param(p.values, 'read');
  const meta = G.kb.param(p.meta, 'read');
  const b0 = int(0);
  const n = add(ivar(n0), ivar(j));
  const at = (name: string, index: KExpr): KExpr => ({ k: 'aload', name, index, t: 'f32' });
  const word: KExpr = { k: 'var', name: v, t: 'i32' };
  // Lane l of step c (lanes: LANES, or 16 for a last odd word): word 2c + l/16, bits 2·(l % 16).
  const step = (lanes: number): KStmt =>
    loop(
      l,
      int(lanes),
      [
        {
          k: 'let',
          name: v,
          t: 'i32',
          value: {
            k: 'load',
            buf: meta,
            index: add(mul(n, int(words)), add(mul(ivar(c), int(2)), ix('/', ivar(l), int(16)))),
            t: 'i32',
          },
        },
        {
          k: 'astore',
          name: part,
          index: ivar(l),
          value: {
            k: 'fma',
            a: {
              k: 'load',
              buf: vals,
              index: add(mul(n, int(K / 2)), add(mul(ivar(c), int(LANES)), ivar(l))),
              t: 'f32',
            },
            b: at(
              xp,
              add(add(mul(ivar(c), int(2 * LANES)), mul(ix('/', ivar(l), int(2)), int(4))), {
                k: 'bits',
                op: '&',
                a: { k: 'bits', op: '>>', a: word, b: mul(ix('%', ivar(l), int(16)), int(2)) },
                b: int(3),
              }),
            ),
            c: at(part, ivar(l)),
          },
        },
      ],
      'simd',
      { simdlen: 16 },
    );
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
    loop(c, int(full), [step(LANES)]),
    ...(words % 2 === 1 ? [{ k: 'let', name: c, t: 'i64', value: int(full) } as KStmt, step(16)] : []),
    ...halves,
    ...G.store(at(part, int(0)), b0, ivar(m), n, true),
  ];
  const fill = loop(
    jx,
    int(K),
    [{ k: 'astore', name: xp, index: ivar(jx), value: G.operand(0, b0, ivar(m), ivar(jx)) }],
    'simd',
  );
  const rows: KStmt[] = [
    G.kb.scratch(xp, 'f32', K),
    { k: 'let', name: n0, t: 'i64', value: mul(ivar(it), int(NC)) },
    { k: 'let', name: nl, t: 'i64', value: ix('min', int(NC), ix('-', G.N, ivar(n0))) },
    loop(m, G.M, [fill, loop(j, ivar(nl), dot)]),
  ];
  return [G.kb.parallel(it, int(Math.ceil((G.N as { v: number }).v / NC)), rows, G.work())];
}
