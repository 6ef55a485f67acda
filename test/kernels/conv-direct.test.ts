// Direct convolutions (src/kernels/conv-direct.ts: output channels × pixels along the padded
// rows, no im2col) against the reference interpreter: channel counts that are not a multiple
// of the 8-channel tile, odd k (in_ch·K²), a partial last pixel panel, dilation, rectangular
// kernels and a symbolic batch; and the shapes that keep the packed GEMM (stride 2, groups,
// too many dropped columns).

import { beforeAll, describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import { dimSym } from '../../src/ir/dims.js';
import type { Graph } from '../../src/ir/graph.js';
import type { KStmt } from '../../src/ir/kernel.js';
import { CBatch, assertClean, runAndCompare } from './c-harness.js';

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

/** y[n, o, h, w] = Σ x_pad[n, c, h·s + i·d, w·s + j·d] · w[o, c, i, j], NCHW as std/conv.fm writes it. */
function conv(p: Conv): Graph {
  const [s, d, g] = [p.stride ?? 1, p.dilation ?? 1, p.groups ?? 1];
  const b = new Builder();
  const x = b.input('x', 'f32', [N, p.c, p.h, p.w]);
  const w = b.input('w', 'f32', [p.o, p.c / g, p.kh, p.kw]);
  const xp = b.pad(x, [
    [0, 0],
    [0, 0],
    [p.pad[0], p.pad[0]],
    [p.pad[1], p.pad[1]],
  ]);
  const xw = b.window(xp, [2, 3], [p.kh, p.kw], [s, s], [d, d]);
  const [, , ho, wo] = xw.type.shape;
  const xg = b.reshape(xw, [N, g, p.c / g, ho!, wo!, p.kh, p.kw]);
  const wg = b.reshape(w, [g, p.o / g, p.c / g, p.kh, p.kw]);
  const y = b.einsum('ngchwij,gocij->ngohw', xg, wg);
  return b.graph('forward', { y: b.reshape(y, [N, p.o, ho!, wo!]) });
}

const CASES: { name: string; graph: Graph; direct: boolean }[] = [
  {
    name: '5 → 16 channels, 6×20, k 45, a partial last panel',
    graph: conv({ c: 5, o: 16, h: 6, w: 20, kh: 3, kw: 3, pad: [1, 1] }),
    direct: true,
  },
  {
    name: '3 → 15 channels, 28×28 (a channel tile half empty)',
    graph: conv({ c: 3, o: 15, h: 28, w: 28, kh: 3, kw: 3, pad: [1, 1] }),
    direct: true,
  },
  {
    name: 'dilation 2, padding 2',
    graph: conv({ c: 4, o: 8, h: 10, w: 24, kh: 3, kw: 3, pad: [2, 2], dilation: 2 }),
    direct: true,
  },
  {
    name: 'a 1×5 kernel',
    graph: conv({ c: 2, o: 24, h: 5, w: 40, kh: 1, kw: 5, pad: [0, 2] }),
    direct: true,
  },
  {
    name: 'stride 2 keeps the GEMM',
    graph: conv({ c: 4, o: 16, h: 12, w: 24, kh: 3, kw: 3, pad: [1, 1], stride: 2 }),
    direct: false,
  },
  {
    name: 'groups keep the GEMM',
    graph: conv({ c: 4, o: 16, h: 6, w: 20, kh: 3, kw: 3, pad: [1, 1], groups: 2 }),
    direct: false,
  },
  {
    name: 'a 5×5 image keeps the GEMM',
    graph: conv({ c: 4, o: 16, h: 5, w: 5, kh: 3, kw: 3, pad: [1, 1] }),
    direct: false,
  },
];

/** Whether a kernel body holds conv-direct.ts's table of where each pixel column goes. */
const direct = (body: readonly KStmt[]): boolean =>
  body.some((s) => (s.k === 'array' && s.name.startsWith('dst')) || (s.k === 'for' && direct(s.body)));

describe('direct convolution kernels', () => {
  let batch: CBatch;
  beforeAll(() => {
    batch = CBatch.build(CASES.map((c) => c.graph));
  });
  for (const [i, c] of CASES.entries())
    it(c.name, () => {
      expect(batch.plans[i]!.kernels.some((k) => direct(k.body))).toBe(c.direct);
      for (const n of [1, 3]) {
        const r = runAndCompare(batch, i, { dims: { N: n }, seed: n });
        assertClean(c.graph, r.problems, `N=${n}`);
      }
    });
});
