// A minimal protobuf wire-format writer for the subset of onnx.proto the exporter emits:
// ModelProto, OperatorSetIdProto, GraphProto, NodeProto, AttributeProto, TensorProto and
// ValueInfoProto / TypeProto.Tensor / TensorShapeProto. Field numbers are those of
// onnx/onnx.proto (proto2 syntax: repeated scalars are written unpacked, one tag each).
// Fields are written in a fixed order, so equal messages give identical bytes.

/** TensorProto.DataType values. */
export const ONNX_DTYPE = {
  FLOAT: 1,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  BFLOAT16: 16,
  /** Two values a byte, the first in the low nibble (IR version 10, opset 21). */
  INT4: 22,
} as const;

export interface TensorProto {
  readonly name: string;
  readonly dataType: number;
  readonly dims: readonly number[];
  /** Fixed-width little-endian elements (bool: one byte each; INT4: two a byte). */
  readonly rawData: Uint8Array;
}

export type AttributeProto =
  | { readonly name: string; readonly type: 'int'; readonly i: number }
  | { readonly name: string; readonly type: 'ints'; readonly ints: readonly number[] }
  | { readonly name: string; readonly type: 'float'; readonly f: number }
  | { readonly name: string; readonly type: 'string'; readonly s: string }
  | { readonly name: string; readonly type: 'tensor'; readonly t: TensorProto };

export interface NodeProto {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly opType: string;
  readonly attributes: readonly AttributeProto[];
  readonly docString?: string;
}

export interface ValueInfoProto {
  readonly name: string;
  readonly elemType: number;
  /** Per dim: a number is a dim_value, a string a dim_param. */
  readonly shape: readonly (number | string)[];
}

export interface GraphProto {
  readonly name: string;
  readonly nodes: readonly NodeProto[];
  readonly initializers: readonly TensorProto[];
  readonly inputs: readonly ValueInfoProto[];
  readonly outputs: readonly ValueInfoProto[];
  readonly docString?: string;
}

export interface ModelProto {
  readonly irVersion: number;
  readonly opsetImports: readonly { readonly domain: string; readonly version: number }[];
  readonly producerName: string;
  readonly producerVersion: string;
  readonly docString?: string;
  readonly graph: GraphProto;
}

// ---------- wire format ----------

const VARINT = 0;
const I32 = 5;
const LEN = 2;

const utf8 = new TextEncoder();

/** Payloads at least this large are kept by reference, not copied, until finish(). */
const BIG = 1 << 12;

/**
 * Appends wire-format fields. Small fields go into a growable buffer; a large payload (a
 * weight's raw_data) and a submessage's pieces are kept by reference, so that finish() copies
 * every byte once, however deep the nesting (a language model's hundreds of MB of weights were
 * copied once per level and per growth).
 */
class Writer {
  private readonly pieces: Uint8Array[] = [];
  private piecesLength = 0;
  private buf = new Uint8Array(256);
  private len = 0;

  get length(): number {
    return this.piecesLength + this.len;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  /** Moves the buffer's bytes to the pieces. */
  private flush(): void {
    if (this.len === 0) return;
    this.pieces.push(this.buf.subarray(0, this.len));
    this.piecesLength += this.len;
    this.buf = new Uint8Array(256);
    this.len = 0;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  /** A varint; negative values as 64-bit two's complement (ten bytes), as int64 fields need. */
  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.byte(Number(x));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`protobuf int ${v} is not a safe integer`);
    this.tag(field, VARINT);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, I32);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, v, true);
    this.len += 4;
  }

  /** A length-delimited field; a large `b` is referenced, so it must not change before finish(). */
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, LEN);
    this.varint(b.length);
    if (b.length >= BIG) {
      this.flush();
      this.pieces.push(b);
      this.piecesLength += b.length;
      return;
    }
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, utf8.encode(s));
  }

  message<T>(field: number, m: T, encode: (w: Writer, m: T) => void): void {
    const sub = new Writer();
    encode(sub, m);
    this.tag(field, LEN);
    this.varint(sub.length);
    if (sub.piecesLength === 0 && sub.len < BIG) {
      this.reserve(sub.len);
      this.buf.set(sub.buf.subarray(0, sub.len), this.len);
      this.len += sub.len;
      return;
    }
    sub.flush();
    this.flush();
    for (const p of sub.pieces) this.pieces.push(p);
    this.piecesLength += sub.piecesLength;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.pieces) {
      out.set(p, at);
      at += p.length;
    }
    out.set(this.buf.subarray(0, this.len), at);
    return out;
  }
}

// ---------- messages ----------

function tensor(w: Writer, t: TensorProto): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.dataType);
  w.string(8, t.name);
  w.bytes(9, t.rawData);
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, ints: 7 } as const;

function attribute(w: Writer, a: AttributeProto): void {
  w.string(1, a.name);
  switch (a.type) {
    case 'float':
      w.float(2, a.f);
      break;
    case 'int':
      w.int(3, a.i);
      break;
    case 'string':
      w.string(4, a.s);
      break;
    case 'tensor':
      w.message(5, a.t, tensor);
      break;
    case 'ints':
      for (const i of a.ints) w.int(8, i);
      break;
  }
  w.int(20, ATTR_TYPE[a.type]);
}

function node(w: Writer, n: NodeProto): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes) w.message(5, a, attribute);
  if (n.docString) w.string(6, n.docString);
}

function dimension(w: Writer, d: number | string): void {
  if (typeof d === 'number') w.int(1, d);
  else w.string(2, d);
}

function valueInfo(w: Writer, v: ValueInfoProto): void {
  w.string(1, v.name);
  // TypeProto { tensor_type = 1: { elem_type = 1, shape = 2: { dim = 1 } } }
  w.message(2, v, (tw, v) =>
    tw.message(1, v, (tt, v) => {
      tt.int(1, v.elemType);
      tt.message(2, v.shape, (sw, shape) => {
        for (const d of shape) sw.message(1, d, dimension);
      });
    }),
  );
}

function graph(w: Writer, g: GraphProto): void {
  for (const n of g.nodes) w.message(1, n, node);
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, t, tensor);
  if (g.docString) w.string(10, g.docString);
  for (const i of g.inputs) w.message(11, i, valueInfo);
  for (const o of g.outputs) w.message(12, o, valueInfo);
}

/** The serialized ModelProto. */
export function encodeModel(m: ModelProto): Uint8Array {
  const w = new Writer();
  w.int(1, m.irVersion);
  w.string(2, m.producerName);
  w.string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, m.graph, graph);
  for (const o of m.opsetImports)
    w.message(8, o, (ow, o) => {
      ow.string(1, o.domain);
      ow.int(2, o.version);
    });
  return w.finish();
}
