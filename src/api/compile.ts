// `compile(pathOrSource, options)`: the whole pipeline from .fm to a runnable Model on the
// C target. Check and lower each model function, generate its plan and C source, build
// through the compile cache, and set up the weights (seeded, or from a safetensors file).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderDiagnostic } from '../frontend/diagnostics.js';
import { type Lowered, lowerFile } from '../frontend/lower.js';
import { type Host, nodeHost } from '../frontend/program.js';
import { concreteShape } from '../ir/interp.js';
import type { Dtype } from '../ir/dtype.js';
import type { SparseHint } from '../ir/module.js';
import { type HostTensor, showShape } from '../ir/value.js';
import { pruneWeights } from '../ir/sparsity.js';
import {
  type BuildOptions,
  type CompiledFunction,
  buildExecutable,
  generate,
  piped,
  seededWeights,
  weightBuffers,
} from '../runtime/compile.js';
import { Model } from '../runtime/model.js';
import { type Mode, PassError, type QuantRule } from '../passes/pass.js';
import { parseQuantName, withQuantized } from '../ir/quantize.js';
import { parseTableName, withTables } from '../ir/sparse-table.js';
import { parseTwoFourName } from '../ir/sparse-format.js';
import { graphParams } from '../ir/graph.js';
import { type Calibration, CalibrationError, checkCalibration, readCalibration } from '../passes/calibration.js';
import { readSafetensorsFile } from '../runtime/safetensors.js';
import { type CompiledWgsl, buildWgslExecutable } from '../runtime/wgsl-program.js';
import type { DeviceProfile } from '../kernels/device-profile.js';
import { generateWgslFor, locator, resolveProfile, sourceLookup } from './device-limits.js';
import { type CompiledCuda, CUDA_BACKEND, buildCudaExecutable, generateCuda } from '../runtime/cuda-program.js';
import { sharedGpu } from '../runtime/cuda-device.js';
import { threadsProblem } from '../runtime/native.js';

export interface CompileOptions extends BuildOptions {
  /**
   * `c` (default): C kernels through the system compiler; `wgsl`: WGSL kernels on WebGPU (the
   * `webgpu` package in Node), whose functions run with `await model.runAsync(inputs)`;
   * `cuda`: CUDA kernels compiled by NVRTC for this machine's GPU (runAsync only; a CudaError
   * when there is no GPU or driver, a CudaCompileError when NVRTC is missing).
   */
  readonly target?: 'c' | 'wgsl' | 'cuda';
  /**
   * WGSL: the device limits the kernels must fit (kernels are split to fit; what cannot is a
   * CompileError at the `.fm` line that needs it): a built-in's name (`default`, the WebGPU
   * minimums, which every adapter has; `swiftshader`) or a profile. Default: `default`.
   */
  readonly deviceProfile?: DeviceProfile | string;
  /** The model to compile when the file has several. */
  readonly model?: string;
  /** The functions to compile (default: every function of the model, `forward` first). */
  readonly fns?: readonly string[];
  /** Seed of the initial weights (default 0), as `fmc run` seeds them. */
  readonly seed?: number;
  /** Weights from a safetensors file instead of seeded initializers. */
  readonly weights?: string;
  /** Values for symbolic dims that weight shapes use (rare). */
  readonly dims?: Readonly<Record<string, number>>;
  /** `grad`: compile each function's value and the gradients of its scalar result, as `<fn>_grad`. */
  readonly mode?: Mode;
  /**
   * Hyperparameter overrides, as `fmc --set` gives them: `{ d: 64, act: 'relu' }`. A string
   * is a .fm compile-time expression (`'2 * 64'`, `'4 * d'`, `'relu'`, `'bf16'`, an enum
   * option); an unknown name, a bad value or a model that no longer checks is a CompileError.
   */
  readonly set?: Readonly<Record<string, number | boolean | string>>;
  /** The name that diagnostics in `set` give as their file (default `--set`; a teacher's: `--teacher-set`). */
  readonly setSource?: string;
  /**
   * The model-level compute precision (`fmc --precision`): in place of the model's own
   * `@precision` and its train section's `precision`; blocks inside keep their own `@precision`.
   */
  readonly precision?: Dtype;
  /**
   * Sparsity for every weight of rank ≥ 2 (`fmc --sparsity`), in place of the model's own
   * `@sparse`: magnitude pruning when the weights are bound (src/ir/sparsity.ts).
   */
  readonly sparsity?: SparseHint;
  /**
   * Whether `pathOrSource` is a file's path (`true`: the CLI's FILE, whatever its name) or
   * source text (`false`); by default a path when it ends in `.fm` and has no line break.
   */
  readonly isPath?: boolean;
  /**
   * Weight quantization over the model's `@quantize` hints, as `--quantize` gives it:
   * `[{ path: 'all', spec: { dtype: 'int8', symmetric: true } }]` (src/passes/pass.ts).
   */
  readonly quantize?: readonly QuantRule[];
  /**
   * int8 activations (every target; vpdpbusd on C where the CPU has VNNI): a calibration file's path (`fmc calibrate` writes them) or
   * its contents; the weight-quantized contractions it covers compute int8 × int8
   * (src/passes/quantize-act.ts). Another model's calibration is a CompileError.
   */
  readonly calibration?: string | { readonly file: string; readonly calibration: Calibration };
}

