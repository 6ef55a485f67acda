// Every kernel of every seed model (forward and loss gradient, lowered with target 'gpu' at
// small hyperparameters) renders to WGSL that Dawn accepts: the module compiles without
// errors and the compute pipeline with the contract's explicit layout is created.

import { describe, expect, it } from 'vitest';
import { renderWgsl } from '../../src/codegen/wgsl.js';
import { lowerFile } from '../../src/frontend/lower.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import type { Mode } from '../../src/passes/pass.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { SMALL, smallModelFile } from '../models/small-models.js';
import { compileErrors, gpuDevice, pipelineErrors } from './dawn.js';

const gpu = await gpuDevice();
if (typeof gpu === 'string') console.warn(`skipping WGSL compile tests: ${gpu}`);

function plan(file: string, fn: string, mode: Mode) {
  const r = lowerFile(file, { fn });
  if (!r.ok) throw new Error(`${file}: ${fn} does not lower`);
  return lowerGraph(runPipeline(r.lowered, { target: 'c', mode }).graph, { target: 'gpu' });
}

describe.skipIf(typeof gpu === 'string')('seed models: every kernel compiles on Dawn', () => {
  for (const model of Object.keys(SMALL).sort()) {
    it(model, { timeout: 300_000 }, async () => {
      if (typeof gpu === 'string') return;
      const file = smallModelFile(model);
      const problems: string[] = [];
      for (const [fn, mode] of [
        ['forward', 'inference'],
        ['loss', 'grad'],
      ] as const) {
        for (const k of renderWgsl(plan(file, fn, mode)).kernels) {
          const errs = await compileErrors(gpu.device, k.code);
          if (errs.length === 0) errs.push(...(await pipelineErrors(gpu.device, k)));
          if (errs.length) problems.push(`${fn} ${k.name}: ${errs.slice(0, 3).join('; ')}`);
        }
      }
      expect(problems).toEqual([]);
    });
  }
});
