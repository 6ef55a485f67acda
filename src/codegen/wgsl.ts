// The WGSL dialect of the renderer: one module per kernel, entry point `main`, following the
// GPU launch contract (src/ir/kernel.ts KernelGrid; the runtime's WebGPU device relies on it):
//   buffer param i: @group(0) @binding(i), var<storage, read> for access 'read', read_write
//     otherwise; f32 as array<f32>, i32 as array<i32>, the other dtypes as 32-bit words
//     (array<i32>, array<atomic<i32>> when sub-word elements are stored), holding the host bytes;
//   dims: @group(1) @binding(0) var<uniform> d: array<vec4<i32>, N>, slot s at d[s / 4][s % 4];
//   the flat invocation index (wy * x + wx) * workgroup + local_x, compared with the grid's
//     invocations by the kernel itself (grid.ts).
// Kernels are legalized first (legalize-wgsl.ts): indices in i32, integer values as
// vec2<u32> through prelude calls, word-level storage access, NaN-safe float compares; what
// is left maps one to one onto WGSL.

import { type Dtype, isFloat } from '../ir/dtype.js';
import type { KParam, KScalar, Kernel, KernelGrid } from '../ir/kernel.js';
import { bindGrid } from '../kernels/grid.js';
import type { Plan } from '../kernels/plan.js';
import { legalizeHalves } from './legalize-half.js';
import { legalizeWgsl } from './legalize-wgsl.js';
import { WGSL_BF16_PRELUDE, halvesUsed, wgslF16Prelude } from './prelude-half.js';
import { WGSL_PRELUDE } from './prelude-wgsl.js';
import { type Dialect, bufName, checkIdent, escapeComment, hexFloat, renderKernel, sharedArrays } from './render.js';

// f16 is WGSL's f16 with `shader-f16` (native), else an f32 holding an f16 value; bf16 is
// always an f32 holding a bf16 value (prelude-half.ts rounds after each op). An i64 is a
// legalized integer value, its two words (prelude-wgsl-i64.ts).
const SCALAR: Record<KScalar, string> = {
  f32: 'f32',
  f16: 'f32',
  bf16: 'f32',
  i32: 'i32',
  bool: 'bool',
  i64: 'vec2<u32>',
};

function scalarOf(native: boolean): (t: KScalar) => string {
  return (t) => (native && t === 'f16' ? 'f16' : SCALAR[t]);
}

function intLit(v: number): string {
  if (v >= 2 ** 31 && v < 2 ** 32) return `bitcast<i32>(${v}u)`; // a Philox key word
  const c = Math.min(2 ** 31 - 1, Math.max(-(2 ** 31), Math.trunc(v)));
  return c === -(2 ** 31) ? '(-2147483647i - 1i)' : c < 0 ? `(${c}i)` : `${c}i`;
}

/** Exact: hex for normals and zeros; subnormals, NaN and ±Inf by their bits through a call (not const-evaluated). */
function floatLit(v: number): string {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setFloat32(0, v);
  const bits = buf.getUint32(0);
  const exp = (bits >>> 23) & 0xff;
  if (exp === 0xff || (exp === 0 && (bits & 0x7fffff) !== 0)) return `fmc_bits_f32(0x${bits.toString(16)}u)`;
  return `${hexFloat(v)}f`.replace(/^(-.*)$/, '($1)');
}

const toFloatDtype = (to: Dtype, text: string): string =>
  to === 'f16' ? `fmc_h2f(fmc_f2h(${text}))` : to === 'bf16' ? `fmc_bf2f(fmc_f2bf(${text}))` : text;

/**
 * fmc's cast on compute values (floats f32, integers i32, bool; f16 and bf16 values come
 * widened, legalize-half.ts), computed in f32, then held as compute type `t` (a native f16 by
 * an exact conversion: the value is already rounded to f16).
 */
function castOf(native: boolean): Dialect['cast'] {
  return (from, to, text, ta, t) => {
    if (from === to && ta === t) return text;
    const x = native && ta === 'f16' ? `f32(${text})` : text;
    const v = from === to ? x : cast(from, to, x);
    return native && t === 'f16' && ta !== 'f16' ? `f16(${v})` : v;
  };
}

