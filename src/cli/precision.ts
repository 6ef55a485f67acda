// `--precision f32|f16|bf16` on `compile`, `run`, `bench` and `train`: the model-level compute
// precision, in place of the model's own `@precision` and its train section's `precision`
// (blocks inside keep their own `@precision`; the precision pass, src/passes/precision.ts).
// Kept apart from model.ts (as set.ts is) so registering the option loads nothing heavy;
// model.ts's parsePrecision turns an error into a usage error.

import type { Command } from 'commander';
import { type Dtype, FLOAT_DTYPES } from '../ir/dtype.js';

export const PRECISION_HELP =
  "the model's compute precision (f32, f16 or bf16), in place of its @precision and train section's; blocks keep their own @precision";

/** Adds `--precision <dtype>` to a command: its action's options get `precision: string`. */
export function withPrecisionOption(c: Command): Command {
  return c.option('--precision <dtype>', PRECISION_HELP);
}

/** The `--precision` value as a dtype (none when absent), or the usage error. */
export function splitPrecision(text: string | undefined): { precision?: Dtype; error?: string } {
  if (text === undefined) return {};
  if (!(FLOAT_DTYPES as readonly string[]).includes(text))
    return { error: `--precision must be f32, f16 or bf16, got '${text}'` };
  return { precision: text as Dtype };
}
