// A compiled Plan bound to a loaded kernel library and its weights. `run` validates the
// inputs (names, dtypes, ranks, sizes, symbolic dims consistent), binds the dims, places
// transients by the memory plan (kept per binding), and runs the whole launch list in one
// native call. The native side only sees buffers, offsets and dim values.

import { dimToString } from '../ir/dims.js';
import { EvalError, bindDims, concreteInt, concreteShape } from '../ir/interp.js';
import { type MemoryPlan, planMemory } from '../kernels/memory.js';
import type { Plan } from '../kernels/plan.js';
import { type NativeLibrary, native } from './native.js';
import { ELEMENT_BYTES, Tensor, TensorError, typedArray } from './tensor.js';

/** A user error in a call: bad input names, dtypes, shapes or dims. */
export class RunError extends Error {
  override name = 'RunError';
}

interface Binding {
  readonly key: string;
  readonly dims: Map<string, number>;
  readonly slots: BigInt64Array;
  readonly elements: number[];
  readonly memory: MemoryPlan;
  readonly arena: ArrayBuffer;
  readonly launches: Int32Array;
  readonly outputShapes: number[][];
}

export interface RunOptions {
  /** Values for dims the input shapes do not determine. */
  readonly dims?: Readonly<Record<string, number>>;
  /** Per-launch wall times (ns) are written here when given (one per launch). */
  readonly timings?: Float64Array;
}

export class Executable {
  private readonly bindings = new Map<string, Binding>();

  constructor(
    readonly plan: Plan,
    private readonly lib: NativeLibrary,
    /** Persistent buffers of params and buffers, by path (64-byte aligned). */
    private readonly weights: ReadonlyMap<string, ArrayBuffer>,
  ) {
    for (const p of plan.params) if (!weights.has(p.path)) throw new RunError(`no weights for '${p.path}'`);
  }

  get inputNames(): string[] {
    return this.plan.inputs.map((i) => i.name);
  }
  get outputNames(): string[] {
    return this.plan.outputs.map((o) => o.name);
  }

  setThreads(n: number): void {
    this.lib.setThreads(n);
  }

  /** Runs the function on `inputs` (by name) and returns its outputs by name. */
  run(inputs: Readonly<Record<string, Tensor>>, opts: RunOptions = {}): Record<string, Tensor> {
    const shapes = this.checkInputs(inputs);
    const b = this.bind(shapes, opts.dims);
    const views: ArrayBuffer[] = [];
    const offsets = new Float64Array(this.plan.buffers.length);
    const outputs: Record<string, Tensor> = {};
    for (const buf of this.plan.buffers) {
      const bytes = b.elements[buf.id]! * ELEMENT_BYTES[buf.dtype];
      if (buf.kind === 'transient') {
        views.push(b.arena);
        offsets[buf.id] = b.memory.offsets.get(buf.id) ?? 0;
      } else if (buf.kind === 'param') {
        views.push(this.weights.get(this.plan.params.find((p) => p.buffer === buf.id)!.path)!);
      } else if (buf.kind === 'input') {
        // Kernels read inputs in place (they assume only element alignment, which typed
        // arrays have); a SharedArrayBuffer is copied, since the addon takes ArrayBuffers.
        const data = inputs[this.plan.inputs.find((i) => i.buffer === buf.id)!.name]!.data;
        if (data.buffer instanceof ArrayBuffer) {
          views.push(data.buffer);
          offsets[buf.id] = data.byteOffset;
        } else {
          const staged = allocate(bytes, 'an input');
          new Uint8Array(staged).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
          views.push(staged);
        }
      } else {
        views.push(allocate(bytes, 'an output'));
      }
    }
    if (opts.timings && opts.timings.length !== this.plan.launches.length)
      throw new RunError(`timings needs ${this.plan.launches.length} slots, got ${opts.timings.length}`);
    native().run(this.lib, b.launches, views, offsets, b.slots, opts.timings);
    this.plan.outputs.forEach((o, i) => {
      const shape = b.outputShapes[i]!;
      const n = b.elements[o.buffer]!;
      outputs[o.name] = new Tensor(o.dtype, typedArray(o.dtype, n, views[o.buffer]!, 0), shape);
    });
    for (const u of this.plan.updates) {
      const p = this.plan.params.find((q) => q.path === u.path)!;
      const bytes = b.elements[p.buffer]! * ELEMENT_BYTES[p.dtype];
      const src = new Uint8Array(views[u.from]!, offsets[u.from]!, bytes);
      new Uint8Array(this.weights.get(u.path)!, 0, bytes).set(src);
    }
    return outputs;
  }

  /** The memory plan for the dims that `inputs` bind (for reports). */
  memoryFor(shapes: ReadonlyMap<string, readonly number[]>, dims?: Readonly<Record<string, number>>): MemoryPlan {
    return this.bind(shapes, dims).memory;
  }

