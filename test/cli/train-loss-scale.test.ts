// `fmc train --loss-scale`: with `dynamic` and a growth interval of 1 the scale doubles at every
// clean update until the scaled gradients overflow f32, so a real run skips updates by itself
// (its data are all finite), and at 2^127 it stops growing; each step's JSON line and metrics.jsonl report the scale and the
// skip, and a run stopped after the skipping began resumes bit-exactly (the scaler's state is
// in the checkpoint). A static scale is reported as given; a bad one is a usage error.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/runtime/checkpoint.js';
import { fmcWithCache } from './train-metrics.js';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-train-lscale-'));
const at = (name: string): string => path.join(DIR, name);
const fmc = fmcWithCache(at('cache'));

const IRIS = ['models/mlp.fm', '--data', 'iris', '--set', 'pixels=4', '--set', 'classes=3', '--set', 'hidden1=32'];
// Batch 1: a single sample's gradients are large enough to overflow f32 at a scale near 2^127.
const RUN = [...IRIS, '--set', 'hidden2=16', '--batch', '1', '--json', '--optimizer', 'adam', '--lr', '0.01'];

type Line = Record<string, number | boolean>;
const lines = (text: string): Line[] =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
const metrics = (dir: string): Line[] => lines(fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8'));

describe('fmc train --loss-scale', () => {
  it(
    'dynamic: the scale grows until the gradients overflow, those updates are skipped, and a resume is bit-exact',
    { timeout: 120_000 },
    () => {
      const common = [...RUN, '--loss-scale', 'dynamic', '--scale-interval', '1'];
      const r = fmc('train', ...common, '--steps', '130', '--out', at('whole'));
      expect(r.code, r.err).toBe(0);
      expect(r.err).not.toContain('loss scaling');
      const steps = lines(r.out).filter((l) => l.loss !== undefined);
      expect(steps).toHaveLength(130);
      expect(metrics(at('whole')).filter((l) => l.loss !== undefined)).toEqual(steps);
      // Interval 1: the first clean updates double the scale from 2^16.
      expect(steps.slice(0, 3).map((l) => [l.loss_scale, l.skipped])).toEqual([
        [2 ** 17, false],
        [2 ** 18, false],
        [2 ** 19, false],
      ]);
      const skipped = steps.filter((l) => l.skipped);
      expect(skipped.length).toBeGreaterThan(0);
      expect(steps.every((l) => Number.isFinite(l.loss))).toBe(true);
      // The scale never grows past the largest power of two below the f32 overflow.
      expect(Math.max(...steps.map((l) => l.loss_scale as number))).toBe(2 ** 127);
      // A skip halves the scale the update before it had reached.
      const k = steps.findIndex((l) => l.skipped);
      expect(steps[k]!.loss_scale).toBe((steps[k - 1]!.loss_scale as number) / 2);
      const c = readCheckpoint(path.join(at('whole'), 'checkpoints', 'step-00000130.safetensors'));
      expect(c.info.counters).toEqual({ micro: 130, updates: 130, skipped: skipped.length });
      expect(c.tensors.get('opt:loss_scale')!.data[0]).toBe(steps.at(-1)!.loss_scale);

      expect(fmc('train', ...common, '--steps', String(k + 3), '--out', at('part')).code).toBe(0);
      const resumed = fmc('train', ...common, '--steps', '130', '--resume', at('part'));
      expect(resumed.code, resumed.err).toBe(0);
      const timeless = (dir: string) => metrics(dir).map(({ samples_per_s: _, ...m }) => m);
      expect(timeless(at('part'))).toEqual(timeless(at('whole')));
    },
  );

  it('a static scale is reported as given; a bad one is a usage error', { timeout: 120_000 }, () => {
    const r = fmc('train', ...RUN, '--loss-scale', '1024', '--steps', '3', '--out', at('static'));
    expect(r.code, r.err).toBe(0);
    expect(lines(r.out).map((l) => [l.loss_scale, l.skipped])).toEqual(new Array(3).fill([1024, undefined]));
    const bad = fmc('train', ...RUN, '--loss-scale', 'huge', '--steps', '3', '--out', at('bad'));
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain(
      "--loss-scale must be none, dynamic or a positive number ≤ 3.4028234663852886e+38 (the largest f32), got 'huge'",
    );
  });
});
