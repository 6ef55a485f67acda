// Plans with hand-written WGSL kernels that follow the GPU launch contract (docs/runtime.md),
// for testing the WebGPU device and executable without the WGSL renderer: each kernel finds
// its flat index from the workgroup id (x, y) and its local id, and compares it with the
// count it was launched for; dims come in `d`, an array of vec4<i32>.

import { dimConst, dimSym } from '../../src/ir/dims.js';
import type { Dtype } from '../../src/ir/dtype.js';
import { type KExpr, type Kernel, int, ix } from '../../src/ir/kernel.js';
import type { Init } from '../../src/ir/ops.js';
import type { Plan, PlanBuffer } from '../../src/kernels/plan.js';
import type { WgslProgram } from '../../src/runtime/webgpu.js';

const ZEROS: Init = { fn: 'zeros', args: {} };
const slot0: KExpr = { k: 'dim', slot: 0 };

/** The prologue of a kernel of workgroup size `wg`: `i` is the flat index, `n` the bound it returns at. */
function kernel(bindings: string, wg: number, bound: string, body: string, vec4s = 1): string {
  return `${bindings}
@group(1) @binding(0) var<uniform> d: array<vec4<i32>, ${vec4s}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) g: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>,
        @builtin(local_invocation_id) l: vec3<u32>) {
  let i = i32((g.y * ng.x + g.x) * ${wg}u + l.x);
  if (i >= ${bound}) { return; }
${body}
}
`;
}

const ro = (b: number, name: string) => `@group(0) @binding(${b}) var<storage, read> ${name}: array<u32>;`;
const rw = (b: number, name: string) => `@group(0) @binding(${b}) var<storage, read_write> ${name}: array<u32>;`;
const rof = (b: number, name: string) => `@group(0) @binding(${b}) var<storage, read> ${name}: array<f32>;`;
const rwf = (b: number, name: string) => `@group(0) @binding(${b}) var<storage, read_write> ${name}: array<f32>;`;

/** A Kernel of the plan with its grid (its body is the WGSL text, kept beside it). */
const kdef = (name: string, params: Kernel['params'], invocations: KExpr, workgroup: number): Kernel => ({
  name,
  params,
  body: [],
  note: name,
  schedule: {},
  grid: { invocations, workgroup },
});

export interface TestPlan {
  readonly plan: Plan;
  readonly program: WgslProgram;
}

const buffer = (id: number, dtype: Dtype, kind: PlanBuffer['kind'], size = dimSym('N')): PlanBuffer => ({
  id,
  dtype,
  size,
  kind,
});

/** y = x as bytes, for x of `dtype`[N]: the kernel copies the ceil(N * bytes / 4) words. */
export function copyPlan(dtype: Dtype, bytesPerElement: number, wg = 64): TestPlan {
  const words = ix('/', ix('+', ix('*', slot0, int(bytesPerElement)), int(3)), int(4));
  const code = kernel(`${ro(0, 'x')}\n${rw(1, 'y')}`, wg, `(d[0][0] * ${bytesPerElement} + 3) / 4`, '  y[i] = x[i];');
  const plan: Plan = {
    name: `copy_${dtype}`,
    dims: ['N'],
    slots: [dimSym('N')],
    buffers: [buffer(0, dtype, 'input'), buffer(1, dtype, 'output')],
    kernels: [
      kdef(
        'k0_copy',
        [
          { dtype, access: 'read' },
          { dtype, access: 'write' },
        ],
        words,
        wg,
      ),
    ],
    launches: [{ kernel: 0, args: [0, 1] }],
    inputs: [{ name: 'x', buffer: 0, dtype, shape: [dimSym('N')] }],
    outputs: [{ name: 'y', buffer: 1, dtype, shape: [dimSym('N')] }],
    params: [],
    checks: [],
    updates: [],
  };
  return { plan, program: { kernels: [{ name: 'k0_copy', code, params: plan.kernels[0]!.params }], dimVec4s: 1 } };
}

