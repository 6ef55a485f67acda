// Fused kernels that the whole-pipeline fuzzer found wrong, as regression tests: C (fusion on)
// against the reference interpreter.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { evaluate } from '../../src/ir/interp.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { CACHE_DIR, MODEL_TOL, compare } from './c-harness.js';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-fusion-reg-'));

describe('fusion regressions (fuzzer seeds)', () => {
  it('700710: a reduction without keepdim broadcast against the row is not the row scalar', () => {
    const file = path.join(DIR, 'seed700710.fm');
    fs.writeFileSync(
      file,
      `import { mean } from "std/math"

model Fuzz {
  param p2: f32[3, 3] = normal(std = 0.333)
  fn forward(x0: f32[3, 3, 3]) -> f32[] {
    return einsum("abc,cb->", minimum(mean(x0, 2), x0), p2)
  }
}
`,
    );
    const compiled = compileModel(file, { cacheDir: CACHE_DIR, seed: 3 });
    const g = compiled.lowered[0]!.graph;
    const dims = new Map<string, number>();
    const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 5, indexBound(g, n))]));
    const c = compiled.model.run(Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)])));
    const ref = evaluate(g, { inputs, params: compiled.weights, dims }).outputs;
    expect(compare('output', toHost(c.output!), ref.get('output')!, MODEL_TOL)).toEqual([]);
  });
});
