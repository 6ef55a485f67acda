// The C dialect of the renderer: C11, compiled by the system C compiler into a shared
// library with the ABI the native runtime expects (runtime-native/README.md):
//   void kN(void *const *restrict a, const int64_t *restrict d);   one per kernel
//   fmc_abi_version, fmc_kernel_count, fmc_kernels[], fmc_set_threads(n), fmc_set_parallel(f)
// Parallel loops are outlined and run on the runtime's thread pool (c-parallel.ts); SIMD
// loops keep OpenMP's `omp simd`.

import { DTYPE_BITS, type Dtype, isFloat } from '../ir/dtype.js';
import type { CpuSchedule, KExpr, KParam, KScalar, KStmt, Kernel } from '../ir/kernel.js';
import { C_PRELUDE } from './prelude-c.js';
import { C_HALF_PRELUDE, halvesUsed } from './prelude-half.js';
import { MMA_PREFETCH, MMA_PRELUDE, mmaCall, mmaFunction, usesPrefetch } from './c-mma.js';
import { DOT8_PRELUDE, dot8Call, usesDot8 } from './c-dot8.js';
import { DOTBF16_PRELUDE, dotbf16Call, dotbf16Function } from './c-dotbf16.js';
import { Outliner, PARALLEL_MIN_WORK, PARALLEL_PRELUDE, PARALLEL_SETTER } from './c-parallel.js';
import { type Dialect, bufName, escapeComment, hexFloat, mmaShapes, renderFile } from './render.js';

export { PARALLEL_MIN_WORK };

const STORAGE: Record<Dtype, string> = {
  f32: 'float',
  f16: 'uint16_t',
  bf16: 'uint16_t',
  i8: 'int8_t',
  i4: 'int8_t',
  i32: 'int32_t',
  i64: 'int64_t',
  bool: 'uint8_t',
};
const SCALAR: Record<KScalar, string> = {
  f32: 'float',
  f16: 'fmc_f16',
  bf16: 'fmc_bf16',
  i64: 'int64_t',
  i32: 'int32_t',
  bool: 'int',
};

function intLit(v: number): string {
  if (!Number.isSafeInteger(v)) {
    if (v <= -(2 ** 63)) return '(-9223372036854775807LL - 1)';
    if (v >= 2 ** 63) return '9223372036854775807LL';
    v = Math.trunc(v);
  }
  // BigInt prints the exact integer; a Number above 2^53 prints its shortest round-trip digits.
  return Math.abs(v) < 2 ** 31 ? `${v}` : `${BigInt(v)}LL`;
}

function floatLit(v: number, t: KScalar = 'f32'): string {
  if (t === 'f16') return `((fmc_f16)${floatLit(v)})`; // v is an f16 value: exact
  if (Number.isNaN(v)) return '(__builtin_nanf(""))';
  if (v === Infinity) return '(__builtin_inff())';
  if (v === -Infinity) return '(-__builtin_inff())';
  return `${hexFloat(v)}f`.replace(/^(-.*)$/, '($1)');
}

function toFloatDtype(to: Dtype, text: string): string {
  if (to === 'f16') return `fmc_h2f(fmc_f2h(${text}))`;
  if (to === 'bf16') return `fmc_bf2f(fmc_f2bf(${text}))`;
  return text;
}

/** The float value `text` of dtype `to` (already rounded to it, in a float) as compute type `t`. */
const floatAs = (t: KScalar, text: string): string => (t === 'f16' ? `fmc_rnd_h(${text})` : text);

/**
 * fmc's cast on compute values (floats f32, f16 or bf16, integers i64, bool int) of type `ta`,
 * giving `t`. f16 and bf16 results are rounded in f32 first (exact: from f32 one rounding, from
 * the other half format or an integer below 2^24 none), then held as `t`.
 */
