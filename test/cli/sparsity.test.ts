// `--sparsity` on the command line: `fmc run` on C and on the reference interpreter prune the
// same weights the same way (outputs agree), `fmc compile --train -o` writes the pruned weights and
// their masks (with --train, whose step reads them), an illegal 2:4 is FM0504 at the .fm line (golden text) and a malformed value
// a usage error.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { maskPath } from '../../src/ir/sparsity.js';
import { readSafetensorsFile } from '../../src/runtime/safetensors.js';
import { expectGolden } from '../golden/golden.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-sparsity-'));
const at = (name: string) => path.join(DIR, name);
const ENV = { ...process.env, FMC_CACHE_DIR: at('cache') };

function fmc(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: ENV, timeout: 110_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('fmc --sparsity', () => {
  it('run: C and the reference agree on the mlp pruned block=2,density=0.5', { timeout: 120_000 }, () => {
    const run = (target: string, save: string) =>
      fmc(
        'run',
        'models/mlp.fm',
        '--sparsity',
        'block=2,density=0.5',
        '--dims',
        'B=2',
        '--target',
        target,
        '--save-outputs',
        save,
      );
    const [ref, c] = [run('reference', at('ref.st')), run('c', at('c.st'))];
    expect(ref.code, ref.err).toBe(0);
    expect(c.code, c.err).toBe(0);
    const [want, got] = [readSafetensorsFile(at('ref.st')).tensors, readSafetensorsFile(at('c.st')).tensors];
    const [w, g] = [want.get('logits')!.data, got.get('logits')!.data];
    for (let i = 0; i < w.length; i++) expect(Math.abs(g[i]! - w[i]!)).toBeLessThan(1e-4 + 1e-4 * Math.abs(w[i]!));
    // Not the dense model's outputs: the pruning changed them.
    const dense = fmc('run', 'models/mlp.fm', '--dims', 'B=2', '--target', 'c', '--save-outputs', at('dense.st'));
    expect(dense.code, dense.err).toBe(0);
    const d = readSafetensorsFile(at('dense.st')).tensors.get('logits')!.data;
    expect(Array.from(d).some((x, i) => Math.abs(x - g[i]!) > 1e-3)).toBe(true);
  });

  it('compile --train -o writes the pruned weights and the masks its train step reads', { timeout: 120_000 }, () => {
    const r = fmc('compile', 'models/mlp.fm', '--sparsity', '2:4', '--train', '-o', at('out'));
    expect(r.code, r.err).toBe(0);
    const tensors = readSafetensorsFile(path.join(at('out'), 'weights.safetensors')).tensors;
    for (const p of ['fc1.w', 'fc2.w', 'fc3.w']) {
      const [w, mask] = [tensors.get(p)!.data, tensors.get(maskPath(p))!.data];
      for (let g = 0; g < w.length; g += 4) {
        expect(mask[g]! + mask[g + 1]! + mask[g + 2]! + mask[g + 3]!, `${p} group ${g / 4}`).toBe(2);
        for (let j = g; j < g + 4; j++) if (mask[j] === 0) expect(w[j]).toBe(0);
      }
    }
  });

  it('an illegal 2:4 is FM0504 at the .fm line; a malformed value is a usage error', () => {
    const r = fmc('run', 'test/passes/sparsity-k10.fm', '--sparsity', '2:4');
    expect(r.code).toBe(1);
    expectGolden('sparsity/cli-2-4.txt', r.err);
    const bad = fmc('run', 'models/mlp.fm', '--sparsity', 'block=32');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^fmc: --sparsity block=32: expected n:m/);
  });
});
