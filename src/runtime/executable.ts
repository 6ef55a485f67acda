// A compiled Plan bound to a loaded kernel library and its weights. `run` reads its arguments
// once (run-args.ts), validates them (names, dtypes, ranks, sizes, symbolic dims consistent,
// bool and i4 values), binds the dims, places transients by the memory plan (kept per binding),
// and runs the whole launch list in one native call. The native side only sees buffers,
// offsets, byte counts and dim values. Per-call buffers (outputs, copies, arenas) are plain
// ArrayBuffers, which V8 frees at its GCs: a synchronous loop of calls stays bounded.

import type { Dtype } from '../ir/dtype.js';
import { dimToString } from '../ir/dims.js';
import { EvalError, bindDims, concreteInt, concreteShape } from '../ir/interp.js';
import { type MemoryPlan, planMemory } from '../kernels/memory.js';
import type { Plan } from '../kernels/plan.js';
import { type NativeLibrary, native } from './native.js';
import {
  RunError,
  type TensorArg,
  allocate,
  checkTimings,
  checkValues,
  overlaps,
  pin,
  readDimsOption,
  readTensor,
} from './run-args.js';
import { ELEMENT_BYTES, Tensor, typedArray } from './tensor.js';

export { RunError } from './run-args.js';

/**
 * A version per weight buffer, bumped whenever a run or the trainer may have written it: a
 * packed buffer derived from a param is re-derived when the version it was made from is old.
 */
const versions = new WeakMap<ArrayBuffer, number>();
const versionOf = (b: ArrayBuffer): number => versions.get(b) ?? 0;

/** Marks weight buffers as changed (their packed forms are re-derived at the next run). */
export function weightsChanged(buffers: Iterable<ArrayBuffer>): void {
  for (const b of buffers) versions.set(b, versionOf(b) + 1);
}

interface Binding {
  readonly key: string;
  /** Packed buffers (by buffer id) and the version of their param when they were last valid. */
  readonly packed: Map<number, { readonly buffer: ArrayBuffer; version: number }>;
  readonly dims: Map<string, number>;
  readonly slots: BigInt64Array;
  readonly elements: number[];
  readonly memory: MemoryPlan;
  /** The arena of transients, from `arenaOffset` (64-byte aligned). */
  readonly arena: ArrayBuffer;
  readonly arenaOffset: number;
  readonly launches: Int32Array;
  readonly outputShapes: number[][];
}

export interface RunOptions {
  /** Values for dims the input shapes do not determine. */
  readonly dims?: Readonly<Record<string, number>>;
  /** Per-launch wall times (ns) are written here when given (one per launch). */
  readonly timings?: Float64Array;
  /**
   * Tensors to write outputs into, by output name (any of them; the others are allocated): each
   * must have the output's dtype and dims, lie on a fixed-length ArrayBuffer, and share no
   * memory with an input or another output. The result holds these same tensors. Passing the
   * previous call's result reuses its memory: `out = model.run(inputs, { outputs: out })`.
   */
  readonly outputs?: Readonly<Record<string, Tensor>>;
}

/** The arguments of one call, every property read once (see run-args.ts). */
interface Call {
  readonly inputs: readonly TensorArg[];
  readonly dims: Map<string, number> | undefined;
  readonly timings: unknown;
  /** Given output tensors (the caller's objects, returned as they are) and their snapshots. */
  readonly outputs: readonly ({ readonly tensor: Tensor; readonly arg: TensorArg } | undefined)[];
}

export class Executable {
  private readonly bindings = new Map<string, Binding>();
  /** Which input, output (by position) or param (by path) each buffer id is. */
  private readonly index: {
    readonly outputOf: ReadonlyMap<number, number>;
    readonly inputOf: ReadonlyMap<number, number>;
    readonly paramOf: ReadonlyMap<number, string>;
  };

  constructor(
    readonly plan: Plan,
    private readonly lib: NativeLibrary,
    /** Persistent buffers of params and buffers, by path (64-byte aligned). */
    private readonly weights: ReadonlyMap<string, ArrayBuffer>,
  ) {
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
    this.lib.setThreads(n);
  }

