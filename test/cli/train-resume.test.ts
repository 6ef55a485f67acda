// `fmc train --resume` against odd checkpoint folders (subprocesses of the built CLI, one
// compile cache): a record without `extra`, with a train config or a data description of the
// wrong shape, or with a mask of 2s is a malformed checkpoint (exit 1); a record of
// trainer.save (no data) resumes with a warning; a name that disagrees with its record is
// passed over, and `--keep` never deletes the checkpoint just written; a checkpoint already
// at the run's steps leaves nothing to train; `--checkpoint-every 0` is refused before
// anything runs.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostTensor } from '../../src/ir/value.js';
import { checkpointName, listCheckpoints } from '../../src/runtime/checkpoint.js';
import { writeSafetensors } from '../../src/runtime/safetensors-write.js';
import { readSafetensorsFile } from '../../src/runtime/safetensors.js';
import { fmc, tempDir } from '../api/helpers.js';
import { tinyModel } from '../models/tiny-model.js';

const DIR = tempDir('train-resume');
const at = (name: string): string => path.join(DIR, name);

const TINY = tinyModel('@sparse(block = 1, density = 0.5)');
const MODEL = at('tiny.fm');
const train = (...args: string[]) => fmc('train', MODEL, '--data', 'iris', ...args);

/** A run of 4 steps, checkpointed at 2 and 4 (made once). */
function base(): string {
  const out = at('base');
  if (!fs.existsSync(out)) {
    fs.writeFileSync(MODEL, TINY);
    const r = train('--steps', '4', '--checkpoint-every', '2', '--out', out);
    expect(r.code, r.err).toBe(0);
  }
  return out;
}

/** A run folder `name` holding base's newest checkpoint, its record and tensors changed by `edit`. */
function edited(
  name: string,
  edit: (record: Record<string, any>, tensors: Map<string, ReturnType<typeof hostTensor>>) => void,
): string {
  const from = path.join(base(), 'checkpoints', checkpointName(4));
  const { tensors, metadata } = readSafetensorsFile(from);
  const record = JSON.parse(metadata['fmc.checkpoint']!);
  const all = new Map(tensors);
  edit(record, all);
  const out = at(name);
  fs.mkdirSync(path.join(out, 'checkpoints'), { recursive: true });
  const file = path.join(out, 'checkpoints', checkpointName(4));
  fs.writeFileSync(file, writeSafetensors(all, { ...metadata, 'fmc.checkpoint': JSON.stringify(record) }));
  return out;
}

describe('fmc train --resume of odd checkpoints', () => {
  it('a record without extra, or with a config, data or mask of the wrong kind, is malformed (exit 1)', () => {
    const cases: [string, (r: Record<string, any>, t: Map<string, ReturnType<typeof hostTensor>>) => void, string][] = [
      ['no-extra', (r) => delete r.extra, 'the checkpoint record is malformed ("extra" is not an object)'],
      ['config', (r) => (r.config = 'x'), 'malformed (the train config: its optimizer or accumulate)'],
      ['sources', (r) => (r.extra.data.sources = null), 'malformed (its data: spec, sources or position)'],
      ['data', (r) => (r.extra.data = 'x'), 'malformed (its data: spec, sources or position)'],
      [
        'mask',
        (_, t) => {
          const m = t.get('sparse:mask:fc1.w')!;
          t.set(
            'sparse:mask:fc1.w',
            hostTensor(
              m.dtype,
              m.shape,
              m.data.map((x) => 2 * x),
            ),
          );
        },
        'mask "sparse:mask:fc1.w" holds 2; a mask holds 0 or 1',
      ],
    ];
    for (const [name, edit, message] of cases) {
      const out = edited(name, edit);
      const r = train('--steps', '6', '--resume', out);
      expect(r.code, `${name}: ${r.err}`).toBe(1);
      expect(r.err).toContain(message);
      expect(r.err).not.toContain('internal error');
      expect(listCheckpoints(path.join(out, 'checkpoints'))).toEqual([checkpointName(4)]);
    }
  }, 180_000);

  it('a record without data (trainer.save) resumes with a warning', () => {
    const out = edited('no-data', (r) => delete r.extra.data);
    const r = train('--steps', '6', '--resume', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(
      `records no data (a checkpoint of trainer.save, not of fmc train): the data files are not checked`,
    );
    expect(listCheckpoints(path.join(out, 'checkpoints')).at(-1)).toBe(checkpointName(6));
  }, 60_000);

  it('passes over a checkpoint whose name disagrees with its record, and keeps the one just written', () => {
    const out = at('bigname');
    fs.cpSync(base(), out, { recursive: true });
    const big = path.join(out, 'checkpoints', 'step-99999999999999999999999.safetensors');
    fs.copyFileSync(path.join(out, 'checkpoints', checkpointName(2)), big);
    const r = train('--steps', '6', '--resume', out, '--keep', '1');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`fmc: warning: passed over ${big}: the file name says step 99999999999999999999999`);
    expect(r.err).toContain(`resumed ${path.join(out, 'checkpoints', checkpointName(4))} at step 4`);
    expect(listCheckpoints(path.join(out, 'checkpoints'))).toEqual([checkpointName(6)]);
    // Named as the file to resume, it is refused.
    fs.copyFileSync(path.join(out, 'checkpoints', checkpointName(6)), big);
    const named = train('--steps', '8', '--resume', big, '--out', at('bigname-named'));
    expect(named.code).toBe(1);
    expect(named.err).toContain(`${big}: the file name says step 99999999999999999999999, its record step 6`);
  }, 60_000);

  it('a checkpoint already at the run’s steps leaves nothing to train', () => {
    for (const steps of ['4', '2']) {
      const out = at(`done-${steps}`);
      fs.cpSync(base(), out, { recursive: true });
      const before = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8');
      const r = train('--steps', steps, '--resume', out);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toContain(
        `fmc: ${path.join(out, 'checkpoints', checkpointName(4))} is already at step 4 ≥ --steps ${steps}: nothing to train`,
      );
      expect(r.err).not.toMatch(/-?\d+ steps in/);
      expect(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')).toBe(before);
    }
    // Without metrics.jsonl: the same note, no ENOENT; and the train section's steps.
    const bare = edited('done-bare', () => {});
    const r = train('--steps', '3', '--resume', bare);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('is already at step 4 ≥ --steps 3: nothing to train');
    expect(r.err).not.toContain('ENOENT');
    const big = edited('done-section', (rec) => (rec.counters = { micro: 40, updates: 40 }));
    fs.renameSync(path.join(big, 'checkpoints', checkpointName(4)), path.join(big, 'checkpoints', checkpointName(40)));
    const s = train('--resume', big);
    expect(s.code, s.err).toBe(0);
    expect(s.err).toContain("is already at step 40 ≥ the train section's steps = 20: nothing to train");
  }, 120_000);

  it('refuses --checkpoint-every 0 before anything runs', () => {
    const out = at('every-0');
    base();
    const r = train('--steps', '4', '--checkpoint-every', '0', '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--checkpoint-every must be an integer ≥ 1, got '0'");
    expect(r.err).not.toContain('fmc: training');
    expect(fs.existsSync(out)).toBe(false);
  }, 60_000);
});
