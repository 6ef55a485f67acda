// `fmc train --prune-gradual START:END[:EVERY]`: gradual magnitude pruning of the block
// `@sparse` weights (docs/training.md#fine-tuning-a-pruned-model), as the train section's
// `prune = gradual(start, end, every)`: the spec (a usage error when malformed) and the line
// that says what is pruned. The pruning itself is the Trainer's (config.prune); a checkpoint
// records it in its train config, and `--resume` continues it only on the same schedule.

import type { GradualPruning, Module, TrainConfig } from '../ir/module.js';
import { defaultPruneEvery, pruneProblem, sparseHintOf, sparseText } from '../ir/sparsity.js';
import { EXIT } from './io.js';
import { CliError } from './model.js';

export const PRUNE_GRADUAL_HELP =
  "prune the block @sparse weights gradually: from density 1 at step START to the hint's density at END " +
  '(cubic schedule), the masks updated every EVERY steps (default: ten updates); n:m hints prune in one shot';

/** `--prune-gradual START:END[:EVERY]` as a schedule (undefined when absent); a bad spec is a usage error. */
export function parsePruneGradual(text: string | undefined): GradualPruning | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+):(\d+)(?::(\d+))?$/.exec(text.trim());
  if (!m)
    throw new CliError(
      `--prune-gradual ${text}: expected START:END or START:END:EVERY, steps (100:1000 or 100:1000:50)`,
      EXIT.usage,
    );
  const [start, end] = [Number(m[1]), Number(m[2])];
  const s = { start, end, every: m[3] === undefined ? defaultPruneEvery(start, end) : Number(m[3]) };
  const bad = pruneProblem(s);
  if (bad) throw new CliError(`--prune-gradual ${text}: ${bad}`, EXIT.usage);
  return s;
}

/** What gradual pruning `config.prune` does to the weights of `m` (the step module), one line; undefined without it. */
export function pruneSummary(config: TrainConfig, m: Pick<Module, 'params' | 'hints'>): string | undefined {
  const s = config.prune;
  if (!s) return undefined;
  const groups = new Map<string, string[]>();
  for (const p of m.params) {
    const h = sparseHintOf(m.hints, p);
    if (!h) continue;
    const key = h.kind === 'block' ? `to ${sparseText(h)}` : `${sparseText(h)} (in one shot)`;
    groups.set(key, [...(groups.get(key) ?? []), p.path]);
  }
  const what = [...groups].map(([k, paths]) => `${paths.join(', ')} ${k}`).join('; ');
  return `pruning gradually from step ${s.start} to ${s.end}, the masks every ${s.every} steps: ${what}`;
}
