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
import { type Affine, IDENTITY, streamKey, uniformsAt, uniformStream } from './philox.js';
import { type HostTensor, roundTo, shapeSize } from './value.js';

/** Values are drawn this many at a time (even: normals come in pairs; small: they stay in cache). */
export const INIT_PIECE = 1 << 14;

type Key = readonly [number, number];
const STEP0: Key = [0, 0];

/**
 * Normal samples [start, start + out.length) of the stream with Philox key k, `start` even, into
 * `out` (out.length ≤ INIT_PIECE): Box–Muller on consecutive uniform pairs, each sample z mapped
 * to `map` (the identity gives standard normals).
 */
function normalsInto(out: Float64Array, k: Key, start: number, map: Affine): void {
  const count = out.length;
  const { a, b, f32 } = map;
  const { u, at } = uniformsAt(k, STEP0, start, 2 * Math.ceil(count / 2));
  for (let q = 0; 2 * q < count; q++) {
    const r = Math.sqrt(-2 * Math.log(1 - u[at + 2 * q]!)); // 1 - u is in (0, 1]
    const theta = 2 * Math.PI * u[at + 2 * q + 1]!;
    const x0 = a + b * (r * Math.cos(theta));
    out[2 * q] = f32 ? Math.fround(x0) : x0;
    if (2 * q + 1 === count) break;
    const x1 = a + b * (r * Math.sin(theta));
    out[2 * q + 1] = f32 ? Math.fround(x1) : x1;
  }
}

/** `count` standard normal samples: Box–Muller on consecutive uniform pairs of the stream (seed, key). */
export function normalStream(seed: number, key: string, count: number): Float64Array {
  const out = new Float64Array(count);
  const k = streamKey(seed, key);
  for (let i0 = 0; i0 < count; i0 += INIT_PIECE)
    normalsInto(out.subarray(i0, Math.min(count, i0 + INIT_PIECE)), k, i0, IDENTITY);
  return out;
}

interface TruncNormal {
  readonly mean: number;
  readonly std: number;
  readonly a: number;
  readonly b: number;
}

/**
 * trunc_normal's elements [start, start + out.length) into `out`: an element outside [a, b] is
 * redrawn from the streams `<key>#1`, `<key>#2`, ... at its own index (each element on its own),
 * clamped after 64 redraws.
 */
function truncNormalInto(out: Float64Array, k: Key, seed: number, key: string, start: number, init: TruncNormal) {
  const { mean, std, a, b } = init;
  if (!(a < b)) throw new RangeError(`trunc_normal: bounds [${a}, ${b}] are empty`);
  const map = { a: mean, b: std, f32: false };
  normalsInto(out, k, start, map);
  let redraw: Float64Array | undefined;
  for (let round = 1; round <= 64; round++) {
    const bad = out.findIndex((v) => v < a || v > b);
    if (bad < 0) return;
    redraw ??= new Float64Array(out.length);
    normalsInto(redraw, streamKey(seed, `${key}#${round}`), start, map);
    for (let i = bad; i < out.length; i++) if (out[i]! < a || out[i]! > b) out[i] = redraw[i]!;
  }
  for (let i = 0; i < out.length; i++) out[i] = Math.min(b, Math.max(a, out[i]!));
}

/**
 * Initial values [start, start + out.length) of a param or buffer into `out` (`start` even;
 * out.length ≤ INIT_PIECE; k is streamKey(seed, key)): rounded to f32 if the param is f32, else
 * the f64s before rounding to its dtype.
 */
