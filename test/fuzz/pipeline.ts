// One fuzz case through the whole pipeline: check (no diagnostics expected), lowering of every
// model function (lowerFile), the C target's pass pipeline (inference, and grad where a
// function returns a float scalar), the reference interpreter, and the C target, whose
// outputs, gradients and buffer updates are compared with the reference at the documented
// tolerances (f32: rtol 1e-3, atol 1e-4 through whole programs; integers and bools exactly;
// programs that compute in f16/bf16 somewhere at those formats' tolerances). A graph is
// compared only where every reference output is finite (NNSmith-style); others are counted as
// skipped.
//
// The C stage is batched: the functions of many cases are lowered to plans whose kernels are
// renamed and rendered into one C file, built once through the compile cache.

import * as path from 'node:path';
import { renderC } from '../../src/codegen/c.js';
import { renderDiagnostic } from '../../src/frontend/diagnostics.js';
import { lowerFile } from '../../src/frontend/lower.js';
import { type Host, nodeHost } from '../../src/frontend/program.js';
import { type Dtype, isFloat } from '../../src/ir/dtype.js';
import type { Graph } from '../../src/ir/graph.js';
import { EvalError, concreteShape, evaluate } from '../../src/ir/interp.js';
import type { Kernel } from '../../src/ir/kernel.js';
import { printGraph } from '../../src/ir/print.js';
import { type HostTensor, roundTo } from '../../src/ir/value.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import type { Plan } from '../../src/kernels/plan.js';
import { C_FLAGS, compileC } from '../../src/runtime/cache.js';
import { piped, seededWeights, weightBuffers } from '../../src/runtime/compile.js';
import { Executable, RunError } from '../../src/runtime/executable.js';
import { native } from '../../src/runtime/native.js';
import { Tensor, fromHost, toHost, typedArray } from '../../src/runtime/tensor.js';
import { type FuzzProgram, printProgram } from './gen.js';
import { Rng } from './rng.js';
import { tieGraph, topkRotations } from './ties.js';
import { testCacheDir } from '../tmp-cache.js';

const ROOT = path.resolve(import.meta.dirname, '../..').replace(/\/dist$/, '');

/** The fuzzer's private compile cache (the test and `npm run fuzz` share it). */
export const CACHE_DIR = testCacheDir('fmc-fuzz');

export type Stage =
  | 'check'
  | 'lower'
  | 'passes'
  | 'reference'
  | 'c-lower'
  | 'c-compile'
  | 'c-run'
  | 'compare'
  | 'wgsl-compile'
  | 'wgsl-run'
  | 'wgsl-compare';
/**
 * The C flags of a case: the shipped ones (C_FLAGS: -O3 -march=native) on every
 * `shippedEvery`-th seed, the same with -O0 on the others. The -O3 compile is most of a case's
 * time (about 7 times the -O0 one); the source is the same, so -O0 checks the kernels'
 * semantics and the shipped share what the optimizer makes of them (a gcc miscompile, or
 * undefined behaviour it exploits). By seed, so a replay builds with the same flags.
 */
export function cFlags(seed: number, shippedEvery: number): readonly string[] {
  return seed % shippedEvery === 0 ? C_FLAGS : QUICK_FLAGS;
}
export const QUICK_FLAGS: readonly string[] = C_FLAGS.map((f) => (f === '-O3' ? '-O0' : f));
export const flagsText = (flags: readonly string[]): string => flags.filter((f) => /^-(O|march)/.test(f)).join(' ');

export type FailureKind = 'diagnostic' | 'crash' | 'hang' | 'mismatch';

export interface Failure {
  readonly kind: FailureKind;
  readonly stage: Stage;
  /** The compiled function (`loss_grad`), where one is concerned. */
  readonly fn?: string;
  readonly message: string;
}

export interface Tol {
  readonly rtol: number;
  readonly atol: number;
}
/** Whole programs, f32 (docs/ir.md). */
export const F32_TOL: Tol = { rtol: 1e-3, atol: 1e-4 };
/** Programs that compute in f16 (short chains round every node on the reference, fused in f32 on C). */
export const F16_TOL: Tol = { rtol: 1e-2, atol: 1e-2 };
export const BF16_TOL: Tol = { rtol: 5e-2, atol: 5e-2 };

type Ref = { outputs: Map<string, HostTensor>; updates: Map<string, HostTensor> };

