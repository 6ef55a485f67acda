// f16 and bf16 as compute types of the kernel IR (src/ir/kernel.ts, src/codegen/prelude-half.ts)
// on the C target, against the reference interpreter bit for bit (NaN payloads aside: the
// reference has none): every unary and binary fn over all 65536 values of the format (NaN,
// ±Inf, subnormals, ±0), paired with a permutation of them for binary fns (products and sums
// overflowing to Inf, subnormal results), and fused chains (add, mul, exp, tanh, div; compares,
// where and casts between the formats) that each become one kernel. Every library is built
// three ways, which must agree: with the default flags (-march=native: native _Float16
// arithmetic where the CPU has AVX-512 FP16), without AVX-512 FP16 (GCC computes _Float16 in
// float and rounds at each cast), and with FMC_NO_FLOAT16 (f16 values held in floats, rounded
// by fmc_rnd_h). Also: the prelude section compiles with strict warnings; golden C of an f16
// and a bf16 chain.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderC } from '../../src/codegen/c.js';
import { C_PRELUDE } from '../../src/codegen/prelude-c.js';
import { C_HALF_PRELUDE } from '../../src/codegen/prelude-half.js';
import { Builder } from '../../src/ir/build.js';
import { evaluate } from '../../src/ir/interp.js';
import type { HostTensor } from '../../src/ir/value.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { C_FLAGS, compileC } from '../../src/runtime/cache.js';
import { Executable } from '../../src/runtime/executable.js';
import { native } from '../../src/runtime/native.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { expectGolden } from '../golden/golden.js';
import { chainOutputs, halfGraph, halfInputs } from './half-graphs.js';
import { CACHE_DIR } from './c-harness.js';

/** Elements where `got` and `want` differ (Object.is, any NaN equal to any NaN), the first few. */
function mismatches(name: string, got: HostTensor, want: HostTensor, x: HostTensor, y: HostTensor): string[] {
  const bad: number[] = [];
  for (let i = 0; i < want.data.length; i++) {
    const [a, b] = [got.data[i]!, want.data[i]!];
    if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) bad.push(i);
  }
  const show = bad.slice(0, 3).map((i) => `x=${x.data[i]} y=${y.data[i]}: got ${got.data[i]}, want ${want.data[i]}`);
  return bad.length ? [`${name}: ${bad.length} mismatches: ${show.join('; ')}`] : [];
}

const BUILDS: Record<string, readonly string[]> = {
  default: C_FLAGS,
  'no AVX-512 FP16': [...C_FLAGS, '-mno-avx512fp16'],
  FMC_NO_FLOAT16: [...C_FLAGS, '-DFMC_NO_FLOAT16'],
};

describe('f16 and bf16 compute types on C, bit for bit against the reference', () => {
  for (const dtype of ['f16', 'bf16'] as const) {
    const g = halfGraph(dtype);
    const plan = lowerGraph(g);
    const source = renderC(plan.kernels, `half types ${dtype}`);
    const inputs = halfInputs(dtype);
    const ref = evaluate(g, { inputs, params: new Map(), dims: new Map() }).outputs;
    for (const [build, flags] of Object.entries(BUILDS)) {
      it(`${dtype}, every fn over every value and fused chains (${build})`, { timeout: 120_000 }, () => {
        // The chains are fused: one kernel per output.
        expect(plan.kernels.length).toBe(g.outputs.length);
        const lib = native().loadLibrary(compileC(source, { cacheDir: CACHE_DIR, flags }).path);
        const out = new Executable(plan, lib, new Map()).run(
          Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)])),
        );
        const problems = g.outputs.flatMap((o) =>
          mismatches(o.name, toHost(out[o.name]!), ref.get(o.name)!, inputs.get('x')!, inputs.get('y')!),
        );
        expect(problems).toEqual([]);
      });
    }
  }
});

describe('the f16/bf16 prelude section', () => {
  // As test/codegen/prelude.test.ts checks the C prelude: C11 with strict warnings, both ways.
  it('compiles cleanly with strict warnings, with _Float16 and with FMC_NO_FLOAT16', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmc-half-'));
    try {
      const file = join(dir, 'prelude.c');
      writeFileSync(file, `${C_PRELUDE}\n${C_HALF_PRELUDE}`);
      const strict = ['-Wall', '-Wextra', '-Wpedantic', '-Wconversion', '-Wdouble-promotion', '-Wshadow', '-Werror'];
      for (const extra of [[], ['-DFMC_NO_FLOAT16']]) {
        const r = spawnSync(process.env.CC || 'cc', ['-std=c11', ...strict, ...extra, '-fsyntax-only', file], {
          encoding: 'utf8',
        });
        expect(r.stderr, extra.join(' ')).toBe('');
        expect(r.status).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('golden C of f16 and bf16 chains', () => {
  for (const dtype of ['f16', 'bf16'] as const) {
    it(dtype, () => {
      const g = new Builder();
      const x = g.input('x', dtype, ['B', 8]);
      const y = g.input('y', dtype, [8]);
      const plan = lowerGraph(g.graph('forward', { z: chainOutputs(g, x, y, dtype).chain }));
      const source = renderC(plan.kernels, `golden/kernels/${dtype}_chain.c`);
      // The f16 file shows the f16/bf16 prelude section; the bf16 one elides it too.
      let text = source.replace(C_PRELUDE.trim(), '/* C_PRELUDE (src/codegen/prelude-c.ts) */');
      if (dtype === 'bf16')
        text = text.replace(C_HALF_PRELUDE.trim(), '/* C_HALF_PRELUDE (src/codegen/prelude-half.ts) */');
      expectGolden(`kernels/${dtype}_chain.c`, text);
    });
  }
});
