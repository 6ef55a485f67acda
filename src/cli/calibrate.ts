// `fmc calibrate FILE --data ...`: the activation ranges of int8 activations, written as a
// calibration file (src/api/calibrate.ts records them; src/passes/calibration.ts has the
// format). The data's fields feed the function's inputs by name, as for `fmc train`.

import { calibrate } from '../api/calibrate.js';
import { lowerModel } from '../api/compile.js';
import { Batches } from '../data/batches.js';
import { dimConstValue, dimToString } from '../ir/dims.js';
import { indexRanges } from '../ir/init.js';
import { EXIT, type Io } from './io.js';
import { CliError, parseSeed, parseSet, parseThreads, writeOutput } from './model.js';
import { parseQuantize, warnUnusedQuantize } from './quantize-rules.js';
import { openData, printDataNotes } from './train-data.js';

export interface CalibrateCliOptions {
  readonly data?: string;
  readonly batches?: string;
  readonly batch?: string;
  readonly method?: string;
  readonly out?: string;
  readonly fn?: string;
  readonly model?: string;
  readonly weights?: string;
  readonly seed?: string;
  readonly label?: string;
  readonly context?: string;
  readonly threads?: string;
  readonly set?: readonly string[];
  readonly quantize?: readonly string[];
}

function count(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isSafeInteger(v) || v < 1)
    throw new CliError(`--${name} must be a positive integer, got '${text}'`, EXIT.usage);
  return v;
}

export async function calibrateCommand(io: Io, file: string, o: CalibrateCliOptions): Promise<number> {
  const batches = count('batches', o.batches, 8);
  const batch = count('batch', o.batch, 32);
  const seed = parseSeed(o.seed);
  const threads = parseThreads(o.threads);
  const out = o.out ?? 'calib.json';
  const quantize = parseQuantize(o.quantize);
  const set = parseSet(o.set);
  const common = { isPath: true, model: o.model, set, ...(quantize ? { quantize } : {}) };
  io.progress?.(`checking and lowering ${file}`);
  const l = lowerModel(file, { ...common, fns: [o.fn ?? 'forward'] })[0]!;
  warnUnusedQuantize(io, l, quantize);
  const g = l.graph;
  const inputs = g.inputs.map((n) => ({
    name: n.args.name,
    dtype: n.args.dtype,
    shape: n.type.shape.map((d) => dimConstValue(d) ?? dimToString(d)),
  }));
  const data = openData(o.data!, inputs, indexRanges(g), {
    batch,
    ...(o.context ? { context: count('context', o.context, 64) } : {}),
    ...(o.label ? { label: o.label } : {}),
  });
  printDataNotes(io, data);
  const order = new Batches(data.dataset, { batchSize: batch, seed: 0, shuffle: false });
  const n = Math.min(batches, order.batchesPerEpoch);
  io.progress?.(`running ${n} batches of ${batch}`);
  const cal = calibrate(
    file,
    Array.from({ length: n }, () => order.next().tensors),
    {
      ...common,
      fn: o.fn ?? 'forward',
      seed,
      ...(o.weights ? { weights: o.weights } : {}),
      ...(o.method ? { method: o.method } : {}),
      ...(threads !== undefined ? { threads } : {}),
      data: o.data!,
    },
  );
  io.progress?.('');
  const text = `${JSON.stringify(cal, null, 2)}\n`;
  writeOutput(out, text);
  const keys = Object.keys(cal.entries);
  io.out(
    `${out}: ${keys.length} int8 contractions of ${cal.model}.${cal.fn} calibrated (${cal.method}) on ${cal.samples} samples of ${data.describe}\n`,
  );
  for (const k of keys)
    io.out(`  ${k}: range ${cal.entries[k]!.range.toPrecision(5)}, scale ${cal.entries[k]!.scale.toPrecision(5)}\n`);
  for (const [k, why] of Object.entries(cal.skipped)) io.out(`  ${k}: keeps f32 activations: ${why}\n`);
  if (keys.length === 0)
    io.err(
      'fmc: warning: no contraction reads a weight quantized per output channel (@quantize(int8), --quantize all=int8)\n',
    );
  return 0;
}
