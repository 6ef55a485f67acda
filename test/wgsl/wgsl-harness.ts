// Test harness of the WGSL target, the twin of test/kernels/c-harness.ts: a graph is lowered
// for a GPU (lowerGraph target 'gpu', grids bound), rendered to WGSL, loaded on the process's
// WebGPU device (Dawn on SwiftShader) through the runtime's GpuExecutable, run with the
// harness's seeded inputs and weights, and compared with the reference interpreter by the same
// rules as C (compare, compareRun).
//
// i64 values compute exactly (64 bits as two words, src/codegen/legalize-wgsl-int.ts), so
// integers compare exactly as on C. One deviation remains: SwiftShader flushes f32
// subnormals to zero (WGSL allows it): given f32 and bf16 inputs that are f32 subnormals
// become zeros of their sign before both runs, each counted in FLUSHED, which the tests
// print: none is skipped silently.

import { renderWgsl } from '../../src/codegen/wgsl.js';
import type { Graph } from '../../src/ir/graph.js';
import { type HostTensor, hostTensor } from '../../src/ir/value.js';
import { bindPlanGrids } from '../../src/kernels/grid.js';
import { type LowerOptions, lowerGraph } from '../../src/kernels/lower.js';
import { weightBuffers } from '../../src/runtime/compile.js';
import { buildWgslExecutable, compileWgslProgram } from '../../src/runtime/wgsl-program.js';
import { fromHost } from '../../src/runtime/tensor.js';
import { type RunSpec, compare, compareRun, prepareRun } from '../kernels/c-harness.js';

/** f32/bf16 subnormal input elements flushed to zero of their sign before a run (see the header). */
export const FLUSHED = { subnormals: 0 };

const subnormal = (v: number): boolean => v !== 0 && Math.abs(v) < 2 ** -126;

/** An input as SwiftShader holds it (see the header): f32 subnormals flushed (counted). */
function wgslInput(t: HostTensor): HostTensor {
  if ((t.dtype !== 'f32' && t.dtype !== 'bf16') || !t.data.some(subnormal)) return t;
  FLUSHED.subnormals += t.data.filter(subnormal).length;
  return hostTensor(
    t.dtype,
    t.shape,
    Array.from(t.data, (v) => (subnormal(v) ? (v < 0 ? -0 : 0) : v)),
  );
}

/** The comparison of a WGSL result with the reference: as C's (integers exactly). */
export const compareWgsl = compare;

/** A graph compiled for WGSL, loadable with several weight maps. */
export interface WgslGraph {
  readonly graph: Graph;
  readonly compiled: ReturnType<typeof compileWgslProgram>;
}

/** Lowers and renders `g` for the WGSL target (lower options: the C-only ones are ignored by 'gpu'). */
export function compileGraph(g: Graph, lower?: LowerOptions): WgslGraph {
  const plan = bindPlanGrids(lowerGraph(g, { ...lower, target: 'gpu' }));
  return { graph: g, compiled: compileWgslProgram(plan, renderWgsl) };
}

/** Runs `w` on WebGPU and in the interpreter (seeded as the C harness does) and compares. */
export async function runAndCompareWgsl(w: WgslGraph, spec: RunSpec = {}): Promise<string[]> {
  const inputs = spec.inputs
    ? Object.fromEntries(Object.entries(spec.inputs).map(([k, t]) => [k, wgslInput(t)]))
    : undefined;
  const p = prepareRun(w.graph, { ...spec, inputs });
  const weights = weightBuffers(p.params);
  const exe = buildWgslExecutable(w.compiled, weights);
  const feeds = Object.fromEntries([...p.inputs].map(([k, t]) => [k, fromHost(t)]));
  const out = await exe.runAsync(feeds, { dims: p.given });
  return compareRun(w.graph, p, out, weights, spec.tol, compareWgsl);
}
