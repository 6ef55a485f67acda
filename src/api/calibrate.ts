// `fmc calibrate` as a function: runs the f32 model (C target) on sample batches and records,
// for each contraction that int8 activations would compute int8 × int8 (its site:
// src/passes/quantize-act.ts), the range of its activation operand over all the batches:
// max |x| (`max`) or the p-th percentile of |x| (`percentile=p`, nearest rank over every
// value seen). The result is the calibration file's contents (src/passes/calibration.ts).

import { pruneWeights } from '../ir/sparsity.js';
import type { HostTensor } from '../ir/value.js';
import { type Calibration, modelHash, parseMethod, scaleOf } from '../passes/calibration.js';
import { specsOf } from '../passes/quantize.js';
import { contractionSites } from '../passes/quantize-act.js';
import { buildExecutable, generate, piped, seededWeights, weightBuffers } from '../runtime/compile.js';
import { fromHost, toHost } from '../runtime/tensor.js';
import { type CompileOptions, CompileError, checkOptions, lowerModel, readWeights } from './compile.js';

export interface CalibrateOptions extends Pick<
  CompileOptions,
  'model' | 'set' | 'seed' | 'weights' | 'quantize' | 'cacheDir' | 'threads' | 'isPath'
> {
  /** The function to run (default `forward`). */
  readonly fn?: string;
  /** `max` (default) or `percentile=P`. */
  readonly method?: string;
  /** What the calibration file says the data was (`mnist`, a path). */
  readonly data?: string;
}

/** The calibration of `pathOrSource`'s function on `batches` (inputs by name). */
export function calibrate(
  pathOrSource: string,
  batches: Iterable<ReadonlyMap<string, HostTensor>>,
  opts: CalibrateOptions = {},
): Calibration {
  checkOptions(opts);
  const method = parseMethod(opts.method ?? 'max');
  if (typeof method === 'string') throw new CompileError(method);
  const l = lowerModel(pathOrSource, { ...opts, fns: [opts.fn ?? 'forward'] })[0]!;
  const { sites, skipped } = contractionSites(l.graph, specsOf(l.hints, opts.quantize ?? []));
  // The f32 graph with each site's activation as an extra output.
  const names = sites.map((_, i) => `fmc_calib_${i}`);
  const graph = {
    ...l.graph,
    outputs: [...l.graph.outputs, ...sites.map((s, i) => ({ name: names[i]!, node: s.einsum.inputs[0]! }))],
  };
  const m = piped({ ...l, graph }, { quantize: [{ path: 'all', spec: 'none' }] });
  const values = opts.weights ? readWeights(l, opts.weights, new Map()) : seededWeights(l, opts.seed ?? 0, new Map());
  pruneWeights(values, l);
  const exe = buildExecutable(generate(m), weightBuffers(values), opts);
  const seen = sites.map(() => [] as Float32Array[]);
  let [count, samples] = [0, 0];
  for (const batch of batches) {
    const feeds = Object.fromEntries(l.graph.inputs.map((i) => [i.args.name, fromHost(batch.get(i.args.name)!)]));
    const out = exe.run(feeds);
    names.forEach((name, i) => seen[i]!.push(Float32Array.from(toHost(out[name]!).data, Math.abs)));
    count++;
    samples += batch.get(l.graph.inputs[0]!.args.name)?.shape[0] ?? 0;
  }
  if (count === 0) throw new CompileError('calibration: no batches');
  const entries = Object.fromEntries(
    sites.map((s, i) => {
      const range = rangeOf(seen[i]!, method);
      if (!(range > 0) || !Number.isFinite(range))
        throw new CompileError(`calibration: the activation of '${s.key}' has range ${range} on these batches`);
      return [s.key, { range, scale: scaleOf(range) }];
    }),
  );
  return {
    format: 'fmc-calibration',
    version: 1,
    model: l.model,
    fn: l.graph.name,
    modelHash: modelHash(l.graph),
    method: method.kind === 'max' ? 'max' : `percentile=${method.p}`,
    batches: count,
    samples,
    data: opts.data ?? '',
    entries,
    skipped: Object.fromEntries(skipped.map((s) => [s.key, s.reason])),
  };
}

/** max |x|, or the nearest-rank p-th percentile of |x|, over all values. */
export function rangeOf(
  values: readonly Float32Array[],
  method: { kind: 'max' } | { kind: 'percentile'; p: number },
): number {
  if (method.kind === 'max') return values.reduce((a, v) => v.reduce((x, y) => Math.max(x, y), a), 0);
  const all = new Float32Array(values.reduce((a, v) => a + v.length, 0));
  let at = 0;
  for (const v of values) (all.set(v, at), (at += v.length));
  all.sort();
  return all[Math.max(0, Math.ceil((method.p / 100) * all.length) - 1)]!;
}
