// `load(dir)`: a Model from a folder that `fmc compile` wrote (see module.ts for its layout).
//
// Nothing in the folder is trusted to be what plan.json says. Each function's C source must
// carry the sha256 of its plan (a plan that does not describe the kernels would send them
// buffers of the wrong size) and have the sha256 plan.json records for it, the weights must match the plans' params in name, dtype and
// shape, and the library is always built from the source through the hashed compile cache:
// no binary is ever loaded from the folder itself. (Running a module still runs its C code,
// as importing a package runs its JavaScript: the check is for consistency, not provenance.)
// A module with a train step (plan.json's `train`) gives `model.trainer()`: its config must be
// one fmc writes, its functions present and shaped as a train step, and the optimizer state,
// which the weights file leaves out, starts at zeros.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostTensor } from '../ir/value.js';
import type { Plan } from '../kernels/plan.js';
import { STEP_INPUTS } from '../passes/train/index.js';
import { escapeControls } from '../frontend/diagnostics.js';
import { buildExecutable, checkPlanMatches, weightBuffers } from '../runtime/compile.js';
import { GpuWeights } from '../runtime/gpu-weights.js';
import { buildWgslExecutable } from '../runtime/wgsl-program.js';
import { type ReadManifest, matchWeights, parseManifest } from './manifest.js';
import { readWgslFunction } from './wgsl-load.js';
import { type Executable, RunError } from '../runtime/executable.js';
import { Model } from '../runtime/model.js';
import { threadsProblem } from '../runtime/native.js';
import { PlanFormatError, planFromJson } from '../runtime/plan-json.js';
import { readSafetensorsFile, SafetensorsError } from '../runtime/safetensors.js';
import { FileAccessError, kindOf, readRegularText } from '../frontend/regular-file.js';
import { MANIFEST_FILE, type ModuleTrain, type SourceEntry, WEIGHTS_FILE, sha256 } from './module.js';
import { loadCuda } from './cuda-load.js';

export interface LoadOptions {
  /** The compile cache (default: $FMC_CACHE_DIR, else $XDG_CACHE_HOME/fmc, else ~/.cache/fmc). */
  readonly cacheDir?: string;
  /** OpenMP threads of the kernels (default: one per core). */
  readonly threads?: number;
  /** Told when a C compile starts (a cache miss). */
  readonly onProgress?: (message: string) => void;
}

/**
 * The most bytes load() reads from plan.json or one C source (generated ones are far smaller):
 * a file that has grown past it is refused rather than read into memory.
 */
export const MAX_MODULE_TEXT_BYTES = 256 * 1024 * 1024;

/** A regular file's text, at most `cap` bytes (see openRegular in frontend/regular-file.ts). */
function readText(file: string, what: string, cap = MAX_MODULE_TEXT_BYTES): string {
  try {
    return readRegularText(file, cap);
  } catch (e) {
    if (!(e instanceof FileAccessError)) throw e;
    const note = e.tooLarge ? ' (not a file fmc compile wrote)' : '';
    throw new PlanFormatError(`${file}: cannot read ${what}: ${e.why}${note}`);
  }
}

/** The train functions' plans agree with the config: the step's run-time scalars, the loss's inputs. */
function checkTrainPlans(file: string, t: ModuleTrain, plans: ReadonlyMap<string, Plan>): void {
  const bad = (what: string) => new PlanFormatError(`${file}: ${what}`);
  const evaluate = plans.get(t.evaluate)!;
  const batch = evaluate.inputs.map((i) => `${i.name}:${i.dtype}`).join(', ');
  const adam = t.config.optimizer.kind !== 'sgd';
  const scalars = [STEP_INPUTS.step, STEP_INPUTS.lr, ...(adam ? [STEP_INPUTS.stepSize, STEP_INPUTS.bias2Sqrt] : [])];
  for (const [fn, want] of [
    [t.step, scalars],
    [t.accumulate, [STEP_INPUTS.step]],
  ] as const) {
    if (fn === undefined) continue;
    const inputs = plans.get(fn)!.inputs;
    const own = inputs.filter((i) => !i.name.startsWith('train.'));
    if (own.map((i) => `${i.name}:${i.dtype}`).join(', ') !== batch)
      throw bad(`the train function '${fn}' does not take the inputs of '${t.evaluate}'`);
    const extra = inputs.filter((i) => i.name.startsWith('train.')).map((i) => i.name);
    if (extra.join(', ') !== want.join(', '))
      throw bad(`the train function '${fn}' takes ${extra.join(', ')}, the config needs ${want.join(', ')}`);
    if (!plans.get(fn)!.outputs.some((o) => o.name === evaluate.outputs[0]?.name))
      throw bad(`the train function '${fn}' does not give the loss '${evaluate.outputs[0]?.name}'`);
  }
}

/** plan.json, checked for the module format and the shape of its tables. */
function readManifest(dir: string): ReadManifest {
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(dir)) throw new PlanFormatError(`${dir}: no such folder`);
  return parseManifest(readText(file, 'the module manifest'), file);
}

