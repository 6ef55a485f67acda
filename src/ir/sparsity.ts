// Magnitude pruning (`@sparse`, `--sparsity`): the masks and where they live. A param with a
// sparse hint (paramHint) gets a mask buffer `sparse:mask:<path>` of its shape and dtype, 1
// where a weight is kept and 0 where it is pruned, computed from the weights' magnitudes when
// the weights are bound (pruneWeights: one-shot pruning, the pruned weights set to 0 too).
// The sparsity pass (src/passes/sparsity.ts) multiplies each use of the param by its mask, so
// the gradient of a pruned weight is 0, and sparse-updates.ts masks the optimizer's update.
//
// The masks, on a param viewed as [d0, K] (K the product of the dims after the first, the
// reduction axis of a `Linear`'s [out, in] weight):
// - `n:m`: in each group of m consecutive weights of a row, the n largest |w| are kept;
// - `block = b, density = p`: the last two dims are cut into b×b blocks (per leading index),
//   and the round(p · blocks) blocks of largest L2 norm over the whole param are kept (at
//   least one); `block = 1` is unstructured magnitude pruning (the top-k weights).
// Ties go to the lower index, so every target computes the same mask. A NaN magnitude (or
// L2 norm) ranks above every number: a NaN weight is kept and propagates, as it does without
// pruning, and each group or param keeps exactly its count.

import { type Dim, dimConstValue } from './dims.js';
import type { HostTensor } from './value.js';
import {
  type GradualPruning,
  type Hint,
  type Hints,
  type Module,
  type ParamDecl,
  type SparseHint,
  paramHint,
} from './module.js';

const MASK_PREFIX = 'sparse:mask:';

/** The path of the mask buffer of param `path` (no model path has a colon). */
export const maskPath = (path: string): string => `${MASK_PREFIX}${path}`;

/** The param a mask path belongs to, or undefined when `path` is not a mask's. */
export const maskedParam = (path: string): string | undefined =>
  path.startsWith(MASK_PREFIX) ? path.slice(MASK_PREFIX.length) : undefined;

/** A hint's text as the annotation and `--sparsity` write it (`2:4`, `block=32,density=0.5`). */
export const sparseText = (h: SparseHint): string =>
  h.kind === 'n:m' ? `${h.n}:${h.m}` : `block=${h.block},density=${h.density}`;

/** The sparse hint of a param (a learnable float param of rank ≥ 2), or undefined. */
export function sparseHintOf(hints: Hints, p: ParamDecl): SparseHint | undefined {
  if (p.role !== 'param' || p.shape.length < 2 || (p.dtype !== 'f32' && p.dtype !== 'f16' && p.dtype !== 'bf16'))
    return undefined;
  return paramHint(hints, p, 'sparse');
}

/** Whether score `a` ranks above `b`: larger, with NaN above every number (it is kept, and propagates). */
const ranksAbove = (a: number, b: number): boolean => (Number.isNaN(a) ? !Number.isNaN(b) : a > b);

/** Whether scores `a` and `b` rank the same (equal, or both NaN): the lower index goes first. */
const ranksSame = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b));

/** Keeps exactly the `keep` largest of `scores` (NaN largest; ties: the lower index): 1 kept, 0 pruned. */
function topK(scores: ArrayLike<number>, keep: number): Uint8Array {
  const n = scores.length;
  const out = new Uint8Array(n);
  if (keep <= 0) return out;
  // The keep-th largest score (a typed sort puts NaN last, above every number, as ranksAbove
  // does): everything above it is kept, and as many that rank the same as fit.
  const t = Float64Array.from(scores).sort()[n - Math.min(keep, n)]!;
  let ties = keep;
  for (let i = 0; i < n; i++) if (ranksAbove(scores[i]!, t)) ties--;
  for (let i = 0; i < n; i++) if (ranksAbove(scores[i]!, t) || (ranksSame(scores[i]!, t) && ties-- > 0)) out[i] = 1;
  return out;
}

