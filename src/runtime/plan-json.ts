// Plans as JSON (plan.json of a compiled module): dims as text, kernels by name with their
// schedule (their code is the C or WGSL source next to it) and, on GPU targets, their grid. Reading validates the structure, so a
// damaged file is an error, never a crash later in the runtime.

import { type Dim, dimToString } from '../ir/dims.js';
import { parseDim } from '../ir/dim-text.js';
import { type Dtype, isDtype } from '../ir/dtype.js';
import type { IndexOp, KExpr, KernelGrid } from '../ir/kernel.js';
import { INIT_FNS, type Init } from '../ir/ops.js';
import type { BufferKind, Plan } from '../kernels/plan.js';

export const PLAN_FORMAT = 'fmc-plan-1';

export class PlanFormatError extends Error {
  override name = 'PlanFormatError';
}

const dims = (s: readonly Dim[]): string[] => s.map(dimToString);

export function planToJson(p: Plan): unknown {
  return {
    name: p.name,
    dims: p.dims,
    slots: dims(p.slots),
    buffers: p.buffers.map((b) => ({
      dtype: b.dtype,
      size: dimToString(b.size),
      kind: b.kind,
      ...(b.from !== undefined ? { from: b.from } : {}),
    })),
    kernels: p.kernels.map((k) => ({
      name: k.name,
      note: k.note,
      schedule: k.schedule,
      ...(k.grid ? { grid: k.grid } : {}),
    })),
    launches: p.launches.map((l) => [l.kernel, ...l.args]),
    inputs: p.inputs.map((t) => ({ ...t, shape: dims(t.shape) })),
    outputs: p.outputs.map((t) => ({ ...t, shape: dims(t.shape) })),
    params: p.params.map((t) => ({ ...t, shape: dims(t.shape) })),
    checks: p.checks.map((c) => ({
      value: dimToString(c.value),
      ...(c.unless ? { unless: dimToString(c.unless) } : {}),
      what: c.what,
    })),
    updates: p.updates,
    ...(p.writesParams !== undefined ? { writesParams: p.writesParams } : {}),
  };
}

type J = Record<string, unknown>;

function need<T>(ok: boolean, what: string, v: T): T {
  if (!ok) throw new PlanFormatError(`plan: bad ${what}`);
  return v;
}
const arr = (v: unknown, what: string): unknown[] => need(Array.isArray(v), what, v as unknown[]);
const obj = (v: unknown, what: string): J => need(!!v && typeof v === 'object' && !Array.isArray(v), what, v as J);
const str = (v: unknown, what: string): string => need(typeof v === 'string', what, v as string);
const nat = (v: unknown, what: string, below = Infinity): number =>
  need(Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) < below, what, v as number);
const dtype = (v: unknown, what: string): Dtype => need(typeof v === 'string' && isDtype(v), what, v as Dtype);
function dim(v: unknown, what: string): Dim {
  try {
    return parseDim(str(v, what));
  } catch {
    throw new PlanFormatError(`plan: bad ${what}`);
  }
}

const INDEX_OPS: readonly string[] = ['+', '-', '*', '/', '%', 'min', 'max'];

/** A launch grid's invocation count: i64 constants, dim slots below `slots` and index arithmetic only. */
function readGridExpr(v: unknown, slots: number, depth = 0): KExpr {
  const x = obj(v, 'grid expression');
  need(depth < 64, 'grid expression (too deep)', 0);
  if (x.k === 'const' && x.t === 'i64')
    return { k: 'const', t: 'i64', v: need(Number.isSafeInteger(x.v), 'grid constant', x.v as number) };
  if (x.k === 'dim') return { k: 'dim', slot: nat(x.slot, 'grid slot', slots) };
  need(x.k === 'ix' && typeof x.op === 'string' && INDEX_OPS.includes(x.op), 'grid expression', 0);
  return {
    k: 'ix',
    op: x.op as IndexOp,
    a: readGridExpr(x.a, slots, depth + 1),
    b: readGridExpr(x.b, slots, depth + 1),
  };
}

function readGrid(v: unknown, slots: number): KernelGrid {
  const x = obj(v, 'kernel grid');
  return {
    invocations: readGridExpr(x.invocations, slots),
    workgroup: nat(x.workgroup, 'workgroup size', 1025) || need(false, 'workgroup size', 1),
  };
}

