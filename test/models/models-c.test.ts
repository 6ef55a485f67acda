// Every seed model through the C backend: compiled once (compileModel, forward only), run at
// two dim bindings with the same Model and Executable (no recompile), and compared with the
// reference interpreter at both (fp32 whole-model tolerance: rtol 1e-3, atol 1e-4) and with
// ONNX Runtime running the exported model at the first. Sizes are small: the float64
// interpreter is the slow part (hybrid_vit and moe_lm take seconds per call).

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { toOrt } from '../../src/export/ort-tensors.js';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { exportOnnx } from '../../src/export/onnx.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import type { HostTensor } from '../../src/ir/value.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { CACHE_DIR, MODEL_TOL, compare } from '../kernels/c-harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MODELS = fs
  .readdirSync(path.join(ROOT, 'models'))
  .filter((f) => f.endsWith('.fm'))
  .sort();

/** Two bindings per model: B = 1 then 2; T (where the model has it) 6 then 4. */
const BINDINGS: readonly Readonly<Record<string, number>>[] = [
  { B: 1, T: 6 },
  { B: 2, T: 4 },
];

function fromOrt(t: ort.Tensor, dtype: HostTensor['dtype']): HostTensor {
  const src = t.data as ArrayLike<number | bigint | boolean>;
  return { dtype, shape: [...t.dims], data: Float64Array.from({ length: src.length }, (_, i) => Number(src[i]!)) };
}

describe('seed models: C backend vs interpreter and ONNX Runtime', () => {
  for (const file of MODELS) {
    it(file, { timeout: 300_000 }, async () => {
      const compiled = compileModel(path.join(ROOT, 'models', file), {
        fns: ['forward'],
        cacheDir: CACHE_DIR,
        seed: 3,
        // f32, as the interpreter runs the lowered graph and ONNX Runtime the export (moe_lm's
        // own @precision(bf16) is checked in test/kernels/precision-models.test.ts).
        precision: 'f32',
      });
      // What was compiled: with the model's `@quantize` weights (mlp, cnn, swa_lm) dequantized.
      const g = compiled.modules[0]!.graph;
      const exe = compiled.model.executable('forward');
      for (const [k, binding] of BINDINGS.entries()) {
        const dims = new Map(g.dims.map((d) => [d, binding[d] ?? 1]));
        const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 10 + k, indexBound(g, n))]));
        const feeds = Object.fromEntries([...inputs].map(([name, t]) => [name, fromHost(t)]));
        const c = compiled.model.run(feeds);
        // The same compiled function served both bindings.
        expect(compiled.model.executable('forward')).toBe(exe);
        const ref = evaluate(g, { inputs, params: compiled.weights, dims }).outputs;
        const problems = g.outputs.flatMap((o) =>
          compare(
            `${o.name} at ${JSON.stringify(Object.fromEntries(dims))}`,
            toHost(c[o.name]!),
            ref.get(o.name)!,
            MODEL_TOL,
          ),
        );
        if (problems.length > 0) throw new Error(`${file}: C differs from the interpreter:\n${problems.join('\n')}`);
        if (k === 0) {
          const session = await ort.InferenceSession.create(exportOnnx(g, compiled.weights), {
            intraOpNumThreads: 1,
            // Graph optimization dominates session creation on the larger models; plain kernels suffice here.
            graphOptimizationLevel: 'disabled',
          });
          try {
            const got = await session.run(Object.fromEntries([...inputs].map(([name, t]) => [name, toOrt(ort, t)])));
            const vsOrt = g.outputs.flatMap((o) =>
              compare(
                `${o.name} (ONNX Runtime)`,
                toHost(c[o.name]!),
                fromOrt(got[o.name]!, o.node.type.dtype),
                MODEL_TOL,
              ),
            );
            if (vsOrt.length > 0) throw new Error(`${file}: C differs from ONNX Runtime:\n${vsOrt.join('\n')}`);
          } finally {
            await session.release();
          }
        }
      }
    });
  }
});