/** One call of a compiled function: the reference's values at a binding of the dims. */
export interface Run {
  readonly dims: Map<string, number>;
  readonly inputs: Map<string, HostTensor>;
  /** The params and buffers as this call sees them (earlier calls' `set` updates applied). */
  readonly params: Map<string, HostTensor>;
  /** The reference's values, or its run-time error (an empty axis indexed): C must fail too. */
  readonly ref: Ref | string;
  /** A reference output is not finite: the call runs on C but is not compared. */
  readonly skip: boolean;
}

export interface GraphCase {
  readonly fn: string;
  readonly graph: Graph;
  /** The initial params and buffers. */
  readonly params: Map<string, HostTensor>;
  /** One call, or two where the function has dim variables (the second at `dims2`, same executable). */
  readonly runs: Run[];
}

export interface Prepared {
  readonly program: FuzzProgram;
  readonly text: string;
  /** Graphs whose reference is finite, to compare on C. */
  readonly graphs: GraphCase[];
  readonly failures: Failure[];
  /** Calls not compared because a reference output is not finite. */
  nonFinite: number;
  /** Graphs compared on C (at one or two bindings). */
  compared: number;
  /** Graphs compared on WGSL (test/fuzz/wgsl.ts), and how many of them have an i64 value outside i32 (exact there too). */
  comparedWgsl?: number;
  wideI64?: number;
  readonly tol: Tol;
}

export type OnStage = (stage: Stage) => void;

/** A host that serves the program from memory and everything else (std) from disk. */
function memHost(abs: string, text: string): Host {
  const bytes = Buffer.from(text, 'utf8');
  return { read: (p) => (p === abs ? bytes : nodeHost.read(p)), display: (p) => path.relative(ROOT, p) };
}

const errorText = (e: unknown): string =>
  e instanceof Error ? `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 8).join('\n')}` : String(e);

/** Inputs drawn from the program's ranges (floats uniform, integers uniform, bools 0/1). */
function drawInputs(
  p: FuzzProgram,
  fn: string,
  g: Graph,
  dims: ReadonlyMap<string, number>,
  call: number,
): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const n of g.inputs) {
    const { name, dtype } = n.args;
    const spec = p.inputs[`${fn}.${name}`] ?? { lo: -1, hi: 1 };
    const shape = concreteShape(n.args.shape, dims);
    const r = new Rng(p.seed, `input:${fn}:${name}:${call}`);
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      if (isFloat(dtype)) data[i] = roundTo(dtype, spec.lo + (spec.hi - spec.lo) * r.float());
      else data[i] = r.range(spec.lo, spec.hi);
    }
    out.set(name, { dtype, shape, data });
  }
  return out;
}

function finite(r: Ref): boolean {
  for (const t of [...r.outputs.values(), ...r.updates.values()])
    if (isFloat(t.dtype) && !t.data.every((x) => Number.isFinite(x))) return false;
  return true;
}

