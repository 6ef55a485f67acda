// The block table: how a block-sparse weight is stored when only its compressed form is kept
// (docs/ir.md, "Sparse storage"; inference on C with no train step: `fmc compile -o` writes it,
// src/passes/sparsity.ts reads it, src/kernels/gemm-sparse.ts multiplies from it in place).
// For W[N, K] in b×b blocks (R = N / b block rows, C = K / b block columns) and a capacity of
// `cap` blocks (the number the pruning keeps):
// - `<path>:bsr<b>.index`, i32 [R, C]: the slot of block (i, j) in `values`, or -1 where the
//   block is all zeros. Each slot is used at most once; the encoder numbers the stored blocks
//   in row-major block order, so a block row's slots are consecutive.
// - `<path>:bsr<b>.values`, f32 [cap, b, b]: slot s holds W[i·b + r, j·b + c] at
//   s·b·b + ⌊r / P⌋·b·P + c·P + (r mod P), P = bsrPanel(b): panels of P rows, each stored
//   K-major (the C GEMM's register-tile panels, read in place). Unused slots are zeros.

import { type Graph, graphParams } from './graph.js';
import { dimConstValue } from './dims.js';
import { encodeBsr, encodeTwoFour, parseTwoFourName, twoFourNames } from './sparse-format.js';
import type { HostTensor } from './value.js';

/** The panel width of the block table's values: 32 when it divides b, else 16. */
export const bsrPanel = (b: number): number => (b % 32 === 0 ? 32 : 16);

/** A weight in block-table form (see above). */
export interface BlockTable {
  readonly N: number;
  readonly K: number;
  readonly b: number;
  readonly cap: number;
  readonly index: Int32Array;
  readonly values: Float32Array;
}

/** Where W[n, k] lives within its block's b·b values (the panel layout above). */
export function tableOffset(b: number, r: number, c: number): number {
  const P = bsrPanel(b);
  return Math.floor(r / P) * b * P + c * P + (r % P);
}

/** `w` (N×K, row-major) as a block table of `cap` slots; more nonzero blocks than `cap` is a RangeError. */
export function encodeBlockTable(w: ArrayLike<number>, N: number, K: number, b: number, cap: number): BlockTable {
  const bsr = encodeBsr(w, N, K, b);
  const blocks = bsr.cols.length;
  if (blocks > cap) throw new RangeError(`${blocks} nonzero ${b}×${b} blocks, more than the ${cap} the pruning keeps`);
  const C = K / b;
  const index = new Int32Array((N / b) * C).fill(-1);
  const values = new Float32Array(cap * b * b);
  for (let i = 0; i < N / b; i++)
    for (let p = bsr.rowptr[i]!; p < bsr.rowptr[i + 1]!; p++) {
      index[i * C + bsr.cols[p]!] = p;
      for (let r = 0; r < b; r++)
        for (let c = 0; c < b; c++) values[p * b * b + tableOffset(b, r, c)] = bsr.values[(p * b + r) * b + c]!;
    }
  return { N, K, b, cap, index, values };
}

/** Why `index` is not a valid block table of `cap` slots (a slot outside -1 .. cap - 1, or used twice), or undefined. */
export function tableProblem(index: ArrayLike<number>, C: number, cap: number): string | undefined {
  const used = new Int32Array(cap).fill(-1);
  for (let e = 0; e < index.length; e++) {
    const s = index[e]!;
    const at = `block (${Math.floor(e / C)}, ${e % C})`;
    if (!Number.isInteger(s) || s < -1 || s >= cap) return `${at} has slot ${s}, outside -1 .. ${cap - 1}`;
    if (s < 0) continue;
    if (used[s]! >= 0) return `${at} and block (${Math.floor(used[s]! / C)}, ${used[s]! % C}) both use slot ${s}`;
    used[s] = e;
  }
  return undefined;
}

/** The names of the block-table params of weight `path` with blocks of `b`. */
export const tableNames = (path: string, b: number): { index: string; values: string } => ({
  index: `${path}:bsr${b}.index`,
  values: `${path}:bsr${b}.values`,
});

/** The weight, block size and part of a block-table param's name, or undefined for another name. */
export function parseTableName(name: string): { path: string; b: number; part: 'index' | 'values' } | undefined {
  const m = /^(.*):bsr(\d+)\.(index|values)$/.exec(name);
  return m ? { path: m[1]!, b: Number(m[2]), part: m[3] as 'index' | 'values' } : undefined;
}

/**
 * `values` with the block tables and 2:4 params (src/ir/sparse-format.ts) that `graphs` read derived from the dense (pruned) weights
 * they stand for (compile calls it once; the dense weights are then not bound). A table
 * already in `values` (a module folder, a compressed weights file) is kept as it is.
 */
export function withTables(graphs: readonly Graph[], values: ReadonlyMap<string, HostTensor>): Map<string, HostTensor> {
  const out = new Map(values);
  for (const n of graphs.flatMap(graphParams)) {
    const two = parseTwoFourName(n.args.path);
    if (two?.part === 'values' && !out.has(n.args.path)) {
      const w = values.get(two.path);
      if (!w) throw new RangeError(`no weights for '${two.path}', which '${n.args.path}' is stored from`);
      const [N = 0, K = 0] = w.shape;
      const t = encodeTwoFour(w.data, N, K);
      const names = twoFourNames(two.path);
      out.set(names.values, { dtype: 'f32', shape: [N, K / 2], data: Float64Array.from(t.values) });
      out.set(names.meta, { dtype: 'i32', shape: [N, K / 32], data: Float64Array.from(new Int32Array(t.meta.buffer)) });
    }
    const name = parseTableName(n.args.path);
    if (name?.part !== 'values' || out.has(n.args.path)) continue;
    const w = values.get(name.path);
    if (!w) throw new RangeError(`no weights for '${name.path}', which '${n.args.path}' is stored from`);
    const [N = 0, K = 0] = w.shape;
    const cap = dimConstValue(n.args.shape[0]!)!;
    const t = encodeBlockTable(w.data, N, K, name.b, cap);
    const names = tableNames(name.path, name.b);
    out.set(names.index, { dtype: 'i32', shape: [N / name.b, K / name.b], data: Float64Array.from(t.index) });
    out.set(names.values, { dtype: 'f32', shape: [cap, name.b, name.b], data: Float64Array.from(t.values) });
  }
  return out;
}

/** Bytes of a block table: the i32 index and `cap` blocks of f32 values. */
export const tableBytes = (N: number, K: number, b: number, cap: number): number =>
  4 * ((N / b) * (K / b) + cap * b * b);
