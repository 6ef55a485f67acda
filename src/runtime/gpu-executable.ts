// A compiled Plan of the WGSL target bound to its WebGPU device and its weights. `runAsync`
// reads and checks its arguments as the C executable does (call.ts), binds the dims (each dim
// slot must fit in i32, as must each buffer's element count and each grid: that proves the
// kernels' i32 index arithmetic exact, checkIndexBounds), evaluates each launch's grid,
// uploads the inputs and runs the launch list in one command encoder; then it downloads only
// the outputs (and, under the weights' `host` policy, the params a run wrote, so the host
// weights stay the truth). GPU copies of the weights (gpu-weights.ts, shared by a model's
// functions) are kept between runs and uploaded again only when the host weights changed.
// Transients share whole GPU buffers by lifetime (planSlots): WebGPU refuses a launch that
// binds two ranges of one buffer when either is written, so one arena with offsets cannot
// serve. No Node imports.

import type { KExpr } from '../ir/kernel.js';
import { type MemoryPlan, type SlotPlan, planSlots } from '../kernels/memory.js';
import type { Plan } from '../kernels/plan.js';
import { type BoundDims, type RunOptions, bindPlanDims, bindingKey, encodeLaunches, remember } from './call.js';
import { RunError, readDimsOption } from './run-args.js';
import { ELEMENT_BYTES, type Tensor } from './tensor.js';
import { BINDING_ALIGN, type WebGpuDevice, type WgslProgram, gpuBytes } from './webgpu.js';
import type { GpuBuffer } from './webgpu-types.js';
import { callOutputs, paramsWrittenInPlace, startCall } from './gpu-call.js';
import { GpuWeights } from './gpu-weights.js';

interface GpuBinding extends BoundDims {
  readonly memory: MemoryPlan;
  /** GPU memory of each buffer id (inputs, outputs, packed: their own; transients: the arena). */
  readonly mem: GpuBuffer[];
  readonly offsets: Float64Array;
  readonly bytes: Float64Array;
  readonly records: Int32Array;
  /** Workgroups (x, y) of each launch. */
  readonly grids: Uint32Array;
}

const MAX_WORKGROUPS = 65535;
const I32_MAX = 2 ** 31 - 1;

/** An invocation count of a grid: constants, dim slots and index arithmetic, on the bound slots. */
export function evalGrid(e: KExpr, slots: BigInt64Array): number {
  if (e.k === 'const') return e.v;
  if (e.k === 'dim') return Number(slots[e.slot]!);
  if (e.k !== 'ix') throw new RunError(`internal: a launch grid holds a '${e.k}' expression`);
  const a = evalGrid(e.a, slots);
  const b = evalGrid(e.b, slots);
  const ops = { '+': a + b, '-': a - b, '*': a * b, min: Math.min(a, b), max: Math.max(a, b) };
  if (e.op === '/' || e.op === '%') {
    if (b === 0) throw new RunError('internal: a launch grid divides by zero');
    return e.op === '/' ? Math.trunc(a / b) : a % b;
  }
  return ops[e.op];
}

/**
 * The host's proof that the kernels' 32-bit index arithmetic cannot overflow: WGSL kernels
 * compute indices (flat offsets, loop variables, their partial sums, dims) in i32, and each
 * of those is below the element count of a buffer it indexes (an i64 buffer is indexed by
 * 32-bit words, two an element) or the launch's invocations (checked in bind). A call whose
 * buffers are larger is a RunError before anything is allocated.
 */
export function checkIndexBounds(plan: Plan, elements: readonly number[], target = 'WGSL'): void {
  for (const buf of plan.buffers) {
    const units = elements[buf.id]! * (buf.dtype === 'i64' ? 2 : 1);
    if (units > I32_MAX) {
      const named =
        plan.inputs.find((t) => t.buffer === buf.id) ??
        plan.outputs.find((t) => t.buffer === buf.id) ??
        plan.params.find((p) => p.buffer === buf.id);
      const what = named ? `'${'name' in named ? named.name : named.path}'` : `${buf.kind} buffer ${buf.id}`;
      throw new RunError(
        `${what} has ${elements[buf.id]} ${buf.dtype} elements with these dims: more than the ${target} target's 32-bit indices reach (${buf.dtype === 'i64' ? '2^30 i64 elements, two words each' : '2^31 - 1 elements'})`,
      );
    }
  }
}

