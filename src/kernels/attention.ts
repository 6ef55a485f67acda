// Attention as one flash-style kernel (the chain attention-match.ts finds): the T×S scores
// are never stored. Parallel over (batch letters × query tiles of BQ queries); each task
// packs its queries, then walks the key tiles (BK keys) its masks leave visible and keeps
// per query an online softmax:
//   x_j   = scores(dot(q, k_j))           the graph's masked, scaled score expression
//   m'    = max(m, max_j x_j)             running max (-inf while every key so far is masked)
//   α     = exp(m - m')                   rescale of what was summed under the old max
//   l     = l·α + Σ_j exp(x_j - m')       running sum
//   o     = o·α + Σ_j exp(x_j - m')·v_j   running output
// and stores o / l at the end: 0 for a query with no visible key under masked_softmax (its
// l is 0), 0/0 = NaN under plain softmax, as the unfused graph gives. The tile is computed
// transposed, Sᵀ = K·Qᵀ and Oᵀ = Vᵀ·Pᵀ, with the GEMM's register-tile contraction (`mma`,
// MR keys or value columns × NR queries): the softmax then runs down the keys with the
// queries across SIMD lanes (no horizontal reductions), and Pᵀ is already the B operand of
// the second product. The key tile range of a query tile comes from the masks' linear
// bounds on the key index, so a sliding window of W costs O(T·W), not O(T·S).

import type { Node } from '../ir/graph.js';
import { type KExpr, type KStmt, add, cmp, dot, f32, int, ivar, ix, loop, mul, select } from '../ir/kernel.js';
import type { KeyBound } from '../passes/fusion/attention-bounds.js';
import { type AttentionMatch, type Role, headSizes } from '../passes/fusion/attention-match.js';
import type { KernelBuilder } from './builder.js';
import { Fuser, stridesOf } from './expr.js';
import type { GemmSchedule } from './schedule.js';

/** One string per space-separated word of S. */
type Names<S extends string> = S extends `${string} ${infer R}` ? [string, ...Names<R>] : [string];

/** A fuser that reads the scores einsum as the current tile element's dot product (a local). */
export class ScoreFuser extends Fuser {
  constructor(
    buffers: ReadonlyMap<Node, number>,
    private readonly qk: Node,
    dotValue: KExpr,
  ) {
    super(buffers, new Map([[qk, dotValue]]));
  }
  override atFlat(kb: KernelBuilder, n: Node, flat: KExpr): KExpr {
    if (n === this.qk) throw new Error('internal: the attention scores are read only elementwise');
    return super.atFlat(kb, n, flat);
  }
}

const f = (name: string): KExpr => ({ k: 'var', name, t: 'f32' });

/**
 * The fused group's reads at query t = q0 + i and key s = k0 + j (the CPU and GPU kernels
 * share them): Q at head column d, K at d, V at value column e, the score X (the product in
 * `dotv`, through the group's score expression), and the output's offset at column e.
 */
export function flashOperands(
  kb: KernelBuilder,
  fuser: Fuser,
  m: AttentionMatch,
  bIdx: readonly KExpr[],
  at: { q0: string; k0: string; i: KExpr; j: KExpr; d: KExpr; e: KExpr; dotv: string },
) {
  const index = (roles: readonly Role[], x: Partial<Record<'t' | 's' | 'd' | 'e', KExpr>>): KExpr[] =>
    roles.map((q) => (q.k === 'batch' ? bIdx[q.i]! : x[q.k]!));
  const tq = add(ivar(at.q0), at.i);
  const sk = add(ivar(at.k0), at.j);
  const X =
    m.scores === m.qk
      ? f(at.dotv)
      : new ScoreFuser(fuser.buffers, m.qk, f(at.dotv)).compute(kb, m.scores, index(m.roles.scores, { t: tq, s: sk }));
  return {
    tq,
    sk,
    Q: fuser.at(kb, m.q, index(m.roles.q, { t: tq, d: at.d })),
    K: fuser.at(kb, m.k, index(m.roles.k, { s: sk, d: at.d })),
    V: fuser.at(kb, m.v, index(m.roles.v, { s: sk, e: at.e })),
    X,
    outAt: (e: KExpr): KExpr => dot(index(m.roles.out, { t: tq, e }), stridesOf(m.out.type.shape, kb)),
  };
}
const aget = (name: string, index: KExpr): KExpr => ({ k: 'aload', name, index, t: 'f32' });
const aset = (name: string, index: KExpr, value: KExpr): KStmt => ({ k: 'astore', name, index, value });
const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });
const letf = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'f32', value });
const bin = (fn: 'add' | 'sub' | 'mul' | 'div' | 'max', a: KExpr, b: KExpr): KExpr => ({
  k: 'bin',
  fn,
  a,
  b,
  t: 'f32',
});
const exp = (a: KExpr): KExpr => ({ k: 'un', fn: 'exp', a, t: 'f32' });
/** max(a, b) for a b without NaN: a NaN a stays (vectorizes, unlike fmc_max_f's branches). */
const maxf = (a: KExpr, b: KExpr): KExpr => select(cmp('>', b, a), b, a, 'f32');
const fma = (a: KExpr, b: KExpr, c: KExpr): KExpr => ({ k: 'fma', a, b, c });
const sub = (a: KExpr, b: KExpr): KExpr => ix('-', a, b);
const cdiv = (a: KExpr, b: number): KExpr => ix('/', add(a, int(b - 1)), int(b));

