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

/** `count` standard normal samples: Box–Muller on consecutive uniform pairs of the stream (seed, key). */
export function normalStream(seed: number, key: string, count: number): Float64Array {
  const u = uniformStream(seed, key, 2 * Math.ceil(count / 2));
  const out = new Float64Array(count);
  for (let i = 0; 2 * i < count; i++) {
    const r = Math.sqrt(-2 * Math.log(1 - u[2 * i]!)); // 1 - u is in (0, 1]
    const theta = 2 * Math.PI * u[2 * i + 1]!;
    out[2 * i] = r * Math.cos(theta);
    if (2 * i + 1 < count) out[2 * i + 1] = r * Math.sin(theta);
  }
  return out;
}

function truncNormal(seed: number, key: string, count: number, mean: number, std: number, a: number, b: number) {
  if (!(a < b)) throw new RangeError(`trunc_normal: bounds [${a}, ${b}] are empty`);
  const out = normalStream(seed, key, count).map((z) => mean + std * z);
  for (let round = 1; round <= 64; round++) {
    const bad = out.findIndex((v) => v < a || v > b);
    if (bad < 0) return out;
    const redraw = normalStream(seed, `${key}#${round}`, count);
    for (let i = bad; i < count; i++) if (out[i]! < a || out[i]! > b) out[i] = mean + std * redraw[i]!;
  }
  return out.map((v) => Math.min(b, Math.max(a, v)));
}

/** `a + b·x` for every element, in place (a loop: weights can have hundreds of millions). */
function affine(xs: Float64Array, a: number, b: number): Float64Array {
  for (let i = 0; i < xs.length; i++) xs[i] = a + b * xs[i]!;
  return xs;
}

const uniformIn = (seed: number, key: string, count: number, low: number, high: number): Float64Array =>
  affine(uniformStream(seed, key, count), low, high - low);

/** Initial values of a param or buffer (f64, before rounding to its dtype). */
function initValues(p: OpArgs['param'], shape: readonly number[], seed: number): Float64Array {
  const n = shapeSize(shape);
  const key = `param:${p.path}`;
  const arg = (name: string, dflt: number): number => p.init.args[name] ?? dflt;
  const fanOut = shape[0] ?? 1;
  const fanIn = shapeSize(shape.slice(1));
  const normal = (mean: number, std: number) => affine(normalStream(seed, key, n), mean, std);
  const uniform = (low: number, high: number) => uniformIn(seed, key, n, low, high);
  const kaimingGain = Math.sqrt(2 / (1 + arg('a', 0) ** 2));
  switch (p.init.fn) {
    case 'zeros':
      return new Float64Array(n);
    case 'ones':
      return new Float64Array(n).fill(1);
    case 'constant': {
      const v = p.init.args['value'];
      if (v === undefined) throw new RangeError(`constant() initializer of '${p.path}' has no value`);
      return new Float64Array(n).fill(v);
    }
    case 'normal':
      return normal(arg('mean', 0), arg('std', 1));
    case 'uniform':
      return uniform(arg('low', -1), arg('high', 1));
    case 'trunc_normal': {
      const std = arg('std', 0.02);
      return truncNormal(seed, key, n, arg('mean', 0), std, arg('a', -2), arg('b', 2));
    }
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
 * The initial value of a param or buffer under concrete dims: deterministic in (seed, p.path)
 * only, rounded to the param's dtype. Missing initializer arguments take their defaults.
 */
export function initParam(p: OpArgs['param'], dims: ReadonlyMap<string, number>, seed: number): HostTensor {
  const shape = concreteShape(p.shape, dims);
  const values = initValues(p, shape, seed);
  // f32 (nearly every weight) rounds in bulk through a Float32Array; other dtypes one by one.
  const data =
    p.dtype === 'f32' ? Float64Array.from(Float32Array.from(values)) : values.map((v) => roundTo(p.dtype, v));
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
