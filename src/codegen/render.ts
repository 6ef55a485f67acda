// The one C-family renderer: kernel IR to source text. Everything C, CUDA and WGSL share
// (expressions, statements, parenthesization, literal exactness, comment escaping) is here;
// a Dialect supplies type names, conversions at loads and stores, loop annotations,
// barriers, declarations and the file frame. No op is written per target.

import type { Dtype } from '../ir/dtype.js';
import {
  type BitOp,
  type CompareOp,
  type KExpr,
  type KParam,
  type KScalar,
  type KStmt,
  type Kernel,
  isFloatScalar,
  typeOf,
} from '../ir/kernel.js';

export interface Dialect {
  readonly name: 'c' | 'cuda' | 'wgsl';
  /** The type a buffer element is stored as. */
  storage(d: Dtype): string;
  /** The type a scalar computes in. */
  scalar(t: KScalar): string;
  /** A float literal of compute type `t` that denotes exactly `v` (already a value of `t`). */
  floatLit(v: number, t: 'f32' | 'f16' | 'bf16'): string;
  intLit(v: number): string;
  /** A bool literal, where it differs from the integer one. */
  boolLit?(v: boolean): string;
  /** Converts a loaded storage element to compute type `t`. */
  loadConv(d: Dtype, text: string, t: KScalar): string;
  /** Converts a value of compute type `t` to the storage dtype. */
  storeConv(d: Dtype, text: string, t: KScalar): string;
  /** fmc's cast between dtypes, of a value computing as `ta`, giving compute type `t`. */
  cast(from: Dtype, to: Dtype, text: string, ta: KScalar, t: KScalar): string;
  /** A call of prelude function `name` (`fmc_exp_f`). */
  call(name: string, args: readonly string[]): string;
  /** `a * b + c` in f32 with one rounding. */
  fma(a: string, b: string, c: string): string;
  /** The flat invocation, workgroup or local index of a GPU kernel (KExpr 'gid', 'wgid', 'lid'). */
  gid(which: 'gid' | 'wgid' | 'lid'): string;
  /** The text of a dim slot's value. */
  dim(slot: number): string;
  /** Lines before a loop (pragmas), given the loop. */
  loopPragmas(s: Extract<KStmt, { k: 'for' }>): string[];
  /**
   * Optional: the whole text of a parallel loop rendered another way (C: a call of an
   * outlined body), or undefined to render it as a loop with its pragmas.
   */
  parallelLoop?(
    s: Extract<KStmt, { k: 'for' }>,
    indent: string,
    render: (ss: readonly KStmt[], indent: string) => string[],
    expr: (e: KExpr) => string,
  ): string[] | undefined;
  /** A loop header opening its body (`for (int64_t i = lo; i < hi; i++) {`). */
  forOpen(v: string, lo: string, hi: string, step: number): string;
  /** Declares a mutable scalar local. */
  declare(name: string, t: KScalar, value: string): string;
  /** Assigns a scalar local (`set`) or an element of a local array (`astore`, with `index`). */
  assign(target: string, value: string): string;
  /** Element `index` of a buffer or local array (`b0[i]`), as an lvalue or value. */
  element(array: string, index: string): string;
  /** Stores a (converted) value into element `index` of buffer parameter `buf`. */
  store(buf: number, index: string, value: string): string;
  /** `c ? a : b`, only the chosen branch evaluated (operands are pure). */
  select(c: string, a: string, b: string, t: KScalar): string;
  /** Logical not of a bool. */
  not(a: string): string;
  /** An infix operator application (`(a op b)`); ops are C's: + - * / % < <= > >= == != && ||. */
  infix(op: string, a: string, b: string, t: KScalar): string;
  /** Word-level forms (legalized kernels only; see KExpr 'word'). */
  word?(buf: number, index: string, atomic: boolean): string;
  bits?(op: BitOp, a: string, b: string): string;
  bitcast?(to: 'f32' | 'i32', a: string): string;
  /** KStmt 'dot8' (the C target's int8 dot products), given its rendered expressions. */
  dot8?(s: Extract<KStmt, { k: 'dot8' }>, x: (e: KExpr) => string): string;
  /** KStmt 'dotbf16' (the C target's bf16 pair products), given its rendered expressions. */
  dotbf16?(s: Extract<KStmt, { k: 'dotbf16' }>, x: (e: KExpr) => string): string;
  wstore?(buf: number, index: string, value: string, mask: string | undefined, atomic: boolean): string;
  /** `if (c) {`, `} else {` and the closing `}` lines. */
  ifOpen(cond: string): string;
  elseOpen(): string;
  blockClose(): string;
  declareArray(name: string, t: KScalar, size: number, space: 'local' | 'shared'): string;
  barrier(): string;
  /**
   * Typed tile statements (KStmt 'frag', 'fragLoad', 'fragMma', 'fragEach') rendered with the
   * target's warp-level matrix instructions; a dialect without them gets kernels whose
   * fragments are expanded into plain statements first (legalize-frag.ts).
   */
  fragment?(
    s: Extract<KStmt, { k: 'frag' | 'fragLoad' | 'fragMma' | 'fragEach' }>,
    indent: string,
    expr: (e: KExpr) => string,
    render: (ss: readonly KStmt[], indent: string) => string[],
  ): string[];
  /** The register-tile contraction statement (see KStmt 'mma'), given rendered offsets and kc (and `x` for its other expressions). */
  mma(s: Extract<KStmt, { k: 'mma' }>, aOffset: string, bOffset: string, kc: string, x: (e: KExpr) => string): string;
  /** The kernel's opening lines (signature, parameter unpacking); the body follows indented. */
  kernelOpen(k: Kernel): string[];
  kernelClose(): string[];
  /** The whole file around the rendered kernels. */
  file(kernels: readonly Kernel[], bodies: readonly string[], header: string): string;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

/** Generated identifiers only: a user name reaching code is a compiler bug. */
export function checkIdent(name: string): string {
  if (!IDENT.test(name)) throw new Error(`internal: '${name}' is not a generated identifier`);
  return name;
}

/** Text safe inside a block comment on one line: user names become harmless ASCII. */
export function escapeComment(text: string): string {
  return text.replace(/[^A-Za-z0-9 _.,:;%()[\]=+<>-]/g, '_');
}

/** The name of buffer parameter `i` inside a kernel. */
export const bufName = (i: number): string => `b${i}`;

export function renderExpr(e: KExpr, D: Dialect, params: readonly KParam[]): string {
  const r = (x: KExpr): string => renderExpr(x, D, params);
  switch (e.k) {
    case 'const':
      if (e.t === 'bool' && D.boolLit) return D.boolLit(e.v !== 0);
      return isFloatScalar(e.t) ? D.floatLit(Math.fround(e.v), e.t) : D.intLit(e.v);
    case 'dim':
      return D.dim(e.slot);
    case 'var':
      return checkIdent(e.name);
    case 'load':
      return D.loadConv(params[e.buf]!.dtype, D.element(bufName(e.buf), r(e.index)), e.t);
    case 'aload':
      return D.element(checkIdent(e.name), r(e.index));
    case 'ix':
      return e.op === 'min' || e.op === 'max'
        ? D.call(`fmc_${e.op}_ix`, [r(e.a), r(e.b)])
        : D.infix(e.op, r(e.a), r(e.b), 'i64');
    case 'cmp':
      return D.infix(e.op, r(e.a), r(e.b), 'bool');
    case 'un':
      return e.fn === 'not' ? D.not(r(e.a)) : D.call(`fmc_${e.fn}_${SUFFIX[e.t]}`, [r(e.a)]);
    case 'bin':
      return binary(e, r, D);
    case 'select':
      return D.select(r(e.c), r(e.a), r(e.b), e.t);
    case 'cast':
      return D.cast(e.from, e.to, r(e.a), typeOf(e.a), e.t);
    case 'fma':
      return D.fma(r(e.a), r(e.b), r(e.c));
    case 'uniform':
      return D.call('fmc_uniform', [D.intLit(e.k0), D.intLit(e.k1), r(e.index), r(e.step)]);
    case 'gid':
    case 'wgid':
    case 'lid':
      return D.gid(e.k);
    case 'word':
      return need(D.word, D, e.k)(e.buf, r(e.index), params[e.buf]!.words === 'atomic');
    case 'bits':
      return need(D.bits, D, e.k)(e.op, r(e.a), r(e.b));
    case 'bitcast':
      return need(D.bitcast, D, e.k)(e.to, r(e.a));
    case 'call':
      return D.call(checkIdent(e.fn), e.args.map(r));
  }
}

/** A word-level hook of the dialect; a dialect without it never gets legalized kernels. */
function need<F>(f: F | undefined, D: Dialect, what: string): F {
  if (!f) throw new Error(`internal: the ${D.name} dialect has no '${what}' (a kernel legalized for another target?)`);
  return f;
}

/** The suffix of a unary or binary fn's prelude function by compute type (`fmc_exp_h`: exp on f16). */
const SUFFIX: Record<KScalar, string> = { f32: 'f', f16: 'h', bf16: 'b', i64: 'i', i32: 'i', bool: 'i' };

/** The compare and logic fns of `bin` as the CompareOp they are. */
export const BIN_COMPARE: Partial<Record<string, CompareOp>> = {
  eq: '==',
  ne: '!=',
  lt: '<',
  le: '<=',
  gt: '>',
  ge: '>=',
  and: '&&',
  or: '||',
};

function binary(e: Extract<KExpr, { k: 'bin' }>, r: (x: KExpr) => string, D: Dialect): string {
  const op = BIN_COMPARE[e.fn];
  if (op) return D.infix(op, r(e.a), r(e.b), 'bool');
  return D.call(`fmc_${e.fn}_${SUFFIX[e.t]}`, [r(e.a), r(e.b)]);
}

export function renderStmts(ss: readonly KStmt[], D: Dialect, params: readonly KParam[], indent: string): string[] {
  const out: string[] = [];
  const x = (e: KExpr): string => renderExpr(e, D, params);
  for (const s of ss) {
    switch (s.k) {
      case 'for': {
        const other =
          s.mode === 'parallel'
            ? D.parallelLoop?.(s, indent, (body, ind) => renderStmts(body, D, params, ind), x)
            : undefined;
        if (other) {
          out.push(...other);
          break;
        }
        const v = checkIdent(s.v);
        for (const p of D.loopPragmas(s)) out.push(indent + p);
        out.push(indent + D.forOpen(v, x(s.lo), x(s.hi), s.step));
        out.push(...renderStmts(s.body, D, params, indent + '  '));
        out.push(indent + D.blockClose());
        break;
      }
      case 'store':
        out.push(indent + D.store(s.buf, x(s.index), D.storeConv(params[s.buf]!.dtype, x(s.value), typeOf(s.value))));
        break;
      case 'wstore': {
        const mask = s.mask && x(s.mask);
        out.push(
          indent + need(D.wstore, D, s.k)(s.buf, x(s.index), x(s.value), mask, params[s.buf]!.words === 'atomic'),
        );
        break;
      }
      case 'let':
        out.push(indent + D.declare(checkIdent(s.name), s.t, x(s.value)));
        break;
      case 'set':
        out.push(indent + D.assign(checkIdent(s.name), x(s.value)));
        break;
      case 'array':
        out.push(indent + D.declareArray(checkIdent(s.name), s.t, s.size, s.space));
        break;
      case 'astore':
        out.push(indent + D.assign(D.element(checkIdent(s.name), x(s.index)), x(s.value)));
        break;
      case 'if':
        out.push(indent + D.ifOpen(x(s.cond)), ...renderStmts(s.then, D, params, indent + '  '));
        if (s.else) out.push(indent + D.elseOpen(), ...renderStmts(s.else, D, params, indent + '  '));
        out.push(indent + D.blockClose());
        break;
      case 'barrier':
        out.push(indent + D.barrier());
        break;
      case 'dot8':
        checkIdent(s.acc);
        out.push(indent + need(D.dot8, D, s.k)(s, x));
        break;
      case 'dotbf16':
        checkIdent(s.acc);
        out.push(indent + need(D.dotbf16, D, s.k)(s, x));
        break;
      case 'mma':
        (checkIdent(s.acc), checkIdent(s.a), typeof s.b === 'string' && checkIdent(s.b));
        out.push(indent + D.mma(s, x(s.aOffset), x(s.bOffset), x(s.kc), x));
        break;
      case 'frag':
      case 'fragLoad':
      case 'fragMma':
      case 'fragEach':
        out.push(...need(D.fragment, D, s.k)(s, indent, x, (body, ind) => renderStmts(body, D, params, ind)));
        break;
      case 'comment':
        out.push(`${indent}/* ${escapeComment(s.text)} */`);
        break;
    }
  }
  return out;
}

/** The distinct register-tile shapes (mr × nr) the kernels' `mma` (or `dotbf16`) statements use, sorted. */
export function mmaShapes(kernels: readonly Kernel[], kind: 'mma' | 'dotbf16' = 'mma'): [number, number][] {
  const seen = new Map<string, [number, number]>();
  const walk = (ss: readonly KStmt[]): void => {
    for (const s of ss) {
      if (s.k === kind) seen.set(`${s.mr}x${s.nr}`, [s.mr, s.nr]);
      else if (s.k === 'for') walk(s.body);
      else if (s.k === 'if') walk([...s.then, ...(s.else ?? [])]);
    }
  };
  for (const k of kernels) walk(k.body);
  return [...seen.values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

type ArrayStmt = Extract<KStmt, { k: 'array' }>;

/**
 * A kernel's workgroup-shared arrays, taken out of its body: WGSL declares them at module
 * scope as var<workgroup> (one module per kernel, so their generated names stay unique), CUDA
 * as `__shared__` arrays at the kernel's top scope.
 */
export function sharedArrays(k: Kernel): { kernel: Kernel; shared: ArrayStmt[] } {
  const shared: ArrayStmt[] = [];
  const strip = (ss: readonly KStmt[]): KStmt[] =>
    ss.flatMap((s): KStmt[] => {
      if (s.k === 'array' && s.space === 'shared') return (shared.push(s), []);
      if (s.k === 'for') return [{ ...s, body: strip(s.body) }];
      if (s.k === 'if') return [{ ...s, then: strip(s.then), ...(s.else ? { else: strip(s.else) } : {}) }];
      return [s];
    });
  const body = strip(k.body);
  return { kernel: shared.length > 0 ? { ...k, body } : k, shared };
}

/** Renders one kernel (signature, body, close). */
export function renderKernel(k: Kernel, D: Dialect): string {
  checkIdent(k.name);
  return [...D.kernelOpen(k), ...renderStmts(k.body, D, k.params, '  '), ...D.kernelClose()].join('\n');
}

/** Renders a whole translation unit; the same kernels give byte-identical text. */
export function renderFile(kernels: readonly Kernel[], D: Dialect, header: string): string {
  return D.file(
    kernels,
    kernels.map((k) => renderKernel(k, D)),
    escapeComment(header),
  );
}

/** The bits of an f32 value as a hex float literal body: exact for normals, subnormals and zeros. */
export function hexFloat(v: number): string {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setFloat32(0, v);
  const bits = buf.getUint32(0);
  const sign = bits >>> 31 ? '-' : '';
  const exp = (bits >>> 23) & 0xff;
  const man = bits & 0x7fffff;
  if (exp === 0 && man === 0) return `${sign}0x0p+0`;
  const frac = (man << 1).toString(16).padStart(6, '0'); // 24 bits: six hex digits
  return exp === 0 ? `${sign}0x0.${frac}p-126` : `${sign}0x1.${frac}p${exp - 127 >= 0 ? '+' : ''}${exp - 127}`;
}
