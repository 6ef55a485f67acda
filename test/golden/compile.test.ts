// Golden baselines of the errors that only compiling a model finds (FM08xx), through
// `fmc run` as a user sees them, and of IR dumps of seed models (golden/ir/).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';
import { BUDGETS } from '../../src/frontend/checker/limits.js';
import { lowerFile } from '../../src/frontend/lower.js';
import { MESSAGES } from '../../src/frontend/messages.js';
import { printGraph } from '../../src/ir/print.js';
import { expectGolden, ROOT } from './golden.js';

const CASES = path.join(ROOT, 'test', 'golden', 'compile');
/** Extra arguments per case (the default is a plain `fmc run FILE`). */
const ARGS: Record<string, string[]> = {
  'no-such-fn.fm': ['--fn', 'decode'],
  // Device limits (FM0805, FM0806): found when compiling, before any WebGPU adapter is needed.
  'wgsl-too-many-buffers.fm': ['--target', 'wgsl', '--device-profile', 'test/golden/compile/three-buffers.json'],
  'wgsl-binding-too-large.fm': ['--target', 'wgsl'],
};
/** Lowering budgets lowered for a case, so that it reaches them in milliseconds. */
const CASE_BUDGETS: Record<string, Partial<typeof BUDGETS>> = { 'graph-node-budget.fm': { graphNodes: 2000 } };

async function fmc(args: string[]): Promise<{ text: string; code: number }> {
  let text = '';
  const io: Io = { out: (s) => (text += s), err: (s) => (text += s), color: false };
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const code = await run(args, io);
    return { text: `${text}exit code: ${code}\n`, code };
  } finally {
    process.chdir(cwd);
  }
}

const seen = new Set<string>();

describe('golden compile errors (fmc run)', () => {
  for (const f of fs.readdirSync(CASES).filter((x) => x.endsWith('.fm')).sort()) {
    it(f, async () => {
      const saved = { ...BUDGETS };
      Object.assign(BUDGETS, CASE_BUDGETS[f] ?? {});
      const { text, code } = await fmc(['run', path.relative(ROOT, path.join(CASES, f)), ...(ARGS[f] ?? [])]).finally(
        () => Object.assign(BUDGETS, saved),
      );
      for (const m of text.matchAll(/ error (FM\d{4}):/g)) seen.add(m[1]!);
      expect(code).toBe(1);
      expectGolden(`compile/${f.replace(/\.fm$/, '.txt')}`, text);
    });
  }
  it('uses every FM08xx code', () => {
    const missing = Object.keys(MESSAGES).filter((c) => c.startsWith('FM08') && !seen.has(c));
    expect(missing).toEqual([]);
  });
});

describe('golden IR dumps', () => {
  for (const m of ['mlp', 'cnn', 'swa_lm']) {
    it(m, () => {
      const r = lowerFile(path.join(ROOT, 'models', `${m}.fm`));
      if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
      expectGolden(`ir/${m}.txt`, printGraph(r.lowered.graph));
    });
  }
});
