// `--precision f32|f16|bf16` on fmc compile, run, bench and train (subprocesses of the built
// CLI): it sets the model-level compute precision (the dump shows bf16 contractions and the
// hint), `f32` undoes a model's own `@precision(bf16)`, `run --target c` agrees with the
// reference running the same passes within bf16's tolerance, `train` applies it without the
// old "not implemented" warning, and a bad value is a usage error.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fmcWithCache } from './train-metrics.js';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-precision-'));
const fmc = fmcWithCache(path.join(DIR, 'cache'));
const SMALL = ['--set', 'pixels=64', '--set', 'hidden1=32', '--set', 'hidden2=16'];

describe('--precision', () => {
  it('compile: the IR after the precision pass computes in bf16; f32 undoes a model-level @precision(bf16)', () => {
    const r = fmc(
      'compile',
      'models/mlp.fm',
      ...SMALL,
      '--fn',
      'forward',
      '--precision',
      'bf16',
      '--dump-after',
      'precision',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('// hint block "" precision(bf16)');
    expect(r.out).toMatch(/einsum \{spec: "Ai,oi->Ao"\} \(%\d+, %\d+\) : bf16\[B, 32\]/);
    expect(r.out).toMatch(/return logits = %\d+/);
    expect(r.out).toMatch(/cast \(%\d+\) : f32\[B, 10\]/);
    const moe = ['models/moe_lm.fm', '--fn', 'forward', '--dump-after', 'precision'];
    expect(fmc('compile', ...moe).out).toContain(': bf16[');
    const f32 = fmc('compile', ...moe, '--precision', 'f32');
    expect(f32.code, f32.err).toBe(0);
    expect(f32.out).not.toContain('bf16[');
  });

  it('run: C and the reference agree at bf16, and differ from f32', { timeout: 60_000 }, () => {
    const first = (target: string, p: string): number[] => {
      const r = fmc('run', 'models/mlp.fm', ...SMALL, '--target', target, '--precision', p, '--json');
      expect(r.code, r.err).toBe(0);
      return (JSON.parse(r.out) as { outputs: { first: number[] }[] }).outputs[0]!.first;
    };
    const [c, ref, f32] = [first('c', 'bf16'), first('reference', 'bf16'), first('reference', 'f32')];
    for (const [i, v] of ref.entries()) expect(Math.abs(c[i]! - v)).toBeLessThanOrEqual(1e-2 + 1.6e-2 * Math.abs(v));
    expect(f32).not.toEqual(ref);
  });

  it('bench and train take it', { timeout: 100_000 }, () => {
    const b = fmc('bench', 'models/mlp.fm', ...SMALL, '--precision', 'bf16', '--runs', '2', '--warmup', '1', '--json');
    expect(b.code, b.err).toBe(0);
    const t = fmc(
      'train',
      'models/mlp.fm',
      '--data',
      'iris',
      '--set',
      'pixels=4',
      '--set',
      'classes=3',
      '--precision',
      'bf16',
      '--steps',
      '3',
      '--batch',
      '8',
      '--json',
      '--out',
      path.join(DIR, 'run'),
    );
    expect(t.code, t.err).toBe(0);
    expect(t.err).not.toContain('not implemented');
    expect(
      t.out
        .trim()
        .split('\n')
        .filter((l) => l.includes('"loss"')).length,
    ).toBeGreaterThan(0);
  });

  it('a value other than f32, f16 or bf16 is a usage error', () => {
    const r = fmc('run', 'models/mlp.fm', '--precision', 'f64');
    expect(r.code).toBe(2);
    expect(r.err).toContain("--precision must be f32, f16 or bf16, got 'f64'");
  });
});
