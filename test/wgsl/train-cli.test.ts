// `fmc train --target wgsl` end to end (a subprocess of the built CLI on Dawn/SwiftShader):
// the small MLP on iris learns (the mean loss of the last 10 steps well below the first 10),
// writes its metrics, loss curve and checkpoints, and follows the C run of the same command
// step by step; its last checkpoint resumes on C (the default target), and the resumed steps
// follow the C run that never stopped.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { losses } from '../cli/train-metrics.js';
import { readCheckpoint } from '../../src/runtime/checkpoint.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';

const why = await webgpuUnavailable();
if (why) console.warn(`skipping fmc train --target wgsl: ${why}`);

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-wgsl-train-'));
const at = (name: string): string => path.join(DIR, name);
const ENV = { ...process.env, FMC_CACHE_DIR: at('cache') };

function fmc(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: ENV, timeout: 170_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const IRIS = [
  'models/mlp.fm',
  ...['--data', 'iris', '--set', 'pixels=4', '--set', 'classes=3', '--set', 'hidden1=32', '--set', 'hidden2=16'],
  ...['--batch', '16', '--lr', '0.02', '--eval-every', '30', '--json', '--seed', '3'],
];

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const relGap = (a: readonly number[], b: readonly number[]): number =>
  Math.max(...a.map((x, i) => Math.abs(x - b[i]!) / Math.abs(x)));

describe.skipIf(why !== '')('fmc train --target wgsl', () => {
  it('learns iris as C does; its checkpoint resumes on C', { timeout: 400_000 }, () => {
    const gpu = fmc('train', ...IRIS, '--steps', '60', '--target', 'wgsl', '--out', at('wgsl'));
    expect(gpu.err).toContain('training MLP on iris');
    expect(gpu.code).toBe(0);
    const got = losses(at('wgsl'));
    expect(got).toHaveLength(60);
    expect(mean(got.slice(-10))).toBeLessThan(0.5 * mean(got.slice(0, 10)));
    expect(fs.existsSync(at('wgsl/loss.svg'))).toBe(true);
    const ckpts = fs.readdirSync(at('wgsl/checkpoints')).sort();
    expect(ckpts).toEqual(['step-00000030.safetensors', 'step-00000060.safetensors']);

    // The same command on C, 80 steps: the first 60 are the WGSL run's within f32 rounding.
    const cpu = fmc('train', ...IRIS, '--steps', '80', '--out', at('c'));
    expect(cpu.code).toBe(0);
    const want = losses(at('c'));
    expect(relGap(want.slice(0, 60), got)).toBeLessThan(1e-4);
    // The WGSL checkpoint holds what the GPU held at step 60 (synced before it was written).
    const g = readCheckpoint(at('wgsl/checkpoints/step-00000060.safetensors'));
    const c = readCheckpoint(at('c/checkpoints/step-00000060.safetensors'));
    expect(g.info.counters).toEqual({ micro: 60, updates: 60 });
    expect([...g.tensors.keys()].sort()).toEqual([...c.tensors.keys()].sort());
    for (const [name, t] of c.tensors) {
      const u = g.tensors.get(name)!;
      const norm = Math.hypot(...Array.from(t.data as ArrayLike<number>));
      const diff = Math.hypot(...Array.from(t.data as ArrayLike<number>, (x, i) => x - Number(u.data[i]!)));
      expect(diff, name).toBeLessThanOrEqual(1e-4 * norm);
    }

    // Resumed on C from the WGSL checkpoint to step 80: the steps of the C run that never stopped.
    const resumed = fmc('train', ...IRIS, '--steps', '80', '--resume', at('wgsl'));
    expect(resumed.err).toContain('resumed');
    expect(resumed.code).toBe(0);
    const after = losses(at('wgsl'));
    expect(after).toHaveLength(80);
    expect(relGap(want.slice(60), after.slice(60))).toBeLessThan(1e-4);
  });
});
