// Contractions as blocked GEMMs. A two-operand float einsum whose letters split into batch
// (both operands and the output), M (A and output), N (B and output) and K (both operands)
// is C[b, m, n] = Σ_k A[b, m, k] · B[b, k, n] with each group flattened.
//
// The loop nest is the Goto/BLIS one, in kernel IR (gemm-packed.ts; one product shares B
// packed whole across the threads and splits M, a batch of them runs as below):
//   parallel over (batch × M blocks × N blocks of NC), thread-private packing buffers;
//     for K blocks of KC: pack B (KC × NC, NR-wide column panels) and A (M block × KC,
//     MR-tall row panels), zero-padded at the edges;
//       for each MR × NR tile: `mma` (the register-tile contraction, rendered by the
//       dialect), then add the tile into C; on the last K block, the epilogue (the
//       elementwise nodes the fusion pass put after the product: bias, activation,
//       residual, scale) is applied to the sum before the store, into the epilogue's buffer.
// M blocks are at most MC rows and at least a quarter of M, so a short M still splits
// across threads. Below SMALL_M rows (a GEMV: one token, a classifier head) packing B would
// cost as much as the product, so B is streamed once instead, split over N.
// Operands are read through the fuser while packing, so transposed, sliced, windowed
// (im2col) or elementwise-computed operands need no copy kernel; f16/bf16 convert there.
// Accumulation is f32. Which nest a contraction takes (and the GPU kernels): gemm-select.ts.

import { type Dim, dimAdd, dimConst, dimMul } from '../ir/dims.js';
import { isFloat } from '../ir/dtype.js';
import type { Node, NodeOf } from '../ir/graph.js';
import { parseEinsum } from '../ir/infer.js';
import { type KExpr, type KScalar, type KStmt, add, cmp, f32, int, ivar, ix, loop, mul } from '../ir/kernel.js';
import type { KernelBuilder } from './builder.js';
import { letterSizes } from './einsum.js';
import { type Fuser, defineLocals, stridesOf } from './expr.js';
import { PREPACK_AT, kcMax } from './gemm-packed.js';
import { packOperand } from './gemm-pack.js';
import { divides } from './separable.js';
import { unmarked } from './gemm-frag-sparse.js';
import { type QuantB, dequantizedParams } from './gemm-quant.js';
import { quantPack } from './gemm-quant-pack.js';
import type { GemmSchedule } from './schedule.js';
import { type GemmLetters, gemmGroups } from '../passes/fusion/gemm-shape.js';

type Groups = GemmLetters;

const cdiv = (a: KExpr, b: KExpr): KExpr => ix('/', add(a, ix('-', b, int(1))), b);
const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });
const aload = (name: string, index: KExpr): KExpr => ({ k: 'aload', name, index, t: 'f32' });

/**
 * The largest quantized weight (as f32 bytes) whose dequantized panels are kept between calls:
 * at 4 MiB, a layer of a small model (the MLP's 784 × 512 int8 fc1, 1.6 MB) stops repacking
 * per call (at batch 8 that was 90% of the model's time), while a language model's larger
 * int4/int8 layers stay as small as they were quantized to be.
 */
export const QUANT_PREPACK_MAX = 4 << 20;

/** Builds one GEMM kernel; `v(...)` are its loop variables and locals. */
export class GemmBuilder {
  readonly g: Groups;
  readonly sizes: Map<string, Dim>;
  readonly spec: { ins: string[]; out: string };
  readonly M: KExpr;
  readonly N: KExpr;
  readonly K: KExpr;
  readonly NB: KExpr;
  readonly out: number;

  constructor(
    readonly kb: KernelBuilder,
    readonly f: Fuser,
    readonly n: NodeOf<'einsum'>,
    out: number,
    readonly s: GemmSchedule,
    /** Elementwise nodes applied before the store, the last one stored (none: the product is). */
    readonly epilogue: readonly Node[] = [],
  ) {
    // The packing buffers hold whole panels only when the blocks are multiples of the tile.
    if (s.MC % s.MR !== 0 || s.NC % s.NR !== 0)
      throw new Error(`internal: GEMM blocks ${s.MC}×${s.NC} are not multiples of the ${s.MR}×${s.NR} tile`);
    this.g = gemmGroups(n)!;
    this.sizes = letterSizes(n);
    this.spec = parseEinsum(n.args.spec, 2);
    [this.M, this.N, this.K, this.NB] = [this.g.m, this.g.n, this.g.k, this.g.batch].map((l) =>
      l.reduce<KExpr>((acc, c) => mul(acc, kb.dim(this.sizes.get(c)!)), int(1)),
    ) as [KExpr, KExpr, KExpr, KExpr];
    this.out = kb.param(out, 'readwrite');
  }