/** The front half of a case: check, lower, passes, reference. Failures are recorded, never thrown. */
export function prepare(p: FuzzProgram, onStage: OnStage = () => {}): Prepared {
  const text = printProgram(p);
  const tol = p.lowp === 'bf16' ? BF16_TOL : p.lowp === 'f16' ? F16_TOL : F32_TOL;
  const out: Prepared = { program: p, text, graphs: [], failures: [], nonFinite: 0, compared: 0, tol };
  const file = path.join(ROOT, `fuzz-${p.seed}.fm`);
  const host = memHost(file, text);
  let stage: Stage = 'check';
  let fn: string | undefined;
  try {
    const dims = new Map(Object.entries(p.dims));
    const dims2 = new Map(Object.entries(p.dims2));
    for (const f of p.model.fns) {
      fn = f.name;
      // lowerFile checks the program first (its diagnostics are the check stage's) and then
      // lowers (FM08xx: the lowering stage's).
      stage = 'check';
      onStage(stage);
      const r = lowerFile(file, { fn: f.name }, host);
      stage = 'lower';
      if (!r.ok) {
        const lookup = (x: string) => r.program.source(x);
        const errors = r.diagnostics.filter((d) => d.severity === 'error');
        out.failures.push({
          kind: 'diagnostic',
          stage: errors.some((d) => d.code.startsWith('FM08')) ? 'lower' : 'check',
          fn: f.name,
          message: errors.map((d) => renderDiagnostic(d, lookup)).join('\n'),
        });
        return out;
      }
      const l = r.lowered;
      const scalar = l.graph.outputs.length === 1 && l.graph.outputs[0]!.node.type.shape.length === 0;
      const floatOut = scalar && isFloat(l.graph.outputs[0]!.node.type.dtype);
      const modes = floatOut ? (['inference', 'grad'] as const) : (['inference'] as const);
      const params = seededWeights(l, p.seed, dims);
      const bindings = l.graph.dims.length > 0 ? [dims, dims2] : [dims];
      const inputs = bindings.map((b, k) => drawInputs(p, f.name, l.graph, b, k));
      for (const mode of modes) {
        stage = 'passes';
        fn = mode === 'grad' ? `${f.name}_grad` : f.name;
        onStage(stage);
        const m = piped(l, { mode });
        stage = 'reference';
        onStage(stage);
        const runs: Run[] = [];
        let now = params;
        for (const [k, b] of bindings.entries()) {
          let ref: Ref | string;
          try {
            ref = evaluate(m.graph, { inputs: inputs[k]!, params: now, dims: b });
          } catch (e) {
            // A run-time error is legitimate only where the checker could not see it: with
            // the second binding's empty batch or sequence.
            if (!(e instanceof EvalError) || k === 0 || ![...b.values()].includes(0)) throw e;
            ref = e.message;
          }
          const skip = typeof ref !== 'string' && !finite(ref);
          if (skip) out.nonFinite++;
          runs.push({ dims: b, inputs: inputs[k]!, params: now, ref, skip });
          if (typeof ref !== 'string') now = new Map([...now, ...ref.updates]);
        }
        if (runs.some((x) => !x.skip)) out.graphs.push({ fn, graph: m.graph, params, runs });
      }
    }
  } catch (e) {
    out.failures.push({ kind: 'crash', stage, ...(fn ? { fn } : {}), message: errorText(e) });
  }
  return out;
}

export interface COptions {
  readonly cacheDir: string;
  readonly onStage?: (seed: number, stage: Stage) => void;
  /** Kernel threads (default 1: deterministic and cheap on small tensors). */
  readonly threads?: number;
  /** The C compiler flags (default: the shipped C_FLAGS). */
  readonly flags?: readonly string[];
}

/** The C half of a batch of cases: build one library for all their graphs, run and compare. */
export function runC(cases: readonly Prepared[], opts: COptions): void {
  const live = cases.filter((c) => c.graphs.length > 0);
  if (live.length === 0) return;
  const flags = opts.flags ?? C_FLAGS;
  const builtWith = `C built with ${flagsText(flags)}`;
  const plans: { c: Prepared; g: GraphCase; plan: Plan }[] = [];
  for (const c of live) {
    opts.onStage?.(c.program.seed, 'c-lower');
    const ok: { c: Prepared; g: GraphCase; plan: Plan }[] = [];
    try {
      for (const g of c.graphs) ok.push({ c, g, plan: lowerGraph(g.graph) });
      plans.push(...ok);
    } catch (e) {
      c.failures.push({ kind: 'crash', stage: 'c-lower', fn: c.graphs[ok.length]?.fn, message: errorText(e) });
    }
  }
  if (plans.length === 0) return;
  const kernels: Kernel[] = [];
  const merged = plans.map(({ plan }, gi) => {
    const base = kernels.length;
    for (const k of plan.kernels) kernels.push({ ...k, name: `g${gi}_${k.name}` });
    return { ...plan, launches: plan.launches.map((l) => ({ ...l, kernel: l.kernel + base })) };
  });
  const seeds = [...new Set(plans.map((x) => x.c.program.seed))];
  let lib;
  try {
    for (const s of seeds) opts.onStage?.(s, 'c-compile');
    const source = renderC(kernels, `fmc fuzz ${seeds.join(' ')}`);
    const built = compileC(source, { cacheDir: opts.cacheDir, flags });
    lib = native().loadLibrary(built.path);
    if (lib.kernelCount !== kernels.length)
      throw new Error(`library has ${lib.kernelCount} kernels, expected ${kernels.length}`);
    lib.setThreads(opts.threads ?? 1);
  } catch (e) {
    const owners = [...new Set(plans.map((x) => x.c))];
    if (owners.length > 1) {
      for (const c of owners) runC([c], opts);
      return;
    }
    owners[0]!.failures.push({ kind: 'crash', stage: 'c-compile', message: `${errorText(e)}\n(${builtWith})` });
    return;
  }
  plans.forEach(({ c, g }, i) => {
    opts.onStage?.(c.program.seed, 'c-run');
    try {
      const weights = weightBuffers(g.params);
      const exe = new Executable(merged[i]!, lib, weights);
      for (const [k, run] of g.runs.entries()) {
        const problems = callAndCompare(exe, weights, g.graph, run, c.tol);
        if (problems.length > 0) {
          const at =
            g.runs.length > 1
              ? ` (call ${k + 1} of ${g.runs.length}, dims ${JSON.stringify(Object.fromEntries(run.dims))})`
              : '';
          c.failures.push({
            kind: 'mismatch',
            stage: 'compare',
            fn: g.fn,
            message: `${problems.join('\n')}${at}\n(${builtWith})\n--- IR ---\n${printGraph(g.graph)}`,
          });
          break;
        }
      }
      c.compared++;
    } catch (e) {
      c.failures.push({ kind: 'crash', stage: 'c-run', fn: g.fn, message: `${errorText(e)}\n(${builtWith})` });
    }
  });
}