export class GpuExecutable {
  private readonly bindings = new Map<string, GpuBinding>();
  /** Params a run may write (updates, or a kernel writing one in place): downloaded after it, or marked ahead (gpu-weights.ts). */
  private readonly written: readonly string[];

  /** The device once its pipelines are made (they are made asynchronously). */
  private ready: WebGpuDevice | undefined;
  private readonly pending: Promise<WebGpuDevice>;

  constructor(
    readonly plan: Plan,
    /** The plan's kernels as WGSL, with how each uses its buffers. */
    readonly program: WgslProgram,
    device: WebGpuDevice | Promise<WebGpuDevice>,
    /** The host copies of params and buffers, by path (shared with the other functions of a model). */
    private readonly weights: ReadonlyMap<string, ArrayBuffer>,
    /** Their GPU copies, shared with the model's other functions (default: this function's own, downloaded after each run). */
    readonly gpuWeights: GpuWeights = new GpuWeights(weights),
  ) {
    if (gpuWeights.host !== weights) throw new RunError('internal: GPU weights of other host weights');
    for (const p of plan.params) if (!weights.has(p.path)) throw new RunError(`no weights for '${p.path}'`);
    if (program.kernels.length !== plan.kernels.length)
      throw new RunError(`the program has ${program.kernels.length} kernels, the plan ${plan.kernels.length}`);
    this.pending = Promise.resolve(device).then((d) => (this.ready = d));
    // A failure shows at runAsync; this keeps it from being an unhandled rejection meanwhile.
    this.pending.catch(() => {});
    const inPlace = paramsWrittenInPlace(plan, (k, i) => program.kernels[k]!.params[i]!.access);
    this.written = [...new Set([...plan.updates.map((u) => u.path), ...inPlace])];
  }

  get inputNames(): string[] {
    return this.plan.inputs.map((i) => i.name);
  }
  get outputNames(): string[] {
    return this.plan.outputs.map((o) => o.name);
  }

  /** Kernel threads are a CPU setting: nothing to do on a GPU. */
  setThreads(_n: number): void {}

  run(_inputs: Readonly<Record<string, Tensor>>, _opts?: RunOptions): Record<string, Tensor> {
    throw new RunError(
      `${this.plan.name} runs on the WGSL target, which is asynchronous: use runAsync (await model.runAsync(inputs))`,
    );
  }

  /** The device, once its pipelines are made (a WebGpuError when there is no GPU or a kernel does not compile). */
  get device(): Promise<WebGpuDevice> {
    return this.pending;
  }

