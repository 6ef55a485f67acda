// Test harness of the C backend: graphs are lowered to plans (lowerGraph), their kernels
// rendered into ONE C file (renamed `g<i>_<name>` so several graphs share a compile), built
// through the hashed compile cache in a private directory under the system temp dir, loaded,
// and run through Executable with seeded weights (initParam) and inputs (randomInput or given
// ones). Results are compared with the reference interpreter (evaluate, in its default
// precision 'dtype': every float node rounded to its dtype as C stores it): floats within a
// per-dtype rtol/atol, NaN exactly where the reference has NaN, ±Inf exactly, integers and
// bools exactly. Buffer updates (`set`) are compared too.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderC } from '../../src/codegen/c.js';
import { type Dtype, isFloat } from '../../src/ir/dtype.js';
import { dimSymbols } from '../../src/ir/dims.js';
import { type Graph, type NodeOf, liveNodes } from '../../src/ir/graph.js';
import { indexBound, initParam, randomInput } from '../../src/ir/init.js';
import { bindDims, evaluate } from '../../src/ir/interp.js';
import type { Kernel } from '../../src/ir/kernel.js';
import { printGraph } from '../../src/ir/print.js';
import { type HostTensor, hostTensor, roundTo } from '../../src/ir/value.js';
import { type LowerOptions, lowerGraph } from '../../src/kernels/lower.js';
import type { Plan } from '../../src/kernels/plan.js';
import { compileC } from '../../src/runtime/cache.js';
import { weightBuffers } from '../../src/runtime/compile.js';
import { Executable } from '../../src/runtime/executable.js';
import { type NativeLibrary, native } from '../../src/runtime/native.js';
import { Tensor, fromHost, toHost, typedArray } from '../../src/runtime/tensor.js';
import { testCacheDir } from '../tmp-cache.js';

/** One private compile cache for every test process of this user (mode 0700). */
export const CACHE_DIR = testCacheDir('fmc-kernel-tests');
mkdirSync(CACHE_DIR, { recursive: true, mode: 0o700 });

/** The assembly gcc makes of C `source` with the default optimization flags and `more`. */
export function assembly(source: string, ...more: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'fmc-asm-'));
  try {
    writeFileSync(join(dir, 'k.c'), source);
    const flags = ['-O3', '-march=native', '-fopenmp', '-std=c11', ...more];
    execFileSync('gcc', [...flags, '-S', '-o', join(dir, 'k.s'), join(dir, 'k.c')]);
    return readFileSync(join(dir, 'k.s'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true });
  }
}

/** How many times instruction `op` occurs in assembly `text`. */
export const countOp = (text: string, op: string): number => (text.match(new RegExp(`\\b${op}\\b`, 'g')) ?? []).length;

export interface Tol {
  readonly rtol: number;
  readonly atol: number;
}
/** Single ops, f32. */
export const OP_TOL: Tol = { rtol: 1e-4, atol: 1e-5 };
/** Whole models, f32. */
export const MODEL_TOL: Tol = { rtol: 1e-3, atol: 1e-4 };

/** ‖got − want‖₂ / ‖want‖₂ (‖got − want‖₂ when want is all 0): a whole output's relative error. */
export function normRel(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let [err, norm] = [0, 0];
  for (let i = 0; i < got.length; i++) [err, norm] = [err + (got[i]! - want[i]!) ** 2, norm + want[i]! ** 2];
  return norm > 0 ? Math.sqrt(err / norm) : Math.sqrt(err);
}
const F16_TOL: Tol = { rtol: 1e-3, atol: 1e-3 };
const BF16_TOL: Tol = { rtol: 1.6e-2, atol: 1e-2 };

/** The tolerance for an output dtype: `f32` for f32 outputs, fixed ones for f16 and bf16. */
export function tolFor(dtype: Dtype, f32: Tol = OP_TOL): Tol {
  return dtype === 'f16' ? F16_TOL : dtype === 'bf16' ? BF16_TOL : f32;
}

/** Several graphs compiled into one C library. */
export class CBatch {
  private constructor(
    readonly graphs: readonly Graph[],
    /** Each graph's plan as lowered (its own kernel numbering). */
    readonly plans: readonly Plan[],
    /** Each graph's plan with launches renumbered into the shared library. */
    readonly merged: readonly Plan[],
    readonly source: string,
    readonly lib: NativeLibrary,
  ) {}

  /** Lowers, renders and builds every graph into one library. */
  static build(
    graphs: readonly Graph[],
    opts: { header?: string; lower?: (i: number) => LowerOptions | undefined } = {},
  ): CBatch {
    const plans = graphs.map((g, i) => lowerGraph(g, opts.lower?.(i)));
    const kernels: Kernel[] = [];
    const merged = plans.map((p, gi) => {
      const base = kernels.length;
      for (const k of p.kernels) kernels.push({ ...k, name: `g${gi}_${k.name}` });
      return { ...p, launches: p.launches.map((l) => ({ ...l, kernel: l.kernel + base })) };
    });
    const source = renderC(kernels, opts.header ?? 'fmc kernel tests');
    const built = compileC(source, { cacheDir: CACHE_DIR });
    const lib = native().loadLibrary(built.path);
    if (lib.kernelCount !== kernels.length)
      throw new Error(`library has ${lib.kernelCount} kernels, expected ${kernels.length}`);
    return new CBatch(graphs, plans, merged, source, lib);
  }

