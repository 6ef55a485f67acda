// `fmc export FILE --onnx out.onnx`: the model function as an ONNX model with its weights
// (from --weights, or seeded exactly as `fmc run` seeds them). Symbolic dims stay dynamic.
// `@quantize` weights are exported as `fmc run` computes them: i8 initializers and the ops
// that dequantize them (not yet as ONNX's QDQ or MatMulNBits).

import { exportOnnx } from '../export/onnx.js';
import { graphParams } from '../ir/graph.js';
import { withQuantized } from '../ir/quantize.js';
import { runPipeline } from '../passes/pipeline.js';
import { EXIT, type Io } from './io.js';
import {
  CliError,
  loadParams,
  lowerForCli,
  type ModelOptions,
  parseDims,
  parseSeed,
  warnUnusedDims,
  writeOutput,
} from './model.js';

export interface ExportOptions extends ModelOptions {
  readonly onnx?: string;
}

export function exportCommand(io: Io, file: string, opts: ExportOptions): number {
  if (!opts.onnx) throw new CliError('export: give the output file with --onnx out.onnx', EXIT.usage);
  const given = parseDims(opts.dims);
  const seed = parseSeed(opts.seed);
  const lowered = runPipeline(lowerForCli(io, file, opts), { target: 'reference', mode: 'inference' });
  warnUnusedDims(io, lowered.graph, given);
  const used = new Set(graphParams(lowered.graph).map((p) => p.args.path));
  const all = withQuantized([lowered.graph], loadParams(lowered, given, seed, opts.weights, io));
  const params = new Map([...all].filter(([p]) => used.has(p)));
  const bytes = exportOnnx(lowered.graph, params, { producerVersion: '0.1.0' });
  const out = opts.onnx;
  writeOutput(out, bytes);
  const g = lowered.graph;
  const ins = g.inputs.map((n) => n.args.name).join(', ');
  const outs = g.outputs.map((o) => o.name).join(', ');
  io.err(
    `fmc: wrote ${out} (${lowered.model}.${g.name}: inputs ${ins}; outputs ${outs}; ${params.size} initializers; ${(bytes.length / 1024).toFixed(0)} KiB)\n`,
  );
  return EXIT.ok;
}
