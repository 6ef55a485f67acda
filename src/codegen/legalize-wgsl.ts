// WGSL legalization: Kernel → Kernel, run before rendering WGSL. It rewrites what WGSL
// cannot express directly into forms the WGSL dialect renders one to one:
// - WGSL has no 64-bit integers (legalize-wgsl-int.ts): index arithmetic computes in i32
//   (the host proves its bounds), integer values in 64 bits as vec2<u32> through the
//   prelude's fmc_*_l functions (prelude-wgsl-i64.ts), exactly as C's int64_t. Whether a
//   local holds a value or an index is found by a fixpoint: a value if any of its
//   assignments is one. i64 storage keeps the host layout (two words, low first); narrower
//   integer storage is read sign-extended and stored wrapped.
// - 8- and 16-bit storage lives in 32-bit words (the buffers hold the host bytes): f16 and
//   bf16 are halves of a word, i8, i4 (one byte each, sign-extended) and bool bytes. A
//   sub-word store is an atomic read-modify-write of its word (KStmt 'wstore' with a mask),
//   so invocations storing neighbouring elements never race; such a buffer is then read
//   with atomic loads too (KParam.words 'atomic').
// - Float compares and truth tests go through prelude functions that test NaN by its bit
//   pattern (SwiftShader's `x != x` is false for a NaN); logic and `!` get bool operands;
//   max/add of bools are `||`, min/mul `&&`.

import { type Dtype, isFloat } from '../ir/dtype.js';
import { BIN_COMPARE } from './render.js';
import type { BitOp, CompareOp, IndexOp, KExpr, KParam, KScalar, KStmt, Kernel } from '../ir/kernel.js';
import { c32, call, cmpName, intCast, narrow, typeOf, wideConst, wideFn, widen, word } from './legalize-wgsl-int.js';

export { typeOf } from './legalize-wgsl-int.js';

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

const bits = (op: BitOp, a: KExpr, b: KExpr): KExpr => ({ k: 'bits', op, a, b });
const bin = (op: '+' | '*' | '/', a: KExpr, b: KExpr): KExpr => ({ k: 'ix', op, a, b });

/** Elements per 32-bit word of the dtypes stored in parts of a word. */
const PER_WORD: Partial<Record<Dtype, number>> = { f16: 2, bf16: 2, i8: 4, i4: 4, bool: 4 };
const wordBuffer = (d: Dtype): boolean => d === 'i64' || PER_WORD[d] !== undefined;

/** A legalized value as a bool (nonzero, NaN included, is true). */
function truth(e: KExpr): KExpr {
  const t = typeOf(e);
  if (t === 'bool') return e;
  if (t === 'f32') return call('fmc_truth_f', [e], 'bool');
  if (t === 'i64') return call('fmc_truth_l', [e], 'bool');
  return { k: 'cmp', op: '!=', a: e, b: c32(0) };
}

/** A compare of legalized operands: floats through the prelude, logic on bools, order on ints. */
function compare(op: CompareOp, a: KExpr, b: KExpr): KExpr {
  if (op === '&&' || op === '||') return { k: 'cmp', op, a: truth(a), b: truth(b) };
  const [ta, tb] = [typeOf(a), typeOf(b)];
  if (ta === 'f32') return call(`fmc_${cmpName(op)}_f`, [a, b], 'bool');
  if (ta === 'i64' || tb === 'i64') return call(`fmc_${cmpName(op)}_l`, [widen(a), widen(b)], 'bool');
  // A bool ordered, or compared with an integer (C's `(x != x) == 0`), compares as 0 or 1.
  const int = (x: KExpr, t: KScalar): KExpr =>
    t === 'bool' ? { k: 'select', c: x, a: c32(1), b: c32(0), t: 'i32' } : x;
  if ((ta === 'bool' || tb === 'bool') && (ta !== tb || (op !== '==' && op !== '!=')))
    return { k: 'cmp', op, a: int(a, ta), b: int(b, tb) };
  return { k: 'cmp', op, a, b };
}

const BOOL_BIN: Partial<Record<string, CompareOp>> = { max: '||', add: '||', min: '&&', mul: '&&' };

/** The integer fn of each index op, for index arithmetic on integer values. */
const WIDE_IX: Record<IndexOp, string> = {
  '+': 'add',
  '-': 'sub',
  '*': 'mul',
  '/': 'div',
  '%': 'mod',
  min: 'min',
  max: 'max',
};

class Legalizer {
  private counter = 0;
  /** The declared compute type of each local and array seen so far. */
  private readonly declared = new Map<string, KScalar>();
  private readonly arrays = new Map<string, KScalar>();
  /** Locals found to hold integer values once assigned one (the fixpoint: legalizeWgsl). */
  readonly grown = new Set<string>();
  constructor(
    readonly params: readonly KParam[],
    /** Locals of compute type i64 that hold integer values (the others hold indices). */
    readonly values: ReadonlySet<string>,
  ) {}

