// The Trainer's parts and results (trainer.ts), and its persistent state on the host: which
// buffers it is made of (every param of its executables), typed views over them, writing a
// whole state in (everything checked before anything is written), and the check that a
// checkpoint belongs to the run loading it.

import { parseQuantName } from '../ir/quantize.js';
import { dimConstValue, dimToString } from '../ir/dims.js';
import { type IndexRange, rangeText } from '../ir/init.js';
import type { TrainConfig } from '../ir/module.js';
import { pruneText } from '../ir/sparsity.js';
import { type HostTensor, showShape } from '../ir/value.js';
import type { Plan, PlanParam, PlanTensor } from '../kernels/plan.js';
import { CheckpointError, type LoadedCheckpoint } from './checkpoint.js';
import { RunError, readTensor } from './run-args.js';
import { ELEMENT_BYTES, Tensor, fromHost, typedArray } from './tensor.js';
import { weightsChanged } from './weight-versions.js';
import type { Executable } from './executable.js';
import type { CudaExecutable } from './cuda-executable.js';
import type { GpuExecutable } from './gpu-executable.js';

/** What one call of `step` did. */
export interface StepResult {
  /** The loss of this micro-batch. */
  readonly loss: number;
  /** Whether the optimizer stepped (the last micro-batch of an accumulation). */
  readonly applied: boolean;
  /** The global gradient norm before clipping (applied steps only). */
  readonly gradNorm?: number;
  /** The learning rate of the update (applied steps only). */
  readonly lr?: number;
  /** `loss_scale = dynamic`, applied steps: whether the update was skipped (a gradient was Inf or NaN). */
  readonly skipped?: boolean;
  /** `loss_scale` set, applied steps: the scale (for `dynamic` the scale after this step, the next step's). */
  readonly lossScale?: number;
  /** Gradual pruning, steps after which the masks were updated: the share of the masked weights kept. */
  readonly density?: number;
}

/** The counters that, with the persistent buffers, are a trainer's whole state. */
export interface TrainCounters {
  /** `step` calls so far (micro-batches; keys dropout). */
  readonly micro: number;
  /** Optimizer updates so far (the schedule's step), skipped ones included. */
  readonly updates: number;
  /**
   * Of those, updates the dynamic loss scaler skipped (absent means 0): the optimizer's own
   * step count, which gives Adam's bias corrections, is `updates - skipped`.
   */
  readonly skipped?: number;
}

/**
 * Distillation: a frozen teacher whose logits on each micro-batch (its inputs taken from the
 * batch) feed the step's input `input`. Only the step and the accumulate step get them; the
 * evaluation is the student's own loss.
 */
export interface Teacher {
  readonly input: string;
  logits(batch: Readonly<Record<string, Tensor>>): Tensor;
  logitsAsync(batch: Readonly<Record<string, Tensor>>): Promise<Tensor>;
}

/** A compiled function of a trainer: C (run), WGSL or CUDA (runAsync only). */
export type StepExecutable = Executable | GpuExecutable | CudaExecutable;

export interface TrainerParts {
  readonly model: string;
  readonly config: TrainConfig;
  /** The whole step (`train` mode). */
  readonly apply: StepExecutable;
  /** The accumulate-only step, present when `config.accumulate > 1`. */
  readonly accumulate?: StepExecutable;
  /** The loss in inference mode (dropout off). */
  readonly evaluate: StepExecutable;
  /** Every persistent buffer by path: the model's params and buffers and the optimizer state. */
  readonly buffers: ReadonlyMap<string, ArrayBuffer>;
  /** The run's seed (a non-negative integer below 2^31): with the step counter, it keys dropout. */
  readonly seed?: number;
  /** Hyperparameter overrides in effect, recorded in checkpoints. */
  readonly set?: Readonly<Record<string, unknown>>;
  /** Distillation: the teacher whose logits the steps take. */
  readonly teacher?: Teacher;
  /**
   * Gradual pruning (with `config.prune`): prunes `state` (the masks, the masked params and
   * their optimizer state) to `fraction` of the schedule, in place: pruneWeights on the model.
   */
  readonly prune?: (state: Map<string, HostTensor>, fraction: number) => void;
  /** Whether the model the steps belong to was disposed (a typed module's `dispose()`): then every call is a RunError. */
  readonly disposed?: () => boolean;
  /**
   * The valid values of integer inputs by name (indexRanges of the loss): class labels below the
   * class count, token ids below the table size. A batch outside them is a RunError.
   */
  readonly indexRanges?: ReadonlyMap<string, IndexRange>;
}

/**
 * A RunError when an integer input of `batch` holds a value outside its range (a label of class 7
 * for 3 classes, which the loss would count as 0), naming the input and the element. Inputs that
 * are missing or not tensors are left to the call's own checks.
 */
