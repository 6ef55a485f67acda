// load() of a CUDA module (plan.json's "target": "cuda"). Each function's CUDA program was
// checked by load.ts as a C source is (the sha256 plan.json records for it, and the sha256 of
// its plan in its first line); here it is compiled by NVRTC through the private hashed cache
// for this machine's GPU (buildCudaExecutable), as compile() does: no PTX or CUBIN is ever read
// from the folder. Its kernels are `fmc_k<i>` (the CUDA dialect's names) with the plan's grids,
// and how each uses its arguments is sources[fn].kernels (as a WGSL module records it).
// With a train step, the functions share one set of device copies of the weights, which stay
// on the GPU between steps (the trainer's sync brings the host copies up to date).

import { isDtype } from '../ir/dtype.js';
import type { Plan } from '../kernels/plan.js';
import type { CudaMemory } from '../runtime/cuda-device.js';
import { type CompiledCuda, buildCudaExecutable } from '../runtime/cuda-program.js';
import { GpuWeights } from '../runtime/gpu-weights.js';
import { Model } from '../runtime/model.js';
import { PlanFormatError } from '../runtime/plan-json.js';
import type { ReadManifest } from './manifest.js';
import type { KernelArgument } from './module-names.js';

/** A function of the module as load.ts read and checked it. */
export interface CheckedSource {
  readonly fn: string;
  readonly plan: Plan;
  /** The bytes whose sha256 the source's first line holds. */
  readonly planJson: string;
  readonly source: string;
}

type J = Record<string, unknown>;
const isObject = (v: unknown): v is J => !!v && typeof v === 'object' && !Array.isArray(v);
const ACCESS: readonly unknown[] = ['read', 'write', 'readwrite'];

/** The plan with each kernel's arguments as sources[fn].kernels records them (plan.json's kernels have no bodies). */
function withArguments(plan: Plan, entry: unknown, file: string): Plan {
  const bad = (what: string) => new PlanFormatError(`${file}: ${what} of '${plan.name}'`);
  if (!Array.isArray(entry) || entry.length !== plan.kernels.length) throw bad('no valid kernel list');
  const kernels = plan.kernels.map((k, i) => {
    const e: unknown = entry[i];
    const params = isObject(e) && Array.isArray(e.params) ? (e.params as unknown[]) : undefined;
    if (!params?.every((p) => isObject(p) && ACCESS.includes(p.access) && isDtype(p.dtype as string)))
      throw bad(`no valid arguments for kernel ${i}`);
    if (!k.grid) throw bad(`no grid for kernel ${i}`);
    const args = (params as KernelArgument[]).map(({ access, dtype }) => ({ access, dtype }));
    return { ...k, params: args };
  });
  for (const l of plan.launches)
    if (l.args.length !== kernels[l.kernel]!.params.length)
      throw bad(`a launch of kernel ${l.kernel} that does not fit its arguments`);
  return { ...plan, kernels };
}

/** The CUDA program of a checked function, as generateCuda gave it (origins: the kernels' notes). */
function compiledCuda(f: CheckedSource, entry: unknown, file: string): CompiledCuda {
  const plan = withArguments(f.plan, entry, file);
  const kernels = plan.kernels.map((k, i) => ({ name: `fmc_k${i}`, workgroup: k.grid!.workgroup, grid: k.grid! }));
  return { plan, planJson: f.planJson, source: f.source, kernels, origins: plan.kernels.map((k) => k.note) };
}

/** A CUDA module's Model on this machine's GPU (a CudaError naming libcuda.so.1 where there is none). */
export function loadCuda(
  manifest: ReadManifest,
  fns: readonly CheckedSource[],
  { weights, train }: { weights: ReadonlyMap<string, ArrayBuffer>; train: ReadManifest['train'] },
  opts: { readonly cacheDir?: string; readonly manifestFile: string },
): Model {
  const programs = fns.map((f, i) => compiledCuda(f, manifest.fns[i]![2].kernels, opts.manifestFile));
  const shared = train ? new GpuWeights<CudaMemory>(weights, 'device') : undefined;
  const cache = opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {};
  const exes = new Map(programs.map((p) => [p.plan.name, buildCudaExecutable(p, weights, cache, shared)]));
  return new Model(manifest.model, exes, train && { ...train, buffers: weights, set: manifest.set ?? {} });
}
