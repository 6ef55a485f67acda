// `fmc run FILE --target c|wgsl|cuda`: compiles the function for the C target (through the
// compile cache), the WGSL one (WebGPU) or the CUDA one (NVRTC, a GPU) and runs it once on the
// same inputs and seeded weights as the reference target, so `--save-outputs` of the two can be
// compared. Also the compile step `fmc bench` shares.

import { type CompiledModel, CompileError, compileModel } from '../api/compile.js';
import { fromHost, toHost } from '../runtime/tensor.js';
import type { DeviceProfile } from '../kernels/device-profile.js';
import { cliProfile } from './device-profile.js';
import { parseQuantize, warnUnusedQuantize } from './quantize-rules.js';
import { EXIT, type Io } from './io.js';
import {
  CliError,
  type ModelOptions,
  parseDims,
  parsePrecision,
  parseSparsityOption,
  parseSeed,
  parseSet,
  warnUnusedDims,
} from './model.js';
import { checkGradOptions, namedAsync, report, type RunOptions, runInputs } from './run.js';

export interface CliCompileOptions {
  readonly model?: string;
  readonly fn?: string;
  readonly seed: number;
  readonly weights?: string;
  /** The --dims given: they also size weights whose shapes use symbolic dims. */
  readonly dims: ReadonlyMap<string, number>;
  /** Kernel threads; default: OpenMP's (one per core). */
  readonly threads?: number;
  /** Compile the function's gradient too (`--grad`). */
  readonly grad?: boolean;
  /** `--set name=value` as given (parsed here, see parseSet). */
  readonly set?: readonly string[];
  /** `--precision` as given (parsed here). */
  readonly precision?: string;
  /** `--sparsity` as given (parsed here). */
  readonly sparsity?: string;
  /** c (default), wgsl or cuda. */
  readonly target?: 'c' | 'wgsl' | 'cuda';
  /** wgsl: the device limits to fit (default: the WebGPU minimums). */
  readonly device?: DeviceProfile;
  /** `--quantize path=spec` as given (parsed here, see parseQuantize). */
  readonly quantize?: readonly string[];
  /** `--calibration FILE`: int8 activations. */
  readonly calibration?: string;
}

/**
 * compileModel for one function, with progress on a terminal. A CompileError that holds
 * rendered diagnostics is printed as is and closed like `lowerForCli` closes it; one-line
 * CompileErrors (a missing file, weights that do not fit) become `fmc: message`.
 */
export function compileForCli(io: Io, file: string, o: CliCompileOptions): CompiledModel {
  const progress = io.progress;
  const set = parseSet(o.set);
  const quantize = parseQuantize(o.quantize);
  try {
    const compiled = compileModel(file, {
      // FILE is a path whatever its name, as the reference target reads it (never source text).
      isPath: true,
      set,
      precision: parsePrecision(o.precision),
      sparsity: parseSparsityOption(o.sparsity),
      model: o.model,
      fns: [o.fn ?? 'forward'],
      seed: o.seed,
      weights: o.weights,
      dims: Object.fromEntries(o.dims),
      threads: o.threads,
      mode: o.grad ? 'grad' : 'inference',
      ...(quantize ? { quantize } : {}),
      ...(o.calibration ? { calibration: o.calibration } : {}),
      target: o.target ?? 'c',
      ...(o.device ? { deviceProfile: o.device } : {}),
      onProgress: progress && ((m) => progress(m)),
    });
    warnUnusedQuantize(io, compiled.lowered[0]!, quantize);
    return compiled;
  } catch (e) {
    if (e instanceof Error && (e.name === 'CudaError' || e.name === 'CudaCompileError')) throw new CliError(e.message);
    if (!(e instanceof CompileError)) throw e;
    if (!/: (error|warning) FM\d{4}:/.test(e.message)) throw new CliError(e.message);
    io.err(`${e.message}\n\n`);
    throw new CliError(`cannot compile ${file}`, /: error FM9999:/.test(e.message) ? EXIT.internal : EXIT.user);
  } finally {
    progress?.('');
  }
}

export async function runC(
  io: Io,
  file: string,
  opts: RunOptions & ModelOptions & { readonly target: 'c' | 'wgsl' | 'cuda' },
): Promise<number> {
  const given = parseDims(opts.dims);
  const seed = parseSeed(opts.seed);
  // Checked before compiling: it needs no model and compiling may take seconds.
  checkGradOptions(opts);
  const device = await cliProfile(io, opts.deviceProfile, opts.target);
  const compiled = compileForCli(io, file, { ...opts, seed, dims: given, ...(device ? { device } : {}) });
  const g = compiled.modules[0]!.graph;
  warnUnusedDims(io, g, given);
  const { inputs, dims } = runInputs(io, g, given, seed, opts);
  const tensors = Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)]));
  // Every dim of the graph is passed: some (a step count, say) are not fixed by input shapes.
  const bound = Object.fromEntries([...dims].filter(([k]) => g.dims.includes(k)));
  const t0 = performance.now();
  // The WGSL target's first run also waits for its pipelines (made while the inputs were drawn).
  const out = await namedAsync(opts.inputs, () => compiled.model.runAsync(g.name, tensors, { dims: bound }));
  const ms = performance.now() - t0;
  const outputs = new Map(g.outputs.map((o) => [o.name, toHost(out[o.name]!)]));
  return report(io, { model: compiled.model.name, g, target: opts.target, seed, dims, inputs, outputs, ms }, opts);
}
