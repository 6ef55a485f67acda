// Bounds on the key index from an attention's masks (attention-match.ts): each
// `where(c, x, -inf)` on the scores hides the elements where c is false, so every linear
// comparison among c's conjuncts (causal: s ≤ t; sliding window: t - s < W) holds wherever a
// key is visible. Read off the graph by evaluating index math symbolically: iota along the
// scores' query or key axis is t or s, constants and dims are constants, and + - · by a
// constant and movement of size-1 axes keep the form ct·t + cs·s + c.

import { type Dim, dimAdd, dimConst, dimConstValue, dimMul, dimNeg, dimSub } from '../../ir/dims.js';
import { isFloat } from '../../ir/dtype.js';
import type { Node } from '../../ir/graph.js';
import type { Role } from './attention-match.js';

/** A `full` of value v. */
export const isConst = (n: Node, v: number): boolean => n.op === 'full' && Object.is(n.args.value, v);

/** ct·t + cs·s + c over the scores' query index t and key index s (c is a dim expression). */
interface Affine {
  readonly ct: number;
  readonly cs: number;
  readonly c: Dim;
}
/** The bound ct·t + cs·s + c < 0. */
export type KeyBound = Affine;
/** Each axis of a node's index: the scores' t, s, or anything else. */
type Ax = 't' | 's' | undefined;

/** Conjuncts `ct·t + cs·s + c < 0` that every visible (xm ≠ -inf by its masks) element meets. */
export function keyBounds(xm: Node, roles: readonly Role[]): KeyBound[] {
  const axes: Ax[] = roles.map((r) => (r.k === 't' || r.k === 's' ? r.k : undefined));
  const out: KeyBound[] = [];
  // where(c, x, -inf) along the chain: each condition bounds the visible elements.
  for (let n = xm; n.op === 'where' && isConst(n.inputs[2]!, -Infinity); n = n.inputs[1]!)
    out.push(...conjuncts(n.inputs[0]!, bcast(n.inputs[0]!, axes)));
  return out.filter((b) => Math.abs(b.cs) === 1);
}

/** The axes of input `x` read at an index of a node with axes `axes` (NumPy broadcasting). */
function bcast(x: Node, axes: readonly Ax[]): Ax[] {
  const off = axes.length - x.type.shape.length;
  return x.type.shape.map((d, i) => (dimConstValue(d) === 1 ? undefined : axes[off + i]));
}

function conjuncts(n: Node, axes: readonly Ax[]): KeyBound[] {
  if (n.op === 'binary' && n.args.fn === 'and') return n.inputs.flatMap((x) => conjuncts(x, bcast(x, axes)));
  if (n.op === 'expand' || n.op === 'barrier') return conjuncts(n.inputs[0]!, bcast(n.inputs[0]!, axes));
  if (n.op === 'reshape') {
    const inner = squeezeMap(n.inputs[0]!.type.shape, n.type.shape, axes);
    return inner ? conjuncts(n.inputs[0]!, inner) : [];
  }
  if (n.op !== 'binary' || !['lt', 'le', 'gt', 'ge'].includes(n.args.fn)) return [];
  const [a, b] = n.inputs.map((x) => affine(x, bcast(x, axes)));
  if (!a || !b) return [];
  // a < b ⟺ a - b < 0; a ≤ b ⟺ a - b - 1 < 0 (integers); a > b ⟺ b - a < 0.
  const [lo, hi] = n.args.fn === 'lt' || n.args.fn === 'le' ? [a, b] : [b, a];
  const strict = n.args.fn === 'lt' || n.args.fn === 'gt';
  const c = dimSub(lo.c, hi.c);
  return [{ ct: lo.ct - hi.ct, cs: lo.cs - hi.cs, c: strict ? c : dimSub(c, dimConst(1)) }];
}

/** Axes of a reshape's input when it only adds or drops size-1 axes. */
function squeezeMap(from: readonly Dim[], to: readonly Dim[], axes: readonly Ax[]): Ax[] | undefined {
  const keep = (s: readonly Dim[]): number[] => s.flatMap((d, i) => (dimConstValue(d) === 1 ? [] : [i]));
  const [f, t] = [keep(from), keep(to)];
  if (f.length !== t.length || f.some((i, j) => from[i]!.key !== to[t[j]!]!.key)) return undefined;
  const out: Ax[] = from.map(() => undefined);
  f.forEach((i, j) => (out[i] = axes[t[j]!]));
  return out;
}

/** An integer node as ct·t + cs·s + c, when it is one. */
function affine(n: Node, axes: readonly Ax[]): Affine | undefined {
  if (isFloat(n.type.dtype) || n.type.dtype === 'bool') return undefined;
  const k = (c: Dim, ct = 0, cs = 0): Affine => ({ ct, cs, c });
  switch (n.op) {
    case 'iota': {
      const a = axes[n.args.axis];
      return a === 't' ? k(dimConst(0), 1) : a === 's' ? k(dimConst(0), 0, 1) : undefined;
    }
    case 'full':
      return Number.isSafeInteger(n.args.value) ? k(dimConst(n.args.value)) : undefined;
    case 'dim':
      return k(n.args.value);
    case 'expand':
    case 'cast':
      return affine(n.inputs[0]!, bcast(n.inputs[0]!, axes));
    case 'binary': {
      const [a, b] = n.inputs.map((x) => affine(x, bcast(x, axes)));
      if (!a || !b) return undefined;
      if (n.args.fn === 'add') return k(dimAdd(a.c, b.c), a.ct + b.ct, a.cs + b.cs);
      if (n.args.fn === 'sub') return k(dimSub(a.c, b.c), a.ct - b.ct, a.cs - b.cs);
      if (n.args.fn === 'mul') {
        const [x, y] = a.ct === 0 && a.cs === 0 ? [a, b] : [b, a];
        const f = dimConstValue(x.c);
        if (x.ct !== 0 || x.cs !== 0 || f === undefined) return undefined;
        return k(dimMul(y.c, dimConst(f)), y.ct * f, y.cs * f);
      }
      return undefined;
    }
    case 'unary':
      if (n.args.fn !== 'neg') return undefined;
      {
        const a = affine(n.inputs[0]!, axes);
        return a && k(dimNeg(a.c), -a.ct, -a.cs);
      }
    default:
      return undefined;
  }
}
