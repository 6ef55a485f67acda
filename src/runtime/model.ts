// A compiled model: one Executable per model function, sharing one set of weights. Built by
// compile() (api.ts) from a .fm file, or by load() from a directory that `fmc compile` wrote.

import { Executable, RunError, type RunOptions } from './executable.js';
import type { GpuExecutable } from './gpu-executable.js';
import type { CudaExecutable } from './cuda-executable.js';
import { modelFunction, tensorSpec } from './model-function.js';
import type { Tensor } from './tensor.js';
import type { Dtype } from '../ir/dtype.js';
import { Trainer, type TrainerParts } from './trainer.js';
import { threadsProblem } from './native.js';

export interface TensorSpec {
  readonly name: string;
  readonly dtype: Dtype;
  /** Dims as numbers or symbolic names/expressions (`'T'`, `'2*T'`). */
  readonly shape: readonly (number | string)[];
}

/**
 * A model's train functions (see trainer()): their names among its functions, and the rest of
 * a Trainer's parts (`buffers`: every persistent buffer the functions run on; `seed`: a
 * trainer's default seed; `set`: the overrides the model was compiled with).
 */
export interface ModelTraining extends Pick<TrainerParts, 'config' | 'buffers' | 'seed' | 'set'> {
  /** The train step (`loss_step`). */
  readonly step: string;
  /** The accumulate step (`loss_accumulate`), present when `config.accumulate > 1`. */
  readonly accumulate?: string;
  /** The loss compiled for inference. */
  readonly evaluate: string;
}

export interface TrainerOptions {
  /** Keys dropout with the step counter (default: the seed the model was compiled with). */
  readonly seed?: number;
}

/** A compiled function on its target: C (run and runAsync), WGSL or CUDA (runAsync only). */
export type FunctionExecutable = Executable | GpuExecutable | CudaExecutable;

type Inputs = Readonly<Record<string, Tensor>>;

export class Model {
  constructor(
    /** The model's name in the .fm source. */
    readonly name: string,
    private readonly fns: ReadonlyMap<string, FunctionExecutable>,
    private readonly training?: ModelTraining,
  ) {}

  /** The compiled functions, the first being the default of run(). */
  get functions(): string[] {
    return [...this.fns.keys()];
  }

  private disposed = false;

  /** The inputs of function `fn` (default: the first): names, dtypes and dims (numbers or symbolic, `'T'`). */
  inputs(fn?: string): TensorSpec[] {
    return this.executable(fn).plan.inputs.map(tensorSpec);
  }

  /** The outputs of function `fn` (default: the first), as inputs() gives the inputs. */
  outputs(fn?: string): TensorSpec[] {
    return this.executable(fn).plan.outputs.map(tensorSpec);
  }

  /**
   * Lets go of the compiled functions: later calls are a RunError. Their memory goes when
   * nothing else holds it (GPU buffers are destroyed at once). `using m = compile(...)` calls it.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const e of this.fns.values()) (e as { dispose?: () => void }).dispose?.();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** The function `fn`, or a RunError naming the compiled ones. */
  executable(fn?: string): FunctionExecutable {
    if (this.disposed) throw new RunError(`${this.name} was disposed`);
    return modelFunction(this.name, this.fns, fn);
  }

  /** Runs a function: `run(inputs)` runs the default one, `run('loss', inputs)` a named one. */
  run(inputs: Readonly<Record<string, Tensor>>, opts?: RunOptions): Record<string, Tensor>;
  run(fn: string, inputs: Readonly<Record<string, Tensor>>, opts?: RunOptions): Record<string, Tensor>;
  run(
    a: string | Readonly<Record<string, Tensor>>,
    b?: Readonly<Record<string, Tensor>> | RunOptions,
    c?: RunOptions,
  ): Record<string, Tensor> {
    if (typeof a === 'string') {
      if (b === undefined) throw new RunError(`run('${a}', inputs): inputs are missing`);
      return this.executable(a).run(b as Readonly<Record<string, Tensor>>, c);
    }
    return this.executable().run(a, b as RunOptions | undefined);
  }

  /**
   * Runs a function and resolves with its outputs, on every target (the WGSL target runs only
   * this way): `await runAsync(inputs)`, `await runAsync('loss', inputs)`.
   */
  runAsync(inputs: Inputs, opts?: RunOptions): Promise<Record<string, Tensor>>;
  runAsync(fn: string, inputs: Inputs, opts?: RunOptions): Promise<Record<string, Tensor>>;
  runAsync(a: string | Inputs, b?: Inputs | RunOptions, c?: RunOptions): Promise<Record<string, Tensor>> {
    try {
      if (typeof a === 'string') {
        if (b === undefined) throw new RunError(`runAsync('${a}', inputs): inputs are missing`);
        return this.executable(a).runAsync(b as Inputs, c);
      }
      return this.executable().runAsync(a, b as RunOptions | undefined);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /** The target the model's functions were compiled for. */
  get target(): 'c' | 'wgsl' | 'cuda' {
    const exe = this.executable();
    if (exe instanceof Executable) return 'c';
    return 'target' in exe ? exe.target : 'wgsl';
  }

  /** Whether the model was compiled with its train step (`fmc compile --train`), so trainer() works. */
  get trainable(): boolean {
    return this.training !== undefined;
  }

  /**
   * A Trainer on the model's own buffers: its steps update the weights that run() uses (on
   * WGSL, runAsync: the weights stay on the GPU, and the host copies are current after the
   * trainer's sync()). The optimizer state is shared too, so use one trainer of a model at a time.
   */
  trainer(opts: TrainerOptions = {}): Trainer {
    const t = this.training;
    if (!t)
      throw new RunError(
        `${this.name} was compiled without its train step; compile it with \`fmc compile --train\` (or use compileTrainer)`,
      );
    return new Trainer({
      model: this.name,
      config: t.config,
      apply: this.executable(t.step),
      ...(t.accumulate !== undefined ? { accumulate: this.executable(t.accumulate) } : {}),
      evaluate: this.executable(t.evaluate),
      buffers: t.buffers,
      seed: opts.seed ?? t.seed ?? 0,
      set: t.set ?? {},
      disposed: () => this.disposed,
    });
  }

  /** Sets the thread count of every function's kernels. */
  setThreads(n: number): void {
    const problem = threadsProblem(n);
    if (problem) throw new RunError(problem);
    for (const e of this.fns.values()) e.setThreads(n);
  }
}
