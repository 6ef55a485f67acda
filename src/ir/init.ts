// Deterministic parameter initializers and random model inputs. Every tensor draws from its
// own Philox stream keyed by (seed, name), so the same seed and path give the same numbers on
// every machine, whatever other params exist or the order they are initialized in.
//
// Conventions (docs/language.md, "param"):
// - fan_in is the product of all dims after the first and fan_out is the first dim (1 for a
//   scalar): for PyTorch's [out, in] Linear weights these are PyTorch's values; for conv
//   kernels [out, in, k...] fan_out leaves out the receptive field (PyTorch multiplies it in).
// - normal samples come from Box–Muller on pairs of the 24-bit uniforms, so |z| <= 5.77.
// - kaiming_* follow PyTorch's defaults (mode fan_in, leaky_relu with slope `a`): gain = sqrt(2 / (1 + a^2)).
// - trunc_normal(std = 0.02, mean = 0, a = -2, b = 2) follows PyTorch's nn.init.trunc_normal_:
//   `a` and `b` are absolute bounds (not multiples of std). Samples outside [a, b] are redrawn,
//   element by element, from the streams `<key>#1`, `<key>#2`, ...; after 64 redraws the
//   sample is clamped to [a, b] (only reachable when [a, b] lies far in a tail).

import { type Dtype, isFloat, isInt } from './dtype.js';
import { type Graph, liveNodes, type Node, type NodeOf } from './graph.js';
import { dimConstValue } from './dims.js';
import { concreteShape } from './interp.js';
import type { OpArgs } from './ops.js';
import { uniformStream } from './philox.js';
import { type HostTensor, roundTo, shapeSize } from './value.js';

/** Values are drawn this many at a time (even: normals come in pairs). */
export const INIT_PIECE = 1 << 20;

/**
 * Standard normal samples [start, start + count) of the stream (seed, key), `start` even:
 * Box–Muller on consecutive uniform pairs.
 */
function normalsAt(seed: number, key: string, start: number, count: number): Float64Array {
  const out = new Float64Array(count);
  const u = uniformStream(seed, key, 2 * Math.ceil(count / 2), 0, start);
  for (let q = 0; 2 * q < count; q++) {
    const r = Math.sqrt(-2 * Math.log(1 - u[2 * q]!)); // 1 - u is in (0, 1]
    const theta = 2 * Math.PI * u[2 * q + 1]!;
    out[2 * q] = r * Math.cos(theta);
    if (2 * q + 1 < count) out[2 * q + 1] = r * Math.sin(theta);
  }
  return out;
}

/** `count` standard normal samples: Box–Muller on consecutive uniform pairs of the stream (seed, key). */
export function normalStream(seed: number, key: string, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i0 = 0; i0 < count; i0 += INIT_PIECE)
    out.set(normalsAt(seed, key, i0, Math.min(INIT_PIECE, count - i0)), i0);
  return out;
}

/**
 * trunc_normal's elements [start, start + count): an element outside [a, b] is redrawn from
 * the streams `<key>#1`, `<key>#2`, ... at its own index (each element on its own), clamped
 * after 64 redraws.
 */
function truncNormalAt(seed: number, key: string, start: number, count: number, init: TruncNormal): Float64Array {
  const { mean, std, a, b } = init;
  if (!(a < b)) throw new RangeError(`trunc_normal: bounds [${a}, ${b}] are empty`);
  const out = affine(normalsAt(seed, key, start, count), mean, std);
  for (let round = 1; round <= 64; round++) {
    const bad = out.findIndex((v) => v < a || v > b);
    if (bad < 0) return out;
    const redraw = normalsAt(seed, `${key}#${round}`, start, count);
    for (let i = bad; i < count; i++) if (out[i]! < a || out[i]! > b) out[i] = mean + std * redraw[i]!;
  }
  return out.map((v) => Math.min(b, Math.max(a, v)));
}

interface TruncNormal {
  readonly mean: number;
  readonly std: number;
  readonly a: number;
  readonly b: number;
}

/** `a + b·x` for every element, in place (a loop: weights can have hundreds of millions). */
function affine(xs: Float64Array, a: number, b: number): Float64Array {
  for (let i = 0; i < xs.length; i++) xs[i] = a + b * xs[i]!;
  return xs;
}

