// Runs a Plan lowered with target 'gpu' on Dawn, launch by launch, with the minimal
// dispatcher of dawn.ts (host bytes in and out around each launch: slow and simple), for the
// codegen's end-to-end tests against the interpreter.

import { renderWgsl } from '../../src/codegen/wgsl.js';
import { type Dim, dimConst, dimConstValue, dimSubst } from '../../src/ir/dims.js';
import type { KExpr } from '../../src/ir/kernel.js';
import type { HostTensor } from '../../src/ir/value.js';
import type { Plan } from '../../src/kernels/plan.js';
import { Tensor, fromHost, toHost, typedArray } from '../../src/runtime/tensor.js';
import { dispatch } from './dawn.js';

const BYTES: Record<string, number> = { f32: 4, i32: 4, i64: 8, f16: 2, bf16: 2, i8: 1, i4: 1, bool: 1 };

function evalDim(d: Dim, dims: ReadonlyMap<string, number>): number {
  const v = dimConstValue(dimSubst(d, new Map([...dims].map(([k, n]) => [k, dimConst(n)]))));
  if (v === undefined) throw new Error('unbound dim');
  return v;
}

/** A grid's invocations on the host: constants, dim slots, index arithmetic. */
export function evalGrid(e: KExpr, slots: readonly number[]): number {
  if (e.k === 'const') return e.v;
  if (e.k === 'dim') return slots[e.slot]!;
  if (e.k !== 'ix') throw new Error(`not host-evaluable: ${e.k}`);
  const [a, b] = [evalGrid(e.a, slots), evalGrid(e.b, slots)];
  const ops = {
    '+': a + b,
    '-': a - b,
    '*': a * b,
    '/': Math.trunc(a / b),
    '%': a % b,
    min: Math.min(a, b),
    max: Math.max(a, b),
  };
  return ops[e.op];
}

export async function runPlan(
  device: GPUDevice,
  plan: Plan,
  dims: ReadonlyMap<string, number>,
  inputs: ReadonlyMap<string, HostTensor>,
  params: ReadonlyMap<string, HostTensor>,
): Promise<Map<string, HostTensor>> {
  const slots = plan.slots.map((d) => evalDim(d, dims));
  const bytes = plan.buffers.map((b) => new Uint8Array(evalDim(b.size, dims) * BYTES[b.dtype]!));
  const put = (id: number, t: HostTensor): void => {
    const data = fromHost(t).data;
    bytes[id]!.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  };
  for (const i of plan.inputs) put(i.buffer, inputs.get(i.name)!);
  for (const p of plan.params) put(p.buffer, params.get(p.path)!);
  const { kernels, dimVec4s } = renderWgsl(plan);
  for (const l of plan.launches) {
    const k = kernels[l.kernel]!;
    const out = await dispatch(
      device,
      k,
      l.args.map((id) => bytes[id]!),
      slots,
      dimVec4s,
      evalGrid(k.grid.invocations, slots),
    );
    l.args.forEach((id, i) => k.params[i]!.access !== 'read' && (bytes[id] = out[i]!));
  }
  return new Map(
    plan.outputs.map((o) => {
      const shape = o.shape.map((d) => evalDim(d, dims));
      const n = shape.reduce((a, b) => a * b, 1);
      const buf = bytes[o.buffer]!;
      const data = typedArray(o.dtype, n, buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), 0);
      return [o.name, toHost(new Tensor(o.dtype, data, shape))];
    }),
  );
}
