// docs/training.md is true about the command line: every `--option` it names is an option of
// `fmc train` (or of the commands and bench scripts it mentions), and every option of `fmc train` is documented
// in the help with an example.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';

const ROOT = path.resolve(__dirname, '../..');

async function help(cmd: string): Promise<string> {
  let out = '';
  await run(['help', cmd], { out: (s) => (out += s), err: (s) => (out += s), color: false });
  return out;
}

describe('docs/training.md', () => {
  it('names only options that exist', async () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'training.md'), 'utf8');
    const named = new Set([...doc.matchAll(/(?<![\w-])(--[a-z][a-z-]*)/g)].map((m) => m[1]!));
    expect(named.size).toBeGreaterThan(20);
    // The benchmark scripts it runs (`node dist/bench/accuracy.js --quick`) name their own options.
    const scripts = [...doc.matchAll(/dist\/bench\/([a-z-]+)\.js/g)].map((m) => m[1]!);
    const bench = fs
      .readdirSync(path.join(ROOT, 'bench'))
      .filter((f) => scripts.some((s) => f === `${s}.ts` || f === `${s}-lib.ts`))
      .map((f) => fs.readFileSync(path.join(ROOT, 'bench', f), 'utf8'));
    expect(bench.length).toBeGreaterThan(0);
    const known = (await help('train')) + (await help('compile')) + (await help('run')) + bench.join('\n');
    const missing = [...named].filter((o) => !new RegExp(`${o}(?![a-z-])`).test(known));
    expect(missing).toEqual([]);
  });

  it('fmc help train lists the options and shows examples', async () => {
    const text = await help('train');
    for (const o of ['--data', '--steps', '--batch', '--eval-every', '--out', '--resume', '--seed', '--set'])
      expect(text).toContain(o);
    expect(text).toMatch(/Examples:\n {2}fmc train models\/mlp\.fm --data mnist/);
  });
});