  /** An Executable of graph `i` over `weights` (by path; the caller keeps the map to see updates). */
  executable(i: number, weights: ReadonlyMap<string, ArrayBuffer>): Executable {
    return new Executable(this.merged[i]!, this.lib, weights);
  }
}

/** Seeded values of every live param of `g` under `dims`. */
export function seededParams(g: Graph, dims: ReadonlyMap<string, number>, seed: number): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const n of liveNodes(g)) if (n.op === 'param') out.set(n.args.path, initParam(n.args, dims, seed));
  return out;
}

/** Seeded inputs of `g` (integers below their index bound), with `given` ones taking precedence. */
export function seededInputs(
  g: Graph,
  dims: ReadonlyMap<string, number>,
  seed: number,
  given: Readonly<Record<string, HostTensor>> = {},
): Map<string, HostTensor> {
  return new Map(
    g.inputs.map((n: NodeOf<'input'>) => [
      n.args.name,
      given[n.args.name] ?? randomInput(n, dims, seed, indexBound(g, n) ?? 2),
    ]),
  );
}

export interface RunSpec {
  /** Dim values (those the inputs determine may be left out). */
  readonly dims?: Readonly<Record<string, number>>;
  /** Seed of random inputs and weights (default 1). */
  readonly seed?: number;
  /** Inputs to use instead of random ones, by name. */
  readonly inputs?: Readonly<Record<string, HostTensor>>;
  /** f32 tolerance (default OP_TOL); f16/bf16 outputs use theirs. */
  readonly tol?: Tol;
  /**
   * Also accept values within tolerance of a second reference that does not round float
   * nodes (precision 'float64'): for random graphs, where C computes fused f16/bf16 chains in
   * f32 and rounds only what it stores, so neither reference alone is exact.
   */
  readonly roundedAlt?: boolean;
  /** Param values to use instead of seeded ones, by path. */
  readonly params?: ReadonlyMap<string, HostTensor>;
  /** An Executable to reuse, with the weights it was made with and the values they hold. */
  readonly exe?: {
    readonly exe: Executable;
    readonly weights: Map<string, ArrayBuffer>;
    readonly params: Map<string, HostTensor>;
  };
}

export interface RunResult {
  readonly c: Record<string, Tensor>;
  readonly ref: ReadonlyMap<string, HostTensor>;
  /** One line per mismatching output or update; empty when everything agrees. */
  readonly problems: string[];
}

/** A run's values on the reference side: dims, inputs, params and the interpreter's results. */
export interface Prepared {
  readonly dims: Map<string, number>;
  readonly inputs: Map<string, HostTensor>;
  readonly params: Map<string, HostTensor>;
  /** The dims to give the executable: those the input shapes do not determine. */
  readonly given: Record<string, number>;
  readonly ref: { outputs: Map<string, HostTensor>; updates: Map<string, HostTensor> };
  readonly alt?: { outputs: Map<string, HostTensor>; updates: Map<string, HostTensor> };
}

/** The inputs, params and reference values of a run of `g` (see RunSpec). */
export function prepareRun(g: Graph, spec: RunSpec = {}): Prepared {
  const seed = spec.seed ?? 1;
  // Given inputs bind the dims their shapes determine (random ones need them).
  const givenShapes = new Map(Object.entries(spec.inputs ?? {}).map(([k, t]) => [k, t.shape]));
  const dims = bindDims(g, givenShapes, new Map(Object.entries(spec.dims ?? {})));
  const inputs = seededInputs(g, dims, seed, spec.inputs);
  const params = spec.exe?.params ?? spec.params ?? seededParams(g, fullDims(g, inputs, dims), seed);
  const ref = evaluate(g, { inputs, params, dims });
  // Dims the input shapes determine are left for the executable to bind; only the others are given.
  const inInputs = new Set(g.inputs.flatMap((n) => n.args.shape.flatMap(dimSymbols)));
  const given = Object.fromEntries(Object.entries(spec.dims ?? {}).filter(([s]) => !inInputs.has(s)));
  const alt = spec.roundedAlt ? evaluate(g, { inputs, params, dims }, { precision: 'float64' }) : undefined;
  return { dims, inputs, params, given, ref, alt };
}

