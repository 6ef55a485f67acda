// Memory of a synchronous loop of Model.run (issue 17, item 2). Outputs, copies and arenas used
// to be external buffers whose memory Node frees only when the event loop turns, so a loop that
// never yields grew without bound (2,000 runs with 1 MiB outputs reached 2 GB). They are now
// ArrayBuffers that V8 frees at its own GCs. Each loop runs in a child process (RSS is per
// process) with a few hundred runs; the old code grew by about 1 MiB a run in each.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CACHE, ROOT } from '../api/helpers.js';

const DIST = join(ROOT, 'dist', 'src', 'index.js');

// relu(fc(x)) at B = 4096: a 1 MiB output and a 1 MiB transient (the contraction's result).
const SOURCE = `import { relu } from "std/act"
import { Linear } from "std/nn"

model Wide(d = 64) {
  fc = Linear(d, d)
  fn forward(x: f32[B, d]) -> (y: f32[B, d]) {
    return relu(fc(x))
  }
}
`;

const SCRIPT = `
import { compile, Tensor } from ${JSON.stringify(DIST)};
const model = compile(${JSON.stringify(SOURCE)}, { cacheDir: process.env.FMC_CACHE_DIR, seed: 1 });
const mode = process.argv[1];
const runs = 400;
const x = (rows) => new Tensor('f32', new Float32Array(rows * 64).fill(1), [rows, 64]);
const fixed = x(4096);
let out = model.run({ x: fixed });
const first = out.y;
for (let i = 0; i < 20; i++) out = model.run({ x: fixed });
const before = process.memoryUsage().rss;
let peak = before;
for (let i = 0; i < runs; i++) {
  if (mode === 'fixed') out = model.run({ x: fixed });
  else if (mode === 'shapes') out = model.run({ x: x(4096 + (i % 200)) });
  else out = model.run({ x: fixed }, { outputs: { y: first } });
  if (i % 10 === 0) peak = Math.max(peak, process.memoryUsage().rss);
}
peak = Math.max(peak, process.memoryUsage().rss);
console.log(JSON.stringify({ growthMiB: (peak - before) / 2 ** 20, same: out.y === first, y0: out.y.data[0] }));
`;

function loop(mode: 'fixed' | 'shapes' | 'reuse'): { growthMiB: number; same: boolean; y0: number } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT, mode], {
    encoding: 'utf8',
    env: { ...process.env, FMC_CACHE_DIR: CACHE },
    timeout: 120_000,
  });
  expect(r.signal, r.stderr).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { growthMiB: number; same: boolean; y0: number };
}

describe.runIf(existsSync(DIST))('a synchronous loop of run', () => {
  // 400 runs allocate 400 MiB of outputs (800 MiB with the arenas of new shapes); the old code
  // kept all of it. V8's heuristics let some garbage build up between GCs: 160 MiB is the bound.
  it('at one shape, 1 MiB outputs: memory stays bounded', () => {
    const r = loop('fixed');
    expect(r.growthMiB).toBeLessThan(160);
    expect(r.same).toBe(false);
  });

  it('at a new shape each run (a new arena too): memory stays bounded', () => {
    expect(loop('shapes').growthMiB).toBeLessThan(160);
  });

  it('with RunOptions.outputs: the given tensor is written each time, memory does not grow', () => {
    const r = loop('reuse');
    expect(r.same).toBe(true);
    expect(r.y0).toBeGreaterThanOrEqual(0);
    expect(r.growthMiB).toBeLessThan(32);
  });
});
