// Checkpoint files (src/runtime/checkpoint.ts): what a save writes and keeps, a temporary file
// left by a killed writer, a damaged newest checkpoint passed over for the one before, and
// every malformed file a clear CheckpointError naming it. And the trainer's own checks on
// load: another model, another seed or other overrides leave its state untouched.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileTrainer } from '../../src/api/train.js';
import { RunError } from '../../src/index.js';
import { hostTensor } from '../../src/ir/value.js';
import {
  CheckpointError,
  checkpointName,
  listCheckpoints,
  loadCheckpoint,
  readCheckpoint,
  saveCheckpoint,
} from '../../src/runtime/checkpoint.js';
import { defaultTrainConfig } from '../../src/runtime/schedule.js';
import { writeSafetensors } from '../../src/runtime/safetensors-write.js';
import { readSafetensorsFile } from '../../src/runtime/safetensors.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { thrown } from '../api/helpers.js';
import { prunedModel } from '../models/pruned-model.js';
import { smallModelFile } from '../models/small-models.js';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-ckpt-'));
const info = (updates: number) => ({
  model: 'M',
  counters: { micro: 2 * updates, updates },
  seed: 0,
  config: defaultTrainConfig(),
  set: {},
  extra: { note: `step ${updates}` },
});
const tensors = (v: number) => new Map([['w', hostTensor('f32', [2, 2], [v, v + 1, v + 2, v + 3])]]);

