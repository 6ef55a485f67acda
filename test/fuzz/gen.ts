// The program generator of the whole-pipeline fuzzer: a seed gives one valid .fm program (a
// model with generated blocks, children from the standard library, params and several
// functions), built statement by statement from a pool of typed values, so every program
// checks clean by construction (the fuzzer reports any diagnostic as a generator or checker
// bug).
//
// Values stay finite and well conditioned, so that C and the reference agree within the
// documented tolerances: inputs are small, every value carries an estimate of its magnitude
// and is squashed (tanh, a norm, a division) before it grows, exp sees only bounded
// arguments, log/sqrt/rsqrt/recip/division/pow see arguments bounded away from zero and
// negatives. Discrete ops (comparisons, floor, casts to int, topk indices, argmax) act on
// computed values too; they flip only when a value lands within rounding of a boundary.
//
// The structure (blocks, members, functions, statements) is kept, so the shrinker can remove
// pieces and print again.

import type { Dtype } from '../../src/ir/dtype.js';
import { D, broadcast, shapeKey, shapeText } from './dims.js';
import { Rng } from './rng.js';

export interface Stmt {
  /** Names the statement defines. */
  readonly names: readonly string[];
  readonly text: string;
  /** The type text of the (first) value, and same-typed operands it may be replaced by. */
  readonly type: string;
  readonly bypass: readonly string[];
}
export interface Result {
  readonly expr: string;
  readonly type: string;
  readonly name?: string;
}
export interface FnDecl {
  readonly name: string;
  readonly params: readonly string[];
  readonly stmts: readonly Stmt[];
  readonly results: readonly Result[];
}
export interface Member {
  readonly name: string;
  readonly text: string;
}
export interface BlockDecl {
  readonly name: string;
  /** `block G0(d: int)` or `model Fuzz(h = 3)`. */
  readonly header: string;
  readonly members: readonly Member[];
  readonly fns: readonly FnDecl[];
}
/** How an input is drawn: floats uniform in [lo, hi], integers uniform in [lo, hi]. */
export interface InputSpec {
  readonly lo: number;
  readonly hi: number;
}
export interface FuzzProgram {
  readonly seed: number;
  readonly blocks: readonly BlockDecl[];
  readonly model: BlockDecl;
  /** Values of the dim variables of the model's functions. */
  readonly dims: Readonly<Record<string, number>>;
  /** A second binding: each function with dim variables runs at both (one compiled function). */
  readonly dims2: Readonly<Record<string, number>>;
  /** By `fn.input`. */
  readonly inputs: Readonly<Record<string, InputSpec>>;
  /** The lowest float precision used (it sets the tolerance). */
  readonly lowp?: 'f16' | 'bf16';
}

export const IMPORTS = ['std/nn', 'std/act', 'std/math', 'std/conv', 'std/loss'];

export function printFn(f: FnDecl, indent: string): string {
  const res =
    f.results.length === 1 && !f.results[0]!.name
      ? f.results[0]!.type
      : `(${f.results.map((r) => (r.name ? `${r.name}: ${r.type}` : r.type)).join(', ')})`;
  const body = f.stmts.map((s) => `${indent}  ${s.text}\n`).join('');
  const ret = f.results.length === 1 ? f.results[0]!.expr : `(${f.results.map((r) => r.expr).join(', ')})`;
  return `${indent}fn ${f.name}(${f.params.join(', ')}) -> ${res} {\n${body}${indent}  return ${ret}\n${indent}}\n`;
}

export function printBlock(b: BlockDecl): string {
  const members = b.members.map((m) => `  ${m.text}\n`).join('');
  return `${b.header} {\n${members}${b.fns.map((f) => printFn(f, '  ')).join('')}}\n`;
}

export function printProgram(p: FuzzProgram): string {
  const head = `// fuzz seed ${p.seed}; dims ${JSON.stringify(p.dims)}\n`;
  const imports = IMPORTS.map((i) => `import "${i}"\n`).join('');
  return [head + imports, ...p.blocks.map(printBlock), printBlock(p.model)].join('\n');
}

// ---------- values ----------

interface Val {
  readonly name: string;
  readonly dt: Dtype;
  readonly shape: readonly D[];
  /** Rough bound of |value| (floats), or of |integer|. */
  readonly scale: number;
}

/**
 * Whether a value may index a gather or scatter_add. Integers computed from a bool are
 * allowed: gcc 12.2 (-O2/-O3 -fopenmp) miscompiled the `omp simd` loop of a gather whose
 * fused index was `(int64_t)(x >= c)` (found here, seed 201157); the kernel lowering now
 * gives such an index a buffer of its own (test/kernels/review-fixes.test.ts).
 */
const indexable = (v: Val): boolean => isI(v.dt) && v.shape.length <= 2;

const FLOATS: readonly Dtype[] = ['f32', 'f16', 'bf16'];
const INTS: readonly Dtype[] = ['i32', 'i64', 'i8', 'i4'];
const isF = (d: Dtype): boolean => FLOATS.includes(d);
const isI = (d: Dtype): boolean => INTS.includes(d);
const typeText = (dt: Dtype, s: readonly D[]): string => `${dt}[${shapeText(s)}]`;
/** A float literal. */
const fl = (x: number): string => {
  const s = String(Math.round(x * 1000) / 1000);
  return s.includes('.') || s.includes('e') ? s : `${s}.0`;
};

const MAX_ELEMENTS = 192;
const BIG_ELEMENTS = 4096;
/** Block hyperparameters (dims a member may use); every other symbol is a dim variable. */
const HPARAMS = new Set(['d', 'e']);
/** A dim a param or child may use: no dim variables. */
const isStatic = (d: D): boolean => d.terms.every(([s]) => HPARAMS.has(s));
/** Values above this are squashed before further growth. */
const BIG = 6;

/** Where a function is generated: the model or a block (for members and dims). */
interface Scope {
  readonly members: Member[];
  readonly inBlock: boolean;
  /** Counter of member names, shared by the program. */
  readonly names: { n: number };
  /** Program-level state (blocks), absent inside a block. */
  readonly prog?: ProgState;
  /** A float hyperparameter of the block, usable as a weak scalar. */
  readonly floatParam?: string;
}

interface ProgState {
  readonly blocks: BlockDecl[];
  /** Element bound of every value (a few programs are big: GEMM blocking, vector loops). */
  readonly maxElements: number;
  /** Largest new dim. */
  readonly maxDim: number;
  lowp?: 'f16' | 'bf16';
}

class FnGen {
  readonly pool: Val[] = [];
  readonly stmts: Stmt[] = [];
  private vals = 0;

  constructor(
    readonly r: Rng,
    readonly scope: Scope,
    readonly env: Map<string, number>,
    readonly prefix: string,
    readonly state: ProgState,
  ) {}

  size(s: readonly D[]): number {
    return s.reduce((a, d) => a * d.val(this.env), 1);
  }
  fits(s: readonly D[]): boolean {
    return s.every((d) => d.val(this.env) >= 1) && this.size(s) <= this.state.maxElements && s.length <= 5;
  }
  v(d: D): number {
    return d.val(this.env);
  }

  member(prefix: string, text: (name: string) => string): string {
    const name = `${prefix}${this.scope.names.n++}`;
    this.scope.members.push({ name, text: text(name) });
    return name;
  }