/** The mask (1 kept, 0 pruned) of weights `w` of concrete `shape` under `h`. */
export function sparseMask(w: ArrayLike<number>, shape: readonly number[], h: SparseHint): Float64Array {
  const size = w.length;
  const mask = new Float64Array(size);
  if (h.kind === 'n:m') {
    // In each group, w_i is kept when fewer than n weights rank above it (larger, NaN largest,
    // or the same and earlier): exactly n a group.
    for (let g = 0; g < size; g += h.m)
      for (let i = g; i < g + h.m; i++) {
        const a = Math.abs(w[i]!);
        let above = 0;
        for (let j = g; j < g + h.m; j++) {
          const b = Math.abs(w[j]!);
          if (ranksAbove(b, a) || (ranksSame(b, a) && j < i)) above++;
        }
        mask[i] = above < h.n ? 1 : 0;
      }
    return mask;
  }
  const b = h.block;
  const rows = shape[shape.length - 2]!;
  const cols = shape[shape.length - 1]!;
  const br = rows / b;
  const bc = cols / b;
  const count = (size / (rows * cols)) * br * bc;
  const norms = new Float64Array(count);
  // Block (m, i, j) covers rows i·b.. and cols j·b.. of matrix m; it is block m·br·bc + i·bc + j.
  const blockOf = (e: number): number => {
    const m = Math.floor(e / (rows * cols));
    const r = Math.floor(e / cols) % rows;
    const c = e % cols;
    return (m * br + Math.floor(r / b)) * bc + Math.floor(c / b);
  };
  for (let e = 0; e < size; e++) norms[blockOf(e)] = norms[blockOf(e)]! + w[e]! * w[e]!;
  const keep = topK(norms, Math.min(count, Math.max(1, Math.round(h.density * count))));
  for (let e = 0; e < size; e++) mask[e] = keep[blockOf(e)]!;
  return mask;
}

/**
 * The density of a block hint at `fraction` of the way through gradual pruning (Zhu and
 * Gupta's cubic schedule, from 1 at fraction 0 to the hint's density at 1).
 */
export const gradualDensity = (density: number, fraction: number): number =>
  density + (1 - density) * (1 - Math.min(1, Math.max(0, fraction))) ** 3;

/** Gradual pruning's default `every`: ten mask updates from `start` to `end`. */
export const defaultPruneEvery = (start: number, end: number): number => Math.max(1, Math.ceil((end - start) / 10));

/**
 * Where gradual pruning `s` is after optimizer update `t` (the updates done, 1 for the first):
 * the fraction of its way to give pruneWeights when the masks are updated there (start < t ≤
 * end, every `every` updates from `start`, and at `end`), else undefined.
 */
export function pruneFraction(s: GradualPruning, t: number): number | undefined {
  if (t <= s.start || t > s.end) return undefined;
  return (t - s.start) % s.every === 0 || t === s.end ? (t - s.start) / (s.end - s.start) : undefined;
}

/** `start:end:every`, as `--prune-gradual` writes gradual pruning. */
export const pruneText = (s: GradualPruning): string => `${s.start}:${s.end}:${s.every}`;

/** The problem with gradual pruning `s` (end after start, every ≥ 1, whole numbers), or undefined. */
export function pruneProblem(s: GradualPruning): string | undefined {
  const whole = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;
  if (!whole(s.start) || !whole(s.end) || !whole(s.every)) return 'its steps must be integers ≥ 0';
  if (s.end <= s.start) return `it must end after it starts (end ${s.end} ≤ start ${s.start})`;
  if (s.every < 1) return 'its masks must be updated every 1 step or more';
  return undefined;
}

/** Whether `m` has a param that gradual pruning prunes: one with a block hint (`block = b, density = p`, or `density = p`). */
export const hasBlockSparsity = (m: Pick<Module, 'params' | 'hints'>): boolean =>
  m.params.some((p) => sparseHintOf(m.hints, p)?.kind === 'block');

/**
 * Adds the mask of every sparse param of `m` to `values` (by maskPath) and prunes the param's
 * values there (w · mask): what compile, the trainer and the reference run bind. Gradual
 * pruning calls it again on a trainer's state with `fraction` (default 1: the hint's own
 * density) growing to 1: a block hint then keeps gradualDensity's share (pruned weights are
 * 0, so what was pruned stays pruned), and the optimizer state of a newly pruned weight
 * (`opt:<name>:<path>` in `values`) is zeroed with it. An n:m hint prunes in one shot.
 */
