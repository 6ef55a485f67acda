// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the
// counter-based generator behind `random`, param initializers and random inputs. It is pure
// 32-bit integer arithmetic, so every machine (and every backend) produces the same bits. Long
// streams run as WebAssembly (philox-wasm.ts): the same integer arithmetic, about 6× faster.

import { philoxKernel } from './philox-wasm.js';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9; // key schedule: golden ratio
const W1 = 0xbb67ae85; // key schedule: sqrt(3) - 1

/**
 * The high 32 bits of the 64-bit product of two uint32s, from 16-bit halves: every partial
 * sum stays below 2^34, so plain doubles and unsigned shifts are exact.
 */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 0x10000)) >>> 0;
}

type Words4 = [number, number, number, number];

/** Philox4x32 with 10 rounds: four uint32 words from a 128-bit counter and a 64-bit key. */
export function philox4x32(counter: [number, number, number, number], key: [number, number]): Words4 {
  let c0 = counter[0] >>> 0;
  let c1 = counter[1] >>> 0;
  let c2 = counter[2] >>> 0;
  let c3 = counter[3] >>> 0;
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    // One round: c0 and c2 are multiplied; the high halves mix into the other words.
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  return [c0, c1, c2, c3];
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const U64 = (1n << 64n) - 1n;

/**
 * The Philox key of a stream: FNV-1a 64 over the seed (8 bytes, little-endian two's complement)
 * followed by the UTF-8 bytes of `key`, split into its low and high 32-bit halves.
 */
export function streamKey(seed: number, key: string): [number, number] {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`random seed ${seed} is not a safe integer`);
  let h = FNV_OFFSET;
  const eat = (byte: number): void => {
    h = ((h ^ BigInt(byte)) * FNV_PRIME) & U64;
  };
  const s = BigInt.asUintN(64, BigInt(seed));
  for (let i = 0n; i < 64n; i += 8n) eat(Number((s >> i) & 0xffn));
  for (const byte of Buffer.from(key, 'utf8')) eat(byte);
  return [Number(h & 0xffffffffn), Number(h >> 32n)];
}

/** The two 32-bit words of a step (its 64-bit two's complement). */
function stepWords(step: number): [number, number] {
  if (!Number.isSafeInteger(step)) throw new RangeError(`random step ${step} is not a safe integer`);
  const s = BigInt.asUintN(64, BigInt(step));
  return [Number(s & 0xffffffffn), Number(s >> 32n)];
}

/**
 * Elements [start, start + count) of the uniform stream with Philox key `k` and step words `s`,
 * one philox4x32 call per block in plain JavaScript: the definition of the stream, and what runs
 * where WebAssembly is unavailable (tests compare the fast path with it).
 */
export function uniformsByBlock(
  k: readonly [number, number],
  s: readonly [number, number],
  start: number,
  count: number,
) {
  const out = new Float64Array(count);
  for (let block = Math.floor(start / 4); block * 4 < start + count; block++) {
    const words = philox4x32([block >>> 0, Math.floor(block / 2 ** 32), s[0], s[1]], [k[0], k[1]]);
    for (let j = 0; j < 4; j++) {
      const i = block * 4 + j - start;
      if (i >= 0 && i < count) out[i] = (words[j]! >>> 8) / 2 ** 24;
    }
  }
  return out;
}

/** Most values one uniformsAt call returns (8 MiB of f64s in the kernel's memory). */
export const UNIFORM_PIECE = 1 << 20;

/** The map x → a + b·x, then rounded to f32 (Math.fround) if `f32`. */
export interface Affine {
  readonly a: number;
  readonly b: number;
  readonly f32: boolean;
}
/** The identity as an Affine (-0 + x is x for every x, +0 and -0 included). */
export const IDENTITY: Affine = { a: -0, b: 1, f32: false };

/**
 * Elements [start, start + count) of a uniform stream (count ≤ UNIFORM_PIECE), mapped by `map` (an Affine):
 * element start + i is `u[at + i]`. `u` may be the WebAssembly kernel's memory, overwritten by the
 * next call: read it first.
 */
export function uniformsAt(
  k: readonly [number, number],
  s: readonly [number, number],
  start: number,
  count: number,
  map: Affine = IDENTITY,
): { u: Float64Array; at: number } {
  const kernel = philoxKernel();
  if (!kernel || count > UNIFORM_PIECE) {
    const u = uniformsByBlock(k, s, start, count);
    for (let i = 0; i < count; i++) u[i] = map.a + map.b * u[i]!;
    if (map.f32) for (let i = 0; i < count; i++) u[i] = Math.fround(u[i]!);
    return { u, at: 0 };
  }
  const first = Math.floor(start / 4);
  const blocks = Math.ceil((start + count) / 4) - first;
  kernel.reserve(4 * blocks);
  const fill = map.f32 ? kernel.uniformsF32 : kernel.uniforms;
  fill(k[0], k[1], s[0], s[1], first >>> 0, Math.floor(first / 2 ** 32), blocks, map.a, map.b);
  return { u: kernel.view(), at: start - 4 * first };
}

/**
 * `count` uniform values in [0, 1), each a multiple of 2^-24 (so exactly representable in f32).
 * Element i is word i % 4 of philox4x32([i / 4 (low 32 bits), i / 4 (high bits), step (low), step (high)],
 * streamKey(seed, key)), whose 24 high bits are scaled by 2^-24. A prefix of a longer stream equals the
 * shorter stream; `step` (a non-negative integer below 2^53, default 0) picks one of 2^64 streams.
 * `start` gives elements [start, start + count) of the stream instead (for drawing in pieces).
 */
export function uniformStream(seed: number, key: string, count: number, step = 0, start = 0): Float64Array {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`bad random count ${count}`);
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`bad random start ${start}`);
  const s = stepWords(step);
  const k = streamKey(seed, key);
  const out = new Float64Array(count);
  for (let i0 = 0; i0 < count; i0 += UNIFORM_PIECE) {
    const n = Math.min(UNIFORM_PIECE, count - i0);
    const { u, at } = uniformsAt(k, s, start + i0, n);
    out.set(u.subarray(at, at + n), i0);
  }
  return out;
}
