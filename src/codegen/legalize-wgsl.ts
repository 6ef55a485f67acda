// WGSL legalization: Kernel → Kernel, run before rendering WGSL. It rewrites what WGSL
// cannot express directly into forms the WGSL dialect renders one to one:
// - Integers compute in i32 (WGSL has no 64-bit integers): every i64 becomes i32, i64
//   literals are clamped to the i32 range, so integer results wrap at 32 bits on this target.
//   i64 storage keeps the host layout (two words, low first): a load reads the low word, a
//   store writes the low word and the sign word.
// - 8- and 16-bit storage lives in 32-bit words (the buffers hold the host bytes): f16 and
//   bf16 are halves of a word, i8, i4 (one byte each, sign-extended) and bool bytes. A
//   sub-word store is an atomic read-modify-write of its word (KStmt 'wstore' with a mask),
//   so invocations storing neighbouring elements never race; such a buffer is then read
//   with atomic loads too (KParam.words 'atomic').
// - Float compares and truth tests go through prelude functions that test NaN by its bit
//   pattern (SwiftShader's `x != x` is false for a NaN); logic and `!` get bool operands;
//   max/add of bools are `||`, min/mul `&&`.

import type { Dtype } from '../ir/dtype.js';
import { BIN_COMPARE } from './render.js';
import {
  type BitOp,
  type CompareOp,
  type KExpr,
  type KParam,
  type KScalar,
  type KStmt,
  type Kernel,
  typeOf as exprType,
} from '../ir/kernel.js';

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

const c32 = (v: number): KExpr => ({ k: 'const', t: 'i32', v });
const bits = (op: BitOp, a: KExpr, b: KExpr): KExpr => ({ k: 'bits', op, a, b });
const bin = (op: '+' | '*' | '/', a: KExpr, b: KExpr): KExpr => ({ k: 'ix', op, a, b });
const retype = (t: KScalar): KScalar => (t === 'i64' ? 'i32' : t);

/** Elements per 32-bit word of the dtypes stored in parts of a word. */
const PER_WORD: Partial<Record<Dtype, number>> = { f16: 2, bf16: 2, i8: 4, i4: 4, bool: 4 };
const wordBuffer = (d: Dtype): boolean => d === 'i64' || PER_WORD[d] !== undefined;

const FLOAT_CMP: Record<Exclude<CompareOp, '&&' | '||'>, string> = {
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
  '==': 'eq',
  '!=': 'ne',
};

/** The compute type of a legalized expression. */
export const typeOf = (e: KExpr): KScalar => exprType(e, 'i32');

/** A legalized value as a bool (nonzero, NaN included, is true). */
function truth(e: KExpr): KExpr {
  const t = typeOf(e);
  if (t === 'bool') return e;
  if (t === 'f32') return { k: 'call', fn: 'fmc_truth_f', args: [e], t: 'bool' };
  return { k: 'cmp', op: '!=', a: e, b: c32(0) };
}

/** A compare of legalized operands: floats through the prelude, logic on bools, order on ints. */
function compare(op: CompareOp, a: KExpr, b: KExpr): KExpr {
  if (op === '&&' || op === '||') return { k: 'cmp', op, a: truth(a), b: truth(b) };
  const [ta, tb] = [typeOf(a), typeOf(b)];
  if (ta === 'f32') return { k: 'call', fn: `fmc_${FLOAT_CMP[op]}_f`, args: [a, b], t: 'bool' };
  // A bool ordered, or compared with an integer (C's `(x != x) == 0`), compares as 0 or 1.
  const int = (x: KExpr, t: KScalar): KExpr =>
    t === 'bool' ? { k: 'select', c: x, a: c32(1), b: c32(0), t: 'i32' } : x;
  if ((ta === 'bool' || tb === 'bool') && (ta !== tb || (op !== '==' && op !== '!=')))
    return { k: 'cmp', op, a: int(a, ta), b: int(b, tb) };
  return { k: 'cmp', op, a, b };
}

const BOOL_BIN: Partial<Record<string, CompareOp>> = { max: '||', add: '||', min: '&&', mul: '&&' };

class Legalizer {
  private counter = 0;
  constructor(readonly params: readonly KParam[]) {}

  fresh(): string {
    return `lgw_${this.counter++}`;
  }