/** Calls `exe` at a run's binding and compares outputs and buffer updates with the reference. */
function callAndCompare(exe: Executable, weights: Map<string, ArrayBuffer>, g: Graph, run: Run, tol: Tol): string[] {
  let got;
  try {
    got = exe.run(feedsOf(run), { dims: Object.fromEntries(run.dims) });
  } catch (e) {
    if (typeof run.ref === 'string' && e instanceof RunError) return [];
    throw e;
  }
  return compareCall(got, weights, g, run, tol);
}

/** A run's inputs as tensors. */
export const feedsOf = (run: Run): Record<string, Tensor> =>
  Object.fromEntries([...run.inputs].map(([k, t]) => [k, fromHost(t)]));

/** A target's outputs of a run and its weights after it (updates), compared with the reference. */
export function compareCall(
  got: Readonly<Record<string, Tensor>>,
  weights: ReadonlyMap<string, ArrayBuffer>,
  g: Graph,
  run: Run,
  tol: Tol,
  target = 'C',
): string[] {
  const ref = run.ref;
  if (typeof ref === 'string') return [`${target} ran where the reference failed: ${ref}`];
  if (run.skip) return [];
  // A second chance against the unrounded reference (C fuses f16/bf16 chains in f32), computed
  // when needed; and the reference on float inputs and weights shaken by a millionth, to tell
  // ill-conditioned elements (a sum that cancels to rounding noise, then normalized or
  // compared), which are not compared, as non-finite ones are not.
  let alt: Ref | undefined;
  let shaken: (Ref | null)[] | undefined;
  const check = (
    what: string,
    t: HostTensor,
    want: HostTensor,
    altOf: (r: Ref) => HostTensor | undefined,
  ): string[] => {
    const first = compare(what, t, want, tol);
    if (first.length === 0) return first;
    // Shaken both ways: a value that is rounding noise takes the sign of the shake, so one of
    // the two differs from the reference wherever a compare or a normalization amplifies it.
    // Three sizes: noise that is zero or not by the low bits of a value (the variance of a
    // row expanded 3 times is 0 only where fl(fl(3x) / 3) = x; C's log is 1 ulp off
    // Math.log there: seed 1008203) shows in one shake of two only about half the time.
    // And comparisons at a tie decided both ways (ties.ts).
    shaken ??= [
      ...[1, -1, 2, -2, 3, -3].map(
        (sign) => () =>
          evaluate(g, { inputs: shake(run.inputs, sign), params: shake(run.params, sign), dims: run.dims }),
      ),
      ...[
        ...[true, false].map((answer) => [answer, 0] as const),
        ...topkRotations(g).map((r) => [true, r] as const),
      ].map(([answer, rotate]) => () => {
        const h = tieGraph(g, answer, rotate);
        return h ? evaluate(h, { inputs: run.inputs, params: run.params, dims: run.dims }) : null;
      }),
    ].map((reference) => {
      try {
        return reference();
      } catch {
        return null;
      }
    });
    const unstable = shaken.flatMap((r) => (r ? [altOf(r)] : [])).filter((x): x is HostTensor => !!x);
    if (!isFloat(want.dtype)) return compare(what, t, want, tol, undefined, unstable);
    alt ??= evaluate(g, { inputs: run.inputs, params: run.params, dims: run.dims }, { precision: 'float64' });
    return compare(what, t, want, tol, altOf(alt), unstable);
  };
  const problems: string[] = [];
  for (const o of g.outputs) {
    const t = got[o.name];
    if (!t) problems.push(`output '${o.name}' missing`);
    else
      problems.push(...check(`output '${o.name}'`, toHost(t), ref.outputs.get(o.name)!, (r) => r.outputs.get(o.name)));
  }
  // Updates: the weight buffer now holds the new value (the last update of a path wins).
  for (const p of new Set(g.updates.map((u) => u.path))) {
    const want = ref.updates.get(p)!;
    const t = new Tensor(want.dtype, typedArray(want.dtype, want.data.length, weights.get(p)!, 0).slice(), [
      ...want.shape,
    ]);
    problems.push(...check(`update '${p}'`, toHost(t), want, (r) => r.updates.get(p)));
  }
  return problems;
}