  /** A new param of `shape` (f32) with a random initializer of about `std`. */
  param(shape: readonly D[], std: number): string {
    const init = this.r.pick([
      `normal(std = ${fl(std)})`,
      `uniform(low = ${fl(-std * 1.7)}, high = ${fl(std * 1.7)})`,
      `trunc_normal(std = ${fl(std)})`,
      shape.length >= 2 ? 'xavier_uniform()' : `normal(mean = 0.1, std = ${fl(std)})`,
      shape.length >= 2 ? 'kaiming_normal()' : 'ones()',
      `constant(${fl(std)})`,
    ]);
    return this.member('p', (n) => `param ${n}: ${typeText('f32', shape)} = ${init}`);
  }

  emit(expr: string, dt: Dtype, shape: readonly D[], scale: number, from: readonly Val[] = []): Val | undefined {
    if (!this.fits(shape)) return undefined;
    const name = `${this.prefix}${this.vals++}`;
    const type = typeText(dt, shape);
    const annotate = this.r.bool(15);
    const key = shapeKey(shape);
    const bypass = from.filter((f) => f.dt === dt && shapeKey(f.shape) === key).map((f) => f.name);
    this.stmts.push({
      names: [name],
      text: `let ${name}${annotate ? `: ${type}` : ''} = ${expr}`,
      type,
      bypass: [...new Set(bypass)],
    });
    const v: Val = { name, dt, shape: [...shape], scale: Math.min(scale, 1e6) };
    this.pool.push(v);
    return v;
  }

  /** A pool value matching `pred`, the recent ones preferred. */
  pick(pred: (v: Val) => boolean): Val | undefined {
    const xs = this.pool.filter(pred);
    if (xs.length === 0) return undefined;
    return this.r.bool(65) ? xs[Math.max(0, xs.length - 1 - this.r.int(3))]! : this.r.pick(xs);
  }
  floatVal(pred: (v: Val) => boolean = () => true): Val | undefined {
    return this.pick((v) => isF(v.dt) && pred(v));
  }

  /** Squashes a big value first. */
  tame(x: Val): Val {
    if (x.scale <= BIG || !isF(x.dt)) return x;
    const form = this.r.int(3);
    const e =
      form === 0
        ? `tanh(${x.name})`
        : form === 1
          ? `${x.name} / (abs(${x.name}) + 1.0)`
          : `${x.name} / ${fl(Math.max(2, Math.ceil(x.scale)))}`;
    return this.emit(e, x.dt, x.shape, form === 2 ? 1.5 : 1, [x]) ?? x;
  }

  // ---------- operations (each returns whether it emitted) ----------

  unary(): boolean {
    const x0 = this.floatVal();
    if (!x0) return false;
    const x = this.tame(x0);
    const s = x.scale;
    const n = x.name;
    const ops: [string, number][] = [
      [`-${n}`, s],
      [`abs(${n})`, s],
      [`sin(${n})`, Math.min(s, 1)],
      [`cos(${n})`, 1],
      [`tanh(${n})`, Math.min(s, 1)],
      [`erf(${n})`, 1],
      [`floor(${n})`, s + 1],
      [`relu(${n})`, s],
      [`gelu(${n})`, s],
      [`gelu_tanh(${n})`, s],
      [`sigmoid(${n})`, 1],
      [`silu(${n})`, s],
      [`softplus(${n})`, s + 1],
      [`mish(${n})`, s],
      [`leaky_relu(${n}, slope = 0.1)`, s],
      [`elu(${n})`, s],
      [`hard_sigmoid(${n})`, 1],
      [`swish(${n}, beta = 0.5)`, s],
      [`${n} |> tanh_act |> gelu`, 1],
      [`${n} |> relu`, s],
      [`exp(tanh(${n}))`, 2.8],
      [`exp(-abs(${n}))`, 1],
      [`log(abs(${n}) + 1.0)`, Math.log(s + 1) + 0.1],
      [`log(${n} * ${n} + 0.5)`, 2 * Math.log(s + 1) + 0.7],
      [`sqrt(${n} * ${n} + 1.0)`, s + 1],
      [`rsqrt(abs(${n}) + 0.5)`, 1.5],
      [`recip(${n} * ${n} + 1.0)`, 1],
      [`${n} * ${n}`, s * s],
      [`${n} ** 2.0`, s * s],
    ];
    const [e, sc] = this.r.pick(ops);
    return !!this.emit(e, x.dt, x.shape, sc, [x]);
  }

  /** A partner of `x` for a broadcasting binary op: a pool value or undefined. */
  partner(x: Val): { y: Val; shape: D[] } | undefined {
    const ys = this.pool.filter((y) => y.dt === x.dt && broadcast(x.shape, y.shape) && y !== x);
    if (ys.length === 0) return undefined;
    const y = this.r.bool(60) ? ys[ys.length - 1 - this.r.int(Math.min(ys.length, 3))]! : this.r.pick(ys);
    const shape = broadcast(x.shape, y.shape)!;
    return this.fits(shape) ? { y, shape } : undefined;
  }

  binary(): boolean {
    const x0 = this.floatVal();
    if (!x0) return false;
    const x = this.tame(x0);
    const p = this.partner(x);
    const alpha = this.scope.floatParam;
    if (!p || this.r.bool(20)) {
      const c = this.r.pick([0.5, 1.25, -0.75, 2.0, 3.0]);
      const [e, sc] = this.r.pick<[string, number]>([
        [`${x.name} * ${alpha ?? fl(c)}`, x.scale * 3],
        [`${x.name} + ${fl(c)}`, x.scale + 3],
        [`${fl(c)} - ${x.name}`, x.scale + 3],
        [`${x.name} / ${fl(Math.abs(c) + 0.5)}`, x.scale],
        [`maximum(${x.name}, ${fl(c)})`, x.scale + 3],
        [`minimum(${fl(c)}, ${x.name})`, x.scale + 3],
        [`${x.name} % 1.5`, 1.5],
      ]);
      return !!this.emit(e, x.dt, x.shape, sc, [x]);
    }
    const y = this.tame(p.y);
    const [a, b] = [x.name, y.name];
    const [sa, sb] = [x.scale, y.scale];
    const [e, sc] = this.r.pick<[string, number]>([
      [`${a} + ${b}`, sa + sb],
      [`${a} - ${b}`, sa + sb],
      [`${a} * ${b}`, sa * sb],
      [`${a} / (${b} * ${b} + 1.0)`, sa],
      [`${a} / (abs(${b}) + 0.5)`, 2 * sa],
      [`maximum(${a}, ${b})`, Math.max(sa, sb)],
      [`minimum(${a}, ${b})`, Math.max(sa, sb)],
      [`${a} % (abs(${b}) + 1.0)`, Math.min(sa, sb + 1)],
      [`(abs(${a}) + 0.5) ** tanh(${b})`, sa + 1],
      [`${a} * sigmoid(${b})`, sa],
    ]);
    return !!this.emit(e, x.dt, p.shape, sc, [x, y]);
  }

  compare(): boolean {
    const x = this.floatVal() ?? this.pick((v) => isI(v.dt));
    if (!x) return false;
    const p = this.partner(x);
    const op = this.r.pick(['>', '<', '>=', '<=', '==', '!=']);
    if (p && this.r.bool(60)) return !!this.emit(`${x.name} ${op} ${p.y.name}`, 'bool', p.shape, 1, []);
    const lit = isF(x.dt) ? fl(this.r.pick([0, 0.5, -0.25, 1])) : String(this.r.range(-2, 4));
    return !!this.emit(`${x.name} ${op} ${lit}`, 'bool', x.shape, 1, []);
  }

