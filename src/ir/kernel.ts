// The loop-level kernel IR: what the graph lowers to and what the C-family renderer prints.
// It is separate from the graph op enum: a kernel is loops, loads, stores, ALU expressions,
// accumulators, local arrays (register tiles, packing buffers; `shared` ones for GPU
// targets) and barriers. Symbolic sizes never appear as formulas: each distinct dim
// expression a kernel needs is a numbered slot of the plan, computed on the host when
// dims are bound and passed to every kernel as `d[slot]`.
//
// Values compute in six scalar types: floats in f32, f16 or bf16, integers in i64 (wrapped
// to their width at stores), and bool; i32 is the index type of targets without 64-bit
// integers (WGSL: legalize-wgsl.ts computes index arithmetic in i32, whose bounds the host
// proves, and integer values in two 32-bit words). An f16 or bf16 value is a value of that
// format: every unary and binary fn on it gives its result rounded to the format (round to
// nearest even, as the reference rounds each node's result), however the target computes it
// (docs/ir.md); widening to f32 is exact and narrowing is an explicit `cast`. Elementwise
// code computes in a float dtype's own type (computeOf); accumulators (reductions, GEMM,
// scans) compute in f32 (scalarOf).

import { type Dtype, isFloat } from './dtype.js';
import { type BinaryFn, type UnaryFn, ARITH_FNS } from './ops.js';
import { ix } from './kernel-build.js';

/** The compute type of a scalar expression. */
export type KScalar = 'f32' | 'f16' | 'bf16' | 'i64' | 'i32' | 'bool';

/** Whether a compute type is a float format. */
export const isFloatScalar = (t: KScalar): t is 'f32' | 'f16' | 'bf16' => t === 'f32' || t === 'f16' || t === 'bf16';

/** Raw integer index arithmetic (operands known non-negative, divisors non-zero). */
export type IndexOp = '+' | '-' | '*' | '/' | '%' | 'min' | 'max';
/** Comparisons and logic on any scalar, giving bool (C operator semantics). */
export type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!=' | '&&' | '||';

export type KExpr =
  /** A literal; floats keep every bit (NaN, ±Inf, -0, subnormals). */
  | { readonly k: 'const'; readonly t: KScalar; readonly v: number }
  /** The value of dim slot `slot` (i64). */
  | { readonly k: 'dim'; readonly slot: number }
  /** A loop variable (i64) or a scalar local. */
  | { readonly k: 'var'; readonly name: string; readonly t: KScalar }
  /** Element `index` of kernel parameter `buf`, converted from its storage dtype to `t`. */
  | { readonly k: 'load'; readonly buf: number; readonly index: KExpr; readonly t: KScalar }
  /** Element `index` of a local array. */
  | { readonly k: 'aload'; readonly name: string; readonly index: KExpr; readonly t: KScalar }
  /** Index arithmetic on i64. */
  | { readonly k: 'ix'; readonly op: IndexOp; readonly a: KExpr; readonly b: KExpr }
  | { readonly k: 'cmp'; readonly op: CompareOp; readonly a: KExpr; readonly b: KExpr }
  /**
   * A graph unary or binary fn with the interpreter's semantics, computing in `t` (operands of
   * type `t`; a float result rounded to `t`); compares and logic give bool.
   */
  | { readonly k: 'un'; readonly fn: UnaryFn; readonly a: KExpr; readonly t: KScalar }
  | { readonly k: 'bin'; readonly fn: BinaryFn; readonly a: KExpr; readonly b: KExpr; readonly t: KScalar }
  /** `c ? a : b`; only the chosen branch is evaluated. */
  | { readonly k: 'select'; readonly c: KExpr; readonly a: KExpr; readonly b: KExpr; readonly t: KScalar }
  /**
   * fmc's `cast` from `from` to `to` (rounding, saturation, wrapping) of a value `a` computing
   * in any type that holds `from`'s values (f32 for a float dtype, or its own type); the
   * result computes as `t`. With from === to only the compute type changes (exact: an f16
   * value read as f32 becoming an f16 value, src/codegen/legalize-half.ts).
   */
  | { readonly k: 'cast'; readonly from: Dtype; readonly to: Dtype; readonly a: KExpr; readonly t: KScalar }
  /** `a * b + c` in f32, fused (one rounding). */
  | { readonly k: 'fma'; readonly a: KExpr; readonly b: KExpr; readonly c: KExpr }
  /** Element `index` of the Philox uniform stream with key (k0, k1) at step `step` (i64). */
  | { readonly k: 'uniform'; readonly k0: number; readonly k1: number; readonly index: KExpr; readonly step: KExpr }
  /**
   * GPU targets: the flat index (i64, from 0) of this invocation in the kernel's grid; grid
   * binding (src/kernels/grid.ts) puts it where a parallel loop nest was.
   */
  | { readonly k: 'gid' }
  /**
   * GPU targets, tiled kernels only (KernelGrid.tiled): the flat index (i64) of this
   * invocation's workgroup, wy * x + wx, and its index in the workgroup, local_x; so
   * gid = wgid * workgroup + lid. wgid is the same for every invocation of a workgroup
   * (uniform: a branch on it may hold barriers); lid is not.
   */
  | { readonly k: 'wgid' }
  | { readonly k: 'lid' }
  // Word-level forms: only target legalization (src/codegen/legalize-wgsl.ts) produces them.
  /** The 32-bit word `index` (i32 bits) of buffer `buf`, a param accessed as words (KParam.words). */
  | { readonly k: 'word'; readonly buf: number; readonly index: KExpr }
  /** Bit operations on i32: `>>` arithmetic, `>>>` logical; shift counts in [0, 31]. */
  | { readonly k: 'bits'; readonly op: BitOp; readonly a: KExpr; readonly b: KExpr }
  /** The same 32 bits as another compute type (f32 ↔ i32). */
  | { readonly k: 'bitcast'; readonly to: 'f32' | 'i32'; readonly a: KExpr }
  /** A function of the target's prelude (a generated name). */
  | { readonly k: 'call'; readonly fn: string; readonly args: readonly KExpr[]; readonly t: KScalar };

