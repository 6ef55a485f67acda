// Every kernel of every seed model (forward, for inference; the mlp and cnn train steps)
// compiles through the CUDA runtime's own NVRTC path (cuda-program.ts → cuda-cache.ts →
// runtime-native's nvrtcCompile) to PTX for compute_80 and compute_90: one NVRTC call per
// program and architecture, PTX for the asked target, an entry for each kernel. Needs NVRTC,
// not a GPU; skipped with the reason printed where it is absent.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lowerModel } from '../../src/api/compile.js';
import { lowerTrainStep } from '../../src/api/train.js';
import { piped } from '../../src/runtime/compile.js';
import { type CompiledCuda, compileCudaImage, generateCuda } from '../../src/runtime/cuda-program.js';
import { native } from '../../src/runtime/native.js';

const info = native().nvrtcInfo();
if (info.error) console.warn(`skipping the seed models' NVRTC compiles: ${info.error}`);

const MODELS = ['bert', 'cnn', 'conformer', 'hybrid_vit', 'mlp', 'moe_lm', 'swa_lm'];
const TRAINED = new Set(['mlp', 'cnn']);
const cacheDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-cuda-models-')), 'cache');

/** The programs of a model: its forward for inference and, for TRAINED, its train step(s). */
function programs(model: string): [string, CompiledCuda][] {
  const file = path.resolve(__dirname, '../../models', `${model}.fm`);
  const forward = lowerModel(file, { fns: ['forward'] })[0]!;
  const out: [string, CompiledCuda][] = [['forward', generateCuda(piped(forward, { mode: 'inference' }))]];
  if (TRAINED.has(model))
    for (const step of lowerTrainStep(file).modules) out.push([step.graph.name, generateCuda(step)]);
  return out;
}

describe.skipIf(info.error !== '')(`seed models through NVRTC ${info.version} to PTX`, () => {
  for (const model of MODELS) {
    it(model, { timeout: 60_000 }, () => {
      for (const [fn, program] of programs(model)) {
        expect(program.kernels.length).toBeGreaterThan(0);
        for (const arch of [80, 90]) {
          const before = native().nvrtcInfo().compiles;
          const image = compileCudaImage(program, { arch, kind: 'ptx', cacheDir });
          expect(native().nvrtcInfo().compiles, `${model}.${fn} sm_${arch}`).toBe(before + 1);
          expect(image.cached).toBe(false);
          const ptx = Buffer.from(image.bytes).toString('latin1');
          expect(ptx).toMatch(new RegExp(`^\\.target sm_${arch}$`, 'm'));
          const entries = [...ptx.matchAll(/^\.visible \.entry (fmc_k\d+)\(/gm)].map((m) => m[1]);
          expect(entries.sort()).toEqual(program.kernels.map((k) => k.name).sort());
        }
      }
    });
  }
});
