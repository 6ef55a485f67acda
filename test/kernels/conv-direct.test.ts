// Direct convolutions (src/kernels/conv-direct.ts: output channels × pixels along the padded
// rows, no im2col) against the reference interpreter: channel counts that are not a multiple
// of the 8-channel tile, odd k (in_ch·K²), a partial last pixel panel, dilation, rectangular
// kernels and a symbolic batch; and the shapes that keep the packed GEMM (stride 2, groups,
// too many dropped columns). Then the direct weight gradients (src/kernels/conv-wgrad.ts: dy
// and x transposed once per image, one mma per window offset and channel tiles): channel
// counts that are not a multiple of the tiles, dilation, a rectangular kernel, more images
// than chunks; and the shapes that keep the packed GEMM (stride 2, a 7×7 image, one channel).

import { beforeAll, describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import { dimSym } from '../../src/ir/dims.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import type { KStmt } from '../../src/ir/kernel.js';
import { CBatch, MODEL_TOL, type Tol, assertClean, runAndCompare } from './c-harness.js';

const N = dimSym('N');

interface Conv {
  readonly c: number;
  readonly o: number;
  readonly h: number;
  readonly w: number;
  readonly kh: number;
  readonly kw: number;
  readonly pad: readonly [number, number];
  readonly stride?: number;
  readonly dilation?: number;
  readonly groups?: number;
}

/** The input x and its window x_pad[n, c, h·s + i·d, w·s + j·d]: [N, c, ho, wo, kh, kw]. */
function windowed(b: Builder, p: Conv): Node {
  const [s, d] = [p.stride ?? 1, p.dilation ?? 1];
  const x = b.input('x', 'f32', [N, p.c, p.h, p.w]);
  const xp = b.pad(x, [
    [0, 0],
    [0, 0],
    [p.pad[0], p.pad[0]],
    [p.pad[1], p.pad[1]],
  ]);
  return b.window(xp, [2, 3], [p.kh, p.kw], [s, s], [d, d]);
}

/** y[n, o, h, w] = Σ x_pad[n, c, h·s + i·d, w·s + j·d] · w[o, c, i, j], NCHW as std/conv.fm writes it. */
function conv(p: Conv): Graph {
  const g = p.groups ?? 1;
  const b = new Builder();
  const xw = windowed(b, p);
  const w = b.input('w', 'f32', [p.o, p.c / g, p.kh, p.kw]);
  const [, , ho, wo] = xw.type.shape;
  const xg = b.reshape(xw, [N, g, p.c / g, ho!, wo!, p.kh, p.kw]);
  const wg = b.reshape(w, [g, p.o / g, p.c / g, p.kh, p.kw]);
  const y = b.einsum('ngchwij,gocij->ngohw', xg, wg);
  return b.graph('forward', { y: b.reshape(y, [N, p.o, ho!, wo!]) });
}

/** dw[o, c, i, j] = Σ x_pad[n, c, h·s + i·d, w·s + j·d] · dy[n, o, h, w], window first as autodiff writes it. */
function weightGrad(p: Conv): Graph {
  const b = new Builder();
  const xw = windowed(b, p);
  const [, , ho, wo] = xw.type.shape;
  const dy = b.input('dy', 'f32', [N, p.o, ho!, wo!]);
  return b.graph('wgrad', { dw: b.einsum('nchwij,nohw->ocij', xw, dy) });
}

interface Case {
  readonly name: string;
  readonly graph: Graph;
  /** The direct kernel's array that must (or must not) be there: conv-direct.ts's dst, conv-wgrad.ts's dt. */
  readonly marker: 'dst' | 'dt';
  readonly direct: boolean;
  readonly tol?: Tol;
}

/** A weight-gradient case: sums of N·H·W products (up to 9,000), the model tolerance as the packed GEMM needs too. */
const wgrad = (name: string, p: Conv, direct: boolean): Case => ({
  name,
  graph: weightGrad(p),
  marker: 'dt',
  direct,
  tol: MODEL_TOL,
});

const CASES: Case[] = [
  {
    name: '5 → 16 channels, 6×20, k 45, a partial last panel',
    graph: conv({ c: 5, o: 16, h: 6, w: 20, kh: 3, kw: 3, pad: [1, 1] }),
    marker: 'dst',
    direct: true,
  },
  {
    name: '3 → 15 channels, 28×28 (a channel tile half empty)',
    graph: conv({ c: 3, o: 15, h: 28, w: 28, kh: 3, kw: 3, pad: [1, 1] }),
    marker: 'dst',
    direct: true,
  },
  {
    name: 'dilation 2, padding 2',
    graph: conv({ c: 4, o: 8, h: 10, w: 24, kh: 3, kw: 3, pad: [2, 2], dilation: 2 }),
    marker: 'dst',
    direct: true,
  },
  {
    name: 'a 1×5 kernel',
    graph: conv({ c: 2, o: 24, h: 5, w: 40, kh: 1, kw: 5, pad: [0, 2] }),
    marker: 'dst',
    direct: true,
  },
  {
    name: 'stride 2 keeps the GEMM',
    graph: conv({ c: 4, o: 16, h: 12, w: 24, kh: 3, kw: 3, pad: [1, 1], stride: 2 }),
    marker: 'dst',
    direct: false,
  },
  {
    name: 'groups keep the GEMM',
    graph: conv({ c: 4, o: 16, h: 6, w: 20, kh: 3, kw: 3, pad: [1, 1], groups: 2 }),
    marker: 'dst',
    direct: false,
  },
  {
    name: 'a 5×5 image keeps the GEMM',
    graph: conv({ c: 4, o: 16, h: 5, w: 5, kh: 3, kw: 3, pad: [1, 1] }),
    marker: 'dst',
    direct: false,
  },

  wgrad('32 → 32 channels, 28×28', { c: 32, o: 32, h: 28, w: 28, kh: 3, kw: 3, pad: [1, 1] }, true),
  wgrad(
    '31 → 15 channels, 12×20 (partial channel tiles)',
    { c: 31, o: 15, h: 12, w: 20, kh: 3, kw: 3, pad: [1, 1] },
    true,
  ),
  wgrad(
    '64 → 40 channels (two input-channel tiles, a partial output tile)',
    { c: 64, o: 40, h: 14, w: 14, kh: 3, kw: 3, pad: [1, 1] },
    true,
  ),
  wgrad('dilation 2, padding 2', { c: 32, o: 16, h: 10, w: 24, kh: 3, kw: 3, pad: [2, 2], dilation: 2 }, true),
  wgrad('a 1×5 kernel', { c: 32, o: 8, h: 5, w: 40, kh: 1, kw: 5, pad: [0, 2] }, true),
  wgrad('stride 2 keeps the GEMM', { c: 32, o: 16, h: 12, w: 24, kh: 3, kw: 3, pad: [1, 1], stride: 2 }, false),
  wgrad('a 7×7 image keeps the GEMM', { c: 64, o: 32, h: 7, w: 7, kh: 3, kw: 3, pad: [1, 1] }, false),
  wgrad('one input channel keeps the GEMM', { c: 1, o: 32, h: 28, w: 28, kh: 3, kw: 3, pad: [1, 1] }, false),
];

/** Whether a kernel body holds an array named from `marker`: where each pixel column goes, or the transposed dy. */
const holds = (body: readonly KStmt[], marker: string): boolean =>
  body.some(
    (s) => (s.k === 'array' && new RegExp(`^${marker}_`).test(s.name)) || (s.k === 'for' && holds(s.body, marker)),
  );

describe('direct convolution kernels', () => {
  let batch: CBatch;
  beforeAll(() => {
    batch = CBatch.build(CASES.map((c) => c.graph));
  });
  for (const [i, c] of CASES.entries())
    it(c.name, () => {
      expect(batch.plans[i]!.kernels.some((k) => holds(k.body, c.marker))).toBe(c.direct);
      for (const n of c.marker === 'dt' ? [1, 3, 11] : [1, 3]) {
        const r = runAndCompare(batch, i, { dims: { N: n }, seed: n, ...(c.tol ? { tol: c.tol } : {}) });
        assertClean(c.graph, r.problems, `N=${n}`);
      }
    });
});
