// `--quantize PATH=SPEC` as a user gives it (subprocesses of the built CLI): `fmc run` on C and
// on the reference agree on a quantized mlp and differ from the f32 one; `fmc compile -o`
// writes the quantized weights (q and scale, not the f32 weight they replace) to
// weights.safetensors, which `fmc run --weights` reads back; a malformed rule is a usage error.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensorsFile } from '../../src/runtime/safetensors.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-quantize-'));
const at = (name: string) => path.join(DIR, name);
const ENV = { ...process.env, FMC_CACHE_DIR: at('cache') };

function fmc(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: ENV, timeout: 110_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const first = (out: string): number[] => (JSON.parse(out) as { outputs: { first: number[] }[] }).outputs[0]!.first;

describe('fmc --quantize', () => {
  it('runs a quantized mlp on C as the reference does, apart from the f32 one', { timeout: 120_000 }, () => {
    const args = ['models/mlp.fm', '--dims', 'B=2', '--json', '--quantize', 'all=int4:16', '--quantize', 'fc3=none'];
    const c = fmc('run', ...args, '--target', 'c');
    const ref = fmc('run', ...args);
    const f32 = fmc('run', 'models/mlp.fm', '--dims', 'B=2', '--json', '--quantize', 'all=none');
    for (const r of [c, ref, f32]) expect(r.code, r.err).toBe(0);
    first(c.out).forEach((v, i) => expect(v).toBeCloseTo(first(ref.out)[i]!, 4));
    expect(first(c.out)).not.toEqual(first(f32.out));
  });

  it('compiles quantized weights into the module and reads them back with --weights', { timeout: 120_000 }, () => {
    const out = at('mlp');
    const r = fmc('compile', 'models/mlp.fm', '-o', out, '--fn', 'forward', '--quantize', 'fc2=int8:64');
    expect(r.code, r.err).toBe(0);
    const file = path.join(out, 'weights.safetensors');
    const names = [...readSafetensorsFile(file).tensors.keys()];
    // fc1 by its annotation (int8 per channel), fc2 by the rule; their f32 weights are not stored.
    expect(names).toEqual(expect.arrayContaining(['fc1.w:int8.q', 'fc1.w:int8.scale', 'fc2.w:int8g64.q', 'fc3.w']));
    expect(names).not.toContain('fc1.w');
    const viaFile = fmc(
      'run',
      'models/mlp.fm',
      '--dims',
      'B=2',
      '--json',
      '--weights',
      file,
      '--quantize',
      'fc2=int8:64',
    );
    const direct = fmc('run', 'models/mlp.fm', '--dims', 'B=2', '--json', '--quantize', 'fc2=int8:64');
    expect(viaFile.code, viaFile.err).toBe(0);
    expect(viaFile.err).not.toMatch(/warning/);
    expect(first(viaFile.out)).toEqual(first(direct.out));
  });

  it('inspect shows the weight bytes of each block as declared and as stored quantized', () => {
    const r = fmc('inspect', 'models/mlp.fm', '--json', '--quantize', 'fc2=int4:128');
    expect(r.code, r.err).toBe(0);
    const rows = (JSON.parse(r.out) as { rows: { path: string; weightBytes: number; quantizedBytes: number }[] }).rows;
    const row = (p: string) => rows.find((x) => x.path === p)!;
    // fc1 (@quantize(int8)): 512×784 f32 and 512 f32 bias → 512×784 bytes, 512 f32 scales, the bias.
    expect(row('fc1')).toMatchObject({ weightBytes: 4 * 512 * 785, quantizedBytes: 512 * 784 + 4 * 512 + 4 * 512 });
    // fc2 by the rule: 256 rows of 512 in int4 (256 bytes a row: 8 blocks of 64) and 4 groups of 128 a row.
    expect(row('fc2')).toMatchObject({ weightBytes: 4 * 256 * 513, quantizedBytes: 256 * 256 + 4 * 256 * 4 + 4 * 256 });
    expect(row('fc3').quantizedBytes).toBe(row('fc3').weightBytes);
    // mlp's fc2 is @sparse(2:4) too, which the C target stores compressed: the column says Stored.
    expect(fmc('inspect', 'models/mlp.fm').out).toMatch(/Activations +Weights +Stored\n/);
    expect(fmc('inspect', 'models/cnn.fm').out).toMatch(/Activations +Weights +Quantized\n/);
  });

  it(
    'asymmetric: a constant weight (max = min in every group) runs as its f32 self, on C and the reference',
    { timeout: 120_000 },
    () => {
      // Without widening the range to hold 0, each group's scale was (max - min) / 255 = 0: all zeros.
      const file = at('asym.fm');
      fs.writeFileSync(
        file,
        `import { Linear } from "std/nn"
block P(d: int) {
  @quantize(int8, scheme = asym)
  param w: f32[d, d] = ones()
  fn forward(x: f32[B, d]) -> f32[B, d] { return einsum("bi,oi->bo", x, w) }
}
model Q(d = 4) {
  p = P(d)
  @quantize(int4, group = 1, scheme = asym)
  fc = Linear(d, d)
  fn forward(x: f32[B, d]) -> (y: f32[B, d], z: f32[B, d]) { return (p(x), fc(x)) }
}
`,
      );
      const all = (out: string): number[][] =>
        (JSON.parse(out) as { outputs: { first: number[] }[] }).outputs.map((o) => o.first);
      const f32 = fmc('run', file, '--dims', 'B=2', '--json', '--quantize', 'all=none');
      expect(f32.code, f32.err).toBe(0);
      const want = all(f32.out);
      expect(want[0]!.some((v) => Math.abs(v) > 0.1)).toBe(true);
      for (const target of ['reference', 'c']) {
        const r = fmc('run', file, '--dims', 'B=2', '--json', '--target', target);
        expect(r.code, r.err).toBe(0);
        // y: ones quantize exactly but for the f32 scale; z: int4 groups of 1 are within f32 too.
        all(r.out).forEach((o, k) =>
          o.forEach((v, i) => expect(v, `${target} ${k} [${i}]`).toBeCloseTo(want[k]![i]!, 4)),
        );
      }
    },
  );

  it('refuses a malformed rule as a usage error', () => {
    for (const bad of ['int8', 'all=int3', 'ffn=int4:128:sym']) {
      const r = fmc('run', 'models/mlp.fm', '--quantize', bad);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^fmc: --quantize: /);
    }
  });
});
