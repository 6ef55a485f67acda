// Every seed model, lowered to the graph IR: the verifier passes, the IR text round-trips,
// and the reference interpreter agrees with ONNX Runtime running the exported model on the
// same inputs and weights (fp32 whole-model tolerance: rtol 1e-3, atol 1e-4).

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { toOrt } from '../../src/export/ort-tensors.js';
import { describe, expect, it } from 'vitest';
import { exportOnnx } from '../../src/export/onnx.js';
import { lowerFile } from '../../src/frontend/lower.js';
import { indexBound, initParam, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { parseGraph } from '../../src/ir/parse.js';
import { printGraph } from '../../src/ir/print.js';
import { verify } from '../../src/ir/verify.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MODELS = fs
  .readdirSync(path.join(ROOT, 'models'))
  .filter((f) => f.endsWith('.fm'))
  .sort();

/** Largest |a - b| beyond the allowance atol + rtol·|b|, and where. */
function worst(actual: ArrayLike<number | bigint | boolean>, expected: Float64Array, rtol: number, atol: number) {
  let bad = { excess: 0, at: -1, a: 0, e: 0 };
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]);
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= bad.excess)) bad = { excess: Number.isNaN(excess) ? Infinity : excess, at: i, a, e };
  }
  return bad;
}

describe('seed models: IR, interpreter and ONNX Runtime', () => {
  for (const file of MODELS) {
    it(file, { timeout: 400_000 }, async () => {
      const r = lowerFile(path.join(ROOT, 'models', file));
      if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
      const g = r.lowered.graph;
      verify(g);
      const text = printGraph(g);
      expect(printGraph(parseGraph(text))).toBe(text);
      // Small sizes keep the float64 interpreter quick: one sample, 8 steps.
      const dims = new Map(g.dims.map((d) => [d, d === 'B' || d === 'N' ? 1 : 8]));
      const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 7, indexBound(g, n))]));
      const params = new Map(r.lowered.params.map((p) => [p.path, initParam(p, dims, 7)]));
      const { outputs } = evaluate(g, { inputs, params, dims });
      const session = await ort.InferenceSession.create(exportOnnx(g, params), { intraOpNumThreads: 2 });
      const feeds = Object.fromEntries([...inputs].map(([k, t]) => [k, toOrt(ort, t)]));
      const got = await session.run(feeds);
      for (const o of g.outputs) {
        const want = outputs.get(o.name)!;
        const have = got[o.name]!;
        expect(have.dims).toEqual(want.shape);
        const exact = want.dtype === 'bool' || want.dtype.startsWith('i');
        const w = worst(have.data as ArrayLike<number>, want.data, exact ? 0 : 1e-3, exact ? 0 : 1e-4);
        expect(w.excess, `${o.name}[${w.at}]: ONNX Runtime ${w.a}, interpreter ${w.e}`).toBeLessThanOrEqual(0);
      }
      await session.release();
    });
  }
});
