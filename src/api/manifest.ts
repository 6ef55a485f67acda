// plan.json and weights.safetensors of a module folder, checked after they are read: the
// checks load() makes, without Node imports, so the browser loader (src/browser) makes the
// same ones on the files it fetches.

import { isDtype } from '../ir/dtype.js';
import { initParam } from '../ir/init.js';
import { concreteShape, EvalError } from '../ir/interp.js';
import type { TrainConfig } from '../ir/module.js';
import { type HostTensor, showShape } from '../ir/value.js';
import type { Plan } from '../kernels/plan.js';
import { PlanFormatError } from '../runtime/plan-json.js';
import { SafetensorsError } from '../runtime/safetensors-codec.js';
import { type TrainOverrides, TrainConfigError, defaultTrainConfig, overrideTrain } from '../runtime/schedule.js';
import {
  MODULE_FORMAT,
  type ModuleTrain,
  OPTIMIZER_STATE_PREFIX,
  CUDA_FILE,
  SOURCE_FILE,
  type SourceEntry,
} from './module-names.js';

type J = Record<string, unknown>;
const isObject = (v: unknown): v is J => !!v && typeof v === 'object' && !Array.isArray(v);

export interface ReadManifest {
  /** 'wgsl' for WGSL kernels (the source entries are then WGSL ones, checked at load), 'cuda' for CUDA programs. */
  target: 'c' | 'wgsl' | 'cuda';
  model: string;
  dims: Map<string, number>;
  fns: [string, J, SourceEntry & { readonly kernels?: unknown }][];
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
    ...(isObject(v.prune)
      ? { prune: { start: num(v.prune.start)!, end: num(v.prune.end)!, every: num(v.prune.every)! } }
      : {}),
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

/** plan.json's text (read from `file`), checked for the module format and the shape of its tables. */
export function parseManifest(text: string, file: string): ReadManifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
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
  if (m.target !== undefined && m.target !== 'wgsl' && m.target !== 'cuda')
    throw bad('"target" must be "wgsl" or "cuda" when given');
  const target = m.target === 'wgsl' || m.target === 'cuda' ? m.target : 'c';
  const fileName = target === 'cuda' ? CUDA_FILE : SOURCE_FILE;
  const fns = Object.entries(functions).map(([fn, plan]): [string, J, SourceEntry] => {
    const src = Object.hasOwn(sources, fn) ? sources[fn] : undefined;
    if (target === 'wgsl') {
      if (!isObject(plan)) throw bad(`the plan of '${fn}' is not an object`);
      return [fn, plan, src as SourceEntry]; // checked by readWgslFunction
    }
    if (!isObject(src) || typeof src.file !== 'string' || !fileName.test(src.file) || typeof src.sha256 !== 'string')
      throw bad(`no valid source entry for function '${fn}'`);
    if (!isObject(plan)) throw bad(`the plan of '${fn}' is not an object`);
    // A CUDA entry's kernels (how each uses its arguments) are checked by cuda-load.ts.
    return [fn, plan, { file: src.file, sha256: src.sha256, ...(target === 'cuda' ? { kernels: src.kernels } : {}) }];
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

/**
 * The weights of every param the plans use, from the tensors of `file`: present, and of the
 * dtype and shape they declare; the optimizer state, which the file leaves out, at its
 * initial value (zeros, or the constant of the dynamic loss scale).
 */
export function matchWeights(
  tensors: ReadonlyMap<string, HostTensor>,
  plans: readonly Plan[],
  dims: ReadonlyMap<string, number>,
  file: string,
): Map<string, HostTensor> {
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
    if (!t && p.path.startsWith(OPTIMIZER_STATE_PREFIX) && (p.init.fn === 'zeros' || p.init.fn === 'constant')) {
      // The optimizer state is not stored: it starts at zeros (the dynamic loss scale at its constant).
      out.set(p.path, initParam(p, dims, 0));
      continue;
    }
    if (!t) throw bad(`no tensor "${p.path}" (a ${p.role} of the model)`);
    // safetensors has no 4-bit type: i4 params are written as I8, one value a byte.
    const i4 = p.dtype === 'i4' && t.dtype === 'i8' && t.data.every((v) => v >= -8 && v <= 7);
    if ((t.dtype !== p.dtype && !i4) || t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i]))
      throw bad(`tensor "${p.path}" is ${showShape(t.dtype, t.shape)}, the plan needs ${showShape(p.dtype, want)}`);
    out.set(p.path, i4 ? { ...t, dtype: 'i4' } : t);
  }
  const extra = [...tensors.keys()].find((k) => !out.has(k));
  if (extra !== undefined) throw bad(`tensor "${extra}" is not a param of any compiled function`);
  return out;
}
