// Quantized params kept in step with the f32 weights they are derived from: a plan that reads
// `fc1.w:int8.q` and `.scale` (src/ir/quantize.ts) while its model's weights also hold `fc1.w`
// (compiled together with a train step, which updates fc1.w) derives them again, on the host,
// before the first run after fc1.w's version changed (weight-versions.ts), so a quantized
// forward after training steps runs on the trained weights: once per weight version, never
// per call. Weights bound without their f32 source (a module folder, a quantized file) are
// used as they are.

import { dimConstValue } from '../ir/dims.js';
import { type QuantSpec, parseQuantName, quantNames, quantizeValues } from '../ir/quantize.js';
import type { PlanParam } from '../kernels/plan.js';
import { RunError } from './run-args.js';
import { versionOf, weightsChanged } from './weight-versions.js';

interface Source {
  readonly path: string;
  readonly spec: QuantSpec;
  readonly N: number;
  readonly K: number;
  version: number;
}

export class QuantizedWeights {
  private readonly sources: Source[] = [];

  constructor(
    params: readonly PlanParam[],
    private readonly weights: ReadonlyMap<string, ArrayBuffer>,
  ) {
    const seen = new Set<string>();
    for (const p of params) {
      const name = parseQuantName(p.path);
      if (!name || name.part !== 'scale' || seen.has(name.path) || !weights.has(name.path)) continue;
      seen.add(name.path);
      const [N = 0, G = 0] = p.shape.map((d) => dimConstValue(d) ?? 0);
      const src = weights.get(name.path)!;
      // The reduced size: from the groups, else (whole rows) from the f32 source's size.
      const K = name.spec.group !== undefined ? G * name.spec.group : N > 0 ? src.byteLength / 4 / N : 0;
      this.sources.push({ path: name.path, spec: name.spec, N, K, version: versionOf(src) });
    }
  }

  /** Derives again the quantized params whose source changed since they were derived. */
  refresh(): void {
    for (const s of this.sources) {
      const src = this.weights.get(s.path)!;
      const version = versionOf(src);
      if (version === s.version) continue;
      if (src.byteLength !== s.N * s.K * 4)
        throw new RunError(`'${s.path}' changed, and only f32 weights are quantized again after a change`);
      const q = quantizeValues(new Float32Array(src, 0, s.N * s.K), s.N, s.K, s.spec);
      const names = quantNames(s.path, s.spec);
      new Int8Array(this.weights.get(names.q)!, 0, q.q.length).set(q.q);
      new Float32Array(this.weights.get(names.scale)!, 0, q.scale.length).set(q.scale);
      if (names.zero) new Float32Array(this.weights.get(names.zero)!, 0, q.zero!.length).set(q.zero!);
      // The GEMM's panels dequantized from q (gemm.ts prepackable) are derived again too.
      weightsChanged([this.weights.get(names.q)!]);
      s.version = version;
    }
  }
}
