// The measuring part of `fmc bench`, shared with the scripts under bench/: compile once,
// draw seeded inputs, time N runs of the compiled function (alternating with ONNX Runtime
// runs when asked, so that both see the same machine noise: turbo, other processes, cache
// state), check that the two agree, and optionally profile the kernels.

import { type CompiledModel, compileModel } from '../api/compile.js';
import { nodeFlops } from '../ir/cost.js';
import { type Graph, liveNodes } from '../ir/graph.js';
import { indexBound, randomInput } from '../ir/init.js';
import type { HostTensor } from '../ir/value.js';
import { planWeightBytes } from '../runtime/call.js';
import { fromHost, type Tensor } from '../runtime/tensor.js';
import { Executable } from '../runtime/executable.js';
import { withContention } from './bench-contend.js';
import { type Agreement, agreement, openOrt } from './bench-ort.js';
import { defaultDim, parsePrecision } from './model.js';

export interface Stats {
  readonly medianMs: number;
  readonly minMs: number;
  readonly p90Ms: number;
  /** FLOPs of one run over the median time. */
  readonly gflops: number;
}

export interface KernelTime {
  readonly kernel: string;
  /** Where the kernel came from (graph ops, block paths). */
  readonly note: string;
  readonly launches: number;
  /** Mean time per run. */
  readonly ms: number;
  /** Of the summed kernel time. */
  readonly share: number;
}

export interface MeasureOptions {
  readonly runs: number;
  readonly warmup: number;
  readonly threads: number;
  readonly vs?: 'onnxruntime';
  readonly profile?: boolean;
  /**
   * Fewer runs (at least minRuns) when runs × one run would take longer than this: lets a
   * script bench slow models without minutes per model. The CLI never sets it.
   */
  readonly budgetMs?: number;
  readonly minRuns?: number;
  /** Busy processes running beside the whole measurement (bench-contend.ts); 0 by default. */
  readonly contend?: number;
}

export interface BenchResult {
  readonly fn: string;
  readonly dims: Readonly<Record<string, number>>;
  readonly threads: number;
  /** Busy processes that ran beside the measurement (--contend). */
  readonly contend: number;
  readonly runs: number;
  readonly warmup: number;
  /** Sum of nodeFlops over the live graph at these dims (what `fmc inspect` counts). */
  readonly flops: number;
  /** Bytes of the function's bound params as stored (quantized and sparse ones compressed; panels packed from them not counted). */
  readonly weightBytes: number;
  readonly fmc: Stats;
  /** `threads`: ORT's intra-op threads, fmc's capped at one per core (ortThreads). */
  readonly ort?: Stats & { readonly exportMs: number; readonly sessionMs: number; readonly threads: number };
  /** ort median / fmc median: above 1, fmc is faster. */
  readonly ratio?: number;
  readonly agreement?: Agreement;
  readonly profile?: { readonly runs: number; readonly kernelMs: number; readonly top: readonly KernelTime[] };
}

/** Dims for a benchmark: the given ones, else 1 for a batch (B, N; latency) and defaultDim. */
export function benchDims(
  g: Graph,
  given: ReadonlyMap<string, number>,
): { dims: Map<string, number>; defaulted: string[] } {
  const dims = new Map(given);
  const defaulted: string[] = [];
  for (const d of g.dims)
    if (!dims.has(d)) {
      dims.set(d, d === 'B' || d === 'N' ? 1 : defaultDim(d));
      defaulted.push(`${d}=${dims.get(d)}`);
    }
  return { dims, defaulted };
}

/** The inputs `fmc run` draws for this seed (so a bench can be reproduced with run). */
export function benchInputs(g: Graph, dims: ReadonlyMap<string, number>, seed: number): Map<string, HostTensor> {
  return new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, seed, indexBound(g, n))]));
}

export function graphFlops(g: Graph, dims: ReadonlyMap<string, number>): number {
  return liveNodes(g).reduce((sum, n) => sum + nodeFlops(n, dims), 0);
}

export function stats(times: readonly number[], flops: number): Stats {
  const s = [...times].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  const p90 = s[Math.max(0, Math.ceil(0.9 * n) - 1)]!;
  return { medianMs: median, minMs: s[0]!, p90Ms: p90, gflops: flops / (median * 1e6) };
}

/**
 * Times the compiled model's first function on `inputs` (and ORT on the same, when asked),
 * with o.contend busy processes running throughout.
 */
export async function measure(
  compiled: CompiledModel,
  dims: ReadonlyMap<string, number>,
  inputs: ReadonlyMap<string, HostTensor>,
  o: MeasureOptions,
): Promise<BenchResult> {
  return withContention(o.contend ?? 0, () => measureRuns(compiled, dims, inputs, o));
}