/** A model that does not check or lower; `message` holds the rendered diagnostics. */
export class CompileError extends Error {
  override name = 'CompileError';
}

export interface CompiledModel {
  readonly model: Model;
  readonly lowered: readonly Lowered[];
  /** The modules after the pass pipeline: what was compiled (`<fn>_grad` graphs in grad mode). */
  readonly modules: readonly Lowered[];
  /** The C target's functions (empty on WGSL). */
  readonly functions: readonly CompiledFunction[];
  /** The WGSL target's functions (empty on C). */
  readonly wgsl: readonly CompiledWgsl[];
  /** The CUDA target's functions (absent or empty elsewhere). */
  readonly cuda?: readonly CompiledCuda[];
  readonly weights: ReadonlyMap<string, HostTensor>;
}

/** A host that reads `virtual` from memory and everything else (std imports) from disk. */
function sourceHost(virtual: string, text: string): Host {
  const bytes = Buffer.from(text, 'utf8');
  return {
    read: (abs) => (abs === virtual ? bytes : nodeHost.read(abs)),
    display: (abs) => (abs === virtual ? path.basename(virtual) : nodeHost.display(abs)),
  };
}

function lowerOne(file: string, host: Host, opts: CompileOptions, fn: string | undefined, training: boolean): Lowered {
  const r = lowerFile(
    file,
    {
      model: opts.model,
      fn,
      set: opts.set,
      ...(opts.setSource ? { setSource: opts.setSource } : {}),
      precision: opts.precision,
      sparsity: opts.sparsity,
      training,
    },
    host,
  );
  if (r.ok) return r.lowered;
  throw new CompileError(r.diagnostics.map((d) => renderDiagnostic(d, (f) => r.program.source(f))).join('\n\n'));
}

/**
 * Lowers every requested function of the model (`forward` first when it exists); `training`
 * lowers the training variant (dropout on, buffer updates), as a train step needs.
 */
const isPathArg = (pathOrSource: string, opts: CompileOptions): boolean =>
  opts.isPath ?? (!pathOrSource.includes('\n') && pathOrSource.endsWith('.fm'));

export function lowerModel(pathOrSource: string, opts: CompileOptions = {}, training = false): Lowered[] {
  const isPath = isPathArg(pathOrSource, opts);
  if (isPath && !fs.existsSync(pathOrSource)) throw new CompileError(`${pathOrSource}: no such file`);
  const file = isPath ? path.resolve(pathOrSource) : path.resolve('<source>.fm');
  const host = isPath ? nodeHost : sourceHost(file, pathOrSource);
  const first = lowerOne(file, host, opts, opts.fns?.[0], training);
  const names = opts.fns ?? [first.graph.name, ...first.functions.filter((f) => f !== first.graph.name)];
  return names.map((fn) => (fn === first.graph.name ? first : lowerOne(file, host, opts, fn, training)));
}

/** Param values from a safetensors file, checked against the model. */
export function readWeights(l: Lowered, file: string, dims: ReadonlyMap<string, number>): Map<string, HostTensor> {
  return weightsFrom(l, readSafetensorsFile(file).tensors, file, dims);
}

/**
 * The model's params from the tensors of `file`: each present with its dtype and shape, or
 * stood in for by its quantized params (src/ir/quantize.ts) or block table
 * (src/ir/sparse-table.ts), which are kept too.
 */
export function weightsFrom(
  l: Pick<Lowered, 'model' | 'params'>,
  tensors: ReadonlyMap<string, HostTensor>,
  file: string,
  dims: ReadonlyMap<string, number>,
): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  const quantized = new Set<string>();
  for (const [name, t] of tensors) {
    const q = parseQuantName(name) ?? parseTableName(name) ?? parseTwoFourName(name);
    if (q && l.params.some((p) => p.path === q.path)) (out.set(name, t), quantized.add(q.path));
  }
  for (const p of l.params) {
    const t = tensors.get(p.path);
    if (!t && quantized.has(p.path)) continue;
    if (!t) throw new CompileError(`${file}: no tensor "${p.path}" (a ${p.role} of ${l.model})`);
    const want = concreteShape(p.shape, dims);
    if (t.dtype !== p.dtype || t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i]))
      throw new CompileError(
        `${file}: tensor "${p.path}" is ${showShape(t.dtype, t.shape)}, but ${l.model} needs ${showShape(p.dtype, want)}`,
      );
    out.set(p.path, t);
  }
  return out;
}

/**
 * Refuses a `threads` or `seed` option that is no count or seed (a CompileError, before
 * anything is compiled): threads an integer in [1, MAX_THREADS], seed a safe integer.
 */
