// The sparsity pass.
//
// train and accumulate: a param with a sparse hint (`@sparse`, `--sparsity`;
// src/ir/sparsity.ts) is used as `w · mask`, where the mask is the buffer `sparse:mask:<path>`
// that pruneWeights computes from the weights' magnitudes where they are bound. Every use of
// the param is rewritten, so autodiff's gradient of a pruned weight is exactly 0 and the
// optimizer's state there stays 0; sparse-updates.ts masks the update itself too. `grad`
// reads the weights as bound, already pruned (pruneWeights sets the pruned ones to 0, and
// training keeps them there), and multiplies nothing: it is the gradient of the function as
// written with respect to every weight (what `fmc run --grad` reports). The mask is a buffer
// (role `buffer`, init `ones`: unpruned where nobody binds it), never differentiated and never
// updated.
//
// inference on C: a weight W[N, K] pruned to b×b blocks (b a multiple of 16) at a density of at
// most BSR_MAX_DENSITY, which only GEMMs read as `x @ W.T`, is wrapped in a barrier (the
// identity) keyed `sparse:bsr:<b>:<cap>` (src/ir/sparse-format.ts): the GEMM kernel then
// keeps W's nonzero blocks in block-sparse rows and multiplies only those
// (src/kernels/gemm-sparse.ts). `cap` is the number of blocks the pruning keeps; weights
// with more nonzero blocks (gradual pruning's earlier steps) run dense. Other weights are read
// as bound, pruned and dense, like `grad`'s, so the GEMMs still pack them once. With the
// `sparseTables` option (inference that no train step shares weights with), the marked weight is
// read from its block table instead (src/ir/sparse-format.ts): the barrier's input is the
// table's decoding, W[n, k] = values[index[n/b, k/b], offset] or 0, and only the table's two
// params are bound; the GEMM reads them in place and never computes that expression. Likewise
// a 2:4 weight (f32, K a multiple of 32, read only as `x @ W.T`, by some product of fewer than
// 4 or a symbolic number of rows) is read from its values and metadata (src/ir/sparse-format.ts)
// under a barrier keyed TWO_FOUR_STORED_KEY: the batch-1 GEMV reads them in place
// (src/kernels/gemm-2of4.ts), larger M packs them once into dense panels. Any other weight
// pruned 2:4 that only GEMMs read as `x @ W.T` (directly or through a float cast) is wrapped in
// a barrier keyed TWO_FOUR_KEY over the dense param: C reads it as the weight (dense,
// prepacked), CUDA's tensor-core GEMM multiplies its kept values with mma.sp
// (src/kernels/gemm-frag-sparse.ts).

import { type Node, type NodeOf, liveNodes } from '../ir/graph.js';
import { dimConstValue } from '../ir/dims.js';
import { isFloat } from '../ir/dtype.js';
import { parseEinsum } from '../ir/infer.js';
import { TWO_FOUR_STORED_KEY, bsrKey, parseBsrKey, twoFourNames } from '../ir/sparse-format.js';
import { bsrPanel, tableNames } from '../ir/sparse-table.js';
import { maskPath, sparseHintOf } from '../ir/sparsity.js';
import { rewrite } from '../ir/rewrite.js';
import type { Builder } from '../ir/build.js';
import { gemmGroups } from './fusion/gemm-shape.js';
import type { Pass, PassContext } from './pass.js';

/**
 * The highest block density at which the block-sparse GEMM is chosen. Measured with
 * bench/sparse.ts (docs/ir.md, "Sparse storage"; 4096×4096, 32×32 blocks, 2 threads): at
 * density 0.7 it was still 1.3× (batch 1) and 1.5× (M 128) faster than the dense GEMM, at
 * 0.85 slower (0.94× and 0.76×).
 */
export const BSR_MAX_DENSITY = 0.7;

/** The barrier key marking a 2:4-pruned weight for the sparse tensor-core GEMM (CUDA). */
export const TWO_FOUR_KEY = 'sparse:2:4';

/** The mask buffer of param node `p`. */
export const maskOf = (b: Builder, p: NodeOf<'param'>): NodeOf<'param'> =>
  b.param(maskPath(p.args.path), p.args.dtype, p.args.shape, 'buffer', { fn: 'ones', args: {} });

/** Whether any param could have a sparse hint (else the pass changes nothing). */
const anySparse = (ctx: PassContext): boolean =>
  [...ctx.hints.params.values(), ...ctx.hints.blocks.values()].some((h) => h.sparse !== undefined);

/**
 * Rows of a product at which the 2:4 weight is no longer read by the batch-1 GEMV (the C GEMM's
 * SMALL_M, src/kernels/schedule.ts): a weight only products of at least this many constant rows
 * read stays dense and prepacked (decoding it while packing at every call is 2.6-3× slower:
 * docs/ir.md, "Sparse storage").
 */
