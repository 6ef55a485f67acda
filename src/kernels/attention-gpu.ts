// The GPU form of the attention chain (the group attention-match.ts finds; attention.ts is the
// CPU's): a flash-style tiled kernel (KernelGrid.tiled), the same kernel IR for WGSL and CUDA,
// that never stores the T×S scores. A workgroup of W invocations per (batch entry, tile of B
// queries) stages its queries in workgroup memory once, then walks the key tiles of B keys
// that the masks' bounds leave visible (attention.ts keyRange: a causal or sliding-window
// mask skips every fully masked tile), each step:
//   1. stage the tile's K and V rows (zero past the visible range) in workgroup memory;
//   2. the B×B scores, spread over the invocations: x = scores(dot(q, k)), the graph's
//      masked, scaled score expression, -inf for a key outside the range or a query past T;
//   3. invocation i < B keeps query i's online softmax (attention.ts's): m' = max(m, max x)
//      (NaN if any x is), α = exp(m - m'), p = exp(x - m') in place of x (m' = -inf shifts
//      by 0, so masked keys give 0), l = l·α + Σ p;
//   4. the B×E output, spread over the invocations (R elements each, in registers):
//      o = o·α + Σ_j p_j·v_j;
// with a barrier after each step. At the end o / l is stored: 0 where l is 0 under
// masked_softmax, 0/0 = NaN under softmax, as the unfused graph gives (and attention.ts).
// Every barrier is in uniform control flow: the key loop's bounds depend on the workgroup
// index and dims only, and the branches on the local index hold no barrier. B is the
// largest of 32, 16, ... whose four tiles fit WG_BYTES, the portable WebGPU limit.

import type { KExpr, KStmt } from '../ir/kernel.js';
import { add, cmp, f32, int, ivar, ix, loop, mul, select } from '../ir/kernel.js';
import { type AttentionMatch, headSizes } from '../passes/fusion/attention-match.js';
import { flashOperands, keyRange } from './attention.js';
import type { KernelBuilder } from './builder.js';
import type { Fuser } from './expr.js';
import { unflatten } from './reduce-gpu.js';

/** Invocations per workgroup (a multiple of a CUDA warp). */
export const FLASH_WORKGROUP = 64;
/** Workgroup storage a flash kernel may use: WebGPU's default maxComputeWorkgroupStorageSize. */
const WG_BYTES = 16384;

/** The tile size (queries and keys) for head sizes D and E: its Q, K, V, score and row arrays fit WG_BYTES. */
export function flashTile(D: number, E: number): number {
  const bytes = (b: number): number => 4 * (b * D + b * (D + 1) + b * E + b * (b + 1) + 3 * b);
  let b = 32;
  while (b > 1 && bytes(b) > WG_BYTES) b /= 2;
  return b;
}

const f = (name: string): KExpr => ({ k: 'var', name, t: 'f32' });
const aget = (name: string, index: KExpr): KExpr => ({ k: 'aload', name, index, t: 'f32' });
const aset = (name: string, index: KExpr, value: KExpr): KStmt => ({ k: 'astore', name, index, value });
const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });
const letf = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'f32', value });
const setv = (name: string, value: KExpr): KStmt => ({ k: 'set', name, value });
const when = (cond: KExpr, then: readonly KStmt[]): KStmt => ({ k: 'if', cond, then });
const bin = (fn: 'sub' | 'mul' | 'div' | 'add', a: KExpr, b: KExpr): KExpr => ({ k: 'bin', fn, a, b, t: 'f32' });
const exp = (a: KExpr): KExpr => ({ k: 'un', fn: 'exp', a, t: 'f32' });
const fma = (a: KExpr, b: KExpr, c: KExpr): KExpr => ({ k: 'fma', a, b, c });
const lt = (a: KExpr, b: KExpr): KExpr => cmp('<', a, b);
const sub = (a: KExpr, b: KExpr): KExpr => ix('-', a, b);
const cdiv = (a: KExpr, b: number): KExpr => ix('/', add(a, int(b - 1)), int(b));
const BARRIER: KStmt = { k: 'barrier' };