/** The rows and columns of a 'dot8' tile. */
export const DOT8_TILE = 4;

/** The three kinds of fragment of an m16n8k16 tile operation (KStmt 'frag'). */
export type FragRole = 'a' | 'b' | 'acc';
/** A fragment's element type: f16 or bf16 operands, f32 accumulators. */
export type FragScalar = 'f16' | 'bf16' | 'f32';

/**
 * A sparse `fragMma` (acc += A·B with A 16×32 and 2:4-sparse along K, B 32×8): the product of
 * PTX's mma.sp m16n8k32 (src/kernels/gemm-frag-sparse.ts). Then `a` names a local i32 array of
 * 4 words, A's kept values as the lane's mma.sp registers hold them (two f16/bf16 bit patterns
 * a word, as an m16n8k16 `a` fragment of the 16×16 kept values), `b` the `b` fragment of B's
 * rows 0..15 and `b2` that of rows 16..31, `meta` an i32 local holding the lane's metadata
 * register, `selector` which pair of lanes of each group of 4 gives the metadata (0: lanes 0
 * and 1, 1: lanes 2 and 3). Only CUDA renders it; the expansion for other targets refuses it.
 */
export interface FragSparse {
  readonly b2: string;
  readonly meta: string;
  readonly selector: 0 | 1;
}

/** Bit operations of the word-level forms. */
export type BitOp = '&' | '|' | '^' | '<<' | '>>' | '>>>';

/** How a loop runs: in order, across threads, as SIMD lanes, or unrolled. */
export type LoopMode = 'serial' | 'parallel' | 'simd' | 'unroll';