const TWO_FOUR_MAX_ROWS = 4;

/** The rows of x @ W.T (its output's dims but the last), or NaN when one is symbolic. */
const rowsOf = (r: Node): number =>
  r.type.shape.slice(0, -1).reduce((a: number, d) => a * (dimConstValue(d) ?? NaN), 1);

/** Whether `r` reads W only as the B operand of a GEMM `x @ W.T` (W's letters: one N letter, then one K letter). */
function readsAsWeight(r: Node, w: Node): boolean {
  if (r.op !== 'einsum' || r.inputs[0] === w || r.inputs[1] !== w) return false;
  const g = gemmGroups(r);
  const spec = parseEinsum(r.args.spec, 2).ins[1]!;
  return g !== undefined && g.batch.length === 0 && spec === `${g.n.join('')}${g.k.join('')}` && spec.length === 2;
}

/**
 * The key for param `p` when the C GEMM should read it sparse, else undefined: a bsrKey for
 * blocks, TWO_FOUR_STORED_KEY for 2:4 (with `sparseTables` only: read from its values and metadata,
 * K a multiple of 32).
 */
function bsrOf(ctx: PassContext, p: NodeOf<'param'>, readers: readonly Node[]): string | undefined {
  const h = sparseHintOf(ctx.hints, p.args);
  const shape = p.args.shape.map((d) => dimConstValue(d));
  if (h?.kind === 'n:m' && h.n === 2 && h.m === 4 && ctx.options.sparseTables && p.args.dtype === 'f32') {
    const legal = shape.length === 2 && shape[0] !== undefined && shape[1] !== undefined && shape[1] % 32 === 0;
    // Only where the batch-1 GEMV can serve it: some reader's rows are symbolic or fewer than 4.
    const gemv = readers.some((r) => !(rowsOf(r) >= TWO_FOUR_MAX_ROWS));
    if (legal && gemv && readers.length > 0 && readers.every((r) => readsAsWeight(r, p))) return TWO_FOUR_STORED_KEY;
  }
  if (h?.kind !== 'block' || h.block % 16 !== 0 || h.density > BSR_MAX_DENSITY || p.args.dtype !== 'f32') return;
  if (shape.length !== 2 || shape.some((d) => d === undefined || d % h.block !== 0)) return;
  if (readers.length === 0 || !readers.every((r) => readsAsWeight(r, p))) return;
  const count = (shape[0]! / h.block) * (shape[1]! / h.block);
  return bsrKey(h.block, Math.min(count, Math.max(1, Math.round(h.density * count))));
}

/**
 * TWO_FOUR_KEY for param `p` when it is pruned 2:4 and read only as `x @ W.T`, directly or
 * through a cast to another float type (the precision pass's f16/bf16 compute), else undefined.
 */
function twoFourOf(ctx: PassContext, p: NodeOf<'param'>, readers: ReadonlyMap<Node, Node[]>): string | undefined {
  const h = sparseHintOf(ctx.hints, p.args);
  if (h?.kind !== 'n:m' || h.n !== 2 || h.m !== 4 || p.args.shape.length !== 2) return;
  if (p.args.shape.some((d) => dimConstValue(d) === undefined) || dimConstValue(p.args.shape[1]!)! % 4 !== 0) return;
  const weight = (x: Node): boolean => {
    const rs = readers.get(x) ?? [];
    return (
      rs.length > 0 && rs.every((r) => readsAsWeight(r, x) || (r.op === 'cast' && isFloat(r.type.dtype) && weight(r)))
    );
  };
  return weight(p) ? TWO_FOUR_KEY : undefined;
}

/** The sparse key of each param of `g` that a GEMM reads sparse, by path (what `fmc inspect` counts). */
export function blockSparseKeys(g: Parameters<Pass['run']>[0], ctx: PassContext): Map<string, string> {
  const readers = new Map<Node, Node[]>();
  for (const n of liveNodes(g)) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  const keys = new Map<string, string>();
  for (const [n, rs] of readers) {
    const key = n.op === 'param' ? (bsrOf(ctx, n, rs) ?? twoFourOf(ctx, n, readers)) : undefined;
    if (key) keys.set((n as NodeOf<'param'>).args.path, key);
  }
  return keys;
}