/** Initial values [start, start + count) of a param or buffer (f64, before rounding to its dtype; `start` even). */
function initValues(p: OpArgs['param'], shape: readonly number[], seed: number, start: number, count: number) {
  const key = `param:${p.path}`;
  const arg = (name: string, dflt: number): number => p.init.args[name] ?? dflt;
  const fanOut = shape[0] ?? 1;
  const fanIn = shapeSize(shape.slice(1));
  const normal = (mean: number, std: number) => affine(normalsAt(seed, key, start, count), mean, std);
  const uniform = (low: number, high: number) => affine(uniformStream(seed, key, count, 0, start), low, high - low);
  const kaimingGain = Math.sqrt(2 / (1 + arg('a', 0) ** 2));
  switch (p.init.fn) {
    case 'zeros':
      return new Float64Array(count);
    case 'ones':
      return new Float64Array(count).fill(1);
    case 'constant': {
      const v = p.init.args['value'];
      if (v === undefined) throw new RangeError(`constant() initializer of '${p.path}' has no value`);
      return new Float64Array(count).fill(v);
    }
    case 'normal':
      return normal(arg('mean', 0), arg('std', 1));
    case 'uniform':
      return uniform(arg('low', -1), arg('high', 1));
    case 'trunc_normal':
      return truncNormalAt(seed, key, start, count, {
        mean: arg('mean', 0),
        std: arg('std', 0.02),
        a: arg('a', -2),
        b: arg('b', 2),
      });
    case 'xavier_uniform': {
      const bound = arg('gain', 1) * Math.sqrt(6 / (fanIn + fanOut));
      return uniform(-bound, bound);
    }
    case 'xavier_normal':
      return normal(0, arg('gain', 1) * Math.sqrt(2 / (fanIn + fanOut)));
    case 'kaiming_uniform': {
      const bound = kaimingGain * Math.sqrt(3 / fanIn);
      return uniform(-bound, bound);
    }
    case 'kaiming_normal':
      return normal(0, kaimingGain / Math.sqrt(fanIn));
  }
}

/**
 * The initial value of a param or buffer in pieces of at most INIT_PIECE values, rounded to
 * its dtype: `take(start, values)` for each piece in order. A caller that stores each piece
 * (in the param's own dtype) holds one piece of float64s at a time.
 */
export function initParamPieces(
  p: OpArgs['param'],
  shape: readonly number[],
  seed: number,
  take: (start: number, values: Float64Array) => void,
): void {
  const n = shapeSize(shape);
  for (let i0 = 0; i0 < n; i0 += INIT_PIECE) {
    const v = initValues(p, shape, seed, i0, Math.min(INIT_PIECE, n - i0));
    if (p.dtype === 'f32') for (let i = 0; i < v.length; i++) v[i] = Math.fround(v[i]!);
    else for (let i = 0; i < v.length; i++) v[i] = roundTo(p.dtype, v[i]!);
    take(i0, v);
  }
}

/**
 * The initial value of a param or buffer under concrete dims: deterministic in (seed, p.path)
 * only, rounded to the param's dtype. Missing initializer arguments take their defaults.
 */
export function initParam(p: OpArgs['param'], dims: ReadonlyMap<string, number>, seed: number): HostTensor {
  const shape = concreteShape(p.shape, dims);
  const data = new Float64Array(shapeSize(shape));
  initParamPieces(p, shape, seed, (start, v) => data.set(v, start));
  return { dtype: p.dtype, shape, data };
}

/** The exclusive upper bound allowed for random integers of a dtype. */
function intLimit(d: Dtype): number {
  return d === 'i4' ? 8 : d === 'i8' ? 128 : d === 'i32' ? 2 ** 31 : Number.MAX_SAFE_INTEGER;
}

/**
 * A random value for a model input, keyed by (seed, input name): floats standard normal
 * (rounded to the dtype), bool 0 or 1 with equal probability, integers uniform in
 * [0, intHigh) (each from two 24-bit uniforms, 48 bits in all). RangeError if intHigh is not
 * a positive integer within the dtype's range.
 */
export function randomInput(
  node: NodeOf<'input'>,
  dims: ReadonlyMap<string, number>,
  seed: number,
  intHigh = 2,
): HostTensor {
  const { name, dtype } = node.args;
  const shape = concreteShape(node.args.shape, dims);
  const n = shapeSize(shape);
  const key = `input:${name}`;
  let data: Float64Array;
  if (isFloat(dtype)) data = normalStream(seed, key, n).map((z) => roundTo(dtype, z));
  else if (!isInt(dtype)) data = uniformStream(seed, key, n).map((u) => (u < 0.5 ? 0 : 1));
  else {
    if (!Number.isSafeInteger(intHigh) || intHigh < 1 || intHigh > intLimit(dtype))
      throw new RangeError(`random ${dtype} input '${name}': bad upper bound ${intHigh}`);
    const u = uniformStream(seed, key, 2 * n);
    data = new Float64Array(n).map((_, i) => Math.floor((u[2 * i]! + u[2 * i + 1]! / 2 ** 24) * intHigh));
  }
  return { dtype, shape, data };
}

/**
 * The exclusive upper bound for random integer inputs: the size of the table an input
 * indexes (token ids into an embedding), or of the class axis it is compared with (labels
 * in one_hot); 2 when neither is visible.
 */
export function indexBound(g: Graph, input: NodeOf<'input'>): number | undefined {
  const live = liveNodes(g);
  const through = new Set<Node>([input]);
  for (const n of live) {
    if (!n.inputs.some((i) => through.has(i))) continue;
    if (n.op === 'cast' || n.op === 'reshape' || n.op === 'expand' || n.op === 'slice') through.add(n);
    if (n.op === 'gather' && through.has(n.inputs[1]!)) {
      const size = dimConstValue(n.inputs[0]!.type.shape[n.args.axis]!);
      if (size !== undefined) return size;
    }
    if (n.op === 'binary' && n.args.fn === 'eq') {
      const other = n.inputs.find((i) => !through.has(i));
      if (other?.op === 'iota') {
        const size = dimConstValue(other.type.shape[other.args.axis]!);
        if (size !== undefined) return size;
      }
    }
  }
  return undefined;
}