export function attentionKernel(
  kb: KernelBuilder,
  fuser: Fuser,
  m: AttentionMatch,
  out: number,
  gemm: GemmSchedule,
): KStmt[] {
  const sizes = headSizes(m);
  if (!sizes) throw new Error('internal: attention head sizes must be constants');
  const { D, E } = sizes;
  const { MR, NR } = gemm;
  // Tiles: BQ queries (NR-wide panels), BK keys and EM value rows (MR-tall panels).
  const BQ = NR * Math.ceil(32 / NR);
  const BK = MR * Math.ceil(64 / MR);
  const EM = MR * Math.ceil(E / MR);
  const [NQP, NEP] = [BQ / NR, EM / MR];
  // Panel strides of the packed operands, in floats (64-byte aligned for the register tiles).
  const al16 = (n: number): number => Math.ceil(n / 16) * 16;
  const [QS, KS, SS, VS] = [al16(D * NR), al16(D * MR), al16(BK * NR), al16(BK * MR)];
  const v = (p: string): string => kb.fresh(p);
  const names = <S extends string>(ps: S): Names<S> => ps.split(' ').map(v) as Names<S>;
  const [it, bf, q0, ql, lo, hi, k0, kl, i, j, dd, ee, ip, jp, ep, r, c, cl, z] = names(
    'it b q0 ql lo hi k0 kl i j d e ip jp ep r c cl z',
  );
  const [qp, kp, vp, st, ot, acc, mx, ls, al, ms, rm, nan] = names('qp kp vp st ot acc mx ls al ms rm nan');
  const [dotv, xv, mnew, pv] = names('dot x mnew p');
  const T = kb.dim(m.sizes.t);
  const S = kb.dim(m.sizes.s);
  const NB = m.sizes.batch.reduce<KExpr>((a, d) => mul(a, kb.dim(d)), int(1));
  const nQT = cdiv(T, BQ);
  // The batch letters' indices from the flat batch index (row-major over qk's batch letters).
  const bIdx: KExpr[] = [];
  let stride: KExpr = int(1);
  for (let k = m.sizes.batch.length - 1; k >= 0; k--) {
    const size = kb.dim(m.sizes.batch[k]!);
    const q = ix('/', ivar(bf), stride);
    bIdx[k] = k === 0 ? q : ix('%', q, size);
    stride = mul(stride, size);
  }
  const [I, J, Dd, Ee, R, C] = [i, j, dd, ee, r, c].map(ivar) as [KExpr, KExpr, KExpr, KExpr, KExpr, KExpr];
  const ops = flashOperands(kb, fuser, m, bIdx, { q0, k0, i: I, j: J, d: Dd, e: Ee, dotv });
  const { Q, K, V, X } = ops;
  const o0 = kb.param(out, 'write');
  const outAt = ops.outAt(Ee);
  const [klo, khi] = keyRange(kb, m.bounds, ivar(q0), sub(add(ivar(q0), ivar(ql)), int(1)), S);
  const lt = (a: KExpr, b: KExpr): KExpr => cmp('<', a, b);
  /** `x = p·w + lane`: the index of lane `lane` of panel `p` of width `w`. */
  const panel = (p: string, w: number, lane: string, x: string): KStmt =>
    let64(x, add(mul(ivar(p), int(w)), ivar(lane)));
  const accAt = add(mul(R, int(NR)), C);
  const mma = (a: string, aOffset: KExpr, b: string, bOffset: KExpr, kc: KExpr): KStmt => ({
    k: 'mma',
    ...{ acc, a, aOffset, b, bOffset, kc, mr: MR, nr: NR },
  });
  const subTile = (body: KStmt): KStmt => loop(r, int(MR), [loop(c, int(NR), [body], 'simd')]);
  // Element (key j, query jp·NR + c) of Pᵀ, stored in NR-wide query panels.
  const stAt = add(add(mul(ivar(jp), int(SS)), mul(J, int(NR))), C);
  // Element (e, query) of Oᵀ, stored as MR × NR register tiles.
  const otAt = (e: KExpr, q: KExpr): KExpr =>
    add(
      mul(add(mul(ix('/', e, int(MR)), int(NQP)), ix('/', q, int(NR))), int(MR * NR)),
      add(mul(ix('%', e, int(MR)), int(NR)), ix('%', q, int(NR))),
    );
  const perQuery = (body: KStmt[]): KStmt => loop(i, int(BQ), body, 'simd');
  // Over the tile's queries in panels, NR lanes at a time: c < cl of panel jp is query i.
  const acrossQueries = (body: KStmt[]): KStmt =>
    loop(jp, cdiv(ivar(ql), NR), [
      let64(cl, ix('min', int(NR), sub(ivar(ql), mul(ivar(jp), int(NR))))),
      loop(j, ivar(kl), [loop(c, ivar(cl), [panel(jp, NR, c, i), ...body], 'simd')]),
    ]);

  const keyTile: KStmt[] = [
    let64(kl, ix('min', int(BK), sub(ivar(hi), ivar(k0)))),
    // K in MR-tall key panels (d-major inside), zero past the last key: A of Sᵀ = K·Qᵀ.
    loop(ip, cdiv(ivar(kl), MR), [
      loop(dd, int(D), [
        loop(r, int(MR), [
          panel(ip, MR, r, j),
          aset(kp, add(add(mul(ivar(ip), int(KS)), mul(Dd, int(MR))), R), select(lt(J, ivar(kl)), K, f32(0), 'f32')),
        ]),
      ]),
    ]),
    // V in MR-tall panels of its columns (key-major inside): A of Oᵀ = Vᵀ·Pᵀ (the last
    // panel's rows past E stay 0 from the start of the task).
    loop(ep, int(NEP), [
      loop(j, ivar(kl), [
        loop(r, ix('min', int(MR), sub(int(E), mul(ivar(ep), int(MR)))), [
          panel(ep, MR, r, ee),
          aset(vp, add(add(mul(ivar(ep), int(VS)), mul(J, int(MR))), R), V),
        ]),
      ]),
    ]),
    // Sᵀ, register tiles over the head size.
    loop(ip, cdiv(ivar(kl), MR), [
      loop(jp, cdiv(ivar(ql), NR), [
        subTile(aset(acc, accAt, f32(0))),
        mma(kp, mul(ivar(ip), int(KS)), qp, mul(ivar(jp), int(QS)), int(D)),
        subTile(
          aset(st, add(add(mul(ivar(jp), int(SS)), mul(add(mul(ivar(ip), int(MR)), R), int(NR))), C), aget(acc, accAt)),
        ),
      ]),
    ]),
    // The graph's score expression (scale, bias, masks) and each query's max over the tile,
    // with NaNs counted apart (a query with one gets NaN, as max gives).
    perQuery([aset(rm, I, f32(-Infinity)), aset(nan, I, f32(0))]),
    acrossQueries([
      letf(dotv, aget(st, stAt)),
      letf(xv, X),
      aset(st, stAt, f(xv)),
      aset(rm, I, select(cmp('>', f(xv), aget(rm, I)), f(xv), aget(rm, I), 'f32')),
      aset(nan, I, bin('add', aget(nan, I), select(cmp('!=', f(xv), f(xv)), f32(1), f32(0), 'f32'))),
    ]),
    // m' = max(m, tile max); α = exp(m - m'); probabilities exp(x - m'), where m' = -inf
    // (nothing visible yet) shifts by 0 so that masked scores give 0, not NaN.
    perQuery([
      letf(mnew, select(cmp('>', aget(nan, I), f32(0)), f32(NaN), maxf(aget(mx, I), aget(rm, I)), 'f32')),
      aset(ms, I, select(cmp('==', f(mnew), f32(-Infinity)), f32(0), f(mnew), 'f32')),
      aset(al, I, exp(bin('sub', aget(mx, I), aget(ms, I)))),
      aset(mx, I, f(mnew)),
      aset(rm, I, f32(0)),
    ]),
    acrossQueries([
      letf(pv, exp(bin('sub', aget(st, stAt), aget(ms, I)))),
      aset(st, stAt, f(pv)),
      aset(rm, I, bin('add', aget(rm, I), f(pv))),
    ]),
    perQuery([aset(ls, I, fma(aget(ls, I), aget(al, I), aget(rm, I)))]),
    // Oᵀ = Oᵀ·α + Vᵀ·Pᵀ, α applied per query while loading each register tile.
    loop(ep, int(NEP), [
      loop(jp, cdiv(ivar(ql), NR), [
        subTile(
          aset(
            acc,
            accAt,
            bin(
              'mul',
              aget(ot, add(mul(add(mul(ivar(ep), int(NQP)), ivar(jp)), int(MR * NR)), accAt)),
              aget(al, add(mul(ivar(jp), int(NR)), C)),
            ),
          ),
        ),
        mma(vp, mul(ivar(ep), int(VS)), st, mul(ivar(jp), int(SS)), ivar(kl)),
        subTile(aset(ot, add(mul(add(mul(ivar(ep), int(NQP)), ivar(jp)), int(MR * NR)), accAt), aget(acc, accAt))),
      ]),
    ]),
  ];
  const lsi = aget(ls, I);
  const ratio = bin('div', aget(ot, otAt(Ee, I)), lsi);
  const final = m.guarded ? select(cmp('==', lsi, f32(0)), f32(0), ratio, 'f32') : ratio;
  // Per-thread scratch on the C target (CpuSchedule), or a local array.
  const arr = (name: string, size: number, space: 'local' | 'thread'): KStmt =>
    space === 'thread' ? kb.scratch(name, 'f32', size) : { k: 'array', name, t: 'f32', size, space };
  const task: KStmt[] = [
    arr(qp, NQP * QS, 'thread'),
    arr(kp, (BK / MR) * KS, 'thread'),
    arr(vp, NEP * VS, 'thread'),
    arr(st, NQP * SS, 'thread'),
    arr(ot, NEP * NQP * MR * NR, 'thread'),
    arr(acc, MR * NR, 'local'),
    ...[mx, ls, al, ms, rm, nan].map((a) => arr(a, BQ, 'local')),
    let64(bf, ix('/', ivar(it), nQT)),
    let64(q0, mul(ix('%', ivar(it), nQT), int(BQ))),
    let64(ql, ix('min', int(BQ), sub(T, ivar(q0)))),
    let64(lo, klo),
    let64(hi, khi),
    // Q in NR-wide query panels (d-major inside), zero past the last query: B of Sᵀ = K·Qᵀ.
    loop(jp, int(NQP), [
      loop(dd, int(D), [
        loop(c, int(NR), [
          panel(jp, NR, c, i),
          aset(qp, add(add(mul(ivar(jp), int(QS)), mul(Dd, int(NR))), C), select(lt(I, ivar(ql)), Q, f32(0), 'f32')),
        ]),
      ]),
    ]),
    perQuery([aset(mx, I, f32(-Infinity)), aset(ls, I, f32(0))]),
    ...(E === EM
      ? []
      : [
          loop(j, int(BK), [
            loop(r, int(MR), [aset(vp, add(add(int((NEP - 1) * VS), mul(J, int(MR))), R), f32(0))], 'serial', {
              lo: int(E - (NEP - 1) * MR),
            }),
          ]),
        ]),
    loop(z, int(NEP * NQP * MR * NR), [aset(ot, ivar(z), f32(0))], 'simd'),
    loop(k0, ivar(hi), keyTile, 'serial', { lo: ivar(lo), step: BK }),
    loop(i, ivar(ql), [loop(ee, int(E), [{ k: 'store', buf: o0, index: outAt, value: final }])]),
  ];
  const work = mul(mul(NB, mul(T, S)), int(D + E));
  return [kb.parallel(it, mul(NB, nQT), task, work)];
}

/**
 * The key range [lo, hi) that rows first..last of a query tile may see: each bound
 * ct·t + cs·s + c < 0 with cs = 1 gives s < -(ct·t + c), with cs = -1 gives s > ct·t + c;
 * over the tile's rows the loosest value is at one of its ends. Clamped to [0, S).
 */
export function keyRange(
  kb: KernelBuilder,
  bounds: readonly KeyBound[],
  first: KExpr,
  last: KExpr,
  S: KExpr,
): [KExpr, KExpr] {
  let lo: KExpr = int(0);
  let hi: KExpr = S;
  for (const b of bounds) {
    const at = (t: KExpr): KExpr => add(mul(int(b.ct), t), kb.dim(b.c));
    if (b.cs === 1) hi = ix('min', hi, ix('max', sub(int(0), at(first)), sub(int(0), at(last))));
    else lo = ix('max', lo, add(ix('min', at(first), at(last)), int(1)));
  }
  return [lo, hi];
}
