// The WGSL half of the whole-pipeline fuzzer: the graphs a case prepared (pipeline.ts prepare)
// are compiled for WGSL as `fmc compile --target wgsl` does (fitted to the device's limits,
// here SwiftShader's, the smallest a test machine has: fitDevice; then renderWgsl), run on
// the process's WebGPU device (Dawn; SwiftShader without a GPU) and compared with the
// reference as C is (compareCall: same tolerances, second chances and ill-conditioned
// elements). WGSL computes integer values in 64 bits (src/codegen/legalize-wgsl-int.ts), so
// every graph is compared, integers exactly; those where some i64 value of the reference (an
// input, a param, any node, at any of its calls) leaves the i32 range are counted in
// `wideI64`, to show that such values are exercised.

import type { Graph } from '../../src/ir/graph.js';
import { liveNodes } from '../../src/ir/graph.js';
import { evaluate } from '../../src/ir/interp.js';
import type { HostTensor } from '../../src/ir/value.js';
import { weightBuffers } from '../../src/runtime/compile.js';
import { RunError } from '../../src/runtime/run-args.js';
import { WGSL_BACKEND, buildWgslExecutable, compileWgslProgram } from '../../src/runtime/wgsl-program.js';
import { PROFILES } from '../../src/kernels/device-profile.js';
import { fitDevice } from '../../src/kernels/fit-device.js';
import { type GraphCase, type Prepared, type Run, type Stage, compareCall, feedsOf } from './pipeline.js';

const inI32 = (t: HostTensor): boolean => t.dtype !== 'i64' || t.data.every((v) => v >= -(2 ** 31) && v < 2 ** 31);

/** Whether an i64 value of a run (inputs, params, every live node) leaves the i32 range. */
export function leavesI32(g: Graph, run: Run): boolean {
  if (![...run.inputs.values(), ...run.params.values()].every(inI32)) return true;
  const wide = liveNodes(g).filter((n) => n.type.dtype === 'i64');
  if (wide.length === 0 || typeof run.ref === 'string') return false;
  const probe: Graph = { ...g, outputs: wide.map((node, i) => ({ name: `i64_${i}`, node })), updates: [] };
  const values = evaluate(probe, { inputs: run.inputs, params: run.params, dims: run.dims }).outputs;
  return ![...values.values()].every(inI32);
}

const errorText = (e: unknown): string =>
  e instanceof Error ? `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 6).join('\n')}` : String(e);

/** One graph on WGSL at each of its calls (the same executable); the problems of the first that differs. */
async function runGraph(g: GraphCase, c: Prepared, onStage: (s: Stage) => void): Promise<string[]> {
  onStage('wgsl-compile');
  // Fitted as the product fits it: seed 1016060's gradient fused 13 buffers into one GEMM
  // kernel, which only the unfitted lowering makes (SwiftShader allows 12).
  const fn = compileWgslProgram(fitDevice(g.graph, PROFILES.swiftshader!).plan, WGSL_BACKEND.render);
  const weights = weightBuffers(g.params);
  const exe = buildWgslExecutable(fn, weights);
  for (const [k, run] of g.runs.entries()) {
    onStage('wgsl-run');
    let got;
    try {
      got = await exe.runAsync(feedsOf(run), { dims: Object.fromEntries(run.dims) });
    } catch (e) {
      if (typeof run.ref === 'string' && e instanceof RunError) continue;
      throw e;
    }
    onStage('wgsl-compare');
    const problems = compareCall(got, weights, g.graph, run, c.tol, 'WGSL');
    if (problems.length > 0) {
      const at = g.runs.length > 1 ? ` (call ${k + 1} of ${g.runs.length})` : '';
      return problems.map((p) => p + at);
    }
  }
  return [];
}

/** The WGSL half for prepared cases without failures: compares their graphs, records failures. */
export async function runWgsl(
  cases: readonly Prepared[],
  onStage: (seed: number, stage: Stage) => void = () => {},
): Promise<void> {
  for (const c of cases) {
    c.comparedWgsl ??= 0;
    c.wideI64 ??= 0;
    for (const g of c.graphs) {
      if (g.runs.some((r) => leavesI32(g.graph, r))) c.wideI64++;
      let stage: Stage = 'wgsl-compile';
      try {
        const problems = await runGraph(g, c, (s) => {
          stage = s;
          onStage(c.program.seed, s);
        });
        if (problems.length > 0) {
          c.failures.push({ kind: 'mismatch', stage: 'wgsl-compare', fn: g.fn, message: problems.join('\n') });
          break;
        }
        c.comparedWgsl++;
      } catch (e) {
        c.failures.push({ kind: 'crash', stage, fn: g.fn, message: errorText(e) });
        break;
      }
    }
  }
}
