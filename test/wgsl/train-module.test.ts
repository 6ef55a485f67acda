// `fmc compile --train --target wgsl`: the train step in a WGSL module folder, and
// `load(dir).trainer()` training on the GPU (stepAsync) exactly as compileTrainer's WGSL
// trainer does: the same kernels on the same device give the same bits. The synchronous
// step says to use stepAsync.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileTrainer } from '../../src/api/train.js';
import { load, RunError, Tensor } from '../../src/index.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { CACHE, fmc, tempDir } from '../api/helpers.js';

const why = await webgpuUnavailable();
if (why) console.warn(`skipping WGSL train modules: ${why}`);

const DIR = tempDir('wgsl-train-module');
const SET = { pixels: 16, hidden1: 32, hidden2: 16, classes: 4 };

function batch(i: number): { images: Tensor; labels: Tensor } {
  const images = new Float32Array(4 * 16).map((_, k) => ((k * 37 + i * 11) % 256) / 255);
  const labels = new Int32Array(4).map((_, k) => (k * 3 + i) % 4);
  return { images: new Tensor('f32', images, [4, 16]), labels: new Tensor('i32', labels, [4]) };
}

describe.skipIf(why !== '')('fmc compile --train --target wgsl', () => {
  it(
    'writes the train step as WGSL; the loaded trainer steps as compileTrainer does',
    { timeout: 240_000 },
    async () => {
      const out = path.join(DIR, 'mlp');
      const sets = Object.entries(SET).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
      const r = fmc('compile', 'models/mlp.fm', '--train', '--target', 'wgsl', ...sets, '--seed', '2', '-o', out);
      expect(r.code, r.err).toBe(0);
      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8')) as Record<string, unknown>;
      expect(manifest.target).toBe('wgsl');
      expect(manifest.train).toMatchObject({ step: 'loss_step', evaluate: 'loss' });
      expect(fs.readdirSync(out).some((f) => /^loss_step.*\.k0\.wgsl$/.test(f))).toBe(true);

      const trainer = load(out, { cacheDir: CACHE }).trainer();
      const want = compileTrainer('models/mlp.fm', { set: SET, seed: 2, target: 'wgsl' }).trainer;
      expect(() => trainer.step(batch(0))).toThrow(RunError);
      expect(() => trainer.step(batch(0))).toThrow(/use await trainer.stepAsync\(batch\)/);
      for (let i = 0; i < 3; i++) expect(await trainer.stepAsync(batch(i))).toEqual(await want.stepAsync(batch(i)));
      expect(await trainer.evaluateAsync(batch(9))).toBe(await want.evaluateAsync(batch(9)));
      const [a, b] = [await trainer.stateAsync(), await want.stateAsync()];
      for (const [k, t] of b) expect(a.get(k)!.data, k).toEqual(t.data);
    },
  );
});
