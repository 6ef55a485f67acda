// Training on a compiled train step: one Executable for the whole step (forward, loss,
// backward, optimizer update), one for the accumulate-only micro-steps when the train
// section has `accumulate > 1`, and the loss compiled for inference to evaluate. They share
// one set of persistent buffers (params, buffers, optimizer state, gradient accumulators),
// which the steps update in place. Per step the host computes only the run-time scalars:
// the step counter, the scheduled learning rate, Adam's bias corrections and a static loss
// scale. The dynamic loss scaler runs inside the step (its state is persistent buffers);
// the host only counts the updates it skipped (read with the loss), for the bias corrections.
// With a teacher (distillation), its logits on each micro-batch are computed first and fed to
// the step as one more input.
// With gradual pruning (`config.prune` and the `prune` hook), the masks, the masked params and
// their optimizer state are pruned on the host after each update the schedule names.
//
// On the C target the steps run synchronously (`step`). On WGSL and CUDA they run on the GPU
// (`await stepAsync`): the weights and optimizer state stay there between steps, and the
// host copies are brought up to date only at a sync point (`sync`, `stateAsync`,
// `saveAsync`); `state` and `save` refuse while the GPU is ahead. A host write (`restore`,
// `load`) always wins: the GPU copies are uploaded again before the next step.

