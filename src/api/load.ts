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
import { isDtype } from '../ir/dtype.js';
import { concreteShape, EvalError } from '../ir/interp.js';
import type { TrainConfig } from '../ir/module.js';
import type { HostTensor } from '../ir/value.js';
import type { Plan } from '../kernels/plan.js';
import { STEP_INPUTS } from '../passes/train/index.js';
import { escapeControls } from '../frontend/diagnostics.js';
import { buildExecutable, checkPlanMatches, weightBuffers } from '../runtime/compile.js';
import { GpuWeights } from '../runtime/gpu-weights.js';
import { buildWgslExecutable } from '../runtime/wgsl-program.js';
import { readWgslFunction } from './wgsl-load.js';
import type { Executable } from '../runtime/executable.js';
import { Model } from '../runtime/model.js';
import { PlanFormatError, planFromJson } from '../runtime/plan-json.js';
import { readSafetensorsFile, SafetensorsError } from '../runtime/safetensors.js';
import { type TrainOverrides, TrainConfigError, defaultTrainConfig, overrideTrain } from '../runtime/schedule.js';
import {
  MANIFEST_FILE,
  MODULE_FORMAT,
  type ModuleTrain,
  OPTIMIZER_STATE_PREFIX,
  SOURCE_FILE,
  type SourceEntry,
  WEIGHTS_FILE,
  sha256,
} from './module.js';

export interface LoadOptions {
  /** The compile cache (default: $FMC_CACHE_DIR, else $XDG_CACHE_HOME/fmc, else ~/.cache/fmc). */
  readonly cacheDir?: string;
  /** OpenMP threads of the kernels (default: one per core). */
  readonly threads?: number;
  /** Told when a C compile starts (a cache miss). */
  readonly onProgress?: (message: string) => void;
}

type J = Record<string, unknown>;
const isObject = (v: unknown): v is J => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * The most bytes load() reads from plan.json or one C source (generated ones are far smaller):
 * a file that has grown past it is refused rather than read into memory.
 */
export const MAX_MODULE_TEXT_BYTES = 256 * 1024 * 1024;

/** What a file that is not a regular one is, for the error. */
function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Opens `file` only if it is a regular file (a symlink is followed, and judged by what it
 * points at): a FIFO, a device such as /dev/zero, a socket or a folder is refused before a
 * byte is read. O_NONBLOCK keeps the open of a FIFO from waiting for a writer.
 */
function openRegular(file: string, what: string): { fd: number; size: number } {
  const cannot = (why: string) => new PlanFormatError(`${file}: cannot read ${what}: ${why}`);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw cannot(
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a folder'
          : code === 'ENXIO'
            ? 'it is a socket, not a regular file'
            : (e as Error).message,
    );
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw cannot(`it is ${kindOf(st)}, not a regular file`);
  }
  return { fd, size: st.size };
}