  v = (prefix: string): string => this.kb.fresh(prefix);

  /** The letters' indices from a flat index over a group (row-major over its letters). */
  unflatten(letters: readonly string[], flat: KExpr): [string, KExpr][] {
    const out: [string, KExpr][] = [];
    let stride: Dim | undefined;
    for (let i = letters.length - 1; i >= 0; i--) {
      const size = this.sizes.get(letters[i]!)!;
      const q = stride === undefined ? flat : ix('/', flat, this.kb.dim(stride));
      out.push([letters[i]!, i === 0 ? q : ix('%', q, this.kb.dim(size))]);
      stride = stride === undefined ? size : dimMul(stride, size);
    }
    return out;
  }

  /** B at (n, k) read from a compressed weight's own params instead of its IR decoding (gemm-2of4.ts). */
  bRead?: (n: KExpr, k: KExpr) => KExpr;
  /** The param buffer bRead reads (a 2:4 weight's values): a prepacked B is derived from it, once per version. */
  bSource?: number;

  /** Operand 0 (A at m, k) or 1 (B at n, k) of batch entry `b`. */
  operand(which: 0 | 1, b: KExpr, mn: KExpr, k: KExpr): KExpr {
    if (which === 1 && this.bRead) return this.bRead(mn, k);
    const x = this.n.inputs[which]!;
    const groups: [readonly string[], KExpr][] = [
      [this.g.batch, b],
      [which === 0 ? this.g.m : this.g.n, mn],
      [this.g.k, k],
    ];
    const buf = this.f.buffers.get(x);
    if (buf !== undefined)
      return this.f.load(this.kb, buf, x, this.offset(this.spec.ins[which]!, x.type.shape, groups));
    const env = new Map(groups.flatMap(([letters, flat]) => this.unflatten(letters, flat)));
    return this.f.at(
      this.kb,
      x,
      [...this.spec.ins[which]!].map((c) => env.get(c)!),
    );
  }

  /**
   * C's address split into its M and N parts (the batch part in `mOff`), or undefined when
   * cIndex divides nothing (then it is cheap as it is): a tile's stores add two table entries.
   */
  cParts(b: KExpr): { mOff: (m: KExpr) => KExpr; nOff: (n: KExpr) => KExpr } | undefined {
    const [M, N] = ['\0M', '\0N'];
    const probe = this.cIndex(b, ivar(M), ivar(N));
    if (!divides(probe, M, N)) return undefined;
    const out = this.n.type.shape;
    return {
      mOff: (m) =>
        this.offset(this.spec.out, out, [
          [this.g.batch, b],
          [this.g.m, m],
        ]),
      nOff: (n) => this.offset(this.spec.out, out, [[this.g.n, n]]),
    };
  }

  /** The flat position of C[b, m, n] in the output buffer. */
  cIndex(b: KExpr, m: KExpr, n: KExpr): KExpr {
    const groups: [readonly string[], KExpr][] = [
      [this.g.batch, b],
      [this.g.m, m],
      [this.g.n, n],
    ];
    return this.offset(this.spec.out, this.n.type.shape, groups);
  }

  /**
   * C's row stride `ld` when C[b, m + i, n + j] is at cIndex(b, m, n) + i·ld + j (the M and N
   * letters each adjacent and in order in the output, N's last), else undefined.
   */
  cRowStride(): KExpr | undefined {
    const spec = this.spec.out;
    const { m, n } = this.g;
    const at = (letters: readonly string[]): number => spec.indexOf(letters[0]!);
    const inOrder = (letters: readonly string[]): boolean =>
      letters.length > 0 && letters.every((c, i) => spec[at(letters) + i] === c);
    if (!inOrder(m) || !inOrder(n) || !spec.endsWith(n.join(''))) return undefined;
    return stridesOf(this.n.type.shape, this.kb)[at(m) + m.length - 1];
  }

  /**
   * The flat offset in a row-major buffer (letters `spec`, shape `shape`) of the element at
   * the given flat group indices. A group whose letters are adjacent and in order in `spec`
   * is one stride (`m * K` rather than `(m / T) * T * K + (m % T) * K`).
   */
  offset(spec: string, shape: readonly Dim[], groups: readonly [readonly string[], KExpr][]): KExpr {
    const st = stridesOf(shape, this.kb);
    let off: KExpr = int(0);
    for (const [letters, flat] of groups) {
      if (letters.length === 0) continue;
      const at = spec.indexOf(letters[0]!);
      if (letters.every((c, i) => spec[at + i] === c)) {
        off = add(off, mul(flat, st[at + letters.length - 1]!));
        continue;
      }
      for (const [c, e] of this.unflatten(letters, flat)) off = add(off, mul(e, st[spec.indexOf(c)]!));
    }
    return off;
  }

