// `fmc tune` as a user runs it: it times the GEMM schedules of a model, stores one private
// entry per kernel shape in the tuning cache, and a later compile picks them up; --dry-run
// stores nothing. (The cache's safety and the tuned kernels' numbers: test/runtime/tune-cache.test.ts.)

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { candidates } from '../../src/cli/tune.js';
import { SCHEDULES } from '../../src/kernels/schedule.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-tune-'));
afterAll(() => fs.rmSync(DIR, { recursive: true, force: true }));

function fmc(cache: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, FMC_CACHE_DIR: cache, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('fmc tune', () => {
  it('stores the best schedule per GEMM shape, privately, and compiles use them', { timeout: 180_000 }, () => {
    const cache = path.join(DIR, 'cache');
    const r = fmc(cache, 'tune', 'models/mlp.fm', '--dims', 'B=16', '--runs', '2');
    expect(r.code, r.err).toBe(0);
    const shapes = r.out
      .split('\n')
      .filter((l) => /^\s+gemm M=B N=\d+ K=\d+ batch=1 .*: default [\d.]+ ms, best /.test(l));
    expect(shapes).toHaveLength(3);
    expect(r.out).toContain('stored 3 entries in the tuning cache');
    const files = fs.readdirSync(path.join(cache, 'tune'));
    expect(files).toHaveLength(3);
    for (const f of files) {
      expect(f).toMatch(/^[0-9a-f]{64}\.json$/);
      expect(fs.statSync(path.join(cache, 'tune', f)).mode & 0o777).toBe(0o600);
    }
    const out = path.join(DIR, 'mlp');
    expect(fmc(cache, 'compile', 'models/mlp.fm', '-o', out).code).toBe(0);
    const plan = fs.readFileSync(path.join(out, 'plan.json'), 'utf8');
    expect(plan.match(/"tuned": "yes"/g)?.length ?? 0).toBeGreaterThan(0);
  });

  it('--dry-run measures and stores nothing', { timeout: 180_000 }, () => {
    const cache = path.join(DIR, 'dry');
    const r = fmc(cache, 'tune', 'models/mlp.fm', '--dims', 'B=16', '--runs', '1', '--dry-run');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('(--dry-run: nothing stored)');
    expect(fs.existsSync(path.join(cache, 'tune')) ? fs.readdirSync(path.join(cache, 'tune')) : []).toEqual([]);
  });
});

describe('tune candidates', () => {
  it('try K blocks no deeper than 1024 (AVX-512: 256 and 512 beside the default 1024), all distinct', () => {
    for (const s of Object.values(SCHEDULES)) {
      const kcs = candidates(s)
        .filter((c) => c.name.startsWith('KC='))
        .map((c) => c.schedule.KC);
      expect(kcs).toHaveLength(2);
      for (const kc of kcs) {
        expect(kc).toBeLessThanOrEqual(1024);
        expect(kc).not.toBe(s.KC);
      }
      expect(new Set(kcs).size).toBe(2);
    }
    expect(
      candidates(SCHEDULES.avx512)
        .filter((c) => c.name.startsWith('KC='))
        .map((c) => c.name),
    ).toEqual(['KC=256', 'KC=512']);
  });
});
