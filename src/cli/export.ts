// `fmc export FILE --onnx out.onnx`: the model function as an ONNX model with its weights
// (from --weights, or seeded exactly as `fmc run` seeds them). Symbolic dims stay dynamic.
// Quantized weights (`@quantize`, `--quantize`) are exported as ONNX quantization: INT8 or
// INT4 initializers and a DequantizeLinear each (src/export/onnx-quant.ts).

import { exportOnnx } from '../export/onnx.js';
import { graphParams } from '../ir/graph.js';
import { withQuantized } from '../ir/quantize.js';
import { runPipeline } from '../passes/pipeline.js';
import { EXIT, type Io } from './io.js';
import { parseQuantize, warnUnusedQuantize } from './quantize-rules.js';
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
  /** `--quantize path=spec`, repeatable (quantize-rules.ts). */
  readonly quantize?: readonly string[];
}

export function exportCommand(io: Io, file: string, opts: ExportOptions): number {
  if (!opts.onnx) throw new CliError('export: give the output file with --onnx out.onnx', EXIT.usage);
  const given = parseDims(opts.dims);
  const seed = parseSeed(opts.seed);
  const quantize = parseQuantize(opts.quantize);
  const lowered = runPipeline(lowerForCli(io, file, opts), { target: 'reference', mode: 'inference', quantize });
  warnUnusedDims(io, lowered.graph, given);
  warnUnusedQuantize(io, lowered, quantize);
  const used = new Set(graphParams(lowered.graph).map((p) => p.args.path));
  const all = withQuantized([lowered.graph], loadParams(lowered, given, seed, opts.weights, io));
  const params = new Map([...all].filter(([p]) => used.has(p)));
  const warn = (m: string) => io.err(`fmc: warning: ${m}\n`);
  const bytes = exportOnnx(lowered.graph, params, { producerVersion: '0.1.0', warn });
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