  private checkInputs(inputs: Readonly<Record<string, Tensor>>): Map<string, number[]> {
    if (inputs === null || typeof inputs !== 'object')
      throw new RunError('inputs must be an object of tensors by name');
    const expected = this.plan.inputs.map((i) => i.name);
    for (const name of Object.keys(inputs))
      if (!expected.includes(name))
        throw new RunError(`unknown input '${name}'; the inputs are ${expected.map((n) => `'${n}'`).join(', ')}`);
    const shapes = new Map<string, number[]>();
    for (const spec of this.plan.inputs) {
      const t = inputs[spec.name];
      if (t === undefined) throw new RunError(`missing input '${spec.name}'`);
      if (!(t instanceof Tensor)) throw new RunError(`input '${spec.name}' is not a Tensor`);
      const want = `${spec.dtype}[${spec.shape.map(dimToString).join(', ')}]`;
      if (t.dtype !== spec.dtype) throw new RunError(`input '${spec.name}' has dtype ${t.dtype}, expected ${want}`);
      let length: number;
      try {
        length = t.data.length;
      } catch (e) {
        if (e instanceof TensorError) throw new RunError(`input '${spec.name}': ${e.message}`);
        throw e;
      }
      // Kernels read inputs in place: a buffer shrunk or transferred since the Tensor was made
      // must not be read past its end.
      if (length !== t.size)
        throw new RunError(
          `input '${spec.name}' holds ${length} elements, its dims [${t.dims.join(', ')}] need ${t.size}`,
        );
      if (t.dims.length !== spec.shape.length)
        throw new RunError(`input '${spec.name}' has rank ${t.dims.length} ([${t.dims.join(', ')}]), expected ${want}`);
      shapes.set(spec.name, [...t.dims]);
    }
    return shapes;
  }

  private bind(shapes: ReadonlyMap<string, readonly number[]>, given?: Readonly<Record<string, number>>): Binding {
    const key = JSON.stringify([[...shapes], given ?? {}]);
    const hit = this.bindings.get(key);
    if (hit) return hit;
    let dims: Map<string, number>;
    try {
      dims = bindDims(
        { inputs: this.plan.inputs.map((i) => ({ args: i })) },
        shapes,
        new Map(Object.entries(given ?? {})),
      );
      for (const d of this.plan.dims)
        if (!dims.has(d)) throw new EvalError(`dim '${d}' is not determined by the input shapes; give it in dims`);
      for (const c of this.plan.checks)
        if (concreteInt(c.value, dims) < 0 && (c.unless === undefined || concreteInt(c.unless, dims) !== 0))
          throw new EvalError(`${c.what} with ${[...dims].map(([k, v]) => `${k} = ${v}`).join(', ')}`);
      const slots = BigInt64Array.from(this.plan.slots.map((s) => BigInt(concreteInt(s, dims))));
      const elements = this.plan.buffers.map((buf) => concreteInt(buf.size, dims));
      const bad = this.plan.buffers.find((buf) => elements[buf.id]! < 0);
      if (bad) throw new EvalError(`a tensor of the model has ${elements[bad.id]} elements with these dims`);
      for (const p of this.plan.params) {
        const need = elements[p.buffer]! * ELEMENT_BYTES[p.dtype];
        const have = this.weights.get(p.path)!.byteLength;
        if (have !== need) throw new EvalError(`weights of '${p.path}' hold ${have} bytes, the model needs ${need}`);
      }
      const memory = planMemory(this.plan, (id) => elements[id]! * ELEMENT_BYTES[this.plan.buffers[id]!.dtype]);
      const binding: Binding = {
        key,
        dims,
        slots,
        elements,
        memory,
        arena: allocate(memory.peakBytes, 'the arena of intermediate tensors'),
        launches: encodeLaunches(this.plan),
        outputShapes: this.plan.outputs.map((o) => concreteShape(o.shape, dims)),
      };
      if (this.bindings.size >= 8) this.bindings.delete(this.bindings.keys().next().value!);
      this.bindings.set(key, binding);
      return binding;
    } catch (e) {
      if (e instanceof EvalError) throw new RunError(e.message);
      throw e;
    }
  }
}

/** An aligned buffer; a size the machine cannot allocate is a RunError naming what it was for. */
function allocate(bytes: number, what: string): ArrayBuffer {
  try {
    return native().alignedBuffer(bytes);
  } catch (e) {
    if (e instanceof RangeError || (e instanceof Error && /alloc/i.test(e.message)))
      throw new RunError(
        `cannot allocate ${bytes.toLocaleString('en-US')} bytes for ${what} at these sizes (${e.message})`,
      );
    throw e;
  }
}

/** Launch records for the native runner: [kernel, argCount, buffer ids...] (views are indexed by buffer id). */
function encodeLaunches(plan: Plan): Int32Array {
  const out: number[] = [];
  for (const l of plan.launches) out.push(l.kernel, l.args.length, ...l.args);
  return Int32Array.from(out);
}
