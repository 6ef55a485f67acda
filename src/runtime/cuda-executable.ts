// A compiled Plan of the CUDA target bound to its CudaDevice and its weights. `runAsync` reads
// and checks its arguments as the other targets do (call.ts), binds the dims (each dim slot,
// buffer element count and grid below 2^31, as for WGSL: the kernels index in 32 bits),
// evaluates each launch's grid, and per binding allocates the inputs, outputs and packed
// buffers and ONE arena for every transient (the memory plan, planMemory: CUDA kernels may bind
// ranges of one allocation); the 8 latest bindings are kept, an older one's memory is freed.
// Copies happen only at the inputs, the outputs and the weights. The device copies of the
// weights are a GpuWeights (gpu-weights.ts), shared by a model's functions when a trainer
// builds them: uploaded once, and again only when their host buffer is another one or changed
// since (weight-versions.ts). Params a kernel writes in place are downloaded after the run
// under the `host` policy (inference: the host weights stay the truth) and stay on the GPU
// under `device` (the trainer's, until a sync). The plan's updates (a buffer computed into a
// transient, then copied into a weight: BatchNorm's running stats, gradient accumulators) go
// through the host: downloaded, written into the host and device copies. Not yet run on a GPU
// (none where it was written): test/cuda/runtime-shim-device.test.ts and train-shim.test.ts
// run it on the CUDA CPU shim.

import { planMemory } from '../kernels/memory.js';
import type { Plan } from '../kernels/plan.js';
import { type BoundDims, type RunOptions, bindPlanDims, bindingKey, encodeLaunches, remember } from './call.js';
import { type CudaDevice, type CudaMemory, CudaError } from './cuda-device.js';
import { checkIndexBounds, evalGrid } from './gpu-executable.js';
import { callOutputs, paramsWrittenInPlace, startCall } from './gpu-call.js';
import { GpuWeights } from './gpu-weights.js';
import { RunError } from './run-args.js';
import { ELEMENT_BYTES, type Tensor } from './tensor.js';

interface CudaBinding extends BoundDims {
  readonly mem: CudaMemory[];
  /** The allocations the binding made (freed when it is dropped). */
  readonly own: readonly CudaMemory[];
  readonly offsets: Float64Array;
  readonly bytes: Float64Array;
  readonly records: Int32Array;
  readonly grids: Uint32Array;
}

const MAX_Y = 65535;
const I32_MAX = 2 ** 31 - 1;
const I32_MAX_BIG = 2n ** 31n - 1n;
const ARENA_ALIGN = 256;

export class CudaExecutable {
  readonly target = 'cuda';
  private readonly bindings = new Map<string, CudaBinding>();
  /** Params a kernel writes in place (not those of updates): downloaded after a run, or marked ahead. */
  private readonly written: readonly string[];

  constructor(
    readonly plan: Plan,
    readonly device: CudaDevice,
    private readonly weights: ReadonlyMap<string, ArrayBuffer>,
    /** Their device copies, shared with the model's other functions (default: this function's own, policy `host`). */
    readonly gpuWeights: GpuWeights<CudaMemory> = new GpuWeights(weights),
  ) {
    if (gpuWeights.host !== weights) throw new RunError('internal: GPU weights of other host weights');
    for (const p of plan.params) if (!weights.has(p.path)) throw new RunError(`no weights for '${p.path}'`);
    // Params written in place (an update's buffer comes back through the update instead).
    const updated = new Set(plan.updates.map((u) => u.path));
    const inPlace = paramsWrittenInPlace(plan, (k, i) => plan.kernels[k]!.params[i]!.access);
    const written = [...inPlace].filter((path) => !updated.has(path));
    this.written = written;
  }

  get inputNames(): string[] {
    return this.plan.inputs.map((i) => i.name);
  }
  get outputNames(): string[] {
    return this.plan.outputs.map((o) => o.name);
  }

  setThreads(_n: number): void {}

  run(_inputs: Readonly<Record<string, Tensor>>, _opts?: RunOptions): Record<string, Tensor> {
    throw new RunError(`${this.plan.name} runs on the CUDA target: use runAsync (await model.runAsync(inputs))`);
  }

  async runAsync(inputs: Readonly<Record<string, Tensor>>, opts: RunOptions = {}): Promise<Record<string, Tensor>> {
    const d = this.device;
    const { call, b, given, list } = this.start(inputs, opts);
    d.launch(list);
    const mem = list.mem;
    const range = (id: number) => ({ mem: mem[id]!, offset: b.offsets[id]!, bytes: b.bytes[id]! });
    const updates = this.plan.updates.map((u) => range(u.from));
    const outs = this.plan.outputs.map((o) => range(o.buffer));
    const params = this.gpuWeights.written(d, this.written);
    const got = await d.download([...outs, ...updates, ...params]);
    this.plan.updates.forEach((u, i) => this.gpuWeights.set(d, u.path, got[outs.length + i]!));
    if (params.length > 0) this.gpuWeights.store(this.written, got.slice(outs.length + updates.length));
    return callOutputs(this.plan, { call, b, given }, got);
  }

