// Flag values past what the runtime or the numbers can take: each a usage error (exit 2) that
// names the flag and quotes the value as given, before anything is compiled or run, never an
// internal error (exit 70) or a run that goes on with it.

import * as fs from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_THREADS } from '../../src/runtime/native.js';
import { fmc, tempDir } from '../api/helpers.js';
import { tinyModel } from '../models/tiny-model.js';

const TINY = tinyModel();

const dir = tempDir('flag-limits');
const tiny = path.join(dir, 'tiny.fm');
fs.writeFileSync(tiny, TINY);

describe('--threads', () => {
  it('takes at most the runtime bound, in every command that has it', () => {
    const over = '65537';
    const want = 'fmc: --threads: expected an integer from 1 to 65536, found `65537`\n';
    for (const args of [
      ['bench', tiny, '--runs', '1'],
      ['tune', tiny, '--dry-run'],
      ['train', tiny, '--data', 'iris', '--out', path.join(dir, 'run'), '--steps', '2'],
      ['calibrate', tiny, '--data', 'iris', '-o', path.join(dir, 'c.json')],
    ]) {
      for (const threads of [over, '100000']) {
        const r = fmc(...args, '--threads', threads);
        expect(r.err, args[0]).toBe(want.replace(over, threads));
        expect(r.code, args[0]).toBe(2);
      }
    }
    expect(fs.existsSync(path.join(dir, 'run'))).toBe(false);
    expect(MAX_THREADS).toBe(65536);
  });
});

describe('counts past 2^53 in --quantize and --sparsity', () => {
  it('are usage errors quoting the number as given, not rounded', () => {
    const huge = '99999999999999999999';
    const cases: [string[], string][] = [
      [
        ['--quantize', `all=int8:${huge}`],
        `fmc: --quantize: quantization group ${huge} in 'int8:${huge}' is too large (at most 2^53 - 1)\n`,
      ],
      [['--quantize', 'all=int4:9007199254740993:asym'], 'quantization group 9007199254740993 in'],
      [
        ['--sparsity', `block=${huge},density=0.5`],
        `fmc: --sparsity block=${huge},density=0.5: ${huge} is too large (at most 2^53 - 1)\n`,
      ],
      [['--sparsity', `2:${huge}`], `fmc: --sparsity 2:${huge}: ${huge} is too large (at most 2^53 - 1)\n`],
    ];
    for (const [flags, want] of cases) {
      const r = fmc('run', tiny, ...flags);
      expect(r.err, flags.join(' ')).toContain(want);
      expect(r.code, flags.join(' ')).toBe(2);
    }
    // 2^53 - 1 itself is a count: the model then says what it does not divide.
    const r = fmc('run', tiny, '--quantize', 'all=int8:9007199254740991');
    expect(r.err).toContain('quantization group 9007199254740991 does not divide 4');
  });
});

describe('train values past what a step can take', () => {
  const train = (...flags: string[]) =>
    fmc('train', tiny, '--data', 'iris', '--out', path.join(dir, 'never'), '--steps', '2', ...flags);

  it('--loss-scale above the largest f32 and --accumulate above 65536 are usage errors', () => {
    const scale = train('--loss-scale', '1e39');
    expect(scale.err).toBe(
      "fmc: --loss-scale must be none, dynamic or a positive number ≤ 3.4028234663852886e+38 (the largest f32), got '1e39'\n",
    );
    expect(scale.code).toBe(2);
    const acc = train('--accumulate', '1000000000');
    expect(acc.err).toBe("fmc: --accumulate must be an integer from 1 to 65536, got '1000000000'\n");
    expect(acc.code).toBe(2);
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });

  it('in the train section they are FM0601 at the value', () => {
    for (const [line, col, value, want] of [
      [
        'loss_scale = 1e39',
        18,
        '1e39',
        'expected a positive number ≤ 3.4028234663852886e+38 (the largest f32), found 1e+39',
      ],
      ['accumulate = 1000000000', 18, '1000000000', 'expected an integer from 1 to 65536, found 1000000000'],
    ] as const) {
      const f = path.join(dir, `section-${value}.fm`);
      fs.writeFileSync(f, TINY.replace('    steps = 20\n', `    steps = 20\n    ${line}\n`));
      const r = fmc('check', f);
      expect(r.err).toContain(`${f}:18:${col}: error FM0601: invalid value for train setting \``);
      expect(r.err).toContain(want);
      expect(r.code).toBe(1);
    }
  });
});

