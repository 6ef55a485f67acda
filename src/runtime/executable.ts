// A compiled Plan of the C target bound to its CPU device (a loaded kernel library) and its
// weights. `run` reads its arguments once (call.ts, run-args.ts), validates them (names,
// dtypes, ranks, sizes, symbolic dims consistent, bool and i4 values), binds the dims, places
// transients by the memory plan (kept per binding), and runs the whole launch list in one
// native call through the device (runAsync: on a worker thread, with its own copies of the
// inputs). The native side only sees buffers, offsets, byte counts and dim values. Per-call
// buffers (outputs, copies, arenas) are plain ArrayBuffers, which V8 frees at its GCs: a
// synchronous loop of calls stays bounded. gpu-executable.ts is the WebGPU one.

import { type MemoryPlan, planMemory } from '../kernels/memory.js';
import type { Plan } from '../kernels/plan.js';
import {
  type BoundDims,
  type Call,
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
import { type Pinned, RunError, checkTimings, readDimsOption } from './run-args.js';
import type { LaunchList } from './device.js';
import { ELEMENT_BYTES, Tensor, typedArray } from './tensor.js';
import { QuantizedWeights } from './quantized-weights.js';
import { checkSparseWeights } from './sparse-tables.js';
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

/** A call read, checked and placed, ready to launch (see Executable.prepare). */
interface PreparedRun {
  readonly call: Call;
  readonly b: Binding;
  /** runAsync: the caller's output buffers, written when the run ends. */
  readonly late: readonly (Pinned | undefined)[];
  readonly launch: LaunchList<ArrayBuffer> & { readonly mem: ArrayBuffer[]; readonly offsets: Float64Array };
}

/** A pinned input copied into the executable's own memory. */
function copied(p: Pinned): Pinned {
  const own = hostAllocate(p.bytes, 'an input copy');
  new Uint8Array(own.buffer, own.offset, p.bytes).set(new Uint8Array(p.buffer, p.offset, p.bytes));
  return { ...own, bytes: p.bytes, inPlace: false };
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
  /** Quantized params re-derived when their f32 source changes (a train step). */
  private readonly quantized: QuantizedWeights;

  constructor(
    readonly plan: Plan,
    lib: NativeLibrary | CpuDevice,
    /** Persistent buffers of params and buffers, by path (64-byte aligned). */
    private readonly weights: ReadonlyMap<string, ArrayBuffer>,
  ) {
    this.device = lib instanceof CpuDevice ? lib : new CpuDevice(lib);
    for (const p of plan.params) if (!weights.has(p.path)) throw new RunError(`no weights for '${p.path}'`);
    checkSparseWeights(plan.params, weights);
    this.quantized = new QuantizedWeights(plan.params, weights);
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

  /** Runs of runAsync not yet finished; run() is refused meanwhile (they share the arena). */
  private inFlight = 0;
  /** The last runAsync: the next one starts after it has finished (they share the arena). */
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * Runs the function on a worker thread and resolves with its outputs: the event loop keeps
   * turning while the kernels run. The arguments are read and checked at the call, as run()
   * does, and inputs are copied, so the caller may change or transfer its buffers at once;
   * outputs given in `opts.outputs` are written when the run ends. Runs of one function
   * execute one after another; a run() meanwhile is a RunError.
   */
  runAsync(inputs: Readonly<Record<string, Tensor>>, opts: RunOptions = {}): Promise<Record<string, Tensor>> {
    let r: PreparedRun;
    try {
      r = this.prepare(inputs, opts, true);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    this.inFlight++;
    const done = this.tail.then(async () => {
      try {
        await this.device.launchAsync(r.launch);
      } finally {
        this.inFlight--;
        this.launched();
      }
      return this.finish(r);
    });
    this.tail = done.catch(() => undefined);
    return done;
  }

  /**
   * Runs the function on `inputs` (by name) and returns its outputs by name. The arguments are
   * read once (any user code they hold runs then), the buffers measured after that, and exactly
   * those buffers go to the kernels; see run-args.ts.
   */
  run(inputs: Readonly<Record<string, Tensor>>, opts: RunOptions = {}): Record<string, Tensor> {
    if (this.inFlight > 0) throw new RunError('a runAsync of this function is in flight: await it before run()');
    const r = this.prepare(inputs, opts, false);
    try {
      this.device.launch(r.launch);
    } finally {
      this.launched();
    }
    return this.finish(r);
  }

  /** After a launch: the weights may have changed (their packed forms are re-derived). */
  private launched(): void {
    if (this.plan.writesParams !== false) weightsChanged(this.weights.values());
  }

  /**
   * Reads and checks a call and places every buffer. `own`: the kernels get only memory of the
   * executable (inputs copied, outputs fresh), as a run on another thread needs.
   */
  private prepare(inputs: Readonly<Record<string, Tensor>>, opts: RunOptions, own: boolean): PreparedRun {
    const call = readCall(this.plan, inputs, opts);
    const b = this.bind(callShapes(this.plan, call), call.dims);
    const timings = checkTimings(call.timings, this.plan.launches.length);
    if (own && timings) throw new RunError('timings are taken by run() only, not runAsync()');
    this.quantized.refresh();
    // From here on no user code runs until the kernels return.
    const pinnedCall = pinCall(this.plan, call, b.outputShapes, hostAllocate);
    const pinned = own ? pinnedCall.inputs.map((p) => (p.inPlace ? copied(p) : p)) : pinnedCall.inputs;
    const given = own ? [] : pinnedCall.outputs;

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
    return {
      call,
      b,
      late: own ? pinnedCall.outputs : [],
      launch: { records: b.launches, mem: views, offsets, bytes: needs, dims: b.slots, timings },
    };
  }

  /** The outputs of a prepared run once its kernels are done, and its updates applied. */
  private finish(r: PreparedRun): Record<string, Tensor> {
    const { call, b } = r;
    const { mem: views, offsets } = r.launch;
    const outputs: Record<string, Tensor> = {};
    this.plan.outputs.forEach((o, i) => {
      const g = call.outputs[i];
      const late = r.late[i];
      if (g && late) {
        const bytes = b.elements[o.buffer]! * ELEMENT_BYTES[o.dtype];
        try {
          new Uint8Array(late.buffer, late.offset, bytes).set(
            new Uint8Array(views[o.buffer]!, offsets[o.buffer]!, bytes),
          );
        } catch (e) {
          throw new RunError(
            `output '${o.name}' could not be written: its buffer changed during the run (${(e as Error).message})`,
          );
        }
      }
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