  logic(): boolean {
    const a = this.pick((v) => v.dt === 'bool');
    if (!a) return false;
    const b = this.pick((v) => v.dt === 'bool' && v !== a && !!broadcast(a.shape, v.shape));
    if (!b || this.r.bool(30)) return !!this.emit(`not ${a.name}`, 'bool', a.shape, 1, [a]);
    const op = this.r.pick(['and', 'or', '==', '!=']);
    return !!this.emit(`${a.name} ${op} ${b.name}`, 'bool', broadcast(a.shape, b.shape)!, 1, [a, b]);
  }

  select(): boolean {
    const c = this.pick((v) => v.dt === 'bool');
    const a = this.floatVal() ?? this.pick((v) => isI(v.dt));
    if (!a) return false;
    let cond: string;
    let cshape: readonly D[];
    if (c && this.r.bool(50)) {
      cond = c.name;
      cshape = c.shape;
    } else {
      const p = this.partner(a);
      const lit = isF(a.dt) ? fl(this.r.pick([0, 0.5, -0.5])) : '1';
      cond = p ? `${a.name} > ${p.y.name}` : `${a.name} > ${lit}`;
      cshape = p ? p.shape : a.shape;
    }
    const s1 = broadcast(cshape, a.shape);
    if (!s1) return false;
    const b = this.pick((v) => v.dt === a.dt && v !== a && !!broadcast(s1, v.shape));
    const other = b && this.r.bool(70) ? b.name : isF(a.dt) ? fl(this.r.pick([0, -1, 0.5])) : '0';
    const shape = b && other === b.name ? broadcast(s1, b.shape)! : s1;
    return !!this.emit(`where(${cond}, ${a.name}, ${other})`, a.dt, shape, Math.max(a.scale, b?.scale ?? 1), [a]);
  }

  axis(x: Val): number {
    return this.r.int(x.shape.length);
  }
  axisText(x: Val, a: number): string {
    return String(this.r.bool(30) ? a - x.shape.length : a);
  }

  reduce(): boolean {
    const x = this.floatVal((v) => v.shape.length >= 1) ?? this.pick((v) => isI(v.dt) && v.shape.length >= 1);
    if (!x) return false;
    const rank = x.shape.length;
    const a = this.axis(x);
    const at = this.axisText(x, a);
    const n = this.v(x.shape[a]!);
    const keep = this.r.bool(35);
    const dropped = keep ? x.shape.map((d, i) => (i === a ? D.k(1) : d)) : x.shape.filter((_, i) => i !== a);
    const kd = keep ? ', keepdim = true' : '';
    const grow = x.scale * (Math.sqrt(n) + 1);
    // cumsum along the axis, sometimes exclusive or reversed (named or positional flags).
    const scan = (): Val | undefined => {
      const [ex, rev] = [this.r.bool(30), this.r.bool(30)];
      const flags = this.r.bool(50)
        ? `${ex ? ', exclusive = true' : ''}${rev ? ', reverse = true' : ''}`
        : ex || rev
          ? `, ${ex}, ${rev}`
          : '';
      const call =
        a === rank - 1 && !flags && this.r.bool(30) ? `cumsum(${x.name})` : `cumsum(${x.name}, ${at}${flags})`;
      return this.emit(call, x.dt, x.shape, x.scale * n, [x]);
    };
    if (isI(x.dt)) {
      const f = this.r.pick(['sum', 'max', 'cumsum']);
      if (f === 'cumsum') return !!scan();
      return !!this.emit(`${f}(${x.name}, ${at}${kd})`, x.dt, dropped, f === 'sum' ? x.scale * n : x.scale);
    }
    const choices: (() => Val | undefined)[] = [
      () => this.emit(`sum(${x.name}, ${at}${kd})`, x.dt, dropped, grow, []),
      () => this.emit(`max(${x.name}, ${at}${kd})`, x.dt, dropped, x.scale, []),
      () => this.emit(`sum(${x.name})`, x.dt, [], x.scale * Math.sqrt(this.size(x.shape)) + x.scale),
      () => {
        if (rank < 2) return undefined;
        const b = (a + 1) % rank;
        const shape = x.shape.filter((_, i) => i !== a && i !== b);
        return this.emit(`sum(${x.name}, [${Math.min(a, b)}, ${Math.max(a, b)}])`, x.dt, shape, grow * 2, []);
      },
      () => this.emit(`mean(${x.name}, ${at}${kd})`, x.dt, dropped, x.scale, [x]),
      () => {
        const corr = n >= 2 && this.r.bool(50) ? ', correction = 1' : '';
        return this.emit(`var(${x.name}, ${at}${kd}${corr})`, x.dt, dropped, x.scale * x.scale * 2, []);
      },
      () => this.emit(`softmax(${x.name}, ${at})`, x.dt, x.shape, 1, [x]),
      () => this.emit(`log_softmax(${this.tame(x).name}, ${at})`, x.dt, x.shape, 6 + Math.log(n), [x]),
      () => this.emit(`logsumexp(${this.tame(x).name}, ${at}${kd})`, x.dt, dropped, 2 + Math.log(n), []),
      scan,
    ];
    return !!this.r.pick(choices)();
  }

  matmul(): boolean {
    const x0 = this.floatVal((v) => v.shape.length >= 1 && v.dt === 'f32' && isStatic(v.shape[v.shape.length - 1]!));
    if (!x0) return false;
    const x = this.tame(x0);
    const k = x.shape[x.shape.length - 1]!;
    const kv = this.v(k);
    const m = D.k(this.r.range(1, this.state.maxDim));
    const std = 1 / Math.sqrt(kv);
    const out = [...x.shape.slice(0, -1), m];
    const form = this.r.int(4);
    if (form === 0 && x.shape.length >= 2) {
      const w = this.param([k, m], std);
      return !!this.emit(`${x.name} @ ${w}`, 'f32', out, x.scale * 2, []);
    }
    if (form === 1) {
      const ys = this.pool.filter((y) => y.dt === 'f32' && y.shape.length >= 2 && y.shape[y.shape.length - 2]!.eq(k));
      if (x.shape.length >= 2 && ys.length > 0) {
        const y = this.tame(this.r.pick(ys));
        const batch = broadcast(x.shape.slice(0, -2), y.shape.slice(0, -2));
        if (batch) {
          const shape = [...batch, x.shape[x.shape.length - 2]!, y.shape[y.shape.length - 1]!];
          return !!this.emit(`${x.name} @ ${y.name}`, 'f32', shape, x.scale * y.scale * Math.sqrt(kv), []);
        }
      }
    }
    if (form === 2) {
      const bias = this.r.bool(50);
      const c = this.member('c', (n) => `${n} = Linear(${k.text}, ${m.text}${bias ? '' : ', bias = false'})`);
      return !!this.emit(`${c}(${x.name})`, 'f32', out, x.scale * 2, []);
    }
    const w = this.param([k, m], std);
    return !!this.emit(`einsum("...i,ij->...j", ${x.name}, ${w})`, 'f32', out, x.scale * 2, []);
  }