const fmt = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));

/** Two reference values that agree: integers and bools exactly, floats within tol (NaN with NaN, ±Inf with itself). */
function sameValue(float: boolean, a: number, b: number, tol: Tol): boolean {
  if (!float || !Number.isFinite(a) || !Number.isFinite(b)) return Object.is(a, b) || a === b;
  return Math.abs(a - b) <= tol.atol + tol.rtol * Math.abs(a);
}

/** Float tensors with every element scaled by 1 + sign·e, |e| ≤ 1e-6 (deterministic; sign ±1, ±2, ±3); others as they are. */
function shake(m: ReadonlyMap<string, HostTensor>, sign: number): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [k, t] of m) {
    if (!isFloat(t.dtype)) {
      out.set(k, t);
      continue;
    }
    const data = Float64Array.from(t.data, (v, i) =>
      roundTo(t.dtype, v * (1 + sign * 1e-6 * ((((i + 1) * 2654435761) % 2001) / 1000 - 1))),
    );
    out.set(k, { dtype: t.dtype, shape: [...t.shape], data });
  }
  return out;
}

/**
 * C against the reference: same dtype and shape; integers and bools exactly; floats within tol
 * (or equal after rounding), or within tol of `alt`. An element where one of `unstable` (the
 * reference on slightly shaken inputs) is not the reference's value is ill-conditioned and not
 * compared.
 */
export function compare(
  what: string,
  got: HostTensor,
  want: HostTensor,
  tol: Tol,
  alt?: HostTensor,
  unstable: readonly HostTensor[] = [],
): string[] {
  if (got.dtype !== want.dtype) return [`${what}: dtype ${got.dtype}, reference ${want.dtype}`];
  if (got.shape.length !== want.shape.length || got.shape.some((d, k) => d !== want.shape[k]))
    return [`${what}: shape [${got.shape.join(', ')}], reference [${want.shape.join(', ')}]`];
  const float = isFloat(want.dtype);
  const bad: string[] = [];
  let count = 0;
  for (let k = 0; k < want.data.length; k++) {
    const a = got.data[k]!;
    const close = (e: number): boolean => {
      if (!float) return a === e;
      if (Number.isNaN(e)) return Number.isNaN(a);
      if (Number.isNaN(a)) return false;
      if (a === roundTo(want.dtype as Dtype, e)) return true;
      if (!Number.isFinite(e) || !Number.isFinite(a)) return a === e;
      return Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e);
    };
    if (unstable.some((u) => !sameValue(float, want.data[k]!, u.data[k]!, tol))) continue;
    if (!close(want.data[k]!) && !(alt && close(alt.data[k]!))) {
      count++;
      if (bad.length < 6) bad.push(`[${k}] C ${fmt(a)} vs reference ${fmt(want.data[k]!)}`);
    }
  }
  return count === 0
    ? []
    : [`${what} (${want.dtype}[${want.shape.join(', ')}]): ${count} mismatches: ${bad.join('; ')}`];
}

/** Prepares and runs one case on its own (the shrinker's oracle). */
export function runCase(p: FuzzProgram, opts: COptions): Prepared {
  const c = prepare(p);
  if (c.failures.length === 0) runC([c], opts);
  return c;
}