  /** A legalized value as the type of local `name` (declared `t`): a value, an index, or as is. */
  private asLocal(name: string, t: KScalar, v: KExpr): KExpr {
    if (t !== 'i64') return v;
    if (this.values.has(name)) return widen(v);
    if (typeOf(v) === 'i64') this.grown.add(name);
    return narrow(v);
  }

  private localType(name: string, t: KScalar): KScalar {
    return t === 'i64' && !this.values.has(name) ? 'i32' : t;
  }

  fresh(): string {
    return `lgw_${this.counter++}`;
  }

  expr(e: KExpr): KExpr {
    const x = (y: KExpr): KExpr => this.expr(y);
    switch (e.k) {
      case 'const':
        if (e.t !== 'i64') return e;
        return e.v >= I32_MIN && e.v <= I32_MAX ? c32(Math.trunc(e.v)) : wideConst(e.v);
      case 'dim':
      case 'gid':
      case 'wgid':
      case 'lid':
        return e;
      case 'var':
        return { ...e, t: this.localType(e.name, e.t) };
      case 'load':
        return this.load(e.buf, narrow(x(e.index)), e.t);
      case 'aload':
        return { ...e, index: narrow(x(e.index)) };
      case 'ix': {
        // Index arithmetic on an integer value (a gather's clamp of its index) stays a value
        // until it is used as an index, so that its high word counts (2^32 + 1 is past the end).
        const [a, b] = [x(e.a), x(e.b)];
        if (typeOf(a) === 'i64' || typeOf(b) === 'i64') return wideFn(WIDE_IX[e.op], [a, b]);
        return { ...e, a, b };
      }
      case 'cmp':
        return compare(e.op, x(e.a), x(e.b));
      case 'un':
        if (e.fn === 'not') return { ...e, a: truth(x(e.a)), t: 'bool' };
        return e.t === 'i64' ? wideFn(e.fn, [x(e.a)]) : { ...e, a: x(e.a) };
      case 'bin': {
        // On bools, max and add are `||`, min and mul `&&` (a bool reduction's combine).
        const [a, b] = [x(e.a), x(e.b)];
        const bools = e.t === 'bool' || (typeOf(a) === 'bool' && typeOf(b) === 'bool');
        const op = BIN_COMPARE[e.fn] ?? (bools ? BOOL_BIN[e.fn] : undefined);
        if (op) return compare(op, a, b);
        return e.t === 'i64' ? wideFn(e.fn, [a, b]) : { ...e, a, b };
      }
      case 'select': {
        const [a, b] = [x(e.a), x(e.b)];
        const wide = e.t === 'i64' && (typeOf(a) === 'i64' || typeOf(b) === 'i64');
        const t = e.t === 'i64' ? (wide ? 'i64' : 'i32') : e.t;
        return { ...e, c: truth(x(e.c)), a: wide ? widen(a) : a, b: wide ? widen(b) : b, t };
      }
      case 'cast': {
        const a = x(e.a);
        if (e.to === 'bool') return truth(a);
        return intCast(e.from, e.to, a) ?? { ...e, a };
      }
      case 'fma':
        return { ...e, a: x(e.a), b: x(e.b), c: x(e.c) };
      case 'uniform': {
        // The step is the high half of the Philox counter, both of its words (C's uint64_t).
        const step = widen(x(e.step));
        return call('fmc_uniform', [c32(e.k0), c32(e.k1), narrow(x(e.index)), word(step, 0), word(step, 1)], 'f32');
      }
      case 'word':
        return { ...e, index: narrow(x(e.index)) };
      case 'bits':
        return { ...e, a: x(e.a), b: x(e.b) };
      case 'bitcast':
        return { ...e, a: x(e.a) };
      case 'call':
        return { ...e, args: e.args.map(x) };
    }
  }

  /** Element `index` of buffer `buf` as its compute type. */
  load(buf: number, index: KExpr, t: KScalar): KExpr {
    const d = this.params[buf]!.dtype;
    const per = PER_WORD[d];
    if (d === 'i64') {
      const at = bin('*', index, c32(2));
      return call(
        'fmc_i64',
        [
          { k: 'word', buf, index: at },
          { k: 'word', buf, index: bin('+', at, c32(1)) },
        ],
        'i64',
      );
    }
    if (per === undefined)
      return d === 'i32' ? widen({ k: 'load', buf, index, t: 'i32' }) : { k: 'load', buf, index, t };
    const word: KExpr = { k: 'word', buf, index: bin('/', index, c32(per)) };
    const shift = partShift(index, per);
    if (d === 'f16')
      return { k: 'call', fn: 'fmc_h2f', args: [bits('&', bits('>>>', word, shift), c32(0xffff))], t: 'f32' };
    if (d === 'bf16') return { k: 'bitcast', to: 'f32', a: bits('<<', bits('>>>', word, shift), c32(16)) };
    if (d === 'bool') return { k: 'cmp', op: '!=', a: bits('&', bits('>>>', word, shift), c32(0xff)), b: c32(0) };
    // i8, i4: the byte moved to the top, then sign-extended back (24 - 8k is 24 ^ 8k for k < 4).
    return widen(bits('>>', bits('<<', word, bits('^', shift, c32(24))), c32(24)));
  }