  einsum(): boolean {
    const x0 = this.floatVal((v) => v.shape.length >= 1 && v.shape.length <= 4);
    if (!x0) return false;
    const x = this.tame(x0);
    const letters = 'abcdefgh'.split('');
    const la = x.shape.map((_, i) => letters[i]!);
    const dimOf = new Map<string, D>(la.map((l, i) => [l, x.shape[i]!]));
    let next = x.shape.length;
    let lb: string[] = [];
    let operand = '';
    let bscale = 1;
    const pool = this.pool.filter((y) => y.dt === x.dt && y.shape.length >= 1 && y.shape.length <= 3 && y !== x);
    if (pool.length > 0 && this.r.bool(50)) {
      const y = this.tame(this.r.pick(pool));
      const used = new Set<string>();
      lb = y.shape.map((d) => {
        const match = la.find((l) => !used.has(l) && dimOf.get(l)!.eq(d));
        if (match && this.r.bool(75)) {
          used.add(match);
          return match;
        }
        const l = letters[next++]!;
        dimOf.set(l, d);
        return l;
      });
      operand = y.name;
      bscale = y.scale;
    } else if (x.dt === 'f32' && this.r.bool(80)) {
      const statics = la.filter((l) => isStatic(dimOf.get(l)!));
      if (statics.length === 0) return false;
      const shared = this.r.shuffle(statics).slice(0, this.r.range(1, Math.min(2, statics.length)));
      const fresh = this.r.bool(60) ? [letters[next++]!] : [];
      for (const l of fresh) dimOf.set(l, D.k(this.r.range(2, 4)));
      lb = this.r.shuffle([...shared, ...fresh]);
      const contracted = shared.reduce((a, l) => a * this.v(dimOf.get(l)!), 1);
      operand = this.param(
        lb.map((l) => dimOf.get(l)!),
        1 / Math.sqrt(contracted),
      );
    }
    const all = [...new Set([...la, ...lb])];
    const outL = this.r.shuffle(all).slice(0, this.r.int(Math.min(all.length, 4) + 1));
    const shape = outL.map((l) => dimOf.get(l)!);
    const summed = all.filter((l) => !outL.includes(l)).reduce((a, l) => a * this.v(dimOf.get(l)!), 1);
    const spec = lb.length > 0 ? `${la.join('')},${lb.join('')}->${outL.join('')}` : `${la.join('')}->${outL.join('')}`;
    const args = lb.length > 0 ? `${x.name}, ${operand}` : x.name;
    return !!this.emit(`einsum("${spec}", ${args})`, x.dt, shape, x.scale * bscale * (Math.sqrt(summed) + 1), []);
  }

  norm(): boolean {
    const x = this.floatVal((v) => v.dt === 'f32' && v.shape.length >= 1 && isStatic(v.shape[v.shape.length - 1]!));
    if (!x) return false;
    const k = x.shape[x.shape.length - 1]!;
    const kind = this.r.int(6);
    if (kind === 0) {
      const c = this.member('c', (n) => `${n} = LayerNorm(${k.text})`);
      return !!this.emit(`${c}(${x.name})`, 'f32', x.shape, 3, [x]);
    }
    if (kind === 1) {
      const c = this.member('c', (n) => `${n} = RMSNorm(${k.text}, eps = 1e-5)`);
      return !!this.emit(`${c}(${x.name})`, 'f32', x.shape, 3, [x]);
    }
    if (kind === 2) {
      const c = this.member('c', (n) => `${n} = Dropout(${this.r.pick(['0.1', '0.5', '0.0'])})`);
      return !!this.emit(`${c}(${x.name})`, 'f32', x.shape, x.scale, [x]);
    }
    const xt = this.tame(x);
    if (kind === 3) {
      const h = this.r.range(1, 6);
      const act = this.r.pick(['relu', 'gelu', 'silu', 'tanh_act', 'sigmoid']);
      const c = this.member('c', (n) => `${n} = FeedForward(${k.text}, hidden = ${h}, act = ${act})`);
      return !!this.emit(`${c}(${xt.name})`, 'f32', x.shape, xt.scale * 2 + 1, [x]);
    }
    if (kind === 4) {
      const h = this.r.range(1, 6);
      const c = this.member('c', (n) => `${n} = SwiGLU(${k.text}, ${h}${this.r.bool(50) ? ', bias = true' : ''})`);
      return !!this.emit(`${c}(${xt.name})`, 'f32', x.shape, xt.scale * 2 + 1, [x]);
    }
    const m = D.k(this.r.range(1, 5));
    const c = this.member(
      'c',
      (n) => `${n} = GLU(${k.text}, ${m.text}, act = ${this.r.pick(['sigmoid', 'tanh_act'])})`,
    );
    return !!this.emit(`${c}(${xt.name})`, 'f32', [...x.shape.slice(0, -1), m], xt.scale * 2 + 1, []);
  }

  /** Conv1d, DepthwiseConv1d, BatchNorm1d on [N, C, L]; Conv2d, pools, BatchNorm2d, Patchify on [N, C, H, W]. */
  conv(): boolean {
    const x0 = this.floatVal(
      (v) =>
        v.dt === 'f32' &&
        (v.shape.length === 3 || v.shape.length === 4) &&
        isStatic(v.shape[1]!) &&
        v.shape.slice(2).every((d) => d.isConst),
    );
    if (!x0) return false;
    const x = this.tame(x0);
    const [n, c] = [x.shape[0]!, x.shape[1]!];
    const cv = this.v(c);
    const sp = x.shape.slice(2).map((d) => this.v(d));
    const outLen = (l: number, k: number, s: number, p: number, dl: number): number =>
      Math.floor((l + 2 * p - dl * (k - 1) - 1) / s) + 1;
    const pickConv = (): { k: number; s: number; p: number; dl: number } | undefined => {
      for (let t = 0; t < 6; t++) {
        const k = this.r.range(1, 3);
        const s = this.r.range(1, 2);
        const p = this.r.range(0, 2);
        const dl = this.r.range(1, 2);
        if (sp.every((l) => outLen(l, k, s, p, dl) >= 1)) return { k, s, p, dl };
      }
      return undefined;
    };
    const opts = (o: { s: number; p: number; dl: number }): string =>
      `${o.s !== 1 ? `, stride = ${o.s}` : ''}${o.p !== 0 ? `, padding = ${o.p}` : ''}${o.dl !== 1 ? `, dilation = ${o.dl}` : ''}`;
    const kind = this.r.int(4);
    if (kind === 3) {
      const cls = x.shape.length === 3 ? 'BatchNorm1d' : 'BatchNorm2d';
      const b = this.member('c', (nm) => `${nm} = ${cls}(${c.text})`);
      return !!this.emit(`${b}(${x.name})`, 'f32', x.shape, x.scale + 1, [x]);
    }
    if (x.shape.length === 3) {
      const o = pickConv();
      if (!o) return false;
      const L = D.k(outLen(sp[0]!, o.k, o.s, o.p, o.dl));
      if (kind === 0 && c.isConst) {
        const b = this.member('c', (nm) => `${nm} = DepthwiseConv1d(${c.text}, ${o.k}${opts(o)})`);
        return !!this.emit(`${b}(${x.name})`, 'f32', [n, c, L], x.scale * 2, []);
      }
      const groups = c.isConst && cv % 2 === 0 && this.r.bool(40) ? 2 : 1;
      const out = D.k(groups * this.r.range(1, 3));
      const b = this.member(
        'c',
        (nm) =>
          `${nm} = Conv1d(${c.text}, ${out.text}, ${o.k}${opts(o)}${groups > 1 ? `, groups = ${groups}` : ''}${this.r.bool(30) ? ', bias = false' : ''})`,
      );
      return !!this.emit(`${b}(${x.name})`, 'f32', [n, out, L], x.scale * 2, []);
    }
    if (kind === 0) {
      const k = this.r.range(1, 3);
      const s = this.r.range(1, 2);
      const p = this.r.range(0, Math.floor(k / 2));
      if (!sp.every((l) => outLen(l, k, s, p, 1) >= 1)) return false;
      const pool = this.r.pick(['max_pool2d', 'avg_pool2d']);
      const shape = [n, c, ...sp.map((l) => D.k(outLen(l, k, s, p, 1)))];
      return !!this.emit(`${pool}(${x.name}, kernel = ${k}, stride = ${s}, padding = ${p})`, 'f32', shape, x.scale, []);
    }
    if (kind === 1) {
      const patch = this.r.pick([1, 2]);
      if (sp.every((l) => l % patch === 0) && this.r.bool(50)) {
        const d = D.k(this.r.range(1, 4));
        const b = this.member('c', (nm) => `${nm} = Patchify(${c.text}, ${d.text}, ${patch})`);
        const tokens = D.k((sp[0]! / patch) * (sp[1]! / patch));
        return !!this.emit(`${b}(${x.name})`, 'f32', [n, tokens, d], x.scale * 2, []);
      }
      return !!this.emit(`global_avg_pool2d(${x.name})`, 'f32', [n, c], x.scale, []);
    }
    const o = pickConv();
    if (!o) return false;
    const out = D.k(this.r.range(1, 3));
    const b = this.member('c', (nm) => `${nm} = Conv2d(${c.text}, ${out.text}, ${o.k}${opts(o)})`);
    const shape = [n, out, ...sp.map((l) => D.k(outLen(l, o.k, o.s, o.p, o.dl)))];
    return !!this.emit(`${b}(${x.name})`, 'f32', shape, x.scale * 3, []);
  }

