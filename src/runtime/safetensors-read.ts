// Reading safetensors bytes already in memory, without Node imports (safetensors.ts describes
// the format and how the reader treats a file as hostile; it reads files in pieces with the
// header checks here). The browser loader (src/browser) reads fetched weights with
// readStoredSafetensors.

import type { Dtype } from '../ir/dtype.js';
import { type HostTensor, showShape } from '../ir/value.js';
import {
  DTYPE_FROM_ST,
  MAX_HEADER_BYTES,
  ST_ELEMENT_BYTES,
  SafetensorsError,
  UNSUPPORTED_ST_DTYPES,
  decodeInto,
  quote,
  storedTensor,
} from './safetensors-codec.js';
import { JsonNumber, JsonSyntaxError, parseHeaderJson, type JsonValue } from './safetensors-json.js';

export interface SafetensorsContents {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
}

/** Instrumentation for tests. */
export interface ReadHooks {
  /**
   * Called just before the reader allocates storage sized by the file: `units` header bytes
   * decoded to a string, or tensor elements in `bytes` bytes (a Float64Array for
   * readSafetensors, the stored bytes for readSafetensorsFile).
   */
  onAllocate?(kind: 'header' | 'tensor', units: number, bytes: number): void;
}

const FIELDS = ['dtype', 'shape', 'data_offsets'];
const U64_MAX = (1n << 64n) - 1n;
const NATURAL = /^(?:0|[1-9][0-9]*)$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export type Fail = (detail: string) => SafetensorsError;
export interface Entry {
  name: string;
  dtype: Dtype;
  shape: number[];
  count: number;
  begin: number;
  end: number;
}

/** Reads a safetensors file held in `bytes`; `what` (usually the path) prefixes error messages. */
export function readSafetensors(bytes: Uint8Array, what?: string, hooks?: ReadHooks): SafetensorsContents {
  const bad: Fail = (detail) => new SafetensorsError(`safetensors: ${detail}`, what);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = headerSize(bytes.length, bytes.length >= 8 ? view.getBigUint64(0, true) : 0n, bad);
  hooks?.onAllocate?.('header', n, 2 * n);
  const dataStart = 8 + n;
  const { entries, metadata } = parseHeader(bytes.subarray(8, 8 + n), bytes.length - dataStart, bad);
  const tensors = new Map<string, HostTensor>();
  for (const e of entries) {
    hooks?.onAllocate?.('tensor', e.count, 8 * e.count);
    const data = new Float64Array(e.count);
    const at = decodeInto(view, dataStart + e.begin, e.dtype, data);
    if (at >= 0) {
      const b = bytes[dataStart + e.begin + at];
      throw bad(`tensor ${quote(e.name)}: BOOL element ${at} is byte ${b}, not 0 or 1`);
    }
    if (e.dtype === 'i64') {
      const exact = new BigInt64Array(e.count);
      for (let i = 0; i < e.count; i++) exact[i] = view.getBigInt64(dataStart + e.begin + 8 * i, true);
      tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data, exact });
    } else tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/** The header size a file of `fileBytes` bytes claims (`claimed`), checked against the format and the file. */
export function headerSize(fileBytes: number, claimed: bigint, bad: Fail): number {
  if (fileBytes < 8) throw bad(`file is ${fileBytes} bytes, shorter than the 8-byte header size`);
  if (claimed > BigInt(MAX_HEADER_BYTES)) {
    throw bad(`header size ${claimed} exceeds the format's limit of ${MAX_HEADER_BYTES} bytes`);
  }
  const n = Number(claimed);
  if (n > fileBytes - 8) throw bad(`header size ${n} exceeds the ${fileBytes - 8} bytes after the size field`);
  return n;
}

/** The header's tensors (checked against a data buffer of `dataLen` bytes), in data order, and its metadata. */
export function parseHeader(
  header: Uint8Array,
  dataLen: number,
  bad: Fail,
): { entries: Entry[]; metadata: Record<string, string> } {
  let text: string;
  try {
    text = UTF8.decode(header);
  } catch {
    throw bad('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw bad('header does not start with "{" (it must be a JSON object)');
  let json: JsonValue;
  try {
    json = parseHeaderJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw bad(`header is not valid JSON: ${e.message}`);
    throw e;
  }
  if (!(json instanceof Map)) throw bad('header is not a JSON object');
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, v] of json) {
    if (name === '__metadata__') readMetadata(v, metadata, bad);
    else entries.push(readEntry(name, v, dataLen, bad));
  }
  return { entries: checkLayout(entries, dataLen, bad), metadata };
}

function readMetadata(v: JsonValue, out: Record<string, string>, bad: Fail): void {
  if (!(v instanceof Map)) throw bad(`__metadata__ must be an object of strings, got ${show(v)}`);
  for (const [k, s] of v) {
    if (typeof s !== 'string') throw bad(`__metadata__ ${quote(k)} must be a string, got ${show(s)}`);
    Object.defineProperty(out, k, { value: s, enumerable: true, writable: true, configurable: true });
  }
}

