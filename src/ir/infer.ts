// Type rules of the primitive ops: the result dtype and shape from args and input types.
// Used by the builder (every node is typed when made) and by the verifier.

import {
  type Dim,
  dimAdd,
  dimConst,
  dimConstValue,
  dimEquals,
  dimFloorDiv,
  dimMul,
  dimSub,
  dimToString,
} from './dims.js';
import { isFloat, isInt } from './dtype.js';
import { IRError, type TType } from './type.js';
import { ARITY, isCompare, type Op } from './ops.js';

const ONE = dimConst(1);
const isOne = (d: Dim) => dimConstValue(d) === 1;
const shapeText = (s: readonly Dim[]) => `[${s.map(dimToString).join(', ')}]`;

/** NumPy broadcasting of shapes; symbolic dims must be equal or one side the literal 1. */
export function broadcastShapes(shapes: readonly (readonly Dim[])[]): readonly Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = ONE;
    for (const s of shapes) {
      const x = s[s.length - rank + i];
      if (x === undefined || isOne(x)) continue;
      if (isOne(d)) d = x;
      else if (!dimEquals(d, x)) throw new IRError(`cannot broadcast ${shapes.map(shapeText).join(' with ')}`);
    }
    out.push(d);
  }
  return out;
}

export const numel = (s: readonly Dim[]): Dim => s.reduce<Dim>((a, d) => dimMul(a, d), ONE);

function checkAxes(axes: readonly number[], rank: number, what: string): void {
  const seen = new Set<number>();
  for (const a of axes) {
    if (!Number.isInteger(a) || a < 0 || a >= rank || seen.has(a)) throw new IRError(`${what}: bad axis ${a}`);
    seen.add(a);
  }
}

/** Parses a letters-only einsum spec into its operand and output letter lists. */
export function parseEinsum(spec: string, operands: number): { ins: string[]; out: string } {
  const m = /^([a-zA-Z]*(?:,[a-zA-Z]*)?)->([a-zA-Z]*)$/.exec(spec);
  if (!m) throw new IRError(`einsum: bad spec "${spec}"`);
  const ins = m[1]!.split(',');
  const out = m[2]!;
  if (ins.length !== operands) throw new IRError(`einsum: spec "${spec}" needs ${ins.length} operands`);
  for (const s of [...ins, out])
    if (new Set(s).size !== s.length) throw new IRError(`einsum: repeated letter in "${s}"`);
  for (const c of out) if (!ins.some((s) => s.includes(c))) throw new IRError(`einsum: output letter ${c} is unbound`);
  return { ins, out };
}

