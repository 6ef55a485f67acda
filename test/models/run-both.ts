// A compiled model's forward on C beside the reference pipeline (the same passes, the same
// weights), on seeded inputs at B = 2 and T = 6: the compressed seed models and the layered
// recipe compare the pairs.

import type { CompiledModel } from '../../src/api/compile.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import type { QuantRule } from '../../src/passes/pass.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';

/** Runs `compiled`'s forward on C and the reference pipeline (same passes, same weights); returns each output's pair. */
export function runBoth(compiled: CompiledModel, quantize: readonly QuantRule[]) {
  const ref = runPipeline(compiled.lowered[0]!, { target: 'reference', mode: 'inference', quantize }).graph;
  const dims = new Map(ref.dims.map((d) => [d, d === 'T' ? 6 : 2]));
  const inputs = new Map(ref.inputs.map((n) => [n.args.name, randomInput(n, dims, 10, indexBound(ref, n))]));
  const c = compiled.model.run(Object.fromEntries([...inputs].map(([name, t]) => [name, fromHost(t)])));
  const want = evaluate(ref, { inputs, params: compiled.weights, dims }).outputs;
  return ref.outputs.map((o) => ({ name: o.name, got: toHost(c[o.name]!), want: want.get(o.name)! }));
}