export function checkOptions(opts: Pick<CompileOptions, 'threads' | 'seed'>): void {
  const threads = opts.threads !== undefined ? threadsProblem(opts.threads) : undefined;
  if (threads) throw new CompileError(threads);
  if (opts.seed !== undefined && !Number.isSafeInteger(opts.seed))
    throw new CompileError(`seed must be a safe integer, got ${String(opts.seed)}`);
}

/** Compiles a .fm file (or source text) for the C, WGSL or CUDA target and returns the runnable model with its parts. */
export function compileModel(pathOrSource: string, opts: CompileOptions = {}): CompiledModel {
  checkOptions(opts);
  const target = opts.target ?? 'c';
  if (target !== 'c' && target !== 'wgsl' && target !== 'cuda')
    throw new CompileError(`target '${String(target)}': the targets are c, wgsl and cuda`);
  const profile = target === 'wgsl' ? resolveProfile(opts.deviceProfile) : undefined;
  // No GPU or driver is said before any compiling.
  if (target === 'cuda') sharedGpu();
  opts.onProgress?.('checking and lowering');
  const lowered = lowerModel(pathOrSource, opts);
  const dims = new Map(Object.entries(opts.dims ?? {}));
  const values = opts.weights
    ? readWeights(lowered[0]!, opts.weights, dims)
    : seededWeights(lowered[0]!, opts.seed ?? 0, dims, opts.onProgress);
  pruneWeights(values, lowered[0]!); // the masks of `@sparse`, and the pruned weights
  const calibration = opts.calibration && calibrationFor(pathOrSource, opts, lowered, target);
  const modules = lowered.map((l) => {
    try {
      return piped(l, {
        mode: opts.mode,
        quantize: opts.quantize,
        ...(calibration ? { calibration } : {}),
        sparseTables: target === 'c',
      });
    } catch (e) {
      if (e instanceof PassError) throw new CompileError(`${l.model}.${l.graph.name}: ${e.message}`);
      throw e;
    }
  });
  // Quantized params (the quantize pass) and block tables (the sparsity pass) are derived from
  // the f32 weights here, once; only what the functions read is bound (no dense copy of a
  // weight they read compressed).
  const graphs = modules.map((m) => m.graph);
  const all = withTables(graphs, withQuantized(graphs, values));
  const used = new Set(graphs.flatMap((g) => graphParams(g).map((p) => p.args.path)));
  const buffers = weightBuffers(new Map([...all].filter(([p]) => used.has(p))));
  const source = isPathArg(pathOrSource, opts)
    ? []
    : ([[path.basename(path.resolve('<source>.fm')), pathOrSource]] as const);
  if (target === 'cuda') {
    const lookup = sourceLookup(new Map(source));
    const cuda = modules.map((m) => generateCuda(m, CUDA_BACKEND, locator(m, lookup)));
    const fns = new Map(cuda.map((f) => [f.plan.name, buildCudaExecutable(f, buffers)]));
    return {
      model: new Model(lowered[0]!.model, fns),
      lowered,
      modules,
      functions: [],
      wgsl: [],
      cuda,
      weights: all,
    };
  }
  if (profile) {
    const lookup = sourceLookup(new Map(source));
    const wgsl = modules.map((m) => generateWgslFor(m, profile, lookup));
    const fns = new Map(wgsl.map((f) => [f.plan.name, buildWgslExecutable(f, buffers)]));
    return { model: new Model(lowered[0]!.model, fns), lowered, modules, functions: [], wgsl, weights: all };
  }
  const functions = modules.map((m) => generate(m));
  const fns = new Map(functions.map((f) => [f.plan.name, buildExecutable(f, buffers, opts)]));
  return { model: new Model(lowered[0]!.model, fns), lowered, modules, functions, wgsl: [], weights: all };
}

/** The calibration of `opts.calibration`, read and checked against the model (`lowered`: the functions to compile). */
export function calibrationFor(
  pathOrSource: string,
  opts: CompileOptions,
  lowered: readonly Lowered[],
  target: string,
): Calibration {
  const given = opts.calibration!;
  const { file, calibration: c } = typeof given === 'string' ? { file: given, calibration: undefined } : given;
  try {
    const cal = c ?? readCalibration(file);
    const l0 = lowered[0]!;
    const of = lowered.find((l) => l.graph.name === cal.fn) ?? lowerModel(pathOrSource, { ...opts, fns: [cal.fn] })[0]!;
    const graphs = lowered.map((l) => l.graph);
    checkCalibration(cal, file, of.graph, graphs, l0.hints, opts.quantize ?? []);
    return cal;
  } catch (e) {
    if (e instanceof CalibrationError) throw new CompileError(e.message);
    throw e;
  }
}

/** Compiles a .fm file (or source text) for the C target, or (`target: 'wgsl'`) for WebGPU, or (`'cuda'`) for CUDA. */
export function compile(pathOrSource: string, opts: CompileOptions = {}): Model {
  return compileModel(pathOrSource, opts).model;
}
