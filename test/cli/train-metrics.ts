// Reading what `fmc train` wrote into its --out folder, for the tests that run it.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** The loss of each step in `dir`/metrics.jsonl, in order. */
export const losses = (dir: string): number[] =>
  fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { loss?: number })
    .flatMap((m) => (m.loss !== undefined ? [m.loss] : []));
