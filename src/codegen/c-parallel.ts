// Parallel loops of the C dialect: each kernel-IR `parallel` loop becomes an outlined function
// over a range of its iterations, `kN_pJ(ctx, lo, hi)`, that the kernel hands to the
// runtime's thread pool (runtime-native/src/pool.cpp, through `fmc_parallel`). The pool
// finishes a loop when its chunks are done, not when every thread has reached a barrier, so
// a thread that the OS has descheduled does not stall each kernel the way OpenMP's
// fork/join does (docs/runtime.md has the measurements). The body sees the kernel's
// buffers and dims, and the i64 locals of the kernel it reads (loop variables and i64
// `let`s of enclosing loops, as a GEMM's K block inside a serial loop), passed by value in
// the context; a loop that reads another kind of local keeps an OpenMP pragma. Loops
// nested in an outlined body run serially on their thread.

import type { KExpr, KParam, KStmt, Kernel } from '../ir/kernel.js';
import { checkIdent } from './render.js';

type For = Extract<KStmt, { k: 'for' }>;

/** Below this much work (elements or multiply-adds) a parallel loop runs on one thread. */
export const PARALLEL_MIN_WORK = 1 << 15;

/** Declarations the generated file needs before its kernels. */
export const PARALLEL_PRELUDE = `
typedef void (*fmc_body)(const void *, int64_t, int64_t);
typedef void (*fmc_parallel_fn)(fmc_body, const void *, int64_t);
struct fmc_ctx { void *const *a; const int64_t *d; const int64_t *v; };
static void fmc_serial(fmc_body f, const void *c, int64_t n) { f(c, 0, n); }
static fmc_parallel_fn fmc_parallel = fmc_serial;
`;

/** The exported setter the runtime calls with its pool after dlopen. */
export const PARALLEL_SETTER = 'void fmc_set_parallel(fmc_parallel_fn f) { fmc_parallel = f ? f : fmc_serial; }';

function exprNames(e: KExpr, out: Set<string>): void {
  switch (e.k) {
    case 'var':
      out.add(e.name);
      return;
    case 'aload':
      out.add(e.name);
      return exprNames(e.index, out);
    case 'const':
    case 'dim':
    case 'gid':
    case 'wgid':
    case 'lid':
      return;
    case 'load':
    case 'word':
      return exprNames(e.index, out);
    case 'bitcast':
      return exprNames(e.a, out);
    case 'call':
      return e.args.forEach((a) => exprNames(a, out));
    case 'un':
    case 'cast':
      return exprNames(e.a, out);
    case 'uniform':
      return (exprNames(e.index, out), exprNames(e.step, out));
    case 'select':
      return (exprNames(e.c, out), exprNames(e.a, out), exprNames(e.b, out));
    case 'fma':
      return (exprNames(e.a, out), exprNames(e.b, out), exprNames(e.c, out));
    default:
      return (exprNames(e.a, out), exprNames(e.b, out));
  }
}

/** Names the statements use and names they declare (generated names are unique per kernel). */
function names(ss: readonly KStmt[], used: Set<string>, declared: Set<string>): void {
  for (const s of ss) {
    const x = (e: KExpr): void => exprNames(e, used);
    switch (s.k) {
      case 'for':
        (declared.add(s.v), x(s.lo), x(s.hi), names(s.body, used, declared));
        break;
      case 'store':
      case 'wstore':
        (x(s.index), x(s.value), s.k === 'wstore' && s.mask && x(s.mask));
        break;
      case 'let':
      case 'array':
        declared.add(s.name);
        if (s.k === 'let') x(s.value);
        break;
      case 'set':
      case 'astore':
        used.add(s.name);
        if (s.k === 'astore') x(s.index);
        x(s.value);
        break;
      case 'if':
        (x(s.cond), names(s.then, used, declared), names(s.else ?? [], used, declared));
        break;
      case 'dot8':
        used.add(s.acc);
        [s.aIndex, s.lda, s.rows, s.bIndex, s.ldb, s.cols, s.n].forEach(x);
        break;
      case 'dotbf16':
        used.add(s.acc);
        [s.aOffset, s.lda, s.bOffset, s.np].forEach(x);
        break;
      case 'mma':
        [s.acc, s.a, s.b].forEach((n) => typeof n === 'string' && used.add(n));
        (x(s.aOffset), x(s.bOffset), x(s.kc));
        if (s.cTile) [s.cTile.at, s.cTile.ld, s.cTile.rows, s.cTile.cols].forEach(x);
        break;
      case 'frag':
        declared.add(s.name);
        break;
      case 'fragLoad':
        if (typeof s.src === 'string') used.add(s.src);
        (used.add(s.name), x(s.offset), x(s.ld));
        break;
      case 'fragMma':
        [s.acc, s.a, s.b, s.stage].forEach((n) => used.add(n));
        break;
      case 'fragEach':
        [s.row, s.col, s.value].forEach((n) => declared.add(n));
        (used.add(s.name), names(s.body, used, declared));
        break;
      case 'barrier':
      case 'comment':
        break;
    }
  }
}