  expr(e: KExpr): KExpr {
    const x = (y: KExpr): KExpr => this.expr(y);
    switch (e.k) {
      case 'const':
        return e.t === 'i64' ? c32(Math.min(I32_MAX, Math.max(I32_MIN, Math.trunc(e.v)))) : e;
      case 'dim':
      case 'gid':
      case 'wgid':
      case 'lid':
        return e;
      case 'var':
        return { ...e, t: retype(e.t) };
      case 'load':
        return this.load(e.buf, x(e.index), retype(e.t));
      case 'aload':
        return { ...e, index: x(e.index), t: retype(e.t) };
      case 'ix':
        return { ...e, a: x(e.a), b: x(e.b) };
      case 'cmp':
        return compare(e.op, x(e.a), x(e.b));
      case 'un':
        return e.fn === 'not' ? { ...e, a: truth(x(e.a)), t: 'bool' } : { ...e, a: x(e.a), t: retype(e.t) };
      case 'bin': {
        // On bools, max and add are `||`, min and mul `&&` (a bool reduction's combine).
        const [a, b] = [x(e.a), x(e.b)];
        const bools = e.t === 'bool' || (typeOf(a) === 'bool' && typeOf(b) === 'bool');
        const op = BIN_COMPARE[e.fn] ?? (bools ? BOOL_BIN[e.fn] : undefined);
        return op ? compare(op, a, b) : { ...e, a, b, t: retype(e.t) };
      }
      case 'select':
        return { ...e, c: truth(x(e.c)), a: x(e.a), b: x(e.b), t: retype(e.t) };
      case 'cast':
        return { ...e, a: x(e.a), t: retype(e.t) };
      case 'fma':
        return { ...e, a: x(e.a), b: x(e.b), c: x(e.c) };
      case 'uniform': {
        // The step is the high half of the Philox counter, both of its words (C's uint64_t).
        const [lo, hi] = this.words(e.step);
        return { k: 'call', fn: 'fmc_uniform', args: [c32(e.k0), c32(e.k1), x(e.index), lo, hi], t: 'f32' };
      }
      case 'word':
        return { ...e, index: x(e.index) };
      case 'bits':
        return { ...e, a: x(e.a), b: x(e.b) };
      case 'bitcast':
        return { ...e, a: x(e.a) };
      case 'call':
        return { ...e, args: e.args.map(x), t: retype(e.t) };
    }
  }

  /** The low and high words of an i64 value: both stored words of an i64 load, else the low word sign-extended. */
  words(e: KExpr): [KExpr, KExpr] {
    if (e.k === 'load' && this.params[e.buf]!.dtype === 'i64') {
      const at = bin('*', this.expr(e.index), c32(2));
      return [
        { k: 'word', buf: e.buf, index: at },
        { k: 'word', buf: e.buf, index: bin('+', at, c32(1)) },
      ];
    }
    if (e.k === 'const') {
      const v = BigInt.asUintN(64, BigInt(Math.trunc(e.v)));
      return [c32(Number(v & 0xffffffffn)), c32(Number(v >> 32n))];
    }
    const lo = this.expr(e);
    return [lo, { k: 'select', c: { k: 'cmp', op: '<', a: lo, b: c32(0) }, a: c32(-1), b: c32(0), t: 'i32' }];
  }

  /** Element `index` of buffer `buf` as its compute type. */
  load(buf: number, index: KExpr, t: KScalar): KExpr {
    const d = this.params[buf]!.dtype;
    const per = PER_WORD[d];
    if (d === 'i64') return { k: 'word', buf, index: bin('*', index, c32(2)) };
    if (per === undefined) return { k: 'load', buf, index, t };
    const word: KExpr = { k: 'word', buf, index: bin('/', index, c32(per)) };
    const shift = partShift(index, per);
    if (d === 'f16')
      return { k: 'call', fn: 'fmc_h2f', args: [bits('&', bits('>>>', word, shift), c32(0xffff))], t: 'f32' };
    if (d === 'bf16') return { k: 'bitcast', to: 'f32', a: bits('<<', bits('>>>', word, shift), c32(16)) };
    if (d === 'bool') return { k: 'cmp', op: '!=', a: bits('&', bits('>>>', word, shift), c32(0xff)), b: c32(0) };
    // i8, i4: the byte moved to the top, then sign-extended back (24 - 8k is 24 ^ 8k for k < 4).
    return bits('>>', bits('<<', word, bits('^', shift, c32(24))), c32(24));
  }

  stmts(ss: readonly KStmt[]): KStmt[] {
    return ss.flatMap((s) => this.stmt(s));
  }

