// `fmc train --prune-gradual START:END:EVERY` (and the train section's `prune = gradual(...)`)
// on an iris MLP with two block-sparse weights: the kept blocks of each follow the cubic
// schedule at every checkpoint, a pruned block and its Adam moments stay exactly 0 to the end,
// the run is bit for bit the API's (compileTrainer with gradualPruning, pruneWeights by hand
// at the same steps, the CLI's batches), a run stopped mid-schedule and resumed gives the
// uninterrupted run's losses and weights, the train section gives the flag's run, and a bad
// spec, a model without a block hint and a resume on another schedule are clear errors.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileTrainer } from '../../src/api/train.js';
import { run } from '../../src/cli/main.js';
import { openData } from '../../src/cli/train-data.js';
import { Batches } from '../../src/data/index.js';
import { dimConstValue, dimToString } from '../../src/ir/dims.js';
import { maskPath, pruneWeights } from '../../src/ir/sparsity.js';
import type { HostTensor } from '../../src/ir/value.js';
import { readCheckpoint } from '../../src/runtime/checkpoint.js';
import { fromHost } from '../../src/runtime/tensor.js';
import { prunedModel } from '../models/pruned-model.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-prune-gradual-'));
const at = (name: string): string => path.join(DIR, name);
const CACHE = at('cache');
const ENV = { ...process.env, FMC_CACHE_DIR: CACHE };
process.env.FMC_CACHE_DIR = CACHE; // this test file's own process (vitest's forks pool)

const model = (prune: string): string => prunedModel(`batch = 16${prune}`);
const FILE = at('pruned.fm');
fs.writeFileSync(FILE, model(''));
const SECTION = at('section.fm');
fs.writeFileSync(SECTION, model('\n    prune = gradual(start = 5, end = 30, every = 5)'));

/** Each sparse weight: its block size, final density, and its blocks (a 2-D weight). */
const SPARSE = { 'fc1.w': { block: 2, density: 0.25 }, 'fc2.w': { block: 4, density: 0.5 } } as const;
const [START, END, EVERY, STEPS] = [5, 30, 5, 40];
const SPEC = `${START}:${END}:${EVERY}`;

type Result = { code: number | null; out: string; err: string };

/** The built CLI, as a user runs it. */
function fmc(...args: string[]): Result {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: ENV, timeout: 110_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The same command in this process (no start-up: the runs after the first hit the compile cache). */
async function fmcHere(...args: string[]): Promise<Result> {
  let [out, err] = ['', ''];
  const code = await run(args, { out: (s) => (out += s), err: (s) => (err += s), color: false });
  return { code, out, err };
}

const trainArgs = (file: string, out: string, ...more: string[]): string[] => [
  'train',
  file,
  '--data',
  'iris',
  '--json',
  '--keep',
  '50',
  '--out',
  out,
  ...more,
];
const train = (file: string, out: string, ...more: string[]) => fmcHere(...trainArgs(file, out, ...more));

const losses = (dir: string): number[] =>
  fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { loss?: number })
    .flatMap((m) => (m.loss !== undefined ? [m.loss] : []));

const checkpoint = (dir: string, step: number): ReadonlyMap<string, HostTensor> =>
  readCheckpoint(path.join(dir, 'checkpoints', `step-${String(step).padStart(8, '0')}.safetensors`)).tensors;

/** The schedule's fraction in effect after `t` updates: that of the last mask update at or before t. */
function fractionAt(t: number): number {
  let last = 0;
  for (let u = START + EVERY; u <= Math.min(t, END); u += EVERY) last = (u - START) / (END - START);
  return t >= END ? 1 : last;
}

/** For each b×b block of a 2-D tensor (row-major over blocks): whether any of its values is nonzero. */
function blocksNonzero(t: HostTensor, b: number): boolean[] {
  const [rows, cols] = t.shape as [number, number];
  const out: boolean[] = [];
  for (let i = 0; i < rows; i += b)
    for (let j = 0; j < cols; j += b) {
      let any = false;
      for (let r = i; r < i + b; r++) for (let c = j; c < j + b; c++) any ||= t.data[r * cols + c] !== 0;
      out.push(any);
    }
  return out;
}

const bitsEqual = (a: HostTensor, b: HostTensor): boolean =>
  a.data.length === b.data.length && a.data.every((x, i) => Object.is(x, b.data[i]));

