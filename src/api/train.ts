// `compileTrainer(pathOrSource, options)`: a model's train step on the C, WGSL or CUDA target. The loss
// function is lowered in its training variant (dropout on), run through the `train` pipeline
// (autodiff, the train-step pass, simplify) and, when the train section accumulates
// gradients, the `accumulate` one; the loss is also compiled for inference, to evaluate.
// All of them share one set of persistent buffers: the weights (seeded or from a file) and
// the optimizer state (zeros). On WGSL and CUDA they also share the GPU copies of those
// buffers, which stay on the GPU between steps (the trainer's `sync` brings the host copies up
// to date).

import type { Lowered } from '../frontend/lower.js';
import { indexRanges, initParam } from '../ir/init.js';
import { withQuantized } from '../ir/quantize.js';
import type { TrainConfig } from '../ir/module.js';
import { hasBlockSparsity, pruneText, pruneWeights } from '../ir/sparsity.js';
import type { Mode } from '../passes/pass.js';
import { PassError } from '../passes/pass.js';
import {
  type CompiledFunction,
  buildExecutable,
  generate,
  piped,
  seededWeights,
  weightBuffers,
} from '../runtime/compile.js';
import { type TrainOverrides, TrainConfigError, defaultTrainConfig, overrideTrain } from '../runtime/schedule.js';
import { GpuWeights } from '../runtime/gpu-weights.js';
import { type CudaMemory, sharedGpu } from '../runtime/cuda-device.js';
import { type CompiledCuda, CUDA_BACKEND, buildCudaExecutable, generateCuda } from '../runtime/cuda-program.js';
import { type StepExecutable, Trainer } from '../runtime/trainer.js';
import { type CompiledWgsl, buildWgslExecutable, generateWgsl } from '../runtime/wgsl-program.js';
import { type CompileOptions, CompileError, checkOptions, lowerModel, readWeights } from './compile.js';
import { locator, sourceLookup } from './device-limits.js';
import { type DistillOptions, type TeacherPlan, compileTeacher, distillWeights, planTeacher } from './distill.js';
import { distillLossModule } from './distill-graph.js';

export interface TrainOptions extends Omit<CompileOptions, 'fns' | 'mode'> {
  /** Overrides of the model's `train` section. */
  readonly train?: TrainOverrides;
  /**
   * Gradual pruning by hand: bind the masks of block-sparse params at density 1 (nothing pruned)
   * rather than pruning in one shot; the caller then prunes the trainer's state step by step with
   * pruneWeights(state, modules[0], fraction) and trainer.restore (docs/training.md). With a
   * `prune` schedule (the train section's `prune = gradual(...)`, or `train: { prune }`) the
   * trainer does it itself.
   */
  readonly gradualPruning?: boolean;
  /** More model functions to compile for inference on the same buffers (`forward`, for accuracy); names the model lacks are skipped. */
  readonly inference?: readonly string[];
  /** Distillation: train on a frozen teacher's soft targets as well (docs/training.md#distillation). */
  readonly distill?: DistillOptions;
  /**
   * Quantization-aware training: the step's forward and backward read fake-quantized weights
   * (the `@quantize` hints and `quantize` rules), the gradient goes straight through to the f32
   * weights (src/passes/qat.ts, docs/training.md#quantization-aware-training).
   */
  readonly qat?: boolean;
}

export interface CompiledTrainer {
  readonly trainer: Trainer;
  /** The train config in effect (the model's section, defaults filled in, overrides applied). */
  readonly config: TrainConfig;
  /** What the config asks for that training does not do yet, one sentence each. */
  readonly warnings: readonly string[];
  /** The compiled functions: the step, the accumulate step (if any), the evaluation, `inference` (C; empty on the GPU targets). */
  readonly functions: readonly CompiledFunction[];
  /** The same functions compiled for WGSL (empty on the other targets). */
  readonly wgsl: readonly CompiledWgsl[];
  /** The same functions compiled for CUDA (empty on the other targets). */
  readonly cuda: readonly CompiledCuda[];
  /** The modules after their pipelines (what was compiled). */
  readonly modules: readonly Lowered[];
  /** The functions of `inference`, running on the trainer's live weights. */
  readonly inference: ReadonlyMap<string, StepExecutable>;
}

