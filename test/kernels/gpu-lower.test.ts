// The GPU lowering choices (LowerOptions.target 'gpu'): every seed model's forward and loss
// gradient lowers to kernels without thread-local arrays, `mma` statements or packed plan
// buffers, and those kernels, rendered as C (the GPU forms are ordinary loop nests; the
// workgroup-per-output reductions, which need workgroup memory, are left out and run on Dawn
// in test/wgsl/reduce-parallel.test.ts), compute what the reference interpreter computes.

import { describe, expect, it } from 'vitest';
import { lowerFile } from '../../src/frontend/lower.js';
import type { Graph } from '../../src/ir/graph.js';
import type { KStmt } from '../../src/ir/kernel.js';
import type { Mode } from '../../src/passes/pass.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { SMALL, smallModelFile } from '../models/small-models.js';
import { CBatch, MODEL_TOL, assertClean, runAndCompare } from './c-harness.js';

function piped(file: string, fn: string, mode: Mode): Graph {
  // In f32 (moe_lm's @precision(bf16) set aside): the comparison is at the f32 model tolerance.
  const r = lowerFile(file, { fn, precision: 'f32' });
  if (!r.ok) throw new Error(`${file}: ${fn} does not lower`);
  return runPipeline(r.lowered, { target: 'c', mode }).graph;
}

/** The statements of kinds a GPU kernel must not have: 'mma' (and CPU scratch arrays: Kernel.cpu). */
function cpuOnly(ss: readonly KStmt[]): string[] {
  return ss.flatMap((s): string[] => {
    if (s.k === 'mma') return ['mma'];
    if (s.k === 'for') return cpuOnly(s.body);
    if (s.k === 'if') return cpuOnly([...s.then, ...(s.else ?? [])]);
    return [];
  });
}

describe('GPU lowering: seed models without CPU scratch, mma or packed buffers, vs the interpreter', () => {
  for (const model of Object.keys(SMALL).sort()) {
    it(model, { timeout: 300_000 }, () => {
      const file = smallModelFile(model);
      const graphs = [piped(file, 'forward', 'inference'), piped(file, 'loss', 'grad')];
      const batch = CBatch.build(graphs, { lower: () => ({ target: 'gpu', workgroups: false }) });
      for (const plan of batch.plans) {
        expect(plan.buffers.filter((b) => b.kind === 'packed')).toEqual([]);
        expect(plan.kernels.flatMap((k) => cpuOnly(k.body).map((w) => `${k.name}: ${w}`))).toEqual([]);
        expect(plan.kernels.flatMap((k) => (k.cpu?.scratch ?? []).map((a) => `${k.name}: scratch ${a}`))).toEqual([]);
      }
      graphs.forEach((g, i) => {
        const dims = Object.fromEntries(g.dims.map((d) => [d, d === 'B' ? 2 : 5]));
        const r = runAndCompare(batch, i, { dims, seed: 11, tol: MODEL_TOL });
        assertClean(g, r.problems, `${model} ${g.name} (gpu lowering) at ${JSON.stringify(dims)}`);
      });
    });
  }
});
