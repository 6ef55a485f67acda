// `--sparsity 2:4 | block=b,density=p | density=p` on `compile`, `run`, `bench` and `train`:
// magnitude pruning of every weight of rank ≥ 2, in place of the model's own `@sparse`
// (src/ir/sparsity.ts). Kept apart from model.ts (as precision.ts is) so registering the
// option loads nothing heavy; model.ts's parseSparsityOption turns an error into a usage error.

import type { Command } from 'commander';

export const SPARSITY_HELP =
  'prune every weight of rank ≥ 2 by magnitude, in place of its @sparse: 2:4, block=32,density=0.5, or density=0.5 (unstructured)';

/** Adds `--sparsity <spec>` to a command: its action's options get `sparsity: string`. */
export function withSparsityOption(c: Command): Command {
  return c.option('--sparsity <spec>', SPARSITY_HELP);
}