/** A regular file's text, at most `cap` bytes (see openRegular). */
function readText(file: string, what: string, cap = MAX_MODULE_TEXT_BYTES): string {
  const { fd, size } = openRegular(file, what);
  try {
    if (size > cap)
      throw new PlanFormatError(
        `${file}: cannot read ${what}: it is ${size} bytes, over the limit of ${cap} bytes (not a file fmc compile wrote)`,
      );
    // Exactly the size fstat gave: a file that grows meanwhile is not followed.
    const buf = Buffer.alloc(size);
    let n = 0;
    while (n < size) {
      const got = fs.readSync(fd, buf, n, size - n, n);
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

interface ReadManifest {
  /** 'wgsl' for WGSL kernels (the source entries are then WGSL ones, checked at load). */
  target: 'c' | 'wgsl';
  model: string;
  dims: Map<string, number>;
  fns: [string, J, SourceEntry][];
  set?: Record<string, unknown>;
  train?: ModuleTrain;
}

/** JSON text with object keys sorted, to compare two values whatever their key order. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    isObject(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );

/**
 * A recorded train config, checked by rebuilding it: its entries as overrides of the defaults
 * (each checked as `--lr` and the rest are) must give back the same config.
 */
function trainConfigFromJson(v: unknown): TrainConfig | string {
  if (!isObject(v) || !isObject(v.optimizer) || !isObject(v.schedule))
    return 'not an object with optimizer and schedule';
  const [o, s] = [v.optimizer, v.schedule];
  const num = (x: unknown): number | undefined => (typeof x === 'number' ? x : undefined);
  const scale = v.lossScale;
  if (typeof v.loss !== 'string' || typeof v.precision !== 'string' || !isDtype(v.precision))
    return 'no loss function name or precision';
  if (scale !== 'none' && scale !== 'dynamic' && typeof scale !== 'number') return 'a bad lossScale';
  if (!['sgd', 'adam', 'adamw'].includes(o.kind as string)) return `an unknown optimizer ${JSON.stringify(o.kind)}`;
  if (!['constant', 'linear', 'cosine', 'step'].includes(s.kind as string))
    return `an unknown schedule ${JSON.stringify(s.kind)}`;
  const betas = Array.isArray(o.betas) && o.betas.length === 2 ? o.betas.map(num) : undefined;
  const overrides: TrainOverrides = {
    optimizer: o.kind as TrainConfig['optimizer']['kind'],
    lr: num(o.lr),
    momentum: num(o.momentum),
    nesterov: typeof o.nesterov === 'boolean' ? o.nesterov : undefined,
    betas: betas as [number, number] | undefined,
    eps: num(o.eps),
    weightDecay: num(o.weightDecay),
    schedule: s.kind as TrainConfig['schedule']['kind'],
    warmup: num(s.warmup),
    minLr: num(s.minLr),
    scheduleSteps: num(s.steps),
    every: num(s.every),
    gamma: num(s.gamma),
    clip: num(v.clip),
    accumulate: num(v.accumulate),
    batch: num(v.batch),
    steps: num(v.steps),
  };
  let cfg: TrainConfig;
  try {
    cfg = overrideTrain({ ...defaultTrainConfig(), loss: v.loss, precision: v.precision, lossScale: scale }, overrides);
  } catch (e) {
    if (e instanceof TrainConfigError) return e.message;
    throw e;
  }
  return canonical(cfg) === canonical(v) ? cfg : 'entries missing, extra or of the wrong type';
}

/** plan.json's `train`: a config fmc writes and the names of functions the module has. */
function readTrain(t: unknown, functions: J, bad: (what: string) => PlanFormatError): ModuleTrain {
  if (!isObject(t)) throw bad('"train" must be an object');
  const config = trainConfigFromJson(t.config);
  if (typeof config === 'string') throw bad(`"train.config" is not a train config fmc writes: ${config}`);
  const fn = (key: string, present: boolean): string | undefined => {
    const name = t[key];
    if (!present) {
      if (name !== undefined) throw bad(`"train.${key}" is given, but the config does not accumulate`);
      return undefined;
    }
    if (typeof name !== 'string' || !Object.hasOwn(functions, name))
      throw bad(`"train.${key}" must name a function of the module`);
    return name;
  };
  const seed = t.seed;
  if (!Number.isSafeInteger(seed) || (seed as number) < 0 || (seed as number) >= 2 ** 31)
    throw bad('"train.seed" must be an integer in [0, 2^31)');
  const accumulate = fn('accumulate', config.accumulate > 1);
  return {
    config,
    step: fn('step', true)!,
    ...(accumulate !== undefined ? { accumulate } : {}),
    evaluate: fn('evaluate', true)!,
    seed: seed as number,
  };
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
  let m: unknown;
  try {
    m = JSON.parse(readText(file, 'the module manifest'));
  } catch (e) {
    if (e instanceof PlanFormatError) throw e;
    throw new PlanFormatError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const bad = (what: string) => new PlanFormatError(`${file}: ${what}`);
  if (!isObject(m) || m.format !== MODULE_FORMAT)
    throw bad(`not an fmc module (expected "format": "${MODULE_FORMAT}"; compile it again with fmc compile)`);
  const { model, dims, sources, functions } = m;
  if (typeof model !== 'string') throw bad('"model" must be a string');
  if (!isObject(dims) || Object.values(dims).some((v) => !Number.isSafeInteger(v) || (v as number) < 0))
    throw bad('"dims" must map names to sizes');
  if (!isObject(functions) || !isObject(sources)) throw bad('"functions" and "sources" must be objects');
  if (m.target !== undefined && m.target !== 'wgsl') throw bad('"target" must be "wgsl" when given');
  const target = m.target === 'wgsl' ? 'wgsl' : 'c';
  const fns = Object.entries(functions).map(([fn, plan]): [string, J, SourceEntry] => {
    const src = Object.hasOwn(sources, fn) ? sources[fn] : undefined;
    if (target === 'wgsl') {
      if (!isObject(plan)) throw bad(`the plan of '${fn}' is not an object`);
      return [fn, plan, src as SourceEntry]; // checked by readWgslFunction
    }
    if (!isObject(src) || typeof src.file !== 'string' || !SOURCE_FILE.test(src.file) || typeof src.sha256 !== 'string')
      throw bad(`no valid source entry for function '${fn}'`);
    if (!isObject(plan)) throw bad(`the plan of '${fn}' is not an object`);
    return [fn, plan, { file: src.file, sha256: src.sha256 }];
  });
  if (fns.length === 0) throw bad('the module has no functions');
  const { set, train } = m;
  if (set !== undefined && !isObject(set)) throw bad('"set" must be an object');
  return {
    target,
    model,
    dims: new Map(Object.entries(dims as Record<string, number>)),
    fns,
    ...(set !== undefined ? { set } : {}),
    ...(train !== undefined ? { train: readTrain(train, functions, bad) } : {}),
  };
}

/** The weights of every param the plans use: present, and of the dtype and shape they declare. */
function readWeights(dir: string, plans: readonly Plan[], dims: ReadonlyMap<string, number>): Map<string, HostTensor> {
  const file = path.join(dir, WEIGHTS_FILE);
  // A FIFO or a device is refused before the reader opens it (a missing file is its to report).
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (st && !st.isFile())
    throw new SafetensorsError(`cannot read the weights: it is ${kindOf(st)}, not a regular file`, file);
  const tensors = readSafetensorsFile(file).tensors;
  const bad = (detail: string) => new SafetensorsError(`weights: ${detail}`, file);
  const out = new Map<string, HostTensor>();
  for (const p of plans.flatMap((plan) => plan.params)) {
    if (out.has(p.path)) continue;
    let want: number[];
    try {
      want = concreteShape(p.shape, dims);
    } catch (e) {
      if (e instanceof EvalError) throw new PlanFormatError(`${p.path}: ${e.message}`);
      throw e;
    }
    const t = tensors.get(p.path);
    if (!t && p.path.startsWith(OPTIMIZER_STATE_PREFIX) && p.init.fn === 'zeros') {
      // The optimizer state is not stored: it starts at zeros.
      out.set(p.path, { dtype: p.dtype, shape: want, data: new Float64Array(want.reduce((a, b) => a * b, 1)) });
      continue;
    }
    if (!t) throw bad(`no tensor "${p.path}" (a ${p.role} of the model)`);
    // safetensors has no 4-bit type: i4 params are written as I8, one value a byte.
    const i4 = p.dtype === 'i4' && t.dtype === 'i8' && t.data.every((v) => v >= -8 && v <= 7);
    if ((t.dtype !== p.dtype && !i4) || t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i]))
      throw bad(
        `tensor "${p.path}" is ${t.dtype}[${t.shape.join(', ')}], the plan needs ${p.dtype}[${want.join(', ')}]`,
      );
    out.set(p.path, i4 ? { ...t, dtype: 'i4' } : t);
  }
  const extra = [...tensors.keys()].find((k) => !out.has(k));
  if (extra !== undefined) throw bad(`tensor "${extra}" is not a param of any compiled function`);
  return out;
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
  const root = path.resolve(dir instanceof URL ? fileURLToPath(dir) : dir);
  const manifest = readManifest(root);
  if (manifest.target === 'wgsl') return loadWgsl(root, manifest);
  const fns = manifest.fns.map(([fn, obj, src]) => {
    const file = path.join(root, src.file);
    const source = readText(file, `the C source of '${fn}'`);
    if (sha256(source) !== src.sha256)
      throw new PlanFormatError(`${file}: the C source does not match plan.json (edited?); compile the model again`);
    // The same bytes generate() hashed: see module.ts on why re-stringifying reproduces them.
    checkPlanMatches(`${JSON.stringify(obj)}\n`, source, file);
    const plan = planFromJson(obj, Array.isArray(obj.kernels) ? obj.kernels.length : 0);
    if (plan.name !== fn) throw new PlanFormatError(`${file}: the plan of '${fn}' is named '${plan.name}'`);
    return { fn, plan, source };
  });
  const weights = weightBuffers(
    readWeights(
      root,
      fns.map((f) => f.plan),
      manifest.dims,
    ),
  );
  const train = manifest.train;
  if (train) checkTrainPlans(path.join(root, MANIFEST_FILE), train, new Map(fns.map((f) => [f.fn, f.plan])));
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

/** A WGSL module's Model (its pipelines are made in the background; runAsync waits for them). */
function loadWgsl(root: string, manifest: ReadManifest): Model {
  const fns = manifest.fns.map(([fn, obj, src]) => readWgslFunction(root, fn, obj, src, readText));
  const weights = weightBuffers(
    readWeights(
      root,
      fns.map((f) => f.plan),
      manifest.dims,
    ),
  );
  const train = manifest.train;
  if (train) checkTrainPlans(path.join(root, MANIFEST_FILE), train, new Map(fns.map((f) => [f.fn, f.plan])));
  // With a train step, the functions share the GPU copies of the weights, which stay on the
  // GPU between steps (the trainer's sync brings the host copies up to date).
  const shared = train ? new GpuWeights(weights, 'device') : undefined;
  const exes = new Map(fns.map((f) => [f.fn, buildWgslExecutable(f, weights, shared)]));
  return new Model(manifest.model, exes, train && { ...train, buffers: weights, set: manifest.set ?? {} });
}
