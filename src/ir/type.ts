// The vocabulary shared by the graph and its type rules: tensor types and the IR's own
// error. Kept apart so that graph.ts (which infers a type for every node it builds) and
// infer.ts (which only needs types) do not import each other.

import type { Dim } from './dims.js';
import type { Dtype } from './dtype.js';

/** The type of a tensor: dtype plus dims (integers or symbolic expressions). */
export interface TType {
  readonly dtype: Dtype;
  readonly shape: readonly Dim[];
}

/** Thrown on a malformed op (wrong arity, shapes or dtypes): a compiler bug, not a user error. */
export class IRError extends Error {
  override name = 'IRError';
}
