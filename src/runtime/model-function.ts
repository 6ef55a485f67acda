// A model's function by name and its tensors' descriptions, shared by Model (Node) and
// WebModel (src/browser).

import { dimConstValue, dimToString } from '../ir/dims.js';
import type { PlanTensor } from '../kernels/plan.js';
import type { TensorSpec } from './model.js';
import { RunError } from './run-args.js';

/** A plan tensor as inputs()/outputs() describe it: constant dims as numbers, symbolic ones as text. */
export function tensorSpec(t: PlanTensor): TensorSpec {
  return { name: t.name, dtype: t.dtype, shape: t.shape.map((d) => dimConstValue(d) ?? dimToString(d)) };
}

/** The function `fn` of `model` (default: the first), or a RunError naming the compiled ones. */
export function modelFunction<E>(model: string, fns: ReadonlyMap<string, E>, fn?: string): E {
  const name = fn ?? fns.keys().next().value!;
  const e = fns.get(name);
  if (e === undefined)
    throw new RunError(
      `${model} has no compiled function '${name}'; compiled: ${[...fns.keys()].map((f) => `'${f}'`).join(', ')}`,
    );
  return e;
}
