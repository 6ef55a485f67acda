// Separable addressing for the packed GEMM. A GEMM reads its operands at (row, k), where each
// is a flat index over a group of einsum letters; through the views a convolution puts in
// front of its product (reshape, window, permute, a grouped channel split), the buffer
// address is a formula of both with divisions and remainders in it, evaluated per element
// while packing. When that formula is a sum of a part of the row and a part of k (an affine
// view: every term depends on one of them), the address is rowOff(row) + kOff(k), and the
// packing computes the two parts once per panel row and once per k into small tables, so
// its inner loop divides nothing.

import { type KExpr, int, ix, mapChildren } from '../ir/kernel.js';

/** Whether `e` reads the variable `name`. */
export function mentions(e: KExpr, name: string): boolean {
  if (e.k === 'var') return e.name === name;
  let found = false;
  mapChildren(e, (x) => {
    found ||= mentions(x, name);
    return x;
  });
  return found;
}

/** `e` with variables replaced by `env`'s expressions. */
export function substitute(e: KExpr, env: ReadonlyMap<string, KExpr>): KExpr {
  if (e.k === 'var') return env.get(e.name) ?? e;
  return mapChildren(e, (x) => substitute(x, env));
}

/** Whether index `e` is a sum of terms each depending on at most one of variables `r` and `k`. */
function splits(e: KExpr, r: string, k: string): boolean {
  const [hasR, hasK] = [mentions(e, r), mentions(e, k)];
  if (!hasR || !hasK) return true;
  if (e.k !== 'ix') return false;
  if (e.op === '+' || e.op === '-') return splits(e.a, r, k) && splits(e.b, r, k);
  if (e.op === '*') {
    const free = (x: KExpr): boolean => !mentions(x, r) && !mentions(x, k);
    return (free(e.a) && splits(e.b, r, k)) || (free(e.b) && splits(e.a, r, k));
  }
  return false;
}

/** Whether `e` divides or takes a remainder of something that depends on `r` or `k` (else it is cheap as it is). */
export function divides(e: KExpr, r: string, k: string): boolean {
  if (e.k === 'ix' && (e.op === '/' || e.op === '%') && (mentions(e.a, r) || mentions(e.a, k))) return true;
  let found = false;
  mapChildren(e, (x) => {
    found ||= divides(x, r, k);
    return x;
  });
  return found;
}

/**
 * A value `v` read at row variable `r` and k variable `k`, split: `rowOff(row)` and
 * `kOff(k)` are the two parts of the one address it loads (their sum is the address), and
 * `at(address)` is the value read there. Undefined when `v` reads more than one address
 * that depends on r or k, uses them elsewhere (a padding test), or its address does not
 * split; also when it divides nothing (a plain matrix: its contiguous loads stay as they are).
 */
export function splitOperand(
  v: KExpr,
  r: string,
  k: string,
): { rowOff: (row: KExpr) => KExpr; kOff: (k: KExpr) => KExpr; at: (address: KExpr) => KExpr } | undefined {
  const loads: Extract<KExpr, { k: 'load' }>[] = [];
  const walk = (e: KExpr): KExpr => {
    if (e.k === 'load' && (mentions(e.index, r) || mentions(e.index, k))) {
      loads.push(e);
      return { k: 'var', name: '\0load', t: e.t };
    }
    return mapChildren(e, walk);
  };
  const rest = walk(v);
  if (loads.length !== 1 || mentions(rest, r) || mentions(rest, k)) return undefined;
  const load = loads[0]!;
  const index = load.index;
  if (!divides(index, r, k) || !splits(index, r, k)) return undefined;
  const zero = int(0);
  const at0 = (rv: KExpr, kv: KExpr): KExpr =>
    substitute(
      index,
      new Map([
        [r, rv],
        [k, kv],
      ]),
    );
  return {
    rowOff: (row) => at0(row, zero),
    kOff: (kv) => ix('-', at0(zero, kv), at0(zero, zero)),
    at: (address) => substitute(rest, new Map([['\0load', { ...load, index: address }]])),
  };
}
