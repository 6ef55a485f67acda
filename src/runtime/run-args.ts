// The arguments of one call, taken as a snapshot (issue 17, items 1 and 4). User code can run
// whenever a property of the arguments is read: getters on the inputs object or the options, a
// Tensor subclass overriding `dtype`, `dims` or `data`, Proxies, `toJSON` or `valueOf` on the
// options' dims; and that code can shrink a resizable ArrayBuffer or transfer one. So every
// property is read exactly once, into plain values (`readTensor`, `readDims`); only after all of
// them have been read are the buffers measured, with the engine's own getters captured when this
// module loads (`pin`), and those exact buffers, offsets and byte counts go to the native call,
// which checks the byte counts against the buffers once more. Inputs on a resizable or shared
// buffer are copied, so nothing can change their length or contents under the kernels.

import type { Dtype } from '../ir/dtype.js';
import { ELEMENT_BYTES, Tensor, TensorError } from './tensor.js';

/** A user error in a call: bad input names, dtypes, shapes, values or dims. */
export class RunError extends Error {
  override name = 'RunError';
}

// The engine's getters, captured before any user code could replace them on the prototypes.
type Getter = (this: unknown) => unknown;
const TYPED_ARRAY = Object.getPrototypeOf(Uint8Array.prototype) as object;
const getter = (o: object, key: PropertyKey): Getter => Object.getOwnPropertyDescriptor(o, key)!.get as Getter;
const apply = Reflect.apply;
const TA_BUFFER = getter(TYPED_ARRAY, 'buffer');
const TA_BYTE_OFFSET = getter(TYPED_ARRAY, 'byteOffset');
const TA_LENGTH = getter(TYPED_ARRAY, 'length');
const TA_TAG = getter(TYPED_ARRAY, Symbol.toStringTag);
const AB_RESIZABLE = getter(ArrayBuffer.prototype, 'resizable') as Getter | undefined;
const AB_BYTE_LENGTH = getter(ArrayBuffer.prototype, 'byteLength');
const TA_SET = (TYPED_ARRAY as { set: (this: Uint8Array, src: Uint8Array) => void }).set;
const U8 = Uint8Array;
const U32 = Uint32Array;
const AB = ArrayBuffer;
const isSafeInteger = Number.isSafeInteger;
const isArray = Array.isArray;

/** The typed array each dtype's data must be (its [[TypedArrayName]]). */
const ARRAY_NAME: Readonly<Record<Dtype, string>> = {
  f32: 'Float32Array',
  f16: 'Uint16Array',
  bf16: 'Uint16Array',
  i8: 'Int8Array',
  i4: 'Int8Array',
  i32: 'Int32Array',
  i64: 'BigInt64Array',
  bool: 'Uint8Array',
};

/** A tensor argument as read once: its dims copied, its data a genuine typed array (not yet measured). */
export interface TensorArg {
  readonly dims: readonly number[];
  readonly data: object;
}

/** Bytes of memory the kernels see: `bytes` from `offset` in `buffer`. */
export interface Pinned {
  readonly buffer: ArrayBuffer;
  readonly offset: number;
  readonly bytes: number;
  /** Whether this is the caller's own memory (not a copy or a fresh buffer). */
  readonly inPlace: boolean;
}

const typeName = (x: unknown): string => (x === null ? 'null' : typeof x);

/**
 * Reads a Tensor argument's dtype, dims and data once each; `what` names it in errors
 * ("input 'x'"). Checks the dtype and rank against `want` (as "f32[B, 4]").
 */
export function readTensor(what: string, t: unknown, dtype: Dtype, rank: number, want: string): TensorArg {
  if (!(t instanceof Tensor)) throw new RunError(`${what} is not a Tensor`);
  let d: unknown, dims: unknown, data: unknown;
  try {
    d = t.dtype;
    dims = t.dims;
    data = t.data;
  } catch (e) {
    if (e instanceof TensorError) throw new RunError(`${what}: ${e.message}`);
    throw e;
  }
  if (d !== dtype) throw new RunError(`${what} has dtype ${typeof d === 'string' ? d : typeName(d)}, expected ${want}`);
  const shape = readDims(what, dims, rank, want);
  const name = apply(TA_TAG, data, []) as string | undefined;
  if (name !== ARRAY_NAME[dtype])
    throw new RunError(
      `${what}: a ${dtype} tensor's data must be a ${ARRAY_NAME[dtype]}, got ${name ?? typeName(data)}`,
    );
  return { dims: shape, data: data as object };
}

