// Training on a compiled train step: one Executable for the whole step (forward, loss,
// backward, optimizer update), one for the accumulate-only micro-steps when the train
// section has `accumulate > 1`, and the loss compiled for inference to evaluate. They share
// one set of persistent buffers (params, buffers, optimizer state, gradient accumulators),
// which the steps update in place. Per step the host computes only the run-time scalars:
// the step counter, the scheduled learning rate and Adam's bias corrections.

import { dimConstValue } from '../ir/dims.js';
import type { TrainConfig } from '../ir/module.js';
import type { HostTensor } from '../ir/value.js';
import type { PlanParam, PlanTensor } from '../kernels/plan.js';
import { GRAD_NORM, STEP_INPUTS } from '../passes/train/index.js';
import { type Executable, RunError, weightsChanged } from './executable.js';
import { CheckpointError, type LoadedCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { biasCorrections, learningRate } from './schedule.js';
import { ELEMENT_BYTES, Tensor, fromHost, toHost, typedArray } from './tensor.js';

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
}

/** The counters that, with the persistent buffers, are a trainer's whole state. */
export interface TrainCounters {
  /** `step` calls so far (micro-batches; keys dropout). */
  readonly micro: number;
  /** Optimizer updates so far. */
  readonly updates: number;
}

export interface TrainerParts {
  readonly model: string;
  readonly config: TrainConfig;
  /** The whole step (`train` mode). */
  readonly apply: Executable;
  /** The accumulate-only step, present when `config.accumulate > 1`. */
  readonly accumulate?: Executable;
  /** The loss in inference mode (dropout off). */
  readonly evaluate: Executable;
  /** Every persistent buffer by path: the model's params and buffers and the optimizer state. */
  readonly buffers: ReadonlyMap<string, ArrayBuffer>;
  /** The run's seed (a non-negative integer below 2^31): with the step counter, it keys dropout. */
  readonly seed?: number;
  /** Hyperparameter overrides in effect, recorded in checkpoints. */
  readonly set?: Readonly<Record<string, unknown>>;
}

export interface SaveOptions {
  /** How many checkpoints to keep in the folder (default 3). */
  readonly keep?: number;
  /** More to record: data files and hashes, the data position, metrics. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

type Batch = Readonly<Record<string, Tensor>>;

const scalarF32 = (v: number): Tensor => new Tensor('f32', Float32Array.of(v), []);

export class Trainer {
  private micro = 0;
  private updates = 0;

  constructor(private readonly parts: TrainerParts) {
    if (parts.config.accumulate > 1 !== (parts.accumulate !== undefined))
      throw new RunError('a trainer needs an accumulate step exactly when accumulate > 1');
    const seed = parts.seed ?? 0;
    if (!Number.isSafeInteger(seed) || seed < 0 || seed >= 2 ** 31)
      throw new RunError(`the seed must be an integer in [0, 2^31), got ${seed}`);
  }

  get model(): string {
    return this.parts.model;
  }
  get config(): TrainConfig {
    return this.parts.config;
  }
  /** The loss function's inputs (what a batch holds). */
  get inputs(): readonly PlanTensor[] {
    return this.parts.evaluate.plan.inputs;
  }
  get counters(): TrainCounters {
    return { micro: this.micro, updates: this.updates };
  }

  /** The learning rate the next update will use. */
  get lr(): number {
    return learningRate(this.parts.config.optimizer.lr, this.parts.config.schedule, this.updates);
  }

  /** One micro-batch: accumulates its gradients, or (every `accumulate`-th) updates the params. */
  step(batch: Batch): StepResult {
    const cfg = this.parts.config;
    const applies = (this.micro + 1) % cfg.accumulate === 0;
    const inputs: Record<string, Tensor> = { ...batch };
    // The stream of `random` (dropout): the seed in the high 32 bits, the micro-step below.
    const stream = (BigInt(this.parts.seed ?? 0) << 32n) | BigInt(this.micro);
    inputs[STEP_INPUTS.step] = new Tensor('i64', BigInt64Array.of(stream), []);
    if (!applies) {
      const out = this.parts.accumulate!.run(inputs);
      this.micro++;
      return { loss: scalarOf(out, this.lossName), applied: false };
    }
    const lr = this.lr;
    inputs[STEP_INPUTS.lr] = scalarF32(lr);
    if (cfg.optimizer.kind !== 'sgd') {
      const [bc1, bc2] = biasCorrections(cfg.optimizer, this.updates);
      inputs[STEP_INPUTS.stepSize] = scalarF32(lr / bc1);
      inputs[STEP_INPUTS.bias2Sqrt] = scalarF32(Math.sqrt(bc2));
    }
    const out = this.parts.apply.run(inputs);
    this.micro++;
    this.updates++;
    return { loss: scalarOf(out, this.lossName), applied: true, gradNorm: scalarOf(out, GRAD_NORM), lr };
  }

  /** The loss on a batch with dropout off; changes nothing. */
  evaluate(batch: Batch): number {
    return scalarOf(this.parts.evaluate.run(batch), this.lossName);
  }

  /** Every persistent buffer (params, buffers, optimizer state, accumulators) as host tensors. */
  state(): Map<string, HostTensor> {
    const out = new Map<string, HostTensor>();
    for (const p of this.persistent()) out.set(p.path, toHost(this.view(p)));
    return out;
  }