  index(): boolean {
    const x = this.pick((v) => v.shape.length >= 1);
    if (!x) return false;
    const parts: string[] = [];
    const shape: D[] = [];
    const upto = this.r.range(1, x.shape.length);
    let any = false;
    for (let i = 0; i < upto; i++) {
      const d = x.shape[i]!;
      const form = this.r.int(4);
      if (form === 0) {
        parts.push(':');
        shape.push(d);
      } else if (form === 1) {
        const n = this.v(d);
        parts.push(String(d.isConst ? this.r.range(-n, n - 1) : this.r.pick([0, -1])));
        any = true;
      } else if (d.isConst) {
        const n = d.c;
        const step = this.r.range(1, 2);
        const a = this.r.bool(50) ? this.r.range(-n, n - 1) : undefined;
        const b = this.r.bool(50) ? this.r.range(-n, n) : undefined;
        const len = sliceLen(n, a, b, step);
        if (len < 1) {
          parts.push(':');
          shape.push(d);
          continue;
        }
        parts.push(`${a ?? ''}:${b ?? ''}${step !== 1 ? `:${step}` : ''}`);
        shape.push(D.k(len));
        any = true;
      } else {
        parts.push(':');
        shape.push(d);
      }
    }
    if (!any) return false;
    const rest = x.shape.slice(upto);
    const text = rest.length > 0 && this.r.bool(30) ? `${parts.join(', ')}, ...` : parts.join(', ');
    return !!this.emit(`${x.name}[${text}]`, x.dt, [...shape, ...rest], x.scale, []);
  }

  movement(): boolean {
    const x = this.pick((v) => v.shape.length >= 1);
    if (!x) return false;
    const rank = x.shape.length;
    const kind = this.r.int(8);
    if (kind === 0 && rank >= 2) {
      const perm = this.r.shuffle(x.shape.map((_, i) => i));
      return !!this.emit(
        `permute(${x.name}, [${perm.join(', ')}])`,
        x.dt,
        perm.map((i) => x.shape[i]!),
        x.scale,
        [],
      );
    }
    if (kind === 1) {
      // reshape: merge two adjacent dims, or split a constant one
      const i = this.r.int(rank);
      const d = x.shape[i]!;
      if (i + 1 < rank && this.r.bool(50) && d.isConst && x.shape[i + 1]!.isConst) {
        const shape = [...x.shape.slice(0, i), D.k(d.c * x.shape[i + 1]!.c), ...x.shape.slice(i + 2)];
        const dims = shape.map((e, j) => (j === i && this.r.bool(30) ? '-1' : e.text));
        return !!this.emit(`reshape(${x.name}, [${dims.join(', ')}])`, x.dt, shape, x.scale, [x]);
      }
      if (d.isConst) {
        const fs = divisors(d.c);
        const f = this.r.pick(fs);
        const shape = [...x.shape.slice(0, i), D.k(f), D.k(d.c / f), ...x.shape.slice(i + 1)];
        return !!this.emit(`reshape(${x.name}, [${shape.map((e) => e.text).join(', ')}])`, x.dt, shape, x.scale, [x]);
      }
      return false;
    }
    if (kind === 2 && rank >= 2) {
      const names = x.shape.map((_, i) => 'abcdef'[i]!);
      const i = this.r.int(rank - 1);
      if (this.r.bool(50) && x.shape[i]!.isConst && x.shape[i + 1]!.isConst) {
        const rhs = [...names.slice(0, i), `(${names[i]} ${names[i + 1]})`, ...names.slice(i + 2)];
        const shape = [...x.shape.slice(0, i), D.k(x.shape[i]!.c * x.shape[i + 1]!.c), ...x.shape.slice(i + 2)];
        return !!this.emit(`rearrange(${x.name}, "${names.join(' ')} -> ${rhs.join(' ')}")`, x.dt, shape, x.scale, [x]);
      }
      const perm = this.r.shuffle(names.map((_, k) => k));
      return !!this.emit(
        `rearrange(${x.name}, "${names.join(' ')} -> ${perm.map((k) => names[k]).join(' ')}")`,
        x.dt,
        perm.map((k) => x.shape[k]!),
        x.scale,
        [],
      );
    }
    if (kind === 3) {
      const lead = D.k(this.r.range(2, 3));
      const ones = x.shape.findIndex((d) => d.isOne);
      if (ones >= 0 && this.r.bool(60)) {
        const shape = x.shape.map((d, i) => (i === ones ? lead : d));
        return !!this.emit(`expand(${x.name}, [${shapeText(shape)}])`, x.dt, shape, x.scale, []);
      }
      const shape = [lead, ...x.shape];
      return !!this.emit(`expand(${x.name}, [${shapeText(shape)}])`, x.dt, shape, x.scale, []);
    }
    if (kind === 4) {
      const widths = x.shape.map((d) => {
        if (!d.isConst) return [0, 0];
        const lo = this.r.range(d.c > 1 ? -1 : 0, 2);
        const hi = this.r.range(d.c + lo > 1 ? -1 : 0, 2);
        return [lo, hi];
      });
      const shape = x.shape.map((d, i) => d.add(D.k(widths[i]![0]! + widths[i]![1]!)));
      const value = isF(x.dt) && this.r.bool(30) ? `, value = ${fl(this.r.pick([0.5, -1]))}` : '';
      const w = widths.map(([a, b]) => `[${a}, ${b}]`).join(', ');
      return !!this.emit(`pad(${x.name}, [${w}]${value})`, x.dt, shape, x.scale + 1, []);
    }
    if (kind === 5) {
      const a = this.r.int(rank);
      const ys = this.pool.filter(
        (y) => y.dt === x.dt && y.shape.length === rank && y.shape.every((d, i) => i === a || d.eq(x.shape[i]!)),
      );
      const y = this.r.pick(ys.length > 0 ? ys : [x]);
      const shape = x.shape.map((d, i) => (i === a ? d.add(y.shape[a]!) : d));
      return !!this.emit(
        `concat([${x.name}, ${y.name}], axis = ${this.axisText(x, a)})`,
        x.dt,
        shape,
        Math.max(x.scale, y.scale),
        [],
      );
    }
    if (kind === 6) {
      const axes = x.shape.map((d, i) => (d.isConst ? i : -1)).filter((i) => i >= 0);
      if (axes.length === 0) return false;
      const a = this.r.pick(axes);
      const L = x.shape[a]!.c;
      const size = this.r.range(1, Math.min(3, L));
      const stride = this.r.range(1, 2);
      const dil = size > 1 && L >= 2 * size - 1 && this.r.bool(30) ? 2 : 1;
      const out = Math.floor((L - dil * (size - 1) - 1) / stride) + 1;
      if (out < 1) return false;
      const shape = [...x.shape.map((d, i) => (i === a ? D.k(out) : d)), D.k(size)];
      const extra = `${stride !== 1 ? `, stride = ${stride}` : ''}${dil !== 1 ? `, dilation = ${dil}` : ''}`;
      return !!this.emit(`window(${x.name}, [${a}], ${size}${extra})`, x.dt, shape, x.scale, []);
    }
    // squeeze-like: reshape with a new unit axis
    const at = this.r.int(rank + 1);
    const shape = [...x.shape.slice(0, at), D.k(1), ...x.shape.slice(at)];
    return !!this.emit(`reshape(${x.name}, [${shapeText(shape)}])`, x.dt, shape, x.scale, [x]);
  }

