// Compressed storage of pruned weights (docs/ir.md, "Sparse storage"), for a weight W[N, K]
// viewed as N rows of K values (K the reduced axis of `x @ W.T`).
//
// Block-sparse rows (BSR) of b×b blocks: block row i holds rows i·b .. i·b + b - 1; its
// stored blocks are p = rowptr[i] .. rowptr[i + 1] - 1, block p covering columns
// cols[p]·b .. cols[p]·b + b - 1, its b·b values row-major at values[p·b·b ..]. Only blocks
// with a nonzero (or NaN) value are stored, in increasing column order. The C GEMM keeps the
// same three arrays in a buffer it derives from W itself (src/kernels/gemm-sparse.ts, the
// values there in NR-wide column panels for its register tile).
//
// 2:4 (n = 2 of m = 4 along K): per row, values[K/2] are the kept values of each group of 4
// in order, and meta holds their positions in the group, 2 bits each, 16 to a 32-bit word
// (kept element e of the row at bits 2·(e % 16) of word e / 16): the index stream that a sparse
// tensor-core `mma.sp` takes as its metadata. The two positions of a group increase; a group
// with fewer than 2 nonzeros keeps zeros at its lowest free positions.

/** A weight in BSR form (see the top of the file). */
export interface Bsr {
  readonly N: number;
  readonly K: number;
  readonly b: number;
  readonly rowptr: Int32Array;
  readonly cols: Int32Array;
  readonly values: Float32Array;
}

/** Whether block (i, j) of `w` (N×K, row-major) holds a value that is not 0 (NaN counts). */
export function blockNonzero(w: ArrayLike<number>, K: number, b: number, i: number, j: number): boolean {
  for (let r = 0; r < b; r++) for (let c = 0; c < b; c++) if (w[(i * b + r) * K + j * b + c] !== 0) return true;
  return false;
}

/** `w` (N×K, row-major; b divides N and K) in BSR form, keeping its nonzero blocks. */
export function encodeBsr(w: ArrayLike<number>, N: number, K: number, b: number): Bsr {
  if (N % b !== 0 || K % b !== 0) throw new RangeError(`block ${b} does not divide ${N}×${K}`);
  const [R, C] = [N / b, K / b];
  const rowptr = new Int32Array(R + 1);
  const cols: number[] = [];
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < C; j++) if (blockNonzero(w, K, b, i, j)) cols.push(j);
    rowptr[i + 1] = cols.length;
  }
  const values = new Float32Array(cols.length * b * b);
  for (let i = 0; i < R; i++)
    for (let p = rowptr[i]!; p < rowptr[i + 1]!; p++)
      for (let r = 0; r < b; r++)
        for (let c = 0; c < b; c++) values[(p * b + r) * b + c] = w[(i * b + r) * K + cols[p]! * b + c]!;
  return { N, K, b, rowptr, cols: Int32Array.from(cols), values };
}

/** Bytes of a BSR weight of `blocks` stored blocks: f32 values, i32 row pointers and columns. */
export const bsrBytes = (N: number, b: number, blocks: number): number => 4 * (blocks * b * b + N / b + 1 + blocks);

/** A weight in 2:4 form (see the top of the file). */
export interface TwoFour {
  readonly N: number;
  readonly K: number;
  /** N × K/2 kept values. */
  readonly values: Float32Array;
  /** N × K/32 words of 2-bit positions (K/2 of them a row, 16 a word). */
  readonly meta: Uint32Array;
}

