// The packed GEMM for a wide prepacked weight: B (a param packed once into whole-K panels)
// too large to stay in the caches, as a language model's vocabulary projection (N 30,522 or
// 32,000 columns of K 256 to 512: 31 to 66 MB packed) is. The shared nest (gemm-packed.ts)
// runs every M block across all of N, so each M block streams all of B from memory again:
// at M = 128 (four M blocks) B was read four times a call, and the product ran at 40% of the
// speed of one whose B fits (one thread: N 30,522 at 41 GFLOP/s against N 4,096 at 91).
// Here the threads claim chunks of N instead: a chunk's panels (about 1 MiB, KC deep) stay
// in L2 while every M block of the chunk runs against them, so B is read once a call; A's
// block is packed again for each chunk (M·K values a chunk against M·K·width products).

import { type KExpr, type KStmt, add, int, ivar, ix, loop, mul } from '../ir/kernel.js';
import type { GemmBuilder } from './gemm.js';
import { PREPACK_AT, kLoop, kcMax, names, packOnce, tiles } from './gemm-packed.js';
import type { GemmSchedule } from './schedule.js';

/** A prepacked B at least this large takes the chunked nest. */
export const WIDE_BYTES = 8 << 20;
/** Bytes of B's panels a chunk holds for one K block. */
const CHUNK_BYTES = 1 << 20;

const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });
const cdiv = (a: KExpr, b: KExpr): KExpr => ix('/', add(a, ix('-', b, int(1))), b);

/** The columns of a chunk of a prepacked B of N × K (K rounded up to Kp), or undefined when B is not wide. */
export function wideChunk(N: number, K: number, Kp: number, s: GemmSchedule): number | undefined {
  if (Math.ceil(N / s.NR) * s.NR * Kp * 4 < WIDE_BYTES) return undefined;
  return Math.max(s.NR, Math.floor(CHUNK_BYTES / (4 * Math.min(K, kcMax(s.KC))) / s.NR) * s.NR);
}

/** The chunked nest of one unbatched product, or undefined when B is not a wide prepacked weight. */
export function packedWide(G: GemmBuilder): KStmt[] | undefined {
  const { MC, MR, NR } = G.s;
  if (G.NB.k !== 'const' || G.NB.v !== 1 || G.prepackable() === undefined) return undefined;
  const [N, K] = [(G.N as { v: number }).v, (G.K as { v: number }).v];
  const Kp = G.prepackK();
  const width = wideChunk(N, K, Kp, G.s);
  if (width === undefined) return undefined;
  const KC = kcMax(G.s.KC);
  const pre = G.prepacked()!;
  const b = int(0);
  const x = names(G, b);
  const [c, mb, ap] = [G.v('c'), G.v('mb'), G.v('ap')];
  // Panel (n0 + jr) / NR holds all of K, NR floats per k, after the header.
  const bAt = (jr: KExpr): KExpr =>
    add(int(PREPACK_AT), add(mul(add(ivar(x.n0), jr), int(Kp)), mul(ivar(x.pc), int(NR))));
  const chunk: KStmt[] = [
    G.kb.scratch(ap, 'f32', MC * KC),
    let64(x.n0, mul(ivar(c), int(width))),
    let64(x.nl, ix('min', int(width), ix('-', G.N, ivar(x.n0)))),
    loop(mb, cdiv(G.M, int(MC)), [
      let64(x.m0, mul(ivar(mb), int(MC))),
      let64(x.ml, ix('min', int(MC), ix('-', G.M, ivar(x.m0)))),
      ...kLoop(G, x, [
        ...G.pack(0, ap, b, ivar(x.m0), ivar(x.ml), ivar(x.pc), ivar(x.kc), MR),
        ...tiles(G, x, ap, pre, bAt),
      ]),
    ]),
  ];
  return [packOnce(G, pre, int(Kp)), G.kb.parallel(c, int(Math.ceil(N / width)), chunk, G.work())];
}
