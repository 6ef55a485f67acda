// `fmc compile FILE --target c|wgsl -o DIR`: a model's functions as a module folder that `load()`
// (or `import model from './DIR/index.mjs'`) runs: C sources, plan.json, the weights and a
// typed index.mjs/index.d.mts (src/api/module.ts has the layout). The sources are also built
// once through the compile cache, so a broken toolchain shows here rather than at load time,
// and the first load is a cache hit. `--train` adds the train step (and the accumulate step)
// of the model's loss, which `load(dir).trainer()` and the module's `trainer()` run.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Module as Lowered } from '../ir/module.js';
import { CompileError, calibrationFor } from '../api/compile.js';
import {
  CUDA_FILE,
  MANIFEST_FILE,
  MODULE_FORMAT,
  type ModuleTrain,
  OPTIMIZER_STATE_PREFIX,
  SOURCE_FILE,
  memoryReport,
  moduleFiles,
  sourceFileNames,
} from '../api/module.js';
import { lowerTrainStep } from '../api/train.js';
import { compileC, fmcVersion } from '../runtime/cache.js';
import type { Graph } from '../ir/graph.js';
import { printHints } from '../ir/print-hints.js';
import { printGraph, printGroups } from '../ir/print.js';
import { type Mode, PassError } from '../passes/pass.js';
import { passesFor, passNames } from '../passes/pipeline.js';
import { compiledName, generate, piped } from '../runtime/compile.js';
import type { DeviceProfile } from '../kernels/device-profile.js';
import { cudaForCli } from './compile-cuda.js';
import { explainLimits, wgslForCli } from './compile-wgsl.js';
import { cliProfile } from './device-profile.js';
import { EXIT, type Io } from './io.js';
import {
  CliError,
  defaultDim,
  loadParams,
  lowerForCli,
  parseDims,
  parsePrecision,
  parseSparsityOption,
  parseSeed,
  parseSet,
  writeOutput,
} from './model.js';
import { BROWSER_BUNDLE, browserBundle } from './browser-bundle.js';
import { parseQuantize, warnUnusedQuantize } from './quantize-rules.js';
import { withTables } from '../ir/sparse-table.js';
import { withQuantized } from '../ir/quantize.js';

export interface CompileCliOptions {
  readonly target?: string;
  /** With --target wgsl: also write fmc.js, the browser loader, next to the module. */
  readonly browser?: boolean;
  readonly out?: string;
  /** The .fm file (set by compileCommand). */
  readonly file?: string;
  readonly model?: string;
  readonly fn?: readonly string[];
  readonly dims?: string;
  readonly seed?: string;
  readonly weights?: string;
  readonly grad?: boolean;
  readonly dumpAfter?: string;
  /** `--set name=value`, repeatable: hyperparameter overrides (recorded in plan.json). */
  readonly set?: readonly string[];
  /** `--precision f32|f16|bf16`. */
  readonly precision?: string;
  /** `--sparsity 2:4 | block=b,density=p | density=p`. */
  readonly sparsity?: string;
  /** Also compile the train step of the model's loss (and the loss itself, to evaluate). */
  readonly train?: boolean;
  /** `--device-profile NAME|FILE` (WGSL), as given. */
  readonly deviceProfile?: string;
  /** The profile it names, resolved by compileCli (the default profile when absent). */
  readonly profile?: DeviceProfile;
  /** `--explain-limits` (WGSL): print what each kernel uses against the device profile. */
  readonly explainLimits?: boolean;
  /** `--quantize path=spec`, repeatable (quantize-option.ts). */
  readonly quantize?: readonly string[];
  /** `--calibration FILE`: int8 activations (calibrate-command.ts). */
  readonly calibration?: string;
}

/** The train step of the model's loss as `fmc compile --train` adds it: its modules and plan.json's `train`. */
function trainJobs(
  io: Io,
  file: string,
  opts: CompileCliOptions,
  seed: number,
): { modules: readonly Lowered[]; train: ModuleTrain } {
  io.progress?.(`lowering the train step of ${file}`);
  let step;
  try {
    step = lowerTrainStep(file, {
      ...(opts.model ? { model: opts.model } : {}),
      set: parseSet(opts.set),
      precision: parsePrecision(opts.precision),
      sparsity: parseSparsityOption(opts.sparsity),
    });
  } catch (e) {
    if (e instanceof CompileError) throw new CliError(e.message);
    throw e;
  }
  io.progress?.('');
  for (const w of step.warnings) io.err(`fmc: warning: ${w}\n`);
  if (step.config.prune)
    io.err(
      "fmc: warning: the module's trainer does not prune gradually (fmc train and compileTrainer do): " +
        'its masks are those bound here, pruned in one shot\n',
    );
  const [apply, accumulate] = step.modules;
  const train: ModuleTrain = {
    config: step.config,
    step: apply!.graph.name,
    ...(accumulate ? { accumulate: accumulate.graph.name } : {}),
    evaluate: step.config.loss,
    seed,
  };
  return { modules: step.modules, train };
}

