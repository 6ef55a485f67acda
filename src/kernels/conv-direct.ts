// Convolutions as direct (implicit-GEMM) kernels on the CPU, output channels × pixels. A
// convolution einsum(window(pad(x)), w) is a GEMM whose rows are pixels (n, h, w) and whose k
// letters are (c, i, j); its packed kernel copies an im2col panel of MR pixels per k, a short
// copy of runs that costs about as much as the MR·NR multiply-adds it feeds when the output
// has few channels. Here the tile is turned: rows are output channels (their weights packed
// once per thread), columns NR consecutive pixels of one image counted along the padded
// input's rows ("virtual" pixels q = h·sH + w with w < sH, sH the input's row stride). Pixel
// q at offset k reads x[base + q + kOff(k)]: for every k the NR columns are one contiguous
// run of the input, so a panel is NR-float vector copies with no index tables, shared by all
// the output channels' tiles. The columns with w ≥ W (between two rows) are computed and
// dropped; they read input between two valid reads, so never outside the buffer.
//
// Used where it pays: stride-1 convolutions whose input address is affine in the letters
// (the pad materialized: no bounds tests), with pixels contiguous along w, no epilogue, f32,
// and few enough dropped columns and padded output-channel rows (`directConv` says undefined
// otherwise and the packed GEMM runs).

import type { Node, NodeOf } from '../ir/graph.js';
import { parseEinsum } from '../ir/infer.js';
import { type KExpr, fold, type KStmt, add, cmp, f32, int, ivar, ix, loop, mul, select } from '../ir/kernel.js';
import { KernelBuilder } from './builder.js';
import { letterSizes } from './einsum.js';
import { type Fuser, stridesOf } from './expr.js';
import { substitute } from './separable.js';
import { type GemmLetters, gemmGroups } from '../passes/fusion/gemm-shape.js';
import { type Dim, dimConstValue } from '../ir/dims.js';

/** Output channels per register tile (broadcast weights) and the column widths tried (vectors of pixels). */
const MR = 8;
const NRS = [48, 32] as const;
/** The largest k (in_ch·K²) a panel holds: NR·K floats per thread, read once per channel tile. */
const MAX_K = 2304;
/** The least share of useful work (pixels kept × channels kept over all computed) that pays. */
const MIN_USE = 0.8;

/** Evaluates integer index arithmetic with letters bound; undefined if it reads anything else. */
function evaluate(e: KExpr, env: ReadonlyMap<string, number>): number | undefined {
  if (e.k === 'const' && e.t === 'i64') return e.v;
  if (e.k === 'var') return env.get(e.name);
  if (e.k !== 'ix') return undefined;
  const [a, b] = [evaluate(e.a, env), evaluate(e.b, env)];
  return a === undefined || b === undefined ? undefined : fold(e.op, a, b);
}

/** The flat index `flat` over `letters` (row-major, sizes `size`) as one expression per letter. */
export function unflatten(flat: KExpr, letters: readonly string[], size: (c: string) => KExpr): Map<string, KExpr> {
  const env = new Map<string, KExpr>();
  let inner: KExpr = int(1);
  for (let i = letters.length - 1; i >= 0; i--) {
    const c = letters[i]!;
    env.set(c, i === 0 ? ix('/', flat, inner) : ix('%', ix('/', flat, inner), size(c)));
    inner = mul(inner, size(c));
  }
  return env;
}

/** An operand's read whose address is affine in its letters: strides, base and index builders. */
export interface AffineRead {
  /** The address step of each letter. */
  readonly stride: ReadonlyMap<string, number>;
  /** The address with every letter 0. */
  readonly base: number;
  /** The address with the letters of `env` bound, the others 0. */
  readonly at: (env: ReadonlyMap<string, KExpr>) => KExpr;
  /** The operand's value at address `index`. */
  readonly load: (index: KExpr) => KExpr;
}

/**
 * The read of `node` by `letters` (its axes) when it is one load whose address is affine in
 * them (a pad materialized, a window over it): checked at a few mixed points; undefined
 * otherwise. A probe builder reads it first, so that a kernel that turns out not to apply
 * registers nothing in kb.
 */