/** The result type of `op` applied to inputs of types `t`; throws IRError when the op is malformed. */
export function inferType(op: Op, t: readonly TType[]): TType {
  const arity = ARITY[op.op];
  const [lo, hi] = typeof arity === 'number' ? [arity, arity] : arity;
  if (t.length < lo || t.length > hi) throw new IRError(`${op.op}: ${t.length} inputs`);
  const x = t[0]!;
  switch (op.op) {
    case 'input':
    case 'param':
    case 'full':
      return { dtype: op.args.dtype, shape: op.args.shape };
    case 'dim':
      return { dtype: op.args.dtype, shape: [] };
    case 'iota':
      checkAxes([op.args.axis], op.args.shape.length, 'iota');
      return { dtype: op.args.dtype, shape: op.args.shape };
    case 'random':
      if (t.length === 1 && (t[0]!.dtype !== 'i64' || t[0]!.shape.length !== 0))
        throw new IRError(`random: the step input must be i64[], got ${t[0]!.dtype}[${t[0]!.shape.length} dims]`);
      return { dtype: 'f32', shape: op.args.shape };
    case 'unary': {
      const f = op.args.fn;
      const ok = f === 'not' ? x.dtype === 'bool' : f === 'neg' || f === 'abs' ? x.dtype !== 'bool' : isFloat(x.dtype);
      if (!ok) throw new IRError(`unary ${f} on ${x.dtype}`);
      return x;
    }
    case 'binary': {
      const [a, b] = [x, t[1]!];
      const f = op.args.fn;
      if (a.dtype !== b.dtype) throw new IRError(`binary ${f}: ${a.dtype} with ${b.dtype}`);
      const logic = f === 'and' || f === 'or';
      if (logic !== (a.dtype === 'bool') && !(a.dtype === 'bool' && (f === 'eq' || f === 'ne')))
        throw new IRError(`binary ${f} on ${a.dtype}`);
      return { dtype: isCompare(f) ? 'bool' : a.dtype, shape: broadcastShapes([a.shape, b.shape]) };
    }
    case 'where': {
      const [c, a, b] = t as [TType, TType, TType];
      if (c.dtype !== 'bool' || a.dtype !== b.dtype) throw new IRError(`where: ${c.dtype}, ${a.dtype}, ${b.dtype}`);
      return { dtype: a.dtype, shape: broadcastShapes([c.shape, a.shape, b.shape]) };
    }
    case 'reduce': {
      const { axes, keepdim } = op.args;
      checkAxes(axes, x.shape.length, 'reduce');
      if (axes.some((a, i) => i > 0 && a < axes[i - 1]!)) throw new IRError('reduce: axes must be sorted');
      const shape = keepdim
        ? x.shape.map((d, i) => (axes.includes(i) ? ONE : d))
        : x.shape.filter((_, i) => !axes.includes(i));
      return { dtype: x.dtype, shape };
    }
    case 'reshape':
      if (!dimEquals(numel(op.args.shape), numel(x.shape)))
        throw new IRError(`reshape ${shapeText(x.shape)} to ${shapeText(op.args.shape)}`);
      return { dtype: x.dtype, shape: op.args.shape };
    case 'permute':
      if (op.args.axes.length !== x.shape.length) throw new IRError('permute: wrong number of axes');
      checkAxes(op.args.axes, x.shape.length, 'permute');
      return { dtype: x.dtype, shape: op.args.axes.map((a) => x.shape[a]!) };
    case 'expand': {
      const target = op.args.shape;
      if (target.length < x.shape.length || !dimsEqual(broadcastShapes([x.shape, target]), target))
        throw new IRError(`expand ${shapeText(x.shape)} to ${shapeText(target)}`);
      return { dtype: x.dtype, shape: target };
    }
    case 'pad':
      if (op.args.pads.length !== x.shape.length) throw new IRError('pad: one pair per axis');
      return { dtype: x.dtype, shape: x.shape.map((d, i) => dimAdd(d, dimAdd(...op.args.pads[i]!))) };
    case 'slice': {
      const { starts, sizes, steps } = op.args;
      const r = x.shape.length;
      if (starts.length !== r || sizes.length !== r || steps.length !== r)
        throw new IRError('slice: one entry per axis');
      if (steps.some((s) => !Number.isInteger(s) || s <= 0)) throw new IRError('slice: steps must be positive');
      return { dtype: x.dtype, shape: sizes };
    }
    case 'window': {
      const { axes, size, stride, dilation } = op.args;
      checkAxes(axes, x.shape.length, 'window');
      if (size.length !== axes.length || stride.length !== axes.length || dilation.length !== axes.length)
        throw new IRError('window: one size, stride and dilation per axis');
      const shape = x.shape.map((d, i) => {
        const k = axes.indexOf(i);
        if (k < 0) return d;
        const span = dilation[k]! * (size[k]! - 1) + 1;
        return dimAdd(dimFloorDiv(dimSub(d, dimConst(span)), dimConst(stride[k]!)), ONE);
      });
      return { dtype: x.dtype, shape: [...shape, ...size.map((s) => dimConst(s))] };
    }
    case 'concat': {
      const { axis } = op.args;
      checkAxes([axis], x.shape.length, 'concat');
      let len = dimConst(0);
      for (const y of t) {
        const same =
          y.dtype === x.dtype &&
          y.shape.length === x.shape.length &&
          y.shape.every((d, i) => i === axis || dimEquals(d, x.shape[i]!));
        if (!same) throw new IRError(`concat: ${shapeText(x.shape)} with ${shapeText(y.shape)}`);
        len = dimAdd(len, y.shape[axis]!);
      }
      return { dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? len : d)) };
    }
    case 'einsum': {
      const { ins, out } = parseEinsum(op.args.spec, t.length);
      const size = new Map<string, Dim>();
      t.forEach((y, k) => {
        if (y.dtype !== x.dtype) throw new IRError('einsum: operands of different dtypes');
        const letters = ins[k]!;
        if (letters.length !== y.shape.length) throw new IRError(`einsum: "${letters}" for rank ${y.shape.length}`);
        [...letters].forEach((c, i) => {
          const prev = size.get(c);
          if (prev && !dimEquals(prev, y.shape[i]!)) throw new IRError(`einsum: sizes of ${c} differ`);
          size.set(c, y.shape[i]!);
        });
      });
      return { dtype: x.dtype, shape: [...out].map((c) => size.get(c)!) };
    }
    case 'gather': {
      const idx = t[1]!;
      checkAxes([op.args.axis], x.shape.length, 'gather');
      if (!isInt(idx.dtype)) throw new IRError('gather: indices must be integers');
      const a = op.args.axis;
      return { dtype: x.dtype, shape: [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)] };
    }
    case 'scatter_add': {
      const [idx, src] = [t[1]!, t[2]!];
      const a = op.args.axis;
      checkAxes([a], x.shape.length, 'scatter_add');
      const want = [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)];
      if (!isInt(idx.dtype) || src.dtype !== x.dtype || !dimsEqual(src.shape, want))
        throw new IRError(`scatter_add: src ${shapeText(src.shape)} must be ${shapeText(want)}`);
      return x;
    }
    case 'cumsum':
      checkAxes([op.args.axis], x.shape.length, 'cumsum');
      if (x.dtype === 'bool') throw new IRError('cumsum on bool');
      return x;
    case 'cast':
      return { dtype: op.args.dtype, shape: x.shape };
    case 'barrier':
      if (typeof op.args.key !== 'string') throw new IRError('barrier: the key must be a string');
      return x;
    case 'topk': {
      const { k, axis, output } = op.args;
      checkAxes([axis], x.shape.length, 'topk');
      const n = dimConstValue(x.shape[axis]!);
      if (!Number.isInteger(k) || k < 1 || (n !== undefined && k > n)) throw new IRError(`topk: k = ${k}`);
      const shape = x.shape.map((d, i) => (i === axis ? dimConst(k) : d));
      return { dtype: output === 'values' ? x.dtype : 'i32', shape };
    }
  }
}

export const dimsEqual = (a: readonly Dim[], b: readonly Dim[]): boolean =>
  a.length === b.length && a.every((d, i) => dimEquals(d, b[i]!));