/** Compares a target's outputs and its weights after the run (updates) with the reference. */
export function compareRun(
  g: Graph,
  p: Prepared,
  outputs: Readonly<Record<string, Tensor>>,
  weights: ReadonlyMap<string, ArrayBuffer>,
  tol?: Tol,
  cmp: typeof compare = compare,
): string[] {
  const problems: string[] = [];
  for (const o of g.outputs) {
    const got = outputs[o.name];
    if (!got) problems.push(`output '${o.name}' missing`);
    else
      problems.push(
        ...cmp(`output '${o.name}'`, toHost(got), p.ref.outputs.get(o.name)!, tol, p.alt?.outputs.get(o.name)),
      );
  }
  // Updates: the weight buffer now holds the new value (applied in order, so the last one wins).
  const lastUpdate = new Map(g.updates.map((u) => [u.path, u.node]));
  for (const [path] of lastUpdate) {
    const want = p.ref.updates.get(path)!;
    const buf = weights.get(path)!;
    const got = toHost(fromBytes(want.dtype, [...want.shape], buf));
    problems.push(...cmp(`update '${path}'`, got, want, tol, p.alt?.updates.get(path)));
  }
  return problems;
}

/** Runs graph `i` of `batch` in C and in the interpreter and compares (see the header). */
export function runAndCompare(batch: CBatch, i: number, spec: RunSpec = {}): RunResult {
  const g = batch.graphs[i]!;
  const p = prepareRun(g, spec);
  const weights = spec.exe?.weights ?? weightBuffers(p.params);
  const exe = spec.exe?.exe ?? batch.executable(i, weights);
  const feeds = Object.fromEntries([...p.inputs].map(([k, t]) => [k, fromHost(t)]));
  const c = exe.run(feeds, { dims: p.given });
  return { c, ref: p.ref.outputs, problems: compareRun(g, p, c, weights, spec.tol) };
}

/** Binds every dim the inputs determine (as the interpreter does), merged with `given`. */
export function fullDims(g: Graph, inputs: ReadonlyMap<string, HostTensor>, given: ReadonlyMap<string, number>) {
  return bindDims(g, new Map([...inputs].map(([k, t]) => [k, t.shape])), given);
}

/** A tensor over a copy of the first elements of `buf`. */
function fromBytes(dtype: Dtype, shape: number[], buf: ArrayBuffer): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(dtype, typedArray(dtype, n, buf, 0).slice(), shape);
}

const fmt = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));

/**
 * Compares C's values with the reference: dtypes and shapes equal; integers and bools exactly;
 * floats NaN exactly where the reference is NaN, infinities exactly (or the reference rounded to
 * the dtype, for values the dtype cannot hold), others within atol + rtol·|ref|.
 */
export function compare(
  what: string,
  got: HostTensor,
  want: HostTensor,
  f32Tol: Tol = OP_TOL,
  /** A second acceptable reference (see RunSpec.roundedAlt). */
  alt?: HostTensor,
): string[] {
  if (got.dtype !== want.dtype) return [`${what}: dtype ${got.dtype}, reference ${want.dtype}`];
  if (got.shape.length !== want.shape.length || got.shape.some((d, k) => d !== want.shape[k]))
    return [`${what}: shape [${got.shape.join(', ')}], reference [${want.shape.join(', ')}]`];
  const float = isFloat(want.dtype);
  const { rtol, atol } = tolFor(want.dtype, f32Tol);
  const bad: string[] = [];
  let count = 0;
  for (let k = 0; k < want.data.length; k++) {
    const a = got.data[k]!;
    const e = want.data[k]!;
    const close = (e: number): boolean => {
      if (!float) return a === e;
      if (Number.isNaN(e)) return Number.isNaN(a);
      if (Number.isNaN(a)) return false;
      if (a === roundTo(want.dtype, e)) return true;
      if (!Number.isFinite(e) || !Number.isFinite(a)) return a === e;
      return Math.abs(a - e) <= atol + rtol * Math.abs(e);
    };
    if (!close(e) && !(alt && close(alt.data[k]!))) {
      count++;
      if (bad.length < 6) bad.push(`[${k}] C ${fmt(a)} vs reference ${fmt(e)}`);
    }
  }
  return count === 0
    ? []
    : [`${what} (${want.dtype}[${want.shape.join(', ')}]): ${count} mismatches: ${bad.join('; ')}`];
}

/** Throws with the IR text when `problems` is not empty. */
export function assertClean(g: Graph, problems: readonly string[], context = ''): void {
  if (problems.length === 0) return;
  throw new Error(
    `C differs from the interpreter${context ? ` (${context})` : ''}:\n${problems.join('\n')}\n--- IR ---\n${printGraph(g)}`,
  );
}

/** Builds, runs and compares a list of graphs at one binding each; returns the problems by graph. */
export function checkGraphs(cases: readonly { readonly graph: Graph; readonly run?: RunSpec }[]): {
  batch: CBatch;
  results: RunResult[];
} {
  const batch = CBatch.build(cases.map((c) => c.graph));
  const results = cases.map((c, i) => runAndCompare(batch, i, c.run));
  return { batch, results };
}

/** A host tensor of `dtype` (values rounded to it). */
export const ht = (dtype: Dtype, shape: readonly number[], data: readonly number[]): HostTensor =>
  hostTensor(dtype, shape, data);