/** `w` (N×K, row-major, 4 dividing K, at most 2 nonzeros in each group of 4) in 2:4 form. */
export function encodeTwoFour(w: ArrayLike<number>, N: number, K: number): TwoFour {
  if (K % 4 !== 0) throw new RangeError(`4 does not divide K = ${K}`);
  const half = K / 2;
  const words = Math.ceil(half / 16);
  const values = new Float32Array(N * half);
  const meta = new Uint32Array(N * words);
  for (let n = 0; n < N; n++)
    for (let g = 0; g < K / 4; g++) {
      const at = n * K + 4 * g;
      const kept = [0, 1, 2, 3].filter((i) => w[at + i] !== 0);
      if (kept.length > 2) throw new RangeError(`row ${n}, group ${g}: ${kept.length} nonzeros, 2:4 keeps 2`);
      for (let i = 0; kept.length < 2; i++) if (!kept.includes(i)) kept.push(i);
      kept.sort((a, b) => a - b);
      kept.forEach((pos, s) => {
        const e = 2 * g + s;
        values[n * half + e] = w[at + pos]!;
        meta[n * words + (e >> 4)]! |= pos << (2 * (e & 15));
      });
    }
  return { N, K, values, meta };
}

/** The dense N×K values of a 2:4 weight. */
export function decodeTwoFour(t: TwoFour): Float32Array {
  const { N, K } = t;
  const half = K / 2;
  const words = Math.ceil(half / 16);
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++)
    for (let e = 0; e < half; e++) {
      const pos = (t.meta[n * words + (e >> 4)]! >>> (2 * (e & 15))) & 3;
      out[n * K + 4 * (e >> 1) + pos] = t.values[n * half + e]!;
    }
  return out;
}

/** Bytes of a 2:4 weight: f32 values for half of K and 2 bits for each of them. */
export const twoFourBytes = (N: number, K: number): number => N * (2 * K + 4 * Math.ceil(K / 32));

/**
 * The barrier key with which the sparsity pass marks a block-sparse weight for the C GEMM
 * (src/passes/sparsity.ts): blocks of `b`, at most `cap` of them stored.
 */
export const bsrKey = (b: number, cap: number): string => `sparse:bsr:${b}:${cap}`;

/** The block size and capacity of a bsrKey, or undefined for another key. */
export function parseBsrKey(key: string): { b: number; cap: number } | undefined {
  const m = /^sparse:bsr:(\d+):(\d+)$/.exec(key);
  return m ? { b: Number(m[1]), cap: Number(m[2]) } : undefined;
}

// 2:4 weights held in that form alone (inference on C, src/passes/sparsity.ts): the params
// `<path>:2of4.values` (f32 [N, K/2]) and `<path>:2of4.meta` (i32 [N, K/32]: the 32-bit words
// above, bit for bit), for K a multiple of 32, marked by a barrier keyed TWO_FOUR_STORED_KEY.

/** The barrier key of a 2:4 weight read from its values and metadata. */
export const TWO_FOUR_STORED_KEY = 'sparse:2of4';

/** The names of the 2:4 params of weight `path`. */
export const twoFourNames = (path: string): { values: string; meta: string } => ({
  values: `${path}:2of4.values`,
  meta: `${path}:2of4.meta`,
});

/** The weight and part of a 2:4 param's name, or undefined for another name. */
export function parseTwoFourName(name: string): { path: string; part: 'values' | 'meta' } | undefined {
  const m = /^(.*):2of4\.(values|meta)$/.exec(name);
  return m ? { path: m[1]!, part: m[2] as 'values' | 'meta' } : undefined;
}

/**
 * Why `meta` (N rows of K/32 words) is not valid 2:4 metadata, or undefined: each group's two
 * positions must increase (a pair such as 2, 1 or 3, 3 names no layout the encoder writes).
 */
export function twoFourProblem(meta: ArrayLike<number>, N: number, K: number): string | undefined {
  const words = K / 32;
  for (let n = 0; n < N; n++)
    for (let g = 0; g < K / 4; g++) {
      const w = meta[n * words + (g >> 3)]! >>> (4 * (g & 7));
      const [p0, p1] = [w & 3, (w >>> 2) & 3];
      if (p0 >= p1) return `row ${n}, group ${g} (columns ${4 * g} .. ${4 * g + 3}) has positions ${p0}, ${p1}`;
    }
  return undefined;
}