/** fmc's cast between floats, or from bool to a float (legalization rewrote the others). */
function cast(from: Dtype, to: Dtype, text: string): string {
  if (from === 'bool' && isFloat(to)) return `select(0.0f, 1.0f, ${text})`;
  if (isFloat(from) && isFloat(to)) return toFloatDtype(to, text);
  throw new Error(`internal: a cast from ${from} to ${to} reached the WGSL dialect (not legalized)`);
}

function identity(d: Dtype, text: string): string {
  if (d !== 'f32' && d !== 'i32') throw new Error(`internal: a ${d} element access reached WGSL (not legalized)`);
  return text;
}

const elementType = (p: KParam): string =>
  p.words === 'atomic' ? 'atomic<i32>' : p.words === 'plain' ? 'i32' : p.dtype === 'f32' ? 'f32' : 'i32';

const SHIFT: Record<string, (a: string, b: string) => string> = {
  '<<': (a, b) => `(${a} << u32(${b}))`,
  '>>': (a, b) => `(${a} >> u32(${b}))`,
  '>>>': (a, b) => `bitcast<i32>(bitcast<u32>(${a}) >> u32(${b}))`,
};

const unsupported = (what: string) => (): never => {
  throw new Error(`internal: ${what} reached the WGSL dialect (lower with target 'gpu')`);
};

/** The WGSL dialect; `native`: f16 values are WGSL f16 (the device has `shader-f16`). */
function wgslDialect(native: boolean): Dialect {
  const scalar = scalarOf(native);
  return {
    name: 'wgsl',
    storage: (d) => (d === 'f32' ? 'f32' : 'i32'),
    scalar,
    floatLit: (v, t) => (native && t === 'f16' ? `f16(${floatLit(v)})` : floatLit(v)),
    intLit,
    boolLit: (v) => `${v}`,
    loadConv: identity,
    storeConv: identity,
    cast: castOf(native),
    call: (name, args) => `${name}(${args.join(', ')})`,
    fma: (a, b, c) => `fma(${a}, ${b}, ${c})`,
    gid: (which) =>
      which === 'gid' ? 'fmc_gid' : which === 'lid' ? 'i32(fmc_l)' : 'i32(fmc_wg.y * fmc_nwg.x + fmc_wg.x)',
    dim: (slot) => `d[${slot >> 2}][${slot & 3}]`,
    loopPragmas: () => [],
    forOpen: (v, lo, hi, step) => `for (var ${v}: i32 = ${lo}; ${v} < ${hi}; ${v} += ${step}) {`,
    declare: (name, t, value) => `var ${name}: ${scalar(t)} = ${value};`,
    assign: (target, value) => `${target} = ${value};`,
    element: (array, index) => `${array}[${index}]`,
    store: (buf, index, value) => `${bufName(buf)}[${index}] = ${value};`,
    select: (c, a, b) => `select(${b}, ${a}, ${c})`,
    not: (a) => `(!${a})`,
    infix: (op, a, b) => `(${a} ${op} ${b})`,
    word: (buf, index, atomic) => (atomic ? `atomicLoad(&${bufName(buf)}[${index}])` : `${bufName(buf)}[${index}]`),
    bits: (op, a, b) => SHIFT[op]?.(a, b) ?? `(${a} ${op} ${b})`,
    bitcast: (to, a) => `bitcast<${to}>(${a})`,
    wstore: (buf, index, value, mask, atomic) => {
      const w = `${bufName(buf)}[${index}]`;
      if (mask === undefined) return atomic ? `atomicStore(&${w}, ${value});` : `${w} = ${value};`;
      return `atomicAnd(&${w}, ~${mask}); atomicOr(&${w}, ${value});`;
    },
    ifOpen: (cond) => `if (${cond}) {`,
    elseOpen: () => '} else {',
    blockClose: () => '}',
    declareArray: (name, t, size, space) => {
      // Shared arrays are module-scope var<workgroup> (sharedArrays), hoisted before rendering.
      if (space !== 'local') throw new Error(`internal: a ${space} array reached the WGSL dialect`);
      return `var ${name}: array<${scalar(t)}, ${size}>;`;
    },
    barrier: () => 'workgroupBarrier();',
    mma: unsupported("an 'mma' statement"),
    kernelOpen: (k) => {
      const wg = k.grid?.workgroup ?? 1;
      return [
        `/* ${k.name}: ${escapeComment(k.note)} */`,
        `@compute @workgroup_size(${wg})`,
        'fn main(@builtin(workgroup_id) fmc_wg: vec3<u32>, @builtin(num_workgroups) fmc_nwg: vec3<u32>,',
        '        @builtin(local_invocation_index) fmc_l: u32) {',
        `  let fmc_gid = i32((fmc_wg.y * fmc_nwg.x + fmc_wg.x) * ${wg}u + fmc_l);`,
      ];
    },
    kernelClose: () => ['}'],
    file: unsupported('a whole file (WGSL renders one module per kernel: renderWgsl)'),
  };
}