/** t = 2x (a transient), y = t + w[:N] (w a param f32[1000]): two kernels in one launch list. */
export function twoKernelPlan(): TestPlan {
  const f = (access: 'read' | 'write') => ({ dtype: 'f32' as const, access });
  const double = kernel(`${rof(0, 'x')}\n${rwf(1, 't')}`, 32, 'd[0][0]', '  t[i] = 2.0 * x[i];');
  const addW = kernel(`${rof(0, 't')}\n${rof(1, 'w')}\n${rwf(2, 'y')}`, 32, 'd[0][0]', '  y[i] = t[i] + w[i];');
  const plan: Plan = {
    name: 'two',
    dims: ['N'],
    slots: [dimSym('N')],
    buffers: [
      buffer(0, 'f32', 'input'),
      buffer(1, 'f32', 'transient'),
      buffer(2, 'f32', 'param', dimConst(1000)),
      buffer(3, 'f32', 'output'),
    ],
    kernels: [
      kdef('k0_double', [f('read'), f('write')], slot0, 32),
      kdef('k1_add', [f('read'), f('read'), f('write')], slot0, 32),
    ],
    launches: [
      { kernel: 0, args: [0, 1] },
      { kernel: 1, args: [1, 2, 3] },
    ],
    inputs: [{ name: 'x', buffer: 0, dtype: 'f32', shape: [dimSym('N')] }],
    outputs: [{ name: 'y', buffer: 3, dtype: 'f32', shape: [dimSym('N')] }],
    params: [{ path: 'w', buffer: 2, role: 'param', dtype: 'f32', shape: [dimConst(1000)], init: ZEROS }],
    checks: [],
    updates: [],
  };
  const kernels = [
    { name: 'k0_double', code: double, params: plan.kernels[0]!.params },
    { name: 'k1_add', code: addW, params: plan.kernels[1]!.params },
  ];
  return { plan, program: { kernels, dimVec4s: 1 } };
}

/** y[i] = i for i < N (i32[N]), in workgroups of `wg`: N / wg over 65535 needs y > 1. */
export function iotaPlan(wg: number): TestPlan {
  const code = kernel(rw(0, 'y'), wg, 'd[0][0]', '  y[i] = u32(i);');
  const plan: Plan = {
    name: 'iota',
    dims: ['N'],
    slots: [dimSym('N')],
    buffers: [buffer(0, 'i32', 'output')],
    kernels: [kdef('k0_iota', [{ dtype: 'i32', access: 'write' }], slot0, wg)],
    launches: [{ kernel: 0, args: [0] }],
    inputs: [],
    outputs: [{ name: 'y', buffer: 0, dtype: 'i32', shape: [dimSym('N')] }],
    params: [],
    checks: [],
    updates: [],
  };
  return { plan, program: { kernels: [{ name: 'k0_iota', code, params: plan.kernels[0]!.params }], dimVec4s: 1 } };
}

/** y[0] = K for an x of f32[1]: K is a dim no input shape gives (it is passed in dims). */
export function dimPlan(): TestPlan {
  const code = kernel(`${ro(0, 'x')}\n${rw(1, 'y')}`, 1, '1', '  y[0] = u32(d[0][0]);');
  const one = [dimConst(1)];
  const plan: Plan = {
    name: 'dim',
    dims: ['K'],
    slots: [dimSym('K')],
    buffers: [buffer(0, 'f32', 'input', dimConst(1)), buffer(1, 'i32', 'output', dimConst(1))],
    kernels: [
      kdef(
        'k0_dim',
        [
          { dtype: 'f32', access: 'read' },
          { dtype: 'i32', access: 'write' },
        ],
        int(1),
        1,
      ),
    ],
    launches: [{ kernel: 0, args: [0, 1] }],
    inputs: [{ name: 'x', buffer: 0, dtype: 'f32', shape: one }],
    outputs: [{ name: 'y', buffer: 1, dtype: 'i32', shape: one }],
    params: [],
    checks: [],
    updates: [],
  };
  return { plan, program: { kernels: [{ name: 'k0_dim', code, params: plan.kernels[0]!.params }], dimVec4s: 1 } };
}