describe('fmc train --prune-gradual', () => {
  // The uninterrupted run, made once for every test (each can be run alone with -t).
  const full = at('full');
  let fullRun: Result;
  beforeAll(() => {
    fullRun = fmc(
      ...trainArgs(FILE, full, '--steps', String(STEPS), '--prune-gradual', SPEC, '--checkpoint-every', '5'),
    );
  });

  it('prunes each block weight on the cubic schedule; pruned blocks and their Adam moments stay 0', () => {
    const r = fullRun;
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(
      'pruning gradually from step 5 to 30, the masks every 5 steps: fc1.w to block=2,density=0.25; fc2.w to block=4,density=0.5',
    );
    let before = new Map<string, boolean[]>();
    for (let t = 5; t <= STEPS; t += 5) {
      const c = checkpoint(full, t);
      for (const [p, { block, density }] of Object.entries(SPARSE)) {
        const kept = blocksNonzero(c.get(p)!, block);
        // Zhu and Gupta: p + (1 − p)(1 − f)³ of the blocks.
        const want = Math.round((density + (1 - density) * (1 - fractionAt(t)) ** 3) * kept.length);
        expect(kept.filter(Boolean).length, `${p} at step ${t}`).toBe(want);
        // The mask is the kept blocks, and a pruned weight's Adam moments are 0.
        expect(blocksNonzero(c.get(maskPath(p))!, block), `${p}'s mask at step ${t}`).toEqual(kept);
        const mask = c.get(maskPath(p))!.data;
        for (const s of ['opt:exp_avg', 'opt:exp_avg_sq'])
          expect(
            c.get(`${s}:${p}`)!.data.every((x, i) => mask[i] !== 0 || x === 0),
            `${s}:${p} at ${t}`,
          ).toBe(true);
        // A block pruned before stays exactly 0.
        const prev = before.get(p);
        if (prev)
          expect(
            kept.every((k, i) => !k || prev[i]),
            `${p} regrew a block by step ${t}`,
          ).toBe(true);
        before.set(p, kept);
      }
    }
    const densities = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; density?: number })
      .filter((m) => m.density !== undefined)
      .map((m) => m.step);
    expect(densities).toEqual([10, 15, 20, 25, 30]);
  }, 60_000);

  it('equals the API run with pruneWeights at the same steps, bit for bit', () => {
    expect(fullRun.code, fullRun.err).toBe(0);
    const { trainer, modules } = compileTrainer(FILE, { gradualPruning: true, seed: 0, cacheDir: CACHE });
    const inputs = trainer.inputs.map((i) => ({
      name: i.name,
      dtype: i.dtype,
      shape: i.shape.map((d) => dimConstValue(d) ?? dimToString(d)),
    }));
    const data = openData('iris', inputs, new Map(), { batch: 16 });
    const batches = new Batches(data.dataset, { batchSize: 16, seed: 0, validation: { fraction: 0.1 } });
    const got: number[] = [];
    for (let t = 1; t <= STEPS; t++) {
      const b = batches.next();
      got.push(trainer.step(Object.fromEntries([...b.tensors].map(([k, v]) => [k, fromHost(v)]))).loss);
      if (t <= START || t > END || (t - START) % EVERY !== 0) continue;
      const state = trainer.state();
      pruneWeights(state, modules[0]!, (t - START) / (END - START));
      trainer.restore(state, trainer.counters);
    }
    expect(losses(full)).toEqual(got);
    const cli = checkpoint(full, STEPS);
    for (const [k, v] of trainer.state()) expect(bitsEqual(cli.get(k)!, v), k).toBe(true);
  }, 60_000);

  it('resumed mid-schedule, gives the losses and weights of the uninterrupted run', async () => {
    const part = at('part');
    const a = await train(FILE, part, '--steps', '17', '--prune-gradual', SPEC);
    expect(a.code, a.err).toBe(0);
    expect(a.err).toContain('warning: gradual pruning ends at step 30, after the last step (17)');
    // Resuming on another schedule, or none, is refused; the checkpoints are untouched.
    const files = (): Map<string, Buffer> => {
      const dir = path.join(part, 'checkpoints');
      return new Map(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f))]));
    };
    const before = files();
    expect(before.size).toBeGreaterThan(0);
    const none = await train(FILE, part, '--steps', String(STEPS), '--resume', part);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/written with gradual pruning 5:30:5, this run has no gradual pruning/);
    const other = await train(FILE, part, '--steps', String(STEPS), '--resume', part, '--prune-gradual', '5:30:1');
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/written with gradual pruning 5:30:5, this run has gradual pruning 5:30:1/);
    expect(files()).toEqual(before);
    const b = await train(FILE, part, '--steps', String(STEPS), '--resume', part, '--prune-gradual', SPEC);
    expect(b.code, b.err).toBe(0);
    expect(b.err).toContain('resumed');
    expect(losses(part)).toEqual(losses(full));
    const [want, got] = [checkpoint(full, STEPS), checkpoint(part, STEPS)];
    for (const [k, v] of want) expect(bitsEqual(got.get(k)!, v), k).toBe(true);
  }, 60_000);

  it("the train section's prune = gradual(...) is the flag", async () => {
    const r = await train(SECTION, at('section'), '--steps', String(STEPS));
    expect(r.code, r.err).toBe(0);
    expect(losses(at('section'))).toEqual(losses(full));
  }, 60_000);

  it('a bad spec is a usage error; a model without a block hint is an error', async () => {
    for (const [spec, msg] of [
      ['5-30', /--prune-gradual 5-30: expected START:END or START:END:EVERY/],
      ['30:5', /--prune-gradual 30:5: it must end after it starts \(end 5 ≤ start 30\)/],
      ['5:5:1', /end 5 ≤ start 5/],
      ['5:30:0', /every 1 step or more/],
    ] as const) {
      const r = await train(FILE, at('bad'), '--steps', '3', '--prune-gradual', spec);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(msg);
    }
    // models/mlp.fm's only hint is 2:4: nothing to prune gradually.
    const r = await fmcHere(
      'train',
      'models/mlp.fm',
      '--data',
      'iris',
      '--set',
      'pixels=4',
      '--set',
      'classes=3',
      '--steps',
      '3',
      '--prune-gradual',
      SPEC,
      '--out',
      at('mlp'),
    );
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/^fmc: MLP: gradual pruning \(5:30:5\) needs a weight with a block sparsity hint/m);
  }, 60_000);
});
