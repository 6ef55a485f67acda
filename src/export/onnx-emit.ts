// The ONNX node list being built by the exporter: generated names, hash-consed nodes (the
// same op on the same inputs is emitted once, which CSEs the shape arithmetic), and
// initializers for constants and params with their data encoded per onnx.proto.

import type { Dtype } from '../ir/dtype.js';
import { bf16Bits, f16Bits, roundTo } from '../ir/value.js';
import { type AttributeProto, type NodeProto, ONNX_DTYPE, type TensorProto } from './onnx-proto.js';

/** A graph that cannot be exported to ONNX; the message names the op and its block path. */
export class ExportError extends Error {
  override name = 'ExportError';
}

/** The ONNX element type of an IR dtype (i4 has no ONNX Runtime kernels and is refused). */
export function onnxDtype(d: Dtype): number {
  switch (d) {
    case 'f32':
      return ONNX_DTYPE.FLOAT;
    case 'f16':
      return ONNX_DTYPE.FLOAT16;
    case 'bf16':
      return ONNX_DTYPE.BFLOAT16;
    case 'i8':
      return ONNX_DTYPE.INT8;
    case 'i32':
      return ONNX_DTYPE.INT32;
    case 'i64':
      return ONNX_DTYPE.INT64;
    case 'bool':
      return ONNX_DTYPE.BOOL;
    case 'i4':
      throw new ExportError('i4 tensors cannot be exported to ONNX; cast them to i8 or a float type first');
  }
}

const I64_MAX = 2n ** 63n - 1n;
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Row-major elements as onnx.proto's raw_data: fixed-width little-endian (bool one byte each);
 * i64 values beyond the range (only representable as doubles) saturate. */
export function encodeData(d: Dtype, data: ArrayLike<number>): Uint8Array {
  // f32 on a little-endian host: the typed array's own conversion (round to nearest even, as
  // roundTo) and bytes, about ten times faster than element by element (a language model's
  // hundreds of MB of weights).
  if (d === 'f32' && LITTLE_ENDIAN) return new Uint8Array(new Float32Array(data).buffer);
  const n = data.length;
  const width = { f32: 4, f16: 2, bf16: 2, i8: 1, i4: 1, i32: 4, i64: 8, bool: 1 }[d];
  const out = new Uint8Array(n * width);
  const v = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const x = roundTo(d, data[i]!);
    switch (d) {
      case 'f32':
        v.setFloat32(i * 4, x, true);
        break;
      case 'f16':
        v.setUint16(i * 2, f16Bits(x), true);
        break;
      case 'bf16':
        v.setUint16(i * 2, bf16Bits(x), true);
        break;
      case 'i8':
        v.setInt8(i, x);
        break;
      case 'i32':
        v.setInt32(i * 4, x, true);
        break;
      case 'i64':
        v.setBigInt64(i * 8, x >= 2 ** 63 ? I64_MAX : x < -(2 ** 63) ? -I64_MAX - 1n : BigInt(x), true);
        break;
      case 'bool':
        v.setUint8(i, x);
        break;
      case 'i4':
        onnxDtype(d);
    }
  }
  return out;
}

export type Attr = AttributeProto;
export const attrInt = (name: string, i: number): Attr => ({ name, type: 'int', i });
export const attrInts = (name: string, ints: readonly number[]): Attr => ({ name, type: 'ints', ints });
export const attrString = (name: string, s: string): Attr => ({ name, type: 'string', s });

/** Collects nodes and initializers; every generated name avoids the user's names. */
export class Emitter {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  /** The doc_string given to nodes emitted now (the IR node being lowered). */
  doc = '';
  private readonly cache = new Map<string, string[]>();
  private readonly counters = new Map<string, number>();

  constructor(private readonly reserved: ReadonlySet<string>) {}

  /** A fresh name `${prefix}${k}` that no user name uses. */
  fresh(prefix: string): string {
    for (;;) {
      const k = this.counters.get(prefix) ?? 0;
      this.counters.set(prefix, k + 1);
      const name = `${prefix}${k}`;
      if (!this.reserved.has(name)) return name;
    }
  }

  /** Emits `opType(inputs)` (or finds the same node emitted before) and returns its outputs. */
  ops(opType: string, inputs: readonly string[], attrs: readonly Attr[] = [], outputs = 1): string[] {
    const key = `${opType}(${inputs.join(',')})${JSON.stringify(attrs, (_k, v: unknown) =>
      v instanceof Uint8Array ? Array.from(v) : v,
    )}`;
    const found = this.cache.get(key);
    if (found) return found;
    const outs = Array.from({ length: outputs }, () => this.fresh('t'));
    const node: NodeProto = { inputs, outputs: outs, name: this.fresh('n'), opType, attributes: attrs };
    this.nodes.push(this.doc ? { ...node, docString: this.doc } : node);
    this.cache.set(key, outs);
    return outs;
  }

  op(opType: string, inputs: readonly string[], attrs: readonly Attr[] = []): string {
    return this.ops(opType, inputs, attrs)[0]!;
  }

  /** Identity into a given name (graph outputs); never shared. */
  identity(input: string, output: string): void {
    this.nodes.push({ inputs: [input], outputs: [output], name: this.fresh('n'), opType: 'Identity', attributes: [] });
  }

  /** A constant initializer (shared between equal constants). */
  constant(dtype: Dtype, dims: readonly number[], values: ArrayLike<number>): string {
    const raw = encodeData(dtype, values);
    const key = `const ${dtype} [${dims.join(',')}] ${Array.from(raw).join(',')}`;
    const found = this.cache.get(key);
    if (found) return found[0]!;
    const name = this.fresh('c');
    this.initializers.push({ name, dataType: onnxDtype(dtype), dims: [...dims], rawData: raw });
    this.cache.set(key, [name]);
    return name;
  }

  /** An int64 vector constant. */
  i64(values: readonly number[]): string {
    return this.constant('i64', [values.length], values);
  }

  /** An int64 scalar (rank 0) constant. */
  i64Scalar(v: number): string {
    return this.constant('i64', [], [v]);
  }

  /** A scalar (rank 0) constant of a dtype. */
  scalar(dtype: Dtype, v: number): string {
    return this.constant(dtype, [], [v]);
  }

  /** A one-element tensor for attributes (ConstantOfShape's `value`). */
  tensorAttr(name: string, dtype: Dtype, v: number): Attr {
    const t: TensorProto = { name: '', dataType: onnxDtype(dtype), dims: [1], rawData: encodeData(dtype, [v]) };
    return { name, type: 'tensor', t };
  }
}
