// A compiled model: one Executable per model function, sharing one set of weights. Built by
// compile() (api.ts) from a .fm file, or by load() from a directory that `fmc compile` wrote.

import type { Executable, RunOptions } from './executable.js';
import { RunError } from './executable.js';
import type { Tensor } from './tensor.js';

export interface TensorSpec {
  readonly name: string;
  readonly dtype: string;
  /** Dims as numbers or symbolic names/expressions (`'T'`, `'2*T'`). */
  readonly shape: readonly (number | string)[];
}

export class Model {
  constructor(
    /** The model's name in the .fm source. */
    readonly name: string,
    private readonly fns: ReadonlyMap<string, Executable>,
  ) {}

  /** The compiled functions, the first being the default of run(). */
  get functions(): string[] {
    return [...this.fns.keys()];
  }

  /** The function `fn`, or a RunError naming the compiled ones. */
  executable(fn?: string): Executable {
    const name = fn ?? this.functions[0]!;
    const e = this.fns.get(name);
    if (!e)
      throw new RunError(
        `${this.name} has no compiled function '${name}'; compiled: ${this.functions.map((f) => `'${f}'`).join(', ')}`,
      );
    return e;
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

  /** Sets the thread count of every function's kernels. */
  setThreads(n: number): void {
    if (!Number.isSafeInteger(n) || n < 1) throw new RunError(`threads must be a positive integer, got ${n}`);
    for (const e of this.fns.values()) e.setThreads(n);
  }
}
