// Test harness of the WGSL target, the twin of test/kernels/c-harness.ts: a graph is lowered
// for a GPU (lowerGraph target 'gpu', grids bound), rendered to WGSL, loaded on the process's
// WebGPU device (Dawn on SwiftShader) through the runtime's GpuExecutable, run with the
// harness's seeded inputs and weights, and compared with the reference interpreter by the same
// rules as C (compare, compareRun).
//
// One documented deviation: WGSL has no 64-bit integers, so i64 values compute in i32 and wrap
// at 32 bits (src/codegen/legalize-wgsl.ts). The harness therefore maps given i64 inputs into
// the i32 range (two's complement low word, as the kernels read them), and compares an i64
// result with the reference wrapped to 32 bits where the reference left the i32 range (exact
// only below 2^53: the interpreter's i64 is a float64; above it the element is not compared).
// Casts from a float to i64 saturate at the i32 range there, so such an element also passes
// when WGSL holds the saturated bound. SwiftShader also flushes f32 subnormals to zero (WGSL
// allows it): given f32 and bf16 inputs that are f32 subnormals become zeros of their sign
// before both runs. Each such element is counted in WRAPS, which the tests print: none is
// skipped silently.

import { renderWgsl } from '../../src/codegen/wgsl.js';
import type { Graph } from '../../src/ir/graph.js';
import { type HostTensor, hostTensor } from '../../src/ir/value.js';
import { bindPlanGrids } from '../../src/kernels/grid.js';
import { type LowerOptions, lowerGraph } from '../../src/kernels/lower.js';
import { weightBuffers } from '../../src/runtime/compile.js';
import { buildWgslExecutable, compileWgslProgram } from '../../src/runtime/wgsl-program.js';
import { fromHost } from '../../src/runtime/tensor.js';
import { type RunSpec, type Tol, compare, compareRun, prepareRun } from '../kernels/c-harness.js';

/** i64 elements the WGSL comparison treated specially (see the header), by kind. */
export const WRAPS = { inputs: 0, wrapped: 0, saturated: 0, beyondExact: 0, subnormals: 0 };

const wrap32 = (v: number): number => Number(BigInt.asIntN(32, BigInt(v)));
const inI32 = (v: number): boolean => v >= -(2 ** 31) && v < 2 ** 31;

const subnormal = (v: number): boolean => v !== 0 && Math.abs(v) < 2 ** -126;

/** An input as WGSL holds it (see the header): i64 wrapped to i32, f32 subnormals flushed (counted). */
function wgslInput(t: HostTensor): HostTensor {
  if ((t.dtype === 'f32' || t.dtype === 'bf16') && t.data.some(subnormal)) {
    WRAPS.subnormals += t.data.filter(subnormal).length;
    return hostTensor(
      t.dtype,
      t.shape,
      Array.from(t.data, (v) => (subnormal(v) ? (v < 0 ? -0 : 0) : v)),
    );
  }
  if (t.dtype !== 'i64' || t.data.every(inI32)) return t;
  WRAPS.inputs += t.data.filter((v) => !inI32(v)).length;
  return hostTensor('i64', t.shape, Array.from(t.data, wrap32));
}

/** `compare` with the reference's i64 values wrapped to 32 bits (see the header). */
export function compareWgsl(what: string, got: HostTensor, want: HostTensor, tol?: Tol, alt?: HostTensor): string[] {
  if (want.dtype !== 'i64' || want.data.every(inI32)) return compare(what, got, want, tol, alt);
  const keep: number[] = [];
  want.data.forEach((v, k) => {
    if (Math.abs(v) >= 2 ** 53) WRAPS.beyondExact++;
    else keep.push(k);
  });
  const pick = (t: HostTensor): HostTensor =>
    hostTensor(
      t.dtype,
      [keep.length],
      keep.map((k) => t.data[k]!),
    );
  if (got.data.length !== want.data.length) return compare(what, got, want, tol);
  // A saturated cast: WGSL holds the i32 bound on the reference's side of the range.
  const expect = (k: number): number => {
    const v = want.data[k]!;
    const bound = v < 0 ? -(2 ** 31) : 2 ** 31 - 1;
    if (inI32(v)) return v;
    if (got.data[k] === bound) {
      WRAPS.saturated++;
      return bound;
    }
    WRAPS.wrapped++;
    return wrap32(v);
  };
  const wrapped = hostTensor(
    'i64',
    [keep.length],
    keep.map((k) => expect(k)),
  );
  return compare(`${what} (i64 wrapped to 32 bits)`, pick(got), wrapped, tol);
}

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