  gather(): boolean {
    const idx = this.pick(indexable);
    const x = this.pick((v) => v.shape.length >= 1 && v.dt !== 'bool');
    if (!idx || !x) return false;
    const a = this.axis(x);
    const shape = [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)];
    const ax = a === 0 && this.r.bool(50) ? '' : `, axis = ${this.axisText(x, a)}`;
    if (isF(x.dt) && this.r.bool(35)) {
      // scatter_add of a gathered (scaled) source back into x
      const src = `gather(${x.name}, ${idx.name}${ax}) * 0.5`;
      if (!this.fits(shape)) return false;
      return !!this.emit(`scatter_add(${x.name}, ${idx.name}, ${src}${ax})`, x.dt, x.shape, x.scale * 4, [x]);
    }
    return !!this.emit(`gather(${x.name}, ${idx.name}${ax})`, x.dt, shape, x.scale, []);
  }

  topk(): boolean {
    const x = this.floatVal((v) => v.shape.length >= 1 && v.shape[v.shape.length - 1]!.isConst);
    if (!x) return false;
    const n = x.shape[x.shape.length - 1]!.c;
    const k = this.r.range(1, n);
    const shape = [...x.shape.slice(0, -1), D.k(k)];
    if (!this.fits(shape)) return false;
    const a = `${this.prefix}${this.vals++}`;
    const b = `${this.prefix}${this.vals++}`;
    const discard = this.r.bool(25);
    const axis = this.r.bool(40) ? ', axis = -1' : '';
    this.stmts.push({
      names: discard ? [a] : [a, b],
      text: `let (${a}, ${discard ? '_' : b}) = topk(${x.name}, ${k}${axis})`,
      type: typeText(x.dt, shape),
      bypass: [],
    });
    this.pool.push({ name: a, dt: x.dt, shape, scale: x.scale });
    if (!discard) this.pool.push({ name: b, dt: 'i32', shape, scale: n });
    return true;
  }

  create(): boolean {
    const kind = this.r.int(6);
    const shape = Array.from({ length: this.r.range(1, 2) }, () => D.k(this.r.range(1, 4)));
    const st = shapeText(shape);
    if (kind === 0) {
      const dt = this.r.pick<Dtype>(['i32', 'i64', 'i8']);
      const ax = this.r.int(shape.length);
      return !!this.emit(`iota([${st}], ${ax}${dt !== 'i32' ? `, dtype = ${dt}` : ''})`, dt, shape, 4);
    }
    if (kind === 1) return !!this.emit(`full([${st}], ${fl(this.r.pick([0.5, -1.5, 2]))})`, 'f32', shape, 2);
    if (kind === 2) {
      const idx = this.pick(indexable);
      if (!idx) return false;
      const n = this.r.range(1, 5);
      return !!this.emit(`one_hot(${idx.name}, ${n})`, 'f32', [...idx.shape, D.k(n)], 1);
    }
    if (kind === 3) {
      const n = this.r.range(1, 5);
      const f = this.r.pick(['triu_mask', 'tril_mask']);
      const diag = this.r.bool(50) ? `, diagonal = ${this.r.range(-1, 1)}` : '';
      return !!this.emit(`${f}(${n}${diag})`, 'bool', [D.k(n), D.k(n)], 1);
    }
    if (kind === 4) return !!this.emit(`full([${st}], ${this.r.range(-3, 5)}, dtype = i32)`, 'i32', shape, 5);
    // i64 at its limits: wrapping, exact bigint arithmetic on the reference, i64 -> float casts
    // (literals stop at 2^53 - 1: products reach the limits; 2^32 · 2^31 wraps to -2^63)
    const lim = this.r.pick([
      '4294967296, dtype = i64) * 2147483648',
      '3037000499, dtype = i64) * 3037000500',
      '9007199254740991, dtype = i64) * 1024',
      '-9007199254740991, dtype = i64) * 1023',
    ]);
    const then = this.r.pick(['', ' / -1', ' % -1', ' * -1', ' - 1', ' / 3']);
    return !!this.emit(`(full([${st}], ${lim}) + iota([${st}], 0, dtype = i64)${then}`, 'i64', shape, 9.3e18);
  }

  cast(): boolean {
    const x = this.pick(() => true);
    if (!x) return false;
    if (isF(x.dt)) {
      const form = this.r.int(4);
      if (form === 0) {
        const dt = this.r.pick<Dtype>(['i32', 'i8', 'i64']);
        return !!this.emit(`cast(${x.name} * 2.0, ${dt})`, dt, x.shape, x.scale * 2 + 1);
      }
      if (form === 1) return !!this.emit(`cast(${x.name}, bool)`, 'bool', x.shape, 1);
      if (x.dt !== 'f32') return !!this.emit(`cast(${x.name}, f32)`, 'f32', x.shape, x.scale);
      const low: 'f16' | 'bf16' = this.r.pick(['f16', 'bf16']);
      this.state.lowp = this.state.lowp === 'bf16' || low === 'bf16' ? 'bf16' : 'f16';
      return !!this.emit(`cast(${this.tame(x).name}, ${low})`, low, x.shape, Math.min(x.scale, BIG));
    }
    if (x.dt === 'bool') {
      const dt = this.r.pick<Dtype>(['f32', 'i32']);
      return !!this.emit(`cast(${x.name}, ${dt})`, dt, x.shape, 1, []);
    }
    const dt = this.r.pick<Dtype>(['f32', 'f32', 'i32', 'i8', 'i64', 'i4']);
    if (dt === x.dt) return false;
    return !!this.emit(`cast(${x.name}, ${dt})`, dt, x.shape, Math.min(x.scale, 1e6), []);
  }

  intArith(): boolean {
    const x = this.pick((v) => isI(v.dt));
    if (!x) return false;
    const y = this.pick((v) => v.dt === x.dt && v !== x && !!broadcast(x.shape, v.shape));
    const op = this.r.pick(['+', '-', '*', '/', '%', 'max', 'min', 'neg', 'abs']);
    if (op === 'neg' || op === 'abs')
      return !!this.emit(op === 'neg' ? `-${x.name}` : `abs(${x.name})`, x.dt, x.shape, x.scale);
    const bn = y && this.r.bool(70) ? y.name : String(this.r.pick([2, 3, -1, 0, 7]));
    const shape = y && bn === y.name ? broadcast(x.shape, y.shape)! : x.shape;
    const e =
      op === 'max' ? `maximum(${x.name}, ${bn})` : op === 'min' ? `minimum(${x.name}, ${bn})` : `${x.name} ${op} ${bn}`;
    return !!this.emit(e, x.dt, shape, op === '*' ? x.scale * (y?.scale ?? 7) : x.scale + (y?.scale ?? 7), []);
  }

  /** A lower-precision float value goes back to f32 (keeps f16/bf16 chains short). */
  widen(): boolean {
    const x = this.pick((v) => v.dt === 'f16' || v.dt === 'bf16');
    if (!x) return false;
    return !!this.emit(`cast(${x.name}, f32)`, 'f32', x.shape, x.scale, []);
  }

  /** A generated block (model scope only): a child, or a `repeat` of it when it keeps the type. */
  block(): boolean {
    const prog = this.scope.prog;
    if (!prog || prog.blocks.length >= 3) return false;
    const x0 = this.floatVal((v) => v.dt === 'f32' && v.shape.length >= 1 && v.shape.length <= 3);
    if (!x0) return false;
    const x = this.tame(x0);
    const c = x.shape[x.shape.length - 1]!;
    if (!c.isConst) return false;
    const same = this.r.bool(60);
    const e = same ? c.c : this.r.range(1, 5);
    const name = `G${prog.blocks.length}`;
    const vars = ['N', 'L', 'S'].slice(0, x.shape.length - 1);
    const env = new Map<string, number>(vars.map((s, i) => [s, this.v(x.shape[i]!)]));
    env.set('d', c.c);
    if (!same) env.set('e', e);
    const inShape = [...vars.map((s) => D.s(s)), D.s('d')];
    const outShape = [...vars.map((s) => D.s(s)), same ? D.s('d') : D.s('e')];
    const members: Member[] = [];
    const hasAlpha = this.r.bool(40);
    const scope: Scope = { members, inBlock: true, names: { n: 0 }, floatParam: hasAlpha ? 'alpha' : undefined };
    const g = new FnGen(this.r, scope, env, 'u', this.state);
    const input: Val = { name: 'h', dt: 'f32', shape: inShape, scale: Math.min(x.scale, BIG) };
    g.pool.push(input);
    // A bool hyperparameter without a default (checked generically with both values): a param
    // that exists only when it holds, read in the taken branch of a compile-time `if`.
    const flag = this.r.bool(30);
    const flagValue = this.r.bool(50);
    if (flag) {
      members.push({ name: 'pf', text: 'param pf: f32[d] = normal(std = 0.5) if flag' });
      g.stmts.push({
        names: ['hf'],
        text: 'let hf = if flag { h + pf } else { h * 0.5 }',
        type: typeText('f32', inShape),
        bypass: ['h'],
      });
      g.pool.push({ name: 'hf', dt: 'f32', shape: inShape, scale: input.scale + 2 });
    }
    g.body(this.r.range(2, 7));
    const result = g.finish(outShape, input);
    const header = `block ${name}(d: int${same ? '' : ', e: int'}${hasAlpha ? ', alpha: float = 0.75' : ''}${flag ? ', flag: bool' : ''})`;
    prog.blocks.push({
      name,
      header,
      members,
      fns: [
        {
          name: 'forward',
          params: [`h: ${typeText('f32', inShape)}`],
          stmts: g.stmts,
          results: [{ expr: result, type: typeText('f32', outShape) }],
        },
      ],
    });
    const args = `${c.c}${same ? '' : `, ${e}`}${flag ? `, flag = ${flagValue}` : ''}`;
    // @checkpoint: the backward recomputes the child (barriers in grad mode).
    const ckpt = this.r.bool(20) ? '@checkpoint\n  ' : '';
    const out = [...x.shape.slice(0, -1), D.k(e)];
    const experts = this.r.range(2, 3);
    const stacked = [D.k(experts), ...out];
    if (same && this.r.bool(25) && this.fits(stacked) && this.fits([D.k(experts), ...x.shape])) {
      // stack: one instance per slice of a leading axis
      const child = this.member('c', (n) => `${ckpt}${n} = stack ${experts} ${name}(${args})`);
      const arg = `expand(${x.name}, [${experts}, ${shapeText(x.shape)}])`;
      return !!this.emit(`${child}(${arg})`, 'f32', stacked, 3, []);
    }
    const reps = same && this.r.bool(60) ? this.r.range(1, 3) : 0;
    const child = this.member('c', (n) =>
      reps > 0 ? `${ckpt}${n} = repeat ${reps} ${name}(${args})` : `${ckpt}${n} = ${name}(${args})`,
    );
    return !!this.emit(`${child}(${x.name})`, 'f32', out, 3, []);
  }

  /** `n` random statements. */
  body(n: number): void {
    const ops: [number, () => boolean][] = [
      [10, () => this.unary()],
      [10, () => this.binary()],
      [3, () => this.compare()],
      [2, () => this.logic()],
      [4, () => this.select()],
      [7, () => this.reduce()],
      [6, () => this.matmul()],
      [5, () => this.einsum()],
      [4, () => this.norm()],
      [4, () => this.conv()],
      [5, () => this.index()],
      [8, () => this.movement()],
      [3, () => this.gather()],
      [2, () => this.topk()],
      [2, () => this.create()],
      [4, () => this.cast()],
      [3, () => this.intArith()],
      [3, () => this.widen()],
      [this.scope.prog ? 3 : 0, () => this.block()],
    ];
    let done = 0;
    for (let tries = 0; done < n && tries < n * 8; tries++) if (this.r.weighted(ops)()) done++;
  }

  /** An expression of type f32[outShape] from the pool (a projection of a value with the right leading dims). */
  finish(outShape: readonly D[], input: Val): string {
    const lead = shapeKey(outShape.slice(0, -1));
    const exact = this.pool.filter((v) => v.dt === 'f32' && shapeKey(v.shape) === shapeKey(outShape));
    if (exact.length > 0 && this.r.bool(70)) return this.tame(exact[exact.length - 1]!).name;
    const cands = this.pool.filter(
      (v) =>
        v.dt === 'f32' &&
        v.shape.length === outShape.length &&
        shapeKey(v.shape.slice(0, -1)) === lead &&
        isStatic(v.shape[v.shape.length - 1]!),
    );
    const v = this.tame(cands.length > 0 ? cands[cands.length - 1]! : input);
    const k = v.shape[v.shape.length - 1]!;
    const out = outShape[outShape.length - 1]!;
    const c = this.member('c', (n) => `${n} = Linear(${k.text}, ${out.text})`);
    return `${c}(${v.name})`;
  }
}

