// `fmc train` as a user runs it (subprocesses of the built CLI, sharing one compile cache):
// a run on iris learns and writes its metrics, plots and checkpoints; two runs with one seed
// give bit-identical losses over 100 steps and another seed does not; a run stopped at step
// 50 and resumed to 100 gives the losses of a run of 100; and bad input is a clear error
// naming the file and tensor that leaves a good checkpoint untouched: a dataset that does not
// fit the model, a truncated dataset, a checkpoint of another model, NaN in a batch.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/runtime/checkpoint.js';
import { writeSafetensors } from '../../src/runtime/safetensors-write.js';
import { hostTensor } from '../../src/ir/value.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-train-'));
const at = (name: string): string => path.join(DIR, name);
const ENV = { ...process.env, FMC_CACHE_DIR: at('cache') };

function fmc(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: ENV, timeout: 110_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The small MLP on iris (4 features, 3 classes). */
const IRIS = ['models/mlp.fm', '--data', 'iris', '--set', 'pixels=4', '--set', 'classes=3', '--set', 'hidden1=32'];
const IRIS_RUN = [...IRIS, '--set', 'hidden2=16', '--batch', '16', '--json'];

const metrics = (dir: string): Record<string, number>[] =>
  fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);
const losses = (dir: string): number[] => metrics(dir).flatMap((m) => (m.loss !== undefined ? [m.loss] : []));

/** Bytes and mtime of every checkpoint of a folder. */
function snapshot(dir: string): Map<string, string> {
  const ck = path.join(dir, 'checkpoints');
  return new Map(
    fs.readdirSync(ck).map((f) => {
      const p = path.join(ck, f);
      return [f, `${fs.statSync(p).mtimeMs}:${fs.readFileSync(p).toString('base64').length}`];
    }),
  );
}