export function pruneWeights(values: Map<string, HostTensor>, m: Pick<Module, 'params' | 'hints'>, fraction = 1): void {
  for (const p of m.params) {
    const hint = sparseHintOf(m.hints, p);
    const w = values.get(p.path);
    if (!hint || !w) continue;
    const h = hint.kind === 'block' ? { ...hint, density: gradualDensity(hint.density, fraction) } : hint;
    const mask = sparseMask(w.data, w.shape, h);
    const prune = (t: HostTensor): HostTensor => ({
      dtype: t.dtype,
      shape: t.shape,
      data: t.data.map((x, i) => (mask[i] ? x : 0)),
    });
    for (const [k, t] of values) if (k === p.path || k.endsWith(`:${p.path}`)) values.set(k, prune(t));
    values.set(maskPath(p.path), { dtype: w.dtype, shape: w.shape, data: mask });
  }
}

/** The legality problem of `h` on param `p` (`m` must divide K; `b` the last two dims), or undefined. */
export function sparseProblem(p: ParamDecl, h: SparseHint): string | undefined {
  const known = p.shape.map((d: Dim) => dimConstValue(d));
  if (known.some((d) => d === undefined)) return undefined; // symbolic: checked when bound
  const dims = known as number[];
  if (h.kind === 'n:m') {
    const k = dims.slice(1).reduce((a, d) => a * d, 1);
    return k % h.m === 0 ? undefined : `${h.m} does not divide ${k}, the product of its dims after the first`;
  }
  const bad = dims.slice(-2).find((d) => d % h.block !== 0);
  return bad === undefined ? undefined : `block size ${h.block} does not divide dimension ${bad}`;
}

/** `--sparsity`'s text as a hint: `n:m`, `block=b,density=p` or `density=p` (unstructured, block 1). */
export function parseSparsity(text: string): SparseHint | string {
  const nm = /^(\d+):(\d+)$/.exec(text);
  // Past 2^53 a count would be rounded (and no weight has that many values): quoted as given.
  const args = new Map(text.split(',').map((kv) => kv.split('=') as [string, string]));
  const huge = [nm?.[1], nm?.[2], args.get('block')].find(
    (v) => v !== undefined && Number.isInteger(Number(v)) && !Number.isSafeInteger(Number(v)),
  );
  if (huge !== undefined) return `--sparsity ${text}: ${huge.trim()} is too large (at most 2^53 - 1)`;
  if (nm) {
    const n = Number(nm[1]);
    const m = Number(nm[2]);
    return n > 0 && n < m ? { kind: 'n:m', n, m } : `--sparsity ${text}: n:m needs 0 < n < m`;
  }
  const block = Number(args.get('block') ?? '1');
  const density = Number(args.get('density'));
  const known = [...args.keys()].every((k) => k === 'block' || k === 'density');
  if (!known || !Number.isInteger(block) || block < 1 || !(density > 0 && density <= 1))
    return `--sparsity ${text}: expected n:m (2:4), block=b,density=p (block=32,density=0.5) or density=p`;
  return { kind: 'block', block, density };
}

/**
 * `m` with every `@sparse` replaced by `h` on the whole model (`--sparsity`), or the first
 * param `h` is not legal on (its path and why).
 */
export function withSparsity(m: Module, h: SparseHint): Module | { readonly path: string; readonly reason: string } {
  const drop = (map: Hints['params']): Map<string, Hint> =>
    new Map([...map].map(([k, { sparse: _, ...rest }]) => [k, rest]));
  const blocks = drop(m.hints.blocks);
  blocks.set('', { ...blocks.get(''), sparse: h });
  const out: Module = { ...m, hints: { params: drop(m.hints.params), blocks } };
  for (const p of m.params) {
    const reason = sparseHintOf(out.hints, p) && sparseProblem(p, h);
    if (reason) return { path: p.path, reason };
  }
  return out;
}
