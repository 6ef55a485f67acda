// `fmc bench` with the compression overrides (--quantize, --sparsity, --precision): each runs,
// and the bytes of the weights the function reads as bound (`weightBytes`, also printed as
// "weights") are those of the stored form: f32, int8 per output channel, block tables.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fmcWithCache } from './train-metrics.js';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-bench-compress-'));
const fmc = fmcWithCache(path.join(DIR, 'cache'));
const FILE = path.join(DIR, 'net.fm');
fs.writeFileSync(
  FILE,
  `import { relu } from "std/act"
import { Linear } from "std/nn"

model Net {
  fc1 = Linear(64, 32)
  fc2 = Linear(32, 32)

  fn forward(x: f32[B, 64]) -> (y: f32[B, 32]) {
    return fc2(relu(fc1(x)))
  }
}
`,
);

function bench(...extra: string[]): { weightBytes: number; fmc: { medianMs: number } } {
  const r = fmc('bench', FILE, '--runs', '2', '--warmup', '1', '--json', ...extra);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out);
}

const BIASES = (32 + 32) * 4;
const WEIGHTS = 64 * 32 + 32 * 32;

describe('fmc bench with compression overrides', () => {
  it(
    'counts the weights as bound: f32, int8, block tables; bf16 keeps f32 master weights',
    { timeout: 120_000 },
    () => {
      expect(bench().weightBytes).toBe(WEIGHTS * 4 + BIASES);
      // int8 per output channel: a byte a weight and an f32 scale a row.
      expect(bench('--quantize', 'all=int8').weightBytes).toBe(WEIGHTS + (32 + 32) * 4 + BIASES);
      // Half of the 16×16 blocks kept, as block tables: the values, an i32 slot per block.
      const blocks = WEIGHTS / 256;
      expect(bench('--sparsity', 'block=16,density=0.5').weightBytes).toBe((WEIGHTS / 2) * 4 + blocks * 4 + BIASES);
      expect(bench('--precision', 'bf16').weightBytes).toBe(WEIGHTS * 4 + BIASES);
    },
  );

  it('prints the bytes in its table', { timeout: 60_000 }, () => {
    const r = fmc('bench', FILE, '--runs', '2', '--warmup', '1', '--quantize', 'all=int8');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^ {2}weights {6}3\.5 KiB as bound/m);
  });
});
