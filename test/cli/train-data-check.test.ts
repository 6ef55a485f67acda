// `fmc train --data` checks the data against the model before any step runs (subprocesses of
// the built CLI): class labels outside the model's class count are an error naming the file,
// the row or sample and the class count (cross_entropy would count them as loss 0), the loss's
// ignore_index is a valid label; a field no input takes is left out with a note naming it and
// the file; and a CSV label column of numbers that is read as class names is a warning.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostTensor } from '../../src/ir/value.js';
import { writeSafetensors } from '../../src/runtime/safetensors-write.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-train-data-'));
const at = (name: string): string => path.join(DIR, name);
const ENV = { ...process.env, FMC_CACHE_DIR: at('cache') };

/** `fmc train` of a small MLP (4 features, 3 classes) for 2 steps of 4 on `data`, into `out`. */
function train(data: string, out: string, ...more: string[]): { code: number | null; err: string } {
  const args = ['train', 'models/mlp.fm', '--data', data, '--out', out, '--steps', '2', '--batch', '4'];
  const set = ['pixels=4', 'classes=3', 'hidden1=8', 'hidden2=8'].flatMap((s) => ['--set', s]);
  const r = spawnSync(process.execPath, [BIN, ...args, ...set, ...more], {
    cwd: ROOT,
    encoding: 'utf8',
    env: ENV,
    timeout: 110_000,
  });
  return { code: r.status, err: r.stderr };
}

const csv = (name: string, labels: readonly (number | string)[]): string => {
  const p = at(name);
  fs.writeFileSync(p, `a,b,c,d,label\n${labels.map((l, i) => `${i},1,2,3,${l}\n`).join('')}`);
  return p;
};

function safetensors(name: string, labels: readonly number[], extra?: number[]): string {
  const n = labels.length;
  const p = at(name);
  const tensors = new Map([
    [
      'images',
      hostTensor(
        'f32',
        [n, 4],
        Array.from({ length: 4 * n }, (_, i) => Math.sin(i)),
      ),
    ],
    ['labels', hostTensor('i32', [n], labels)],
  ]);
  if (extra) tensors.set('weights', hostTensor('f32', [n], extra));
  fs.writeFileSync(p, writeSafetensors(tensors));
  return p;
}

const steps = (out: string): number =>
  fs
    .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter((l) => 'loss' in JSON.parse(l)).length;

describe('fmc train checks the data before it trains', () => {
  it(
    'refuses labels outside the class count, naming the file, the row and the class count',
    { timeout: 120_000 },
    () => {
      const all7 = csv('all7.csv', new Array<number>(20).fill(7));
      const out = at('all7-run');
      const r = train(all7, out, '--label', 'label');
      expect(r.code).toBe(1);
      expect(r.err).toContain(
        `fmc: ${all7}: field "labels": line 2: label 7 is not one of the model's 3 classes ` +
          '(0 to 2, or -100 for a target the loss ignores); fix the data, or give the model 8 classes or more (e.g. --set classes=8)',
      );
      expect(r.err).not.toContain('training MLP');
      expect(fs.existsSync(out)).toBe(false);

      const labels = Array.from({ length: 20 }, (_, i) => (i === 13 ? -(2 ** 31) : i % 3));
      const neg = safetensors('neg.safetensors', labels);
      const n = train(neg, at('neg-run'));
      expect(n.code).toBe(1);
      expect(n.err).toContain(
        `${neg}: field "labels": sample 13: label -2147483648 is not one of the model's 3 classes (0 to 2, or -100 for a target the loss ignores); fix the data`,
      );
      expect(fs.existsSync(at('neg-run'))).toBe(false);
    },
  );

  it("accepts the loss's ignore_index (-100) as a label", { timeout: 120_000 }, () => {
    const labels = Array.from({ length: 20 }, (_, i) => (i % 4 === 0 ? -100 : i % 3));
    const out = at('ignore-run');
    const r = train(safetensors('ignore.safetensors', labels), out);
    expect(r.code, r.err).toBe(0);
    expect(steps(out)).toBe(2);
  });

  it('leaves a field no input takes out, with a note naming it and the file', { timeout: 120_000 }, () => {
    const n = 20;
    const file = safetensors(
      'extra.safetensors',
      Array.from({ length: n }, (_, i) => i % 3),
      new Array<number>(n).fill(1),
    );
    const out = at('extra-run');
    const r = train(file, out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`fmc: note: ${file}: field "weights" is not used: the model has no input of that name\n`);
    expect(steps(out)).toBe(2);
  });

  it('warns when a CSV label column of numbers is read as class names', { timeout: 120_000 }, () => {
    const file = csv(
      'minus.csv',
      Array.from({ length: 20 }, (_, i) => (i === 5 ? -1 : i % 2)),
    );
    const r = train(file, at('minus-run'), '--label', 'label');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(
      `fmc: warning: ${file}: field "labels": labels are not all non-negative integers below 10^9 (line 7: "-1"): ` +
        'treating them as 3 class names, numbered in sorted order: "-1" → 0, "0" → 1, "1" → 2\n',
    );
  });
});