export function attentionGpuKernel(kb: KernelBuilder, fuser: Fuser, m: AttentionMatch, out: number): KStmt[] {
  const sizes = headSizes(m);
  if (!sizes) throw new Error('internal: attention head sizes must be constants');
  const { D, E } = sizes;
  const W = FLASH_WORKGROUP;
  const B = flashTile(D, E);
  const R = Math.ceil((B * E) / W); // output elements per invocation
  // Row strides of K and the scores, one past a multiple of the 32 banks: the invocations of a
  // warp reading a column of them (the scores' keys, a row's softmax) hit 32 banks, not one.
  const [KS, SS] = [D + 1, B + 1];
  const [wg, bf, q0, lo, hi, k0, l, x, i, j, t, dd, r, z] = kb.freshNames(
    ...(['wg', 'b', 'q0', 'lo', 'hi', 'k0', 'l', 'x', 'i', 'j', 't', 'd', 'r', 'z'] as const),
  );
  const [qs, ks, vs, ss, mx, ls, al, o] = kb.freshNames('qs', 'ks', 'vs', 'ss', 'mx', 'ls', 'al', 'o');
  const [dotv, xv, rm, nan, mnew, ms, alpha, pv, rs, acc] = kb.freshNames(
    ...(['dot', 'x', 'rm', 'nan', 'mnew', 'ms', 'alpha', 'p', 'rs', 'acc'] as const),
  );
  const T = kb.dim(m.sizes.t);
  const S = kb.dim(m.sizes.s);
  const batch = m.sizes.batch.map((d) => kb.dim(d));
  const NB = batch.reduce<KExpr>((a, d) => mul(a, d), int(1));
  const nQT = cdiv(T, B);
  const groups = mul(NB, nQT);
  kb.grid = { invocations: mul(groups, int(W)), workgroup: W, tiled: true };
  kb.schedule = { flash: `${B}x${B}`, workgroup: W };
  const bIdx = unflatten(ivar(bf), batch);
  const [L, I, J, Dd] = [l, i, j, dd].map(ivar) as [KExpr, KExpr, KExpr, KExpr];
  const ops = flashOperands(kb, fuser, m, bIdx, { q0, k0, i: I, j: J, d: Dd, e: Dd, dotv });
  const { tq, sk, Q, K, V, X, outAt } = ops;
  const o0 = kb.param(out, 'write');
  const [klo, khi] = keyRange(kb, m.bounds, ivar(q0), sub(ix('min', add(ivar(q0), int(B)), T), int(1)), S);

  /** For t = l, l + W, ... below n: `row` = t / w, the element's row, and dd = t % w, its column. */
  const spread = (row: string, n: number, w: number, body: readonly KStmt[]): KStmt =>
    loop(t, int(n), [let64(row, ix('/', ivar(t), int(w))), let64(dd, ix('%', ivar(t), int(w))), ...body], 'serial', {
      lo: L,
      step: W,
    });
  /** Output element r of this invocation: row i, column dd (when inside the tile). */
  const perOutput = (body: readonly KStmt[]): KStmt =>
    loop(
      r,
      int(R),
      [
        let64(t, add(L, mul(ivar(r), int(W)))),
        when(lt(ivar(t), int(B * E)), [
          let64(i, ix('/', ivar(t), int(E))),
          let64(dd, ix('%', ivar(t), int(E))),
          ...body,
        ]),
      ],
      'unroll',
    );
  const visible = cmp('&&', lt(sk, ivar(hi)), lt(tq, T));

  const keyTile: KStmt[] = [
    // 1. K and V rows of the tile (zero past the visible range).
    spread(j, B * D, D, [aset(ks, add(mul(J, int(KS)), Dd), select(lt(sk, ivar(hi)), K, f32(0), 'f32'))]),
    spread(j, B * E, E, [aset(vs, ivar(t), select(lt(sk, ivar(hi)), V, f32(0), 'f32'))]),
    BARRIER,
    // 2. The scores.
    loop(
      t,
      int(B * B),
      [
        let64(i, ix('/', ivar(t), int(B))),
        let64(j, ix('%', ivar(t), int(B))),
        letf(xv, f32(-Infinity)),
        when(visible, [
          letf(dotv, f32(0)),
          loop(dd, int(D), [
            setv(dotv, fma(aget(qs, add(mul(I, int(D)), Dd)), aget(ks, add(mul(J, int(KS)), Dd)), f(dotv))),
          ]),
          setv(xv, X),
        ]),
        aset(ss, add(mul(I, int(SS)), J), f(xv)),
      ],
      'serial',
      { lo: L, step: W },
    ),
    BARRIER,
    // 3. Query l's online softmax over the tile.
    when(lt(L, int(B)), [
      letf(rm, f32(-Infinity)),
      letf(nan, f32(0)),
      loop(j, int(B), [
        letf(x, aget(ss, add(mul(L, int(SS)), J))),
        setv(rm, select(cmp('>', f(x), f(rm)), f(x), f(rm), 'f32')),
        setv(nan, bin('add', f(nan), select(cmp('!=', f(x), f(x)), f32(1), f32(0), 'f32'))),
      ]),
      letf(
        mnew,
        select(
          cmp('>', f(nan), f32(0)),
          f32(NaN),
          select(cmp('>', f(rm), aget(mx, L)), f(rm), aget(mx, L), 'f32'),
          'f32',
        ),
      ),
      letf(ms, select(cmp('==', f(mnew), f32(-Infinity)), f32(0), f(mnew), 'f32')),
      letf(alpha, exp(bin('sub', aget(mx, L), f(ms)))),
      letf(rs, f32(0)),
      loop(j, int(B), [
        letf(pv, exp(bin('sub', aget(ss, add(mul(L, int(SS)), J)), f(ms)))),
        aset(ss, add(mul(L, int(SS)), J), f(pv)),
        setv(rs, bin('add', f(rs), f(pv))),
      ]),
      aset(ls, L, fma(aget(ls, L), f(alpha), f(rs))),
      aset(mx, L, f(mnew)),
      aset(al, L, f(alpha)),
    ]),
    BARRIER,
    // 4. o = o·α + P·V for this invocation's outputs.
    perOutput([
      letf(acc, bin('mul', aget(o, ivar(r)), aget(al, I))),
      loop(j, int(B), [setv(acc, fma(aget(ss, add(mul(I, int(SS)), J)), aget(vs, add(mul(J, int(E)), Dd)), f(acc)))]),
      aset(o, ivar(r), f(acc)),
    ]),
    BARRIER,
  ];
  const lsi = aget(ls, I);
  const ratio = bin('div', aget(o, ivar(r)), lsi);
  const final = m.guarded ? select(cmp('==', lsi, f32(0)), f32(0), ratio, 'f32') : ratio;
  const body: KStmt[] = [
    let64(bf, ix('/', ivar(wg), nQT)),
    let64(q0, mul(ix('%', ivar(wg), nQT), int(B))),
    let64(lo, klo),
    let64(hi, khi),
    let64(l, { k: 'lid' }),
    { k: 'array', name: qs, t: 'f32', size: B * D, space: 'shared' },
    { k: 'array', name: ks, t: 'f32', size: B * KS, space: 'shared' },
    { k: 'array', name: vs, t: 'f32', size: B * E, space: 'shared' },
    { k: 'array', name: ss, t: 'f32', size: B * SS, space: 'shared' },
    ...[mx, ls, al].map((a): KStmt => ({ k: 'array', name: a, t: 'f32', size: B, space: 'shared' })),
    { k: 'array', name: o, t: 'f32', size: R, space: 'local' },
    loop(z, int(R), [aset(o, ivar(z), f32(0))], 'unroll'),
    // The tile's queries (zero past T), and each query's running max and sum.
    spread(i, B * D, D, [aset(qs, ivar(t), select(lt(tq, T), Q, f32(0), 'f32'))]),
    when(lt(L, int(B)), [aset(mx, L, f32(-Infinity)), aset(ls, L, f32(0))]),
    BARRIER,
    loop(k0, ivar(hi), keyTile, 'serial', { lo: ivar(lo), step: B }),
    perOutput([when(lt(tq, T), [{ k: 'store', buf: o0, index: outAt(Dd), value: final }])]),
  ];
  return [let64(wg, { k: 'wgid' }), when(lt(ivar(wg), groups), body)];
}
