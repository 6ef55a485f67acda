// The ONNX Runtime side of `fmc bench --vs onnxruntime`: the same graph exported with the
// same weights (in memory), a session set up like fmc's runtime (N intra-op threads, one
// inter-op, sequential, every graph optimization), and the check that both runtimes computed
// the same thing, since a fast but wrong result must not pass as a win.

import { availableParallelism } from 'node:os';
import type * as Ort from 'onnxruntime-node';
import { exportOnnx } from '../export/onnx.js';
import { toOrt } from '../export/ort-tensors.js';
import type { Graph } from '../ir/graph.js';
import type { HostTensor } from '../ir/value.js';
import type { Tensor } from '../runtime/tensor.js';
import { CliError } from './model.js';

export interface OrtPeer {
  /** One inference on the bench inputs. */
  run(): Promise<Record<string, Ort.Tensor>>;
  readonly exportMs: number;
  readonly sessionMs: number;
  /** Its intra-op threads (ortThreads of fmc's). */
  readonly threads: number;
  release(): Promise<void>;
}

/**
 * ONNX Runtime's intra-op threads for fmc's `threads`: the same, but at most one per core
 * (availableParallelism). ORT starts every one of them as an OS thread, so the 65536 that
 * `--threads` allows gave no result within a minute; fmc's pool makes do with fewer.
 */
export const ortThreads = (threads: number): number => Math.max(1, Math.min(threads, availableParallelism()));

/**
 * onnxruntime-node, an optional peer dependency: only `--vs onnxruntime` needs it, so a
 * missing one is a clear error that says how to add it.
 */
async function loadOrt(): Promise<typeof Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw e;
    throw new CliError(
      '--vs onnxruntime needs the onnxruntime-node package, an optional peer dependency of fmc: npm install onnxruntime-node',
    );
  }
}

/** Exports `g` with `weights` and opens a session with fmc's thread setup. */
export async function openOrt(
  g: Graph,
  weights: ReadonlyMap<string, HostTensor>,
  inputs: ReadonlyMap<string, HostTensor>,
  threads: number,
): Promise<OrtPeer> {
  const ort = await loadOrt();
  const t0 = performance.now();
  const bytes = exportOnnx(g, weights, { producerVersion: '0.1.0' });
  const t1 = performance.now();
  const intra = ortThreads(threads);
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: intra,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    logSeverityLevel: 3, // errors only: ORT's notes about dropped initializers are noise here
    // ORT's idle threads spin after each run by default; with runs alternating, that takes
    // a core from the next fmc run (1024³ GEMM: fmc 26 against 43 GFLOP/s). Without spinning
    // ORT itself measured as fast or faster here (54–57 against 46–47 GFLOP/s).
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const sessionMs = performance.now() - t1;
  const feeds = Object.fromEntries([...inputs].map(([k, t]) => [k, toOrt(ort, t)]));
  // From the second run on, ORT writes into the previous run's outputs (preallocated fetches),
  // as fmc's runs reuse theirs (bench-measure.ts): neither side allocates outputs per run.
  let fetches: Record<string, Ort.Tensor> | undefined;
  return {
    run: async () => {
      const out = fetches ? await session.run(feeds, fetches) : await session.run(feeds);
      fetches ??= out;
      return out;
    },
    exportMs: t1 - t0,
    sessionMs,
    threads: intra,
    release: () => session.release(),
  };
}

export interface Agreement {
  readonly ok: boolean;
  readonly rtol: number;
  readonly atol: number;
  /** Largest |fmc - ort| over every output element. */
  readonly worstAbs: number;
  /** The element furthest beyond the allowance atol + rtol·|ort| (or the worst one when all pass). */
  readonly worst?: { readonly output: string; readonly index: number; readonly fmc: number; readonly ort: number };
  /** Set when an output is missing or has another shape. */
  readonly problem?: string;
}

/** Compares the outputs element by element with ORT's as the expected values. */
export function agreement(
  names: readonly string[],
  fmc: Readonly<Record<string, Tensor>>,
  ort: Readonly<Record<string, Ort.Tensor>>,
  rtol = 1e-3,
  atol = 1e-4,
): Agreement {
  let worstAbs = 0;
  let excess = -Infinity;
  let worst: Agreement['worst'];
  for (const name of names) {
    const a = fmc[name];
    const e = ort[name];
    if (!a || !e) return { ok: false, rtol, atol, worstAbs, problem: `output '${name}' is missing` };
    if (a.dims.length !== e.dims.length || a.dims.some((d, i) => d !== e.dims[i]))
      return {
        ok: false,
        rtol,
        atol,
        worstAbs,
        problem: `output '${name}' is [${a.dims.join(', ')}] in fmc, [${e.dims.join(', ')}] in onnxruntime`,
      };
    const ad = a.data as ArrayLike<number | bigint>;
    const ed = e.data as ArrayLike<number | bigint>;
    for (let i = 0; i < ad.length; i++) {
      const x = Number(ad[i]);
      const y = Number(ed[i]);
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      const diff = x === y ? 0 : Math.abs(x - y); // equal infinities differ by 0, not NaN
      const over = Number.isNaN(diff) ? Infinity : diff - (atol + rtol * Math.abs(y));
      if (!(diff <= worstAbs)) worstAbs = Number.isNaN(diff) ? Infinity : diff;
      if (over > excess) {
        excess = over;
        worst = { output: name, index: i, fmc: x, ort: y };
      }
    }
  }
  return { ok: excess <= 0, rtol, atol, worstAbs, ...(worst ? { worst } : {}) };
}
