// `fmc train --qat` on the MLP and iris: the same run (seed, data, steps) trained in f32 and
// validated on int4 weights (post-training quantization: `--quantize all=int4` alone), and
// trained through the int4 weights (`--qat`): QAT's int4 validation loss and accuracy are no
// worse than PTQ's, and its checkpoints hold the f32 weights only. `--qat` with nothing to
// quantize is an error. The numbers are printed (docs/training.md quotes them).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/runtime/checkpoint.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-qat-'));
const ENV = { ...process.env, FMC_CACHE_DIR: path.join(DIR, 'cache') };

function fmc(...args: string[]): { code: number | null; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: ENV, timeout: 110_000 });
  return { code: r.status, err: r.stderr };
}

const RUN = [
  'train',
  'models/mlp.fm',
  '--data',
  'iris',
  ...['--set', 'pixels=4', '--set', 'classes=3', '--set', 'hidden1=16', '--set', 'hidden2=16', '--set', 'p_drop=0'],
  ...['--steps', '400', '--batch', '16', '--optimizer', 'adam', '--lr', '0.01', '--val-fraction', '0.3'],
  ...['--eval-every', '400', '--json'],
];

/** The last validation record of a run. */
function validation(dir: string): { val_loss: number; val_accuracy: number } {
  const lines = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
  return JSON.parse(lines.filter((l) => l.includes('val_loss')).at(-1)!) as { val_loss: number; val_accuracy: number };
}

function train(name: string, ...extra: string[]): { val_loss: number; val_accuracy: number } {
  const out = path.join(DIR, name);
  const r = fmc(...RUN, ...extra, '--out', out);
  expect(r.err).not.toMatch(/error/);
  expect(r.code).toBe(0);
  return validation(out);
}

describe('fmc train --qat', () => {
  it('int4 after QAT is no worse than int4 after f32 training (PTQ), and checkpoints hold f32', () => {
    const f32 = train('f32', '--quantize', 'all=none');
    const ptq = train('ptq', '--quantize', 'all=int4');
    const qat = train('qat', '--quantize', 'all=int4', '--qat');
    console.log(
      `iris MLP, 400 steps: f32 ${JSON.stringify(f32)}; int4 PTQ ${JSON.stringify(ptq)}; int4 QAT ${JSON.stringify(qat)}`,
    );
    expect(qat.val_loss).toBeLessThanOrEqual(ptq.val_loss);
    expect(qat.val_accuracy).toBeGreaterThanOrEqual(ptq.val_accuracy);
    const ckpts = path.join(DIR, 'qat', 'checkpoints');
    const c = readCheckpoint(path.join(ckpts, fs.readdirSync(ckpts).sort().at(-1)!));
    const names = [...c.tensors.keys()];
    expect(names).toContain('fc1.w');
    expect(names.filter((n) => n.includes(':int'))).toEqual([]);
    expect(c.tensors.get('fc1.w')!.dtype).toBe('f32');
  });

  it('--qat with no quantization policy is an error', () => {
    const r = fmc(...RUN, '--steps', '1', '--quantize', 'all=none', '--qat', '--out', path.join(DIR, 'none'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no weight has a quantization policy/);
  });
});
