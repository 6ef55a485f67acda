// The package as a user gets it: `npm pack`, then `npm install` of the tarball into an empty
// project (a plain `npm init` one, so CommonJS by default), with the registry as the only
// network. The C target must work there from the CLI, the API and a typed module, with the
// addon that ships prebuilt in the package, and without onnxruntime-node (an optional peer).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-package-'));
const PROJECT = path.join(DIR, 'project');
afterAll(() => fs.rmSync(DIR, { recursive: true, force: true }));

function sh(cmd: string, args: readonly string[], cwd: string, timeout = 120_000) {
  const env = { ...process.env, FMC_CACHE_DIR: path.join(DIR, 'cache'), NO_COLOR: '1' };
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env, timeout });
  return { code: r.status, out: r.stdout, err: r.stderr, all: `${r.stdout}\n${r.stderr}` };
}

let install: ReturnType<typeof sh>;

beforeAll(() => {
  // dist/ and the addon are built by `npm test` before the tests run; pack what is there.
  const pack = sh('npm', ['pack', '--ignore-scripts', '--pack-destination', DIR], ROOT);
  expect(pack.code, pack.all).toBe(0);
  const tarball = path.join(DIR, pack.out.trim().split('\n').pop()!);
  fs.mkdirSync(PROJECT);
  fs.writeFileSync(path.join(PROJECT, 'package.json'), JSON.stringify({ name: 'user-project', private: true }));
  install = sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], PROJECT, 300_000);
}, 360_000);

describe('the packed tarball in a fresh project', () => {
  it('installs without warnings about fmc configuration and without onnxruntime-node', () => {
    expect(install.code, install.all).toBe(0);
    expect(install.all).not.toMatch(/Unknown project config/);
    expect(fs.existsSync(path.join(PROJECT, 'node_modules', 'fmc', 'runtime-native', 'build', 'Release'))).toBe(true);
    expect(fs.existsSync(path.join(PROJECT, 'node_modules', 'onnxruntime-node'))).toBe(false);
  });

  it('runs a model on the C target from the CLI', () => {
    const r = sh(
      path.join(PROJECT, 'node_modules', '.bin', 'fmc'),
      ['run', '--target', 'c', 'node_modules/fmc/models/mlp.fm'],
      PROJECT,
    );
    expect(r.code, r.all).toBe(0);
    expect(r.out).toMatch(/MLP\.forward on c .*\n\s+logits: f32\[2, 10\]/);
  });

  it('compiles and runs through the API, and through a typed module in a CommonJS project', () => {
    const script = `
import { compile, Tensor } from 'fmc';
const m = compile('node_modules/fmc/models/mlp.fm', { seed: 1 });
const x = new Tensor('f32', new Float32Array(2 * 784).fill(0.5), [2, 784]);
const { logits } = m.run({ images: x });
console.log(JSON.stringify(logits.dims));
`;
    fs.writeFileSync(path.join(PROJECT, 'api.mjs'), script);
    const api = sh(process.execPath, ['api.mjs'], PROJECT);
    expect(api.code, api.all).toBe(0);
    expect(api.out.trim()).toBe('[2,10]');

    const c = sh(
      path.join(PROJECT, 'node_modules', '.bin', 'fmc'),
      ['compile', 'node_modules/fmc/models/mlp.fm', '-o', 'mlp'],
      PROJECT,
    );
    expect(c.code, c.all).toBe(0);
    const typed = `
import model, { forward } from './mlp/index.mjs';
import { Tensor } from 'fmc';
const { logits } = forward({ images: new Tensor('f32', new Float32Array(784), [1, 784]) });
console.log(model.functions.join(','), JSON.stringify(logits.dims));
`;
    fs.writeFileSync(path.join(PROJECT, 'typed.mjs'), typed);
    const t = sh(process.execPath, ['typed.mjs'], PROJECT);
    expect(t.code, t.all).toBe(0);
    expect(t.out.trim()).toBe('forward,loss [1,10]');

    // CommonJS: require('fmc') and require of the typed module (no top-level await anywhere).
    const cjs = `
const { compile, Tensor } = require('fmc');
const typed = require('./mlp/index.mjs');
const x = new Tensor('f32', new Float32Array(784), [1, 784]);
const a = compile('node_modules/fmc/models/mlp.fm', { seed: 1 }).run({ images: x }).logits;
const b = typed.forward({ images: x }).logits;
console.log(JSON.stringify(a.dims), JSON.stringify(b.dims));
`;
    fs.writeFileSync(path.join(PROJECT, 'api.cjs'), cjs);
    const r = sh(process.execPath, ['api.cjs'], PROJECT);
    expect(r.code, r.all).toBe(0);
    expect(r.out.trim()).toBe('[1,10] [1,10]');
  });

  it('says how to add onnxruntime-node when --vs onnxruntime needs it', () => {
    const fmcBin = path.join(PROJECT, 'node_modules', '.bin', 'fmc');
    const r = sh(fmcBin, ['bench', 'node_modules/fmc/models/mlp.fm', '--runs', '1', '--vs', 'onnxruntime'], PROJECT);
    expect(r.code, r.all).toBe(1);
    expect(r.err).toContain(
      'fmc: --vs onnxruntime needs the onnxruntime-node package, an optional peer dependency of fmc: npm install onnxruntime-node',
    );
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