function cast(from: Dtype, to: Dtype, text: string, ta: KScalar, t: KScalar): string {
  const x = ta === 'f16' ? `(float)(${text})` : text;
  if (to === 'bool') return `(${text} != 0)`;
  if (from === 'bool') return isFloat(to) ? floatAs(t, `(float)(${text})`) : `(int64_t)(${text})`;
  if (from === to) return t === 'f16' ? `((fmc_f16)${text})` : x; // a change of compute type only
  if (isFloat(from) && isFloat(to)) return t === 'f16' && to === 'f16' ? `fmc_rnd_h(${x})` : toFloatDtype(to, x);
  if (isFloat(from)) {
    const bits = DTYPE_BITS[to];
    const lo = -(2 ** (bits - 1));
    return `fmc_f2i(${x}, ${intLit(lo)}, ${intLit(-lo - 1)})`;
  }
  // An i8, i4 or i32 value fits an int32_t: converting from it lets a vectorized loop keep
  // 32-bit lanes (from int64_t, GCC halves its vectors: a dequantized int8 weight's GEMV).
  const v = DTYPE_BITS[from] <= 32 ? `(int32_t)(${text})` : text;
  if (isFloat(to)) return t === 'f16' ? `fmc_rnd_h((float)(${v}))` : toFloatDtype(to, `(float)(${v})`);
  return to === 'i64' ? text : `fmc_wrap(${text}, ${DTYPE_BITS[to]})`;
}

/** A loaded storage element as compute type `t` (f16 storage as f16 or widened to f32). */
function loadConv(d: Dtype, text: string, t: KScalar): string {
  if (d === 'f16') return t === 'f16' ? `fmc_ld_h(${text})` : `fmc_h2f(${text})`;
  if (d === 'bf16') return `fmc_bf2f(${text})`;
  return d === 'f32' ? text : `(${SCALAR[d === 'bool' ? 'bool' : 'i64']})${text}`;
}

/** A value of compute type `t` as storage dtype `d`. */
function storeConv(d: Dtype, text: string, t: KScalar): string {
  const x = t === 'f16' && d !== 'f16' ? `(float)(${text})` : text;
  if (d === 'f16') return t === 'f16' ? `fmc_st_h(${text})` : `fmc_f2h(${x})`;
  if (d === 'bf16') return `fmc_f2bf(${x})`;
  if (d === 'f32' || d === 'i64') return x;
  return d === 'bool' ? `(uint8_t)(${x})` : `(${STORAGE[d]})fmc_wrap(${x}, ${DTYPE_BITS[d]})`;
}

/** A loop's pragmas; `work`: the kernel's CPU schedule's estimate for a parallel loop. */
function loopPragmas(s: Extract<KStmt, { k: 'for' }>, dim: (slot: number) => string, work?: KExpr): string[] {
  const red = (s.reduce ?? []).map((r) => ` reduction(${r.op}:${r.name})`).join('');
  switch (s.mode) {
    case 'parallel': {
      const collapse = (s.collapse ?? 1) > 1 ? ` collapse(${s.collapse})` : '';
      const when = work ? ` if(${renderWork(work, dim)} >= ${PARALLEL_MIN_WORK})` : '';
      return [`#pragma omp parallel for${collapse} schedule(static)${when}`];
    }
    case 'simd':
      return [`#pragma omp simd${s.simdlen ? ` simdlen(${s.simdlen})` : ''}${red}`];
    case 'unroll':
      return ['#pragma GCC unroll 64'];
    case 'serial':
      return [];
  }
}

// The work estimate uses only dims and constants, so it renders without kernel params.
function renderWork(e: KExpr, dim: (slot: number) => string): string {
  if (e.k === 'const') return intLit(e.v);
  if (e.k === 'dim') return dim(e.slot);
  if (e.k === 'ix') return `(${renderWork(e.a, dim)} ${e.op} ${renderWork(e.b, dim)})`;
  throw new Error(`internal: work estimate must use dims and constants, not ${e.k}`);
}