describe('tune and distillation flags', () => {
  it('tune refuses a zero dim: there is nothing to time', () => {
    const r = fmc('tune', tiny, '--dims', 'B=0', '--dry-run');
    expect(r.err).toBe('fmc: --dims B=0: fmc tune times runs at these sizes, and an empty one times nothing\n');
    expect(r.code).toBe(2);
  });

  it('--temperature is bounded to [0.001, 1000]; --teacher-set errors name --teacher-set', () => {
    const teacher = ['--teacher', tiny, '--teacher-weights', path.join(dir, 'no-such.safetensors')];
    const train = (...flags: string[]) =>
      fmc('train', tiny, '--data', 'iris', '--out', path.join(dir, 'distill'), '--steps', '2', ...teacher, ...flags);
    for (const t of ['1e300', '1e-300', '0.0009', '1001']) {
      const r = train('--temperature', t);
      expect(r.err).toBe(`fmc: --temperature must be a number from 0.001 to 1000, got '${t}'\n`);
      expect(r.code).toBe(2);
    }
    const bare = train('--teacher-set', 'zzz');
    expect(bare.err).toBe('fmc: --teacher-set: expected NAME=VALUE, found `zzz`\n');
    expect(bare.code).toBe(2);
  });

  it('a teacher hyperparameter that does not exist is reported at --teacher-set', { timeout: 60_000 }, () => {
    const weights = path.join(dir, 'teacher.safetensors');
    expect(fmc('train', tiny, '--data', 'iris', '--out', path.join(dir, 'teacher'), '--steps', '1').code).toBe(0);
    const ckpts = path.join(dir, 'teacher', 'checkpoints');
    fs.copyFileSync(path.join(ckpts, fs.readdirSync(ckpts).sort().at(-1)!), weights);
    const r = fmc(
      'train',
      tiny,
      '--data',
      'iris',
      '--out',
      path.join(dir, 'student'),
      '--steps',
      '1',
      '--teacher',
      tiny,
      '--teacher-weights',
      weights,
      '--teacher-set',
      'zzz=1',
    );
    expect(r.err).toContain('--teacher-set:1:1: error FM0314: cannot set `zzz`');
    expect(r.err).not.toContain('--set:');
    expect(r.code).toBe(1);
  });
});

describe('--quantize paths', () => {
  it('that cover no param are warned about, as unused --dims names are', () => {
    const warning =
      'fmc: warning: --quantize nope: `Tiny` has no param at or under nope (its params: fc1.w, fc1.b, fc2.w, fc2.b)\n';
    for (const cmd of [['run'], ['run', '--target', 'c'], ['export', '--onnx', path.join(dir, 'q.onnx')]]) {
      const r = fmc(cmd[0]!, tiny, ...cmd.slice(1), '--quantize', 'nope=int8', '--quantize', 'fc1=int8');
      expect(r.err, cmd.join(' ')).toContain(warning);
      expect(r.err, cmd.join(' ')).not.toContain('--quantize fc1');
      expect(r.code, cmd.join(' ')).toBe(0);
    }
    expect(fmc('run', tiny, '--quantize', 'all=int8').err).not.toContain('warning');
  });
});

describe('bench --vs onnxruntime', () => {
  it('gives ONNX Runtime at most one intra-op thread per core, and says so', { timeout: 120_000 }, () => {
    const cores = availableParallelism();
    const threads = cores + 1;
    const bench = (...flags: string[]) =>
      fmc('bench', tiny, '--vs', 'onnxruntime', '--threads', String(threads), '--runs', '1', '--warmup', '0', ...flags);
    const r = bench('--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as { threads: number; ort: { threads: number } };
    expect(j.threads).toBe(threads);
    expect(j.ort.threads).toBe(cores);
    const text = bench();
    expect(text.out).toContain(`  note         onnxruntime ran ${cores} intra-op threads: one per core, at most\n`);
  });
});
