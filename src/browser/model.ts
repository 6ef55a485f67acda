// A WGSL module loaded in a browser: one GpuExecutable per function on the page's GPUDevice,
// sharing one set of weights. It runs as Model does on the WGSL target (runAsync only); the
// Node Model also trains and runs C, which needs Node.

import type { RunOptions } from '../runtime/call.js';
import { RunError } from '../runtime/run-args.js';
import type { GpuExecutable } from '../runtime/gpu-executable.js';
import type { TensorSpec } from '../runtime/model.js';
import { modelFunction, tensorSpec } from '../runtime/model-function.js';
import type { Tensor } from '../runtime/tensor.js';

type Inputs = Readonly<Record<string, Tensor>>;

export class WebModel {
  readonly target = 'wgsl';

  constructor(
    /** The model's name in the .fm source. */
    readonly name: string,
    private readonly fns: ReadonlyMap<string, GpuExecutable>,
  ) {}

  /** The compiled functions, the first being the default of runAsync(). */
  get functions(): string[] {
    return [...this.fns.keys()];
  }

  /** The inputs of function `fn` (default: the first): names, dtypes and dims (numbers or symbolic, `'T'`). */
  inputs(fn?: string): TensorSpec[] {
    return this.executable(fn).plan.inputs.map(tensorSpec);
  }

  /** The outputs of function `fn` (default: the first), as inputs() gives the inputs. */
  outputs(fn?: string): TensorSpec[] {
    return this.executable(fn).plan.outputs.map(tensorSpec);
  }

  /** The function `fn`, or a RunError naming the compiled ones. */
  executable(fn?: string): GpuExecutable {
    return modelFunction(this.name, this.fns, fn);
  }

  /** Runs a function and resolves with its outputs: `await runAsync(inputs)`, `await runAsync('loss', inputs)`. */
  runAsync(inputs: Inputs, opts?: RunOptions): Promise<Record<string, Tensor>>;
  runAsync(fn: string, inputs: Inputs, opts?: RunOptions): Promise<Record<string, Tensor>>;
  runAsync(a: string | Inputs, b?: Inputs | RunOptions, c?: RunOptions): Promise<Record<string, Tensor>> {
    try {
      if (typeof a !== 'string') return this.executable().runAsync(a, b as RunOptions | undefined);
      if (b === undefined) throw new RunError(`runAsync('${a}', inputs): inputs are missing`);
      return this.executable(a).runAsync(b as Inputs, c);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /** The WGSL target runs asynchronously only: a RunError that says to use runAsync. */
  run(..._args: unknown[]): never {
    throw new RunError(`${this.name} runs on the WGSL target, which is asynchronous: use runAsync`);
  }
}
