// Safetensors files as the public API reads and writes them: named fmc Tensors plus string
// metadata, over the runtime's checked reader (regular files only, read in pieces, every
// error a SafetensorsError naming the file) and its atomic writer. Values keep every bit:
// a tensor read is a view of the bytes read for it (no float64 round trip, so i64 values
// beyond 2^53 survive), and a tensor written is encoded from its own storage.

import { readSafetensorsFile, writeSafetensorsFile } from '../runtime/safetensors.js';
import { storedBytes, storedTensor } from '../runtime/safetensors-codec.js';
import { ELEMENT_BYTES, Tensor, fromHost, typedArray } from '../runtime/tensor.js';

export interface SafetensorsData {
  readonly tensors: Record<string, Tensor>;
  readonly metadata: Record<string, string>;
}

/** Reads a safetensors file into Tensors (f32, f16, bf16, i8, i32, i64, bool; I8 as i8). */
export function readTensors(path: string): SafetensorsData {
  const { tensors, metadata } = readSafetensorsFile(path);
  const out: Record<string, Tensor> = {};
  for (const [name, t] of tensors) {
    const bytes = storedBytes(t);
    out[name] = bytes
      ? new Tensor(
          t.dtype,
          typedArray(t.dtype, bytes.length / ELEMENT_BYTES[t.dtype], bytes.buffer as ArrayBuffer, bytes.byteOffset),
          t.shape,
        )
      : fromHost(t);
  }
  return { tensors: out, metadata };
}

/** Writes Tensors (and string metadata) to a safetensors file, atomically (i4 as I8). */
export function writeTensors(
  path: string,
  tensors: Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
): void {
  const entries = Object.entries(tensors).map(([name, t]) => {
    const d = t.data;
    return [name, storedTensor(t.dtype, t.dims, new Uint8Array(d.buffer, d.byteOffset, d.byteLength))] as [
      string,
      ReturnType<typeof storedTensor>,
    ];
  });
  writeSafetensorsFile(path, entries, metadata ? { ...metadata } : undefined);
}
