// Half-type legalization: Kernel → Kernel, run before the WGSL legalization (wgsl.ts). f16
// and bf16 values stay f16 and bf16 inside elementwise arithmetic (the dialect renders their
// fns through prelude-half.ts, natively or emulated); everywhere else they are widened to f32
// first, exactly, so that legalize-wgsl.ts and the storage packing only ever see f32 floats:
// - loads of f16/bf16 storage read f32, then change compute type (`cast` with from === to);
// - stores, compares and logic operands, truth tests (select and `if` conditions, `not`) and
//   casts to integers or bool take the widened value.

import type { Dtype } from '../ir/dtype.js';
import { type KExpr, type KStmt, type Kernel, mapChildren, typeOf } from '../ir/kernel.js';

const isHalf = (t: string): t is 'f16' | 'bf16' => t === 'f16' || t === 'bf16';

/** `e` widened to f32 when it is an f16 or bf16 value (exact). */
function wide(e: KExpr): KExpr {
  const t = typeOf(e);
  return isHalf(t) ? { k: 'cast', from: t, to: 'f32', a: e, t: 'f32' } : e;
}

function expr(e: KExpr): KExpr {
  const x = expr;
  switch (e.k) {
    case 'load': {
      const load: KExpr = { ...e, index: x(e.index), t: isHalf(e.t) ? 'f32' : e.t };
      return isHalf(e.t) ? { k: 'cast', from: e.t, to: e.t, a: load, t: e.t } : load;
    }
    case 'cmp':
      return { ...e, a: wide(x(e.a)), b: wide(x(e.b)) };
    case 'un':
      return { ...e, a: e.fn === 'not' ? wide(x(e.a)) : x(e.a) };
    case 'bin': {
      const logic = typeOf(e) === 'bool';
      return { ...e, a: logic ? wide(x(e.a)) : x(e.a), b: logic ? wide(x(e.b)) : x(e.b) };
    }
    case 'select':
      return { ...e, c: wide(x(e.c)), a: x(e.a), b: x(e.b) };
    case 'cast':
      return { ...e, a: isFloatDtype(e.to) ? x(e.a) : wide(x(e.a)) };
    default: // the rest take their children as they are
      return mapChildren(e, x);
  }
}

const isFloatDtype = (d: Dtype): boolean => d === 'f32' || d === 'f16' || d === 'bf16';

function stmts(ss: readonly KStmt[]): KStmt[] {
  return ss.map((s): KStmt => {
    switch (s.k) {
      case 'for':
        return { ...s, lo: expr(s.lo), hi: expr(s.hi), body: stmts(s.body) };
      case 'store':
        return { ...s, index: expr(s.index), value: wide(expr(s.value)) };
      case 'let':
      case 'set':
        return { ...s, value: expr(s.value) };
      case 'astore':
        return { ...s, index: expr(s.index), value: expr(s.value) };
      case 'if':
        return {
          ...s,
          cond: wide(expr(s.cond)),
          then: stmts(s.then),
          ...(s.else ? { else: stmts(s.else) } : {}),
        };
      case 'wstore':
        return { ...s, index: expr(s.index), value: expr(s.value), ...(s.mask ? { mask: expr(s.mask) } : {}) };
      case 'mma':
        return { ...s, aOffset: expr(s.aOffset), bOffset: expr(s.bOffset), kc: expr(s.kc) };
      case 'dot8':
        return s;
      case 'dotbf16':
        return { ...s, aOffset: expr(s.aOffset), lda: expr(s.lda), bOffset: expr(s.bOffset), np: expr(s.np) };
      case 'fragLoad':
        return { ...s, offset: expr(s.offset), ld: expr(s.ld) };
      case 'fragEach':
        return { ...s, body: stmts(s.body) };
      case 'frag':
      case 'fragMma':
      case 'array':
      case 'barrier':
      case 'comment':
        return s;
    }
  });
}

/** The kernel with f16 and bf16 values widened to f32 outside elementwise arithmetic. */
export function legalizeHalves(k: Kernel): Kernel {
  return { ...k, body: stmts(k.body) };
}
