// Quantized weights as ONNX quantization ops. The quantize pass (src/passes/quantize.ts)
// replaces a weight W[N, ...] by its quantized params (q, scale, zero: src/ir/quantize.ts) and
// the ordinary ops that dequantize them; the exporter finds those ops and emits, instead, one
// DequantizeLinear (opset 21) of the quantized values, which ONNX Runtime runs on CPU:
//   q      int8: an INT8 initializer [N, K]; int4: an INT4 initializer [N, K], two values a
//          byte with element 2i in the low nibble of byte i (ONNX's order: fmc's blocks of 64
//          are unpacked and packed again, see int4Values);
//   scale  f32 [N] on axis 0 (per output channel) when a row is one group; else [N, K/g] on
//          axis 1 with block_size g (blocked quantization);
//   zero   asymmetric only: INT8 or INT4, of scale's shape (its values are integers in range);
// then a Reshape to W's shape and a Cast to W's dtype where they differ. DequantizeLinear
// computes (q - zero) · scale in f32, as the pass's ops do, so the weight is the same to the bit.
//
// The match is structural: a node is a weight's dequantization when it is, node for node, what
// the quantize pass builds for a param of that node's shape and dtype with that spec (the pass
// is run on such a param to see). A quantized param read any other way (a graph built by hand,
// or rewritten after the pass) keeps its ordinary float ops on the int8 bytes, with a warning.

import { dimConstValue } from '../ir/dims.js';
import { isFloat } from '../ir/dtype.js';
import { Builder } from '../ir/build.js';
import { argsKey, type Node, type NodeOf, reachableFrom, type TType } from '../ir/graph.js';
import { NO_HINTS } from '../ir/module.js';
import { INT4_BLOCK, parseQuantName, type QuantSpec, quantNames } from '../ir/quantize.js';
import type { HostTensor } from '../ir/value.js';
import { PassError } from '../passes/pass.js';
import { quantize } from '../passes/quantize.js';
import { cast } from './onnx-compose.js';
import { attrInt, type Emitter, encodeData } from './onnx-emit.js';
import { ONNX_DTYPE } from './onnx-proto.js';

/** A quantized weight: its source param's path, spec and quantized params. */
export interface QuantWeight {
  readonly path: string;
  readonly spec: QuantSpec;
  readonly q: NodeOf<'param'>;
  readonly scale: NodeOf<'param'>;
  readonly zero?: NodeOf<'param'>;
}

/** `int4:128:asym`, as `--quantize` spells it. */
export const specText = (s: QuantSpec): string =>
  [s.dtype, ...(s.group !== undefined ? [s.group] : []), ...(s.symmetric ? [] : ['asym'])].join(':');

/**
 * The nodes to export, in topological order, and which of them are dequantized weights (they
 * are leaves: their ops are not exported). `warn` hears of each quantized weight that stays
 * ordinary ops.
 */
export function planQuantized(
  outputs: readonly Node[],
  warn: (message: string) => void,
): { nodes: Node[]; weights: Map<Node, QuantWeight> } {
  const all = reachableFrom(outputs);
  const readers = new Map<Node, Node[]>();
  const fromInputs = new Set<Node>(); // computed from graph inputs (or random numbers)
  for (const n of all) {
    for (const i of n.inputs) readers.get(i)?.push(n) ?? readers.set(i, [n]);
    if (n.op === 'input' || n.op === 'random' || n.inputs.some((i) => fromInputs.has(i))) fromInputs.add(n);
  }
  const params = new Map(
    all.filter((n): n is NodeOf<'param'> => n.op === 'param').map((n) => [n.args.path, n] as const),
  );
  const weights = new Map<Node, QuantWeight>();
  const sources: QuantWeight[] = [];
  for (const q of params.values()) {
    const name = parseQuantName(q.args.path);
    if (name?.part !== 'q') continue;
    const names = quantNames(name.path, name.spec);
    const scale = params.get(names.scale);
    const zero = names.zero === undefined ? undefined : params.get(names.zero);
    if (!scale || (names.zero !== undefined && !zero)) continue; // not a whole weight: plain params
    const w: QuantWeight = { path: name.path, spec: name.spec, q, scale, ...(zero ? { zero } : {}) };
    sources.push(w);
    const weightOnly = (n: Node) => (readers.get(n) ?? []).filter((r) => !fromInputs.has(r));
    for (const d of dequantizations(w, weightOnly)) weights.set(d, w);
  }
  const leaves = (): Node[] => reachableFrom(outputs, (n) => weights.has(n));
  let nodes = sources.length > 0 ? leaves() : all;
  const left = new Set(nodes.filter((n) => n.op === 'param'));
  const unmatched = sources.filter((w) => [w.q, w.scale, w.zero].some((p) => p && left.has(p)));
  for (const w of unmatched) {
    for (const [d, v] of weights) if (v === w) weights.delete(d);
    warn(
      `weight '${w.path}' (${specText(w.spec)}) is read in a form the exporter does not recognize as the quantize pass's dequantization; it is exported as ordinary float ops on its int8 bytes, not as DequantizeLinear`,
    );
  }
  if (unmatched.length > 0) nodes = leaves();
  return { nodes, weights };
}