/** Copies dims into numbers, reading `length` and each element once. */
function readDims(what: string, dims: unknown, rank: number, want: string): number[] {
  if (!isArray(dims)) throw new RunError(`${what}: dims must be an array, got ${typeName(dims)}`);
  const n: unknown = dims.length;
  if (typeof n !== 'number' || !isSafeInteger(n) || n < 0)
    throw new RunError(`${what}: dims has a bad length (${typeName(n)})`);
  if (n !== rank) {
    // Dims are shown only while short: the length of a Proxy is whatever it says.
    const shown = n <= 16 ? ` ([${Array.from({ length: n }, (_, i) => String(dims[i])).join(', ')}])` : '';
    throw new RunError(`${what} has rank ${n}${shown}, expected ${want}`);
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const v: unknown = dims[i];
    if (typeof v !== 'number' || !isSafeInteger(v) || v < 0)
      throw new RunError(`${what}: dim ${i} is ${typeof v === 'number' ? v : typeName(v)}, not a non-negative integer`);
    out.push(v);
  }
  return out;
}

/** Copies the `dims` option into a map of numbers, reading each property once. */
export function readDimsOption(given: unknown): Map<string, number> | undefined {
  if (given === undefined) return undefined;
  if (given === null || typeof given !== 'object') throw new RunError(`dims must be an object of numbers by name`);
  const out = new Map<string, number>();
  for (const key of Object.keys(given)) {
    const v: unknown = (given as Record<string, unknown>)[key];
    if (typeof v !== 'number') throw new RunError(`dim '${key}' is ${typeName(v)}, not a non-negative integer`);
    out.set(key, v);
  }
  return out;
}

/** Checks the `timings` option (read once) is a Float64Array of `count` slots. */
export function checkTimings(timings: unknown, count: number): Float64Array | undefined {
  if (timings === undefined) return undefined;
  if (apply(TA_TAG, timings, []) !== 'Float64Array')
    throw new RunError(`timings must be a Float64Array, got ${typeName(timings)}`);
  const n = apply(TA_LENGTH, timings, []) as number;
  if (n !== count) throw new RunError(`timings needs ${count} slots, got ${n}`);
  return timings as Float64Array;
}

type BufferKind = 'fixed' | 'resizable' | 'shared';

/** What backs a typed array: a fixed-length ArrayBuffer, a resizable one, or a SharedArrayBuffer. */
function bufferKind(buffer: unknown): BufferKind {
  try {
    if (AB_RESIZABLE) return apply(AB_RESIZABLE, buffer, []) ? 'resizable' : 'fixed';
    apply(AB_BYTE_LENGTH, buffer, []);
    return 'fixed';
  } catch {
    return 'shared'; // the ArrayBuffer getters throw on a SharedArrayBuffer
  }
}

/** A fresh zeroed ArrayBuffer of `bytes`, or a RunError saying what did not fit. */
export function newBuffer(bytes: number, what: string): ArrayBuffer {
  try {
    return new AB(bytes);
  } catch (e) {
    if (e instanceof RangeError)
      throw new RunError(
        `cannot allocate ${bytes.toLocaleString('en-US')} bytes for ${what} at these sizes (${e.message})`,
      );
    throw e;
  }
}

/** Host memory for one call: `bytes` zeroed bytes from `offset` in `buffer` (the CPU aligns them). */
export type Allocate = (bytes: number, what: string) => { buffer: ArrayBuffer; offset: number };

/** Unaligned host memory (what the GPU's staging needs). */
export const plainAllocate: Allocate = (bytes, what) => ({ buffer: newBuffer(bytes, what), offset: 0 });

/**
 * Measures an argument's data now that no user code will run before the kernels: it must hold
 * exactly the elements its dims need. An input on a resizable or shared buffer is copied (into
 * memory from `allocate`);
 * `inPlaceOnly` (outputs written into) refuses one instead.
 */
