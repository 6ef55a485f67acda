// What the two GPU executables (gpu-executable.ts on WebGPU, cuda-executable.ts on CUDA) do
// the same way around a launch list: read and check a call, bind its dims, pin its inputs,
// point the params at their device copies, upload the inputs (and mark packed buffers stale),
// and, once the outputs are downloaded, hand them back in the caller's tensors or new ones.
// Where the memory lives and how a binding is made stay each executable's own. No Node imports.

import type { KParam } from '../ir/kernel.js';
import type { Plan } from '../kernels/plan.js';
import { type BoundDims, type Call, type RunOptions, callShapes, pinCall, readCall } from './call.js';
import type { LaunchList } from './device.js';
import { type Pinned, RunError, plainAllocate } from './run-args.js';
import { Tensor, typedArray } from './tensor.js';

/** A binding of dims on a GPU: the device memory of each buffer id and the launch data. */
export interface DeviceBinding<M> extends BoundDims {
  readonly mem: readonly M[];
  readonly offsets: Float64Array;
  readonly bytes: Float64Array;
  readonly records: Int32Array;
  readonly grids: Uint32Array;
}

/** A call started on a device: its arguments, binding, given outputs and the launch list to queue. */
export interface StartedCall<M, B extends DeviceBinding<M>> {
  readonly call: Call;
  readonly b: B;
  readonly given: readonly (Pinned | undefined)[];
  readonly list: LaunchList<M>;
}

/**
 * Starts a call: `bind` gives the binding of its shapes and dims, `weight(path)` a param's
 * device memory, `upload` copies host bytes into device memory.
 */
export function startCall<M, B extends DeviceBinding<M>>(
  plan: Plan,
  inputs: Readonly<Record<string, Tensor>>,
  opts: RunOptions,
  bind: (shapes: ReadonlyMap<string, readonly number[]>, dims?: ReadonlyMap<string, number>) => B,
  weight: (path: string) => M,
  upload: (dst: M, offset: number, src: Uint8Array) => void,
): StartedCall<M, B> {
  const call = readCall(plan, inputs, opts);
  if (call.timings !== undefined) throw new RunError('timings are measured on the C target only');
  const b = bind(callShapes(plan, call), call.dims);
  const { inputs: pinned, outputs: given } = pinCall(plan, call, b.outputShapes, plainAllocate);
  const mem = b.mem.slice();
  for (const p of plan.params) mem[p.buffer] = weight(p.path);
  plan.inputs.forEach((spec, i) => {
    const p = pinned[i]!;
    upload(mem[spec.buffer]!, 0, new Uint8Array(p.buffer, p.offset, p.bytes));
  });
  // A packed buffer is derived again (its first element zeroed) whenever a param may have changed.
  if (plan.writesParams !== false)
    for (const buf of plan.buffers) if (buf.kind === 'packed') upload(mem[buf.id]!, 0, new Uint8Array(4));
  const list = { records: b.records, mem, offsets: b.offsets, bytes: b.bytes, dims: b.slots, grids: b.grids };
  return { call, b, given, list };
}

/** The outputs of a call from their downloaded bytes (`got[i]`, in plan order): given tensors filled, others made. */
export function callOutputs<M>(
  plan: Plan,
  started: Pick<StartedCall<M, DeviceBinding<M>>, 'call' | 'b' | 'given'>,
  got: readonly Uint8Array[],
): Record<string, Tensor> {
  const { call, b, given } = started;
  const result: Record<string, Tensor> = {};
  plan.outputs.forEach((o, i) => {
    const g = call.outputs[i];
    const bytes = got[i]!;
    if (g) {
      const p = given[i]!;
      if (p.bytes > 0) new Uint8Array(p.buffer, p.offset, p.bytes).set(bytes);
      result[o.name] = g.tensor;
    } else
      result[o.name] = new Tensor(
        o.dtype,
        typedArray(o.dtype, b.elements[o.buffer]!, bytes.buffer as ArrayBuffer),
        b.outputShapes[i]!,
      );
  });
  return result;
}

/**
 * The params (by path) whose buffers some kernel of the plan writes in place: a run leaves
 * them changed on the device. `access(k, i)` is how kernel k uses its argument i.
 */
export function paramsWrittenInPlace(plan: Plan, access: (k: number, i: number) => KParam['access']): Set<string> {
  const byBuffer = new Map(plan.params.map((p) => [p.buffer, p.path]));
  const out = new Set<string>();
  for (const l of plan.launches)
    l.args.forEach((id, i) => {
      const path = byBuffer.get(id);
      if (path !== undefined && access(l.kernel, i) !== 'read') out.add(path);
    });
  return out;
}