  /**
   * Runs the function on `inputs` (by name) and returns its outputs by name. The arguments are
   * read once (any user code they hold runs then), the buffers measured after that, and exactly
   * those buffers go to the kernels; see run-args.ts.
   */
  run(inputs: Readonly<Record<string, Tensor>>, opts: RunOptions = {}): Record<string, Tensor> {
    const call = this.read(inputs, opts);
    const shapes = new Map(this.plan.inputs.map((spec, i) => [spec.name, call.inputs[i]!.dims]));
    const b = this.bind(shapes, call.dims);
    const timings = checkTimings(call.timings, this.plan.launches.length);
    // From here on no user code runs until the kernels return.
    const pinned = this.plan.inputs.map((spec, i) => {
      const what = `input '${spec.name}'`;
      const p = pin(what, call.inputs[i]!, spec.dtype);
      checkValues(what, p, spec.dtype, call.inputs[i]!.dims);
      return p;
    });
    const given = this.plan.outputs.map((o, i) => {
      const g = call.outputs[i];
      if (!g) return undefined;
      const what = `output '${o.name}'`;
      const shape = b.outputShapes[i]!;
      if (g.arg.dims.some((d, a) => d !== shape[a]))
        throw new RunError(`${what} has dims [${g.arg.dims.join(', ')}], this call gives [${shape.join(', ')}]`);
      const p = pin(what, g.arg, o.dtype, true);
      if (pinned.some((q) => q.inPlace && overlaps(p, q)))
        throw new RunError(`${what} shares memory with an input: outputs must not overlap inputs`);
      return p;
    });
    given.forEach((p, i) => {
      if (p && given.some((q, j) => j < i && q !== undefined && overlaps(p, q)))
        throw new RunError(`output '${this.plan.outputs[i]!.name}' shares memory with another output`);
    });

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
      else at = given[outputOf.get(buf.id)!] ?? allocate(bytes, 'an output');
      views[buf.id] = at.buffer;
      offsets[buf.id] = at.offset;
    }
    try {
      native().run(this.lib, b.launches, views, offsets, b.slots, timings, needs);
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

  /** Reads the call's arguments, each property once, checking names, dtypes and ranks. */
  private read(inputs: unknown, opts: unknown): Call {
    if (inputs === null || typeof inputs !== 'object')
      throw new RunError('inputs must be an object of tensors by name');
    if (opts === null || typeof opts !== 'object') throw new RunError('options must be an object');
    const expected = this.plan.inputs.map((i) => i.name);
    for (const name of Object.keys(inputs))
      if (!expected.includes(name))
        throw new RunError(`unknown input '${name}'; the inputs are ${expected.map((n) => `'${n}'`).join(', ')}`);
    const args = this.plan.inputs.map((spec) => {
      const t: unknown = (inputs as Record<string, unknown>)[spec.name];
      if (t === undefined) throw new RunError(`missing input '${spec.name}'`);
      return readTensor(`input '${spec.name}'`, t, spec.dtype, spec.shape.length, want(spec.dtype, spec.shape));
    });
    const o = opts as { dims?: unknown; timings?: unknown; outputs?: unknown };
    const dims = readDimsOption(o.dims);
    const timings = o.timings;
    const given: unknown = o.outputs;
    let outputs: Call['outputs'] = [];
    if (given !== undefined) {
      if (given === null || typeof given !== 'object')
        throw new RunError('outputs must be an object of tensors by output name');
      const names = this.plan.outputs.map((x) => x.name);
      for (const name of Object.keys(given))
        if (!names.includes(name))
          throw new RunError(`unknown output '${name}'; the outputs are ${names.map((n) => `'${n}'`).join(', ')}`);
      outputs = this.plan.outputs.map((spec) => {
        const t: unknown = (given as Record<string, unknown>)[spec.name];
        if (t === undefined) return undefined;
        const arg = readTensor(`output '${spec.name}'`, t, spec.dtype, spec.shape.length, want(spec.dtype, spec.shape));
        return { tensor: t as Tensor, arg };
      });
    }
    return { inputs: args, dims, timings, outputs };
  }

  /** The memory plan for the dims that `inputs` bind (for reports). */
  memoryFor(shapes: ReadonlyMap<string, readonly number[]>, dims?: Readonly<Record<string, number>>): MemoryPlan {
    return this.bind(shapes, readDimsOption(dims)).memory;
  }

  /** The binding of these shapes and dims (our own copies: no user code runs here). */
  private bind(shapes: ReadonlyMap<string, readonly number[]>, given?: ReadonlyMap<string, number>): Binding {
    const key = JSON.stringify([[...shapes], [...(given ?? [])]]);
    const hit = this.bindings.get(key);
    if (hit) return hit;
    let dims: Map<string, number>;
    try {
      dims = bindDims({ inputs: this.plan.inputs.map((i) => ({ args: i })) }, shapes, given);
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
      const arena = allocate(memory.peakBytes, 'the arena of intermediate tensors');
      const packed = new Map(
        this.plan.buffers
          .filter((buf) => buf.kind === 'packed')
          .map((buf) => [buf.id, { buffer: native().alignedBuffer(elements[buf.id]! * 4), version: -1 }]),
      );
      const binding: Binding = {
        key,
        packed,
        dims,
        slots,
        elements,
        memory,
        arena: arena.buffer,
        arenaOffset: arena.offset,
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

/** How an input or output is declared, for messages: "f32[B, 4]". */
function want(dtype: Dtype, shape: Plan['inputs'][number]['shape']): string {
  return `${dtype}[${shape.map(dimToString).join(', ')}]`;
}

/** Launch records for the native runner: [kernel, argCount, buffer ids...] (views are indexed by buffer id). */
function encodeLaunches(plan: Plan): Int32Array {
  const out: number[] = [];
  for (const l of plan.launches) out.push(l.kernel, l.args.length, ...l.args);
  return Int32Array.from(out);
}
