// Convolution weight gradients as direct kernels on the CPU. A weight gradient
// einsum(window(x), dy) -> dw sums over pixels (n, h, w): a GEMM whose k is the pixels, so
// the packed GEMM transposes both operands into k-major panels, im2col runs of K floats from x
// and single floats from dy, as costly as the multiply-adds when the channels are few. Here
// each image is transposed once: dy into dT[o tile][q][MR] and x into xT[c tile][r][NR], the
// pixels counted along the padded input's rows (q = h·sH + w as in conv-direct.ts, dT zero
// where w ≥ W). The window offset (i, j) at r = q + off(i, j) makes every (offset, o tile,
// c tile) a plain mma of dT against xT shifted by off rows: no panel per offset.
//
// The images run in a fixed number of chunks (so the order of the sums does not depend on the
// thread count), each summing its images into its own part of a transient buffer; a last loop
// adds the chunks' parts in order into dw. Used where it pays: stride-1 convolutions over a
// materialized pad, f32, no epilogue, and few enough dropped pixels and padded channel rows
// (`directWeightGrad` says undefined otherwise and the packed GEMM runs).

import { dimConst } from '../ir/dims.js';
import type { NodeOf } from '../ir/graph.js';
import { parseEinsum } from '../ir/infer.js';
import { type KExpr, type KStmt, add, cmp, f32, int, ivar, ix, loop, mul, select } from '../ir/kernel.js';
import type { KernelBuilder } from './builder.js';
import { affineRead, directShape, unflatten } from './conv-direct.js';
import { type Fuser, stridesOf } from './expr.js';

/** Output channels (dy's rows) and input channels (x's columns) per register tile. */
const MR = 8;
const NR = 32;
/** Image chunks, each with its own partial sums. */
const CHUNKS = 8;
/** The least share of useful work (pixels kept × channels kept over all computed) that pays. */
const MIN_USE = 0.8;
/** The most floats of transposed dy and x per thread. */
const MAX_SCRATCH = 1 << 18;

const fadd = (a: KExpr, b: KExpr): KExpr => ({ k: 'bin', fn: 'add', a, b, t: 'f32' });
const fvar = (name: string): KExpr => ({ k: 'var', name, t: 'f32' });

