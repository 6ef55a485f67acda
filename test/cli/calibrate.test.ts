// `fmc calibrate` and `--calibration` as a user runs them (subprocesses of the built CLI): the
// file holds max |x| of the first batches of the data, in order (computed here from the data
// itself for fc1, whose activation is the images); `fmc run --calibration` on C and on the
// reference agree and differ from weight-only int8; a calibration of another model, one
// missing entries, and one with a zero or non-finite scale are errors that name the file.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run as main } from '../../src/cli/main.js';
import { hostTensor } from '../../src/ir/value.js';
import { writeSafetensors } from '../../src/runtime/safetensors-write.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-calibrate-'));
const at = (name: string) => path.join(DIR, name);
const ENV = { ...process.env, FMC_CACHE_DIR: at('cache') };
const SMALL = ['--set', 'pixels=64', '--set', 'hidden1=32', '--set', 'hidden2=16'];

function fmc(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: ENV, timeout: 110_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const outputs = (out: string): number[] => (JSON.parse(out) as { outputs: { first: number[] }[] }).outputs[0]!.first;

describe('fmc calibrate', () => {
  const data = at('images.safetensors');
  const images = Array.from({ length: 40 * 64 }, (_, i) => 3 * Math.sin(i * 0.37) * Math.cos(i * 0.011));
  fs.writeFileSync(
    data,
    writeSafetensors(
      new Map([
        ['images', hostTensor('f32', [40, 64], images)],
        [
          'labels',
          hostTensor(
            'i32',
            [40],
            Array.from({ length: 40 }, (_, i) => i % 10),
          ),
        ],
      ]),
    ),
  );
  const calib = at('mlp.calib.json');

  it('records max |x| of the first batches and runs int8 activations', { timeout: 240_000 }, () => {
    const r = fmc(
      'calibrate',
      'models/mlp.fm',
      ...SMALL,
      '--data',
      data,
      '--batches',
      '3',
      '--batch',
      '8',
      '-o',
      calib,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/fc1\.w: range/);
    const c = JSON.parse(fs.readFileSync(calib, 'utf8')) as {
      entries: Record<string, { range: number }>;
      samples: number;
    };
    // The first 3 batches of 8, in order: samples 0..23; fc1 multiplies the images.
    const want = Math.max(...images.slice(0, 24 * 64).map((v) => Math.abs(Math.fround(v))));
    expect(c.entries['fc1.w']!.range).toBe(want);
    expect(c.samples).toBe(24);
    const run = (...more: string[]) => fmc('run', 'models/mlp.fm', ...SMALL, '--dims', 'B=2', '--json', ...more);
    const onC = run('--target', 'c', '--calibration', calib);
    const onRef = run('--calibration', calib);
    const weightOnly = run('--target', 'c');
    for (const x of [onC, onRef, weightOnly]) expect(x.code, x.err).toBe(0);
    outputs(onC.out).forEach((v, i) =>
      expect(Math.abs(v - outputs(onRef.out)[i]!)).toBeLessThan(1e-6 * (1 + Math.abs(v))),
    );
    expect(outputs(onC.out)).not.toEqual(outputs(weightOnly.out));
  });

  it('refuses a calibration it cannot use, naming the file', { timeout: 240_000 }, () => {
    const base = JSON.parse(fs.readFileSync(calib, 'utf8')) as Record<string, unknown>;
    const variant = (name: string, change: (c: Record<string, unknown>) => void): string => {
      const c = structuredClone(base);
      change(c);
      fs.writeFileSync(at(name), JSON.stringify(c));
      return at(name);
    };
    const run = (file: string, ...more: string[]) =>
      fmc('run', 'models/mlp.fm', '--dims', 'B=2', '--target', 'c', '--calibration', file, ...more);
    // Another model: the mlp at other sizes.
    const other = run(calib, '--set', 'pixels=64', '--set', 'hidden1=48', '--set', 'hidden2=16');
    expect(other.code).toBe(1);
    expect(other.err).toContain(`${calib}: this calibration is of another model`);
    // Missing entries: every layer int8 needs fc2 and fc3 too.
    const missing = run(calib, ...SMALL, '--quantize', 'all=int8');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`${calib}: no calibration for 'fc2.w', 'fc3.w'`);
    const entries = (scale: unknown) => (c: Record<string, unknown>) => {
      c.entries = { 'fc1.w': { range: 1, scale } };
    };
    for (const [name, scale] of [
      ['zero.json', 0],
      ['nan.json', 'NaN'],
      ['null.json', null],
    ] as const) {
      const r = run(variant(name, entries(scale)), ...SMALL);
      expect(r.code, name).toBe(1);
      expect(r.err).toContain(`${at(name)}: entry 'fc1.w': scale`);
    }
    const notOne = run(
      variant('other.json', (c) => (c.format = 'x')),
      ...SMALL,
    );
    expect(notOne.err).toContain('not an fmc calibration file');
  });

  it('help shows the options docs/ir.md names, with examples', async () => {
    let out = '';
    const help = async (cmd: string): Promise<string> => {
      out = '';
      await main(['help', cmd], { out: (s) => (out += s), err: (s) => (out += s), color: false });
      return out;
    };
    const text = await help('calibrate');
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'ir.md'), 'utf8');
    const start = doc.indexOf('## int8 activations');
    const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
    const named = new Set([...section.matchAll(/(?<![\w-])(--[a-z][a-z-]*)/g)].map((m) => m[1]!));
    expect([...named].sort()).toEqual(['--batch', '--batches', '--calibration', '--data', '--method']);
    for (const o of named) if (o !== '--calibration') expect(text).toContain(o);
    expect(text).toMatch(/Examples:\n {2}fmc calibrate models\/mlp\.fm --data mnist/);
    for (const cmd of ['compile', 'run', 'bench']) expect(await help(cmd), cmd).toContain('--calibration <file>');
  });
});
