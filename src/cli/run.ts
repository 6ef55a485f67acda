// `fmc run FILE [--target reference|c|wgsl|cuda]`: runs a model function with seeded (or given) inputs
// and weights, and prints a summary of each output. The reference target evaluates the graph
// here (in float64, each float result rounded to its dtype as the targets store it); the C
// target (run-c.ts) compiles it and runs the kernels. Both draw inputs and seed weights the
// same way, so their outputs can be compared file to file.

import type { Graph } from '../ir/graph.js';
import { indexBound, randomInput } from '../ir/init.js';
import { bindDims, checkRequires, EvalError, evaluate } from '../ir/interp.js';
import type { HostTensor } from '../ir/value.js';
import { readSafetensorsFile, writeSafetensors } from '../runtime/safetensors.js';
import { runPipeline } from '../passes/pipeline.js';
import { withQuantized } from '../ir/quantize.js';
import { parseQuantize, warnUnusedQuantize } from './quantize-rules.js';
import { EXIT, type Io } from './io.js';
import {
  checkSize,
  CliError,
  loadParams,
  lowerForCli,
  type ModelOptions,
  parseDims,
  parseSeed,
  parseSet,
  warnUnusedDims,
  withDefaults,
  writeOutput,
} from './model.js';

export interface RunOptions extends ModelOptions {
  readonly target?: string;
  readonly inputs?: string;
  readonly saveInputs?: string;
  readonly saveOutputs?: string;
  readonly grad?: boolean;
  readonly saveGrads?: string;
  readonly json?: boolean;
  /** `--device-profile NAME|FILE` (WGSL). */
  readonly deviceProfile?: string;
  /** `--quantize path=spec`, repeatable (quantize-option.ts). */
  readonly quantize?: readonly string[];
  /** `--calibration FILE`: int8 activations (calibrate-command.ts). */
  readonly calibration?: string;
}

/** The targets `fmc run` knows; an unknown one is a usage error that lists these. */
export const RUN_TARGETS = ['reference', 'c', 'wgsl', 'cuda'] as const;

export async function runCommand(io: Io, file: string, opts: RunOptions): Promise<number> {
  const target = opts.target ?? 'reference';
  if (!(RUN_TARGETS as readonly string[]).includes(target))
    throw new CliError(`--target ${target}: unknown target; the targets are ${RUN_TARGETS.join(', ')}`, EXIT.usage);
  if (opts.deviceProfile !== undefined && target !== 'wgsl')
    throw new CliError('--device-profile: only the WGSL target has device limits (--target wgsl)', EXIT.usage);
  if (target === 'c' || target === 'wgsl' || target === 'cuda') {
    // Loaded on use: the compiled paths pull in the code generators and the runtimes.
    const { runC } = await import('./run-c.js');
    return runC(io, file, { ...opts, target });
  }
  checkGradOptions(opts);
  const given = parseDims(opts.dims);
  const seed = parseSeed(opts.seed);
  const quantize = parseQuantize(opts.quantize);
  const l = lowerForCli(io, file, opts);
  warnUnusedQuantize(io, l, quantize);
  // Loaded on use, as the C target's paths are.
  const calibration =
    opts.calibration !== undefined
      ? (await import('../api/compile.js')).calibrationFor(
          file,
          { isPath: true, model: opts.model, set: parseSet(opts.set), quantize, calibration: opts.calibration },
          [l],
          'c',
        )
      : undefined;
  const lowered = runPipeline(l, {
    target: 'reference',
    mode: opts.grad ? 'grad' : 'inference',
    quantize,
    calibration,
  });
  const g = lowered.graph;
  warnUnusedDims(io, g, given);
  if (opts.saveInputs && opts.saveInputs === opts.saveOutputs)
    throw new CliError('--save-inputs and --save-outputs name the same file', EXIT.usage);
  const { inputs, dims } = runInputs(io, g, given, seed, opts, (d) => checkSize(lowered, d));
  const progress = io.progress;
  named(opts.inputs, () => checkRequires(lowered.requires, dims));
  const params = withQuantized([g], loadParams(lowered, dims, seed, opts.weights, io));
  const t0 = performance.now();
  let last = 0;
  const { outputs } = named(opts.inputs, () =>
    evaluate(
      g,
      { inputs, params, dims },
      {
        // The oracle role: every float result rounded to its dtype, as the C target stores it.
        precision: 'dtype',
        onNode: (done, total, n) => {
          const now = performance.now();
          if (!progress || now - last < 100) return;
          last = now;
          progress(`evaluating node ${done + 1}/${total} (${n.op}${n.path ? ` in ${n.path}` : ''})`);
        },
      },
    ),
  );
  progress?.('');
  const ms = performance.now() - t0;
  return report(io, { model: lowered.model, g, target, seed, dims, inputs, outputs, ms }, opts);
}

/**
 * The inputs of a run and the dims they bind: read from --inputs (dims bound from their
 * shapes), or drawn from the seed at the given dims plus defaults. `check` sees the dims
 * before anything is drawn (the reference target refuses sizes it cannot hold).
 */