  /**
   * Sets the whole state: every persistent buffer (same dtype and shape) and the counters.
   * Everything is checked before anything is written.
   */
  restore(tensors: ReadonlyMap<string, HostTensor>, counters: TrainCounters, what = 'the checkpoint'): void {
    const params = this.persistent();
    for (const p of params) {
      const t = tensors.get(p.path);
      if (!t) throw new RunError(`${what} has no tensor "${p.path}" (${this.model} needs it)`);
      const want = this.view(p);
      if (t.dtype !== p.dtype || t.shape.length !== want.dims.length || t.shape.some((d, i) => d !== want.dims[i]))
        throw new RunError(
          `${what}: tensor "${p.path}" is ${t.dtype}[${t.shape.join(', ')}], ${this.model} needs ${p.dtype}[${want.dims.join(', ')}]`,
        );
    }
    for (const [name] of tensors)
      if (!params.some((p) => p.path === name))
        throw new RunError(`${what} has a tensor "${name}" that ${this.model} does not`);
    for (const p of params) {
      const src = fromHost(tensors.get(p.path)!).data;
      const dst = this.view(p).data;
      new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(
        new Uint8Array(src.buffer, src.byteOffset, src.byteLength),
      );
    }
    weightsChanged(params.map((p) => this.parts.buffers.get(p.path)!));
    const ok = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
    if (!ok(counters.micro) || !ok(counters.updates)) throw new RunError(`${what}: bad step counters`);
    this.micro = counters.micro;
    this.updates = counters.updates;
  }

  /**
   * Writes a checkpoint (every persistent buffer, the counters, the config) into folder `dir`,
   * atomically, keeping the newest `keep`; returns its path.
   */
  save(dir: string, opts: SaveOptions = {}): string {
    return saveCheckpoint(
      dir,
      this.state(),
      {
        model: this.model,
        counters: this.counters,
        seed: this.parts.seed ?? 0,
        config: this.config,
        set: this.parts.set ?? {},
        extra: opts.extra ?? {},
      },
      opts.keep,
    );
  }

  /**
   * Restores the newest readable checkpoint of folder `dir` (or the checkpoint file `dir`):
   * a CheckpointError if it belongs to another model or run set-up, nothing changed then.
   */
  load(dir: string): LoadedCheckpoint {
    const c = loadCheckpoint(dir);
    const i = c.info;
    if (i.model !== this.model)
      throw new CheckpointError(`${c.path}: a checkpoint of model ${i.model}, not ${this.model}`);
    if ((i.seed ?? 0) !== (this.parts.seed ?? 0))
      throw new CheckpointError(
        `${c.path}: written by a run with seed ${i.seed}, this one has ${this.parts.seed ?? 0}`,
      );
    const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
    if (!same(i.set ?? {}, this.parts.set ?? {}))
      throw new CheckpointError(
        `${c.path}: written with hyperparameters ${JSON.stringify(i.set)}, this run has ${JSON.stringify(this.parts.set ?? {})}`,
      );
    if (i.config?.accumulate !== this.config.accumulate || i.config?.optimizer?.kind !== this.config.optimizer.kind)
      throw new CheckpointError(
        `${c.path}: written with optimizer ${i.config?.optimizer?.kind} and accumulate ${i.config?.accumulate}, ` +
          `this run has ${this.config.optimizer.kind} and ${this.config.accumulate}`,
      );
    try {
      this.restore(c.tensors, i.counters, c.path);
    } catch (e) {
      if (e instanceof RunError) throw new CheckpointError(e.message);
      throw e;
    }
    return c;
  }

  /**
   * The compiled executable of the whole step, the accumulate step or the evaluation (for
   * per-launch timings and memory plans: `fmc`'s benches and profiles).
   */
  executable(which: 'step' | 'accumulate' | 'evaluate'): Executable {
    const e = which === 'step' ? this.parts.apply : which === 'evaluate' ? this.parts.evaluate : this.parts.accumulate;
    if (!e) throw new RunError(`${this.model} has no ${which} step (accumulate is ${this.config.accumulate})`);
    return e;
  }

  /** Bytes of every persistent buffer: params, buffers, optimizer state, accumulators. */
  get persistentBytes(): number {
    return [...this.parts.buffers.values()].reduce((a, b) => a + b.byteLength, 0);
  }

  /** Sets the kernels' thread count. */
  setThreads(n: number): void {
    for (const e of this.executables()) e.setThreads(n);
  }

  private get lossName(): string {
    return this.parts.evaluate.plan.outputs[0]!.name;
  }

  private executables(): Executable[] {
    return [this.parts.apply, this.parts.evaluate, ...(this.parts.accumulate ? [this.parts.accumulate] : [])];
  }

  /** The persistent buffers of every executable, each path once, sorted. */
  private persistent(): PlanParam[] {
    const seen = new Map<string, PlanParam>();
    for (const e of this.executables()) for (const p of e.plan.params) if (!seen.has(p.path)) seen.set(p.path, p);
    return [...seen.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** A Tensor over the live buffer of a param (its shape from the byte size: params have constant shapes here). */
  private view(p: PlanParam): Tensor {
    const buf = this.parts.buffers.get(p.path)!;
    const n = buf.byteLength / ELEMENT_BYTES[p.dtype];
    const dims = p.shape.map((d) => dimConstValue(d) ?? NaN);
    if (dims.some((d) => !Number.isSafeInteger(d))) throw new RunError(`"${p.path}" has a symbolic shape`);
    return new Tensor(p.dtype, typedArray(p.dtype, n, buf), dims);
  }
}

function scalarOf(out: Record<string, Tensor>, name: string): number {
  const t = out[name];
  if (!t) throw new RunError(`the compiled step has no output '${name}'`);
  const v = t.data[0]!;
  return typeof v === 'bigint' ? Number(v) : v;
}
