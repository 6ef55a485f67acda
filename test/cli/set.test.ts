// `--set name=value` on every command that takes a model, as users run it (the built CLI):
// the overrides change what is checked, inspected, run, compiled, benchmarked and exported;
// bad overrides are exit 1 with a diagnostic, malformed ones exit 2.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensorsFile } from '../../src/runtime/safetensors.js';
import { fmc, tempDir } from '../api/helpers.js';

const DIR = tempDir('set-cli');
const at = (...p: string[]) => path.join(DIR, ...p);

interface InspectJson {
  rows: { path: string; output: string; params: number }[];
}
const inspect = (...args: string[]) =>
  JSON.parse(fmc('inspect', 'models/mlp.fm', '--json', ...args).out) as InspectJson;

describe('fmc --set', () => {
  it('check: checks the model with the overrides; a broken override is the normal error plus a note', () => {
    expect(fmc('check', 'models/swa_lm.fm', '--set', 'd=256', '--set', 'layers=2').code).toBe(0);
    const r = fmc('check', 'models/swa_lm.fm', '--set', 'd=64');
    expect(r.code).toBe(1);
    expect(r.err).toContain('error FM0503: quantization group 128 does not divide 64');
    expect(r.err).toContain('= note: model `SlidingWindowLM` is checked with --set d=64');
    // Without the override the same file is clean: the error is the override's.
    expect(fmc('check', 'models/swa_lm.fm').code).toBe(0);
  });

  it('check: several files; a name is set where declared, unknown everywhere is FM0314', () => {
    const ok = fmc('check', 'models/mlp.fm', 'models/cnn.fm', '--set', 'hidden=64', '--set', 'classes=3');
    expect(ok.err).toContain('checked 2 files: no errors');
    expect(ok.code).toBe(0);
    const r = fmc('check', 'models/mlp.fm', 'models/cnn.fm', '--set', 'hiden1=64', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as { diagnostics: { code: string; file: string; message: string; help?: string }[] };
    expect(j.diagnostics.map((d) => [d.code, d.file])).toEqual([['FM0314', '--set']]);
    expect(j.diagnostics[0]!.message).toContain('no model checked has such a hyperparameter');
    expect(j.diagnostics[0]!.help).toBe('did you mean `hidden1`?');
  });

  it('usage errors: no `=`, a name given twice, no value (exit 2)', () => {
    const noEq = fmc('check', 'models/mlp.fm', '--set', 'hidden1');
    expect(noEq.code).toBe(2);
    expect(noEq.err).toContain('--set: expected NAME=VALUE, found `hidden1`');
    expect(fmc('inspect', 'models/mlp.fm', '--set', 'hidden1=3', '--set', 'hidden1=4').code).toBe(2);
    expect(fmc('run', 'models/mlp.fm', '--set', 'hidden1').code).toBe(2);
    expect(fmc('compile', 'models/mlp.fm', '--set', '2x=3', '-o', at('bad')).code).toBe(2);
    expect(fmc('export', 'models/mlp.fm', '--set').code).toBe(2);
  });

  it('inspect: param counts and shapes follow the overrides; an unknown name is exit 1', () => {
    const base = inspect();
    const small = inspect('--set', 'hidden1=128', '--set', 'hidden2=2*32');
    const row = (j: InspectJson, p: string) => j.rows.find((r) => r.path === p)!;
    expect(row(base, 'fc1').params).toBe(784 * 512 + 512);
    expect(row(small, 'fc1').params).toBe(784 * 128 + 128);
    expect(row(small, 'fc2').output).toBe('f32[B, 64]');
    expect(row(small, '').params).toBe(784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10);
    const bad = fmc('inspect', 'models/mlp.fm', '--set', 'hidden=3');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--set:1:1: error FM0314: cannot set `hidden`: model `MLP` has no such hyperparameter');
    expect(bad.err).toContain('did you mean `hidden1`?');
    const type = fmc('inspect', 'models/mlp.fm', '--set', 'hidden1=0.5');
    expect(type.code).toBe(1);
    expect(type.err).toContain('--set:1:9: error FM0301: expected int, found float `0.5`');
  });

  it('run (reference and c): outputs have the overridden shape', () => {
    for (const target of ['reference', 'c']) {
      const r = fmc('run', 'models/mlp.fm', '--target', target, '--set', 'classes=3', '--set', 'hidden1=16', '--json');
      expect(r.code, r.err).toBe(0);
      const j = JSON.parse(r.out) as { outputs: { shape: number[] }[] };
      expect(j.outputs[0]!.shape).toEqual([2, 3]);
    }
  });

  it('compile: the module has the overridden shapes, and plan.json records the overrides', () => {
    const r = fmc('compile', 'models/mlp.fm', '--set', 'hidden1=32', '--set', 'classes=4', '-o', at('m'));
    expect(r.code, r.err).toBe(0);
    const plan = JSON.parse(fs.readFileSync(at('m', 'plan.json'), 'utf8')) as { set?: Record<string, string> };
    expect(plan.set).toEqual({ hidden1: '32', classes: '4' });
    const w = readSafetensorsFile(at('m', 'weights.safetensors')).tensors;
    expect(w.get('fc1.w:int8.q')!.shape).toEqual([32, 784]); // fc1 is @quantize(int8)
    expect(w.get('fc3.b')!.shape).toEqual([4]);
    expect(fs.readFileSync(at('m', 'index.d.mts'), 'utf8')).toMatch(/logits.*4/);
    // Without --set, no "set" key.
    expect(fmc('compile', 'models/mlp.fm', '--fn', 'forward', '-o', at('d')).code).toBe(0);
    expect(Object.keys(JSON.parse(fs.readFileSync(at('d', 'plan.json'), 'utf8')) as object)).not.toContain('set');
  });

  it('bench: times the overridden model (fewer FLOPs)', () => {
    const flops = (...args: string[]) => {
      const r = fmc('bench', 'models/mlp.fm', '--runs', '1', '--warmup', '0', '--json', ...args);
      expect(r.code, r.err).toBe(0);
      return (JSON.parse(r.out) as { flops: number }).flops;
    };
    const small = flops('--set', 'hidden1=64');
    expect(small).toBeLessThan(flops() / 4);
    expect(fmc('bench', 'models/mlp.fm', '--set', 'hiden1=64').code).toBe(1);
  });

  it('export: the ONNX model holds the overridden weights', () => {
    const r = fmc('export', 'models/mlp.fm', '--set', 'hidden1=16', '--onnx', at('small.onnx'));
    expect(r.code, r.err).toBe(0);
    expect(fmc('export', 'models/mlp.fm', '--onnx', at('full.onnx')).code).toBe(0);
    const size = (f: string) => fs.statSync(at(f)).size;
    expect(size('small.onnx')).toBeLessThan(size('full.onnx') / 10);
  });

  it('help lists --set for every model command, with the helper text', () => {
    for (const cmd of ['check', 'inspect', 'run', 'compile', 'bench', 'export']) {
      const h = fmc('help', cmd);
      expect(h.out, cmd).toMatch(/--set <name=value>\s+override a hyperparameter of the model/);
    }
  });
});
