// `fmc run --target c` as a user runs it (subprocesses of the built CLI): the compiled model
// agrees with the reference interpreter on the same saved inputs and seeded weights, prints
// the same summary, and turns bad inputs and unknown targets into one-line errors.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensorsFile, writeSafetensors } from '../../src/runtime/safetensors.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-c-'));
const at = (name: string) => path.join(DIR, name);
// A private compile cache: the test neither depends on nor disturbs the user's.
const ENV = { ...process.env, FMC_CACHE_DIR: at('cache') };

// A time limit on each run: vitest cannot time out a test blocked in spawnSync, so a C
// compiler that hangs would otherwise hang the suite.
function fmc(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: ENV, timeout: 110_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface RunJson {
  model: string;
  fn: string;
  target: string;
  seed: number;
  dims: Record<string, number>;
  outputs: {
    name: string;
    dtype: string;
    shape: number[];
    count: number;
    mean: number;
    std: number;
    first: number[];
  }[];
}

describe('fmc run --target c', () => {
  for (const [model, dims] of [
    ['mlp', 'B=3'],
    ['cnn', 'B=2'],
  ] as const)
    it(`${model}: agrees with the reference on the inputs it saved`, { timeout: 120_000 }, () => {
      const ins = at(`${model}-in.st`);
      const c = fmc('run', `models/${model}.fm`, '--target', 'c', '--dims', dims);
      expect(c.code, c.err).toBe(0);
      expect(c.out).toMatch(new RegExp(`^\\w+\\.forward on c \\(${dims}; seed 0; \\d+ ms\\)\\n {2}\\w+: f32\\[`));
      const saved = ['--save-inputs', ins, '--save-outputs', at(`${model}-c.st`)];
      expect(fmc('run', `models/${model}.fm`, '--target', 'c', '--dims', dims, ...saved).code).toBe(0);
      const r = fmc('run', `models/${model}.fm`, '--inputs', ins, '--save-outputs', at(`${model}-ref.st`));
      expect(r.code, r.err).toBe(0);
      const got = readSafetensorsFile(at(`${model}-c.st`)).tensors;
      const want = readSafetensorsFile(at(`${model}-ref.st`)).tensors;
      expect([...got.keys()]).toEqual([...want.keys()]);
      for (const [name, w] of want) {
        const g = got.get(name)!;
        expect(g.shape).toEqual(w.shape);
        let worst = -Infinity;
        w.data.forEach((e, i) => (worst = Math.max(worst, Math.abs(g.data[i]! - e) - 1e-3 * Math.abs(e))));
        expect(worst, name).toBeLessThanOrEqual(1e-4);
      }
    });

  it('prints the reference JSON shape with target c, and the same seeded weights', () => {
    const c = fmc('run', 'models/mlp.fm', '--target', 'c', '--seed', '3', '--json');
    const ref = fmc('run', 'models/mlp.fm', '--seed', '3', '--json');
    expect(c.code).toBe(0);
    expect(c.err).toBe('');
    const cj = JSON.parse(c.out) as RunJson;
    const rj = JSON.parse(ref.out) as RunJson;
    expect(Object.keys(cj)).toEqual(Object.keys(rj));
    expect({ ...cj, outputs: [] }).toEqual({ ...rj, target: 'c', outputs: [] });
    expect(cj.outputs.map((o) => [o.name, o.dtype, o.shape, o.count])).toEqual(
      rj.outputs.map((o) => [o.name, o.dtype, o.shape, o.count]),
    );
    expect(cj.outputs[0]!.mean).toBeCloseTo(rj.outputs[0]!.mean, 4);
    cj.outputs[0]!.first.forEach((x, i) => expect(x).toBeCloseTo(rj.outputs[0]!.first[i]!, 3));
  });

  it('names the targets on an unknown one (exit 2)', () => {
    const r = fmc('run', 'models/mlp.fm', '--target', 'tpu');
    expect(r.code).toBe(2);
    expect(r.err).toBe('fmc: --target tpu: unknown target; the targets are reference, c, wgsl, cuda\n');
  });

  it('rejects inputs of the wrong dtype or shape with one line and exit 1', () => {
    const t = (dtype: 'f32' | 'i32', shape: number[]) => ({
      dtype,
      shape,
      data: new Float64Array(shape.reduce((a, b) => a * b, 1)),
    });
    fs.writeFileSync(at('dtype.st'), writeSafetensors([['images', t('i32', [2, 784])]]));
    fs.writeFileSync(at('shape.st'), writeSafetensors([['images', t('f32', [2, 783])]]));
    fs.writeFileSync(at('rank.st'), writeSafetensors([['images', t('f32', [784])]]));
    for (const name of ['dtype.st', 'shape.st', 'rank.st']) {
      const r = fmc('run', 'models/mlp.fm', '--target', 'c', '--inputs', at(name));
      expect(r.code, name).toBe(1);
      expect(r.err, name).toMatch(new RegExp(`^fmc: .*${name.replace('.', '\\.')}: .*images.*\\n$`));
    }
  });

  it('prints diagnostics as the reference does when the model does not compile', () => {
    fs.writeFileSync(at('bad.fm'), 'model M {\n  fn forward(x: f32[B, 4]) -> f32[B, 5] {\n    return x\n  }\n}\n');
    const c = fmc('run', at('bad.fm'), '--target', 'c');
    const ref = fmc('run', at('bad.fm'));
    expect(c.code).toBe(1);
    expect(c.err).toMatch(/error FM\d{4}: /);
    expect(c.err).toBe(ref.err);
  });
});