export type KStmt =
  | {
      readonly k: 'for';
      readonly v: string;
      readonly lo: KExpr;
      readonly hi: KExpr;
      readonly step: number;
      readonly mode: LoopMode;
      /** parallel: how many perfectly nested loops share the thread split. */
      readonly collapse?: number;
      /** simd: scalar locals reduced across lanes (`+` or `max`). */
      readonly reduce?: readonly { readonly name: string; readonly op: '+' | 'max' }[];
      /** simd: the lanes one vector should hold (C: `simdlen`, so GCC uses 512-bit vectors for 16 f32 lanes). */
      readonly simdlen?: number;
      readonly body: readonly KStmt[];
    }
  | { readonly k: 'store'; readonly buf: number; readonly index: KExpr; readonly value: KExpr }
  /** Declares a mutable scalar local. */
  | { readonly k: 'let'; readonly name: string; readonly t: KScalar; readonly value: KExpr }
  | { readonly k: 'set'; readonly name: string; readonly value: KExpr }
  /**
   * Declares a local array: `local` (registers or stack; on the CPU a kernel's schedule may
   * make it per-thread scratch instead: CpuSchedule) or `shared` (one per GPU workgroup; on
   * the CPU local too).
   */
  | {
      readonly k: 'array';
      readonly name: string;
      readonly t: KScalar;
      readonly size: number;
      readonly space: 'local' | 'shared';
    }
  | { readonly k: 'astore'; readonly name: string; readonly index: KExpr; readonly value: KExpr }
  | { readonly k: 'if'; readonly cond: KExpr; readonly then: readonly KStmt[]; readonly else?: readonly KStmt[] }
  /**
   * The register-tile contraction of a packed GEMM: for k < kc, i < mr, j < nr,
   * acc[i*nr + j] = fma(a[aOffset + k*mr + i], b[bOffset + k*nr + j], acc[i*nr + j]), with
   * `a` and `acc` local f32 arrays, `b` a local f32 array or (a number) a kernel buffer
   * parameter, as a packed panel shared by the threads or packed once at load (64-byte
   * aligned offsets). Each dialect renders it with the target's best instructions (a
   * register-blocked C function, later MMA on GPUs).
   */
  | {
      readonly k: 'mma';
      readonly acc: string;
      readonly a: string;
      readonly aOffset: KExpr;
      readonly b: string | number;
      readonly bOffset: KExpr;
      readonly kc: KExpr;
      readonly mr: number;
      readonly nr: number;
      /**
       * The output tile the sums go to once the mma is done (rows × cols floats at
       * buf[at + i·ld + j]), which the dialect may prefetch meanwhile: a hint, no effect on
       * the results (C: the tile's cache lines come from L3 or memory while the k loop runs).
       */
      readonly cTile?: {
        readonly buf: number;
        readonly at: KExpr;
        readonly ld: KExpr;
        readonly rows: KExpr;
        readonly cols: KExpr;
      };
    }
  /**
   * C target, int8 × int8 (src/kernels/gemm-int8.ts): for i < rows, j < cols (at most
   * DOT8_TILE each), acc[i·DOT8_TILE + j] = Σ_{k<n} a[aIndex + i·lda + k] · b[bIndex + j·ldb + k]
   * over two i8 buffer params, exact in i32 (the caller guarantees n·128·128 < 2^31), into the
   * local i32 array `acc`; the dialect picks the CPU's integer dot-product instructions
   * (src/codegen/c-dot8.ts).
   */
  | {
      readonly k: 'dot8';
      readonly acc: string;
      readonly a: number;
      readonly aIndex: KExpr;
      readonly lda: KExpr;
      readonly rows: KExpr;
      readonly b: number;
      readonly bIndex: KExpr;
      readonly ldb: KExpr;
      readonly cols: KExpr;
      readonly n: KExpr;
    }
  /**
   * C target, bf16 × bf16 (src/kernels/gemm-bf16.ts): the register-tile contraction over
   * pair-interleaved bf16 panels. `a` and `b` are i32 buffer params whose 32-bit words each hold
   * two bf16 values, the even k in the low half: word aOffset + i·lda + p holds A[i, 2p] and
   * A[i, 2p+1] (rows of pairs), word bOffset + p·nr + j holds B[2p, j] and B[2p+1, j] (the
   * layout AVX-512 BF16's `vdpbf16ps` and AMX's `tdpbf16ps` multiply). For p < np, i < mr,
   * j < nr, in order of p:
   * acc[i·nr + j] += A[i, 2p+1]·B[2p+1, j] + A[i, 2p]·B[2p, j] into the local f32 array `acc`.
   * The products are exact in f32; each add rounds to f32, the dialect may flush subnormal
   * inputs and sums to zero (vdpbf16ps does) and, with AMX, add in its own order: within bf16's
   * tolerance, not bit-exact (src/codegen/c-dotbf16.ts).
   */
  | {
      readonly k: 'dotbf16';
      readonly acc: string;
      readonly a: number;
      readonly aOffset: KExpr;
      readonly lda: KExpr;
      readonly b: number;
      readonly bOffset: KExpr;
      readonly np: KExpr;
      readonly mr: number;
      readonly nr: number;
    }
  /**
   * Word-level store (legalization only): word `index` of buffer `buf` becomes `value`; with
   * `mask`, only the mask's bits change (value has no other bits), as an atomic
   * read-modify-write so that invocations storing neighbouring sub-word elements never race.
   */
  | { readonly k: 'wstore'; readonly buf: number; readonly index: KExpr; readonly value: KExpr; readonly mask?: KExpr }
  /** A workgroup barrier (GPU targets; nothing on the CPU). */
  | { readonly k: 'barrier' }
  /**
   * Typed tiles (fragments; docs/ir.md "Typed tile operations"): a warp of 32 consecutive
   * invocations (lid / 32) holds an m16n8k16 operand or accumulator tile between them, each
   * lane its elements as PTX's mma.m16n8k16 lays them out (src/ir/fragments.ts). Every lane of
   * a warp executes these together, in workgroup-uniform control flow. `frag` declares one:
   * an `a` tile (16×16, f16 or bf16), a `b` tile (16×8, the same), or an `acc` tile (16×8,
   * f32, zero).
   */
  | { readonly k: 'frag'; readonly name: string; readonly role: FragRole; readonly t: FragScalar }
  /**
   * Loads `a` or `b` fragment `name` (declared with `role` and `t`): element (r, c) of the tile
   * (a: row r, column k = c; b: row k = r, column n = c) from `src` (a local or shared array
   * of `t` values by name, or a buffer param of dtype `t` by number) at offset + r·ld + c.
   */
  | {
      readonly k: 'fragLoad';
      readonly name: string;
      readonly role: 'a' | 'b';
      readonly t: 'f16' | 'bf16';
      readonly src: string | number;
      readonly offset: KExpr;
      readonly ld: KExpr;
    }
  /**
   * acc += a·b, products and sums in f32; `t` is a's and b's type. `stage` names a shared f32 array of 384 elements per
   * warp that targets without warp-level matrix instructions exchange the lanes' elements
   * through (src/codegen/legalize-frag.ts); those targets meet at a workgroup barrier there.
   */
  | {
      readonly k: 'fragMma';
      readonly acc: string;
      readonly a: string;
      readonly b: string;
      readonly t: 'f16' | 'bf16';
      readonly stage: string;
      /** A 2:4-sparse product (m16n8k32, CUDA's mma.sp only): see FragSparse. */
      readonly sparse?: FragSparse;
    }
  /**
   * For each element of accumulator `name` this lane holds: i64 locals `row` and `col` (its
   * place in the 16×8 tile) and the f32 local `value`, then `body` (an epilogue's store).
   */
  | {
      readonly k: 'fragEach';
      readonly name: string;
      readonly row: string;
      readonly col: string;
      readonly value: string;
      readonly body: readonly KStmt[];
    }
  /** A comment; the renderer escapes it. */
  | { readonly k: 'comment'; readonly text: string };

