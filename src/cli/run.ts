// `fmc run FILE --target reference`: runs a model function on the reference interpreter with
// seeded (or given) inputs and weights, and prints a summary of each output.

import type { Graph } from '../ir/graph.js';
import { indexBound, randomInput } from '../ir/init.js';
import { bindDims, EvalError, evaluate } from '../ir/interp.js';
import type { HostTensor } from '../ir/value.js';
import { readSafetensorsFile, writeSafetensors } from '../runtime/safetensors.js';
import { EXIT, type Io } from './io.js';
import {
  checkSize,
  CliError,
  loadParams,
  lowerForCli,
  type ModelOptions,
  parseDims,
  parseSeed,
  warnUnusedDims,
  withDefaults,
  writeOutput,
} from './model.js';

export interface RunOptions extends ModelOptions {
  readonly target?: string;
  readonly inputs?: string;
  readonly saveInputs?: string;
  readonly saveOutputs?: string;
  readonly json?: boolean;
}

export function runCommand(io: Io, file: string, opts: RunOptions): number {
  const target = opts.target ?? 'reference';
  if (target !== 'reference')
    throw new CliError(
      `--target ${target}: only the reference interpreter exists yet (--target reference)`,
      EXIT.usage,
    );
  const given = parseDims(opts.dims);
  const seed = parseSeed(opts.seed);
  const lowered = lowerForCli(io, file, opts);
  const g = lowered.graph;
  warnUnusedDims(io, g, given);
  let inputs: Map<string, HostTensor>;
  let dims: Map<string, number>;
  if (opts.saveInputs && opts.saveInputs === opts.saveOutputs)
    throw new CliError('--save-inputs and --save-outputs name the same file', EXIT.usage);
  if (opts.inputs) {
    const path = opts.inputs;
    inputs = readInputs(io, g, path);
    const shapes = new Map([...inputs].map(([k, t]) => [k, t.shape]));
    dims = named(path, () => bindDims(g, shapes, given));
    checkSize(lowered, dims);
  } else {
    dims = withDefaults(io, g, given, opts.json);
    checkSize(lowered, dims);
    inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, seed, indexBound(g, n))]));
  }
  const progress = io.progress;
  progress?.(`initializing ${lowered.params.length} params`);
  const params = loadParams(lowered, dims, seed, opts.weights, io);
  const t0 = performance.now();
  let last = 0;
  const { outputs } = named(opts.inputs, () =>
    evaluate(g, { inputs, params, dims }, (done, total, n) => {
      const now = performance.now();
      if (!progress || now - last < 100) return;
      last = now;
      progress(`evaluating node ${done + 1}/${total} (${n.op}${n.path ? ` in ${n.path}` : ''})`);
    }),
  );
  progress?.('');
  const ms = performance.now() - t0;
  if (opts.saveInputs) writeOutput(opts.saveInputs, writeSafetensors(inputs));
  if (opts.saveOutputs) writeOutput(opts.saveOutputs, writeSafetensors(outputs));
  const summary = [...outputs].map(([name, t]) => ({ name, ...summarize(t) }));
  const used = [...dims].filter(([k]) => g.dims.includes(k));
  if (opts.json) {
    const out = { model: lowered.model, fn: g.name, target, seed, dims: Object.fromEntries(used), outputs: summary };
    // JSON has no NaN or infinities: they are written as the strings "nan", "inf", "-inf".
    const json = JSON.stringify(
      out,
      (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? floatName(v) : v),
      2,
    );
    io.out(`${json}\n`);
    return EXIT.ok;
  }
  const dimText = [...used].map(([k, v]) => `${k}=${v}`).join(', ');
  io.out(`${lowered.model}.${g.name} on ${target} (${dimText || 'no dims'}; seed ${seed}; ${ms.toFixed(0)} ms)\n`);
  for (const s of summary) {
    const first = s.first.map(fmt).join(', ');
    io.out(
      `  ${s.name}: ${s.dtype}[${s.shape.join(', ')}]  mean ${fmt(s.mean)}  std ${fmt(s.std)}  first [${first}${s.count > s.first.length ? ', ...' : ''}]\n`,
    );
  }
  return EXIT.ok;
}

function readInputs(io: Io, g: Graph, path: string): Map<string, HostTensor> {
  const file = readSafetensorsFile(path).tensors;
  const out = new Map<string, HostTensor>();
  for (const n of g.inputs) {
    const t = file.get(n.args.name);
    if (!t) throw new CliError(`${path}: no tensor "${n.args.name}" (an input of ${g.name})`);
    if (t.dtype !== n.args.dtype)
      throw new CliError(`${path}: tensor "${n.args.name}" is ${t.dtype}, but ${g.name} takes ${n.args.dtype}`);
    out.set(n.args.name, t);
  }
  for (const k of file.keys())
    if (!out.has(k)) io.err(`fmc: warning: ${path}: tensor "${k}" is not an input of ${g.name}; ignored\n`);
  return out;
}

interface Summary {
  dtype: string;
  shape: number[];
  count: number;
  mean: number;
  std: number;
  first: number[];
}

function summarize(t: HostTensor): Summary {
  const n = t.data.length;
  let sum = 0;
  for (const x of t.data) sum += x;
  const mean = n > 0 ? sum / n : NaN;
  let sq = 0;
  for (const x of t.data) sq += (x - mean) * (x - mean);
  const std = n > 0 ? Math.sqrt(sq / n) : NaN;
  return { dtype: t.dtype, shape: [...t.shape], count: n, mean, std, first: [...t.data.subarray(0, 6)] };
}

const floatName = (x: number): string => (Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf');

/** Runs `f`; an EvalError about the inputs is reported with the file they came from. */
function named<T>(file: string | undefined, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (file && e instanceof EvalError) throw new CliError(`${file}: ${e.message}`);
    throw e;
  }
}

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toPrecision(5));