/** The weights of every param the plans use: present, and of the dtype and shape they declare. */
function readWeights(dir: string, plans: readonly Plan[], dims: ReadonlyMap<string, number>): Map<string, HostTensor> {
  const file = path.join(dir, WEIGHTS_FILE);
  // A FIFO or a device is refused before the reader opens it (a missing file is its to report).
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (st && !st.isFile())
    throw new SafetensorsError(`cannot read the weights: it is ${kindOf(st)}, not a regular file`, file);
  return matchWeights(readSafetensorsFile(file).tensors, plans, dims, file);
}

let shown = false;

/**
 * A progress line on stderr when it is a terminal (nothing otherwise), as `fmc` shows one;
 * '' clears it. Typed modules pass it to load(), so the first import says what it compiles.
 */
export function terminalProgress(message: string): void {
  if (!process.stderr.isTTY || (message === '' && !shown)) return;
  shown = message !== '';
  process.stderr.write(`\r\x1b[2K${message ? `fmc: ${escapeControls(message)}` : ''}`);
}

/** Loads a folder written by `fmc compile` (a path, or a file: URL such as `new URL('.', import.meta.url)`). */
export function load(dir: string | URL, opts: LoadOptions = {}): Model {
  const threads = opts.threads !== undefined ? threadsProblem(opts.threads) : undefined;
  if (threads) throw new RunError(threads);
  const root = path.resolve(dir instanceof URL ? fileURLToPath(dir) : dir);
  const manifest = readManifest(root);
  if (manifest.target === 'wgsl') return loadWgsl(root, manifest);
  const fns = manifest.fns.map(([fn, obj, src]) =>
    readSource(root, fn, obj, src, manifest.target === 'cuda' ? 'CUDA' : 'C'),
  );
  if (manifest.target === 'cuda')
    return loadCuda(manifest, fns, moduleWeights(root, manifest, fns), {
      ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}),
      manifestFile: path.join(root, MANIFEST_FILE),
    });
  const { weights, train } = moduleWeights(root, manifest, fns);
  // Progress names the function and counts them: `forward (1/3): compiling 1 C file ...`.
  const say = opts.onProgress;
  const exes = new Map<string, Executable>(
    fns.map((f, i) => {
      const onProgress = say && ((m: string) => say(`${f.fn} (${i + 1}/${fns.length}): ${m}`));
      return [f.fn, buildExecutable(f, weights, { ...opts, onProgress })];
    }),
  );
  const training = train && { ...train, buffers: weights, set: manifest.set ?? {} };
  return new Model(manifest.model, exes, training);
}

/** A function's source (C, or a CUDA program) and plan, checked against plan.json. */
function readSource(root: string, fn: string, obj: Record<string, unknown>, src: SourceEntry, language: string) {
  const file = path.join(root, src.file);
  const source = readText(file, `the ${language} source of '${fn}'`);
  if (sha256(source) !== src.sha256)
    throw new PlanFormatError(
      `${file}: the ${language} source does not match plan.json (edited?); compile the model again`,
    );
  // The same bytes generate() hashed: see module.ts on why re-stringifying reproduces them.
  const planJson = `${JSON.stringify(obj)}\n`;
  checkPlanMatches(planJson, source, file, language);
  const plan = planFromJson(obj, Array.isArray(obj.kernels) ? obj.kernels.length : 0);
  if (plan.name !== fn) throw new PlanFormatError(`${file}: the plan of '${fn}' is named '${plan.name}'`);
  return { fn, plan, planJson, source };
}

/** The weights of a module's functions, and its train step checked against their plans. */
function moduleWeights(
  root: string,
  manifest: ReadManifest,
  fns: readonly { readonly fn: string; readonly plan: Plan }[],
): { weights: ReturnType<typeof weightBuffers>; train: ReadManifest['train'] } {
  const weights = weightBuffers(
    readWeights(
      root,
      fns.map((f) => f.plan),
      manifest.dims,
    ),
  );
  const train = manifest.train;
  if (train) checkTrainPlans(path.join(root, MANIFEST_FILE), train, new Map(fns.map((f) => [f.fn, f.plan])));
  return { weights, train };
}

/** A WGSL module's Model (its pipelines are made in the background; runAsync waits for them). */
function loadWgsl(root: string, manifest: ReadManifest): Model {
  const fns = manifest.fns.map(([fn, obj, src]) =>
    readWgslFunction(root, fn, obj, src, { join: path.join, readText, sha256 }),
  );
  const { weights, train } = moduleWeights(root, manifest, fns);
  // With a train step, the functions share the GPU copies of the weights, which stay on the
  // GPU between steps (the trainer's sync brings the host copies up to date).
  const shared = train ? new GpuWeights(weights, 'device') : undefined;
  const exes = new Map(fns.map((f) => [f.fn, buildWgslExecutable(f, weights, shared)]));
  return new Model(manifest.model, exes, train && { ...train, buffers: weights, set: manifest.set ?? {} });
}