function sliceLen(n: number, a: number | undefined, b: number | undefined, step: number): number {
  const norm = (x: number): number => (x < 0 ? Math.max(0, x + n) : Math.min(x, n));
  const lo = a === undefined ? 0 : norm(a);
  const hi = b === undefined ? n : norm(b);
  return hi <= lo ? 0 : Math.ceil((hi - lo) / step);
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) if (n % i === 0) out.push(i);
  return out;
}

// ---------- programs ----------

interface InputDecl {
  readonly name: string;
  readonly dt: Dtype;
  readonly shape: D[];
  readonly spec: InputSpec;
}

function randomInputs(r: Rng, env: Map<string, number>, state: ProgState): InputDecl[] {
  const n = r.range(1, 3);
  const out: InputDecl[] = [];
  for (let i = 0; i < n; i++) {
    const kind =
      i === 0
        ? 0
        : r.weighted<number>([
            [6, 0],
            [3, 1],
            [1, 2],
            [1, 3],
          ]);
    const rank =
      kind === 0
        ? r.weighted<number>([
            [2, 1],
            [4, 2],
            [3, 3],
            [2, 4],
          ])
        : r.range(1, 2);
    const shape: D[] = [];
    for (let a = 0; a < rank; a++) {
      if (a === 0 && r.bool(60)) shape.push(D.s('B'));
      else if (a === 1 && rank <= 3 && r.bool(30)) shape.push(D.s('T'));
      else shape.push(D.k(r.range(1, rank >= 3 ? Math.min(5, state.maxDim) : state.maxDim)));
    }
    if (shape.reduce((a, d) => a * d.val(env), 1) > state.maxElements) continue;
    const name = `x${i}`;
    if (kind === 0) out.push({ name, dt: 'f32', shape, spec: r.bool(95) ? { lo: -2, hi: 2 } : { lo: -60, hi: 60 } });
    else if (kind === 1) {
      const dt = r.pick<Dtype>(['i32', 'i64', 'i8', 'i4', 'i32']);
      // Mostly small (indices, labels); sometimes the dtype's whole range (wrapping arithmetic).
      const full = r.bool(15);
      const [flo, fhi] = dt === 'i8' ? [-128, 127] : dt === 'i32' ? [-(2 ** 31), 2 ** 31 - 1] : [-(2 ** 53), 2 ** 53];
      const lo = dt === 'i4' ? -8 : full ? flo : r.pick([0, 0, -3]);
      const hi = dt === 'i4' ? 7 : full ? fhi : r.pick([3, 5, 10]);
      out.push({ name, dt, shape, spec: { lo, hi } });
    } else if (kind === 2) out.push({ name, dt: 'bool', shape, spec: { lo: 0, hi: 1 } });
    else out.push({ name, dt: r.pick(['f16', 'bf16']), shape, spec: { lo: -2, hi: 2 } });
  }
  return out;
}

