// CUDA index legalization: Kernel → Kernel, run before rendering CUDA. Index arithmetic
// computes in 32-bit `int`, as on WGSL (legalize-wgsl-int.ts): dims, grid indices, loop
// variables, `ix` on them and the locals that only ever hold such values. The host proves
// every such value below 2^31 before a launch (checkIndexBounds in
// src/runtime/gpu-executable.ts: no buffer of more than 2^31 - 1 elements, no grid of more
// invocations), so the narrowing never changes a value; GPUs do 32-bit integer arithmetic in
// one instruction and one register, 64-bit in several and two.
// Integer values (tensor data: loads of integer buffers, `bin`/`un`/`cast`/`select` of
// compute type i64, locals and arrays holding them) stay 64-bit. Index arithmetic mixing a
// value and an index (a gather's clamp of its index) is a value (C++'s usual conversions
// widen the index); a local is a value if any of its assignments is one (a fixpoint). The
// rewrite only retypes: index locals become i32, and `ix` min and max of two indices call
// the prelude's 32-bit fmc_min_i32 and fmc_max_i32 (the 64-bit fmc_min_ix keeps values).

import { type KExpr, type KStmt, type Kernel, mapChildren } from '../ir/kernel.js';

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

class Indices {
  /** Locals found to hold a 64-bit integer value (grown until a pass adds none). */
  readonly grown = new Set<string>();
  /** Loop variables and `let` locals of type i64 seen so far (index locals unless values). */
  private readonly locals = new Set<string>();
  constructor(private readonly values: ReadonlySet<string>) {}

  /** Whether an i64 expression is a 64-bit value (else an index, below 2^31). */
  wide(e: KExpr): boolean {
    switch (e.k) {
      case 'const':
        return e.t === 'i64' && (e.v < I32_MIN || e.v > I32_MAX);
      case 'dim':
      case 'gid':
      case 'wgid':
      case 'lid':
        return false;
      case 'var':
        return e.t === 'i64' && (this.values.has(e.name) || !this.locals.has(e.name));
      case 'ix':
        return this.wide(e.a) || this.wide(e.b);
      case 'select':
        return e.t === 'i64' && (this.wide(e.a) || this.wide(e.b));
      default:
        return 't' in e && e.t === 'i64';
    }
  }

  expr(e: KExpr): KExpr {
    if (e.k === 'var' && e.t === 'i64' && !this.wide(e)) return { ...e, t: 'i32' };
    if (e.k === 'ix' && (e.op === 'min' || e.op === 'max') && !this.wide(e))
      return { k: 'call', fn: `fmc_${e.op}_i32`, args: [this.expr(e.a), this.expr(e.b)], t: 'i32' };
    return mapChildren(e, (x) => this.expr(x));
  }

  stmts(ss: readonly KStmt[]): KStmt[] {
    return ss.map((s) => this.stmt(s));
  }

  stmt(s: KStmt): KStmt {
    const x = (e: KExpr): KExpr => this.expr(e);
    switch (s.k) {
      case 'for':
        if (this.wide(s.lo) || this.wide(s.hi))
          throw new Error(`internal: loop '${s.v}' has a 64-bit integer value as a bound (an index is expected)`);
        this.locals.add(s.v);
        return { ...s, lo: x(s.lo), hi: x(s.hi), body: this.stmts(s.body) };
      case 'let': {
        if (s.t !== 'i64') return { ...s, value: x(s.value) };
        if (this.wide(s.value)) this.grown.add(s.name);
        this.locals.add(s.name);
        return { ...s, t: this.values.has(s.name) ? 'i64' : 'i32', value: x(s.value) };
      }
      case 'set':
        if (this.locals.has(s.name) && !this.values.has(s.name) && this.wide(s.value)) this.grown.add(s.name);
        return { ...s, value: x(s.value) };
      case 'store':
        return { ...s, index: x(s.index), value: x(s.value) };
      case 'astore':
        return { ...s, index: x(s.index), value: x(s.value) };
      case 'if':
        return { ...s, cond: x(s.cond), then: this.stmts(s.then), ...(s.else ? { else: this.stmts(s.else) } : {}) };
      case 'wstore':
      case 'mma':
      case 'dot8':
      case 'dotbf16':
        throw new Error(`internal: a '${s.k}' statement reached the CUDA legalization (lower with target 'gpu')`);
      case 'fragLoad':
        return { ...s, offset: x(s.offset), ld: x(s.ld) };
      case 'fragEach':
        (this.locals.add(s.row), this.locals.add(s.col));
        return { ...s, body: this.stmts(s.body) };
      case 'frag':
      case 'fragMma':
      case 'array':
      case 'barrier':
      case 'comment':
        return s;
    }
  }
}

/** The kernel with its index arithmetic in 32 bits. */
export function legalizeCuda(k: Kernel): Kernel {
  const values = new Set<string>();
  let L = new Indices(values);
  let body = L.stmts(k.body);
  while ([...L.grown].some((n) => !values.has(n))) {
    for (const n of L.grown) values.add(n);
    L = new Indices(values);
    body = L.stmts(k.body);
  }
  return { ...k, body };
}