/** A model's train step, lowered and through its pipelines: what compileTrainer and `fmc compile --train` build. */
export interface TrainStep {
  /** The loss function, lowered in its training variant (its params are the model's). */
  readonly lowered: Lowered;
  /** The train config in effect (the model's section, defaults filled in, overrides applied). */
  readonly config: TrainConfig;
  /** What the config asks for that training does not do yet, one sentence each. */
  readonly warnings: readonly string[];
  /** The step (`<loss>_step`) and, when `accumulate > 1`, the accumulate step (`<loss>_accumulate`). */
  readonly modules: readonly Lowered[];
  /** Distillation: the teacher, checked against the student. */
  readonly teacher?: TeacherPlan;
}

/** Lowers a model's loss for training and runs the `train` (and `accumulate`) pipelines; errors are CompileErrors. */
export function lowerTrainStep(pathOrSource: string, opts: TrainOptions = {}): TrainStep {
  let l = lowerModel(pathOrSource, { ...opts, fns: ['loss'] }, true)[0]!;
  const section = l.train ?? defaultTrainConfig();
  if (section.loss !== l.graph.name) l = lowerModel(pathOrSource, { ...opts, fns: [section.loss] }, true)[0]!;
  let config: TrainConfig;
  try {
    config = overrideTrain(section, opts.train ?? {});
  } catch (e) {
    if (e instanceof TrainConfigError) throw new CompileError(`${l.model}: ${e.message}`);
    throw e;
  }
  const warnings: string[] = [];
  if (!l.train) warnings.push(`${l.model} has no train section: training with AdamW at lr 1e-3`);
  if (config.prune) {
    if (!hasBlockSparsity(l))
      throw new CompileError(
        `${l.model}: gradual pruning (${pruneText(config.prune)}) needs a weight with a block sparsity hint: ` +
          '@sparse(block = b, density = p) or @sparse(density = p) in the model, or --sparsity block=b,density=p ' +
          '(an n:m hint is pruned in one shot when the weights are bound)',
      );
    if (config.steps !== undefined && config.prune.end > config.steps)
      warnings.push(
        `gradual pruning ends at step ${config.prune.end}, after the last step (${config.steps}): the hints' densities are not reached`,
      );
  }
  const modes: Mode[] = config.accumulate > 1 ? ['train', 'accumulate'] : ['train'];
  if (!opts.distill) {
    const withConfig: Lowered = { ...l, train: config };
    return { lowered: l, config, warnings, modules: modes.map((mode) => pipe(withConfig, mode, opts)) };
  }
  // Distillation: the student's logits are forward's first output, its hard loss the loss.
  if (!l.functions.includes('forward'))
    throw new CompileError(`${l.model}: distillation needs the student's logits, but it has no \`forward\` function`);
  const weights = distillWeights(opts.distill);
  const fwd = lowerModel(pathOrSource, { ...opts, fns: ['forward'] }, true)[0]!;
  const teacher = planTeacher(opts.distill, opts, fwd, l.graph.inputs);
  const withConfig: Lowered = { ...distillLossModule(l, fwd, weights), train: config };
  return { lowered: l, config, warnings, modules: modes.map((mode) => pipe(withConfig, mode, opts)), teacher };
}