/** The program of `seed`. */
export function generate(seed: number): FuzzProgram {
  const r = new Rng(seed);
  const dims = { B: r.range(1, 3), T: r.range(1, 4) };
  // Sometimes an empty batch or sequence (zero-size tensors) in the second call.
  const dims2 = { B: r.bool(8) ? 0 : r.range(1, 4), T: r.bool(5) ? 0 : r.range(1, 5) };
  // Shapes are sized for the larger binding.
  const env = new Map(Object.entries(dims).map(([k, v]) => [k, Math.max(v, dims2[k as 'B' | 'T'])]));
  const big = r.bool(8);
  const state: ProgState = { blocks: [], maxElements: big ? BIG_ELEMENTS : MAX_ELEMENTS, maxDim: big ? 40 : 6 };
  const members: Member[] = [];
  const names = { n: 0 };
  const scope: Scope = { members, inBlock: false, names, prog: state };
  const inputs = randomInputs(r, env, state);
  for (const i of inputs)
    if (i.dt === 'f16' || i.dt === 'bf16') state.lowp = i.dt === 'bf16' || state.lowp === 'bf16' ? 'bf16' : 'f16';
  const specs: Record<string, InputSpec> = {};
  const fns: FnDecl[] = [];
  const fnNames = ['forward', ...(r.bool(40) ? ['f1'] : []), ...(r.bool(75) ? ['loss'] : [])];
  let forwardResults: { types: Val[]; tuple: boolean } | undefined;
  for (const fname of fnNames) {
    const g = new FnGen(r, scope, env, 'v', state);
    for (const i of inputs) {
      g.pool.push({
        name: i.name,
        dt: i.dt,
        shape: i.shape,
        scale: Math.max(Math.abs(i.spec.lo), Math.abs(i.spec.hi)),
      });
      specs[`${fname}.${i.name}`] = i.spec;
    }
    const params = inputs.map((i) => `${i.name}: ${typeText(i.dt, i.shape)}`);
    if (fname === 'loss' && forwardResults && r.bool(50)) {
      // loss calls forward
      const args = inputs.map((i) => i.name).join(', ');
      const outs = forwardResults.types.map((_, k) => `v${900 + k}`);
      g.stmts.push({
        names: outs,
        text: forwardResults.tuple
          ? `let (${outs.join(', ')}) = forward(${args})`
          : `let ${outs[0]} = forward(${args})`,
        type: '',
        bypass: [],
      });
      forwardResults.types.forEach((t, k) => g.pool.push({ ...t, name: outs[k]! }));
    }
    g.body(r.range(3, 12));
    if (fname === 'loss') {
      const v = g.floatVal((x) => x.dt === 'f32') ?? g.floatVal();
      let expr: string;
      if (!v) expr = 'sum(full([2], 0.5))';
      else {
        const t = g.tame(v);
        const labels = g.pick(
          (x) =>
            isI(x.dt) &&
            x.shape.length === t.shape.length - 1 &&
            t.shape.slice(0, -1).every((d, k) => d.eq(x.shape[k]!)),
        );
        const f32 = t.dt === 'f32' ? t.name : `cast(${t.name}, f32)`;
        expr =
          labels && t.shape.length >= 1 && r.bool(70)
            ? `cross_entropy(${t.name}, ${labels.name}${r.bool(30) ? ', label_smoothing = 0.1' : ''})`
            : r.pick([`sum(${f32} * ${f32}) / 4.0`, `sum(tanh(${f32}))`, `mse(${f32}, ${f32} * 0.5)`]);
      }
      fns.push({ name: fname, params, stmts: g.stmts, results: [{ expr, type: 'f32[]' }] });
      continue;
    }
    // Results: the last one or two values nothing else reads (else the last values).
    const cands = g.pool.filter((v) => !inputs.some((i) => i.name === v.name));
    const unread = cands.filter(
      (v) => !g.stmts.some((s) => new RegExp(`\\b${v.name}\\b`).test(s.text.split('=').slice(1).join('='))),
    );
    const pickFrom = unread.length > 0 ? unread : cands.length > 0 ? cands : g.pool;
    const count = Math.min(pickFrom.length, r.range(1, 3));
    const chosen = pickFrom.slice(-count);
    const results = chosen.map((v, k) => ({
      expr: v.name,
      type: typeText(v.dt, v.shape),
      ...(r.bool(30) ? { name: `out${k}` } : {}),
    }));
    if (fname === 'forward') forwardResults = { types: chosen, tuple: results.length > 1 };
    fns.push({ name: fname, params, stmts: g.stmts, results });
  }
  const header = `model Fuzz(h0 = ${r.range(1, 4)})`;
  return {
    seed,
    blocks: state.blocks,
    model: { name: 'Fuzz', header, members, fns },
    dims,
    dims2,
    inputs: specs,
    ...(state.lowp ? { lowp: state.lowp } : {}),
  };
}
