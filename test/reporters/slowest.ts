// A vitest reporter that ends a run with its slowest test files and tests, so a suite that
// has grown slow (or a machine that is loaded) shows where the time went.

import * as path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

const SHOWN = 8;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`.padStart(8);

export default class SlowestReporter implements Reporter {
  onTestRunEnd(modules: readonly TestModule[]): void {
    const rel = (id: string): string => path.relative(process.cwd(), id);
    const files = modules
      .map((m) => ({ ms: m.diagnostic().duration, name: rel(m.moduleId) }))
      .sort((a, b) => b.ms - a.ms);
    const tests = modules
      .flatMap((m) =>
        [...m.children.allTests()].map((t) => ({
          ms: t.diagnostic()?.duration ?? 0,
          name: `${rel(m.moduleId)} > ${t.fullName}`,
        })),
      )
      .sort((a, b) => b.ms - a.ms);
    if (files.length < 2) return;
    const lines = ['', 'Slowest test files:', ...files.slice(0, SHOWN).map((f) => `${seconds(f.ms)}  ${f.name}`)];
    lines.push('Slowest tests:', ...tests.slice(0, SHOWN).map((t) => `${seconds(t.ms)}  ${t.name}`), '');
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