export function affineRead(
  kb: KernelBuilder,
  f: Fuser,
  node: Node,
  letters: readonly string[],
  known: (c: string) => number | undefined,
): AffineRead | undefined {
  const vars = new Map(letters.map((c) => [c, kb.fresh(`l${c}`)]));
  const value = (b: KernelBuilder): KExpr =>
    f.at(
      b,
      node,
      letters.map((c) => ivar(vars.get(c)!)),
    );
  const probe = value(new KernelBuilder(kb.tables, 'cpu'));
  if (probe.k !== 'load') return undefined;
  const at = (bound: Readonly<Record<string, number>>): number | undefined =>
    evaluate(probe.index, new Map(letters.map((c) => [vars.get(c)!, bound[c] ?? 0])));
  const base = at({});
  if (base === undefined) return undefined;
  const stride = new Map<string, number>();
  for (const c of letters) {
    const s = at({ [c]: 1 });
    if (s === undefined) return undefined;
    stride.set(c, s - base);
  }
  // Affine: the address at a few mixed points is the sum of its parts.
  for (const t of [1, 2, 3]) {
    const point = Object.fromEntries(letters.map((c, i) => [c, ((i + 1) * t * 7) % Math.max(1, known(c) ?? 2)]));
    const want = letters.reduce((s, c) => s + stride.get(c)! * point[c]!, base);
    if (at(point) !== want) return undefined;
  }
  // The real read, registered in kb on first use (once the caller has chosen to apply).
  let real: Extract<KExpr, { k: 'load' }> | undefined;
  const read = (): Extract<KExpr, { k: 'load' }> => (real ??= value(kb) as Extract<KExpr, { k: 'load' }>);
  return {
    stride,
    base,
    at: (env) => substitute(read().index, new Map(letters.map((c) => [vars.get(c)!, env.get(c) ?? int(0)]))),
    load: (index) => ({ ...read(), index }),
  };
}

/**
 * A GEMM einsum's letters with their sizes, where a direct convolution kernel may apply (CPU,
 * f32, no epilogue, no batch): the pixels are the last two letters of group `pixels` (the
 * rows of a convolution, the k of its weight gradient), image letters before them.
 */
export interface DirectShape {
  readonly g: GemmLetters;
  /** The pixel row and column letters, the image letters, and the image's rows and columns. */
  readonly h: string;
  readonly w: string;
  readonly lead: readonly string[];
  readonly H: number;
  readonly W: number;
  readonly sizes: ReadonlyMap<string, Dim>;
  /** A letter's size when constant. */
  readonly known: (c: string) => number | undefined;
  /** The product of the letters' sizes when all are constant. */
  readonly product: (letters: readonly string[]) => number | undefined;
}

export function directShape(
  kb: KernelBuilder,
  n: NodeOf<'einsum'>,
  epilogue: readonly unknown[],
  pixels: 'm' | 'k',
): DirectShape | undefined {
  if (kb.target !== 'cpu' || epilogue.length > 0 || n.type.dtype !== 'f32') return undefined;
  if (!n.inputs.every((i) => i.type.dtype === 'f32')) return undefined;
  const g = gemmGroups(n);
  if (!g) return undefined;
  const sizes = letterSizes(n);
  const known = (c: string): number | undefined => dimConstValue(sizes.get(c)!);
  if (g.batch.some((c) => known(c) !== 1)) return undefined;
  const product = (letters: readonly string[]): number | undefined =>
    letters.reduce<number | undefined>(
      (a, c) => (a === undefined || known(c) === undefined ? undefined : a * known(c)!),
      1,
    );
  if (g[pixels].length < 2) return undefined;
  const [h, w] = g[pixels].slice(-2) as [string, string];
  const [H, W] = [known(h), known(w)];
  if (H === undefined || W === undefined || W < 4) return undefined;
  return { g, h, w, lead: g[pixels].slice(0, -2), H, W, sizes, known, product };
}