/** Inference on C (whose graph CUDA compiles too): block-sparse and 2:4 weights marked for the sparse GEMMs. */
function markBlockSparse(g: Parameters<Pass['run']>[0], ctx: PassContext): ReturnType<Pass['run']> {
  const keys = blockSparseKeys(g, ctx);
  if (keys.size === 0) return g;
  return rewrite(g, {
    param: (n, _, b) => {
      const key = keys.get(n.args.path);
      if (!key) return undefined;
      const w = (): Node =>
        key === TWO_FOUR_STORED_KEY
          ? twoFourRead(b, n.args)
          : ctx.options.sparseTables && key !== TWO_FOUR_KEY
            ? tableRead(b, n.args, key)
            : b.node('param', n.args, []);
      return b.within(n.path, 'sparse', () => b.barrier(w(), key));
    },
  }).graph;
}

/**
 * W[N, K] decoded from its 2:4 values and metadata (src/ir/sparse-format.ts), in i64 so the
 * words read unsigned: group g's positions are (u / 4^l) mod 4 for its elements' lanes l of
 * their word u, and W[n, 4g + i] is the value whose position is i, else 0.
 */
function twoFourRead(b: Builder, p: NodeOf<'param'>['args']): Node {
  const [N, K] = p.shape.map((d) => dimConstValue(d)!) as [number, number];
  const names = twoFourNames(p.path);
  const zeros = { fn: 'zeros', args: {} } as const;
  const values = b.param(names.values, 'f32', [N, K / 2], 'param', zeros);
  const meta = b.param(names.meta, 'i32', [N, K / 32], 'param', zeros);
  const words = [N, K / 32, 16];
  const u = b.binary('mod', b.add(b.cast(meta, 'i64'), 2 ** 32), 2 ** 32);
  const lanes = b.expand(b.reshape(u, [N, K / 32, 1]), words);
  const pos = b.reshape(b.binary('mod', b.div(lanes, b.pow(b.full(4, 'i64', words), b.iota(2, 'i64', words))), 4), [
    N,
    K / 4,
    2,
  ]);
  const pairs = b.reshape(values, [N, K / 4, 2]);
  // Element s of each group's pair, spread over the group's 4 columns.
  const spread = (x: Node, s: number): Node => b.expand(b.slice(x, [0, 0, s], [N, K / 4, 1]), [N, K / 4, 4]);
  const col = b.iota(2, 'i64', [N, K / 4, 4]);
  const w = b.where(
    b.eq(spread(pos, 0), col),
    spread(pairs, 0),
    b.where(b.eq(spread(pos, 1), col), spread(pairs, 1), 0),
  );
  return b.reshape(w, [N, K]);
}

/** W[N, K] decoded from its block table (src/ir/sparse-format.ts) of the bsrKey `key`. */
function tableRead(b: Builder, p: NodeOf<'param'>['args'], key: string): Node {
  const { b: s, cap } = parseBsrKey(key)!;
  const [N, K] = p.shape.map((d) => dimConstValue(d)!) as [number, number];
  const [R, C, P] = [N / s, K / s, bsrPanel(s)];
  const names = tableNames(p.path, s);
  const zeros = { fn: 'zeros', args: {} } as const;
  const index = b.param(names.index, 'i32', [R, C], 'param', zeros);
  const values = b.param(names.values, 'f32', [cap, s, s], 'param', zeros);
  // A [R, b, C, b] view of a per-block [R, C] or per-element [b, b] value, as [N, K].
  const spread = (x: Node, shape: number[]): Node => b.reshape(b.expand(b.reshape(x, shape), [R, s, C, s]), [N, K]);
  const slot = spread(index, [R, 1, C, 1]);
  // Element (r, c) of a block at ⌊r / P⌋·b·P + c·P + r mod P: iotas over [b / P, P, b].
  const grid = [s / P, P, s];
  const at = (axis: number, scale: number): Node => b.mul(b.iota(axis, 'i32', grid), scale);
  const offset = b.reshape(b.add(b.add(at(0, s * P), at(2, P)), at(1, 1)), [s, s]);
  const flat = b.add(b.mul(slot, s * s), spread(offset, [1, s, 1, s]));
  const read = b.gather(b.reshape(values, [cap * s * s]), flat, 0);
  return b.where(b.ge(slot, 0), read, 0);
}

export const sparsity: Pass = {
  name: 'sparsity',
  run: (g, ctx) => {
    if (!anySparse(ctx)) return g;
    if (ctx.mode === 'inference') return ctx.target === 'c' ? markBlockSparse(g, ctx) : g;
    if (ctx.mode !== 'train' && ctx.mode !== 'accumulate') return g;
    return rewrite(g, {
      param: (n, _, b) => {
        if (!sparseHintOf(ctx.hints, n.args)) return undefined;
        const w = b.node('param', n.args, []);
        return b.within(n.path, 'sparse', () => b.mul(w, maskOf(b, w)));
      },
    }).graph;
  },
};
