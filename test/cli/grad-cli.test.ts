// `fmc run --grad` and `fmc compile --dump-after` as a user runs them (subprocesses of the
// built CLI): gradients on the reference and C targets agree file to file, usage errors
// exit 2, a function without a scalar result is a one-line error, and the dumped IR shows
// the pass's output with the model's hints on top.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModule } from '../../src/ir/parse.js';
import { readSafetensorsFile } from '../../src/runtime/safetensors.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-grad-'));
const at = (name: string) => path.join(DIR, name);
const ENV = { ...process.env, FMC_CACHE_DIR: at('cache') };

function fmc(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: ENV, timeout: 110_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('fmc run --grad', () => {
  it('mlp: reference and C gradients agree, and every param has one', { timeout: 120_000 }, () => {
    const ins = at('mlp-in.st');
    const ref = fmc(
      'run',
      'models/mlp.fm',
      '--fn',
      'loss',
      '--grad',
      '--dims',
      'B=3',
      '--save-inputs',
      ins,
      '--save-grads',
      at('ref.st'),
    );
    expect(ref.code, ref.err).toBe(0);
    expect(ref.out).toMatch(/^MLP\.loss on reference \(B=3; seed 0; \d+ ms\)\n {2}output: f32\[\]/);
    expect(ref.out).toMatch(/gradient norms \(L2\) of 6 params:\n {2}fc1\.w {2}f32\[512, 784\] {2}\d\.\d{4}e[+-]\d+\n/);
    const c = fmc(
      'run',
      'models/mlp.fm',
      '--fn',
      'loss',
      '--grad',
      '--target',
      'c',
      '--inputs',
      ins,
      '--save-grads',
      at('c.st'),
    );
    expect(c.code, c.err).toBe(0);
    expect(c.out).toMatch(/^MLP\.loss_grad on c/);
    const want = readSafetensorsFile(at('ref.st')).tensors;
    const got = readSafetensorsFile(at('c.st')).tensors;
    expect([...got.keys()].sort()).toEqual(['fc1.b', 'fc1.w', 'fc2.b', 'fc2.w', 'fc3.b', 'fc3.w']);
    expect([...want.keys()].sort()).toEqual([...got.keys()].sort());
    for (const [k, w] of want) {
      const g = got.get(k)!;
      expect(g.shape).toEqual(w.shape);
      w.data.forEach((x, i) => expect(Math.abs(g.data[i]! - x), k).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(x)));
    }
  });

  it('prints the norms as JSON', () => {
    const r = fmc('run', 'models/mlp.fm', '--fn', 'loss', '--grad', '--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as { grads: { path: string; norm: number }[] };
    expect(j.grads.map((g) => g.path)).toEqual(['fc1.w', 'fc1.b', 'fc2.w', 'fc2.b', 'fc3.w', 'fc3.b']);
    expect(j.grads.every((g) => g.norm > 0)).toBe(true);
  });

  it('refuses a function without a scalar result, with a one-line error', () => {
    const r = fmc('run', 'models/mlp.fm', '--grad');
    expect(r.code).toBe(1);
    expect(r.err).toBe('fmc: `forward` returns f32[B, 10]; gradients need a float scalar (a loss, shape [])\n');
  });

  it('--save-grads needs --grad; two --save-* options cannot name one file', () => {
    expect(fmc('run', 'models/mlp.fm', '--save-grads', at('x.st')).code).toBe(2);
    const r = fmc(
      'run',
      'models/mlp.fm',
      '--fn',
      'loss',
      '--grad',
      '--save-outputs',
      at('y.st'),
      '--save-grads',
      at('y.st'),
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--save-outputs and --save-grads both write/);
  });
});

describe('fmc compile --dump-after', () => {
  it('autodiff: the gradient graph of the loss, with the hints on top, parseable', () => {
    const r = fmc('compile', 'models/swa_lm.fm', '--dump-after', 'autodiff');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/autodiff runs in grad mode only: dumping the gradient of SlidingWindowLM\.loss/);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('// fmc: SlidingWindowLM.loss_grad (target c, mode grad) after autodiff');
    expect(lines).toContain('// hint block "blocks" checkpoint');
    expect(lines).toContain('// hint block "lm_head" precision(f32)');
    expect(r.out).toMatch(/\/\/ train optimizer = adamw\(lr = 0\.0003, betas = \(0\.9, 0\.95\)/);
    expect(r.out).toMatch(/barrier \{key: "remat:blocks\.7"\}/);
    const [g] = parseModule(r.out);
    expect(g!.outputs.map((o) => o.name)).toContain('grad.blocks.0.attn.q.w');
    // Nothing is written without -o.
    expect(fs.readdirSync(DIR).filter((f) => !f.endsWith('.st') && f !== 'cache')).toEqual([]);
  });

  it('all: every stage of every function', () => {
    const r = fmc('compile', 'models/mlp.fm', '--dump-after', 'all');
    expect(r.code, r.err).toBe(0);
    const heads = r.out.split('\n').filter((l) => l.startsWith('// fmc: '));
    expect(heads).toEqual([
      '// fmc: MLP.forward (target c, mode inference) after lower',
      '// fmc: MLP.forward (target c, mode inference) after precision',
      '// fmc: MLP.forward (target c, mode inference) after quantize',
      '// fmc: MLP.forward (target c, mode inference) after sparsity',
      '// fmc: MLP.forward (target c, mode inference) after fusion',
      '// fmc: MLP.loss (target c, mode inference) after lower',
      '// fmc: MLP.loss (target c, mode inference) after precision',
      '// fmc: MLP.loss (target c, mode inference) after quantize',
      '// fmc: MLP.loss (target c, mode inference) after sparsity',
      '// fmc: MLP.loss (target c, mode inference) after fusion',
      '// fmc: MLP.loss_grad (target c, mode grad) after lower',
      '// fmc: MLP.loss_grad (target c, mode grad) after precision',
      '// fmc: MLP.loss_grad (target c, mode grad) after autodiff',
      '// fmc: MLP.loss_grad (target c, mode grad) after qat',
      '// fmc: MLP.loss_grad (target c, mode grad) after simplify',
      '// fmc: MLP.loss_grad (target c, mode grad) after fusion',
    ]);
  });

  it('an unknown pass is a usage error naming the passes', () => {
    const r = fmc('compile', 'models/mlp.fm', '--dump-after', 'nosuch');
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'fmc: --dump-after nosuch: no such pass; the names are lower, autodiff, fusion, loss-scale, precision, qat, quantize, simplify, sparse-updates, sparsity, train-step, all\n',
    );
  });

  it('--grad compiles loss_grad into the module', { timeout: 120_000 }, () => {
    const out = at('mlp-mod');
    const r = fmc('compile', 'models/mlp.fm', '--grad', '-o', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/3 functions/);
    expect(fs.readdirSync(out)).toContain('loss_grad.c');
  });
});
