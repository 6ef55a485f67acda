// Runs Plans lowered for a GPU (lowerGraph target 'gpu', grids bound) on the CUDA CPU shim:
// each plan rendered by renderCudaProgram, several plans compiled into one binary (shim.ts),
// launched in plan order with the contract's grid (ceil(invocations / workgroup) blocks as
// x = min(blocks, 65535), y = ceil(blocks / x), as the GPU runtimes dispatch), the buffers the
// run does not give (outputs, transients) filled with 0xff bytes first (so a kernel that reads
// memory nothing wrote shows), params written back after the run and buffer updates (`set`)
// applied, in each thread order asked for.

import { renderCudaProgram } from '../../src/codegen/cuda.js';
import { type Dim, dimConst, dimConstValue, dimSubst } from '../../src/ir/dims.js';
import type { HostTensor } from '../../src/ir/value.js';
import type { Plan } from '../../src/kernels/plan.js';
import { weightBuffers } from '../../src/runtime/compile.js';
import { Tensor, fromHost, typedArray } from '../../src/runtime/tensor.js';
import { evalGrid } from '../wgsl/run-plan.js';
import { ShimBinary, type ShimJob, type ShimLaunch, type ThreadOrder } from './shim.js';

const BYTES: Record<string, number> = { f32: 4, i32: 4, i64: 8, f16: 2, bf16: 2, i8: 1, i4: 1, bool: 1 };
const MAX_BLOCKS = 65535;

function evalDim(d: Dim, dims: ReadonlyMap<string, number>): number {
  const v = dimConstValue(dimSubst(d, new Map([...dims].map(([k, n]) => [k, dimConst(n)]))));
  if (v === undefined) throw new Error('unbound dim');
  return v;
}

/** What a plan's run gives back: its outputs and the weights as the run left them. */
export interface ShimPlanResult {
  readonly order: ThreadOrder;
  readonly outputs: Record<string, Tensor>;
  readonly weights: Map<string, ArrayBuffer>;
}

/** The values of one run: every dim bound, the inputs and params by name and path. */
export interface ShimPlanRun {
  readonly dims: ReadonlyMap<string, number>;
  readonly inputs: ReadonlyMap<string, HostTensor>;
  readonly params: ReadonlyMap<string, HostTensor>;
}

/** Several plans compiled into one shim binary. */
export class ShimPlans {
  private constructor(
    readonly plans: readonly Plan[],
    private readonly rendered: readonly ReturnType<typeof renderCudaProgram>[],
    readonly binary: ShimBinary,
  ) {}

  /**
   * `edit` rewrites plan i's CUDA source before it is compiled (failure injection);
   * `raceCheck` (default true) race-checks the __shared__ arrays (shim/fmc_cpu_race.h);
   * `shuffles` (default true): the dialect's warp-shuffle finish of tree reductions.
   */
  static build(
    plans: readonly Plan[],
    opts: { edit?: (source: string, i: number) => string; raceCheck?: boolean; shuffles?: boolean } = {},
  ): ShimPlans {
    const rendered = plans.map((p, i) => {
      const r = renderCudaProgram(p, undefined, { shuffles: opts.shuffles });
      return opts.edit ? { ...r, source: opts.edit(r.source, i) } : r;
    });
    const programs = rendered.map((r) => ({
      source: r.source,
      kernels: r.kernels.map((k) => k.name),
      raceCheck: opts.raceCheck,
    }));
    // -O0: g++'s time dominates these builds of many plans run at small sizes (about 0.6x of -O1's).
    return new ShimPlans(plans, rendered, ShimBinary.build(programs, '-O0'));
  }

  /** The CUDA source of plan `i`. */
  source(i: number): string {
    return this.rendered[i]!.source;
  }

  /** The job of plan `i` at `run` in `order`. */
  private job(i: number, run: ShimPlanRun, order: ThreadOrder): ShimJob {
    const plan = this.plans[i]!;
    const kernels = this.rendered[i]!.kernels;
    const slots = plan.slots.map((d) => evalDim(d, run.dims));
    // Device memory is not zeroed on CUDA: what the run does not give starts as 0xff bytes
    // (f32 NaN, integer -1), packed buffers excepted (a zero first element asks for packing).
    const buffers = plan.buffers.map((b) =>
      new Uint8Array(evalDim(b.size, run.dims) * BYTES[b.dtype]!).fill(b.kind === 'packed' ? 0 : 0xff),
    );
    const put = (id: number, t: HostTensor): void => {
      const data = fromHost(t).data;
      buffers[id]!.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    };
    for (const x of plan.inputs) put(x.buffer, run.inputs.get(x.name)!);
    for (const p of plan.params) put(p.buffer, run.params.get(p.path)!);
    const launches = plan.launches.flatMap((l): ShimLaunch[] => {
      const k = kernels[l.kernel]!;
      const blocks = Math.ceil(evalGrid(k.grid.invocations, slots) / k.workgroup);
      const x = Math.min(blocks, MAX_BLOCKS);
      if (x === 0) return [];
      return [{ kernel: k.name, grid: [x, Math.ceil(blocks / x)], workgroup: k.workgroup, args: l.args }];
    });
    return { program: i, buffers, dims: slots.map(BigInt), launches, order };
  }

  /** Runs plan `i` once per order (one process); the results in the orders' order. */
  run(i: number, run: ShimPlanRun, orders: readonly ThreadOrder[]): ShimPlanResult[] {
    const plan = this.plans[i]!;
    const results = this.binary.run(orders.map((o) => this.job(i, run, o)));
    return results.map((views, n) => {
      const bytes = views as Uint8Array[];
      const copy = (id: number): ArrayBuffer => bytes[id]!.slice().buffer;
      const outputs = Object.fromEntries(
        plan.outputs.map((o) => {
          const shape = o.shape.map((d) => evalDim(d, run.dims));
          const count = shape.reduce((a, b) => a * b, 1);
          return [o.name, new Tensor(o.dtype, typedArray(o.dtype, count, copy(o.buffer), 0), shape)];
        }),
      );
      const weights = weightBuffers(run.params);
      for (const p of plan.params) weights.set(p.path, copy(p.buffer));
      for (const u of plan.updates) weights.set(u.path, copy(u.from));
      return { order: orders[n]!, outputs, weights };
    });
  }
}
