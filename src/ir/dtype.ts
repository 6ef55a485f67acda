// Element types of the IR, their sizes, and the promotion lattice.

export type Dtype = 'f32' | 'f16' | 'bf16' | 'i8' | 'i4' | 'i32' | 'i64' | 'bool';
export const DTYPES: readonly Dtype[] = ['f32', 'f16', 'bf16', 'i8', 'i4', 'i32', 'i64', 'bool'];
export const FLOAT_DTYPES: readonly Dtype[] = ['f32', 'f16', 'bf16'];
export const INT_DTYPES: readonly Dtype[] = ['i8', 'i4', 'i32', 'i64'];
export const isFloat = (d: Dtype): boolean => FLOAT_DTYPES.includes(d);
export const isInt = (d: Dtype): boolean => INT_DTYPES.includes(d);
export const isDtype = (s: string): s is Dtype => (DTYPES as readonly string[]).includes(s);

/** Storage size in bits of one element (`i4` is packed two to a byte, `bool` takes a byte). */
export const DTYPE_BITS: Readonly<Record<Dtype, number>> = {
  f32: 32,
  f16: 16,
  bf16: 16,
  i8: 8,
  i4: 4,
  i32: 32,
  i64: 64,
  bool: 8,
};

/** Bytes taken by `count` elements of `d` (i4 packs two per byte, rounding up). */
export function dtypeBytes(d: Dtype, count: number): number {
  return Math.ceil((count * DTYPE_BITS[d]) / 8);
}

/**
 * Promotion: the smallest dtype both convert to without loss of kind, as in JAX's lattice:
 * bool < i4 < i8 < i32 < i64 < bf16/f16 < f32, and f16 with bf16 gives f32. The IR's
 * binary ops require equal dtypes; promotion says which `cast` a producer inserts.
 */
export function promote(a: Dtype, b: Dtype): Dtype {
  if (a === b) return a;
  const rank: Record<Dtype, number> = { bool: 0, i4: 1, i8: 2, i32: 3, i64: 4, f16: 5, bf16: 5, f32: 6 };
  if (rank[a] === 5 && rank[b] === 5) return 'f32';
  return rank[a] >= rank[b] ? a : b;
}