describe('fmc train', () => {
  it('learns iris: metrics, validation accuracy, loss curve and checkpoints', { timeout: 120_000 }, () => {
    const out = at('iris');
    const r = fmc('train', ...IRIS_RUN, '--steps', '150', '--eval-every', '50', '--keep', '2', '--out', out);
    expect(r.err).toContain('training MLP on iris (150 samples): 150 steps of 16 samples');
    expect(r.code).toBe(0);
    const m = metrics(out);
    const steps = m.filter((x) => x.loss !== undefined);
    expect(steps.map((x) => x.step)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    // Every step is a JSON line on stdout too (not a terminal).
    expect(r.out.trim().split('\n').length).toBe(150 + 3);
    const evals = m.filter((x) => x.val_loss !== undefined);
    expect(evals.map((x) => x.step)).toEqual([50, 100, 150]);
    expect(evals.at(-1)!.val_accuracy).toBeGreaterThanOrEqual(0.8);
    expect(evals.at(-1)!.val_loss).toBeLessThan(evals[0]!.val_loss!);
    const first = steps.slice(0, 10).reduce((s, x) => s + x.loss!, 0);
    const last = steps.slice(-10).reduce((s, x) => s + x.loss!, 0);
    expect(last).toBeLessThan(first * 0.7);
    const svg = fs.readFileSync(path.join(out, 'loss.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('validation');
    expect(fs.readFileSync(path.join(out, 'loss.html'), 'utf8')).toContain('<svg');
    // --keep 2: the newest two; each records what produced it.
    expect(fs.readdirSync(path.join(out, 'checkpoints')).sort()).toEqual([
      'step-00000100.safetensors',
      'step-00000150.safetensors',
    ]);
    const c = readCheckpoint(path.join(out, 'checkpoints', 'step-00000150.safetensors'));
    expect(c.info.model).toBe('MLP');
    expect(c.info.counters).toEqual({ micro: 150, updates: 150 });
    expect(c.info.set).toEqual({ pixels: '4', classes: '3', hidden1: '32', hidden2: '16' });
    expect(c.info.config.optimizer.kind).toBe('sgd');
    const extra = c.info.extra as { data: { sources: { sha256: string }[]; position: unknown }; metrics: unknown };
    expect(extra.data.sources[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(extra.data.position).toEqual({ epoch: 18, offset: 6 });
    expect([...c.tensors.keys()]).toContain('opt:momentum:fc1.w');
  });

  it(
    'is deterministic: one seed gives bit-identical losses over 100 steps, another seed others',
    { timeout: 120_000 },
    () => {
      // Dropout on (p_drop 0.3): the step counter keys its masks.
      const run = (name: string, seed: string): number[] => {
        const r = fmc('train', ...IRIS_RUN, '--set', 'p_drop=0.3', '--steps', '100', '--seed', seed, '--out', at(name));
        expect(r.code, r.err).toBe(0);
        return losses(at(name));
      };
      const a = run('det-a', '5');
      const b = run('det-b', '5');
      expect(a).toHaveLength(100);
      expect(b).toEqual(a);
      expect(run('det-c', '6')).not.toEqual(a);
    },
  );

  it('resumes bit-exactly: stopped at 50 and resumed to 100 equals a run of 100', { timeout: 120_000 }, () => {
    const common = [...IRIS_RUN, '--set', 'p_drop=0.3', '--eval-every', '25', '--seed', '3'];
    expect(fmc('train', ...common, '--steps', '100', '--out', at('whole')).code).toBe(0);
    expect(fmc('train', ...common, '--steps', '50', '--out', at('part')).code).toBe(0);
    const r = fmc('train', ...common, '--steps', '100', '--resume', at('part'));
    expect(r.err).toContain('resumed');
    expect(r.code, r.err).toBe(0);
    // Everything but the wall-clock throughput is the same, evaluations included.
    const timeless = (dir: string) => metrics(dir).map(({ samples_per_s: _, ...m }) => m);
    expect(timeless(at('part'))).toEqual(timeless(at('whole')));
    expect(timeless(at('part'))).toHaveLength(104);
  });

  describe('bad input is a clear error that leaves a good checkpoint untouched', () => {
    const good = at('good');
    const data = at('data.safetensors');
    const setUp = (): Map<string, string> => {
      if (!fs.existsSync(good)) {
        const n = 40;
        const x = Array.from({ length: n * 4 }, (_, i) => Math.sin(i));
        const y = Array.from({ length: n }, (_, i) => i % 3);
        fs.writeFileSync(
          data,
          writeSafetensors(
            new Map([
              ['images', hostTensor('f32', [n, 4], x)],
              ['labels', hostTensor('i32', [n], y)],
            ]),
          ),
        );
        const r = fmc('train', ...IRIS_RUN.map((a) => (a === 'iris' ? data : a)), '--steps', '10', '--out', good);
        expect(r.code, r.err).toBe(0);
      }
      return snapshot(good);
    };
    const resumeWith = (dataFile: string, ...more: string[]) =>
      fmc('train', ...IRIS_RUN.map((a) => (a === 'iris' ? dataFile : a)), '--steps', '20', '--resume', good, ...more);

    it('a dataset whose tensors do not fit the model', { timeout: 60_000 }, () => {
      const before = setUp();
      const wrong = at('wrong.safetensors');
      fs.writeFileSync(
        wrong,
        writeSafetensors(
          new Map([
            ['images', hostTensor('f32', [8, 5])],
            ['labels', hostTensor('i32', [8])],
          ]),
        ),
      );
      const r = resumeWith(wrong);
      expect(r.code).toBe(1);
      expect(r.err).toContain(wrong);
      expect(r.err).toMatch(/field "images".*f32\[5\] per sample.*f32\[B, 4\]/);
      expect(snapshot(good)).toEqual(before);
    });

    it('a truncated or malformed dataset', { timeout: 60_000 }, () => {
      const before = setUp();
      const cut = at('cut.safetensors');
      const bytes = fs.readFileSync(data);
      fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 7));
      const r = resumeWith(cut);
      expect(r.code).toBe(1);
      expect(r.err).toContain(cut);
      const junk = at('junk.safetensors');
      fs.writeFileSync(junk, 'not a safetensors file at all');
      const j = resumeWith(junk);
      expect(j.code).toBe(1);
      expect(j.err).toContain(junk);
      expect(snapshot(good)).toEqual(before);
    });

    it('a checkpoint of another model', { timeout: 180_000 }, () => {
      const before = setUp();
      const other = at('other');
      fs.mkdirSync(other, { recursive: true });
      fs.cpSync(path.join(good, 'checkpoints'), path.join(other, 'checkpoints'), { recursive: true });
      const r = fmc(
        'train',
        'models/mlp.fm',
        '--data',
        data,
        '--set',
        'pixels=4',
        '--set',
        'classes=3',
        '--batch',
        '16',
        '--steps',
        '20',
        '--resume',
        other,
      );
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/step-00000010\.safetensors: written with hyperparameters/);
      const cnn = fmc('train', 'models/cnn.fm', '--data', data, '--steps', '20', '--resume', good);
      expect(cnn.code).toBe(1);
      expect(cnn.err).toMatch(/fmc: /);
      expect(snapshot(good)).toEqual(before);
    });

    it('NaN in a batch names the file, the tensor and the sample', { timeout: 60_000 }, () => {
      const before = setUp();
      const nan = at('nan.safetensors');
      const n = 40;
      const x = Array.from({ length: n * 4 }, (_, i) => (i === 4 * 17 + 2 ? NaN : Math.cos(i)));
      fs.writeFileSync(
        nan,
        writeSafetensors(
          new Map([
            ['images', hostTensor('f32', [n, 4], x)],
            ['labels', hostTensor('i32', [n], new Array<number>(n).fill(1))],
          ]),
        ),
      );
      const r = fmc('train', ...IRIS_RUN.map((a) => (a === 'iris' ? nan : a)), '--steps', '40', '--out', at('nan-run'));
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        new RegExp(`${nan.replace(/[.]/g, '\\.')}: field "images": sample 17 \\(batch row \\d+\\), element 2 is NaN`),
      );
      expect(snapshot(good)).toEqual(before);
    });
  });
});

describe('fmc train on a terminal', () => {
  it('shows a progress line (step, bar, loss, samples/s, ETA) and prints evaluations above it', async () => {
    const { trainCommand } = await import('../../src/cli/train.js');
    const status: string[] = [];
    let err = '';
    let out = '';
    const io = {
      out: (s: string) => (out += s),
      err: (s: string) => (err += s),
      color: false,
      progress: (s: string) => void status.push(s),
    };
    const code = await trainCommand(io, 'models/mlp.fm', {
      data: 'iris',
      set: ['pixels=4', 'classes=3', 'hidden1=32', 'hidden2=16'],
      steps: '40',
      batch: '16',
      evalEvery: '20',
      out: at('tty'),
    });
    expect(code).toBe(0);
    const steps = status.filter((s) => s.startsWith('step '));
    expect(steps).toHaveLength(40);
    expect(steps[19]).toMatch(/^step 20\/40 \[=+> +\] loss \d+\.\d{4} \| [\d,]+ samples\/s \| ETA \d+(\.\d)?s$/);
    expect(steps[39]).toMatch(/^step 40\/40 \[=+>\] /);
    expect(err).toMatch(/fmc: step 20: validation loss \d+\.\d{4}, accuracy \d+\.\d{2}%/);
    // On a terminal, steps are not JSON lines on stdout.
    expect(out).toBe('');
    expect(status.at(-1)).toBe('');
  }, 60_000);
});
