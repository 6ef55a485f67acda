// What every target's executable does with a call before its device sees it: read the
// arguments once (run-args.ts), bind the dims from the input shapes and check them, and pin
// the input and given output memory. No Node imports: the WebGPU executable runs in a browser.

import type { Dtype } from '../ir/dtype.js';
import { dimConstValue, dimToString } from '../ir/dims.js';
import { EvalError, bindDims, concreteInt, concreteShape } from '../ir/interp.js';
import { showDims } from '../ir/value.js';
import type { Plan } from '../kernels/plan.js';
import {
  type Allocate,
  type Pinned,
  RunError,
  type TensorArg,
  checkValues,
  overlaps,
  pin,
  readDimsOption,
  readTensor,
} from './run-args.js';
import { ELEMENT_BYTES, type Tensor } from './tensor.js';

export interface RunOptions {
  /** Values for dims the input shapes do not determine. */
  readonly dims?: Readonly<Record<string, number>>;
  /** Per-launch wall times (ns) are written here when given (one per launch; C target only). */
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
export interface Call {
  readonly inputs: readonly TensorArg[];
  readonly dims: Map<string, number> | undefined;
  readonly timings: unknown;
  /** Given output tensors (the caller's objects, returned as they are) and their snapshots. */
  readonly outputs: readonly ({ readonly tensor: Tensor; readonly arg: TensorArg } | undefined)[];
}

/** How an input or output is declared, for messages: "f32[B, 4]". */
function want(dtype: Dtype, shape: Plan['inputs'][number]['shape']): string {
  return `${dtype}[${shape.map(dimToString).join(', ')}]`;
}

/** Reads a call's arguments, each property once, checking names, dtypes and ranks. */
export function readCall(plan: Plan, inputs: unknown, opts: unknown): Call {
  if (inputs === null || typeof inputs !== 'object') throw new RunError('inputs must be an object of tensors by name');
  if (opts === null || typeof opts !== 'object') throw new RunError('options must be an object');
  const expected = plan.inputs.map((i) => i.name);
  for (const name of Object.keys(inputs))
    if (!expected.includes(name))
      throw new RunError(`unknown input '${name}'; the inputs are ${expected.map((n) => `'${n}'`).join(', ')}`);
  const args = plan.inputs.map((spec) => {
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
    const names = plan.outputs.map((x) => x.name);
    for (const name of Object.keys(given))
      if (!names.includes(name))
        throw new RunError(`unknown output '${name}'; the outputs are ${names.map((n) => `'${n}'`).join(', ')}`);
    outputs = plan.outputs.map((spec) => {
      const t: unknown = (given as Record<string, unknown>)[spec.name];
      if (t === undefined) return undefined;
      const arg = readTensor(`output '${spec.name}'`, t, spec.dtype, spec.shape.length, want(spec.dtype, spec.shape));
      return { tensor: t as Tensor, arg };
    });
  }
  return { inputs: args, dims, timings, outputs };
}

/** The input shapes of a call, by name. */
export const callShapes = (plan: Plan, call: Call): Map<string, readonly number[]> =>
  new Map(plan.inputs.map((spec, i) => [spec.name, call.inputs[i]!.dims]));

/** The key a binding of these shapes and dims is cached under. */
export const bindingKey = (shapes: ReadonlyMap<string, readonly number[]>, given?: ReadonlyMap<string, number>) =>
  JSON.stringify([[...shapes], [...(given ?? [])]]);

/** Dims bound from a call's shapes: the slot values, element counts and output shapes. */
export interface BoundDims {
  readonly dims: Map<string, number>;
  readonly slots: BigInt64Array;
  readonly elements: number[];
  readonly outputShapes: number[][];
}

/**
 * Binds the plan's dims from the input shapes (and given dims), checks the plan's conditions,
 * and that each param's weights (`weightBytes(path)` bytes) fit: a RunError otherwise.
 */
export function bindPlanDims(
  plan: Plan,
  shapes: ReadonlyMap<string, readonly number[]>,
  given: ReadonlyMap<string, number> | undefined,
  weightBytes: (path: string) => number,
): BoundDims {
  try {
    const dims = bindDims({ inputs: plan.inputs.map((i) => ({ args: i })) }, shapes, given);
    for (const d of plan.dims)
      if (!dims.has(d)) throw new EvalError(`dim '${d}' is not determined by the input shapes; give it in dims`);
    for (const c of plan.checks)
      if (concreteInt(c.value, dims) < 0 && (c.unless === undefined || concreteInt(c.unless, dims) !== 0))
        throw new EvalError(`${c.what} with ${[...dims].map(([k, v]) => `${k} = ${v}`).join(', ')}`);
    const slots = BigInt64Array.from(plan.slots.map((s) => BigInt(concreteInt(s, dims))));
    const elements = plan.buffers.map((buf) => concreteInt(buf.size, dims));
    const bad = plan.buffers.find((buf) => elements[buf.id]! < 0);
    if (bad) throw new EvalError(`a tensor of the model has ${elements[bad.id]} elements with these dims`);
    for (const p of plan.params) {
      const need = elements[p.buffer]! * ELEMENT_BYTES[p.dtype];
      const have = weightBytes(p.path);
      if (have !== need) throw new EvalError(`weights of '${p.path}' hold ${have} bytes, the model needs ${need}`);
    }
    return { dims, slots, elements, outputShapes: plan.outputs.map((o) => concreteShape(o.shape, dims)) };
  } catch (e) {
    if (e instanceof EvalError) throw new RunError(e.message);
    throw e;
  }
}

/** Bytes of a plan's params (their shapes are constant): what its bound weights take (`fmc bench` reports it). */
export function planWeightBytes(plan: Plan): number {
  const size = (p: Plan['params'][number]): number =>
    p.shape.reduce((n, d) => {
      const v = dimConstValue(d);
      if (v === undefined) throw new Error(`internal: param ${p.path} has a shape that is not constant`);
      return n * v;
    }, 1);
  return plan.params.reduce((sum, p) => sum + size(p) * ELEMENT_BYTES[p.dtype], 0);
}

/** A map that keeps the 8 bindings used last. */
export function remember<T>(cache: Map<string, T>, key: string, value: T): T {
  if (cache.size >= 8) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
  return value;
}

/**
 * Pins a call's inputs (checking bool and i4 values) and its given outputs (dims as bound, no
 * overlap with an input or another output). From here on no user code runs.
 */
export function pinCall(
  plan: Plan,
  call: Call,
  outputShapes: readonly (readonly number[])[],
  allocate: Allocate,
): { inputs: Pinned[]; outputs: (Pinned | undefined)[] } {
  const inputs = plan.inputs.map((spec, i) => {
    const what = `input '${spec.name}'`;
    const p = pin(what, call.inputs[i]!, spec.dtype, allocate);
    checkValues(what, p, spec.dtype, call.inputs[i]!.dims);
    return p;
  });
  const outputs = plan.outputs.map((o, i) => {
    const g = call.outputs[i];
    if (!g) return undefined;
    const what = `output '${o.name}'`;
    const shape = outputShapes[i]!;
    if (g.arg.dims.some((d, a) => d !== shape[a]))
      throw new RunError(`${what} has dims ${showDims(g.arg.dims)}, this call gives ${showDims(shape)}`);
    const p = pin(what, g.arg, o.dtype, allocate, true);
    if (inputs.some((q) => q.inPlace && overlaps(p, q)))
      throw new RunError(`${what} shares memory with an input: outputs must not overlap inputs`);
    return p;
  });
  outputs.forEach((p, i) => {
    if (p && outputs.some((q, j) => j < i && q !== undefined && overlaps(p, q)))
      throw new RunError(`output '${plan.outputs[i]!.name}' shares memory with another output`);
  });
  return { inputs, outputs };
}

/** Launch records: [kernel, argCount, buffer ids...] (memory is indexed by buffer id). */
export function encodeLaunches(plan: Plan): Int32Array {
  const out: number[] = [];
  for (const l of plan.launches) out.push(l.kernel, l.args.length, ...l.args);
  return Int32Array.from(out);
}