/** Compiles the train step of a model (a .fm path or source text) and sets up its state. */
export function compileTrainer(pathOrSource: string, opts: TrainOptions = {}): CompiledTrainer {
  checkOptions(opts);
  const target = opts.target ?? 'c';
  if (target !== 'c' && target !== 'wgsl' && target !== 'cuda')
    throw new CompileError(`target '${String(target)}': the targets are c, wgsl and cuda`);
  // No GPU or driver is said before any compiling.
  if (target === 'cuda') sharedGpu();
  opts.onProgress?.('checking and lowering');
  const { lowered: l, config, warnings, modules: steps, teacher } = lowerTrainStep(pathOrSource, opts);
  const evalL = lowerModel(pathOrSource, { ...opts, fns: [config.loss] }, false)[0]!;
  const others = (opts.inference ?? [])
    .filter((fn) => l.functions.includes(fn))
    .map((fn) => lowerModel(pathOrSource, { ...opts, fns: [fn] }, false)[0]!);
  const modules = [...steps, pipe(evalL, 'inference', opts), ...others.map((o) => pipe(o, 'inference', opts))];
  const functions = target === 'c' ? modules.map((m) => generate(m)) : [];
  const wgsl = target === 'wgsl' ? modules.map((m) => generateWgsl(m)) : [];
  const lookup = sourceLookup();
  const cuda = target === 'cuda' ? modules.map((m) => generateCuda(m, CUDA_BACKEND, locator(m, lookup))) : [];
  const plans = [...functions, ...wgsl, ...cuda].map((f) => f.plan);

  const dims = new Map(Object.entries(opts.dims ?? {}));
  const weights = opts.weights
    ? readWeights(l, opts.weights, dims)
    : seededWeights(l, opts.seed ?? 0, dims, opts.onProgress);
  // The masks of `@sparse`, and the pruned weights (gradual pruning: block hints at density 1).
  pruneWeights(weights, l, opts.gradualPruning || config.prune ? 0 : 1);
  // The evaluated loss (and `inference` functions) read `@quantize` weights derived from the
  // f32 ones, again after each step that changes them (runtime/quantized-weights.ts).
  const values = withQuantized(
    modules.map((m) => m.graph),
    weights,
  );
  for (const plan of plans)
    for (const p of plan.params) if (!values.has(p.path)) values.set(p.path, initParam(p, dims, opts.seed ?? 0));
  const buffers = weightBuffers(values);
  // On a GPU the functions share the GPU copies, which stay ahead of the host's until a sync.
  const onGpu = new GpuWeights(buffers, 'device');
  const built: StepExecutable[] =
    target === 'c'
      ? functions.map((f) => buildExecutable(f, buffers, opts))
      : target === 'wgsl'
        ? wgsl.map((f) => buildWgslExecutable(f, buffers, onGpu))
        : cudaExecutables(cuda, buffers);
  const extra = built.splice(built.length - others.length);
  const [apply, ...rest] = built;
  const evaluate = rest.pop()!;
  const trainer = new Trainer({
    model: l.model,
    config,
    apply: apply!,
    accumulate: rest[0],
    evaluate,
    buffers,
    seed: opts.seed ?? 0,
    set: opts.set ?? {},
    indexRanges: indexRanges(evalL.graph),
    ...(config.prune ? { prune: (state, fraction) => pruneWeights(state, l, fraction) } : {}),
    ...(teacher ? { teacher: compileTeacher(opts.distill!, teacher, target) } : {}),
  });
  const inference = new Map(others.map((o, i) => [o.graph.name, extra[i]!]));
  return { trainer, config, warnings, functions, wgsl, cuda, modules, inference };
}

/** The CUDA functions on the process's GPU, sharing one set of device copies of `buffers`. */
function cudaExecutables(cuda: readonly CompiledCuda[], buffers: ReadonlyMap<string, ArrayBuffer>): StepExecutable[] {
  const onGpu = new GpuWeights<CudaMemory>(buffers, 'device');
  return cuda.map((f) => buildCudaExecutable(f, buffers, {}, onGpu));
}

function pipe(l: Lowered, mode: Mode, opts: TrainOptions): Lowered {
  try {
    return piped(l, { mode, quantize: opts.quantize, qat: opts.qat });
  } catch (e) {
    if (e instanceof PassError) throw new CompileError(`${l.model}.${l.graph.name}: ${e.message}`);
    throw e;
  }
}