export const WGSL_DIALECT: Dialect = wgslDialect(false);
const WGSL_F16_DIALECT: Dialect = wgslDialect(true);

/** One rendered WGSL kernel: its module, launch grid and buffer params (the runtime's bind group 0). */
export interface WgslKernel {
  readonly name: string;
  readonly code: string;
  readonly grid: KernelGrid;
  readonly params: readonly { readonly access: KParam['access']; readonly dtype: Dtype }[];
}

/** How many vec4<i32> the dims uniform of a plan's kernels holds. */
export const dimVec4s = (slots: number): number => Math.max(1, Math.ceil(slots / 4));

/** WGSL rendering options. */
export interface WgslOptions {
  /** The device has `shader-f16`: f16 values compute as WGSL f16 (`enable f16;`). Default false. */
  readonly shaderF16?: boolean;
}

/** The module of one kernel (grid-bound, or bound here with the default workgroup). */
export function renderWgslKernel(
  kernel: Kernel,
  vec4s: number,
  header = 'generated by fmc',
  opts: WgslOptions = {},
): WgslKernel {
  const native = opts.shaderF16 ?? false;
  const bound = kernel.grid ? kernel : bindGrid(kernel);
  const { kernel: k, shared } = sharedArrays(legalizeWgsl(legalizeHalves(bound)));
  const bindings = k.params.map(
    (p, i) =>
      `@group(0) @binding(${i}) var<storage, ${p.access === 'read' ? 'read' : 'read_write'}> ${bufName(i)}: array<${elementType(p)}>;`,
  );
  const scalar = scalarOf(native);
  const arrays = shared.map((a) => `var<workgroup> ${checkIdent(a.name)}: array<${scalar(a.t)}, ${a.size}>;`);
  const body = renderKernel(k, native ? WGSL_F16_DIALECT : WGSL_DIALECT);
  const used = halvesUsed([body, ...arrays].join('\n'));
  const code = [
    ...(native && used.f16 ? ['enable f16;'] : []),
    `/* ${escapeComment(header)} */`,
    WGSL_PRELUDE.trim(),
    ...(used.f16 ? [wgslF16Prelude(native)] : []),
    ...(used.bf16 ? [WGSL_BF16_PRELUDE] : []),
    '',
    ...bindings,
    `@group(1) @binding(0) var<uniform> d: array<vec4<i32>, ${vec4s}>;`,
    ...arrays,
    '',
    body,
    '',
  ].join('\n');
  return {
    name: k.name,
    code,
    grid: bound.grid!,
    params: kernel.params.map((p) => ({ access: p.access, dtype: p.dtype })),
  };
}

/** Every kernel of a plan as its own WGSL module. */
export function renderWgsl(
  plan: Plan,
  header?: string,
  opts: WgslOptions = {},
): { kernels: WgslKernel[]; dimVec4s: number } {
  const n = dimVec4s(plan.slots.length);
  return { kernels: plan.kernels.map((k) => renderWgslKernel(k, n, header, opts)), dimVec4s: n };
}