async function measureRuns(
  compiled: CompiledModel,
  dims: ReadonlyMap<string, number>,
  inputs: ReadonlyMap<string, HostTensor>,
  o: MeasureOptions,
): Promise<BenchResult> {
  const g = compiled.lowered[0]!.graph;
  const exe = compiled.model.executable(g.name);
  exe.setThreads(o.threads);
  const bound = Object.fromEntries([...dims].filter(([k]) => g.dims.includes(k)));
  const tensors = Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)]));
  // The peer runs what fmc runs: the compiled graph (`@quantize` weights dequantized).
  const peerGraph = compiled.modules[0]?.graph ?? g;
  const peer = o.vs ? await openOrt(peerGraph, compiled.weights, inputs, o.threads) : undefined;
  try {
    let mine: Record<string, Tensor> = {};
    let theirs: Awaited<ReturnType<NonNullable<typeof peer>['run']>> = {};
    // C runs synchronously (timed as before), writing into the previous run's outputs (`outputs`:
    // no fresh output memory to fault in per run, as ORT's runs reuse theirs); WGSL until its
    // outputs are downloaded.
    const fmcRun = async (): Promise<number> => {
      const t = performance.now();
      mine =
        exe instanceof Executable
          ? exe.run(tensors, { dims: bound, outputs: mine })
          : await exe.runAsync(tensors, { dims: bound });
      return performance.now() - t;
    };
    const ortRun = async (): Promise<number> => {
      const t = performance.now();
      theirs = await peer!.run();
      return performance.now() - t;
    };
    let pair = 0;
    for (let i = 0; i < Math.max(o.warmup, o.budgetMs ? 1 : 0); i++)
      pair = (await fmcRun()) + (peer ? await ortRun() : 0);
    const runs = o.budgetMs ? Math.max(o.minRuns ?? 3, Math.min(o.runs, Math.floor(o.budgetMs / pair))) : o.runs;
    const fmcTimes: number[] = [];
    const ortTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Alternate which goes first, so neither always runs right after the other's cache damage.
      if (peer && i % 2 === 1) ortTimes.push(await ortRun());
      fmcTimes.push(await fmcRun());
      if (peer && i % 2 === 0) ortTimes.push(await ortRun());
    }
    const flops = graphFlops(g, dims);
    const fmc = stats(fmcTimes, flops);
    const base = {
      fn: g.name,
      dims: bound,
      threads: o.threads,
      contend: o.contend ?? 0,
      runs,
      warmup: o.warmup,
      flops,
      weightBytes: planWeightBytes(exe.plan),
      fmc,
    };
    const profile = o.profile ? profileKernels(compiled, tensors, bound, Math.min(runs, 10)) : undefined;
    if (!peer) return { ...base, ...(profile ? { profile } : {}) };
    const ort = {
      ...stats(ortTimes, flops),
      exportMs: peer.exportMs,
      sessionMs: peer.sessionMs,
      threads: peer.threads,
    };
    const agree = agreement(
      g.outputs.map((x) => x.name),
      mine,
      theirs,
    );
    return { ...base, ort, ratio: ort.medianMs / fmc.medianMs, agreement: agree, ...(profile ? { profile } : {}) };
  } finally {
    await peer?.release();
  }
}

/** Per-kernel time from the runtime's per-launch timings, summed over launches of a kernel. */
function profileKernels(
  compiled: CompiledModel,
  tensors: Record<string, Tensor>,
  dims: Record<string, number>,
  runs: number,
): NonNullable<BenchResult['profile']> {
  const exe = compiled.model.executable(compiled.lowered[0]!.graph.name);
  if (!(exe instanceof Executable)) throw new Error('internal: kernel timings are measured on the C target only');
  const { kernels, launches } = exe.plan;
  const timings = new Float64Array(launches.length);
  const total = new Float64Array(kernels.length);
  const count = new Array<number>(kernels.length).fill(0);
  for (const l of launches) count[l.kernel]!++;
  for (let r = 0; r < runs; r++) {
    exe.run(tensors, { dims, timings });
    launches.forEach((l, i) => (total[l.kernel] = total[l.kernel]! + timings[i]!));
  }
  const kernelNs = total.reduce((a, b) => a + b, 0);
  const top = [...total.keys()]
    .sort((a, b) => total[b]! - total[a]!)
    .slice(0, 5)
    .map((k) => ({
      kernel: kernels[k]!.name,
      note: kernels[k]!.note,
      launches: count[k]!,
      ms: total[k]! / runs / 1e6,
      share: kernelNs > 0 ? total[k]! / kernelNs : 0,
    }));
  return { runs, kernelMs: kernelNs / runs / 1e6, top };
}

export interface BenchSourceOptions extends MeasureOptions {
  readonly model?: string;
  readonly fn?: string;
  readonly dims?: ReadonlyMap<string, number>;
  readonly seed?: number;
  /** Hyperparameter overrides (as CompileOptions.set). */
  readonly set?: Readonly<Record<string, number | boolean | string>>;
  /** `--precision f32|f16|bf16`: overrides the model's `@precision` (as CompileOptions.precision). */
  readonly precision?: string;
}

/** For scripts: compile a file or source text, then measure; the compile time comes apart. */
export async function benchSource(
  pathOrSource: string,
  o: BenchSourceOptions,
): Promise<{ model: string; compileMs: number; result: BenchResult }> {
  const seed = o.seed ?? 0;
  const t0 = performance.now();
  const compiled = compileModel(pathOrSource, {
    model: o.model,
    fns: [o.fn ?? 'forward'],
    seed,
    threads: o.threads,
    set: o.set,
    precision: parsePrecision(o.precision),
  });
  const compileMs = performance.now() - t0;
  const g = compiled.lowered[0]!.graph;
  const { dims } = benchDims(g, o.dims ?? new Map());
  const result = await measure(compiled, dims, benchInputs(g, dims, seed), o);
  return { model: compiled.model.name, compileMs, result };
}
