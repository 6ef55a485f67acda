// Weight-only quantization of a float param W[N, ...] (docs/ir.md, "Quantized weights"): the
// layout of its quantized params, their names, and the host function that derives them from
// W's values (the runtime calls it where weights are bound; the quantize pass builds the
// graph that reads them back).
//
// K is the product of W's dims after the first (the reduced axis of `x @ W.T`), split into
// groups of `group` consecutive elements (the whole row when absent). Per (row, group):
//   symmetric:  scale = max|w| / QMAX,             q = clamp(round(w / scale), -QMAX, QMAX)
//   asymmetric: scale = (max - min) / (2·QMAX + 1), zero = round(-min / scale) - QMAX - 1,
//               q = clamp(round(w / scale) + zero, -QMAX - 1, QMAX)
// with QMAX 127 (int8) or 7 (int4), rounding half to even, scale rounded to f32 first, and
// w ≈ (q - zero) · scale. The asymmetric range is the group's [min, max] widened to hold 0
// (min(min, 0), max(max, 0), as PyTorch's observers do), so 0 is exact and a constant group
// (max = min: a scale of 0 without the widening) keeps its value. A group of zeros has scale 0
// and q 0.
//
// Storage: `<path>:<spec>.q` (i8), `<path>:<spec>.scale` (f32 [N, K/group]) and, asymmetric,
// `<path>:<spec>.zero` (f32 [N, K/group], an integer value). int8 q is [N, K]; int4 q is
// [N, 32·ceil(K/64)] bytes: each row in blocks of 64 values in 32 bytes, value i of a block in
// the low nibble of its byte i and value 32 + i in the high nibble (GGML's Q4_0 order, in
// blocks of 64 rather than 32: the GEMV then reads a block's bytes at its 32 consecutive
// lanes), each a 4-bit two's complement
// (byte = 16·hi + (lo & 15) read as a signed i8); values past K are 0.

import { dimConstValue } from './dims.js';
import { type Graph, graphParams } from './graph.js';
import type { QuantizeHint } from './module.js';
import { type HostTensor, showShape } from './value.js';

/** A quantization scheme: `int8`, `int4:128`, `int4:64:asym` in the names and on the command line. */
export type QuantSpec = QuantizeHint;

export const qmax = (s: QuantSpec): number => (s.dtype === 'int8' ? 127 : 7);

/** int4 values a block: INT4_BLOCK / 2 bytes, value i low nibble and INT4_BLOCK / 2 + i high nibble of byte i. */
export const INT4_BLOCK = 64;

/** `int8`, `int4g128`, `int4g64a`: the spec's part of its params' names. */
export function specTag(s: QuantSpec): string {
  return `${s.dtype}${s.group !== undefined ? `g${s.group}` : ''}${s.symmetric ? '' : 'a'}`;
}

/** The names of the quantized params of `path`. */
export function quantNames(path: string, s: QuantSpec): { q: string; scale: string; zero?: string } {
  const base = `${path}:${specTag(s)}`;
  return { q: `${base}.q`, scale: `${base}.scale`, ...(s.symmetric ? {} : { zero: `${base}.zero` }) };
}

const NAME = /^(.*):(int8|int4)(?:g(\d+))?(a?)\.(q|scale|zero)$/;

/** The source param, spec and part of a quantized param's name, or undefined for another name. */
export function parseQuantName(
  name: string,
): { path: string; spec: QuantSpec; part: 'q' | 'scale' | 'zero' } | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const spec: QuantSpec = {
    dtype: m[2] as 'int8' | 'int4',
    ...(m[3] !== undefined ? { group: Number(m[3]) } : {}),
    symmetric: m[4] === '',
  };
  return { path: m[1]!, spec, part: m[5] as 'q' | 'scale' | 'zero' };
}

/** The group size in effect for a param of reduced size K, or an error message. */
export function groupOf(s: QuantSpec, K: number): number | string {
  const g = s.group ?? K;
  if (!Number.isInteger(g) || g < 1) return `quantization group ${g} is not a positive integer`;
  if (K % g !== 0) return `quantization group ${g} does not divide ${K} (the reduced size)`;
  return g;
}

/** `int8`, `int4:128`, `int8:32:asym`, or an error message. */
export function parseQuantSpec(text: string): QuantSpec | string {
  const parts = text.split(':');
  const dtype = parts[0];
  if (dtype !== 'int8' && dtype !== 'int4')
    return `unknown quantization '${text}' (int8, int4, int4:128, int8:64:asym)`;
  let group: number | undefined;
  let symmetric = true;
  for (const p of parts.slice(1)) {
    if (p === 'asym' && symmetric) symmetric = false;
    else if (/^[1-9]\d*$/.test(p) && group === undefined && symmetric) {
      // Past 2^53 the number would be rounded (and no weight has that many values).
      if (!Number.isSafeInteger(Number(p)))
        return `quantization group ${p} in '${text}' is too large (at most 2^53 - 1)`;
      group = Number(p);
    } else return `unknown quantization '${text}' (int8, int4, int4:128, int8:64:asym)`;
  }
  return { dtype, ...(group !== undefined ? { group } : {}), symmetric };
}