/** The buffer pointers of a kernel's parameters, from its argument array `a`. */
function unpack(params: readonly KParam[]): string[] {
  return params.map((p, i) => {
    const c = p.access === 'read' ? 'const ' : '';
    return `  ${c}${STORAGE[p.dtype]} *restrict ${bufName(i)} = (${c}${STORAGE[p.dtype]} *)a[${i}];`;
  });
}

function kernelOpen(k: Kernel): string[] {
  const lines = [`/* ${k.name}: ${escapeComment(k.note)} */`];
  lines.push(`static void ${k.name}(void *const *restrict a, const int64_t *restrict d) {`);
  lines.push(...unpack(k.params), '  (void)d;');
  return lines;
}

/** The min and max of index arithmetic (KExpr 'ix'), shared with the CUDA prelude. */
export const IX_FUNCTIONS = `FMC_FN int64_t fmc_min_ix(int64_t a, int64_t b) { return a < b ? a : b; }
FMC_FN int64_t fmc_max_ix(int64_t a, int64_t b) { return a > b ? a : b; }`;

const C_EXTRA = `
${IX_FUNCTIONS}
/* A 32-bit word of a byte buffer (KExpr 'word': the quantized GEMV's int8/int4 bytes, kernels/gemm-quant.ts). */
typedef int32_t fmc_w32 __attribute__((may_alias));
#ifdef _OPENMP
#include <omp.h>
#endif
`;

function file(kernels: readonly Kernel[], bodies: readonly string[], header: string): string {
  const names = kernels.map((k) => k.name);
  return [
    `/* ${header} */`,
    C_PRELUDE.trim(),
    ...(bodies.some((b) => Object.values(halvesUsed(b)).includes(true)) ? [C_HALF_PRELUDE.trim()] : []),
    C_EXTRA.trim(),
    PARALLEL_PRELUDE.trim(),
    MMA_PRELUDE,
    ...(bodies.some(usesPrefetch) ? [MMA_PREFETCH] : []),
    ...mmaShapes(kernels).map(([mr, nr]) => mmaFunction(mr, nr)),
    ...(bodies.some(usesDot8) ? [DOT8_PRELUDE] : []),
    ...bf16Tiles(kernels),
    '',
    ...bodies.map((b) => b + '\n'),
    'typedef void (*fmc_kernel)(void *const *restrict, const int64_t *restrict);',
    'const int32_t fmc_abi_version = 1;',
    `const int32_t fmc_kernel_count = ${kernels.length};`,
    `const fmc_kernel fmc_kernels[${Math.max(1, kernels.length)}] = {${names.length ? names.join(', ') : '0'}};`,
    'void fmc_set_threads(int32_t n) {',
    '#ifdef _OPENMP',
    '  if (n > 0) omp_set_num_threads(n);',
    '#else',
    '  (void)n;',
    '#endif',
    '}',
    PARALLEL_SETTER,
    '',
  ].join('\n');
}

/** The bf16 tile functions the kernels call, after their prelude (none: nothing). */
function bf16Tiles(kernels: readonly Kernel[]): string[] {
  const shapes = mmaShapes(kernels, 'dotbf16');
  return shapes.length ? [DOTBF16_PRELUDE, ...shapes.map(([mr, nr]) => dotbf16Function(mr, nr))] : [];
}

const dim = (slot: number): string => `d[${slot}]`;