import type { TrainConfig } from '../ir/module.js';
import { maskedParam, pruneFraction } from '../ir/sparsity.js';
import type { HostTensor } from '../ir/value.js';
import type { PlanParam, PlanTensor } from '../kernels/plan.js';
import { GRAD_NORM, STEP_INPUTS } from '../passes/train/index.js';
import { LOSS_SCALE_INPUT, SCALER_OUTPUTS } from '../passes/train/scale.js';
import { Executable, RunError } from './executable.js';
import type { CudaExecutable } from './cuda-executable.js';
import type { GpuExecutable } from './gpu-executable.js';
import { CheckpointError, type LoadedCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import {
  type SaveOptions,
  type StepExecutable,
  type StepResult,
  type TrainCounters,
  type TrainerParts,
  checkIndexInputs,
  checkRun,
  persistentParams,
  viewOf,
  writeState,
} from './trainer-state.js';
import { biasCorrections, learningRate } from './schedule.js';
import { Tensor, toHost } from './tensor.js';

export type { SaveOptions, StepExecutable, StepResult, TrainCounters, TrainerParts } from './trainer-state.js';

type Batch = Readonly<Record<string, Tensor>>;

/** What a step runs: its executable and inputs, and what its result reports. */
interface Prepared {
  readonly exe: StepExecutable;
  readonly inputs: Record<string, Tensor>;
  readonly applies: boolean;
  readonly lr?: number;
}

const scalarF32 = (v: number): Tensor => new Tensor('f32', Float32Array.of(v), []);

export class Trainer {
  private micro = 0;
  private updates = 0;
  private skipped = 0;
  /** The last asynchronous step (steps run one after the other). */
  private queue: Promise<unknown> = Promise.resolve();
  private inFlight = 0;

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
    return { micro: this.micro, updates: this.updates, ...(this.skipped > 0 ? { skipped: this.skipped } : {}) };
  }

  /** The learning rate the next update will use. */
  get lr(): number {
    return learningRate(this.parts.config.optimizer.lr, this.parts.config.schedule, this.updates);
  }

  /** Whether the steps run on a GPU (WGSL, CUDA): then only the asynchronous methods run them. */
  get onGpu(): boolean {
    return !(this.parts.apply instanceof Executable);
  }

  /** One micro-batch: accumulates its gradients, or (every `accumulate`-th) updates the params. C target only. */
  step(batch: Batch): StepResult {
    this.needsSync('step', 'stepAsync(batch)');
    const t = this.parts.teacher;
    const p = this.prepare(t ? { ...batch, [t.input]: t.logits(batch) } : batch);
    const r = this.finish(p, (p.exe as Executable).run(p.inputs));
    const fraction = r.applied ? this.pruneFraction() : undefined;
    return fraction === undefined ? r : { ...r, density: this.prune(fraction) };
  }

  /**
   * `step` on any target (on WGSL and CUDA the only way). Steps run in call order, each once the one
   * before has finished; the batch is read when the step starts, so keep it unchanged until
   * the promise resolves. The weights stay on the GPU: see `sync`.
   */
  stepAsync(batch: Batch): Promise<StepResult> {
    return this.enqueue('stepAsync', async () => {
      const t = this.parts.teacher;
      const p = this.prepare(t ? { ...batch, [t.input]: await t.logitsAsync(batch) } : batch);
      const r = this.finish(p, await p.exe.runAsync(p.inputs));
      const fraction = r.applied ? this.pruneFraction() : undefined;
      if (fraction === undefined) return r;
      // Only what pruning reads comes down; the other weights stay ahead on the GPU.
      const pruned = new Set(this.pruned().map((p) => p.path));
      for (const w of new Set(this.gpuExecutables().map((e) => e.gpuWeights))) await w.sync(pruned);
      return { ...r, density: this.prune(fraction) };
    });
  }

  /** Gradual pruning: the fraction of its schedule to prune to after the updates so far, when the masks are updated now. */
  private pruneFraction(): number | undefined {
    const s = this.parts.config.prune;
    return s && this.parts.prune ? pruneFraction(s, this.updates) : undefined;
  }

  /**
   * Prunes the host state (current: after a sync of `pruned()` on a GPU) to `fraction` of the schedule: the
   * masks, the masked params and their optimizer state are read, pruned and written back
   * (the GPU copies go up again before the next step). Returns the share of masked weights kept.
   */
  private prune(fraction: number): number {
    const params = this.pruned();
    const state = new Map(params.map((p) => [p.path, toHost(this.view(p))]));
    this.parts.prune!(state, fraction);
    writeState(this.model, this.parts.buffers, params, state, 'gradual pruning');
    let kept = 0;
    let size = 0;
    for (const [path, t] of state)
      if (maskedParam(path) !== undefined) {
        for (const x of t.data) kept += x;
        size += t.data.length;
      }
    return kept / size;
  }

  /** What gradual pruning reads and writes: the masks, the masked params and their optimizer state. */
  private pruned(): PlanParam[] {
    const all = this.persistent();
    const masked = new Set(all.flatMap((p) => maskedParam(p.path) ?? []));
    // A model path has no colon: `opt:exp_avg:fc1.w` is fc1.w's.
    return all.filter((p) => masked.has(p.path.slice(p.path.lastIndexOf(':') + 1)) || maskedParam(p.path));
  }

  /** The run-time inputs of the next micro-batch. */
  private prepare(batch: Batch): Prepared {
    const cfg = this.parts.config;
    const applies = (this.micro + 1) % cfg.accumulate === 0;
    const inputs: Record<string, Tensor> = { ...batch };
    checkIndexInputs(this.inputs, this.parts.indexRanges, inputs);
    // The stream of `random` (dropout): the seed in the high 32 bits, the micro-step below.
    const stream = (BigInt(this.parts.seed ?? 0) << 32n) | BigInt(this.micro);
    inputs[STEP_INPUTS.step] = new Tensor('i64', BigInt64Array.of(stream), []);
    if (typeof cfg.lossScale === 'number') inputs[LOSS_SCALE_INPUT] = scalarF32(cfg.lossScale);
    if (!applies) return { exe: this.parts.accumulate!, inputs, applies };
    const lr = this.lr;
    inputs[STEP_INPUTS.lr] = scalarF32(lr);
    if (cfg.optimizer.kind !== 'sgd') {
      // A skipped update did not count for the optimizer (as PyTorch's step counter).
      const [bc1, bc2] = biasCorrections(cfg.optimizer, this.updates - this.skipped);
      inputs[STEP_INPUTS.stepSize] = scalarF32(lr / bc1);
      inputs[STEP_INPUTS.bias2Sqrt] = scalarF32(Math.sqrt(bc2));
    }
    return { exe: this.parts.apply, inputs, applies, lr };
  }

  /** Counts a finished micro-batch and reads its result. */
  private finish(p: Prepared, out: Record<string, Tensor>): StepResult {
    this.micro++;
    if (!p.applies) return { loss: scalarOf(out, this.lossName), applied: false };
    this.updates++;
    const res = { loss: scalarOf(out, this.lossName), applied: true, gradNorm: scalarOf(out, GRAD_NORM), lr: p.lr! };
    const scale = this.config.lossScale;
    if (scale === 'none') return res;
    if (scale !== 'dynamic') return { ...res, lossScale: scale };
    const skipped = scalarOf(out, SCALER_OUTPUTS.skipped) !== 0;
    if (skipped) this.skipped++;
    return { ...res, skipped, lossScale: scalarOf(out, SCALER_OUTPUTS.scale) };
  }

  /** The loss on a batch with dropout off; changes nothing. C target only. */
  evaluate(batch: Batch): number {
    this.needsSync('evaluate', 'evaluateAsync(batch)');
    const inputs = { ...batch };
    checkIndexInputs(this.inputs, this.parts.indexRanges, inputs);
    return scalarOf((this.parts.evaluate as Executable).run(inputs), this.lossName);
  }

  /** `evaluate` on any target, after the steps before it. */
  evaluateAsync(batch: Batch): Promise<number> {
    return this.enqueue('evaluateAsync', async () => {
      const inputs = { ...batch };
      checkIndexInputs(this.inputs, this.parts.indexRanges, inputs);
      return scalarOf(await this.parts.evaluate.runAsync(inputs), this.lossName);
    });
  }

  /**
   * The sync point: once the steps called so far have finished, the host copies of every
   * persistent buffer hold what the GPU holds (a no-op on C). Needed before reading the
   * weights on the host, or running them on another target.
   */
  sync(): Promise<void> {
    return this.enqueue('sync', async () => {
      for (const w of new Set(this.gpuExecutables().map((e) => e.gpuWeights))) await w.sync();
    });
  }

  /** `state` after `sync`. */
  async stateAsync(): Promise<Map<string, HostTensor>> {
    await this.sync();
    return this.state();
  }

  /** `save` after `sync`. */
  async saveAsync(dir: string, opts: SaveOptions = {}): Promise<string> {
    await this.sync();
    return this.save(dir, opts);
  }

  /** Runs `f` (method `what`) after the steps before it; a RunError then when the model was disposed meanwhile. */
  private enqueue<T>(what: string, f: () => Promise<T>): Promise<T> {
    this.inFlight++;
    const run = this.queue
      .then(() => {
        this.live(what);
        return f();
      })
      .finally(() => this.inFlight--);
    this.queue = run.catch(() => {});
    return run;
  }

  /** A RunError when a synchronous method cannot run now: on a GPU (`use` instead), or with steps in flight. */
  private needsSync(what: string, use: string): void {
    if (this.onGpu) {
      const target = this.parts.apply instanceof Executable ? 'C' : 'target' in this.parts.apply ? 'CUDA' : 'WGSL';
      throw new RunError(`${this.model} trains on the ${target} target: use await trainer.${use}, not ${what}`);
    }
    this.idle(what);
  }

  private idle(what: string): void {
    this.live(what);
    if (this.inFlight > 0)
      throw new RunError(`${what}: asynchronous steps are still running; await them (or trainer.sync()) first`);
  }

  /** A RunError once the model was disposed: its executables and buffers are gone. */
  private live(what: string): void {
    if (this.parts.disposed?.()) throw new RunError(`${what}: ${this.model} was disposed`);
  }

  /** A RunError when the host copies are stale: the GPU is ahead since the last sync. */
  private hostCurrent(what: string): void {
    this.idle(what);
    const ahead = this.gpuExecutables().some((e) => e.gpuWeights.ahead().length > 0);
    if (ahead)
      throw new RunError(
        `${what}: the weights on the GPU are newer than the host's; await trainer.sync() first (stateAsync and saveAsync do)`,
      );
  }

  private gpuExecutables(): (GpuExecutable | CudaExecutable)[] {
    return this.executables().filter((e): e is GpuExecutable | CudaExecutable => !(e instanceof Executable));
  }

  /** Every persistent buffer (params, buffers, optimizer state, accumulators) as host tensors. */
  state(): Map<string, HostTensor> {
    this.hostCurrent('state');
    const out = new Map<string, HostTensor>();
    for (const p of this.persistent()) out.set(p.path, toHost(this.view(p)));
    return out;
  }

  /**
   * Sets the whole state: every persistent buffer (same dtype and shape) and the counters.
   * Everything is checked before anything is written.
   */
  restore(tensors: ReadonlyMap<string, HostTensor>, counters: TrainCounters, what = 'the checkpoint'): void {
    this.idle('restore');
    if (!(tensors instanceof Map)) throw new RunError(`${what}: the tensors must be a Map of paths to tensors`);
    const ok = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
    const skipped = (counters as TrainCounters | null)?.skipped ?? 0;
    if (
      typeof counters !== 'object' ||
      counters === null ||
      !ok(counters.micro) ||
      !ok(counters.updates) ||
      !ok(skipped) ||
      skipped > counters.updates
    )
      throw new RunError(`${what}: bad step counters`);
    for (const [path, t] of tensors) {
      const bad = maskedParam(path) === undefined ? undefined : t?.data?.find((x: number) => x !== 0 && x !== 1);
      if (bad !== undefined) throw new RunError(`${what}: mask "${path}" holds ${bad}; a mask holds 0 or 1`);
    }
    writeState(this.model, this.parts.buffers, this.persistent(), tensors, what);
    this.micro = counters.micro;
    this.updates = counters.updates;
    this.skipped = skipped;
  }

  /**
   * Writes a checkpoint (every persistent buffer, the counters, the config) into folder `dir`,
   * atomically, keeping the newest `keep`; returns its path.
   */
  save(dir: string, opts: SaveOptions = {}): string {
    this.live('save');
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
    this.idle('load');
    const c = loadCheckpoint(dir);
    checkRun(c, { model: this.model, seed: this.parts.seed ?? 0, set: this.parts.set ?? {}, config: this.config });
    try {
      this.restore(c.tensors, c.info.counters, c.path);
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
  executable(which: 'step' | 'accumulate' | 'evaluate'): StepExecutable {
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

  private executables(): StepExecutable[] {
    return [this.parts.apply, this.parts.evaluate, ...(this.parts.accumulate ? [this.parts.accumulate] : [])];
  }

  /** The persistent buffers of every executable, each path once, sorted. */
  private persistent(): PlanParam[] {
    return persistentParams(this.executables());
  }

  private view(p: PlanParam): Tensor {
    return viewOf(this.parts.buffers, p);
  }
}

function scalarOf(out: Record<string, Tensor>, name: string): number {
  const t = out[name];
  if (!t) throw new RunError(`the compiled step has no output '${name}'`);
  const v = t.data[0]!;
  return typeof v === 'bigint' ? Number(v) : v;
}