function initInto(
  out: Float64Array,
  p: OpArgs['param'],
  shape: readonly number[],
  seed: number,
  k: Key,
  start: number,
) {
  const key = `param:${p.path}`;
  const f32 = p.dtype === 'f32';
  const arg = (name: string, dflt: number): number => p.init.args[name] ?? dflt;
  const fanOut = shape[0] ?? 1;
  const fanIn = shapeSize(shape.slice(1));
  const normal = (mean: number, std: number) => normalsInto(out, k, start, { a: mean, b: std, f32 });
  const uniform = (low: number, high: number) => {
    const { u, at } = uniformsAt(k, STEP0, start, out.length, { a: low, b: high - low, f32 });
    out.set(u.subarray(at, at + out.length));
  };
  const fill = (v: number) => void out.fill(f32 ? Math.fround(v) : v);
  const kaimingGain = Math.sqrt(2 / (1 + arg('a', 0) ** 2));
  switch (p.init.fn) {
    case 'zeros':
      return fill(0);
    case 'ones':
      return fill(1);
    case 'constant': {
      const v = p.init.args['value'];
      if (v === undefined) throw new RangeError(`constant() initializer of '${p.path}' has no value`);
      return fill(v);
    }
    case 'normal':
      return normal(arg('mean', 0), arg('std', 1));
    case 'uniform':
      return uniform(arg('low', -1), arg('high', 1));
    case 'trunc_normal': {
      const init = { mean: arg('mean', 0), std: arg('std', 0.02), a: arg('a', -2), b: arg('b', 2) };
      truncNormalInto(out, k, seed, key, start, init);
      if (f32) for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i]!);
      return;
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

/** Values [start, start + out.length) of a param or buffer, rounded to its dtype, into `out` (`start` even). */
function fillParam(out: Float64Array, p: OpArgs['param'], shape: readonly number[], seed: number, start: number): void {
  const k = streamKey(seed, `param:${p.path}`);
  for (let i0 = 0; i0 < out.length; i0 += INIT_PIECE) {
    const v = out.subarray(i0, Math.min(out.length, i0 + INIT_PIECE));
    initInto(v, p, shape, seed, k, start + i0);
    if (p.dtype !== 'f32') for (let i = 0; i < v.length; i++) v[i] = roundTo(p.dtype, v[i]!);
  }
}

/**
 * The initial value of a param or buffer in pieces of at most INIT_PIECE values, rounded to
 * its dtype: `take(start, values)` for each piece in order. `values` is one buffer, refilled
 * for the next piece: a caller stores each piece (in the param's own dtype) before returning.
 */
export function initParamPieces(
  p: OpArgs['param'],
  shape: readonly number[],
  seed: number,
  take: (start: number, values: Float64Array) => void,
): void {
  const n = shapeSize(shape);
  const piece = new Float64Array(Math.min(n, INIT_PIECE));
  for (let i0 = 0; i0 < n; i0 += INIT_PIECE) {
    const v = piece.subarray(0, Math.min(INIT_PIECE, n - i0));
    fillParam(v, p, shape, seed, i0);
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
  fillParam(data, p, shape, seed, 0);
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
  return indexRange(g, input)?.size;
}

/** The valid values of an integer input: [0, size), and the constants it is compared with (`ignore_index`). */
export interface IndexRange {
  readonly size: number;
  /** `classes`: compared with the class axis (cross-entropy targets); `table`: gathered from a table. */
  readonly kind: 'classes' | 'table';
  /** Values the graph compares a class target with, which it treats apart (cross_entropy's ignore_index, -100); none for a table index. */
  readonly ignored: readonly number[];
}

/** The values a range allows, for messages: `one of the model's 3 classes (0 to 2, or -100 for a target the loss ignores)`. */
export function rangeText(r: IndexRange): string {
  const apart = r.ignored.filter((v) => !(v >= 0 && v < r.size));
  const ignored = apart.length > 0 ? `, or ${apart.join(' or ')} for a target the loss ignores` : '';
  return r.kind === 'classes'
    ? `one of the model's ${r.size} classes (0 to ${r.size - 1}${ignored})`
    : `an index into the model's table of ${r.size} (0 to ${r.size - 1}${ignored})`;
}

/** indexBound with what the bound is and the constants the input is compared with. */
export function indexRange(g: Graph, input: NodeOf<'input'>): IndexRange | undefined {
  const live = liveNodes(g);
  const through = new Set<Node>([input]);
  const ignored = new Set<number>();
  let found: { size: number; kind: IndexRange['kind'] } | undefined;
  for (const n of live) {
    if (!n.inputs.some((i) => through.has(i))) continue;
    if (n.op === 'cast' || n.op === 'reshape' || n.op === 'expand' || n.op === 'slice') through.add(n);
    if (n.op === 'gather' && through.has(n.inputs[1]!)) {
      const size = dimConstValue(n.inputs[0]!.type.shape[n.args.axis]!);
      if (size !== undefined) found ??= { size, kind: 'table' };
    }
    if (n.op === 'binary' && (n.args.fn === 'eq' || n.args.fn === 'ne')) {
      const other = n.inputs.find((i) => !through.has(i));
      if (other?.op === 'iota' && n.args.fn === 'eq') {
        const size = dimConstValue(other.type.shape[other.args.axis]!);
        if (size !== undefined) found ??= { size, kind: 'classes' };
      }
      const value = other && constantOf(other);
      if (value !== undefined) ignored.add(value);
    }
  }
  // Values set apart are a class target's (ignore_index): a table index compared with a
  // constant outside the table (-1) would still be gathered, clamped to row 0.
  return found && { ...found, ignored: found.kind === 'classes' ? [...ignored].sort((a, b) => a - b) : [] };
}

/** The value of a constant tensor (`full`, possibly cast, reshaped or expanded), else undefined. */
function constantOf(n: Node): number | undefined {
  while (n.op === 'cast' || n.op === 'reshape' || n.op === 'expand') n = n.inputs[0]!;
  return n.op === 'full' ? n.args.value : undefined;
}

/** indexRange of every integer input that has one, by input name. */
export function indexRanges(g: Graph): Map<string, IndexRange> {
  const out = new Map<string, IndexRange>();
  for (const n of g.inputs) {
    const r = isInt(n.args.dtype) ? indexRange(g, n) : undefined;
    if (r !== undefined) out.set(n.args.name, r);
  }
  return out;
}