  /**
   * Packs `rows` (≤ block) row panels of `width` into `buf` (a local array, or a buffer
   * param when a number): buf[at + p*stride + k*width + r] = op(r0 + p + r, pc + k),
   * zero-padded; `stride` is kcMax for a block, K for a whole prepacked operand. `outer` is the
   * panel loop's mode: parallel when the threads share the packed panels.
   */
  pack(
    which: 0 | 1,
    buf: string | number,
    b: KExpr,
    r0: KExpr,
    rows: KExpr,
    pc: KExpr,
    kc: KExpr,
    width: number,
    outer: 'serial' | 'parallel' = 'serial',
    at: KExpr = int(0),
    stride: KExpr = int(kcMax(this.s.KC)),
  ): KStmt[] {
    const args = { which, buf, b, r0, rows, pc, kc, width, outer, at, stride };
    const qb = which === 1 ? this.dequantized() : undefined;
    return (qb && quantPack(this, qb, args)) || packOperand(this, args);
  }

  /** Whether operand `which` has a buffer whose innermost axis is a K letter. */
  kInnermost(which: 0 | 1): boolean {
    const spec = this.spec.ins[which]!;
    if (which === 1 && this.dequantized() !== undefined) return true;
    return this.f.buffers.has(this.n.inputs[which]!) && this.g.k.includes(spec[spec.length - 1]!);
  }

  private quantB?: { v: QuantB | undefined };
  /** B's quantized params when B is the quantize pass's dequantization of a weight (read along K, as its bytes lie). */
  dequantized(): QuantB | undefined {
    this.quantB ??= { v: dequantizedParams(this) };
    return this.quantB.v;
  }

  /**
   * A packed buffer of B in whole-K panels (PREPACK_AT floats of header, then panel j at
   * j*Kp*NR, Kp = prepackK()), derived once from B's param buffer (kind 'packed'); undefined
   * unless B is a float param (or a float param cast to another float type: the precision
   * pass's f32 master weight read in f16/bf16, converted once as it is packed) with no batch
   * letters and constant N and K.
   */
  prepacked(): number | undefined {
    const buf = this.prepackable();
    if (buf === undefined) return undefined;
    const size = PREPACK_AT + Math.ceil((this.N as { v: number }).v / this.s.NR) * this.s.NR * this.prepackK();
    this.kb.param(buf, 'read');
    return this.kb.param(this.kb.tables.buffer('f32', dimConst(size), 'packed', buf), 'readwrite');
  }

  /**
   * B's param buffer when B can be prepacked (see prepacked), without adding it to the kernel.
   * A quantized weight's panels (dequantized from its bytes once per version, keyed on its `q`
   * param) only up to QUANT_PREPACK_MAX bytes of floats: a larger one keeps the memory it was
   * quantized to save, and is packed from its bytes at every call.
   */
  prepackable(): number | undefined {
    if (this.bRead) return this.bSource;
    const qb = this.dequantized();
    if (qb) {
      const floats = (this.N as { v: number }).v * (this.K as { v: number }).v;
      return floats * 4 <= QUANT_PREPACK_MAX ? this.f.buffers.get(qb.q) : undefined;
    }
    const b = unmarked(this.n.inputs[1]!);
    const x =
      b.op === 'cast' && isFloat(b.type.dtype) && unmarked(b.inputs[0]!).op === 'param' ? unmarked(b.inputs[0]!) : b;
    const buf = this.f.buffers.get(x);
    if (x.op !== 'param' || buf === undefined || this.g.batch.length > 0) return undefined;
    if (this.N.k !== 'const' || this.K.k !== 'const' || !['f32', 'f16', 'bf16'].includes(x.type.dtype))
      return undefined;
    return buf;
  }

  /** K rounded up so that every prepacked panel starts 64-byte aligned. */
  prepackK(): number {
    const k = (this.K as { v: number }).v;
    const q = Math.max(1, 16 / this.s.NR);
    return Math.ceil(k / q) * q;
  }

  /** A plan scratch buffer of `size` floats for this kernel (a transient: it lives for this launch). */
  scratch(size: number | Dim): number {
    const dim = typeof size === 'number' ? dimConst(size) : size;
    return this.kb.param(this.kb.tables.buffer('f32', dim, 'transient'), 'readwrite');
  }

  /** Floats enough for B packed whole: K rounded up to a multiple of `q`, times N rounded up to NR. */
  packedSize(q: number): Dim {
    const size = (ls: readonly string[]): Dim => ls.reduce((a, c) => dimMul(a, this.sizes.get(c)!), dimConst(1));
    return dimMul(dimAdd(size(this.g.k), dimConst(q - 1)), dimAdd(size(this.g.n), dimConst(this.s.NR - 1)));
  }

