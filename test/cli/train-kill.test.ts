// A training run killed with SIGKILL at 50 random moments always resumes from a complete
// checkpoint, and its losses, once it reaches the end, equal those of a run never killed.
// The run checkpoints every step (the worst case for torn writes: a kill lands inside a
// checkpoint write often); after each kill the newest checkpoint must read and validate.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { losses } from './train-metrics.js';
import { hostTensor } from '../../src/ir/value.js';
import { philox4x32 } from '../../src/ir/philox.js';
import { listCheckpoints, readCheckpoint } from '../../src/runtime/checkpoint.js';
import { writeSafetensors } from '../../src/runtime/safetensors-write.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-train-kill-'));
const at = (name: string): string => path.join(DIR, name);
const ENV = { ...process.env, FMC_CACHE_DIR: at('cache') };
const KILLS = 50;
const STEPS = 800;

const DATA = at('data.safetensors');
const ARGS = (out: string, resume: boolean, steps = STEPS): string[] => [
  BIN,
  'train',
  'models/mlp.fm',
  '--data',
  DATA,
  '--set',
  'pixels=32',
  '--set',
  'hidden1=128',
  '--set',
  'hidden2=64',
  '--set',
  'classes=4',
  '--batch',
  '16',
  '--steps',
  String(steps),
  '--checkpoint-every',
  '1',
  '--keep',
  '2',
  '--json',
  ...(resume ? ['--resume', out] : ['--out', out]),
];

/**
 * When to kill a run: `ms` after it starts (in its start-up), or `extraMs` after it has
 * printed `lines` steps (during training: often inside the checkpoint write that follows a
 * step). Counting steps rather than time keeps the kills inside the run on a loaded machine.
 */
type KillAt = { readonly ms: number } | { readonly lines: number; readonly extraMs: number };

/** Runs a command and kills it with SIGKILL at `at` (if still running); true if it was killed. */
function runAndKill(args: string[], at: KillAt): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { cwd: ROOT, env: ENV, stdio: ['ignore', 'pipe', 'ignore'] });
    let timer: NodeJS.Timeout | undefined;
    const kill = (ms: number): void => void (timer ??= setTimeout(() => p.kill('SIGKILL'), ms));
    if ('ms' in at) kill(at.ms);
    let lines = 0;
    p.stdout.on('data', (chunk: Buffer) => {
      lines += chunk.toString().split('\n').length - 1;
      if ('lines' in at && lines >= at.lines) kill(at.extraMs);
    });
    p.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal === 'SIGKILL');
    });
  });
}

describe('fmc train under SIGKILL', () => {
  it(`resumes from a complete checkpoint after each of ${KILLS} kills, with the losses of an unkilled run`, async () => {
    const n = 96;
    // Deterministic pseudo-random features and labels (Philox words).
    const words = Array.from({ length: (n * 33) / 4 + 1 }, (_, i) => philox4x32([i, 0, 0, 0], [7, 9])).flat();
    const x = Array.from({ length: n * 32 }, (_, i) => words[i]! / 2 ** 32 - 0.5);
    const y = Array.from({ length: n }, (_, i) => words[n * 32 + i]! % 4);
    fs.writeFileSync(
      DATA,
      writeSafetensors(
        new Map([
          ['images', hostTensor('f32', [n, 32], x)],
          ['labels', hostTensor('i32', [n], y)],
        ]),
      ),
    );
    // Compile into the cache first, so that start-up is what a resumed run sees.
    const warm = spawnSync(process.execPath, ARGS(at('warm'), false, 1), { cwd: ROOT, env: ENV, encoding: 'utf8' });
    expect(warm.status, warm.stderr).toBe(0);
    // The uninterrupted run, timed: how long until its first step, and per step after that.
    const t0 = performance.now();
    const times: number[] = [];
    const code = await new Promise<number | null>((resolve) => {
      const p = spawn(process.execPath, ARGS(at('whole'), false), {
        cwd: ROOT,
        env: ENV,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      p.stdout.on('data', (chunk: Buffer) => {
        for (const _ of chunk.toString().matchAll(/\n/g)) times.push(performance.now() - t0);
      });
      p.on('exit', resolve);
    });
    expect(code).toBe(0);
    const startup = times[0]!;
    const perStep = (times.at(-1)! - startup) / (times.length - 1);
    const want = losses(at('whole'));
    expect(want).toHaveLength(STEPS);

    const out = at('killed');
    let killed = 0;
    /** Kills that landed after the run had written a new checkpoint (inside training, not start-up). */
    let midRun = 0;
    let before = 0;
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let k = 0; k < KILLS; k++) {
      const started =
        fs.existsSync(path.join(out, 'checkpoints')) && listCheckpoints(path.join(out, 'checkpoints')).length > 0;
      // A fifth of the kills land in start-up, the rest 1 to 20 steps in, at a random point of a step.
      const at: KillAt =
        rand() < 0.2 ? { ms: rand() * startup } : { lines: 1 + Math.floor(rand() * 20), extraMs: rand() * perStep };
      if (await runAndKill(ARGS(out, started), at)) killed++;
      if (!fs.existsSync(path.join(out, 'checkpoints'))) continue;
      const names = listCheckpoints(path.join(out, 'checkpoints'));
      if (names.length === 0) continue;
      // The newest checkpoint is complete: it reads, validates and has every tensor.
      const c = readCheckpoint(path.join(out, 'checkpoints', names.at(-1)!));
      if (c.info.counters.updates > before) midRun++;
      before = c.info.counters.updates;
      expect(c.info.counters.updates).toBeGreaterThan(0);
      expect(c.tensors.has('opt:momentum:fc1.w')).toBe(true);
      expect(
        fs.readdirSync(path.join(out, 'checkpoints')).filter((f) => f.endsWith('.tmp')).length,
      ).toBeLessThanOrEqual(1);
      if (c.info.counters.updates === STEPS) break;
    }
    console.log(
      `${killed} of ${KILLS} runs killed, ${midRun} of them after training had begun; resumed at step ${before}`,
    );
    expect(killed).toBeGreaterThanOrEqual(KILLS - 2);
    expect(midRun).toBeGreaterThanOrEqual(20);
    const last = spawnSync(process.execPath, ARGS(out, true), { cwd: ROOT, env: ENV, encoding: 'utf8' });
    expect(last.status, last.stderr).toBe(0);
    expect(losses(out)).toEqual(want);
  }, 600_000);
});
