// Running `fmc train` and reading what it wrote into its --out folder, for the tests that run it.

import { spawnSync } from 'node:child_process';
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

/** What a run of the built CLI gave. */
export interface CliRun {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** Runs the built `fmc` in the repository root with its compile cache in `cacheDir`. */
export function fmcWithCache(cacheDir: string): (...args: string[]) => CliRun {
  const root = path.resolve(import.meta.dirname, '../..');
  const env = { ...process.env, FMC_CACHE_DIR: cacheDir };
  return (...args) => {
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'fmc.js'), ...args], {
      cwd: root,
      encoding: 'utf8',
      env,
      timeout: 110_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
}