  /** Few rows: each thread takes NC columns of one batch entry and streams B once per row. */
  skinny(): KStmt[] {
    const { NC } = this.s;
    const [it, b, n0, nl, m, acc, k, j, a] = ['it', 'b', 'n0', 'nl', 'm', 'acc', 'k', 'j', 'a'].map(
      this.v,
    ) as string[] as [string, string, string, string, string, string, string, string, string];
    const nBlocks = cdiv(this.N, int(NC));
    const row: KStmt[] = [
      { k: 'array', name: acc, t: 'f32', size: NC, space: 'local' },
      loop(j, int(NC), [{ k: 'astore', name: acc, index: ivar(j), value: f32(0) }], 'simd'),
      loop(k, this.K, [
        { k: 'let', name: a, t: 'f32', value: this.operand(0, ivar(b), ivar(m), ivar(k)) },
        loop(
          j,
          ivar(nl),
          [
            {
              k: 'astore',
              name: acc,
              index: ivar(j),
              value: {
                k: 'fma',
                a: { k: 'var', name: a, t: 'f32' },
                b: this.operand(1, ivar(b), add(ivar(n0), ivar(j)), ivar(k)),
                c: aload(acc, ivar(j)),
              },
            },
          ],
          // No \`omp simd\` here: GCC vectorizes it anyway, and with constant bounds the
          // pragma made GCC 12 spend over a minute in cfg cleanup on one kernel.
          'serial',
        ),
      ]),
      loop(j, ivar(nl), this.store(aload(acc, ivar(j)), ivar(b), ivar(m), add(ivar(n0), ivar(j)), true)),
    ];
    const body: KStmt[] = [
      let64(b, ix('/', ivar(it), nBlocks)),
      let64(n0, mul(ix('%', ivar(it), nBlocks), int(NC))),
      let64(nl, ix('min', int(NC), ix('-', this.N, ivar(n0)))),
      loop(m, this.M, row),
    ];
    return [this.kb.parallel(it, mul(this.NB, nBlocks), body, this.work())];
  }

  /**
   * Stores C[b, m, n] = `value` (f32); with `epilogue`, the epilogue's nodes are computed
   * from it first (one local each) and the last one is stored. `at`: C's address when the
   * caller has it (from its tables), else cIndex.
   */
  store(value: KExpr, b: KExpr, m: KExpr, n: KExpr, epilogue: boolean, at?: KExpr, t: KScalar = 'f32'): KStmt[] {
    const index = at ?? this.cIndex(b, m, n);
    if (!epilogue || this.epilogue.length === 0) return [{ k: 'store', buf: this.out, index, value }];
    const env = new Map(
      (
        [
          [this.g.batch, b],
          [this.g.m, m],
          [this.g.n, n],
        ] as const
      ).flatMap(([letters, flat]) => this.unflatten(letters, flat)),
    );
    const idx = [...this.spec.out].map((c) => env.get(c)!);
    return this.epilogueAt(value, idx, index, t);
  }

  /** The epilogue applied to the product's value `value` (of type `t`) at index `idx`, stored at `index`. */
  epilogueAt(value: KExpr, idx: readonly KExpr[], index: KExpr, t: KScalar = 'f32'): KStmt[] {
    const c = this.v('c');
    const f = this.f.with(new Map([[this.n as Node, { k: 'var', name: c, t } as KExpr]]));
    const { stmts, f: g } = defineLocals(this.kb, f, this.epilogue, () => idx);
    const stored = g.at(this.kb, this.epilogue[this.epilogue.length - 1]!, idx);
    return [{ k: 'let', name: c, t, value }, ...stmts, { k: 'store', buf: this.out, index, value: stored }];
  }

  work(): KExpr {
    return mul(mul(this.NB, this.M), mul(this.N, this.K));
  }

  /** The output is all zeros when K is 0 (the K loops never run). */
  zeroWhenEmpty(): KStmt[] {
    if (this.K.k === 'const' && this.K.v > 0) return [];
    const total = this.n.type.shape.reduce<KExpr>((acc, d) => mul(acc, this.kb.dim(d)), int(1));
    const z = this.v('z');
    const shape = this.n.type.shape;
    const st = stridesOf(shape, this.kb);
    const idx = shape.map((d, i) => ix('%', ix('/', ivar(z), st[i]!), this.kb.dim(d)));
    const body: KStmt[] =
      this.epilogue.length === 0
        ? [{ k: 'store', buf: this.out, index: ivar(z), value: f32(0) }]
        : this.epilogueAt(f32(0), idx, ivar(z));
    return [{ k: 'if', cond: cmp('==', this.K, int(0)), then: [loop(z, total, body)] }];
  }
}
