// Builders of kernel IR (src/ir/kernel.ts): short names keep lowering code readable. Index
// arithmetic folds constants and the identities 0 + x, 1 * x, x / 1, 0 * x as it builds.

import type { CompareOp, IndexOp, KExpr, KScalar, KStmt, LoopMode } from './kernel.js';

export const int = (v: number): KExpr => ({ k: 'const', t: 'i64', v });
export const f32 = (v: number): KExpr => ({ k: 'const', t: 'f32', v });
export const lit = (t: KScalar, v: number): KExpr => ({ k: 'const', t, v });
export const ivar = (name: string): KExpr => ({ k: 'var', name, t: 'i64' });

/** Index op `op` on two integers (undefined for a division by zero). */
export function fold(op: IndexOp, a: number, b: number): number | undefined {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? undefined : Math.trunc(a / b);
    case '%':
      return b === 0 ? undefined : a % b;
    case 'min':
      return Math.min(a, b);
    case 'max':
      return Math.max(a, b);
  }
}

const isInt = (e: KExpr, v: number): boolean => e.k === 'const' && e.v === v;

/** Index arithmetic with constant folding and the identities 0 + x, 1 * x, x / 1, 0 * x. */
export function ix(op: IndexOp, a: KExpr, b: KExpr): KExpr {
  if (a.k === 'const' && b.k === 'const') {
    const v = fold(op, a.v, b.v);
    if (v !== undefined && Number.isSafeInteger(v)) return int(v);
  }
  if (op === '+' && isInt(a, 0)) return b;
  if ((op === '+' || op === '-') && isInt(b, 0)) return a;
  if (op === '*' && (isInt(a, 0) || isInt(b, 0))) return int(0);
  if (op === '*' && isInt(a, 1)) return b;
  if ((op === '*' || op === '/') && isInt(b, 1)) return a;
  if (op === '%' && isInt(b, 1)) return int(0);
  return { k: 'ix', op, a, b };
}

export const add = (a: KExpr, b: KExpr): KExpr => ix('+', a, b);
export const mul = (a: KExpr, b: KExpr): KExpr => ix('*', a, b);
export const cmp = (op: CompareOp, a: KExpr, b: KExpr): KExpr => ({ k: 'cmp', op, a, b });
export const select = (c: KExpr, a: KExpr, b: KExpr, t: KScalar): KExpr => ({ k: 'select', c, a, b, t });

/** Σ idx[i] * strides[i]: the flat offset of a multi-index. */
export const dot = (idx: readonly KExpr[], strides: readonly KExpr[]): KExpr =>
  idx.reduce<KExpr>((acc, e, i) => add(acc, mul(e, strides[i]!)), int(0));

/** A loop statement with defaults. */
export function loop(
  v: string,
  hi: KExpr,
  body: readonly KStmt[],
  mode: LoopMode = 'serial',
  extra: Partial<Pick<Extract<KStmt, { k: 'for' }>, 'lo' | 'step' | 'collapse' | 'reduce' | 'simdlen'>> = {},
): KStmt {
  return { k: 'for', v, lo: extra.lo ?? int(0), hi, step: extra.step ?? 1, mode, body, ...extra };
}
