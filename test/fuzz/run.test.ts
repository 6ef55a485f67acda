// The long-running fuzzer's driver (run.ts, the built one in dist/, as `npm run fuzz` runs
// it): a crash of a worker process and a hang are pinned on their seed and stage (a hang only
// when it happens again on a second run of the case), a run is
// done in pieces (--resume) whose seed ranges join up and whose counts add up to the total.
// The C target is left out (--c-every) to keep it quick: the pipeline has its own tests.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readProgress } from './progress.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const RUN = path.join(ROOT, 'dist/test/fuzz/run.js');

function fuzz(args: string[], env: Record<string, string> = {}): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [RUN, '--jobs', '2', '--c-every', '1000000', '--shrink-limit', '5', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 240_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('npm run fuzz', () => {
  it('pins a crash and a hang on their seeds, and sums a run done in pieces', { timeout: 300_000 }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-fuzz-run-'));
    try {
      // Piece 1: seeds 100..111, a worker killed by SIGSEGV at seed 103.
      const one = fuzz(['--seed', '100', '--count', '24', '--batch', '4', '--resume', dir, '--minutes', '1'], {
        FMC_FUZZ_INJECT: 'crash:103',
      });
      expect(one.out).toContain('seed 103: crash in check: worker exited (SIGSEGV)');
      expect(one.status).toBe(1);
      let p = readProgress(dir)!;
      expect(p.pieces).toHaveLength(1);
      expect(p.pieces[0]).toMatchObject({ from: 100, to: 124 });
      expect(p.pieces[0]!.counts).toMatchObject({ cases: 24, crash: 1, hang: 0 });
      expect(fs.readFileSync(path.join(dir, 'failures/crash-103/failure.txt'), 'utf8')).toContain('seed 103');
      // A finished run is not run again: the report only.
      expect(fuzz(['--resume', dir]).out).toContain('24 of 24 seeds done in 1 piece(s)');
      // A run of 3 pieces (--piece seeds each), the second hanging at seed 211 (a 3 s stage limit).
      const dir2 = path.join(dir, 'run2');
      const piece = (env: Record<string, string> = {}) =>
        fuzz(
          ['--seed', '200', '--count', '30', '--batch', '3', '--piece', '9', '--resume', dir2, '--case-limit', '3'],
          env,
        );
      expect(piece().status).toBe(0);
      // A case that stalls once (as a starved worker does) is run again and is not a hang.
      const stall = fuzz(['--seed', '203', '--count', '1', '--batch', '1', '--case-limit', '3'], {
        FMC_FUZZ_INJECT: 'stall:203',
      });
      expect(stall.out).toContain('seed 203: no progress for 3 s in check; running it again to confirm the hang');
      expect(stall.out).toMatch(/1 cases, crashes 0, hangs 0,/);
      expect(stall.status).toBe(0);
      const two = piece({ FMC_FUZZ_INJECT: 'hang:211' });
      expect(two.out).toContain('seed 211: hang in check: no progress for 3 s in check');
      expect(fuzz(['--resume', dir2, '--piece', '100']).status).toBe(0);
      p = readProgress(dir2)!;
      expect(p.pieces.map((x) => [x.from, x.to, x.counts.cases, x.counts.hang])).toEqual([
        [200, 209, 9, 0],
        [209, 218, 9, 1],
        [218, 230, 12, 0],
      ]);
      const report = fuzz(['--report', dir2]).out;
      expect(report).toContain('30 of 30 seeds done in 3 piece(s)');
      expect(report).toMatch(/total: 30 cases, crashes 0, hangs 1, mismatches 0/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
