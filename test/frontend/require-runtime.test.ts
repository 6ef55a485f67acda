// `require` over sizes the inputs bind, and exact divisions of them (`T / 2`): a run-time
// check on the reference and the C target (and in a compiled module's plan.json), with the
// `.fm` location and the bound dims; checks that a repeated function records once; FM0804
// and "never holds" are in the golden errors.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';
import { compileModel } from '../../src/api/compile.js';
import { lowerFile } from '../../src/frontend/lower.js';
import { Tensor } from '../../src/runtime/tensor.js';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-require-'));
const FILE = path.join(DIR, 'clip.fm');
fs.writeFileSync(
  FILE,
  `block Twice(d: int) {
  fn forward(x: f32[B, T, d]) -> f32[B, T, d] {
    require T % 2 == 0, "T must be even"
    return x * 2.0
  }
}

model Clip(max_len = 8, d = 4) {
  twice = repeat 3 Twice(d)

  fn forward(x: f32[B, T, d]) -> f32[B, T, d] {
    require T <= max_len, "sequences longer than max_len are not supported"
    return twice(x)
  }
}
`,
);

async function fmc(...args: string[]): Promise<{ code: number; text: string }> {
  let text = '';
  const io: Io = { out: (s) => (text += s), err: (s) => (text += s), color: false };
  return { code: await run(args, io), text };
}

const x = (t: number): Tensor => new Tensor('f32', new Float32Array(t * 4), [1, t, 4]);

describe('require over run-time dims', () => {
  it('is recorded once per require, whatever the calls', () => {
    const r = lowerFile(FILE);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const what = (r.lowered.requires ?? []).map((q) => q.what.replace(FILE, 'FILE'));
    expect(what).toEqual([
      'FILE:12:13: requirement failed: sequences longer than max_len are not supported',
      'FILE:3:13: requirement failed: T must be even',
      'FILE:3:13: requirement failed: T must be even',
    ]);
  });

  it('fails on the reference target with the location and the dims', async () => {
    expect((await fmc('run', FILE, '--dims', 'B=1,T=8')).code).toBe(0);
    const long = await fmc('run', FILE, '--dims', 'B=1,T=10');
    expect(long.code).toBe(1);
    expect(long.text).toBe(
      `fmc: ${FILE}:12:13: requirement failed: sequences longer than max_len are not supported with B = 1, T = 10\n`,
    );
    const odd = await fmc('run', FILE, '--dims', 'B=1,T=7');
    expect(odd.text).toBe(`fmc: ${FILE}:3:13: requirement failed: T must be even with B = 1, T = 7\n`);
  });

  it('fails on the C target before any kernel runs, and holds where it should', async () => {
    const m = compileModel(FILE, { seed: 0 }).model;
    expect(m.run({ x: x(6) }).output!.dims).toEqual([1, 6, 4]);
    expect(() => m.run({ x: x(10) })).toThrow(
      `${FILE}:12:13: requirement failed: sequences longer than max_len are not supported with B = 1, T = 10`,
    );
    expect(() => m.run({ x: x(5) })).toThrow(`${FILE}:3:13: requirement failed: T must be even with B = 1, T = 5`);
    const c = await fmc('run', '--target', 'c', FILE, '--dims', 'B=1,T=10');
    expect(c.code).toBe(1);
    expect(c.text).toContain('requirement failed: sequences longer than max_len are not supported with B = 1, T = 10');
  });
});

describe('exact division of run-time dims', () => {
  const HALF = path.join(DIR, 'half.fm');
  fs.writeFileSync(
    HALF,
    `model Half {
  fn forward(x: f32[B, T]) -> (y: f32[B, T / 2]) {
    return reshape(x, [B, T / 2, 2])[:, :, 0]
  }
}
`,
  );
  const at = (col: number): string =>
    `${HALF}:${col === 42 ? 2 : 3}:${col}: error FM0307: dimension \`T/2\` is not an integer (T / 2) with B = 1, T = 7`;

  it('is a run-time FM0307 at the division on the reference and C, not a rational dim', async () => {
    const ref = await fmc('run', HALF, '--dims', 'B=1,T=7');
    expect(ref.code).toBe(1);
    // The signature's division is checked first (the entry function's types bind before its body).
    expect(ref.text).toBe(`fmc: ${at(42)}\n`);
    const m = compileModel(HALF, { seed: 0 }).model;
    expect(() => m.run({ x: new Tensor('f32', new Float32Array(7), [1, 7]) })).toThrow(at(42));
    const even = m.run({ x: new Tensor('f32', Float32Array.from([1, 2, 3, 4, 5, 6]), [1, 6]) });
    expect([...even.y!.data]).toEqual([1, 3, 5]);
  });

  it('records the body division too, at its own column', () => {
    const r = lowerFile(HALF);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect((r.lowered.requires ?? []).map((q) => q.what)).toEqual([at(42), at(27)].map((s) => s.split(' with ')[0]));
  });
});