export function pin(what: string, arg: TensorArg, dtype: Dtype, allocate: Allocate, inPlaceOnly = false): Pinned {
  const size = arg.dims.reduce((a, b) => a * b, 1);
  const length = apply(TA_LENGTH, arg.data, []) as number;
  if (length !== size)
    throw new RunError(`${what} holds ${length} elements, its dims [${arg.dims.join(', ')}] need ${size}`);
  const bytes = length * ELEMENT_BYTES[dtype];
  if (bytes === 0) return { buffer: new AB(0), offset: 0, bytes: 0, inPlace: false };
  const buffer = apply(TA_BUFFER, arg.data, []) as ArrayBuffer;
  const offset = apply(TA_BYTE_OFFSET, arg.data, []) as number;
  const kind = bufferKind(buffer);
  if (kind === 'fixed') return { buffer, offset, bytes, inPlace: true };
  if (inPlaceOnly)
    throw new RunError(
      `${what} is on a ${kind === 'shared' ? 'SharedArrayBuffer' : 'resizable ArrayBuffer'}: ` +
        'outputs are written in place and need a fixed-length ArrayBuffer',
    );
  const staged = allocate(bytes, what);
  apply(TA_SET, new U8(staged.buffer, staged.offset, bytes), [new U8(buffer, offset, bytes)]);
  return { ...staged, bytes, inPlace: false };
}

/**
 * Checks the values of a bool or i4 input as the kernels will see them (after any copy): bool
 * holds 0 or 1, i4 -8 to 7 (one value per byte). Other dtypes take every bit pattern.
 */
export function checkValues(what: string, p: Pinned, dtype: Dtype, dims: readonly number[]): void {
  if (dtype !== 'bool' && dtype !== 'i4') return;
  const bad = dtype === 'bool' ? firstBadByte(p, 0, 0xfe) : firstBadByte(p, 8, 0xf0);
  if (bad < 0) return;
  const raw = new U8(p.buffer, p.offset + bad, 1)[0]!;
  const value = dtype === 'bool' ? raw : (raw << 24) >> 24;
  throw new RunError(
    `${what} element ${bad} (${coordinates(bad, dims)}) is ${value}: ` +
      (dtype === 'bool' ? 'a bool holds 0 or 1' : 'an i4 holds -8 to 7'),
  );
}

/** [i, j, ...] of flat index `k` in a row-major tensor of `dims`. */
function coordinates(k: number, dims: readonly number[]): string {
  const out: number[] = [];
  for (let a = dims.length - 1; a >= 0; a--) {
    out.push(k % dims[a]!);
    k = Math.floor(k / dims[a]!);
  }
  return `[${out.reverse().join(', ')}]`;
}

/**
 * The index of the first byte b of `p` (as unsigned) for which ((b + add) mod 256) & mask is not
 * 0, or -1. bool: add 0, mask 0xfe (a byte other than 0 or 1). i4: add 8, mask 0xf0 (b is in
 * [-8, 7] when (b + 8) mod 256 < 16). Bytes one by one up to a 4-byte boundary, then 32-bit
 * words, OR-ed over blocks of 256 so that the all-valid case takes one test per block (about
 * 0.25 ns a byte), then the tail. For the four bytes of a word at once without carries between
 * them: add to the low seven bits of each (at most 0x7f + 8: no carry out), then put the top
 * bits back with xor.
 */
function firstBadByte(p: Pinned, add: number, mask: number): number {
  const n = p.bytes;
  const u8 = new U8(p.buffer, p.offset, n);
  const head = (4 - (p.offset % 4)) % 4;
  if (n < head + 4) return firstBadFrom(u8, 0, n, add, mask);
  const inHead = firstBadFrom(u8, 0, head, add, mask);
  if (inHead >= 0) return inHead;
  const words = Math.floor((n - head) / 4);
  const u32 = new U32(p.buffer, p.offset + head, words);
  const add4 = add * 0x01010101;
  const mask4 = mask * 0x01010101;
  for (let w = 0; w < words; w += 256) {
    const end = Math.min(words, w + 256);
    let acc = 0;
    for (let k = w; k < end; k++) {
      const x = u32[k]!;
      acc |= ((x & 0x7f7f7f7f) + add4) ^ (x & 0x80808080);
    }
    if ((acc & mask4) !== 0) return firstBadFrom(u8, head + 4 * w, n, add, mask);
  }
  return firstBadFrom(u8, head + 4 * words, n, add, mask);
}

/** The first index in [from, to) of a byte b with ((b + add) mod 256) & mask, or -1. */
function firstBadFrom(u8: Uint8Array, from: number, to: number, add: number, mask: number): number {
  for (let i = from; i < to; i++) if ((u8[i]! + add) & mask) return i;
  return -1;
}

/** Whether two pinned ranges share bytes. */
export function overlaps(a: Pinned, b: Pinned): boolean {
  return (
    a.buffer === b.buffer &&
    a.bytes > 0 &&
    b.bytes > 0 &&
    a.offset < b.offset + b.bytes &&
    b.offset < a.offset + a.bytes
  );
}
