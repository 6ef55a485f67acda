// `--quantize PATH=SPEC` (repeatable) on `fmc run`, `compile` and `bench`: weight-only
// quantization over the model's `@quantize` hints (src/passes/quantize.ts). PATH is `all` or a
// block path (`ffn` covers every `...ffn...` block); SPEC is `int8`, `int4`, with a group
// (`int4:128`), `:asym` for a zero point, or `none` (keep f32). Later rules win. Registered
// here without loading the compiler; quantize-rules.ts parses the values.

import type { Command } from 'commander';

export const QUANTIZE_HELP =
  'quantize weights under a block path (repeatable): all=int8, ffn=int4:128, attn=int8:64:asym, all=none';

/** Adds `--quantize <path=spec>` (repeatable): the action's options get `quantize: string[]`. */
export function withQuantizeOption(c: Command): Command {
  return c.option('--quantize <path=spec>', QUANTIZE_HELP, (v: string, prev: string[] = []) => [...prev, v]);
}
