// The seed models that carry `@quantize` (mlp: fc1 int8 per channel; cnn: fc1 int8 in groups
// of 128; swa_lm: every feed-forward layer int4 in groups of 128), small variants, compiled for
// C as `compile()` compiles them: their outputs against the reference interpreter running the
// same quantized graph on the same derived weights (tight tolerance: f32 rounding only), and,
// reported apart, against the f32 model (`--quantize all=none`): small, but not zero. And a
// quantized forward compiled beside a train step follows the trained f32 weights: its q and
// scale are derived again once the step changed their source.

import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { compileTrainer } from '../../src/api/train.js';
import { parseQuantName, withQuantized } from '../../src/ir/quantize.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { graphParams } from '../../src/ir/graph.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { smallModelFile } from '../models/small-models.js';
import { CACHE_DIR, compare } from './c-harness.js';

const MODELS: [string, Record<string, number>, string, number][] = [
  // model, dims, a quantized param, the largest error against f32 relative to max |y|
  ['mlp', { B: 2 }, 'fc1.w:int8.q', 0.02],
  ['cnn', { B: 2 }, 'fc1.w:int8g128.q', 0.02],
  // int4 in the three matrices of each SwiGLU, on random weights: about 21% here.
  ['swa_lm', { B: 1, T: 5 }, 'blocks.1.ffn.down.w:int4g128.q', 0.35],
];

describe('seed models with their @quantize annotations on C', () => {
  for (const [model, binding, param, bound] of MODELS)
    it(model, { timeout: 120_000 }, () => {
      const file = smallModelFile(model);
      const q = compileModel(file, { fns: ['forward'], cacheDir: CACHE_DIR, seed: 3 });
      const f = compileModel(file, {
        fns: ['forward'],
        cacheDir: CACHE_DIR,
        seed: 3,
        quantize: [{ path: 'all', spec: 'none' }],
      });
      const g = q.modules[0]!.graph;
      expect(graphParams(g).map((p) => p.args.path)).toContain(param);
      const dims = new Map(g.dims.map((d) => [d, binding[d] ?? 1]));
      const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 11, indexBound(g, n))]));
      const feeds = Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)]));
      const out = g.outputs[0]!.name;
      const yq = toHost(q.model.run(feeds)[out]!);
      const ref = evaluate(g, { inputs, params: q.weights, dims }).outputs.get(out)!;
      expect(compare(`${model} ${out}`, yq, ref, { rtol: 1e-4, atol: 1e-5 })).toEqual([]);
      const yf = toHost(f.model.run(feeds)[out]!).data;
      const scale = Math.max(...yf.map(Math.abs));
      const err = Math.max(...yq.data.map((v, i) => Math.abs(v - yf[i]!))) / scale;
      console.log(`${model}: quantized vs f32 output, max |Δ| = ${(100 * err).toFixed(3)}% of max |y|`);
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(bound);
    });

  it('a quantized forward beside a train step runs on the trained weights', { timeout: 120_000 }, () => {
    const t = compileTrainer(smallModelFile('mlp'), { seed: 0, cacheDir: CACHE_DIR, inference: ['forward'] });
    const g = t.modules.find((m) => m.graph.name === 'forward')!.graph;
    expect(graphParams(g).map((p) => p.args.path)).toContain('fc1.w:int8.q');
    const fwd = t.inference.get('forward')!;
    const batch = (i: number) => ({
      images: new Tensor(
        'f32',
        Float32Array.from({ length: 4 * 64 }, (_, k) => Math.sin(k + i)),
        [4, 64],
      ),
      labels: new Tensor('i32', Int32Array.from([0, 1, 2, 3].map((k) => (k + i) % 10)), [4]),
    });
    const check = (): Float64Array => {
      const y = toHost(fwd.run({ images: batch(0).images }).logits!);
      // The reference derives q and scale afresh from the f32 weights the trainer holds now.
      const f32 = new Map([...t.trainer.state()].filter(([p]) => !parseQuantName(p)));
      const inputs = new Map([['images', toHost(batch(0).images)]]);
      const ref = evaluate(g, { inputs, params: withQuantized([g], f32), dims: new Map([['B', 4]]) }).outputs;
      expect(compare('logits', y, ref.get('logits')!, { rtol: 1e-4, atol: 1e-5 })).toEqual([]);
      return y.data;
    };
    const before = check();
    for (let i = 0; i < 3; i++) t.trainer.step(batch(i));
    expect(check()).not.toEqual(before);
  });
});
