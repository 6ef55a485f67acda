// The pipeline: the only list of which passes run, in which order, for each target and
// mode. `runPipeline` runs them on a Module, checks the IR after each (the verifier), and
// lets the caller see the graph after any pass (`fmc compile --dump-after`).

import type { Graph } from '../ir/graph.js';
import type { Module } from '../ir/module.js';
import { verify } from '../ir/verify.js';
import { autodiff } from './autodiff/index.js';
import { fusion } from './fusion/index.js';
import type { Mode, Pass, PassContext, PassOptions, Target } from './pass.js';
import { precision } from './precision.js';
import { qat } from './qat.js';
import { quantize } from './quantize.js';
import { simplify } from './simplify.js';
import { sparseUpdates } from './sparse-updates.js';
import { sparsity } from './sparsity.js';
import { trainStep } from './train/index.js';
import { lossScale } from './train/scale.js';

const PIPELINES: { readonly [T in Target]: { readonly [M in Mode]: readonly Pass[] } } = {
  reference: {
    inference: [precision, quantize],
    grad: [precision, autodiff, qat, simplify],
    train: [sparsity, precision, lossScale, autodiff, qat, trainStep, sparseUpdates, simplify],
    accumulate: [sparsity, precision, lossScale, autodiff, qat, trainStep, simplify],
  },
  c: {
    inference: [precision, quantize, sparsity, fusion],
    grad: [precision, autodiff, qat, simplify, fusion],
    train: [sparsity, precision, lossScale, autodiff, qat, trainStep, sparseUpdates, simplify, fusion],
    accumulate: [sparsity, precision, lossScale, autodiff, qat, trainStep, simplify, fusion],
  },
};

/** The passes that run for a target and mode, in order. */
export function passesFor(target: Target, mode: Mode): readonly Pass[] {
  return PIPELINES[target][mode];
}

/** Every pass name of any pipeline (what `--dump-after` accepts, besides `all` and `lower`). */
export function passNames(): string[] {
  const names = new Set<string>();
  for (const t of Object.values(PIPELINES)) for (const ps of Object.values(t)) for (const p of ps) names.add(p.name);
  return [...names].sort();
}

export interface PipelineOptions extends PassOptions {
  readonly target: Target;
  readonly mode: Mode;
  /** Called with the graph as lowered (`lower`) and after each pass. */
  readonly after?: (pass: string, graph: Graph) => void;
  /** Run the IR verifier after every pass (default true). */
  readonly verify?: boolean;
}

/**
 * `FMC_FUSION=off` in the environment turns the fusion pass's fusing off where the caller
 * did not choose (benchmarks of fusion on against off; the only variable the pipeline reads).
 */
function fusionFromEnv(): boolean {
  return process.env.FMC_FUSION !== 'off';
}

/** Runs the pipeline of `opts.target` and `opts.mode` on a module's graph. */
export function runPipeline(m: Module, opts: PipelineOptions): Module {
  const ctx: PassContext = {
    target: opts.target,
    mode: opts.mode,
    hints: m.hints,
    train: m.train,
    blocks: m.blocks,
    options: {
      wrt: opts.wrt,
      fusion: opts.fusion ?? fusionFromEnv(),
      quantize: opts.quantize,
      qat: opts.qat,
      calibration: opts.calibration,
      sparseTables: opts.sparseTables,
    },
  };
  opts.after?.('lower', m.graph);
  let graph = m.graph;
  for (const pass of passesFor(opts.target, opts.mode)) {
    graph = pass.run(graph, ctx);
    if (opts.verify ?? true) verify(graph);
    opts.after?.(pass.name, graph);
  }
  return { ...m, graph };
}
