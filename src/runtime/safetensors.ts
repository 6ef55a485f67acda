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
import type { HostTensor } from '../ir/value.js';
import { MAX_HEADER_BYTES, SafetensorsError } from './safetensors-codec.js';
import {
  type Fail,
  type ReadHooks,
  type SafetensorsContents,
  headerSize,
  parseHeader,
  storedEntry,
} from './safetensors-read.js';
import { writeSafetensors } from './safetensors-write.js';

export { MAX_HEADER_BYTES, SafetensorsError, writeSafetensors };
export {
  type ReadHooks,
  type SafetensorsContents,
  readSafetensors,
  readStoredSafetensors,
} from './safetensors-read.js';

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
      tensors.set(e.name, storedEntry(e, bytes, bad));
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
