// The safetensors writer; see safetensors.ts for the format and its limits.

import { constants as bufferConstants } from 'node:buffer';
import { type HostTensor, showDims, showShape } from '../ir/value.js';
import {
  DTYPE_TO_ST,
  LONE_SURROGATE,
  MAX_HEADER_BYTES,
  ST_ELEMENT_BYTES,
  SafetensorsError,
  encodeInto,
  quote,
} from './safetensors-codec.js';

type Fail = (detail: string) => SafetensorsError;
const ENCODER = new TextEncoder();
const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * Encodes tensors (and string metadata) as a safetensors file. Names are sorted by their UTF-8
 * bytes and data is laid out in that order; the header is padded with spaces to a multiple of
 * 8 bytes. Values are converted to the dtype as `roundTo` does; `i4` is written as I8.
 */
export function writeSafetensors(
  tensors: ReadonlyMap<string, HostTensor> | Iterable<[string, HostTensor]>,
  metadata?: Record<string, string>,
): Uint8Array {
  const bad: Fail = (detail) => new SafetensorsError(`safetensors: ${detail}`);
  const items: { name: string; t: HostTensor; count: number }[] = [];
  const seen = new Set<string>();
  for (const [name, t] of tensors) {
    if (typeof name !== 'string' || name === '') throw bad('tensor names must be non-empty strings');
    if (name === '__metadata__') throw bad('"__metadata__" cannot name a tensor');
    if (LONE_SURROGATE.test(name)) throw bad(`tensor ${quote(name)}: name has a lone surrogate`);
    if (seen.has(name)) throw bad(`tensor ${quote(name)} is given twice`);
    seen.add(name);
    items.push({ name, t, count: checkTensor(name, t, bad) });
  }
  items.sort((x, y) => byUtf8(x.name, y.name));
  const parts: string[] = [];
  const keys = Object.keys(metadata ?? {}).sort(byUtf8);
  for (const k of keys) {
    const s: unknown = metadata![k];
    if (typeof s !== 'string') throw bad(`__metadata__ ${quote(k)} must be a string, got ${typeof s}`);
    if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(s)) throw bad(`__metadata__ ${quote(k)} has a lone surrogate`);
  }
  if (keys.length > 0) {
    const entries = keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata![k])}`);
    parts.push(`"__metadata__":{${entries.join(',')}}`);
  }
  let size = 0;
  const at: number[] = [];
  for (const { name, t, count } of items) {
    const end = size + count * ST_ELEMENT_BYTES[t.dtype];
    const desc = `{"dtype":"${DTYPE_TO_ST[t.dtype]}","shape":[${t.shape.join(',')}],"data_offsets":[${size},${end}]}`;
    parts.push(`${JSON.stringify(name)}:${desc}`);
    at.push(size);
    size = end;
  }
  const json = ENCODER.encode(`{${parts.join(',')}}`);
  const n = Math.ceil(json.length / 8) * 8;
  if (n > MAX_HEADER_BYTES) throw bad(`header of ${n} bytes exceeds the format's limit of ${MAX_HEADER_BYTES} bytes`);
  if (8 + n + size > bufferConstants.MAX_LENGTH) throw bad(`${8 + n + size} bytes is too large for one buffer`);
  const out = new Uint8Array(8 + n + size);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  items.forEach(({ t, count }, i) => {
    // An i64 tensor's exact values when it has them (its float64s lose bits beyond ±2^53).
    if (t.dtype === 'i64' && t.exact instanceof BigInt64Array && t.exact.length === count)
      for (let k = 0; k < count; k++) view.setBigInt64(8 + n + at[i]! + 8 * k, t.exact[k]!, true);
    else encodeInto(view, 8 + n + at[i]!, t.dtype, t.data);
  });
  return out;
}

/** Checks one tensor to write, returning its element count. */
function checkTensor(name: string, t: HostTensor, bad: Fail): number {
  const where = `tensor ${quote(name)}`;
  if (typeof t !== 'object' || t === null || !Object.hasOwn(DTYPE_TO_ST, t.dtype)) {
    throw bad(`${where}: not a host tensor with a known dtype`);
  }
  if (!Array.isArray(t.shape)) throw bad(`${where}: shape is not an array`);
  for (const d of t.shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw bad(`${where}: shape ${showDims(t.shape)} has a bad dim ${d}`);
  }
  let count = t.shape.includes(0) ? 0 : 1;
  for (const d of count === 0 ? [] : t.shape) {
    count *= d;
    if (count > Number.MAX_SAFE_INTEGER) {
      throw bad(`${where}: the element count of ${showShape(t.dtype, t.shape)} overflows`);
    }
  }
  const len: unknown = (t.data as { length?: unknown } | undefined)?.length;
  if (len !== count) throw bad(`${where}: ${String(len)} values for ${showShape(t.dtype, t.shape)}`);
  return count;
}
