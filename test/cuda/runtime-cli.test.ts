// `fmc run --target cuda` as a user runs it (a subprocess of the built CLI). Without an NVIDIA
// driver (this machine, CI) it fails with one clear line naming libcuda.so.1, exit 1 as other
// run errors, not a crash; with a GPU, mlp runs on CUDA and matches the reference target's
// outputs (skipped here with the reason printed).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '../../src/runtime/native.js';
import { readSafetensorsFile } from '../../src/runtime/safetensors.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-cuda-cli-'));
const ENV = { ...process.env, FMC_CACHE_DIR: path.join(DIR, 'cache') };

function fmc(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: ENV, timeout: 110_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const status = native().cudaStatus();
const driver = status.driver !== '';
if (driver) console.warn(`skipping the no-driver CLI test: a CUDA driver is here (${status.driver})`);
if (!status.available) console.warn(`skipping the CUDA run of mlp: ${status.message}`);

describe('fmc run --target cuda', () => {
  it.skipIf(driver)('says that no GPU or driver was found, naming libcuda.so.1, with exit code 1', () => {
    const r = fmc('run', '--target', 'cuda', 'models/mlp.fm');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    const lines = r.err.split('\n').filter((l) => l !== '' && !l.startsWith('fmc: note:'));
    expect(lines).toEqual([expect.stringMatching(/^fmc: no GPU or NVIDIA driver found: libcuda\.so\.1 not found/)]);
    expect(r.err).not.toMatch(/internal error|at .*\.js:\d+/);
  });

  it('lists cuda among the targets', () => {
    const r = fmc('run', '--target', 'nope', 'models/mlp.fm');
    expect(r.code).toBe(2);
    expect(r.err).toContain('the targets are reference, c, wgsl, cuda');
  });

  // A real GPU: the same seeded inputs and weights as the reference target, outputs compared.
  it.skipIf(!status.available)(
    'runs mlp on the GPU and matches the reference target',
    () => {
      const saved = (t: string) => path.join(DIR, `${t}.safetensors`);
      for (const t of ['reference', 'cuda']) {
        const r = fmc('run', '--target', t, 'models/mlp.fm', '--dims', 'B=3', '--save-outputs', saved(t));
        expect(r.err).not.toMatch(/error/i);
        expect(r.code).toBe(0);
      }
      const want = readSafetensorsFile(saved('reference')).tensors;
      const got = readSafetensorsFile(saved('cuda')).tensors;
      expect([...got.keys()]).toEqual([...want.keys()]);
      for (const [name, w] of want) {
        const g = got.get(name)!;
        expect(g.shape).toEqual(w.shape);
        const a = Array.from(g.data);
        const b = Array.from(w.data);
        a.forEach((x, i) => expect(Math.abs(x - b[i]!)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(b[i]!))));
      }
    },
    120_000,
  );
});