describe('checkpoint files', () => {
  it('saves atomically, keeps the newest K, and reads back what was saved', () => {
    const dir = tmp();
    for (const s of [1, 2, 3, 4, 5]) saveCheckpoint(dir, tensors(s), info(s), 3);
    expect(listCheckpoints(dir)).toEqual([3, 4, 5].map(checkpointName));
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const c = loadCheckpoint(dir);
    expect(c.path).toBe(path.join(dir, 'step-00000005.safetensors'));
    expect(c.info.counters).toEqual({ micro: 10, updates: 5 });
    expect(c.info.extra).toEqual({ note: 'step 5' });
    expect(c.info.format).toBe('fmc-checkpoint-1');
    expect([...c.tensors.get('w')!.data]).toEqual([5, 6, 7, 8]);
    expect(c.skipped).toEqual([]);
  });

  it("removes a dead writer's temporary file at the next save", () => {
    const dir = tmp();
    const stale = path.join(dir, `.${checkpointName(7)}.999999999.tmp`);
    fs.writeFileSync(stale, 'half a checkpoint');
    saveCheckpoint(dir, tensors(1), info(1));
    expect(fs.existsSync(stale)).toBe(false);
    expect(listCheckpoints(dir)).toEqual([checkpointName(1)]);
  });

  it('passes over a damaged newest checkpoint, saying why, and errs when none reads', () => {
    const dir = tmp();
    saveCheckpoint(dir, tensors(1), info(1));
    saveCheckpoint(dir, tensors(2), info(2));
    const newest = path.join(dir, checkpointName(2));
    const bytes = fs.readFileSync(newest);
    fs.writeFileSync(newest, bytes.subarray(0, bytes.length - 5));
    const c = loadCheckpoint(dir);
    expect(c.info.counters.updates).toBe(1);
    expect(c.skipped).toHaveLength(1);
    expect(c.skipped[0]).toContain(newest);
    fs.writeFileSync(path.join(dir, checkpointName(1)), 'junk');
    expect(() => loadCheckpoint(dir)).toThrow(/no checkpoint could be read/);
    expect(() => loadCheckpoint(tmp())).toThrow(/no checkpoint \(step-\*\.safetensors\) in the folder/);
  });

  it('names the file of a safetensors file that is not an fmc checkpoint, or a bad record', () => {
    const dir = tmp();
    const plain = path.join(dir, checkpointName(3));
    fs.writeFileSync(plain, writeSafetensors(tensors(0)));
    expect(() => readCheckpoint(plain)).toThrow(`${plain}: not an fmc checkpoint (no "fmc.checkpoint" metadata)`);
    fs.writeFileSync(plain, writeSafetensors(tensors(0), { 'fmc.checkpoint': '{"format":"fmc-checkpoint-1"}' }));
    expect(() => readCheckpoint(plain)).toThrow(/checkpoint record is malformed/);
    fs.writeFileSync(plain, writeSafetensors(tensors(0), { 'fmc.checkpoint': '{not json' }));
    expect(() => readCheckpoint(plain)).toThrow(CheckpointError);
  });

  it('refuses a record without "extra" or with a train config of the wrong shape', () => {
    const file = path.join(tmp(), checkpointName(3));
    const write = (record: Record<string, unknown>) =>
      fs.writeFileSync(file, writeSafetensors(tensors(0), { 'fmc.checkpoint': JSON.stringify(record) }));
    const good = { format: 'fmc-checkpoint-1', ...info(3), written: '2026-01-01T00:00:00.000Z' };
    write(good);
    expect(readCheckpoint(file).info.extra).toEqual({ note: 'step 3' });
    const { extra: _, ...noExtra } = good;
    for (const record of [noExtra, { ...good, extra: null }, { ...good, extra: [1] }]) {
      write(record);
      expect(() => readCheckpoint(file)).toThrow(
        new CheckpointError(`${file}: the checkpoint record is malformed ("extra" is not an object)`),
      );
    }
    const config = good.config;
    for (const bad of ['x', null, { ...config, optimizer: 'adam' }, { ...config, accumulate: 0 }]) {
      write({ ...good, config: bad });
      expect(() => readCheckpoint(file)).toThrow(
        `${file}: the checkpoint record is malformed (the train config: its optimizer or accumulate)`,
      );
    }
  });

  it('orders by the step in the names, keeps the one just written, and passes over a misnamed one', () => {
    const dir = tmp();
    for (const s of [1, 2]) saveCheckpoint(dir, tensors(s), info(s), 3);
    const big = path.join(dir, 'step-99999999999999999999999.safetensors');
    fs.copyFileSync(path.join(dir, checkpointName(2)), big);
    expect(() => readCheckpoint(big)).toThrow(
      `${big}: the file name says step 99999999999999999999999, its record step 2 (renamed or copied?)`,
    );
    const c = loadCheckpoint(dir);
    expect(c.path).toBe(path.join(dir, checkpointName(2)));
    expect(c.skipped).toEqual([expect.stringContaining(big)]);
    // Names beyond 2^53 compare exactly.
    const near = ['step-90000000000000001.safetensors', 'step-90000000000000000.safetensors'];
    for (const n of near) fs.copyFileSync(big, path.join(dir, n));
    expect(listCheckpoints(dir)).toEqual([...[1, 2].map(checkpointName), ...near.reverse(), path.basename(big)]);
    // Those past the step just written (an abandoned run's) go first under keep.
    saveCheckpoint(dir, tensors(3), info(3), 2);
    expect(listCheckpoints(dir)).toEqual([checkpointName(2), checkpointName(3)]);
    saveCheckpoint(dir, tensors(4), info(4), 1);
    expect(listCheckpoints(dir)).toEqual([checkpointName(4)]);
  });

  it('restore takes a Map and counters, and masks of 0 and 1 only', () => {
    const { trainer } = compileTrainer(prunedModel('batch = 4'), { seed: 0 });
    const state = trainer.state();
    const nullTensors = thrown(() => trainer.restore(null as never, trainer.counters));
    expect(nullTensors).toBeInstanceOf(RunError);
    expect(nullTensors.message).toBe('the checkpoint: the tensors must be a Map of paths to tensors');
    const nullCounters = thrown(() => trainer.restore(state, null as never));
    expect(nullCounters).toBeInstanceOf(RunError);
    expect(nullCounters.message).toBe('the checkpoint: bad step counters');
    const mask = [...state.keys()].find((k) => k.startsWith('sparse:mask:'))!;
    const m = state.get(mask)!;
    const twice = new Map([
      ...state,
      [
        mask,
        hostTensor(
          m.dtype,
          m.shape,
          m.data.map((x) => 2 * x),
        ),
      ],
    ]);
    const bad = thrown(() => trainer.restore(twice, trainer.counters));
    expect(bad).toBeInstanceOf(RunError);
    expect(bad.message).toBe(`the checkpoint: mask "${mask}" holds 2; a mask holds 0 or 1`);
    // Through a checkpoint file: a CheckpointError naming it, the state untouched.
    const dir = tmp();
    const file = trainer.save(dir);
    const { metadata } = readSafetensorsFile(file);
    fs.writeFileSync(file, writeSafetensors(twice, metadata));
    expect(() => trainer.load(file)).toThrow(
      new CheckpointError(`${file}: mask "${mask}" holds 2; a mask holds 0 or 1`),
    );
    expect([...trainer.state().get(mask)!.data]).toEqual([...m.data]);
  }, 60_000);

  it("the trainer refuses another model's, seed's or overrides' checkpoint and keeps its state", () => {
    const file = smallModelFile('mlp', { pixels: 8, hidden1: 8, hidden2: 4, p_drop: 0 });
    const make = (seed: number, set?: Record<string, number>) =>
      compileTrainer(file, { seed, ...(set ? { set } : {}), train: { optimizer: 'adam', lr: 0.01 } }).trainer;
    const a = make(1);
    const batch = {
      images: new Tensor(
        'f32',
        new Float32Array(16).map((_, i) => Math.sin(i)),
        [2, 8],
      ),
      labels: new Tensor('i32', Int32Array.of(1, 3), [2]),
    };
    a.step(batch);
    const dir = tmp();
    a.save(dir);
    const before = (t: typeof a) => [...t.state().get('fc1.w')!.data];
    const other = make(2);
    const mine = before(other);
    expect(() => other.load(dir)).toThrow(/written by a run with seed 1, this one has 2/);
    expect(before(other)).toEqual(mine);
    const wider = make(1, { hidden1: 12 });
    expect(() => wider.load(dir)).toThrow(/written with hyperparameters \{\}/);
    const fresh = make(1);
    fresh.load(dir);
    expect(before(fresh)).toEqual(before(a));
    expect(fresh.counters).toEqual(a.counters);
    expect(fresh.step(batch).loss).toBe(a.step(batch).loss);
  }, 60_000);
});
