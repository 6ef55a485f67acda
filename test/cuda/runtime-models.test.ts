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
import { locator, sourceLookup } from '../../src/api/device-limits.js';
import { CudaCompileError } from '../../src/runtime/cuda-cache.js';
import { CUDA_BACKEND, type CompiledCuda, compileCudaImage, generateCuda } from '../../src/runtime/cuda-program.js';
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

  it('names the kernel and the .fm line it came from when NVRTC refuses a generated program', () => {
    const m = piped(lowerModel(path.resolve(__dirname, '../../models/mlp.fm'), { fns: ['forward'] })[0]!, {});
    const program = generateCuda(m, CUDA_BACKEND, locator(m, sourceLookup()));
    // A broken statement at the top of fmc_k1's body.
    const lines = program.source.split('\n');
    const at = lines.findIndex((l) => /\bfmc_k1\(/.test(l)) + 1;
    lines.splice(at, 0, '  fmc_not_declared = 1;');
    let err: unknown;
    try {
      compileCudaImage({ ...program, source: lines.join('\n') }, { arch: 80, kind: 'ptx', cacheDir });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CudaCompileError);
    const text = (err as Error).message;
    expect(text).toContain(`(${at + 1}): error: identifier "fmc_not_declared" is undefined`);
    expect(text).toContain(`${String(at + 1).padStart(7)} | fmc_not_declared = 1;`);
    // fc2's GEMM: its op, its block path and the .fm line of the call (`relu(fc2(h1))`).
    expect(text).toMatch(/in kernel fmc_k1: einsum %\d+ [^\n]* in fc2, from models\/mlp\.fm:21:\d+\n/);
    // Warnings are left out when there are errors.
    expect(text).not.toMatch(/warning/);
  });
});