/** One kernel parameter: a buffer, its storage dtype and how the kernel uses it. */
export interface KParam {
  readonly dtype: Dtype;
  readonly access: 'read' | 'write' | 'readwrite';
  /**
   * Set by legalization: the buffer is accessed as 32-bit words (`word`, `wstore`), `atomic`
   * when sub-word elements are stored into it.
   */
  readonly words?: 'plain' | 'atomic';
}

export interface Kernel {
  /** A generated identifier (`k3_matmul`); never user text. */
  readonly name: string;
  readonly params: readonly KParam[];
  readonly body: readonly KStmt[];
  /** Where it came from (graph ops, block paths): user text, rendered only in escaped comments. */
  readonly note: string;
  /** Explicit scheduling choices (tile sizes, vector width), for dumps and tuning. */
  readonly schedule: Readonly<Record<string, number | string>>;
  /** GPU targets: what one launch runs (set by grid binding; absent on the CPU). */
  readonly grid?: KernelGrid;
  /** The C target: how it runs the kernel's loops and arrays (absent: every default). */
  readonly cpu?: CpuSchedule;
}

/**
 * CPU schedule data, the C dialect's alone (GPU targets have none): the parallel loops that
 * run on one thread while their work estimate (an i64 expression of dims and constants) is
 * below PARALLEL_MIN_WORK, by loop variable, and the local arrays that are per-thread scratch
 * kept between calls (large packing buffers) rather than stack arrays.
 */
