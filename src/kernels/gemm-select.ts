// Which GEMM a contraction becomes (the GemmBuilder of gemm.ts drives each): int8 × int8 with
// i32 sums; on GPU targets the tensor-core fragments (2:4 on mma.sp), the tiled or the plain
// kernel; on C a tuned or the machine's schedule, then, by weight kind and row count, the
// block-sparse, bf16, streamed (GEMV) or packed (shared, private or wide) nest.
// Whether B's panels are packed once (a weight) or at every call is the builder's choice, not
// this file's: gemm.ts prepackable (quantized weights up to QUANT_PREPACK_MAX bytes of panels).

import { dimConst, dimMul, dimToString } from '../ir/dims.js';
import type { Node, NodeOf } from '../ir/graph.js';
import { parseEinsum } from '../ir/infer.js';
import { type KExpr, type KStmt, cmp, int } from '../ir/kernel.js';
import type { KernelBuilder } from './builder.js';
import { letterSizes } from './einsum.js';
import type { Fuser } from './expr.js';
import { GemmBuilder } from './gemm.js';
import { kcMax, packedPrivate, packedShared } from './gemm-packed.js';
import { dotGemv } from './gemm-dot.js';
import { plainGemm } from './gemm-plain.js';
import { fragDtype, fragGemm } from './gemm-frag.js';
import { sparseFragGemm, twoFourWeight, unmarked } from './gemm-frag-sparse.js';
import { tiledFits, tiledGemm } from './gemm-tiled.js';
import { sparseGemm, sparseWeightOf } from './gemm-sparse.js';
import { twoFourParams, twoFourRead } from './gemm-2of4.js';
import { int8Gemm } from './gemm-int8.js';
import { packedWide } from './gemm-wide.js';
import { bf16Gemm, bf16Weight } from './gemm-bf16.js';
import type { GemmSchedule } from './schedule.js';
import { gemmGroups, isInt8Contraction } from '../passes/fusion/gemm-shape.js';

const lt = (a: KExpr, b: KExpr): KExpr => cmp('<', a, b);

/**
 * The shape of a GEMM kernel, the tuning cache's key: M, N, K and batch sizes (dims as
 * text), each operand's layout (k innermost or not) and whether B is a weight.
 */
export function gemmShapeKey(f: Fuser, n: NodeOf<'einsum'>): string {
  const g = gemmGroups(n)!;
  const sizes = letterSizes(n);
  const size = (ls: readonly string[]): string =>
    dimToString(ls.reduce((a, c) => dimMul(a, sizes.get(c)!), dimConst(1)));
  const spec = parseEinsum(n.args.spec, 2);
  const kLast = (i: 0 | 1): boolean => f.buffers.has(n.inputs[i]!) && g.k.includes(spec.ins[i]!.slice(-1));
  const weight = unmarked(n.inputs[1]!).op === 'param' ? ' weight' : '';
  return `gemm M=${size(g.m)} N=${size(g.n)} K=${size(g.k)} batch=${size(g.batch)} a=${kLast(0) ? 'mk' : 'km'} b=${kLast(1) ? 'nk' : 'kn'}${weight}`;
}

export function gemmKernel(
  kb: KernelBuilder,
  f: Fuser,
  n: NodeOf<'einsum'>,
  out: number,
  base: GemmSchedule,
  epilogue: readonly Node[] = [],
  target: 'cpu' | 'gpu' = 'cpu',
): KStmt[] {
  // int8 × int8 with i32 sums (int8 activations): a kernel of its own, C only.
  if (isInt8Contraction(n)) return int8Gemm(new GemmBuilder(kb, f, n, out, base, epilogue), target);
  if (target === 'gpu') {
    const G = new GemmBuilder(kb, f, n, out, base, epilogue);
    const frag = base.gpuFragments ? fragDtype(G) : undefined;
    // A weight the sparsity pass marked 2:4: its kept values on mma.sp (gemm-frag-sparse.ts).
    const sparse = frag && base.gpuSparseFragments ? twoFourWeight(G) : undefined;
    if (frag && sparse !== undefined) return sparseFragGemm(G, frag, sparse);
    if (frag) return fragGemm(G, frag);
    return base.gpuTiled && tiledFits(G, base.gpuTiled) ? tiledGemm(G, base.gpuTiled) : plainGemm(G);
  }
  const shape = gemmShapeKey(f, n);
  const tuned = base.tuned?.(shape);
  let s = tuned ?? base;
  let G = new GemmBuilder(kb, f, n, out, s, epilogue);
  // An f16/bf16 store cannot hold the f32 partial sums between K blocks (each block would
  // round them): such a product takes all of K in one block, or, K being symbolic, the
  // streamed form (each row's sums over all of K in an f32 accumulator).
  const stored = epilogue.length > 0 ? epilogue[epilogue.length - 1]! : n;
  if (stored.type.dtype !== 'f32' && G.K.k === 'const' && kcMax(s.KC) < G.K.v) {
    s = { ...s, KC: G.K.v };
    G = new GemmBuilder(kb, f, n, out, s, epilogue);
  }
  kb.schedule = { ...s, shape, ...(tuned ? { tuned: 'yes' } : {}) };
  // A 2:4 weight held as its values and metadata: the GEMV reads them in place; more rows pack
  // them once (per weight version) into dense panels, as a dense weight is.
  const stored2of4 = twoFourParams(G);
  if (stored2of4) [G.bRead, G.bSource] = [twoFourRead(G), stored2of4.values];
  if (stored.type.dtype !== 'f32' && G.K.k !== 'const') return [...G.zeroWhenEmpty(), ...G.skinny()];
  // One product shares its packed B blocks across the threads; a batch of them splits by entry.
  const packed = (): KStmt[] =>
    G.NB.k === 'const'
      ? G.NB.v === 1
        ? (packedWide(G) ?? packedShared(G, int(0)))
        : packedPrivate(G)
      : [{ k: 'if', cond: cmp('==', G.NB, int(1)), then: packedShared(G, int(0)), else: packedPrivate(G) }];
  // Few rows: B streamed once; along K as dot products when K is its innermost letter.
  const spec = G.spec.ins[1]!;
  const gemv = (): KStmt[] => (G.g.k.includes(spec[spec.length - 1]!) ? dotGemv(G) : G.skinny());
  // A weight the sparsity pass marked block-sparse: only its nonzero blocks (gemm-sparse.ts).
  const sparse = sparseWeightOf(G);
  if (sparse) return sparseGemm(G, sparse, gemv);
  // bf16 × a bf16 weight: pair-interleaved panels for the CPU's bf16 dot products (gemm-bf16.ts).
  const bf16 = bf16Weight(G);
  if (bf16 !== undefined) return bf16Gemm(G, bf16, packed);
  const small = G.M.k === 'const' ? G.M.v < s.SMALL_M : undefined;
  if (small === true) return [...G.zeroWhenEmpty(), ...gemv()];
  if (small === false) return [...G.zeroWhenEmpty(), ...packed()];
  return [...G.zeroWhenEmpty(), { k: 'if', cond: lt(G.M, int(s.SMALL_M)), then: gemv(), else: packed() }];
}
