// ONNX export of a graph-IR function (inference only: buffer updates are not exported).
// Default domain, opset 21, ir_version 10 (for INT4 and blocked DequantizeLinear). Inputs keep
// their names, outputs their result names, params become initializers named by path; every
// other name is generated. Symbolic dims stay dynamic: shapes in op args are computed at run
// time from the inputs' shapes (see onnx-dims.ts), so one exported model runs at every binding
// of its dims. Quantized weights become DequantizeLinear on INT8 / INT4 initializers
// (onnx-quant.ts).
//
// Where ONNX Runtime (CPU, checked with 1.30) may differ from the reference interpreter:
// - Max/Min: ORT 1.30 propagates NaN as fmc's maximum/minimum do; the ONNX spec does not
//   require it, so other runtimes (or older ORT builds) may return the other operand.
// - Cast float -> int: a bare ONNX Cast of NaN or out-of-range values is undefined (ORT gives
//   INT_MIN); the exporter adds IsNaN/Where/Clip to match fmc (truncate, saturate, NaN -> 0).
//   Float -> bool of NaN is true in both.
// - TopK: ties keep the lower index first in ORT, as fmc defines, but ONNX does not promise
//   it; NaN ordering (fmc: NaN above everything) is unspecified in ONNX.
// - Integer Div/Mod by zero: the interpreter gives 0; ORT 1.30 fails the run for Div
//   ("Integer division by zero") and Mod by zero is undefined.
// - Float results are computed in the tensor's dtype (f16/bf16 rounding per op), where the
//   interpreter keeps float64; bf16 and i8 ops without ORT CPU kernels are computed in
//   f32/i32 and cast back (see WIDEN in onnx-lower.ts), which rounds once per op.
// - `floor` atoms in dims are exact for any sign (Mod with fmod=0); integer Div of shape
//   values is only used where the division is exact.
// The tests avoid these inputs.

import { dimConstValue, dimToString } from '../ir/dims.js';
import type { Graph, Node, NodeOf } from '../ir/graph.js';
import type { HostTensor } from '../ir/value.js';
import { DimCompiler, DimError } from './onnx-dims.js';
import { Emitter, ExportError, onnxDtype } from './onnx-emit.js';
import { context, Lowering, opText } from './onnx-lower.js';
import { encodeModel, type ValueInfoProto } from './onnx-proto.js';
import { planQuantized, QuantLowering, specText } from './onnx-quant.js';

export { ExportError } from './onnx-emit.js';

export const ONNX_OPSET = 21;
export const ONNX_IR_VERSION = 10;

export interface ExportOptions {
  readonly producerVersion?: string;
  /** Hears what is exported other than asked (a quantized weight as float ops); default: a process warning. */
  readonly warn?: (message: string) => void;
}

/** Serializes `g` as an ONNX model with `params` (by path) as initializers. Throws ExportError. */
export function exportOnnx(g: Graph, params: ReadonlyMap<string, HostTensor>, options: ExportOptions = {}): Uint8Array {
  const warn = options.warn ?? ((m: string) => process.emitWarning(m, { code: 'FMC_EXPORT' }));
  // Updates are not exported; dequantized weights are leaves (onnx-quant.ts).
  const { nodes, weights } = planQuantized(
    g.outputs.map((o) => o.node),
    warn,
  );
  const quantParams = [...new Set(weights.values())].flatMap((w) => [w.q, w.scale, ...(w.zero ? [w.zero] : [])]);
  const paramPaths = [...nodes, ...quantParams].flatMap((n) => (n.op === 'param' ? [n.args.path] : []));
  const inputNames = g.inputs.map((n) => n.args.name);
  const userNames = new Set([...inputNames, ...paramPaths]);
  if (userNames.size < inputNames.length + new Set(paramPaths).size)
    throw new ExportError('an input and a parameter have the same name; ONNX needs distinct value names');
  const em = new Emitter(new Set([...userNames, ...g.outputs.map((o) => o.name)]));
  const values = new Map<number, string>();
  for (const n of [...g.inputs, ...nodes])
    if (n.type.dtype === 'i4') throw new ExportError(`${context(n)}: i4 tensors cannot be exported to ONNX`);
  for (const n of g.inputs) values.set(n.id, n.args.name);
  const sources = [...g.inputs, ...nodes.filter((n) => n.op === 'param')].map((n) => ({
    value: n.op === 'input' ? n.args.name : (n as NodeOf<'param'>).args.path,
    shape: n.type.shape,
  }));
  const lower = new Lowering(em, new DimCompiler(em, sources), values, params);
  const quant = new QuantLowering(em, (n) => lower.host(n));
  for (const n of nodes) {
    if (values.has(n.id)) continue;
    const w = weights.get(n);
    em.doc = w ? `${w.path}: dequantize ${specText(w.spec)}` : `${n.path || '(top)'}: ${opText(n)}`;
    try {
      values.set(n.id, w ? quant.weight(n, w) : lower.node(n));
    } catch (e) {
      if (e instanceof DimError) throw new ExportError(`${context(n)}: ${e.message}`);
      throw e;
    }
  }
  em.doc = '';
  const seen = new Set<string>();
  for (const o of g.outputs) {
    if (seen.has(o.name)) throw new ExportError(`two results are named '${o.name}'`);
    seen.add(o.name);
    const v = values.get(o.node.id)!;
    if (v === o.name) continue; // an input or a param returned under its own name
    if (userNames.has(o.name)) throw new ExportError(`result '${o.name}' has the name of an input or a parameter`);
    em.identity(v, o.name);
  }
  const info = (name: string, n: Node): ValueInfoProto => ({
    name,
    elemType: onnxDtype(n.type.dtype),
    shape: n.type.shape.map((d) => dimConstValue(d) ?? dimToString(d)),
  });
  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetImports: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'fmc',
    producerVersion: options.producerVersion ?? '',
    docString: `fmc export of '${g.name}'`,
    graph: {
      name: g.name,
      nodes: em.nodes,
      initializers: em.initializers,
      inputs: g.inputs.map((n) => info(n.args.name, n)),
      outputs: g.outputs.map((o) => info(o.name, o.node)),
    },
  });
}