export interface CpuSchedule {
  readonly work: Readonly<Record<string, KExpr>>;
  readonly scratch: readonly string[];
}

/**
 * A GPU launch: `invocations` (an i64 expression of constants, dim slots and index arithmetic,
 * evaluated on the host once dims are bound) invocations in workgroups of `workgroup`. The
 * runtime dispatches n = ceil(invocations / workgroup) workgroups as (x, y, 1) with
 * x = min(n, 65535) and y = ceil(n / x); invocation (g, l) of workgroup (wx, wy) has flat index
 * (wy * x + wx) * workgroup + l, which the kernel compares with `invocations` itself.
 */
export interface KernelGrid {
  readonly invocations: KExpr;
  readonly workgroup: number;
  /**
   * A tiled kernel (built with its grid, not by grid binding): `invocations` is a multiple of
   * `workgroup`, the kernel works per workgroup through `wgid` and `lid`, with workgroup-shared
   * arrays and barriers, and does its own bounds checks. Its barriers stay in uniform control
   * flow: outside any branch whose condition depends on `lid` or data; a workgroup whose wgid
   * is past the grid (the dispatch may round up to x * y workgroups) skips the whole body
   * as one (a branch on wgid is uniform).
   */
  readonly tiled?: true;
}

/** The wide compute type of a storage dtype: what accumulators and non-elementwise kernels use. */
export const scalarOf = (d: Dtype): KScalar => (d === 'bool' ? 'bool' : isFloat(d) ? 'f32' : 'i64');

/** The own compute type of a storage dtype: f16 and bf16 compute as themselves, the rest as scalarOf. */
export const computeOf = (d: Dtype): KScalar => (d === 'f16' || d === 'bf16' ? d : scalarOf(d));

/**
 * The compute type of an expression; index arithmetic (dims, `ix`, grid indices) computes in
 * `index`: i64, or i32 after WGSL legalization.
 */
export function typeOf(e: KExpr, index: 'i64' | 'i32' = 'i64'): KScalar {
  switch (e.k) {
    case 'dim':
    case 'ix':
    case 'gid':
    case 'wgid':
    case 'lid':
      return index;
    case 'word':
    case 'bits':
      return 'i32';
    case 'cmp':
      return 'bool';
    case 'fma':
    case 'uniform':
      return 'f32';
    case 'bitcast':
      return e.to;
    case 'un':
      return e.fn === 'not' ? 'bool' : e.t;
    case 'bin':
      return (ARITH_FNS as readonly string[]).includes(e.fn) ? e.t : 'bool';
    default:
      return e.t;
  }
}

/** `e` with each child replaced by `f(child)`; index arithmetic is rebuilt folding constants. */
export function mapChildren(e: KExpr, f: (x: KExpr) => KExpr): KExpr {
  switch (e.k) {
    case 'const':
    case 'dim':
    case 'var':
    case 'gid':
    case 'wgid':
    case 'lid':
      return e;
    case 'load':
    case 'aload':
    case 'word':
      return { ...e, index: f(e.index) };
    case 'ix':
      return ix(e.op, f(e.a), f(e.b));
    case 'cmp':
    case 'bin':
    case 'bits':
      return { ...e, a: f(e.a), b: f(e.b) };
    case 'un':
    case 'cast':
    case 'bitcast':
      return { ...e, a: f(e.a) };
    case 'select':
      return { ...e, c: f(e.c), a: f(e.a), b: f(e.b) };
    case 'fma':
      return { ...e, a: f(e.a), b: f(e.b), c: f(e.c) };
    case 'uniform':
      return { ...e, index: f(e.index), step: f(e.step) };
    case 'call':
      return { ...e, args: e.args.map(f) };
  }
}

// The builders (int, ivar, ix, add, mul, cmp, loop, ...) live in kernel-build.ts.
export * from './kernel-build.js';