/** The nodes downstream of w.q (through `readers`: weight-only ones) that compute w's dequantized value. */
function dequantizations(w: QuantWeight, readers: (n: Node) => readonly Node[]): Node[] {
  const N = dimConstValue(w.q.args.shape[0]!);
  const canonical = new Map<string, Node | undefined>();
  const out: Node[] = [];
  const seen = new Set<Node>([w.q]);
  const todo: Node[] = [w.q];
  while (todo.length > 0) {
    for (const r of readers(todo.pop()!)) {
      if (seen.has(r)) continue;
      seen.add(r);
      todo.push(r);
      const shape = r.type.shape.map((d) => dimConstValue(d));
      if (!isFloat(r.type.dtype) || shape[0] !== N || shape.length < 2 || shape.some((d) => d === undefined)) continue;
      const key = argsKey(r.type);
      if (!canonical.has(key)) canonical.set(key, dequantizeOf(w, r.type));
      const c = canonical.get(key);
      if (c && same(r, c, new Set())) out.push(r);
    }
  }
  return out;
}

/** What the quantize pass makes of a param of w's path and spec with type `t`, if it takes it. */
function dequantizeOf(w: QuantWeight, t: TType): Node | undefined {
  const b = new Builder();
  const g = b.graph('w', { w: b.param(w.path, t.dtype, t.shape) });
  const ctx = { target: 'reference', mode: 'inference', hints: NO_HINTS } as const;
  try {
    const out = quantize.run(g, { ...ctx, options: { quantize: [{ path: w.path, spec: w.spec }] } });
    return out === g ? undefined : out.outputs[0]!.node;
  } catch (e) {
    if (e instanceof PassError) return undefined; // a group that does not divide this shape
    throw e;
  }
}

/** Whether `a` and `b` (of two graphs) are the same op on the same args, types and inputs. */
function same(a: Node, b: Node, memo: Set<string>): boolean {
  const key = `${a.id} ${b.id}`;
  if (memo.has(key)) return true;
  const equal =
    a.op === b.op &&
    a.inputs.length === b.inputs.length &&
    argsKey(a.args) === argsKey(b.args) &&
    argsKey(a.type) === argsKey(b.type) &&
    a.inputs.every((x, i) => same(x, b.inputs[i]!, memo));
  if (equal) memo.add(key);
  return equal;
}

/** fmc's int4 bytes (N rows of `width` bytes, src/ir/quantize.ts) as N·K values in [-8, 7], row-major. */
export function int4Values(bytes: ArrayLike<number>, N: number, K: number): Int8Array {
  const half = INT4_BLOCK / 2;
  const width = bytes.length / N;
  const out = new Int8Array(N * K);
  for (let n = 0; n < N; n++)
    for (let k = 0; k < K; k++) {
      const i = k % INT4_BLOCK;
      const b = bytes[n * width + (k - i) / 2 + (i % half)]!; // a signed byte
      out[n * K + k] = i < half ? ((b & 15) ^ 8) - 8 : b >> 4;
    }
  return out;
}

/** Values in [-8, 7] as ONNX INT4 raw data: element 2i in the low nibble of byte i, 2i + 1 in the high one. */
export function onnxInt4(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 2));
  for (let i = 0; i < values.length; i++) out[i >> 1]! |= (values[i]! & 15) << (4 * (i & 1));
  return out;
}

/** Emits the DequantizeLinear of quantized weights (once a weight) and the value of each match. */
export class QuantLowering {
  private readonly done = new Map<QuantWeight, string>();

  constructor(
    private readonly em: Emitter,
    /** A param's value, checked against its node. */
    private readonly host: (n: NodeOf<'param'>) => HostTensor,
  ) {}

  /** The value of `root`, a dequantization of `w`. */
  weight(root: Node, w: QuantWeight): string {
    const [N, G] = this.host(w.scale).shape as [number, number];
    const shape = root.type.shape.map((d) => dimConstValue(d)!);
    const K = shape.reduce((a, c) => a * c, 1) / N;
    let v = this.done.get(w) ?? this.dequantizeLinear(w, N, K, G);
    this.done.set(w, v);
    if (shape.length !== 2) v = this.em.op('Reshape', [v, this.em.i64(shape)]);
    return root.type.dtype === 'f32' ? v : cast(this.em, v, root.type.dtype);
  }

  private dequantizeLinear(w: QuantWeight, N: number, K: number, G: number): string {
    const int4 = w.spec.dtype === 'int4';
    const ints = (p: NodeOf<'param'>, values: ArrayLike<number>, dims: number[]): string => {
      const rawData = int4 ? onnxInt4(values) : encodeData('i8', values);
      const dataType = int4 ? ONNX_DTYPE.INT4 : ONNX_DTYPE.INT8;
      this.em.initializers.push({ name: p.args.path, dataType, dims, rawData });
      return p.args.path;
    };
    const q = this.host(w.q).data;
    const qv = ints(w.q, int4 ? int4Values(q, N, K) : q, [N, K]);
    const dims = G === 1 ? [N] : [N, G];
    const scale = w.scale.args.path;
    this.em.initializers.push({
      name: scale,
      dataType: ONNX_DTYPE.FLOAT,
      dims,
      rawData: encodeData('f32', this.host(w.scale).data),
    });
    const zero = w.zero ? [ints(w.zero, this.host(w.zero).data, dims)] : [];
    const attrs = G === 1 ? [attrInt('axis', 0)] : [attrInt('axis', 1), attrInt('block_size', K / G)];
    return this.em.op('DequantizeLinear', [qv, scale, ...zero], attrs);
  }
}