/**
 * The functions to compile: each requested one as written, and with --grad (or a dump of a
 * pass only the grad pipeline runs) the gradient of the model's loss (`loss_grad`).
 */
function jobs(io: Io, lowered: readonly Lowered[], opts: CompileCliOptions): { l: Lowered; mode: Mode }[] {
  const out = lowered.map((l) => ({ l, mode: 'inference' as Mode }));
  const after = opts.dumpAfter;
  const gradOnly =
    after !== undefined &&
    after !== 'all' &&
    after !== 'lower' &&
    !passesFor('c', 'inference').some((p) => p.name === after);
  if (!opts.grad && !gradOnly && after !== 'all') return out;
  const first = lowered[0]!;
  const loss = first.train?.loss ?? 'loss';
  const l =
    lowered.find((x) => x.graph.name === loss) ??
    (first.functions.includes(loss)
      ? lowerForCli(io, opts.file!, {
          model: opts.model,
          fn: loss,
          set: opts.set,
          precision: opts.precision,
          sparsity: opts.sparsity,
        })
      : undefined);
  if (!l) {
    if (opts.grad || gradOnly)
      throw new CliError(`${first.model} has no \`${loss}\` function to differentiate (--grad)`);
    return out;
  }
  if (gradOnly && !opts.grad)
    io.err(`fmc: note: ${after} runs in grad mode only: dumping the gradient of ${first.model}.${loss}\n`);
  return [...out, { l, mode: 'grad' }];
}

/** Checks a --dump-after name: a pass of some pipeline, `lower` (before any pass) or `all`. */
function checkDumpAfter(name: string | undefined): void {
  if (name === undefined) return;
  const known = ['lower', ...passNames(), 'all'];
  if (!known.includes(name))
    throw new CliError(`--dump-after ${name}: no such pass; the names are ${known.join(', ')}`, EXIT.usage);
}

/** The IR text after a pass, with the module's hints on top and the kernel groups below once fused (`--dump-after`). */
function dumpText(l: Lowered, mode: Mode, pass: string, g: Graph): string {
  const groups = printGroups(g);
  return `// fmc: ${l.model}.${compiledName(l.graph.name, mode)} (target c, mode ${mode}) after ${pass}\n${printHints(l)}${printGraph(g)}${groups ? `${groups}` : ''}\n`;
}

function parseFns(list: readonly string[] | undefined): string[] | undefined {
  if (!list || list.length === 0) return undefined;
  const names = list.map((s) => s.trim());
  const bad = names.find((s) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(s));
  if (bad !== undefined) throw new CliError(`--fn: \`${bad}\` is not a function name`, EXIT.usage);
  return [...new Set(names)];
}

/**
 * Refuses an output that is a file, or a non-empty folder that is not an earlier fmc module
 * (we would mix our files into someone else's). Returns the source files of the earlier module.
 */
function checkOutDir(dir: string): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    return [];
  }
  if (!stat.isDirectory()) throw new CliError(`-o ${dir}: it is a file, not a folder`);
  if (fs.readdirSync(dir).length === 0) return [];
  try {
    const old = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as Record<string, unknown>;
    if (old.format === MODULE_FORMAT) {
      const sources = old.sources && typeof old.sources === 'object' ? Object.values(old.sources) : [];
      const files = sources.map((s) => (s && typeof s === 'object' ? (s as { file?: unknown }).file : undefined));
      const named = files.filter(
        (f): f is string => typeof f === 'string' && (SOURCE_FILE.test(f) || CUDA_FILE.test(f)),
      );
      return named.flatMap((f) => (f.endsWith('.cu') ? [f, `${f.slice(0, -3)}.ptx`] : [f]));
    }
  } catch {
    // no readable plan.json: not ours
  }
  throw new CliError(`-o ${dir}: the folder is not empty and holds no earlier fmc module; choose another`);
}

