// A protobuf wire-format reader for the parts of an ONNX model the export tests look at: the
// opset imports, nodes (op type, domain, inputs, int attributes) and initializers (name, data
// type, dims, raw bytes). Independent of src/export/onnx-proto.ts (the writer it checks);
// field numbers from onnx/onnx.proto.

interface Field {
  readonly field: number;
  /** Varints as bigint, length-delimited fields as bytes, fixed32/64 as their raw bytes. */
  readonly value: bigint | Uint8Array;
}

function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[at++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  while (at < buf.length) {
    const tag = Number(varint());
    const [field, wire] = [tag >> 3, tag & 7];
    if (wire === 0) out.push({ field, value: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ field, value: buf.subarray(at, at + len) });
      at += len;
    } else if (wire === 5 || wire === 1) {
      const len = wire === 5 ? 4 : 8;
      out.push({ field, value: buf.subarray(at, at + len) });
      at += len;
    } else throw new Error(`wire type ${wire} at byte ${at}`);
  }
  return out;
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const all = (fs: readonly Field[], n: number): Field['value'][] => fs.filter((f) => f.field === n).map((f) => f.value);
const bytes = (fs: readonly Field[], n: number): Uint8Array[] => all(fs, n) as Uint8Array[];
const ints = (fs: readonly Field[], n: number): number[] =>
  all(fs, n).map((v) => Number(BigInt.asIntN(64, v as bigint)));
const str = (fs: readonly Field[], n: number): string => bytes(fs, n).map(text)[0] ?? '';

export interface DecodedNode {
  readonly opType: string;
  readonly domain: string;
  readonly inputs: string[];
  readonly outputs: string[];
  /** The int attributes by name. */
  readonly ints: Record<string, number>;
}

export interface DecodedTensor {
  readonly name: string;
  readonly dataType: number;
  readonly dims: number[];
  readonly rawData: Uint8Array;
}

export interface DecodedModel {
  readonly irVersion: number;
  readonly opsets: Record<string, number>;
  readonly nodes: DecodedNode[];
  readonly initializers: DecodedTensor[];
}

export function decodeModel(buf: Uint8Array): DecodedModel {
  const model = fields(buf);
  const graph = fields(bytes(model, 7)[0]!);
  const opsets = Object.fromEntries(
    bytes(model, 8).map((b) => {
      const o = fields(b);
      return [str(o, 1), ints(o, 2)[0]!];
    }),
  );
  const nodes = bytes(graph, 1).map((b): DecodedNode => {
    const n = fields(b);
    const attrs = bytes(n, 5).map(fields);
    return {
      opType: str(n, 4),
      domain: str(n, 7),
      inputs: bytes(n, 1).map(text),
      outputs: bytes(n, 2).map(text),
      ints: Object.fromEntries(attrs.filter((a) => ints(a, 20)[0] === 2).map((a) => [str(a, 1), ints(a, 3)[0]!])),
    };
  });
  const initializers = bytes(graph, 5).map((b): DecodedTensor => {
    const t = fields(b);
    return { name: str(t, 8), dataType: ints(t, 2)[0]!, dims: ints(t, 1), rawData: bytes(t, 9)[0] ?? new Uint8Array() };
  });
  return { irVersion: ints(model, 1)[0]!, opsets, nodes, initializers };
}