function readEntry(name: string, v: JsonValue, dataLen: number, bad: Fail): Entry {
  if (name === '') throw bad('a tensor has an empty name');
  const where = `tensor ${quote(name)}`;
  if (!(v instanceof Map)) throw bad(`${where}: expected an object {dtype, shape, data_offsets}, got ${show(v)}`);
  for (const k of v.keys()) if (!FIELDS.includes(k)) throw bad(`${where}: unknown field ${quote(k)}`);
  for (const k of FIELDS) if (!v.has(k)) throw bad(`${where}: missing field "${k}"`);
  const st = v.get('dtype')!;
  if (typeof st !== 'string') throw bad(`${where}: dtype must be a string, got ${show(st)}`);
  const dtype = DTYPE_FROM_ST.get(st);
  if (dtype === undefined) {
    const supported = [...DTYPE_FROM_ST.keys()].join(', ');
    if (UNSUPPORTED_ST_DTYPES.has(st)) throw bad(`${where}: dtype ${st} is not supported (fmc reads ${supported})`);
    throw bad(`${where}: unknown dtype ${quote(st)} (fmc reads ${supported})`);
  }
  const shapeV = v.get('shape')!;
  if (!Array.isArray(shapeV)) throw bad(`${where}: shape must be an array of dims, got ${show(shapeV)}`);
  const dims = shapeV.map((d, i) => {
    const x = natural(d);
    if (x === undefined) throw bad(`${where}: shape[${i}] must be a non-negative integer, got ${show(d)}`);
    if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${where}: shape[${i}] is ${show(d)}, beyond 2^53 - 1`);
    return x;
  });
  const shape = dims.map(Number);
  const shown = showShape(dtype, shape);
  let count = dims.includes(0n) ? 0n : 1n;
  for (const d of count === 0n ? [] : dims) {
    count *= d;
    if (count > U64_MAX) throw bad(`${where}: the element count of ${shown} overflows 64 bits`);
  }
  const offV = v.get('data_offsets')!;
  if (!Array.isArray(offV) || offV.length !== 2) {
    throw bad(`${where}: data_offsets must be an array [begin, end], got ${show(offV)}`);
  }
  const [b, e] = offV.map((o, i) => {
    const x = natural(o);
    if (x === undefined) throw bad(`${where}: data_offsets[${i}] must be a non-negative integer, got ${show(o)}`);
    return x;
  }) as [bigint, bigint];
  const offs = `data_offsets [${show(offV[0]!)}, ${show(offV[1]!)}]`;
  if (b > e) throw bad(`${where}: ${offs} end before they begin`);
  if (e > BigInt(dataLen)) throw bad(`${where}: ${offs} run past the end of the ${dataLen}-byte data buffer`);
  const need = count * BigInt(ST_ELEMENT_BYTES[dtype]);
  if (need !== e - b) throw bad(`${where}: ${offs} hold ${nBytes(e - b)}, but ${shown} needs ${need}`);
  return { name, dtype, shape, count: Number(count), begin: Number(b), end: Number(e) };
}

/** The entries in data order, after checking that their ranges tile the data buffer exactly. */
function checkLayout(entries: Entry[], dataLen: number, bad: Fail): Entry[] {
  const sorted = [...entries].sort((x, y) => x.begin - y.begin || x.end - y.end);
  let prev: Entry | undefined;
  for (const e of sorted) {
    const at = prev?.end ?? 0;
    const where = `tensor ${quote(e.name)}: data_offsets [${e.begin}, ${e.end}]`;
    const after = prev === undefined ? 'the data buffer starts at 0' : `tensor ${quote(prev.name)} ends at ${at}`;
    if (e.begin < at) throw bad(`${where} overlap tensor ${quote(prev!.name)} [${prev!.begin}, ${prev!.end}]`);
    if (e.begin > at) throw bad(`${where} leave a gap of ${nBytes(e.begin - at)} (${after})`);
    prev = e;
  }
  const end = prev?.end ?? 0;
  if (end !== dataLen) {
    throw bad(`${nBytes(dataLen - end)} after the last tensor's data (the data buffer is ${nBytes(dataLen)})`);
  }
  return sorted;
}

/** The value of a JSON number written as a non-negative integer (no sign, fraction or exponent). */
function natural(v: JsonValue): bigint | undefined {
  if (!(v instanceof JsonNumber) || !NATURAL.test(v.text)) return undefined;
  return v.text.length > 30 ? 1n << 128n : BigInt(v.text); // longer ones are only compared, never used
}

const nBytes = (k: number | bigint): string => (k === 1 || k === 1n ? '1 byte' : `${k} bytes`);

/** A JSON value in a message: short, one line. */
function show(v: JsonValue): string {
  if (v instanceof JsonNumber) return v.text.length > 24 ? `${v.text.slice(0, 20)}… (${v.text.length} digits)` : v.text;
  if (typeof v === 'string') return quote(v);
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Map) return 'an object';
  return String(v);
}

/**
 * A tensor kept as stored (see storedTensor: `data` is decoded on first use), its bytes
 * `bytes`, checked: BOOL bytes must be 0 or 1.
 */
export function storedEntry(e: Entry, bytes: Uint8Array, bad: Fail): HostTensor {
  if (e.dtype === 'bool') {
    const at = bytes.findIndex((b) => b > 1);
    if (at >= 0) throw bad(`tensor ${quote(e.name)}: BOOL element ${at} is byte ${bytes[at]}, not 0 or 1`);
  }
  return storedTensor(e.dtype, e.shape, bytes);
}

/**
 * Reads safetensors `bytes` as readSafetensorsFile reads a file: each tensor kept as stored
 * (a copy of its bytes), decoded only when its values are read.
 */
export function readStoredSafetensors(bytes: Uint8Array, what?: string): SafetensorsContents {
  const bad: Fail = (detail) => new SafetensorsError(`safetensors: ${detail}`, what);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = headerSize(bytes.length, bytes.length >= 8 ? view.getBigUint64(0, true) : 0n, bad);
  const dataStart = 8 + n;
  const { entries, metadata } = parseHeader(bytes.subarray(8, dataStart), bytes.length - dataStart, bad);
  const tensors = new Map<string, HostTensor>();
  for (const e of entries)
    tensors.set(e.name, storedEntry(e, bytes.slice(dataStart + e.begin, dataStart + e.end), bad));
  return { tensors, metadata };
}
