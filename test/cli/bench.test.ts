// `fmc bench` as a user runs it: the numbers come out as JSON, ONNX Runtime is timed on the
// same graph and agrees with fmc's outputs. Speed is not asserted (machines differ, and the
// kernels change); only that the measurement happened and was checked.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const ENV = { ...process.env, FMC_CACHE_DIR: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-bench-')), 'c') };

// A time limit on each run: vitest cannot time out a test blocked in spawnSync, so a C
// compiler that hangs would otherwise hang the suite.
function fmc(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: ENV, timeout: 110_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Stats {
  medianMs: number;
  minMs: number;
  p90Ms: number;
  gflops: number;
}

describe('fmc bench', () => {
  it('times mlp against onnxruntime and checks that they agree', { timeout: 120_000 }, () => {
    const r = fmc(
      'bench',
      'models/mlp.fm',
      '--target',
      'c',
      '--runs',
      '3',
      '--vs',
      'onnxruntime',
      '--profile',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as {
      model: string;
      fn: string;
      dims: Record<string, number>;
      runs: number;
      threads: number;
      flops: number;
      compileMs: number;
      fmc: Stats;
      ort: Stats;
      ratio: number;
      agreement: { ok: boolean; worstAbs: number };
      profile: { top: { kernel: string; ms: number; share: number }[] };
    };
    expect(j).toMatchObject({ model: 'MLP', fn: 'forward', dims: { B: 1 }, runs: 3, threads: 2 });
    expect(j.compileMs).toBeGreaterThan(0);
    expect(j.flops).toBeGreaterThan(1e6);
    expect(j.fmc.medianMs).toBeGreaterThan(0);
    expect(j.ort.medianMs).toBeGreaterThan(0);
    expect(j.fmc.minMs).toBeLessThanOrEqual(j.fmc.p90Ms);
    expect(j.ratio).toBeCloseTo(j.ort.medianMs / j.fmc.medianMs, 6);
    expect(j.agreement.ok).toBe(true);
    expect(j.agreement.worstAbs).toBeLessThan(1e-2);
    expect(j.profile.top.length).toBeGreaterThan(0);
    expect(j.profile.top.length).toBeLessThanOrEqual(5);
  });

  it('prints a readable summary, and refuses unknown targets and peers (exit 2)', { timeout: 120_000 }, () => {
    const r = fmc('bench', 'models/mlp.fm', '--runs', '2', '--warmup', '1');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^MLP\.forward on c \(B=1; seed 0; 2 threads; 2 runs after 1 warm-up\)\n/);
    expect(r.out).toMatch(/\n {2}fmc {10}median [\d.]+ ms {2}min [\d.]+ ms {2}p90 [\d.]+ ms {2}[\d.]+ GFLOP\/s\n/);
    expect(r.err).toContain('note: B=1 by default');
    expect(fmc('bench', 'models/mlp.fm', '--target', 'reference').code).toBe(2);
    expect(fmc('bench', 'models/mlp.fm', '--vs', 'tensorflow').code).toBe(2);
    expect(fmc('bench', 'models/mlp.fm', '--runs', '0').code).toBe(2);
  });
});