  /**
   * Seconds per run of the launch list on `inputs` (uploaded once, nothing downloaded, the
   * weights' written params left on the device): the mean of `repeats` runs after a first one
   * that is not timed. For benchmarks (bench/gpu-check.ts); the outputs are not read.
   */
  async timeAsync(inputs: Readonly<Record<string, Tensor>>, repeats: number): Promise<number> {
    const { list } = this.start(inputs, {});
    this.device.launch(list);
    await this.device.synchronize();
    const t0 = performance.now();
    for (let i = 0; i < repeats; i++) this.device.launch(list);
    await this.device.synchronize();
    return (performance.now() - t0) / 1e3 / Math.max(1, repeats);
  }

  /** Frees the device memory of every binding kept (a later call binds again); the weights stay. */
  releaseBindings(): void {
    for (const b of this.bindings.values()) for (const m of b.own) this.device.free(m);
    this.bindings.clear();
  }

  /** Reads and checks a call, binds it, uploads its inputs (and stale weights): the launch list to queue. */
  private start(inputs: Readonly<Record<string, Tensor>>, opts: RunOptions) {
    const d = this.device;
    return startCall(
      this.plan,
      inputs,
      opts,
      (shapes, dims) => this.bind(shapes, dims),
      (path) => this.gpuWeights.buffer(d, path),
      (dst, offset, src) => d.upload(dst, offset, src),
    );
  }

  /** Device memory, arena offsets and grids of these shapes and dims, kept for later calls. */
  private bind(shapes: ReadonlyMap<string, readonly number[]>, given?: ReadonlyMap<string, number>): CudaBinding {
    const key = bindingKey(shapes, given);
    const hit = this.bindings.get(key);
    if (hit) return hit;
    const plan = this.plan;
    const d = this.device;
    const bound = bindPlanDims(plan, shapes, given, (path) => this.weights.get(path)!.byteLength);
    // The kernels index in 32 bits (codegen/legalize-cuda.ts), proved in range here as for WGSL.
    bound.slots.forEach((v, i) => {
      if (v < -(2n ** 31n) || v > I32_MAX_BIG)
        throw new RunError(`a size of this call (dim slot ${i} = ${v}) does not fit in i32, as the CUDA target needs`);
    });
    checkIndexBounds(plan, bound.elements, 'CUDA');
    const raw = plan.buffers.map((buf) => bound.elements[buf.id]! * ELEMENT_BYTES[buf.dtype]);
    const memory = planMemory(plan, (id) => Math.ceil(raw[id]! / ARENA_ALIGN) * ARENA_ALIGN);
    const arena = d.allocate(memory.peakBytes, 'the arena of intermediate buffers');
    const mem: CudaMemory[] = [];
    const offsets = new Float64Array(plan.buffers.length);
    for (const buf of plan.buffers) {
      const at = memory.offsets.get(buf.id);
      if (buf.kind === 'transient' && at !== undefined) {
        mem[buf.id] = arena;
        offsets[buf.id] = at;
      } else if (buf.kind !== 'param') mem[buf.id] = d.allocate(raw[buf.id]!, `${buf.kind} buffer ${buf.id}`);
    }
    const grids = new Uint32Array(2 * plan.launches.length);
    plan.launches.forEach((l, n) => {
      const k = plan.kernels[l.kernel]!;
      if (!k.grid) throw new CudaError(`internal: kernel ${k.name} has no grid (not compiled for a GPU)`);
      const invocations = evalGrid(k.grid.invocations, bound.slots);
      const blocks = Math.ceil(invocations / k.grid.workgroup);
      const x = Math.min(blocks, MAX_Y);
      const y = x === 0 ? 0 : Math.ceil(blocks / x);
      if (!(blocks >= 0) || y > MAX_Y) throw new CudaError(`kernel ${k.name} needs ${blocks} blocks here: too many`);
      // The flat index of the last thread launched (x · y blocks) is an i32 too.
      if (invocations > I32_MAX || x * y * k.grid.workgroup > I32_MAX + 1)
        throw new RunError(`kernel ${k.name} needs ${invocations} threads here: more than a 32-bit index reaches`);
      grids[2 * n] = x;
      grids[2 * n + 1] = y;
    });
    const own = [
      arena,
      ...plan.buffers.filter((b) => b.kind !== 'transient' && b.kind !== 'param').map((b) => mem[b.id]!),
    ];
    const binding = {
      ...bound,
      mem,
      own,
      offsets,
      bytes: Float64Array.from(raw),
      records: encodeLaunches(plan),
      grids,
    };
    // remember() keeps 8 bindings: the memory of the one it drops is freed (its runs have finished).
    const dropped = this.bindings.size >= 8 ? this.bindings.values().next().value : undefined;
    for (const m of dropped?.own ?? []) d.free(m);
    return remember(this.bindings, key, binding);
  }
}