/** The C dialect's forms, which the CUDA dialect (cuda.ts) starts from: C's compute types and conversions. */
export const C_BASE: Dialect = {
  name: 'c',
  storage: (d) => STORAGE[d],
  scalar: (t) => SCALAR[t],
  floatLit,
  intLit,
  loadConv,
  storeConv,
  cast,
  call: (name, args) => `${name}(${args.join(', ')})`,
  fma: (a, b, c) => `fmaf(${a}, ${b}, ${c})`,
  dim,
  loopPragmas: (s) => loopPragmas(s, dim),
  forOpen: (v, lo, hi, step) =>
    `for (int64_t ${v} = ${lo}; ${v} < ${hi}; ${step === 1 ? `${v}++` : `${v} += ${step}`}) {`,
  declare: (name, t, value) => `${SCALAR[t]} ${name} = ${value};`,
  assign: (target, value) => `${target} = ${value};`,
  element: (array, index) => `${array}[${index}]`,
  store: (buf, index, value) => `${bufName(buf)}[${index}] = ${value};`,
  select: (c, a, b) => `(${c} ? ${a} : ${b})`,
  not: (a) => `(!${a})`,
  infix: (op, a, b) => `(${a} ${op} ${b})`,
  ifOpen: (cond) => `if (${cond}) {`,
  elseOpen: () => '} else {',
  blockClose: () => '}',
  declareArray: (name, t, size) => `${SCALAR[t]} ${name}[${size}] __attribute__((aligned(64)));`,
  barrier: () => '/* barrier: nothing on the CPU */',
  gid: (which) => {
    throw new Error(`internal: a grid-bound (GPU) kernel reached the C dialect (its '${which}' index)`);
  },
  // Word-level forms on the C target: a byte buffer read four bytes at a time; shifts on int32
  // (left through uint32_t, no signed overflow; right arithmetic, as GCC and Clang define it).
  word: (buf, index) => `((const fmc_w32 *)${bufName(buf)})[${index}]`,
  bits: (op, a, b) =>
    op === '<<' || op === '>>>'
      ? `(int32_t)((uint32_t)(${a}) ${op === '<<' ? '<<' : '>>'} (${b}))`
      : `((int32_t)(${a}) ${op} (${b}))`,
  dot8: dot8Call,
  dotbf16: dotbf16Call,
  // The same 32 bits as an int32 (a bf16 pair word, kernels/gemm-bf16.ts) or as a float.
  bitcast: (to, a) => (to === 'i32' ? `(int32_t)fmc_f32_bits(${a})` : `fmc_bits_f32((uint32_t)(${a}))`),
  mma: mmaCall,
  kernelOpen,
  kernelClose: () => ['}'],
  file,
};

/** The C dialect for one file: it outlines parallel loops, each before its kernel. */
function cDialect(): Dialect {
  const outliner = new Outliner(unpack);
  let cpu: CpuSchedule | undefined; // the open kernel's
  return {
    ...C_BASE,
    // Inside an outlined body a parallel loop runs serially on its thread.
    loopPragmas: (s) => (outliner.nested && s.mode === 'parallel' ? [] : loopPragmas(s, dim, cpu?.work[s.v])),
    parallelLoop: (s, indent, render, expr) => (outliner.nested ? undefined : outliner.loop(s, indent, render, expr)),
    kernelOpen: (k) => ((cpu = k.cpu), outliner.open(k), kernelOpen(k)),
    // Per-thread scratch is reached through a pointer taken once: in a dlopen'ed library each
    // mention of a _Thread_local costs a __tls_get_addr call, which GCC repeats after calls.
    declareArray: (name, t, size, space) =>
      cpu?.scratch.includes(name)
        ? `static _Thread_local ${SCALAR[t]} fmc_tls_${name}[${size}] __attribute__((aligned(64))); ${SCALAR[t]} *const restrict ${name} = fmc_tls_${name};`
        : C_BASE.declareArray(name, t, size, space),
    // The outlined functions of each kernel go before it.
    file: (kernels, bodies, header) =>
      file(
        kernels,
        bodies.map((b, i) => [...outliner.parts(kernels[i]!.name), b].join('\n\n')),
        header,
      ),
  };
}

/** The C translation unit of a plan's kernels. */
export const renderC = (kernels: readonly Kernel[], header: string): string => renderFile(kernels, cDialect(), header);