export function runInputs(
  io: Io,
  g: Graph,
  given: ReadonlyMap<string, number>,
  seed: number,
  opts: RunOptions,
  check: (dims: ReadonlyMap<string, number>) => void = () => {},
): { inputs: Map<string, HostTensor>; dims: Map<string, number> } {
  if (opts.inputs) {
    const path = opts.inputs;
    const inputs = readInputs(io, g, path);
    const shapes = new Map([...inputs].map(([k, t]) => [k, t.shape]));
    const dims = named(path, () => bindDims(g, shapes, given));
    check(dims);
    return { inputs, dims };
  }
  const dims = withDefaults(io, g, given, opts.json);
  check(dims);
  const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, seed, indexBound(g, n))]));
  return { inputs, dims };
}

export interface RunResult {
  readonly model: string;
  readonly g: Graph;
  readonly target: string;
  readonly seed: number;
  readonly dims: ReadonlyMap<string, number>;
  readonly inputs: ReadonlyMap<string, HostTensor>;
  readonly outputs: ReadonlyMap<string, HostTensor>;
  readonly ms: number;
}

/** Usage errors of --grad and --save-grads, found before anything is compiled. */
export function checkGradOptions(opts: RunOptions): void {
  if (opts.saveGrads && !opts.grad) throw new CliError('--save-grads needs --grad', EXIT.usage);
  const files = [opts.saveInputs, opts.saveOutputs, opts.saveGrads].filter((f): f is string => f !== undefined);
  if (new Set(files).size < files.length) throw new CliError('two --save-* options name the same file', EXIT.usage);
}

/** Saves what --save-inputs/--save-outputs/--save-grads ask for and prints the summary (text or JSON). */
export function report(io: Io, r: RunResult, opts: RunOptions): number {
  const { g, target, seed, dims } = r;
  // The gradient outputs (`grad.<path>`) are reported apart from the function's own results.
  const grads = new Map(
    [...r.outputs].filter(([k]) => k.startsWith(GRAD_PREFIX)).map(([k, t]) => [k.slice(GRAD_PREFIX.length), t]),
  );
  const outputs = new Map([...r.outputs].filter(([k]) => !k.startsWith(GRAD_PREFIX)));
  if (opts.saveInputs) writeOutput(opts.saveInputs, writeSafetensors(r.inputs));
  if (opts.saveOutputs) writeOutput(opts.saveOutputs, writeSafetensors(outputs));
  if (opts.saveGrads) writeOutput(opts.saveGrads, writeSafetensors(grads));
  const summary = [...outputs].map(([name, t]) => ({ name, ...summarize(t) }));
  const norms = [...grads].map(([path, t]) => ({ path, dtype: t.dtype, shape: [...t.shape], norm: l2(t) }));
  const used = [...dims].filter(([k]) => g.dims.includes(k));
  if (opts.json) {
    const out = {
      model: r.model,
      fn: g.name,
      target,
      seed,
      dims: Object.fromEntries(used),
      outputs: summary,
      ...(opts.grad ? { grads: norms } : {}),
    };
    io.out(`${jsonText(out)}\n`);
    return EXIT.ok;
  }
  const dimText = [...used].map(([k, v]) => `${k}=${v}`).join(', ');
  io.out(`${r.model}.${g.name} on ${target} (${dimText || 'no dims'}; seed ${seed}; ${r.ms.toFixed(0)} ms)\n`);
  for (const s of summary) {
    const first = s.first.map(fmt).join(', ');
    io.out(
      `  ${s.name}: ${s.dtype}[${s.shape.join(', ')}]  mean ${fmt(s.mean)}  std ${fmt(s.std)}  first [${first}${s.count > s.first.length ? ', ...' : ''}]\n`,
    );
  }
  if (opts.grad) {
    io.out(`gradient norms (L2) of ${norms.length} param${norms.length === 1 ? '' : 's'}:\n`);
    const width = Math.max(0, ...norms.map((n) => n.path.length));
    for (const n of norms)
      io.out(`  ${n.path.padEnd(width)}  ${n.dtype}[${n.shape.join(', ')}]  ${n.norm.toExponential(4)}\n`);
  }
  return EXIT.ok;
}

/** JSON has no NaN or infinities: they are written as the strings "nan", "inf", "-inf". */
export function jsonText(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? floatName(v) : v),
    2,
  );
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

/** Runs `f`; an error about the inputs (EvalError, or the C runtime's RunError) names their file. */
export function named<T>(file: string | undefined, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw renamed(file, e);
  }
}

/** `named` for a function that returns a promise. */
export async function namedAsync<T>(file: string | undefined, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw renamed(file, e);
  }
}

function renamed(file: string | undefined, e: unknown): unknown {
  if (file && e instanceof Error && (e instanceof EvalError || e.name === 'RunError'))
    return new CliError(`${file}: ${e.message}`);
  return e;
}

const GRAD_PREFIX = 'grad.';

/** The L2 norm of a tensor's values. */
function l2(t: HostTensor): number {
  let s = 0;
  for (const x of t.data) s += x * x;
  return Math.sqrt(s);
}

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toPrecision(5));