/** The direct kernel of convolution `n` storing into buffer `out`, or undefined where it does not apply or pay. */
export function directConv(
  kb: KernelBuilder,
  f: Fuser,
  n: NodeOf<'einsum'>,
  out: number,
  epilogue: readonly unknown[],
): KStmt[] | undefined {
  const shape = directShape(kb, n, epilogue, 'm');
  if (!shape) return undefined;
  const { g, h, w, lead, H, W, sizes, known, product } = shape;
  const [O, K] = [product(g.n), product(g.k)];
  if (O === undefined || K === undefined || K > MAX_K) return undefined;
  const { ins, out: outSpec } = parseEinsum(n.args.spec, 2);

  const xr = affineRead(kb, f, n.inputs[0]!, [...ins[0]!], known);
  if (!xr) return undefined;
  const { stride, base } = xr;
  const sH = stride.get(h)!;
  if (stride.get(w) !== 1 || sH < W) return undefined;
  const Q = (H - 1) * sH + W; // virtual pixels of an image, the last one valid
  const nr = NRS.map((r) => ({ r, use: (H * W) / (Math.ceil(Q / r) * r) })).sort((a, b) => b.use - a.use)[0]!;
  const Ot = Math.ceil(O / MR);
  if (nr.use * (O / (Ot * MR)) < MIN_USE) return undefined;
  const NR = nr.r;
  const NQ = Math.ceil(Q / NR);
  const Kp = K + (K % 2); // even: each channel tile's panel starts 64-byte aligned

  const size = (c: string): KExpr => kb.dim(sizes.get(c)!);
  const NI = lead.reduce<KExpr>((a, c) => mul(a, size(c)), int(1));
  const o = kb.param(out, 'write');
  const outStrides = stridesOf(n.type.shape, kb);
  const outAt = (env: ReadonlyMap<string, KExpr>): KExpr =>
    [...outSpec].reduce<KExpr>((acc, c, i) => add(acc, mul(env.get(c) ?? int(0), outStrides[i]!)), int(0));
  const xAt = xr.at;

  const [chunk, img, wp, ko, bp, acc, dst, ot, k, i, j, qb, q0, xb, ob, kk, q, rs, rl, nq, row, r, s0, sb] =
    kb.freshNames(
      'chunk',
      'img',
      'wp',
      'ko',
      'bp',
      'acc',
      'dst',
      'ot',
      'k',
      'i',
      'j',
      'qb',
      'q0',
      'xb',
      'ob',
      'kk',
      'q',
      'rs',
      'rl',
      'nq',
      'row',
      'r',
      's',
      'sb',
    );
  const P = ix('min', NI, int(8));
  const lo = ix('/', mul(ivar(chunk), NI), P);
  const hi = ix('/', mul(add(ivar(chunk), int(1)), NI), P);

  // Weights, packed [channel tile][k][MR] with zeros past O and K, once per chunk.
  const oFlat = add(mul(ivar(ot), int(MR)), ivar(i));
  const wEnv = new Map([...unflatten(oFlat, g.n, size), ...unflatten(ivar(k), g.k, size)]);
  const vw = f.at(
    kb,
    n.inputs[1]!,
    [...ins[1]!].map((c) => wEnv.get(c) ?? int(0)),
  );
  const packW = loop(ot, int(Ot), [
    loop(k, int(Kp), [
      loop(i, int(MR), [
        {
          k: 'astore',
          name: wp,
          index: add(mul(add(mul(ivar(ot), int(Kp)), ivar(k)), int(MR)), ivar(i)),
          value: select(cmp('&&', cmp('<', oFlat, int(O)), cmp('<', ivar(k), int(K))), vw, f32(0), 'f32'),
        },
      ]),
    ]),
  ]);
  const kOff = ix('-', xAt(unflatten(ivar(k), g.k, size)), int(base));
  const offsets = loop(k, int(K), [{ k: 'astore', name: ko, index: ivar(k), value: kOff }]);

  // One image: its pixel panels, each multiplied by every channel tile and stored.
  const read = (col: KExpr): KExpr =>
    xr.load(add(add(ivar(xb), { k: 'aload', name: ko, index: ivar(kk), t: 'i64' }), add(ivar(q0), col)));
  const packB = loop(kk, int(K), [
    {
      k: 'if',
      cond: cmp('<=', add(ivar(q0), int(NR)), int(Q)),
      then: [
        loop(
          j,
          int(NR),
          [{ k: 'astore', name: bp, index: add(mul(ivar(kk), int(NR)), ivar(j)), value: read(ivar(j)) }],
          'simd',
        ),
      ],
      else: [
        loop(j, int(NR), [
          {
            k: 'astore',
            name: bp,
            index: add(mul(ivar(kk), int(NR)), ivar(j)),
            value: select(cmp('<', add(ivar(q0), ivar(j)), int(Q)), read(ivar(j)), f32(0), 'f32'),
          },
        ]),
      ],
    },
  ]);
  const zeroTail =
    Kp > K
      ? [loop(j, int(NR), [{ k: 'astore', name: bp, index: add(int(K * NR), ivar(j)), value: f32(0) }], 'simd')]
      : [];
  // Where column j goes in the output image (h·strideH + w·strideW), or -1 when dropped.
  const pix = add(ivar(q0), ivar(j));
  const hw = outAt(
    new Map([
      [h, ix('/', ivar(q), int(sH))],
      [w, ix('%', ivar(q), int(sH))],
    ]),
  );
  const columns = loop(j, int(NR), [
    { k: 'let', name: q, t: 'i64', value: pix },
    {
      k: 'astore',
      name: dst,
      index: ivar(j),
      value: select(
        cmp('&&', cmp('<', ivar(q), int(Q)), cmp('<', ix('%', ivar(q), int(sH)), int(W))),
        hw,
        int(-1),
        'i64',
      ),
    },
  ]);
  // The kept columns as runs of consecutive output addresses (a row of the image, split
  // where the panel crosses a row end): stored as vector copies, not one element at a time.
  const ia = (name: string, index: KExpr): KExpr => ({ k: 'aload', name, index, t: 'i64' });
  const last = ix('-', ivar(nq), int(1));
  const extends_ = cmp(
    '&&',
    cmp('&&', cmp('>', ivar(nq), int(0)), cmp('==', add(ia(rs, last), ia(rl, last)), ivar(j))),
    cmp('==', add(ia(dst, ix('-', ivar(j), int(1))), int(1)), ia(dst, ivar(j))),
  );
  const runs: KStmt[] = [
    { k: 'set', name: nq, value: int(0) },
    loop(j, int(NR), [
      {
        k: 'if',
        cond: cmp('>=', ia(dst, ivar(j)), int(0)),
        then: [
          {
            k: 'if',
            cond: extends_,
            then: [{ k: 'astore', name: rl, index: last, value: add(ia(rl, last), int(1)) }],
            else: [
              { k: 'astore', name: rs, index: ivar(nq), value: ivar(j) },
              { k: 'astore', name: rl, index: ivar(nq), value: int(1) },
              { k: 'set', name: nq, value: add(ivar(nq), int(1)) },
            ],
          },
        ],
      },
    ]),
  ];
  const oLocal = add(mul(ivar(ot), int(MR)), ivar(i));
  const store = loop(i, ix('min', int(MR), ix('-', int(O), mul(ivar(ot), int(MR)))), [
    { k: 'let', name: row, t: 'i64', value: add(ivar(ob), outAt(unflatten(oLocal, g.n, size))) },
    loop(r, ivar(nq), [
      { k: 'let', name: s0, t: 'i64', value: ia(rs, ivar(r)) },
      { k: 'let', name: sb, t: 'i64', value: ix('-', add(ivar(row), ia(dst, ivar(s0))), ivar(s0)) },
      loop(
        j,
        add(ivar(s0), ia(rl, ivar(r))),
        [
          {
            k: 'store',
            buf: o,
            index: add(ivar(sb), ivar(j)),
            value: { k: 'aload', name: acc, index: add(mul(ivar(i), int(NR)), ivar(j)), t: 'f32' },
          },
        ],
        'simd',
        { lo: ivar(s0) },
      ),
    ]),
  ]);
  const tiles = loop(ot, int(Ot), [
    loop(i, int(MR * NR), [{ k: 'astore', name: acc, index: ivar(i), value: f32(0) }], 'simd'),
    { k: 'mma', acc, a: wp, aOffset: mul(ivar(ot), int(Kp * MR)), b: bp, bOffset: int(0), kc: int(Kp), mr: MR, nr: NR },
    store,
  ]);
  const leadEnv = unflatten(ivar(img), lead, size);
  const image = loop(
    img,
    hi,
    [
      { k: 'let', name: xb, t: 'i64', value: xAt(leadEnv) },
      { k: 'let', name: ob, t: 'i64', value: outAt(leadEnv) },
      loop(qb, int(NQ), [
        { k: 'let', name: q0, t: 'i64', value: mul(ivar(qb), int(NR)) },
        packB,
        ...zeroTail,
        columns,
        ...runs,
        tiles,
      ]),
    ],
    'serial',
    { lo },
  );
  const work = mul(mul(NI, int(Q)), int(O * K));
  return [
    kb.parallel(
      chunk,
      P,
      [
        kb.scratch(wp, 'f32', Ot * Kp * MR),
        kb.scratch(ko, 'i64', K),
        kb.scratch(bp, 'f32', Kp * NR),
        { k: 'array', name: acc, t: 'f32', size: MR * NR, space: 'local' },
        { k: 'array', name: dst, t: 'i64', size: NR, space: 'local' },
        { k: 'array', name: rs, t: 'i64', size: NR, space: 'local' },
        { k: 'array', name: rl, t: 'i64', size: NR, space: 'local' },
        { k: 'let', name: nq, t: 'i64', value: int(0) },
        packW,
        offsets,
        image,
      ],
      work,
    ),
  ];
}