/** Bytes of the quantized params of a weight with N rows of K values (q, scale and zero). */
export function quantizedBytes(N: number, K: number, s: QuantSpec): number {
  const groups = N * (K / (s.group ?? K));
  const q = s.dtype === 'int8' ? N * K : (N * INT4_BLOCK * Math.ceil(K / INT4_BLOCK)) / 2;
  return q + 4 * groups * (s.symmetric ? 1 : 2);
}

/** Round half to even (numpy's rint). */
export function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface Quantized {
  /** i8 values: int8 [N·K], int4 packed [N·ceil(K/2)]. */
  readonly q: Int8Array;
  readonly scale: Float32Array;
  readonly zero?: Float32Array;
}

/**
 * Quantizes `w` (N rows of K values, row-major) to `s`; `group` must divide K (groupOf).
 * Values are read in float64 and scales rounded to f32 before dividing by them.
 */
export function quantizeValues(w: ArrayLike<number>, N: number, K: number, s: QuantSpec): Quantized {
  const g = groupOf(s, K);
  if (typeof g === 'string') throw new RangeError(g);
  const Q = qmax(s);
  const G = K / g;
  const scale = new Float32Array(N * G);
  const zero = s.symmetric ? undefined : new Float32Array(N * G);
  const vals = new Int8Array(N * K);
  for (let n = 0; n < N; n++)
    for (let j = 0; j < G; j++) {
      const at = n * K + j * g;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < g; i++) {
        const v = w[at + i]!;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      if (!s.symmetric) [lo, hi] = [Math.min(lo, 0), Math.max(hi, 0)];
      const range = s.symmetric ? Math.max(Math.abs(lo), Math.abs(hi)) / Q : (hi - lo) / (2 * Q + 1);
      const sc = Math.fround(Number.isFinite(range) ? range : 0);
      const z = !zero || sc === 0 ? 0 : Math.min(Q, Math.max(-Q - 1, rint(-lo / sc) - Q - 1));
      scale[n * G + j] = sc;
      if (zero) zero[n * G + j] = z;
      for (let i = 0; i < g; i++) {
        const v = sc === 0 ? 0 : rint(w[at + i]! / sc) + z;
        vals[at + i] = Math.min(Q, Math.max(s.symmetric ? -Q : -Q - 1, v));
      }
    }
  return { q: s.dtype === 'int8' ? vals : packInt4(vals, N, K), scale, ...(zero ? { zero } : {}) };
}

/** N rows of K values in [-8, 7], packed in blocks of INT4_BLOCK (value i low nibble, INT4_BLOCK / 2 + i high nibble of byte i). */
export function packInt4(v: Int8Array, N: number, K: number): Int8Array {
  const half = INT4_BLOCK / 2;
  const W = half * Math.ceil(K / INT4_BLOCK);
  const out = new Int8Array(N * W);
  const at = (n: number, k: number): number => (k < K ? v[n * K + k]! : 0);
  for (let n = 0; n < N; n++)
    for (let j = 0; j < W; j++) {
      const k = INT4_BLOCK * Math.floor(j / half) + (j % half);
      out[n * W + j] = (at(n, k + half) << 4) | (at(n, k) & 15);
    }
  return out;
}

/**
 * `values` with the quantized params that the graphs read and `values` lacks, derived from
 * their source params' values (once, where weights are bound: docs/runtime.md). A quantized
 * param already in `values` (read from a file that holds it) is kept as it is.
 */
export function withQuantized(
  graphs: readonly Graph[],
  values: ReadonlyMap<string, HostTensor>,
): Map<string, HostTensor> {
  const out = new Map(values);
  for (const n of graphs.flatMap(graphParams)) {
    const name = parseQuantName(n.args.path);
    if (!name) continue;
    const have = out.get(n.args.path);
    if (have) {
      const want = n.args.shape.map((d) => dimConstValue(d) ?? -1);
      if (have.dtype !== n.args.dtype || have.shape.join() !== want.join())
        throw new RangeError(
          `tensor "${n.args.path}" is ${showShape(have.dtype, have.shape)}, the model needs ${showShape(n.args.dtype, want)}`,
        );
      continue;
    }
    const w = values.get(name.path);
    if (!w) throw new RangeError(`no weights for '${name.path}', which '${n.args.path}' is quantized from`);
    const [N = 1, ...rest] = w.shape;
    const K = rest.reduce((a, c) => a * c, 1);
    const qz = quantizeValues(w.data, N, K, name.spec);
    const G = qz.scale.length / N;
    const names = quantNames(name.path, name.spec);
    out.set(names.q, { dtype: 'i8', shape: [N, qz.q.length / N], data: Float64Array.from(qz.q) });
    out.set(names.scale, { dtype: 'f32', shape: [N, G], data: Float64Array.from(qz.scale) });
    if (names.zero) out.set(names.zero, { dtype: 'f32', shape: [N, G], data: Float64Array.from(qz.zero!) });
  }
  return out;
}