  /**
   * Runs the function on `inputs` and resolves with its outputs. Once the device is ready (from
   * the second call on, or after `await exe.device`), the arguments are read, checked and
   * uploaded before this returns: changing them afterwards does not change the run. Before
   * that, they are read when the device becomes ready.
   */
  runAsync(inputs: Readonly<Record<string, Tensor>>, opts: RunOptions = {}): Promise<Record<string, Tensor>> {
    const d = this.ready;
    if (!d) return this.pending.then((dev) => this.start(dev, inputs, opts));
    try {
      return this.start(d, inputs, opts);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  private start(
    d: WebGpuDevice,
    inputs: Readonly<Record<string, Tensor>>,
    opts: RunOptions,
  ): Promise<Record<string, Tensor>> {
    const started = startCall(
      this.plan,
      inputs,
      opts,
      (shapes, dims) => this.bind(d, shapes, dims),
      (path) => this.gpuWeights.buffer(d, path),
      (dst, offset, src) => d.upload(dst, offset, src),
    );
    const { b, list } = started;
    const mem = list.mem;
    d.launch(list);
    for (const u of this.plan.updates)
      d.copy(
        { mem: mem[u.from]!, offset: b.offsets[u.from]!, bytes: b.bytes[u.from]! },
        this.gpuWeights.buffer(d, u.path),
        0,
      );
    const outs = this.plan.outputs.map((o) => ({ mem: mem[o.buffer]!, offset: 0, bytes: b.bytes[o.buffer]! }));
    const params = this.gpuWeights.written(d, this.written);
    return d.download([...outs, ...params]).then((got) => {
      if (params.length > 0) this.gpuWeights.store(this.written, got.slice(outs.length));
      return callOutputs(this.plan, started, got);
    });
  }

  /** The memory plan of the arena (256-byte aligned) for the dims that `inputs` bind (for reports). */
  memoryFor(shapes: ReadonlyMap<string, readonly number[]>, dims?: Readonly<Record<string, number>>): MemoryPlan {
    const bound = bindPlanDims(this.plan, shapes, readDimsOption(dims), (path) => this.weights.get(path)!.byteLength);
    return this.arenaPlan(bound).memory;
  }

  private arenaPlan(bound: BoundDims): { raw: number[]; memory: SlotPlan } {
    const raw = this.plan.buffers.map((buf) => bound.elements[buf.id]! * ELEMENT_BYTES[buf.dtype]);
    const memory = planSlots(this.plan, (id) => Math.ceil(gpuBytes(raw[id]!) / BINDING_ALIGN) * BINDING_ALIGN);
    return { raw, memory };
  }

  /** The binding of these shapes and dims: GPU buffers, arena offsets and grids, kept for later calls. */
  private bind(
    d: WebGpuDevice,
    shapes: ReadonlyMap<string, readonly number[]>,
    given?: ReadonlyMap<string, number>,
  ): GpuBinding {
    const key = bindingKey(shapes, given);
    const hit = this.bindings.get(key);
    if (hit) return hit;
    const plan = this.plan;
    const bound = bindPlanDims(plan, shapes, given, (path) => this.weights.get(path)!.byteLength);
    bound.slots.forEach((v, i) => {
      if (v < -(2n ** 31n) || v > 2n ** 31n - 1n)
        throw new RunError(`a size of this call (dim slot ${i} = ${v}) does not fit in i32, as the WGSL target needs`);
    });
    checkIndexBounds(plan, bound.elements);
    const { raw, memory } = this.arenaPlan(bound);
    // Whole buffers, never ranges of one: WebGPU refuses a launch that binds one buffer twice
    // when either binding is written, whatever the ranges.
    const slots = memory.slotBytes.map((bytes, i) => d.allocate(bytes, `intermediate buffer ${i}`));
    const mem: GpuBuffer[] = [];
    const offsets = new Float64Array(plan.buffers.length);
    for (const buf of plan.buffers) {
      if (buf.kind === 'transient') {
        const slot = memory.slotOf.get(buf.id);
        mem[buf.id] = slot === undefined ? d.allocate(raw[buf.id]!, `transient buffer ${buf.id}`) : slots[slot]!;
      } else if (buf.kind !== 'param') mem[buf.id] = d.allocate(raw[buf.id]!, `${buf.kind} buffer ${buf.id}`);
    }
    const grids = new Uint32Array(2 * plan.launches.length);
    plan.launches.forEach((l, n) => {
      const k = plan.kernels[l.kernel]!;
      if (!k.grid) throw new RunError(`internal: kernel ${k.name} has no grid (not compiled for a GPU)`);
      const invocations = evalGrid(k.grid.invocations, bound.slots);
      const groups = Math.ceil(invocations / k.grid.workgroup);
      if (!(groups >= 0) || invocations > I32_MAX)
        throw new RunError(`kernel ${k.name} needs ${invocations} invocations here: more than a WGSL launch can index`);
      const x = Math.min(groups, MAX_WORKGROUPS);
      const y = x === 0 ? 0 : Math.ceil(groups / x);
      if (y > MAX_WORKGROUPS) throw new RunError(`kernel ${k.name} needs ${groups} workgroups: too many`);
      // The invocation index of the last invocation dispatched (the grid rounds up to x · y workgroups) is an i32 too.
      if (x * y * k.grid.workgroup > I32_MAX + 1)
        throw new RunError(`kernel ${k.name} needs ${invocations} invocations here: more than a WGSL launch can index`);
      grids[2 * n] = x;
      grids[2 * n + 1] = y;
    });
    const binding: GpuBinding = {
      ...bound,
      memory,
      mem,
      offsets,
      bytes: Float64Array.from(raw),
      records: encodeLaunches(plan),
      grids,
    };
    return remember(this.bindings, key, binding);
  }
}