/** Every requested function lowered, diagnostics printed as `fmc run` prints them. */
function lowerAll(io: Io, file: string, opts: CompileCliOptions, fns: string[] | undefined): Lowered[] {
  const { model, set, precision, sparsity } = opts;
  const first = lowerForCli(io, file, { model, fn: fns?.[0], set, precision, sparsity });
  const names = fns ?? [first.graph.name, ...first.functions.filter((f) => f !== first.graph.name)];
  return names.map((fn) =>
    fn === first.graph.name ? first : lowerForCli(io, file, { model, fn, set, precision, sparsity }),
  );
}

const kib = (n: number): string => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);

export function compileCommand(io: Io, file: string, opts: CompileCliOptions): number {
  const target = opts.target ?? 'c';
  if (target !== 'c' && target !== 'wgsl' && target !== 'cuda')
    throw new CliError(`--target ${target}: the targets are c, wgsl and cuda`, EXIT.usage);
  checkDumpAfter(opts.dumpAfter);
  if (opts.explainLimits && target !== 'wgsl')
    throw new CliError('--explain-limits: only the WGSL target has device limits (--target wgsl)', EXIT.usage);
  if (!opts.out && opts.dumpAfter === undefined && !opts.explainLimits)
    throw new CliError(
      'compile: give the output folder with -o DIR (or only dump the IR with --dump-after PASS, or --explain-limits)',
      EXIT.usage,
    );
  const given = parseDims(opts.dims);
  if (opts.browser && target !== 'wgsl')
    throw new CliError('--browser: a browser runs the WGSL target (--target wgsl)', EXIT.usage);
  const seed = parseSeed(opts.seed);
  const fns = parseFns(opts.fn);
  const set = parseSet(opts.set);
  const stale = opts.out ? checkOutDir(opts.out) : [];
  const lowered = lowerAll(io, file, opts, fns);
  const training = opts.train ? trainJobs(io, file, opts, seed) : undefined;
  // The train step's loss, compiled for inference too: the trainer evaluates with it.
  const loss = training?.train.evaluate;
  if (loss !== undefined && !lowered.some((l) => l.graph.name === loss))
    lowered.push(
      lowerForCli(io, file, {
        model: opts.model,
        fn: loss,
        set: opts.set,
        precision: opts.precision,
        sparsity: opts.sparsity,
      }),
    );
  const quantize = parseQuantize(opts.quantize);
  warnUnusedQuantize(io, lowered[0]!, quantize);
  let calibration;
  try {
    calibration =
      opts.calibration !== undefined
        ? calibrationFor(
            file,
            { isPath: true, model: opts.model, set: parseSet(opts.set), quantize, calibration: opts.calibration },
            lowered,
            opts.target ?? 'c',
          )
        : undefined;
  } catch (e) {
    // A calibration file that cannot be read or does not fit the model: exit 1, not an internal error.
    if (e instanceof CompileError) throw new CliError(e.message);
    throw e;
  }
  const compiled = jobs(io, lowered, { ...opts, file }).map(({ l, mode }) => {
    const after = (pass: string, g: Graph): void => {
      if (opts.dumpAfter === 'all' || opts.dumpAfter === pass) io.out(dumpText(l, mode, pass, g));
    };
    try {
      // Without a train step no weight changes: block-sparse ones are kept as block tables alone.
      const sparseTables = target === 'c' && !opts.train;
      return piped(l, { mode, after, quantize, ...(calibration ? { calibration } : {}), sparseTables });
    } catch (e) {
      if (e instanceof PassError) throw new CliError(`${l.model}.${l.graph.name}: ${e.message}`);
      throw e;
    }
  });
  const modules = [...compiled, ...(training?.modules ?? [])];
  const clash = modules.find((m, i) => modules.findIndex((o) => o.graph.name === m.graph.name) !== i);
  if (clash)
    throw new CliError(
      `${clash.model} has a function named ${clash.graph.name}, the name of a compiled one; rename it`,
    );
  if (opts.explainLimits) explainLimits(io, file, modules, opts.profile);
  if (!opts.out) return EXIT.ok;
  const out = opts.out;
  const used = new Set(lowered.flatMap((l) => l.graph.dims));
  for (const name of given.keys())
    if (!used.has(name)) io.err(`fmc: warning: --dims ${name}: no compiled function uses a dim named ${name}\n`);
  io.progress?.(`initializing ${lowered[0]!.params.length} params`);
  // Quantized params and block tables are derived from the f32 weights and written in their place.
  const graphs = modules.map((m) => m.graph);
  const weights = withTables(graphs, withQuantized(graphs, loadParams(lowered[0]!, given, seed, opts.weights, io)));
  const wgsl = target === 'wgsl' ? modules.map((m) => wgslForCli(io, file, m, opts.profile)) : undefined;
  const cuda = target === 'cuda' ? cudaForCli(io, modules) : undefined;
  const functions =
    wgsl || cuda
      ? []
      : modules.map((m) => {
          io.progress?.(`generating C for ${m.model}.${m.graph.name}`);
          return generate(m);
        });
  for (const f of functions) compileC(f.source, { onProgress: io.progress });
  const built = wgsl ?? cuda?.programs ?? functions;
  io.progress?.('');
  const memory = built.map((f) => {
    const dims = new Map(f.plan.dims.map((d) => [d, given.get(d) ?? defaultDim(d)]));
    return memoryReport(f.plan, dims);
  });
  const files: [string, string | Uint8Array][] = moduleFiles({
    version: fmcVersion(),
    model: lowered[0]!.model,
    functions,
    ...(wgsl ? { wgsl } : {}),
    ...(cuda ? { cuda: cuda.programs } : {}),
    weights,
    dims: given,
    memory,
    set,
    ...(training ? { train: training.train } : {}),
  });
  if (opts.browser) files.unshift([BROWSER_BUNDLE, browserBundle()]);
  // Each CUDA program's PTX beside its `.cu` (not in plan.json: load() compiles the source).
  const bases = sourceFileNames(built.map((f) => f.plan.name)).map((c) => c.slice(0, -2));
  cuda?.ptx.forEach((ptx, i) => files.unshift([`${bases[i]!}.ptx`, ptx]));
  try {
    fs.mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create ${out}: ${(e as Error).message}`);
  }
  for (const [name, data] of files) writeOutput(path.join(out, name), data);
  // Sources of functions an earlier compile wrote and this one did not: plan.json no longer names them.
  const written = new Set(files.map(([name]) => name));
  for (const s of stale) if (!written.has(s)) fs.rmSync(path.join(out, s), { force: true });

  const kernels = built.reduce((n, f) => n + f.plan.kernels.length, 0);
  const launches = built.reduce((n, f) => n + f.plan.launches.length, 0);
  const codeBytes = wgsl
    ? wgsl.reduce((n, f) => n + f.sources.reduce((m, code) => m + Buffer.byteLength(code), 0), 0)
    : (cuda?.programs ?? functions).reduce((n, f) => n + Buffer.byteLength(f.source), 0);
  const allParams = new Set(built.flatMap((f) => f.plan.params.map((p) => p.path)));
  const usedParams = new Set([...allParams].filter((p) => !p.startsWith(OPTIMIZER_STATE_PREFIX)));
  const state = allParams.size - usedParams.size;
  const values = [...weights].filter(([p]) => usedParams.has(p)).reduce((n, [, t]) => n + t.data.length, 0);
  io.err(
    `fmc: wrote ${out} (${lowered[0]!.model}: ${built.length} function${built.length === 1 ? '' : 's'}, ` +
      `${kernels} kernels, ${launches} launches, ${kib(codeBytes)} of ${wgsl ? 'WGSL' : cuda ? `CUDA (and ${cuda.note})` : 'C'}, ${usedParams.size} params with ${values.toLocaleString('en-US')} values` +
      `${state > 0 ? `; ${state} optimizer state tensors, zeros at load` : ''})\n`,
  );
  built.forEach((f, i) => {
    const m = memory[i]!;
    const at =
      Object.entries(m.dims)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || 'no dims';
    io.err(
      `  ${f.plan.name}: ${f.plan.kernels.length} kernels, ${f.plan.launches.length} launches; ` +
        `arena ${kib(m.peakBytes)} at ${at} (lower bound ${kib(m.lowerBound)}, unshared ${kib(m.unsharedBytes)})\n`,
    );
  });
  return EXIT.ok;
}

/** compileCommand with user-facing failures (files, weights, the C toolchain) as `fmc: message` and exit 1. */
export async function compileCli(io: Io, file: string, opts: CompileCliOptions): Promise<number> {
  try {
    const profile = await cliProfile(io, opts.deviceProfile, opts.target ?? 'c');
    return compileCommand(io, file, { ...opts, ...(profile ? { profile } : {}) });
  } catch (e) {
    io.progress?.('');
    const user = [
      'CliError',
      'SafetensorsError',
      'CompileCacheError',
      'EvalError',
      'WebGpuError',
      'CudaError',
      'CudaCompileError',
    ];
    if (!(e instanceof Error) || !user.includes(e.constructor.name)) throw e;
    io.err(`fmc: ${e.message}\n`);
    return e instanceof CliError ? e.code : EXIT.user;
  }
}
