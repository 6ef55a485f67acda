// load() of a folder written by `fmc compile --target cuda` (src/api/cuda-load.ts), on the
// CUDA shim device (shim-gpu.ts; NVRTC replaced by handing the source to the shim): the
// module's functions run as the interpreter computes them with the weights of the folder, a
// module with a train step trains through model.trainer() as compileTrainer does on CUDA,
// and an edited source, a plan that does not match it, or a PTX file changed in the folder
// (never read) behave as they must. NVRTC's real compile of the folder's PTX is
// runtime-cli.test.ts's.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { load } from '../../src/api/load.js';
import { compileCommand } from '../../src/cli/compile.js';
import type { Io } from '../../src/cli/io.js';
import { randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { lowerModel } from '../../src/api/compile.js';
import { piped } from '../../src/runtime/compile.js';
import { readSafetensorsFile } from '../../src/runtime/safetensors.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { compare } from '../kernels/c-harness.js';
import { ADAM_BOUNDS, MLP, batches } from '../runtime/train-twins.js';
import { SHIM_GPU } from './shim-gpu.js';
import { shimUnavailable } from './shim.js';

vi.mock(import('../../src/runtime/cuda-device.js'), async (o) => (await import('./shim-gpu.js')).withShimGpu(o));
vi.mock(import('../../src/runtime/cuda-cache.js'), async (o) => (await import('./shim-gpu.js')).withShimNvrtc(o));

const ROOT = path.resolve(__dirname, '../..');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-cuda-load-'));
afterAll(() => fs.rmSync(DIR, { recursive: true, force: true }));

const why = shimUnavailable();
if (why) console.warn(`skipping load() of CUDA modules on the shim device: ${why}`);

/** `fmc compile --target cuda models/mlp.fm -o DIR [...args]` in process (the mocks apply). */
function compileMlp(out: string, ...flags: Record<string, unknown>[]): string {
  let err = '';
  const io: Io = { out: () => {}, err: (s) => void (err += s), color: false };
  const set = Object.entries(MLP.set).map(([k, v]) => `${k}=${v}`);
  const opts = Object.assign({ target: 'cuda', out, set, seed: '3' }, ...flags);
  expect(compileCommand(io, path.join(ROOT, 'models', 'mlp.fm'), opts)).toBe(0);
  return err;
}

describe.skipIf(why !== '')('load() of a CUDA module on the shim device', () => {
  const out = path.join(DIR, 'mlp');

  it('runs forward as the interpreter does with the folder weights', { timeout: 300_000 }, async () => {
    expect(compileMlp(out)).toMatch(/of CUDA \(and PTX for compute_80/);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8')).target).toBe('cuda');
    // The typed module's functions return Promises, and its head says what importing it does.
    const js = fs.readFileSync(path.join(out, 'index.mjs'), 'utf8');
    expect(js).toMatch(/compiles the CUDA programs next to it with NVRTC/);
    expect(js).not.toMatch(/WGSL|WebGPU/);
    expect(js).toMatch(/\.runAsync\(/);
    expect(fs.readFileSync(path.join(out, 'index.d.mts'), 'utf8')).toMatch(/Promise</);
    const model = load(out);
    expect(model.target).toBe('cuda');
    // The reference: the same function compiled for the interpreter, with the folder's weights.
    const set = Object.fromEntries(Object.entries(MLP.set).map(([k, v]) => [k, String(v)]));
    const m = piped(lowerModel(path.join(ROOT, 'models', 'mlp.fm'), { fns: ['forward'], set })[0]!, {});
    const g = m.graph;
    const dims = new Map([['B', 3]]);
    const params = readSafetensorsFile(path.join(out, 'weights.safetensors')).tensors;
    const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 4)]));
    const ref = evaluate(g, { inputs, params, dims }).outputs;
    const launches = SHIM_GPU.launches;
    const got = await model.runAsync('forward', Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)])));
    expect(SHIM_GPU.launches).toBeGreaterThan(launches);
    for (const o of g.outputs) expect(compare(o.name, toHost(got[o.name]!), ref.get(o.name)!)).toEqual([]);
    expect(() => model.run('forward', {})).toThrow(/runAsync/);
  });

  it('refuses an edited source and a plan that does not match it; ignores the PTX', () => {
    const cu = path.join(out, 'forward.cu');
    const text = fs.readFileSync(cu, 'utf8');
    fs.writeFileSync(cu, text.replace('__global__', '__global__ '));
    expect(() => load(out)).toThrow(/forward\.cu: the CUDA source does not match plan\.json \(edited\?\)/);
    fs.writeFileSync(cu, text);
    fs.writeFileSync(path.join(out, 'forward.ptx'), 'not PTX');
    expect(load(out).target).toBe('cuda');
    // A source whose sha256 plan.json records, but whose first line names another plan.
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8'));
    const forged = text.replace(/plan sha256 [0-9a-f]{64}/, `plan sha256 ${'0'.repeat(64)}`);
    fs.writeFileSync(cu, forged);
    manifest.sources.forward.sha256 = createHash('sha256').update(forged).digest('hex');
    fs.writeFileSync(path.join(out, 'plan.json'), JSON.stringify(manifest));
    expect(() => load(out)).toThrow(/plan\.json does not match the CUDA source \(edited\?\)/);
    // A file name that is not a CUDA source's.
    manifest.sources.forward.file = 'forward.c';
    fs.writeFileSync(path.join(out, 'plan.json'), JSON.stringify(manifest));
    expect(() => load(out)).toThrow(/no valid source entry for function 'forward'/);
  });

  it('trains through model.trainer() as the C module of the same compile does', { timeout: 600_000 }, async () => {
    const [cDir, cudaDir] = [path.join(DIR, 'train-c'), path.join(DIR, 'train-cuda')];
    compileMlp(cDir, { train: true, target: 'c' });
    compileMlp(cudaDir, { train: true });
    const [c, g] = [load(cDir).trainer({ seed: 1 }), load(cudaDir).trainer({ seed: 1 })];
    const uploads: number[] = [];
    for (const b of batches(MLP, 3)) {
      const want = c.step(b);
      const got = await g.stepAsync(b);
      expect(got.applied).toBe(want.applied);
      expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(ADAM_BOUNDS.loss * Math.abs(want.loss));
      uploads.push(SHIM_GPU.uploads);
    }
    // The weights stay on the device: later steps upload the same (the batch, the step's scalars).
    expect(uploads[2]! - uploads[1]!).toBe(uploads[1]! - uploads[0]!);
    expect(g.counters).toEqual(c.counters);
  });
});