/**
 * The collapsed nest (outermost first) and the enclosing locals it reads (sorted), or
 * undefined when it cannot be outlined: it reads a local that `capturable` refuses.
 */
export function outlinable(
  s: For,
  capturable: (name: string) => boolean = () => false,
): { nest: For[]; captures: string[] } | undefined {
  if ((s.reduce ?? []).length > 0) return undefined;
  const nest = [s];
  while (nest.length < (s.collapse ?? 1)) {
    const inner = nest[nest.length - 1]!.body;
    if (inner.length !== 1 || inner[0]!.k !== 'for') return undefined;
    nest.push(inner[0]);
  }
  const used = new Set<string>();
  const declared = new Set<string>();
  names([s], used, declared);
  // Bounds of the collapsed loops must not depend on each other (a rectangular nest).
  for (const l of nest) [l.lo, l.hi].forEach((e) => exprNames(e, used));
  const bounds = new Set<string>();
  for (const l of nest) [l.lo, l.hi].forEach((e) => exprNames(e, bounds));
  if (nest.some((l) => bounds.has(l.v))) return undefined;
  const captures = [...used].filter((n) => !declared.has(n)).sort();
  return captures.every(capturable) ? { nest, captures } : undefined;
}

/** The i64 locals a kernel declares (loop variables and i64 lets), which outlined loops may capture. */
function i64Locals(ss: readonly KStmt[], out: Set<string>): Set<string> {
  for (const s of ss) {
    if (s.k === 'for') (out.add(s.v), i64Locals(s.body, out));
    else if (s.k === 'let' && s.t === 'i64') out.add(s.name);
    else if (s.k === 'if') (i64Locals(s.then, out), i64Locals(s.else ?? [], out));
  }
  return out;
}

type Render = (ss: readonly KStmt[], indent: string) => string[];
type Expr = (e: KExpr) => string;

/** Trip count of one loop, clamped at 0. */
const trips = (l: For, x: Expr): string =>
  l.step === 1
    ? `fmc_max_ix(0, ${x(l.hi)} - ${x(l.lo)})`
    : `fmc_max_ix(0, (${x(l.hi)} - ${x(l.lo)} + ${l.step - 1}) / ${l.step})`;

/**
 * Outlines parallel loops for one file: `loop` returns the call that replaces a loop and
 * records the outlined function, `parts` a kernel's outlined functions (they go before it).
 */
export class Outliner {
  private kernel: Kernel | undefined;
  private locals = new Set<string>();
  private count = 0;
  private depth = 0;
  private readonly outlined = new Map<string, string[]>();

  constructor(private readonly unpack: (params: readonly KParam[]) => string[]) {}

  open(k: Kernel): void {
    this.kernel = k;
    this.locals = i64Locals(k.body, new Set());
    this.count = 0;
  }

  /** Inside an outlined body: nested parallel loops render as serial ones. */
  get nested(): boolean {
    return this.depth > 0;
  }

  /** The functions outlined from kernel `name`. */
  parts(name: string): readonly string[] {
    return this.outlined.get(name) ?? [];
  }

