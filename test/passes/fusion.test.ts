// The fusion pass as a pass: it runs last in every mode of the C pipeline (and fuses the
// backward graph of training), it changes no node, and `fmc compile --dump-after fusion`
// prints its kernel groups below the graph (a golden of the MLP model; the text still
// parses as IR).

import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileCommand } from '../../src/cli/compile.js';
import type { Io } from '../../src/cli/io.js';
import { lowerFile } from '../../src/frontend/lower.js';
import { parseModule } from '../../src/ir/parse.js';
import { printGraph } from '../../src/ir/print.js';
import { MODES } from '../../src/passes/pass.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { expectGolden } from '../golden/golden.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the fusion pass', () => {
  it('groups every mode of the C target, train steps included, and changes no node', () => {
    const r = lowerFile(path.join(ROOT, 'models', 'bert.fm'), { fn: 'loss' });
    if (!r.ok) throw new Error('bert does not lower');
    for (const mode of MODES) {
      const before: string[] = [];
      const g = runPipeline(
        { ...r.lowered, train: { ...r.lowered.train!, accumulate: 2 } },
        {
          target: 'c',
          mode,
          // The graph as the pass before fusion (the last) left it.
          after: (pass, x) => void (pass !== 'fusion' ? (before[0] = printGraph(x)) : 0),
        },
      ).graph;
      expect(g.groups, mode).toBeDefined();
      expect(printGraph(g)).toBe(before[0]);
      const kinds = new Set(g.groups!.map((k) => k.kind));
      // Every mode has GEMMs with epilogues and row kernels (in the backward graph too).
      expect(
        g.groups!.some((k) => k.kind === 'gemm' && k.epilogue.length > 0),
        mode,
      ).toBe(true);
      expect(kinds.has('rows'), mode).toBe(true);
    }
    // The reference target does not fuse.
    expect(runPipeline(r.lowered, { target: 'reference', mode: 'grad' }).graph.groups).toBeUndefined();
  });

  it('is dumped by `fmc compile --dump-after fusion` (golden), and the dump parses', () => {
    let out = '';
    const io: Io = { out: (s) => void (out += s), err: () => {}, color: false };
    expect(compileCommand(io, path.join(ROOT, 'models', 'mlp.fm'), { fn: ['forward'], dumpAfter: 'fusion' })).toBe(0);
    expectGolden('ir/mlp.dump-after-fusion.txt', out);
    expect(out).toMatch(/^\/\/ kernels \d+$/m);
    expect(parseModule(out)).toHaveLength(1);
  });
});
