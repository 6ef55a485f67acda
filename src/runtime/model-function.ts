// A model's function by name, shared by Model (Node) and WebModel (src/browser).

import { RunError } from './run-args.js';

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
