// The param initializers as first written (before the fast path of init.ts): one philox4x32 call
// per block in plain JavaScript, then Box–Muller, affine maps and rounding as separate passes. It
// defines the numbers; test/ir/init-fast.test.ts checks that init.ts draws exactly these bits, and
// bench/init.ts times both.

import type { OpArgs } from './ops.js';
import { streamKey, uniformsByBlock } from './philox.js';
import { roundTo, shapeSize } from './value.js';

const PIECE = 1 << 20;

/** uniformStream, one block at a time in JavaScript. */
export function referenceUniformStream(seed: number, key: string, count: number, step = 0, start = 0): Float64Array {
  const s = BigInt.asUintN(64, BigInt(step));
  return uniformsByBlock(streamKey(seed, key), [Number(s & 0xffffffffn), Number(s >> 32n)], start, count);
}

function normalsAt(seed: number, key: string, start: number, count: number): Float64Array {
  const out = new Float64Array(count);
  const u = referenceUniformStream(seed, key, 2 * Math.ceil(count / 2), 0, start);
  for (let q = 0; 2 * q < count; q++) {
    const r = Math.sqrt(-2 * Math.log(1 - u[2 * q]!));
    const theta = 2 * Math.PI * u[2 * q + 1]!;
    out[2 * q] = r * Math.cos(theta);
    if (2 * q + 1 < count) out[2 * q + 1] = r * Math.sin(theta);
  }
  return out;
}

/** normalStream, piece by piece. */
export function referenceNormalStream(seed: number, key: string, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i0 = 0; i0 < count; i0 += PIECE) out.set(normalsAt(seed, key, i0, Math.min(PIECE, count - i0)), i0);
  return out;
}

function affine(xs: Float64Array, a: number, b: number): Float64Array {
  for (let i = 0; i < xs.length; i++) xs[i] = a + b * xs[i]!;
  return xs;
}

function truncNormalAt(seed: number, key: string, start: number, count: number, args: number[]): Float64Array {
  const [mean, std, a, b] = args as [number, number, number, number];
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

function initValues(p: OpArgs['param'], shape: readonly number[], seed: number, start: number, count: number) {
  const key = `param:${p.path}`;
  const arg = (name: string, dflt: number): number => p.init.args[name] ?? dflt;
  const fanOut = shape[0] ?? 1;
  const fanIn = shapeSize(shape.slice(1));
  const normal = (mean: number, std: number) => affine(normalsAt(seed, key, start, count), mean, std);
  const uniform = (low: number, high: number) =>
    affine(referenceUniformStream(seed, key, count, 0, start), low, high - low);
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
      return truncNormalAt(seed, key, start, count, [arg('mean', 0), arg('std', 0.02), arg('a', -2), arg('b', 2)]);
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

/** initParam's data: the values of a param of a concrete shape, rounded to its dtype. */
export function referenceInitParam(p: OpArgs['param'], shape: readonly number[], seed: number): Float64Array {
  const n = shapeSize(shape);
  const data = new Float64Array(n);
  for (let i0 = 0; i0 < n; i0 += PIECE) {
    const v = initValues(p, shape, seed, i0, Math.min(PIECE, n - i0));
    if (p.dtype === 'f32') for (let i = 0; i < v.length; i++) v[i] = Math.fround(v[i]!);
    else for (let i = 0; i < v.length; i++) v[i] = roundTo(p.dtype, v[i]!);
    data.set(v, i0);
  }
  return data;
}
