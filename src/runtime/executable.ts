// A compiled Plan of the C target bound to its CPU device (a loaded kernel library) and its
// weights. `run` reads its arguments once (call.ts, run-args.ts), validates them (names,
// dtypes, ranks, sizes, symbolic dims consistent, bool and i4 values), binds the dims, places
// transients by the memory plan (kept per binding), and runs the whole launch list in one
// native call through the device. The native side only sees buffers, offsets, byte counts and
// dim values. Per-call buffers (outputs, copies, arenas) are plain ArrayBuffers, which V8 frees
// at its GCs: a synchronous loop of calls stays bounded. gpu-executable.ts is the WebGPU one.

import { type MemoryPlan, planMemory } from '../kernels/memory.js';
import type { Plan } from '../kernels/plan.js';
import {
  type BoundDims,
  type RunOptions,
  bindPlanDims,
  bindingKey,
  callShapes,
  encodeLaunches,
  pinCall,
  readCall,
  remember,
} from './call.js';
import { CpuDevice, hostAllocate } from './cpu-device.js';
import type { NativeLibrary } from './native.js';
import { RunError, checkTimings, readDimsOption } from './run-args.js';
import { ELEMENT_BYTES, Tensor, typedArray } from './tensor.js';
import { versionOf, weightsChanged } from './weight-versions.js';

export { RunError };
export { weightsChanged } from './weight-versions.js';
export type { RunOptions } from './call.js';

interface Binding extends BoundDims {
  /** Packed buffers (by buffer id) and the version of their param when they were last valid. */
  readonly packed: Map<number, { readonly buffer: ArrayBuffer; version: number }>;
  readonly memory: MemoryPlan;
  /** The arena of transients, from `arenaOffset` (64-byte aligned). */
  readonly arena: ArrayBuffer;
  readonly arenaOffset: number;
  readonly launches: Int32Array;
}

export class Executable {
  private readonly bindings = new Map<string, Binding>();
  /** Which input, output (by position) or param (by path) each buffer id is. */
  private readonly index: {
    readonly outputOf: ReadonlyMap<number, number>;
    readonly inputOf: ReadonlyMap<number, number>;
    readonly paramOf: ReadonlyMap<number, string>;
  };

  readonly device: CpuDevice;

  constructor(
    readonly plan: Plan,
    lib: NativeLibrary | CpuDevice,
    /** Persistent buffers of params and buffers, by path (64-byte aligned). */
    private readonly weights: ReadonlyMap<string, ArrayBuffer>,
  ) {
    this.device = lib instanceof CpuDevice ? lib : new CpuDevice(lib);
    for (const p of plan.params) if (!weights.has(p.path)) throw new RunError(`no weights for '${p.path}'`);
    this.index = {
      outputOf: new Map(plan.outputs.map((o, i) => [o.buffer, i])),
      inputOf: new Map(plan.inputs.map((x, i) => [x.buffer, i])),
      paramOf: new Map(plan.params.map((p) => [p.buffer, p.path])),
    };
  }

  get inputNames(): string[] {
    return this.plan.inputs.map((i) => i.name);
  }
  get outputNames(): string[] {
    return this.plan.outputs.map((o) => o.name);
  }

  setThreads(n: number): void {
    this.device.setThreads(n);
  }

