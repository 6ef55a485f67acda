// Strict safetensors reading and writing (https://github.com/huggingface/safetensors).
//
// A file is an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON (an object starting with
// "{", optionally padded with trailing spaces), then the data buffer. The JSON maps each tensor
// name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to the data buffer) and
// may hold "__metadata__", an object of strings. The reader treats the file as hostile:
//  - every size it claims (header size, dims, offsets) is checked, with BigInt arithmetic,
//    against the file before anything is allocated from it, and the whole header is checked
//    before any tensor is: the reader allocates the header text (N ≤ min(100 MB, file size)
//    bytes) and one Float64Array per tensor with no more elements than the tensor's data has
//    bytes, so header bytes + tensor elements ≤ file size (the float64s take 8 bytes each);
//    readSafetensorsFile reads the file in pieces instead of whole (files over 2 GiB too) and
//    keeps each tensor's bytes as stored, decoding its float64s only when they are read, so a
//    file bound for the runtime's weight buffers costs its own size, not 8 bytes an element;
//  - the header is parsed by safetensors-json.ts, which rejects duplicate keys (JSON.parse keeps
//    the last), lone surrogates and deep nesting, and keeps numbers as text;
//  - the tensors' byte ranges must tile the data buffer exactly: no gaps, no overlaps (empty
//    tensors may share an offset), nothing after the last one;
//  - BOOL bytes must be 0 or 1.
// Limits of the mapping: fmc's `i4` has no safetensors dtype and is written as I8, one value a
// byte (so it reads back as `i8`); I64 tensors are read with their exact values
// (HostTensor.exact) beside the nearest float64s, and written from them when present (else the
// writer saturates float64s beyond the i64 range, so INT64_MAX's nearest, 2^63, writes back as
// INT64_MAX); other safetensors dtypes (F64, U8, F8_*, …) are errors. The reader returns tensors
// in data order; the writer sorts names by their UTF-8 bytes and lays data out in that order, so
// equal inputs give equal bytes.

import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Dtype } from '../ir/dtype.js';
import type { HostTensor } from '../ir/value.js';
import {
  DTYPE_FROM_ST,
  MAX_HEADER_BYTES,
  ST_ELEMENT_BYTES,
  SafetensorsError,
  UNSUPPORTED_ST_DTYPES,
  decodeInto,
  quote,
  showShape,
  storedTensor,
} from './safetensors-codec.js';
import { JsonNumber, JsonSyntaxError, parseHeaderJson, type JsonValue } from './safetensors-json.js';
import { writeSafetensors } from './safetensors-write.js';

export { MAX_HEADER_BYTES, SafetensorsError, writeSafetensors };

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

type Fail = (detail: string) => SafetensorsError;
interface Entry {
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
function headerSize(fileBytes: number, claimed: bigint, bad: Fail): number {
  if (fileBytes < 8) throw bad(`file is ${fileBytes} bytes, shorter than the 8-byte header size`);
  if (claimed > BigInt(MAX_HEADER_BYTES)) {
    throw bad(`header size ${claimed} exceeds the format's limit of ${MAX_HEADER_BYTES} bytes`);
  }
  const n = Number(claimed);
  if (n > fileBytes - 8) throw bad(`header size ${n} exceeds the ${fileBytes - 8} bytes after the size field`);
  return n;
}

/** The header's tensors (checked against a data buffer of `dataLen` bytes), in data order, and its metadata. */
function parseHeader(
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

/** The most bytes one read asks for (a read may return fewer); larger reads were no faster, and 1 GiB ones far slower. */
const READ_CHUNK = 16 << 20;

/**
 * Reads a safetensors file; every error, including the file system's, is a SafetensorsError
 * naming `path`. The file is read in pieces, never whole (so files over 2 GiB read too): the
 * header, then each tensor's bytes into a buffer of its own, checked (BOOL bytes) and kept as
 * stored (see storedTensor: `data` is decoded on first use). Memory: the file's data size, plus
 * 8 bytes an element of the tensors whose values are read.
 */
export function readSafetensorsFile(path: string, hooks?: ReadHooks): SafetensorsContents {
  const bad: Fail = (detail) => new SafetensorsError(`safetensors: ${detail}`, path);
  const io = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof SafetensorsError) throw e;
      throw new SafetensorsError(`safetensors: cannot read the file: ${errorText(e)}`, path, { cause: e });
    }
  };
  // Non-blocking, so that opening a FIFO does not wait for a writer (fstat then refuses it).
  const fd = io(() => openSync(path, constants.O_RDONLY | constants.O_NONBLOCK));
  try {
    const size = io(() => {
      // Only regular files: a device such as /dev/zero would be read forever.
      const st = fstatSync(fd);
      if (!st.isFile()) throw new SafetensorsError('safetensors: not a regular file', path);
      return st.size;
    });
    const read = (into: Uint8Array, position: number): void =>
      io(() => {
        for (let done = 0; done < into.length;) {
          const got = readSync(fd, into, done, Math.min(READ_CHUNK, into.length - done), position + done);
          if (got === 0) throw bad(`the file ended at byte ${position + done} while being read (it shrank?)`);
          done += got;
        }
      });
    const head = new Uint8Array(Math.min(8, size));
    read(head, 0);
    const claimed = size >= 8 ? new DataView(head.buffer).getBigUint64(0, true) : 0n;
    const n = headerSize(size, claimed, bad);
    hooks?.onAllocate?.('header', n, 2 * n);
    const header = new Uint8Array(n);
    read(header, 8);
    const dataStart = 8 + n;
    const { entries, metadata } = parseHeader(header, size - dataStart, bad);
    const tensors = new Map<string, HostTensor>();
    for (const e of entries) {
      hooks?.onAllocate?.('tensor', e.count, e.end - e.begin);
      const bytes = new Uint8Array(e.end - e.begin);
      read(bytes, dataStart + e.begin);
      if (e.dtype === 'bool') {
        const at = bytes.findIndex((b) => b > 1);
        if (at >= 0) throw bad(`tensor ${quote(e.name)}: BOOL element ${at} is byte ${bytes[at]}, not 0 or 1`);
      }
      tensors.set(e.name, storedTensor(e.dtype, e.shape, bytes));
    }
    return { tensors, metadata };
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a safetensors file atomically: to a temporary file in the same directory, then renamed
 * over `path`. Errors are SafetensorsErrors naming `path`.
 */
export function writeSafetensorsFile(
  path: string,
  tensors: ReadonlyMap<string, HostTensor> | Iterable<[string, HostTensor]>,
  metadata?: Record<string, string>,
): void {
  let bytes: Uint8Array;
  try {
    bytes = writeSafetensors(tensors, metadata);
  } catch (e) {
    if (e instanceof SafetensorsError && e.file === undefined) throw new SafetensorsError(e.detail, path);
    throw e;
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, bytes, { flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // it was never created, or already renamed
    }
    throw new SafetensorsError(`safetensors: cannot write the file: ${errorText(e)}`, path, { cause: e });
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
