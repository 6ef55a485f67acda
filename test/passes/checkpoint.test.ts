// @checkpoint: the blocks of swa_lm (`@checkpoint blocks = repeat ...`) are recomputed in
// the backward, one recomputation per layer behind barriers; the gradients are the same
// numbers as without recomputation, and the C plan's arena peak drops.

import { describe, expect, it } from 'vitest';
import { memoryReport } from '../../src/api/module.js';
import { lowerFile } from '../../src/frontend/lower.js';
import { liveNodes } from '../../src/ir/graph.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { type Module, NO_HINTS } from '../../src/ir/module.js';
import { generate, piped, seededWeights } from '../../src/runtime/compile.js';
import { smallModelFile } from '../models/small-models.js';

function lowered(): Module {
  const r = lowerFile(smallModelFile('swa_lm'), { fn: 'loss' });
  if (!r.ok) throw new Error('swa_lm does not lower');
  return r.lowered;
}

describe('@checkpoint', () => {
  const m = lowered();
  const without: Module = { ...m, hints: NO_HINTS };
  it('the model asks for it', () => expect(m.hints.blocks.get('blocks')?.checkpoint).toBe(true));

  it('recomputes each layer behind its own barrier', () => {
    const g = piped(m, { mode: 'grad' }).graph;
    const keys = new Set(liveNodes(g).flatMap((n) => (n.op === 'barrier' ? [n.args.key] : [])));
    expect([...keys].sort()).toEqual(['remat:blocks.0', 'remat:blocks.1']);
    expect(liveNodes(piped(without, { mode: 'grad' }).graph).some((n) => n.op === 'barrier')).toBe(false);
  });

  it('gives the same gradients as keeping the activations', () => {
    const run = (mod: Module) => {
      const g = piped(mod, { mode: 'grad' }).graph;
      const dims = new Map([
        ['B', 2],
        ['T', 6],
      ]);
      const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 4, indexBound(g, n))]));
      return evaluate(g, { inputs, params: seededWeights(mod, 1, dims), dims }).outputs;
    };
    const [a, b] = [run(m), run(without)];
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [k, t] of a) expect([...t.data], k).toEqual([...b.get(k)!.data]);
  });

  it('lowers the C plan arena peak of the full swa_lm (B = 1, T = 256), as docs/training.md reports', () => {
    // The full model: in the small one a GEMM's fixed packing scratch (KC × NC floats, live
    // during its launch) is as large as a layer's activations.
    const r = lowerFile('models/swa_lm.fm', { fn: 'loss' });
    if (!r.ok) throw new Error('swa_lm does not lower');
    const dims = new Map([
      ['B', 1],
      ['T', 256],
    ]);
    const peak = (mod: Module) => memoryReport(generate(piped(mod, { mode: 'grad' })).plan, dims).peakBytes;
    const [withCk, withoutCk] = [peak(r.lowered), peak({ ...r.lowered, hints: NO_HINTS })];
    expect(withCk).toBeLessThan(withoutCk * 0.6);
  }, 120_000);
});
