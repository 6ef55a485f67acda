// `fmc train --teacher` as a user runs it (subprocesses of the built CLI): the MNIST CNN,
// trained briefly, teaches a half-width student (built by --set) whose loss goes down; the
// teacher's hyperparameters come from its checkpoint; the checkpoint records the distillation
// and a resume with other settings is refused; a teacher whose logits do not fit is an error
// before any step; distillation options without --teacher are a usage error. The digits are
// centred on 32 × 32: cnn.fm's `@quantize(int8, group = 128)` on fc1 needs 64·width (28 × 28:
// 36·width) to be a multiple of 128.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/runtime/checkpoint.js';
import { fmc, tempDir } from '../api/helpers.js';

const DIR = tempDir('distill-cli');
const at = (name: string): string => path.join(DIR, name);

const CNN = ['models/cnn.fm', '--data', 'mnist', '--set', 'channels=1', '--set', 'size=32', '--set', 'p_drop=0'];
const RUN = ['--batch', '32', '--lr', '0.05', '--schedule', 'constant', '--json', '--val-fraction', '0.02'];
const TEACHER = [...CNN, '--set', 'width=8', '--set', 'hidden=32'];
const STUDENT = [...CNN, '--set', 'width=4', '--set', 'hidden=16'];

const losses = (out: string): number[] =>
  fs
    .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { loss?: number })
    .flatMap((m) => (m.loss !== undefined ? [m.loss] : []));
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('fmc train --teacher', () => {
  const teacherOut = at('teacher');
  const weights = path.join(teacherOut, 'checkpoints', 'step-00000030.safetensors');

  it('a half-width CNN student learns from a briefly trained CNN teacher', { timeout: 120_000 }, () => {
    const t = fmc('train', ...TEACHER, ...RUN, '--steps', '30', '--out', teacherOut);
    expect(t.code, t.err).toBe(0);
    const out = at('student');
    const distill = [
      '--teacher',
      'models/cnn.fm',
      '--teacher-weights',
      weights,
      '--alpha',
      '0.7',
      '--temperature',
      '3',
    ];
    const r = fmc('train', ...STUDENT, ...RUN, '--steps', '20', ...distill, '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`distilling from models/cnn.fm (${weights}): alpha 0.7, temperature 3`);
    const l = losses(out);
    expect(l).toHaveLength(20);
    expect(mean(l.slice(-5))).toBeLessThan(0.8 * mean(l.slice(0, 5)));
    const ck = readCheckpoint(path.join(out, 'checkpoints', 'step-00000020.safetensors'));
    expect(ck.info.extra.distill).toMatchObject({ teacher: 'models/cnn.fm', alpha: 0.7, temperature: 3 });
    // Only the student's state: no teacher tensor in the checkpoint.
    expect([...ck.tensors.keys()].filter((k) => !k.startsWith('opt:')).every((k) => !k.includes('teacher'))).toBe(true);
    expect(ck.tensors.get('stage1a.conv.w')!.shape[0]).toBe(4);

    const other = fmc('train', ...STUDENT, ...RUN, '--steps', '21', ...distill.slice(0, 4), '--resume', out);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/was written with distillation .*"alpha":0.7.*, this run has .*"alpha":0.5/);
  });

  it('a teacher whose logits do not fit is an error before any step', { timeout: 60_000 }, () => {
    const out = at('mismatch');
    const r = fmc(
      'train',
      ...STUDENT,
      ...RUN,
      '--steps',
      '3',
      '--teacher',
      'models/cnn.fm',
      '--teacher-weights',
      weights,
      '--teacher-set',
      'channels=1',
      '--teacher-set',
      'size=32',
      '--teacher-set',
      'classes=12',
      '--out',
      out,
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/teacher's logits \(CNN's forward\) are f32\[B, 12\], the student's \(CNN\) f32\[B, 10\]/);
    expect(fs.existsSync(path.join(out, 'checkpoints'))).toBe(false);
  });

  it('distillation options need --teacher', () => {
    const r = fmc('train', ...STUDENT, '--steps', '3', '--alpha', '0.3', '--out', at('none'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('--alpha is a distillation option: give --teacher');
  });
});