  loop(s: For, indent: string, render: Render, x: Expr): string[] | undefined {
    const found = outlinable(s, (n) => this.locals.has(n));
    if (!found || !this.kernel) return undefined;
    const { nest, captures } = found;
    const name = checkIdent(`${this.kernel.name}_p${this.count++}`);
    const signature = `static void ${name}(const void *fmc_c, int64_t fmc_lo, int64_t fmc_hi)`;
    this.depth++;
    try {
      const text = this.outline(signature, nest, captures, render, x);
      this.outlined.set(this.kernel.name, [...this.parts(this.kernel.name), text]);
    } finally {
      this.depth--;
    }
    const n = nest.map((l) => trips(l, x)).join(' * ');
    const work = this.kernel.cpu?.work[s.v];
    const run = work
      ? `if (${x(work)} >= ${PARALLEL_MIN_WORK}) fmc_parallel(${name}, &fmc_c, fmc_n); else ${name}(&fmc_c, 0, fmc_n);`
      : `fmc_parallel(${name}, &fmc_c, fmc_n);`;
    const values =
      captures.length > 0 ? [`${indent}  const int64_t fmc_v[] = {${captures.map(checkIdent).join(', ')}};`] : [];
    return [
      `${indent}{`,
      ...values,
      `${indent}  const struct fmc_ctx fmc_c = {a, d${captures.length > 0 ? ', fmc_v' : ''}};`,
      `${indent}  const int64_t fmc_n = ${n};`,
      `${indent}  ${run}`,
      `${indent}}`,
    ];
  }

  /** The function running iterations [t0, t1) of the flattened nest. */
  private outline(signature: string, nest: For[], captures: readonly string[], render: Render, x: Expr): string {
    const loops = nest.map((l) => l.v).join(', ');
    const lines = [
      `/* ${this.kernel!.name}, parallel loop over ${loops}: iterations [fmc_lo, fmc_hi) */`,
      `${signature} {`,
      '  void *const *restrict a = ((const struct fmc_ctx *)fmc_c)->a;',
      '  const int64_t *restrict d = ((const struct fmc_ctx *)fmc_c)->d;',
      ...this.unpack(this.kernel!.params),
      ...captures.map((n, i) => `  const int64_t ${checkIdent(n)} = ((const struct fmc_ctx *)fmc_c)->v[${i}];`),
      '  (void)a;',
      '  (void)d;',
    ];
    const inner = nest[nest.length - 1]!.body;
    if (nest.length === 1) {
      const l = nest[0]!;
      const v = checkIdent(l.v);
      if (l.step === 1) {
        const from = (t: string): string => (l.lo.k === 'const' && l.lo.v === 0 ? t : `${x(l.lo)} + ${t}`);
        lines.push(`  for (int64_t ${v} = ${from('fmc_lo')}; ${v} < ${from('fmc_hi')}; ${v}++) {`);
      } else {
        lines.push('  for (int64_t fmc_t = fmc_lo; fmc_t < fmc_hi; fmc_t++) {');
        lines.push(`    int64_t ${v} = ${x(l.lo)} + fmc_t * ${l.step};`);
      }
    } else {
      // Row-major over the nest, the last loop fastest: the counters fmc_k<i> are divided out
      // of fmc_lo once, then stepped like an odometer (no division per iteration).
      nest.forEach((l, i) => i > 0 && lines.push(`  const int64_t fmc_n${i} = ${trips(l, x)};`));
      // No iterations: an inner trip count may be 0, which the counters must not divide by.
      lines.push('  if (fmc_lo >= fmc_hi) return;');
      nest.forEach((_, i) => {
        const below = nest
          .slice(i + 1)
          .map((_, j) => `fmc_n${i + 1 + j}`)
          .join(' * ');
        const q = below ? `(fmc_lo / (${below}))` : 'fmc_lo';
        lines.push(`  int64_t fmc_k${i} = ${i > 0 ? `${q} % fmc_n${i}` : q};`);
      });
      lines.push('  for (int64_t fmc_t = fmc_lo; fmc_t < fmc_hi; fmc_t++) {');
      nest.forEach((l, i) => lines.push(`    const int64_t ${checkIdent(l.v)} = ${x(l.lo)} + fmc_k${i} * ${l.step};`));
      lines.push(...render(inner, '    '));
      let step = '++fmc_k0;';
      for (let i = 1; i < nest.length; i++) step = `if (++fmc_k${i} == fmc_n${i}) { fmc_k${i} = 0; ${step} }`;
      lines.push(`    ${step}`, '  }', '}');
      return lines.join('\n');
    }
    lines.push(...render(inner, '    '), '  }', '}');
    return lines.join('\n');
  }
}