  stmt(s: KStmt): KStmt[] {
    const x = (e: KExpr): KExpr => this.expr(e);
    switch (s.k) {
      case 'for':
        return [{ ...s, lo: x(s.lo), hi: x(s.hi), ...(s.work ? { work: x(s.work) } : {}), body: this.stmts(s.body) }];
      case 'store':
        return this.store(s.buf, x(s.index), x(s.value));
      case 'let':
        return [{ ...s, t: retype(s.t), value: x(s.value) }];
      case 'set':
        return [{ ...s, value: x(s.value) }];
      case 'array':
        if (s.space === 'thread')
          throw new Error(`internal: thread array ${s.name} reached WGSL (lower with target 'gpu')`);
        return [{ ...s, t: retype(s.t) }];
      case 'astore':
        return [{ ...s, index: x(s.index), value: x(s.value) }];
      case 'if':
        return [
          { ...s, cond: truth(x(s.cond)), then: this.stmts(s.then), ...(s.else ? { else: this.stmts(s.else) } : {}) },
        ];
      case 'wstore':
        return [{ ...s, index: x(s.index), value: x(s.value), ...(s.mask ? { mask: x(s.mask) } : {}) }];
      case 'mma':
        throw new Error("internal: an 'mma' statement reached WGSL (lower with target 'gpu')");
      case 'barrier':
      case 'comment':
        return [s];
    }
  }

  /** Stores a legalized value into element `index` of buffer `buf`. */
  store(buf: number, index: KExpr, value: KExpr): KStmt[] {
    const d = this.params[buf]!.dtype;
    const per = PER_WORD[d];
    if (d !== 'i64' && per === undefined) return [{ k: 'store', buf, index, value }];
    const [i, v] = [this.fresh(), this.fresh()];
    const iv: KExpr = { k: 'var', name: i, t: 'i32' };
    const lets: KStmt[] = [{ k: 'let', name: i, t: 'i32', value: index }];
    if (d === 'i64') {
      const vv: KExpr = { k: 'var', name: v, t: 'i32' };
      const lo = bin('*', iv, c32(2));
      return [
        ...lets,
        { k: 'let', name: v, t: 'i32', value },
        { k: 'wstore', buf, index: lo, value: vv },
        { k: 'wstore', buf, index: bin('+', lo, c32(1)), value: bits('>>', vv, c32(31)) },
      ];
    }
    const vv: KExpr = { k: 'var', name: v, t: 'i32' };
    const shift = partShift(iv, per!);
    const mask = per === 2 ? 0xffff : 0xff;
    return [
      ...lets,
      { k: 'let', name: v, t: 'i32', value: partBits(d, value) },
      {
        k: 'wstore',
        buf,
        index: bin('/', iv, c32(per!)),
        value: bits('<<', vv, shift),
        mask: bits('<<', c32(mask), shift),
      },
    ];
  }
}

/** The bit offset of element `index` in its word: 16 (index & 1) or 8 (index & 3). */
const partShift = (index: KExpr, per: number): KExpr =>
  bits('<<', bits('&', index, c32(per - 1)), c32(per === 2 ? 4 : 3));

/** The storage bits of a compute value of a sub-word dtype, in the low bits of an i32. */
function partBits(d: Dtype, v: KExpr): KExpr {
  switch (d) {
    case 'f16':
      return { k: 'call', fn: 'fmc_f2h', args: [v], t: 'i32' };
    case 'bf16':
      return { k: 'call', fn: 'fmc_f2bf', args: [v], t: 'i32' };
    case 'bool':
      return { k: 'select', c: truth(v), a: c32(1), b: c32(0), t: 'i32' };
    case 'i4':
      return bits('&', bits('>>', bits('<<', v, c32(28)), c32(28)), c32(0xff));
    default:
      return bits('&', v, c32(0xff));
  }
}

/** Whether any statement stores into buffer `buf`. */
function stores(ss: readonly KStmt[], buf: number): boolean {
  return ss.some((s) =>
    s.k === 'store' || s.k === 'wstore'
      ? s.buf === buf
      : s.k === 'for'
        ? stores(s.body, buf)
        : s.k === 'if' && stores([...s.then, ...(s.else ?? [])], buf),
  );
}

/** The kernel legalized for the WGSL dialect. */
export function legalizeWgsl(k: Kernel): Kernel {
  const body = new Legalizer(k.params).stmts(k.body);
  const params = k.params.map((p, i): KParam => {
    if (!wordBuffer(p.dtype)) return p;
    const atomic = PER_WORD[p.dtype] !== undefined && stores(k.body, i);
    return { ...p, words: atomic ? 'atomic' : 'plain' };
  });
  return { ...k, params, body };
}
