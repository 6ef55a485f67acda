// The integer types of WGSL legalization (legalize-wgsl.ts). Two kinds of integer compute:
// - index arithmetic (`ix`, dims, loop variables, grid indices, storage word offsets) in
//   i32: the host proves every such value below 2^31 before a launch (checkIndexBounds in
//   src/runtime/gpu-executable.ts);
// - integer values (tensor data: loads of integer buffers, `bin`/`un`/`cast`/`select` of
//   compute type i64, locals and arrays holding them) in full 64 bits, as a vec2<u32> (the
//   KScalar 'i64' of a legalized kernel; prelude-wgsl-i64.ts has its operations).
// A value used as an index is narrowed to its low word; an index used as a value is
// sign-extended. This file has the typing and conversions both sides share.

import { DTYPE_BITS, type Dtype, isFloat } from '../ir/dtype.js';
import { type CompareOp, type KExpr, type KScalar, typeOf as exprType } from '../ir/kernel.js';

export const c32 = (v: number): KExpr => ({ k: 'const', t: 'i32', v });
export const call = (fn: string, args: readonly KExpr[], t: KScalar): KExpr => ({ k: 'call', fn, args, t });

/** The compute type of a legalized expression ('i64': a vec2<u32> integer value). */
export const typeOf = (e: KExpr): KScalar => exprType(e, 'i32');

/** An i64 literal as a value: its two words. */
export function wideConst(v: number): KExpr {
  const big = v >= 2 ** 63 ? 2n ** 63n - 1n : BigInt(Math.trunc(v));
  const u = BigInt.asUintN(64, big);
  return call('fmc_i64', [c32(Number(BigInt.asIntN(32, u))), c32(Number(BigInt.asIntN(32, u >> 32n)))], 'i64');
}

/** A legalized integer or bool as an integer value (vec2<u32>). */
export function widen(e: KExpr): KExpr {
  const t = typeOf(e);
  if (t === 'i64') return e;
  if (e.k === 'const' && t === 'i32') return wideConst(e.v);
  if (t === 'i32') return call('fmc_l_i', [e], 'i64');
  if (t === 'bool') return { k: 'select', c: e, a: wideConst(1), b: wideConst(0), t: 'i64' };
  throw new Error(`internal: a ${t} value used as an integer in a WGSL kernel`);
}

/** Word 0 (low) or 1 (high) of an integer value: the operand of one built from its words. */
export const word = (e: KExpr, w: 0 | 1): KExpr =>
  e.k === 'call' && e.fn === 'fmc_i64' ? e.args[w]! : call(w === 0 ? 'fmc_lo' : 'fmc_hi', [e], 'i32');

/** A legalized integer as an i32 index (an integer value's low word). */
export const narrow = (e: KExpr): KExpr => (typeOf(e) === 'i64' ? word(e, 0) : e);

const CMP: Record<Exclude<CompareOp, '&&' | '||'>, string> = {
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
  '==': 'eq',
  '!=': 'ne',
};

/** The prelude's name of a compare (`lt`), or undefined for logic. */
export const cmpName = (op: CompareOp): string | undefined => (op === '&&' || op === '||' ? undefined : CMP[op]);

/** An integer fn of the prelude on values (fmc_add_l, fmc_neg_l, ...). */
export const wideFn = (fn: string, args: readonly KExpr[]): KExpr => call(`fmc_${fn}_l`, args.map(widen), 'i64');

/**
 * fmc's cast of a legalized operand where integers are involved: to an integer dtype a value
 * (saturating from floats, wrapped to narrower widths), from one an f32 (rounded to
 * nearest); undefined for the float and bool casts the dialect renders itself.
 */
export function intCast(from: Dtype, to: Dtype, a: KExpr): KExpr | undefined {
  const intTo = !isFloat(to) && to !== 'bool';
  const intFrom = !isFloat(from) && from !== 'bool';
  if (intTo && isFloat(from)) return call('fmc_f2l', [a, c32(DTYPE_BITS[to])], 'i64');
  if (intTo && from === 'bool') return widen(a);
  if (intTo) return to === 'i64' ? widen(a) : call('fmc_wrap_l', [widen(a), c32(DTYPE_BITS[to])], 'i64');
  if (intFrom && isFloat(to)) {
    const f = call('fmc_l2f', [widen(a)], 'f32');
    return to === 'f32' ? f : { k: 'cast', from: 'f32', to, a: f, t: 'f32' };
  }
  return undefined;
}