/** The direct weight-gradient kernel of einsum `n` storing into buffer `out`, or undefined. */
export function directWeightGrad(
  kb: KernelBuilder,
  f: Fuser,
  n: NodeOf<'einsum'>,
  out: number,
  epilogue: readonly unknown[],
): KStmt[] | undefined {
  const shape = directShape(kb, n, epilogue, 'k');
  if (!shape) return undefined;
  const { g, h, w, lead, H, W, sizes, known, product } = shape;
  const O = product(g.n);
  if (O === undefined) return undefined;
  const { ins, out: outSpec } = parseEinsum(n.args.spec, 2);
  if (![...ins[1]!].includes(h) || ![...ins[1]!].includes(w)) return undefined;

  // x's address, affine: the channel is the m letter of the largest stride, the others offsets.
  const xr = affineRead(kb, f, n.inputs[0]!, [...ins[0]!], known);
  if (!xr) return undefined;
  const { stride, at: xAt } = xr;
  const sH = stride.get(h)!;
  if (stride.get(w) !== 1 || sH < W) return undefined;
  const byStride = [...g.m].sort((a, b) => stride.get(b)! - stride.get(a)!);
  const [ch, ...offs] = byStride as [string, ...string[]];
  const C = known(ch);
  if (C === undefined || offs.some((c) => known(c) === undefined || stride.get(c)! <= 0)) return undefined;
  const KK = offs.reduce((a, c) => a * known(c)!, 1);
  const maxOff = offs.reduce((a, c) => a + stride.get(c)! * (known(c)! - 1), 0);
  const Qv = (H - 1) * sH + W;
  const Qe = Qv + (Qv % 2); // even: each o tile's panel starts 64-byte aligned
  const R = Qv + maxOff; // x's rows read, all inside one channel's plane
  const Rp = Qe + maxOff;
  if (stride.get(ch)! < R) return undefined;
  const [Ot, Ct] = [Math.ceil(O / MR), Math.ceil(C / NR)];
  if (((H * W) / Qe) * (O / (Ot * MR)) * (C / (Ct * NR)) < MIN_USE) return undefined;
  if (Ot * Qe * MR + Ct * Rp * NR > MAX_SCRATCH) return undefined;

  const size = (c: string): KExpr => kb.dim(sizes.get(c)!);
  const NI = lead.reduce<KExpr>((a, c) => mul(a, size(c)), int(1));
  const o = kb.param(out, 'write');
  const T = KK * Ot * Ct * MR * NR; // one chunk's partial sums
  const ws = kb.param(kb.tables.buffer('f32', dimConst(CHUNKS * T), 'transient'), 'readwrite');
  const outStrides = stridesOf(n.type.shape, kb);
  const outAt = (env: ReadonlyMap<string, KExpr>): KExpr =>
    [...outSpec].reduce<KExpr>((acc, c, i) => add(acc, mul(env.get(c) ?? int(0), outStrides[i]!)), int(0));

  const [chunk, img, dT, xT, acc, ob, cb, q, r, i, j, e, xb, ij, part, oo, cc, sum, red] = kb.freshNames(
    'chunk',
    'img',
    'dt',
    'xt',
    'acc',
    'ob',
    'cb',
    'q',
    'r',
    'i',
    'j',
    'e',
    'xb',
    'ij',
    'part',
    'oo',
    'cc',
    'sum',
    'red',
  );
  const P = ix('min', NI, int(CHUNKS));
  const lo = ix('/', mul(ivar(chunk), NI), P);
  const hi = ix('/', mul(add(ivar(chunk), int(1)), NI), P);
  const leadEnv = (v: string): Map<string, KExpr> => unflatten(ivar(v), lead, size);

  // dT[ob][q][i] = dy[img, ob·MR + i, q / sH, q % sH], zero past O and where the column is dropped.
  const oIdx = add(mul(ivar(ob), int(MR)), ivar(i));
  const dyEnv = new Map([
    ...leadEnv(img),
    ...unflatten(oIdx, g.n, size),
    [h, ix('/', ivar(q), int(sH))],
    [w, ix('%', ivar(q), int(sH))],
  ]);
  const dy = f.at(
    kb,
    n.inputs[1]!,
    [...ins[1]!].map((c) => dyEnv.get(c) ?? int(0)),
  );
  const keepQ = cmp('&&', cmp('<', ivar(q), int(Qv)), cmp('<', ix('%', ivar(q), int(sH)), int(W)));
  const packDy = loop(ob, int(Ot), [
    loop(q, int(Qe), [
      loop(i, int(MR), [
        {
          k: 'astore',
          name: dT,
          index: add(mul(add(mul(ivar(ob), int(Qe)), ivar(q)), int(MR)), ivar(i)),
          value: select(cmp('&&', cmp('<', oIdx, int(O)), keepQ), dy, f32(0), 'f32'),
        },
      ]),
    ]),
  ]);
  // xT[cb][r][j] = x[xb + (cb·NR + j)·sC + r], zero past C and R.
  const cIdx = add(mul(ivar(cb), int(NR)), ivar(j));
  const packX = loop(cb, int(Ct), [
    loop(r, int(Rp), [
      loop(j, int(NR), [
        {
          k: 'astore',
          name: xT,
          index: add(mul(add(mul(ivar(cb), int(Rp)), ivar(r)), int(NR)), ivar(j)),
          value: select(
            cmp('&&', cmp('<', cIdx, int(C)), cmp('<', ivar(r), int(R))),
            xr.load(add(add(ivar(xb), mul(cIdx, int(stride.get(ch)!))), ivar(r))),
            f32(0),
            'f32',
          ),
        },
      ]),
    ]),
  ]);
  // Every (offset, o tile, c tile): dT against xT shifted by the offset's rows, added into the chunk's part.
  const offAt = xAt(unflatten(ivar(ij), offs, size));
  const tile = add(mul(add(mul(ivar(ij), int(Ot)), ivar(ob)), int(Ct)), ivar(cb));
  const partAt = (el: KExpr): KExpr => add(add(ivar(part), mul(tile, int(MR * NR))), el);
  const tiles = loop(ij, int(KK), [
    loop(ob, int(Ot), [
      loop(cb, int(Ct), [
        loop(e, int(MR * NR), [{ k: 'astore', name: acc, index: ivar(e), value: f32(0) }], 'simd'),
        {
          k: 'mma',
          acc,
          a: dT,
          aOffset: mul(ivar(ob), int(Qe * MR)),
          b: xT,
          bOffset: mul(add(mul(ivar(cb), int(Rp)), ix('-', offAt, xAt(new Map()))), int(NR)),
          kc: int(Qe),
          mr: MR,
          nr: NR,
        },
        loop(
          e,
          int(MR * NR),
          [
            {
              k: 'store',
              buf: ws,
              index: partAt(ivar(e)),
              value: fadd(
                { k: 'load', buf: ws, index: partAt(ivar(e)), t: 'f32' },
                { k: 'aload', name: acc, index: ivar(e), t: 'f32' },
              ),
            },
          ],
          'simd',
        ),
      ]),
    ]),
  ]);
  const image = loop(
    img,
    hi,
    [{ k: 'let', name: xb, t: 'i64', value: xAt(leadEnv(img)) }, packDy, packX, tiles],
    'serial',
    { lo },
  );
  const sums = kb.parallel(
    chunk,
    P,
    [
      kb.scratch(dT, 'f32', Ot * Qe * MR),
      kb.scratch(xT, 'f32', Ct * Rp * NR),
      { k: 'array', name: acc, t: 'f32', size: MR * NR, space: 'local' },
      { k: 'let', name: part, t: 'i64', value: mul(ivar(chunk), int(T)) },
      loop(e, int(T), [{ k: 'store', buf: ws, index: add(ivar(part), ivar(e)), value: f32(0) }], 'simd'),
      image,
    ],
    mul(mul(NI, int(Qe)), int(O * C * KK)),
  );

  // dw[o, c, offset] = the chunks' parts added in order.
  const wEnv = new Map([
    ...unflatten(ivar(ij), offs, size),
    ...unflatten(ivar(oo), g.n, size),
    [ch, ivar(cc)] as const,
  ]);
  const el = add(
    mul(
      add(mul(add(mul(ivar(ij), int(Ot)), ix('/', ivar(oo), int(MR))), int(Ct)), ix('/', ivar(cc), int(NR))),
      int(MR * NR),
    ),
    add(mul(ix('%', ivar(oo), int(MR)), int(NR)), ix('%', ivar(cc), int(NR))),
  );
  const reduce = kb.parallel(
    red,
    int(KK),
    [
      { k: 'let', name: ij, t: 'i64', value: ivar(red) },
      loop(oo, int(O), [
        loop(cc, int(C), [
          { k: 'let', name: sum, t: 'f32', value: f32(0) },
          loop(chunk, P, [
            {
              k: 'set',
              name: sum,
              value: fadd(fvar(sum), { k: 'load', buf: ws, index: add(mul(ivar(chunk), int(T)), el), t: 'f32' }),
            },
          ]),
          { k: 'store', buf: o, index: outAt(wEnv), value: fvar(sum) },
        ]),
      ]),
    ],
    mul(P, int(KK * O * C)),
  );
  return [sums, reduce];
}