export function checkIndexInputs(
  inputs: readonly PlanTensor[],
  ranges: ReadonlyMap<string, IndexRange> | undefined,
  batch: Readonly<Record<string, unknown>>,
): void {
  for (const spec of inputs) {
    const r = ranges?.get(spec.name);
    const t = r && batch[spec.name];
    if (!r || !(t instanceof Tensor)) continue;
    const what = `input '${spec.name}'`;
    const want = `${spec.dtype}[${spec.shape.map(dimToString).join(', ')}]`;
    const data = readTensor(what, t, spec.dtype, spec.shape.length, want).data as ArrayLike<number | bigint>;
    for (let i = 0; i < data.length; i++) {
      const v = Number(data[i]!);
      if (!(v >= 0 && v < r.size) && !r.ignored.includes(v))
        throw new RunError(`${what}: element ${i} is ${v}, not ${rangeText(r)}`);
    }
  }
}

export interface SaveOptions {
  /** How many checkpoints to keep in the folder (default 3). */
  readonly keep?: number;
  /** More to record: data files and hashes, the data position, metrics. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/**
 * The persistent buffers of the executables' plans, each path once, sorted. Quantized params
 * (`fc1.w:int8.q`) are not among them: they are derived from their f32 weight whenever it
 * changed (quantized-weights.ts), so a checkpoint holds the f32 weight alone.
 */
export function persistentParams(exes: readonly { readonly plan: Plan }[]): PlanParam[] {
  const seen = new Map<string, PlanParam>();
  for (const e of exes)
    for (const p of e.plan.params) if (!seen.has(p.path) && !parseQuantName(p.path)) seen.set(p.path, p);
  return [...seen.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A Tensor over the live host buffer of a param (its shape from the byte size: params have constant shapes here). */
export function viewOf(buffers: ReadonlyMap<string, ArrayBuffer>, p: PlanParam): Tensor {
  const buf = buffers.get(p.path)!;
  const n = buf.byteLength / ELEMENT_BYTES[p.dtype];
  const dims = p.shape.map((d) => dimConstValue(d) ?? NaN);
  if (dims.some((d) => !Number.isSafeInteger(d))) throw new RunError(`"${p.path}" has a symbolic shape`);
  return new Tensor(p.dtype, typedArray(p.dtype, n, buf), dims);
}

/** Writes every param's tensor (same dtype and shape, none missing or extra) into its host buffer; `what` names the source. */
export function writeState(
  model: string,
  buffers: ReadonlyMap<string, ArrayBuffer>,
  params: readonly PlanParam[],
  tensors: ReadonlyMap<string, HostTensor>,
  what: string,
): void {
  for (const p of params) {
    const t = tensors.get(p.path);
    if (!t) throw new RunError(`${what} has no tensor "${p.path}" (${model} needs it)`);
    const want = viewOf(buffers, p);
    if (t.dtype !== p.dtype || t.shape.length !== want.dims.length || t.shape.some((d, i) => d !== want.dims[i]))
      throw new RunError(
        `${what}: tensor "${p.path}" is ${showShape(t.dtype, t.shape)}, ${model} needs ${showShape(p.dtype, want.dims)}`,
      );
  }
  for (const [name] of tensors)
    if (!params.some((p) => p.path === name))
      throw new RunError(`${what} has a tensor "${name}" that ${model} does not`);
  for (const p of params) {
    const src = fromHost(tensors.get(p.path)!).data;
    const dst = viewOf(buffers, p).data;
    new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(
      new Uint8Array(src.buffer, src.byteOffset, src.byteLength),
    );
  }
  weightsChanged(params.map((p) => buffers.get(p.path)!));
}

/** What a checkpoint must match to be loaded by a run. */
export interface RunIdentity {
  readonly model: string;
  readonly seed: number;
  readonly set: Readonly<Record<string, unknown>>;
  readonly config: TrainConfig;
}

/** A CheckpointError when checkpoint `c` was written by another model or run set-up. */
export function checkRun(c: LoadedCheckpoint, run: RunIdentity): void {
  const i = c.info;
  if (i.model !== run.model) throw new CheckpointError(`${c.path}: a checkpoint of model ${i.model}, not ${run.model}`);
  if ((i.seed ?? 0) !== run.seed)
    throw new CheckpointError(`${c.path}: written by a run with seed ${i.seed}, this one has ${run.seed}`);
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  if (!same(i.set ?? {}, run.set))
    throw new CheckpointError(
      `${c.path}: written with hyperparameters ${JSON.stringify(i.set)}, this run has ${JSON.stringify(run.set)}`,
    );
  if (i.config?.accumulate !== run.config.accumulate || i.config?.optimizer?.kind !== run.config.optimizer.kind)
    throw new CheckpointError(
      `${c.path}: written with optimizer ${i.config?.optimizer?.kind} and accumulate ${i.config?.accumulate}, ` +
        `this run has ${run.config.optimizer.kind} and ${run.config.accumulate}`,
    );
  // Gradual pruning goes on from the checkpoint's masks only on the schedule that made them.
  const prune = (cfg: Partial<TrainConfig> | undefined): string =>
    cfg?.prune ? `gradual pruning ${pruneText(cfg.prune)}` : 'no gradual pruning';
  if (prune(i.config) !== prune(run.config))
    throw new CheckpointError(`${c.path}: written with ${prune(i.config)}, this run has ${prune(run.config)}`);
}