  stmts(ss: readonly KStmt[]): KStmt[] {
    return ss.flatMap((s) => this.stmt(s));
  }

  stmt(s: KStmt): KStmt[] {
    const x = (e: KExpr): KExpr => this.expr(e);
    switch (s.k) {
      case 'for':
        return [{ ...s, lo: narrow(x(s.lo)), hi: narrow(x(s.hi)), body: this.stmts(s.body) }];
      case 'store':
        return this.store(s.buf, narrow(x(s.index)), x(s.value));
      case 'let':
        this.declared.set(s.name, s.t);
        return [{ ...s, t: this.localType(s.name, s.t), value: this.asLocal(s.name, s.t, x(s.value)) }];
      case 'set':
        return [{ ...s, value: this.asLocal(s.name, this.declared.get(s.name) ?? 'f32', x(s.value)) }];
      case 'array':
        this.arrays.set(s.name, s.t);
        return [s];
      case 'astore': {
        // Arrays of compute type i64 hold integer values.
        const v = x(s.value);
        return [{ ...s, index: narrow(x(s.index)), value: this.arrays.get(s.name) === 'i64' ? widen(v) : v }];
      }
      case 'if':
        return [
          { ...s, cond: truth(x(s.cond)), then: this.stmts(s.then), ...(s.else ? { else: this.stmts(s.else) } : {}) },
        ];
      case 'wstore':
        return [{ ...s, index: x(s.index), value: x(s.value), ...(s.mask ? { mask: x(s.mask) } : {}) }];
      case 'mma':
      case 'dot8':
      case 'dotbf16':
        throw new Error(`internal: an '${s.k}' statement reached WGSL (lower with target 'gpu')`);
      case 'frag':
      case 'fragLoad':
      case 'fragMma':
      case 'fragEach':
        throw new Error(`internal: a '${s.k}' statement reached WGSL legalization (expandFragments comes first)`);
      case 'barrier':
      case 'comment':
        return [s];
    }
  }

  /** Stores a legalized value into element `index` of buffer `buf`. */
  store(buf: number, index: KExpr, stored: KExpr): KStmt[] {
    const d = this.params[buf]!.dtype;
    const per = PER_WORD[d];
    // Integer storage takes the value's low word (its wrap to 32 bits and fewer), i64 both.
    const value = !isFloat(d) && d !== 'bool' && d !== 'i64' ? narrow(stored) : stored;
    if (d !== 'i64' && per === undefined) return [{ k: 'store', buf, index, value }];
    const [i, v] = [this.fresh(), this.fresh()];
    const iv: KExpr = { k: 'var', name: i, t: 'i32' };
    const lets: KStmt[] = [{ k: 'let', name: i, t: 'i32', value: index }];
    if (d === 'i64') {
      const vv: KExpr = { k: 'var', name: v, t: 'i64' };
      const lo = bin('*', iv, c32(2));
      return [
        ...lets,
        { k: 'let', name: v, t: 'i64', value: widen(value) },
        { k: 'wstore', buf, index: lo, value: word(vv, 0) },
        { k: 'wstore', buf, index: bin('+', lo, c32(1)), value: word(vv, 1) },
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
  // Per-thread scratch is CPU schedule data; a GPU lowering makes none.
  if ((k.cpu?.scratch.length ?? 0) > 0)
    throw new Error(
      `internal: CPU scratch arrays (${k.cpu!.scratch.join(', ')}) reached WGSL (lower with target 'gpu')`,
    );
  // Locals holding integer values: grown until no assignment of an index local is a value.
  const values = new Set<string>();
  let L = new Legalizer(k.params, values);
  let body = L.stmts(k.body);
  while (L.grown.size > 0) {
    for (const name of L.grown) values.add(name);
    L = new Legalizer(k.params, values);
    body = L.stmts(k.body);
  }
  const params = k.params.map((p, i): KParam => {
    if (!wordBuffer(p.dtype)) return p;
    const atomic = PER_WORD[p.dtype] !== undefined && stores(k.body, i);
    return { ...p, words: atomic ? 'atomic' : 'plain' };
  });
  return { ...k, params, body };
}