/** Reads a plan written by planToJson; kernels come back without bodies (the library has them). */
export function planFromJson(v: unknown, kernelCount: number): Plan {
  const o = obj(v, 'plan');
  const buffers = arr(o.buffers, 'buffers').map((b, id) => {
    const x = obj(b, 'buffer');
    const kind = str(x.kind, 'buffer kind') as BufferKind;
    need(['input', 'param', 'output', 'transient', 'packed'].includes(kind), 'buffer kind', 0);
    need((kind === 'packed') === (x.from !== undefined), 'packed buffer source', 0);
    const from = x.from !== undefined ? { from: nat(x.from, 'packed buffer source', id) } : {};
    return { id, dtype: dtype(x.dtype, 'buffer dtype'), size: dim(x.size, 'buffer size'), kind, ...from };
  });
  const nb = buffers.length;
  const slotCount = arr(o.slots, 'slots').length;
  // A packed buffer is derived from a param, of 4-byte elements (the runtime allocates 4 a
  // element): f32 panels, or a block-sparse weight's i32 indices (kernels/gemm-sparse.ts).
  for (const b of buffers)
    need(
      b.from === undefined || (['f32', 'i32'].includes(b.dtype) && buffers[b.from]!.kind === 'param'),
      'packed buffer',
      0,
    );
  const kernels = arr(o.kernels, 'kernels').map((k) => {
    const x = obj(k, 'kernel');
    const grid = x.grid === undefined ? {} : { grid: readGrid(x.grid, slotCount) };
    return {
      name: str(x.name, 'kernel name'),
      note: str(x.note, 'kernel note'),
      params: [],
      body: [],
      schedule: {},
      ...grid,
    };
  });
  need(kernels.length === kernelCount, `kernel count (${kernels.length}, the library has ${kernelCount})`, 0);
  const tensor = (t: unknown) => {
    const x = obj(t, 'tensor');
    return {
      name: str(x.name, 'tensor name'),
      buffer: nat(x.buffer, 'tensor buffer', nb),
      dtype: dtype(x.dtype, 'tensor dtype'),
      shape: arr(x.shape, 'tensor shape').map((d) => dim(d, 'tensor dim')),
    };
  };
  return {
    name: str(o.name, 'name'),
    dims: arr(o.dims, 'dims').map((d) => str(d, 'dim name')),
    slots: arr(o.slots, 'slots').map((d) => dim(d, 'slot')),
    buffers,
    kernels,
    launches: arr(o.launches, 'launches').map((l) => {
      const [kernel, ...args] = arr(l, 'launch');
      return { kernel: nat(kernel, 'launch kernel', kernelCount), args: args.map((a) => nat(a, 'launch arg', nb)) };
    }),
    inputs: arr(o.inputs, 'inputs').map(tensor),
    outputs: arr(o.outputs, 'outputs').map(tensor),
    params: arr(o.params, 'params').map((t) => {
      const x = obj(t, 'param');
      const init = obj(x.init, 'init');
      const fn = str(init.fn, 'init fn');
      need((INIT_FNS as readonly string[]).includes(fn), 'init fn', 0);
      const role = str(x.role, 'param role');
      need(role === 'param' || role === 'buffer', 'param role', 0);
      return {
        path: str(x.path, 'param path'),
        buffer: nat(x.buffer, 'param buffer', nb),
        role: role as 'param' | 'buffer',
        dtype: dtype(x.dtype, 'param dtype'),
        shape: arr(x.shape, 'param shape').map((d) => dim(d, 'param dim')),
        init: init as unknown as Init,
      };
    }),
    checks: arr(o.checks, 'checks').map((c) => {
      const x = obj(c, 'check');
      return {
        value: dim(x.value, 'check value'),
        ...(x.unless !== undefined ? { unless: dim(x.unless, 'check condition') } : {}),
        what: str(x.what, 'check text'),
      };
    }),
    updates: arr(o.updates, 'updates').map((u) => {
      const x = obj(u, 'update');
      return { path: str(x.path, 'update path'), from: nat(x.from, 'update buffer', nb) };
    }),
    ...(o.writesParams !== undefined
      ? { writesParams: need(typeof o.writesParams === 'boolean', 'writesParams', o.writesParams as boolean) }
      : {}),
  };
}