  /** `run` as a promise, as every target has it (the WebGPU one only this way). */
  runAsync(inputs: Readonly<Record<string, Tensor>>, opts: RunOptions = {}): Promise<Record<string, Tensor>> {
    try {
      return Promise.resolve(this.run(inputs, opts));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /**
   * Runs the function on `inputs` (by name) and returns its outputs by name. The arguments are
   * read once (any user code they hold runs then), the buffers measured after that, and exactly
   * those buffers go to the kernels; see run-args.ts.
   */
  run(inputs: Readonly<Record<string, Tensor>>, opts: RunOptions = {}): Record<string, Tensor> {
    const call = readCall(this.plan, inputs, opts);
    const b = this.bind(callShapes(this.plan, call), call.dims);
    const timings = checkTimings(call.timings, this.plan.launches.length);
    // From here on no user code runs until the kernels return.
    const { inputs: pinned, outputs: given } = pinCall(this.plan, call, b.outputShapes, hostAllocate);

    const n = this.plan.buffers.length;
    const views = new Array<ArrayBuffer>(n);
    const offsets = new Float64Array(n);
    const needs = new Float64Array(n);
    const { outputOf, inputOf, paramOf } = this.index;
    for (const buf of this.plan.buffers) {
      const bytes = b.elements[buf.id]! * ELEMENT_BYTES[buf.dtype];
      needs[buf.id] = bytes;
      let at: { buffer: ArrayBuffer; offset: number };
      if (buf.kind === 'transient')
        at = { buffer: b.arena, offset: b.arenaOffset + (b.memory.offsets.get(buf.id) ?? 0) };
      else if (buf.kind === 'param') at = { buffer: this.weights.get(paramOf.get(buf.id)!)!, offset: 0 };
      else if (buf.kind === 'packed') at = { buffer: this.packed(b, buf.id, buf.from!), offset: 0 };
      else if (buf.kind === 'input') at = pinned[inputOf.get(buf.id)!]!;
      else at = given[outputOf.get(buf.id)!] ?? hostAllocate(bytes, 'an output');
      views[buf.id] = at.buffer;
      offsets[buf.id] = at.offset;
    }
    try {
      this.device.launch({ records: b.launches, mem: views, offsets, bytes: needs, dims: b.slots, timings });
    } finally {
      if (this.plan.writesParams !== false) weightsChanged(this.weights.values());
    }

    const outputs: Record<string, Tensor> = {};
    this.plan.outputs.forEach((o, i) => {
      const g = call.outputs[i];
      if (g) outputs[o.name] = g.tensor;
      else {
        const data = typedArray(o.dtype, b.elements[o.buffer]!, views[o.buffer]!, offsets[o.buffer]!);
        outputs[o.name] = new Tensor(o.dtype, data, b.outputShapes[i]!);
      }
    });
    for (const u of this.plan.updates) {
      const p = this.plan.params.find((q) => q.path === u.path)!;
      const bytes = b.elements[p.buffer]! * ELEMENT_BYTES[p.dtype];
      const src = new Uint8Array(views[u.from]!, offsets[u.from]!, bytes);
      new Uint8Array(this.weights.get(u.path)!, 0, bytes).set(src);
    }
    return outputs;
  }

  /**
   * Packed buffer `id` of a binding (zeroed when new), its first element zeroed when its
   * param `from` has changed since it was packed: the kernel then packs it again.
   */
  private packed(b: Binding, id: number, from: number): ArrayBuffer {
    const version = versionOf(this.weights.get(this.index.paramOf.get(from)!)!);
    const p = b.packed.get(id)!;
    if (p.version !== version) {
      new Float32Array(p.buffer, 0, 1)[0] = 0;
      p.version = version;
    }
    return p.buffer;
  }

  /** The memory plan for the dims that `inputs` bind (for reports). */
  memoryFor(shapes: ReadonlyMap<string, readonly number[]>, dims?: Readonly<Record<string, number>>): MemoryPlan {
    return this.bind(shapes, readDimsOption(dims)).memory;
  }

  /** The binding of these shapes and dims (our own copies: no user code runs here). */
  private bind(shapes: ReadonlyMap<string, readonly number[]>, given?: ReadonlyMap<string, number>): Binding {
    const key = bindingKey(shapes, given);
    const hit = this.bindings.get(key);
    if (hit) return hit;
    const bound = bindPlanDims(this.plan, shapes, given, (path) => this.weights.get(path)!.byteLength);
    const { elements } = bound;
    const memory = planMemory(this.plan, (id) => elements[id]! * ELEMENT_BYTES[this.plan.buffers[id]!.dtype]);
    const arena = hostAllocate(memory.peakBytes, 'the arena of intermediate tensors');
    const packed = new Map(
      this.plan.buffers
        .filter((buf) => buf.kind === 'packed')
        .map((buf) => [buf.id, { buffer: this.device.allocate(elements[buf.id]! * 4), version: -1 }]),
    );
    const binding: Binding = {
      ...bound,
      packed,
      memory,
      arena: arena.buffer,
      arenaOffset: arena.offset,
      launches: encodeLaunches(this.plan),
    };
    return remember(this.bindings, key, binding);
  }
}
