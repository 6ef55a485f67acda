// Lowering .fm programs to the graph IR: small models lowered by `lowerFile`, evaluated by
// the reference interpreter on hand-chosen inputs and params, and compared with numbers
// worked out by hand. Every lowered graph also verifies and survives print → parse → print.

import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDiagnostic } from '../../src/frontend/diagnostics.js';
import { type Lowered, type LowerOptions, lowerFile } from '../../src/frontend/lower.js';
import { type Host, nodeHost } from '../../src/frontend/program.js';
import { dimToString } from '../../src/ir/dims.js';
import type { Dtype } from '../../src/ir/dtype.js';
import { initParam } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { parseGraph } from '../../src/ir/parse.js';
import { printGraph } from '../../src/ir/print.js';
import { verify } from '../../src/ir/verify.js';
import { type HostTensor, hostTensor } from '../../src/ir/value.js';

const ROOT = path.resolve(__dirname, '../..');
const FILE = path.join(ROOT, 'test', 'frontend', 'lowered.fm');

function lower(src: string, options: LowerOptions = {}): Lowered {
  const host: Host = {
    read: (p) => (p === FILE ? new TextEncoder().encode(src) : nodeHost.read(p)),
    display: (p) => path.relative(ROOT, p),
  };
  const r = lowerFile(FILE, options, host);
  if (!r.ok) throw new Error(r.diagnostics.map((d) => renderDiagnostic(d, (f) => r.program.source(f))).join('\n\n'));
  const g = r.lowered.graph;
  verify(g);
  const text = printGraph(g);
  expect(printGraph(parseGraph(text))).toBe(text);
  return r.lowered;
}

type Tensors = Record<string, HostTensor>;
const t = (dtype: Dtype, shape: number[], data: readonly number[]): HostTensor => hostTensor(dtype, shape, data);
const f32 = (shape: number[], data: readonly number[]) => t('f32', shape, data);
const i32 = (shape: number[], data: readonly number[]) => t('i32', shape, data);
/** 0, 1, 2, ... as an f32 tensor of `shape`. */
const range = (shape: number[]) => f32(shape, [...Array(shape.reduce((a, b) => a * b, 1)).keys()]);

interface Run {
  readonly lowered: Lowered;
  readonly out: Map<string, HostTensor>;
  readonly updates: Map<string, HostTensor>;
}

function run(src: string, inputs: Tensors, params: Tensors = {}, options: LowerOptions = {}): Run {
  const lowered = lower(src, options);
  const { outputs, updates } = evaluate(lowered.graph, {
    inputs: new Map(Object.entries(inputs)),
    params: new Map(Object.entries(params)),
    dims: new Map(),
  });
  return { lowered, out: outputs, updates };
}

/** Asserts dtype, shape and values (floats to 1e-6 relative). */
function expectTensor(x: HostTensor | undefined, dtype: Dtype, shape: number[], data: readonly number[]): void {
  expect(x, 'missing tensor').toBeDefined();
  expect(x!.dtype).toBe(dtype);
  expect(x!.shape).toEqual(shape);
  const got = [...x!.data];
  expect(got.length).toBe(data.length);
  got.forEach((v, i) => {
    const want = data[i]!;
    if (Number.isNaN(want)) expect(v).toBeNaN();
    else if (!Number.isFinite(want) || Number.isInteger(want)) expect(v, `element ${i}`).toBe(want);
    else expect(Math.abs(v - want), `element ${i}: ${v} vs ${want}`).toBeLessThanOrEqual(1e-6 * Math.abs(want));
  });
}

/** The (only) output of a run. */
const only = (r: Run): HostTensor => {
  expect(r.out.size).toBe(1);
  return [...r.out.values()][0]!;
};

describe('arithmetic', () => {
  it('weak int and float scalars on either side take the tensor dtype', () => {
    const src = `
      model M {
        fn forward(x: f32[2], n: i32[2]) -> (a: f32[2], b: f32[2], c: i32[2], d: i32[2], e: i32[2], f: f32[2], g: f32[2], h: bool[2]) {
          return (x * 2 + 1, 1.5 - x, n * 3 - 1, 10 / n, 7 % n, 2.0 ** x, -x / 4, 0 < x)
        }
      }`;
    const r = run(src, { x: f32([2], [1, -2]), n: i32([2], [3, -4]) });
    expect([...r.out.keys()]).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    expectTensor(r.out.get('a'), 'f32', [2], [3, -3]);
    expectTensor(r.out.get('b'), 'f32', [2], [0.5, 3.5]);
    expectTensor(r.out.get('c'), 'i32', [2], [8, -13]);
    expectTensor(r.out.get('d'), 'i32', [2], [3, -2]); // truncates toward zero
    expectTensor(r.out.get('e'), 'i32', [2], [1, 3]); // sign of the dividend
    expectTensor(r.out.get('f'), 'f32', [2], [2, 0.25]);
    expectTensor(r.out.get('g'), 'f32', [2], [-0.25, 0.5]);
    expectTensor(r.out.get('h'), 'bool', [2], [1, 0]);
  });

  it('compile-time arithmetic folds before it meets a tensor', () => {
    const src = `
      const K = 3
      model M(scale = 0.5, n = 4) {
        fn forward(x: f32[B, 2]) -> f32[B, 2] {
          return x * (scale * n) + (K - 1) + x * sqrt(4.0)
        }
      }`;
    // x·2 + 2 + x·2
    expectTensor(only(run(src, { x: f32([1, 2], [1, -1]) })), 'f32', [1, 2], [6, -2]);
  });

  it('broadcasts tensors of different ranks', () => {
    const src = `
      model M {
        fn forward(x: f32[2, 1], y: f32[3]) -> f32[2, 3] { return x - y }
      }`;
    expectTensor(
      only(run(src, { x: f32([2, 1], [10, 20]), y: f32([3], [1, 2, 3]) })),
      'f32',
      [2, 3],
      [9, 8, 7, 19, 18, 17],
    );
  });
});

describe('contractions', () => {
  it('`@` broadcasts batch dims and mixes ranks 2 and 3', () => {
    const src = `
      model M {
        param w: f32[1, 2, 3]
        param m: f32[2, 2]
        fn forward(a: f32[2, 1, 2], b: f32[2, 2, 2], v: f32[1, 2])
            -> (batched: f32[2, 1, 3], left: f32[2, 1, 2], right: f32[2, 1, 2]) {
          return (a @ w, v @ b, a @ m)
        }
      }`;
    const r = run(
      src,
      { a: f32([2, 1, 2], [1, 2, 3, 4]), b: f32([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]), v: f32([1, 2], [1, 1]) },
      { w: f32([1, 2, 3], [1, 0, 1, 0, 1, 1]), m: f32([2, 2], [1, 2, 3, 4]) },
    );
    // [1 2]·[[1 0 1] [0 1 1]] = [1 2 3]; [3 4]· = [3 4 7]
    expectTensor(r.out.get('batched'), 'f32', [2, 1, 3], [1, 2, 3, 3, 4, 7]);
    // [1 1]·[[1 2] [3 4]] = [4 6]; [1 1]·[[5 6] [7 8]] = [12 14]
    expectTensor(r.out.get('left'), 'f32', [2, 1, 2], [4, 6, 12, 14]);
    // [1 2]·[[1 2] [3 4]] = [7 10]; [3 4]· = [15 22]
    expectTensor(r.out.get('right'), 'f32', [2, 1, 2], [7, 10, 15, 22]);
  });

  it('`@` with symbolic batch dims', () => {
    const src = `
      model M {
        fn forward(a: f32[B, 1, 2], b: f32[2, 1]) -> f32[B, 1, 1] { return a @ b }
      }`;
    expectTensor(
      only(run(src, { a: f32([3, 1, 2], [1, 2, 3, 4, 5, 6]), b: f32([2, 1], [1, -1]) })),
      'f32',
      [3, 1, 1],
      [-1, -1, -1],
    );
  });

  it('einsum with `...` on one operand, both, and none in the output', () => {
    const src = `
      model M {
        param w: f32[3, 2]
        fn forward(x: f32[B, 2], a: f32[2, 1, 2], b: f32[1, 2, 1], p: f32[2, 3], q: f32[3], s: f32[2, 2, 3])
            -> (lin: f32[B, 3], bmm: f32[2, 1, 1], dot: f32[2], summed: f32[2]) {
          return (
            einsum("...i,oi->...o", x, w),
            einsum("...ij,...jk->...ik", a, b),
            einsum("...i,...i->...", p, q),
            einsum("i...->i", s)
          )
        }
      }`;
    const r = run(
      src,
      {
        x: f32([2, 2], [1, 2, 3, 4]),
        a: f32([2, 1, 2], [1, 2, 3, 4]),
        b: f32([1, 2, 1], [5, 6]),
        p: f32([2, 3], [1, 2, 3, 4, 5, 6]),
        q: f32([3], [1, 0, -1]),
        s: range([2, 2, 3]),
      },
      { w: f32([3, 2], [1, 0, 0, 1, 1, 1]) },
    );
    expectTensor(r.out.get('lin'), 'f32', [2, 3], [1, 2, 3, 3, 4, 7]);
    // b's `...` is [1]: it broadcasts against a's [2]. [1 2]·[5 6]ᵀ = 17, [3 4]· = 39
    expectTensor(r.out.get('bmm'), 'f32', [2, 1, 1], [17, 39]);
    // q has an empty `...`: [1 2 3]·[1 0 -1] = -2, [4 5 6]· = -2
    expectTensor(r.out.get('dot'), 'f32', [2], [-2, -2]);
    // 0 + ... + 5 = 15, 6 + ... + 11 = 51
    expectTensor(r.out.get('summed'), 'f32', [2], [15, 51]);
  });

  it('einsum transposes and keeps symbolic `...`', () => {
    const src = `
      model M {
        fn forward(x: f32[B, T, 2]) -> (tr: f32[B, 2, T], outer: f32[B, T, 2, 2]) {
          return (einsum("btc->bct", x), einsum("...i,...j->...ij", x, x))
        }
      }`;
    const r = run(src, { x: f32([1, 2, 2], [1, 2, 3, 4]) });
    expectTensor(r.out.get('tr'), 'f32', [1, 2, 2], [1, 3, 2, 4]);
    expectTensor(r.out.get('outer'), 'f32', [1, 2, 2, 2], [1, 2, 2, 4, 9, 12, 12, 16]);
  });

  it('einsum with a letter repeated in one operand takes the diagonal', () => {
    // The IR's einsum has no repeated letters: the lowering masks the diagonal instead.
    const src = `
      model M {
        fn forward(m: f32[2, 2], x: f32[B, N, N], v: f32[N])
            -> (diag: f32[2], trace: f32[], bdiag: f32[B, N], mixed: f32[B]) {
          return (einsum("ii->i", m), einsum("ii->", m), einsum("bii->bi", x), einsum("bii,i->b", x, v))
        }
      }`;
    const r = run(src, {
      m: f32([2, 2], [1, Infinity, NaN, 4]), // off the diagonal: neither inf nor NaN leaks in
      x: range([2, 2, 2]),
      v: f32([2], [1, 10]),
    });
    expectTensor(r.out.get('diag'), 'f32', [2], [1, 4]);
    expectTensor(r.out.get('trace'), 'f32', [], [5]);
    expectTensor(r.out.get('bdiag'), 'f32', [2, 2], [0, 3, 4, 7]);
    expectTensor(r.out.get('mixed'), 'f32', [2], [30, 74]);
  });

  it('einsum diagonals under `...` and a letter three times', () => {
    const src = `
      model M {
        fn forward(x: f32[B, 2, 2], c: f32[2, 2, 2]) -> (d: f32[B, 2], e: f32[2]) {
          return (einsum("...ii->...i", x), einsum("iii->i", c))
        }
      }`;
    const r = run(src, { x: range([2, 2, 2]), c: range([2, 2, 2]) });
    expectTensor(r.out.get('d'), 'f32', [2, 2], [0, 3, 4, 7]);
    expectTensor(r.out.get('e'), 'f32', [2], [0, 7]);
  });
});

describe('rearrange', () => {
  it('splits and merges groups, with and without `...`', () => {
    const src = `
      model M {
        fn forward(x: f32[1, 6], y: f32[2, 1, 4], z: f32[B, T, 2])
            -> (split: f32[1, 3, 2], ell: f32[2, 1, 2, 2], merged: f32[T, 2 * B], t: f32[6, 1]) {
          return (
            rearrange(x, "b (h d) -> b d h", h = 2),
            rearrange(y, "... (h d) -> ... d h", d = 2),
            rearrange(z, "b t c -> t (c b)"),
            rearrange(x, "a b -> b a")
          )
        }
      }`;
    const r = run(src, { x: range([1, 6]), y: range([2, 1, 4]), z: range([2, 2, 2]) });
    // out[0, d, h] = x[0, 3h + d]
    expectTensor(r.out.get('split'), 'f32', [1, 3, 2], [0, 3, 1, 4, 2, 5]);
    // out[r, 0, d, h] = y[r, 0, 2h + d]
    expectTensor(r.out.get('ell'), 'f32', [2, 1, 2, 2], [0, 2, 1, 3, 4, 6, 5, 7]);
    // out[t, c·B + b] = z[b, t, c]: z[b,t,c] = 4b + 2t + c
    expectTensor(r.out.get('merged'), 'f32', [2, 4], [0, 4, 1, 5, 2, 6, 3, 7]);
    expectTensor(r.out.get('t'), 'f32', [6, 1], [0, 1, 2, 3, 4, 5]);
  });

  it('moves `...` between named axes', () => {
    const src = `
      model M {
        fn forward(w: f32[2, 2, 3]) -> (a: f32[3, 2, 2], b: f32[6, 2]) {
          return (rearrange(w, "a ... c -> c ... a"), rearrange(w, "a ... c -> (c a) ..."))
        }
      }`;
    const r = run(src, { w: range([2, 2, 3]) });
    // w[a, m, c] = 6a + 3m + c
    expectTensor(r.out.get('a'), 'f32', [3, 2, 2], [0, 6, 3, 9, 1, 7, 4, 10, 2, 8, 5, 11]);
    expectTensor(r.out.get('b'), 'f32', [6, 2], [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]);
  });

  it('handles `1` axes and a pattern of one group on a symbolic dim', () => {
    const src = `
      model M {
        fn forward(x: f32[B, 1, 4]) -> (a: f32[B, 4], b: f32[B, 2, 2, 1]) {
          return (rearrange(x, "b 1 c -> b c"), rearrange(x, "b 1 (p q) -> b q p 1", p = 2))
        }
      }`;
    const r = run(src, { x: range([1, 1, 4]) });
    expectTensor(r.out.get('a'), 'f32', [1, 4], [0, 1, 2, 3]);
    // out[0, q, p, 0] = x[0, 0, 2p + q]
    expectTensor(r.out.get('b'), 'f32', [1, 2, 2, 1], [0, 2, 1, 3]);
  });
});

describe('indexing', () => {
  it('integer, negative, sliced, strided and `...` indices', () => {
    const src = `
      model M {
        fn forward(x: f32[3, 4]) -> (
          row: f32[4], last: f32[4], col: f32[3], tail: f32[2, 2], strided: f32[2, 2],
          ell: f32[3], ell2: f32[3, 2], neg: f32[1, 4], clamp: f32[3, 3], both: f32[], some: f32[2, 4]
        ) {
          return (x[1], x[-1], x[:, -1], x[-2:, 1:-1], x[::2, ::3], x[..., 1], x[..., 1:3], x[-3:-1:2],
                  x[:, 1:10], x[-1, -2], x[1:])
        }
      }`;
    const r = run(src, { x: range([3, 4]) });
    expectTensor(r.out.get('row'), 'f32', [4], [4, 5, 6, 7]);
    expectTensor(r.out.get('last'), 'f32', [4], [8, 9, 10, 11]);
    expectTensor(r.out.get('col'), 'f32', [3], [3, 7, 11]);
    expectTensor(r.out.get('tail'), 'f32', [2, 2], [5, 6, 9, 10]);
    expectTensor(r.out.get('strided'), 'f32', [2, 2], [0, 3, 8, 11]);
    expectTensor(r.out.get('ell'), 'f32', [3], [1, 5, 9]);
    expectTensor(r.out.get('ell2'), 'f32', [3, 2], [1, 2, 5, 6, 9, 10]);
    expectTensor(r.out.get('neg'), 'f32', [1, 4], [0, 1, 2, 3]);
    expectTensor(r.out.get('clamp'), 'f32', [3, 3], [1, 2, 3, 5, 6, 7, 9, 10, 11]);
    expectTensor(r.out.get('both'), 'f32', [], [10]);
    expectTensor(r.out.get('some'), 'f32', [2, 4], [4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('indices on symbolic dims', () => {
    const src = `
      model M {
        fn forward(x: f32[B, T]) -> (last: f32[B], rest: f32[B, T - 1], even: f32[B, floordiv(T + 1, 2)], mid: f32[B, T - 2]) {
          return (x[:, -1], x[:, 1:], x[:, ::2], x[..., 1:-1])
        }
      }`;
    const r = run(src, { x: range([2, 5]) });
    expectTensor(r.out.get('last'), 'f32', [2], [4, 9]);
    expectTensor(r.out.get('rest'), 'f32', [2, 4], [1, 2, 3, 4, 6, 7, 8, 9]);
    expectTensor(r.out.get('even'), 'f32', [2, 3], [0, 2, 4, 5, 7, 9]);
    expectTensor(r.out.get('mid'), 'f32', [2, 3], [1, 2, 3, 6, 7, 8]);
  });

  it('tuples and lists index at compile time', () => {
    const src = `
      model M {
        fn forward(x: f32[2]) -> f32[2] {
          let pair = (x * 2, x + 1)
          return pair[1] * [3, 4][-1]
        }
      }`;
    expectTensor(only(run(src, { x: f32([2], [1, 2]) })), 'f32', [2], [8, 12]);
  });
});

describe('elementwise builtins', () => {
  it('where with scalar branches, tensor branches and a mix', () => {
    const src = `
      model M {
        fn forward(x: f32[4], n: i32[4], y: f32[2, 1])
            -> (sign: f32[4], ints: i32[4], relu: f32[4], mixed: f32[2, 4], bools: bool[4], intmix: i32[4]) {
          let pos = x > 0.0
          return (where(pos, 1.0, -1), where(pos, 1, 0), where(pos, x, 0), where(pos, y, x),
                  where(pos, true, false), where(n > 1, n, -1))
        }
      }`;
    const r = run(src, { x: f32([4], [-1, 2, 0, 3]), n: i32([4], [1, 2, 3, 0]), y: f32([2, 1], [10, 20]) });
    expectTensor(r.out.get('sign'), 'f32', [4], [-1, 1, -1, 1]);
    expectTensor(r.out.get('ints'), 'i32', [4], [0, 1, 0, 1]);
    expectTensor(r.out.get('relu'), 'f32', [4], [0, 2, 0, 3]);
    expectTensor(r.out.get('mixed'), 'f32', [2, 4], [-1, 10, 0, 10, -1, 20, 0, 20]);
    expectTensor(r.out.get('bools'), 'bool', [4], [0, 1, 0, 1]);
    expectTensor(r.out.get('intmix'), 'i32', [4], [-1, 2, 3, -1]);
  });

  it('maximum and minimum with scalars and broadcasting', () => {
    const src = `
      model M {
        fn forward(x: f32[2, 2], y: f32[2], n: i32[3]) -> (a: f32[2, 2], b: f32[2, 2], c: f32[2, 2], d: i32[3]) {
          return (maximum(x, 0.0), minimum(x, y), maximum(1, x), minimum(n, 2))
        }
      }`;
    const r = run(src, { x: f32([2, 2], [-1, 2, 3, -4]), y: f32([2], [0, 1]), n: i32([3], [1, 2, 3]) });
    expectTensor(r.out.get('a'), 'f32', [2, 2], [0, 2, 3, 0]);
    expectTensor(r.out.get('b'), 'f32', [2, 2], [-1, 1, 0, -4]);
    expectTensor(r.out.get('c'), 'f32', [2, 2], [1, 2, 3, 1]);
    expectTensor(r.out.get('d'), 'i32', [3], [1, 2, 2]);
  });

  it('unary math on tensors', () => {
    const src = `
      model M {
        fn forward(x: f32[3], n: i32[2]) -> (a: f32[3], b: f32[3], c: i32[2], d: f32[3]) {
          return (abs(x), floor(x), abs(n), sqrt(x * x) - rsqrt(recip(x * x)))
        }
      }`;
    const r = run(src, { x: f32([3], [-1.5, 2, 0.25]), n: i32([2], [-3, 4]) });
    expectTensor(r.out.get('a'), 'f32', [3], [1.5, 2, 0.25]);
    expectTensor(r.out.get('b'), 'f32', [3], [-2, 2, 0]);
    expectTensor(r.out.get('c'), 'i32', [2], [3, 4]);
    expectTensor(r.out.get('d'), 'f32', [3], [0, 0, 0]);
  });
});

describe('reductions', () => {
  it('sum and max with keepdim, negative axes, axis lists and all axes', () => {
    const src = `
      model M {
        fn forward(x: f32[2, 3]) -> (a: f32[2, 1], b: f32[3], c: f32[], d: f32[1, 1], e: f32[2], f: f32[]) {
          return (sum(x, -1, keepdim = true), max(x, 0), sum(x), max(x, [0, -1], keepdim = true), max(x, -1),
                  sum(x, [-1, 0]))
        }
      }`;
    const r = run(src, { x: f32([2, 3], [1, 5, -2, 4, 0, 3]) });
    expectTensor(r.out.get('a'), 'f32', [2, 1], [4, 7]);
    expectTensor(r.out.get('b'), 'f32', [3], [4, 5, 3]);
    expectTensor(r.out.get('c'), 'f32', [], [11]);
    expectTensor(r.out.get('d'), 'f32', [1, 1], [5]);
    expectTensor(r.out.get('e'), 'f32', [2], [5, 4]);
    expectTensor(r.out.get('f'), 'f32', [], [11]);
  });

  it('mean and softmax from std/math on a symbolic axis', () => {
    const src = `
      import { mean, softmax, var } from "std/math"
      model M {
        fn forward(x: f32[B, T]) -> (m: f32[B], k: f32[B, 1], v: f32[B], s: f32[B, T], c: f32[T]) {
          return (mean(x), mean(x, -1, keepdim = true), var(x, correction = 1), softmax(x), mean(x, 0))
        }
      }`;
    const r = run(src, { x: f32([2, 2], [0, 1, 3, 5]) });
    expectTensor(r.out.get('m'), 'f32', [2], [0.5, 4]);
    expectTensor(r.out.get('k'), 'f32', [2, 1], [0.5, 4]);
    // (0.25 + 0.25) / 1, (1 + 1) / 1
    expectTensor(r.out.get('v'), 'f32', [2], [0.5, 2]);
    // softmax([0, 1]) = [1/(1 + e), e/(1 + e)]; softmax([3, 5]) = [1/(1 + e²), e²/(1 + e²)]
    expectTensor(
      r.out.get('s'),
      'f32',
      [2, 2],
      [0.2689414213699951, 0.7310585786300049, 0.11920292202211755, 0.8807970779778823],
    );
    expectTensor(r.out.get('c'), 'f32', [2], [1.5, 3]);
    // The symbolic size T is a `dim` node.
    expect(printGraph(r.lowered.graph)).toMatch(/= dim \{value: T\} : f32\[\]/);
  });
});

describe('more of std/math', () => {
  it('cumsum, one_hot, logsumexp and masked_softmax over a symbolic T', () => {
    const src = `
      import { cumsum, logsumexp, masked_softmax, one_hot } from "std/math"
      model M {
        fn forward(x: f32[B, T], idx: i32[B], mask: bool[B, T]) -> (c: f32[B, T], o: f32[B, T], l: f32[B], m: f32[B, T]) {
          return (cumsum(x), one_hot(idx, T), logsumexp(x), masked_softmax(x, mask))
        }
      }`;
    const r = run(src, {
      x: f32([2, 3], [1, 2, 3, 0, 0, 5]),
      idx: i32([2], [2, 7]),
      mask: t('bool', [2, 3], [1, 1, 0, 0, 0, 0]),
    });
    expectTensor(r.out.get('c'), 'f32', [2, 3], [1, 3, 6, 0, 0, 5]);
    expectTensor(r.out.get('o'), 'f32', [2, 3], [0, 0, 1, 0, 0, 0]); // 7 is outside [0, 3)
    // log(e + e² + e³) = 3 + log(1 + e⁻¹ + e⁻²); log(2 + e⁵) = 5 + log(1 + 2e⁻⁵)
    expectTensor(r.out.get('l'), 'f32', [2], [3.40760596444438, 5.013385901721449]);
    // softmax([1, 2]) then 0; a row with nothing unmasked is all zeros
    expectTensor(r.out.get('m'), 'f32', [2, 3], [0.2689414213699951, 0.7310585786300049, 0, 0, 0, 0]);
  });
});

describe('shape builtins', () => {
  it('reshape with -1, permute and expand', () => {
    const src = `
      model M {
        fn forward(x: f32[B, 4]) -> (a: f32[2 * B, 2], b: f32[B, 2, 2], c: f32[4, B], d: f32[3, B, 4]) {
          return (reshape(x, [-1, 2]), reshape(x, [B, -1, 2]), permute(x, [1, 0]), expand(x, [3, B, 4]))
        }
      }`;
    const r = run(src, { x: range([2, 4]) });
    expectTensor(r.out.get('a'), 'f32', [4, 2], [0, 1, 2, 3, 4, 5, 6, 7]);
    expectTensor(r.out.get('b'), 'f32', [2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7]);
    expectTensor(r.out.get('c'), 'f32', [4, 2], [0, 4, 1, 5, 2, 6, 3, 7]);
    expectTensor(
      r.out.get('d'),
      'f32',
      [3, 2, 4],
      [...Array(3)].flatMap(() => [0, 1, 2, 3, 4, 5, 6, 7]),
    );
  });

  it('pad with a value, on the leading axes only, and cropping', () => {
    const src = `
      model M {
        fn forward(x: f32[2, 2], y: f32[B, 3]) -> (a: f32[3, 4], b: f32[B + 1, 3], c: f32[B, 3], d: f32[2, 2]) {
          return (pad(x, [[1, 0], [0, 2]], value = 9), pad(y, [[0, 1]]), pad(y, [[0, 0], [-1, 1]], value = -1.5),
                  pad(x, [[-1, 1]]))
        }
      }`;
    const r = run(src, { x: f32([2, 2], [1, 2, 3, 4]), y: f32([1, 3], [1, 2, 3]) });
    expectTensor(r.out.get('a'), 'f32', [3, 4], [9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9]);
    expectTensor(r.out.get('b'), 'f32', [2, 3], [1, 2, 3, 0, 0, 0]);
    expectTensor(r.out.get('c'), 'f32', [1, 3], [2, 3, -1.5]);
    expectTensor(r.out.get('d'), 'f32', [2, 2], [3, 4, 0, 0]);
  });

  it('window with stride and dilation', () => {
    const src = `
      model M {
        fn forward(x: f32[1, 5], y: f32[B, T]) -> (a: f32[1, 2, 2], b: f32[1, 3, 2], c: f32[B, T - 1, 2]) {
          return (window(x, [1], 2, stride = 2), window(x, -1, [2], dilation = 2), window(y, [1], [2]))
        }
      }`;
    const r = run(src, { x: range([1, 5]), y: range([1, 3]) });
    expectTensor(r.out.get('a'), 'f32', [1, 2, 2], [0, 1, 2, 3]);
    expectTensor(r.out.get('b'), 'f32', [1, 3, 2], [0, 2, 1, 3, 2, 4]);
    expectTensor(r.out.get('c'), 'f32', [1, 2, 2], [0, 1, 1, 2]);
  });

  it('window over two axes', () => {
    const src = `
      model M {
        fn forward(x: f32[3, 3]) -> f32[2, 2, 2, 2] { return window(x, [0, 1], 2) }
      }`;
    // out[i, j, k, l] = x[i + k, j + l]
    expectTensor(
      only(run(src, { x: range([3, 3]) })),
      'f32',
      [2, 2, 2, 2],
      [0, 1, 3, 4, 1, 2, 4, 5, 3, 4, 6, 7, 4, 5, 7, 8],
    );
  });

  it('concat on symbolic and negative axes', () => {
    const src = `
      model M {
        fn forward(x: f32[B, 2], y: f32[B, 1], z: f32[T, 2]) -> (a: f32[B, 3], b: f32[B + T + B, 2]) {
          return (concat([x, y], axis = -1), concat([x, z, x]))
        }
      }`;
    const r = run(src, { x: f32([1, 2], [1, 2]), y: f32([1, 1], [3]), z: f32([2, 2], [4, 5, 6, 7]) });
    expectTensor(r.out.get('a'), 'f32', [1, 3], [1, 2, 3]);
    expectTensor(r.out.get('b'), 'f32', [4, 2], [1, 2, 4, 5, 6, 7, 1, 2]);
  });

  it('gather and scatter_add on axis 0 and 1, clamping and dropping out-of-range indices', () => {
    const src = `
      model M {
        fn forward(t: f32[3, 2], idx: i32[2], col: i32[1, 1], src: f32[2, 2], v: f32[3])
            -> (rows: f32[2, 2], cols: f32[3, 1, 1], added: f32[3, 2], ones: f32[3]) {
          return (gather(t, idx), gather(t, col, axis = 1), scatter_add(t, idx, src),
                  scatter_add(v, iota([4], 0) - 1, full([4], 1.0)))
        }
      }`;
    const r = run(src, {
      t: f32([3, 2], [1, 2, 3, 4, 5, 6]),
      idx: i32([2], [2, 7]),
      col: i32([1, 1], [1]),
      src: f32([2, 2], [10, 20, 30, 40]),
      v: f32([3], [0, 0, 0]),
    });
    // 7 is clamped to row 2
    expectTensor(r.out.get('rows'), 'f32', [2, 2], [5, 6, 5, 6]);
    expectTensor(r.out.get('cols'), 'f32', [3, 1, 1], [2, 4, 6]);
    // row 2 += [10, 20]; index 7 is dropped
    expectTensor(r.out.get('added'), 'f32', [3, 2], [1, 2, 3, 4, 15, 26]);
    // indices -1, 0, 1, 2: -1 is dropped
    expectTensor(r.out.get('ones'), 'f32', [3], [1, 1, 1]);
  });

  it('cast between floats, ints and bool', () => {
    const src = `
      model M {
        fn forward(x: f32[4], n: i32[2]) -> (a: i32[4], b: f32[2], c: bool[4], d: i8[2], e: f16[4]) {
          return (cast(x, i32), cast(n, f32) / 2, cast(x, bool), cast(n * 100, i8), cast(x, f16))
        }
      }`;
    const r = run(src, { x: f32([4], [1.75, -1.75, 0, 3]), n: i32([2], [3, 2]) });
    expectTensor(r.out.get('a'), 'i32', [4], [1, -1, 0, 3]);
    expectTensor(r.out.get('b'), 'f32', [2], [1.5, 1]);
    expectTensor(r.out.get('c'), 'bool', [4], [1, 1, 0, 1]);
    expectTensor(r.out.get('d'), 'i8', [2], [44, -56]); // 300 - 256, 200 - 256
    expectTensor(r.out.get('e'), 'f16', [4], [1.75, -1.75, 0, 3]);
  });

  it('iota and full, with symbolic shapes and dtypes', () => {
    const src = `
      model M {
        fn forward(x: f32[B, T]) -> (a: i32[2, 3], b: f32[T], c: f32[B, T], d: i32[B, 2], e: bool[2]) {
          return (iota([2, 3], 1), iota([T], 0, dtype = f32), x + full([B, T], 0.5), full([B, 2], 7, dtype = i32),
                  full([2], true))
        }
      }`;
    const r = run(src, { x: f32([1, 3], [1, 2, 3]) });
    expectTensor(r.out.get('a'), 'i32', [2, 3], [0, 1, 2, 0, 1, 2]);
    expectTensor(r.out.get('b'), 'f32', [3], [0, 1, 2]);
    expectTensor(r.out.get('c'), 'f32', [1, 3], [1.5, 2.5, 3.5]);
    expectTensor(r.out.get('d'), 'i32', [1, 2], [7, 7]);
    expectTensor(r.out.get('e'), 'bool', [2], [1, 1]);
  });

  it('topk values and indices by tuple destructuring', () => {
    const src = `
      model M {
        fn forward(x: f32[B, 5]) -> (v: f32[B, 2], i: i32[B, 2], w: f32[1, 5]) {
          let (v, i) = topk(x, 2)
          let (w, _) = topk(x, 1, axis = 0)
          return (v, i, w)
        }
      }`;
    const r = run(src, { x: f32([2, 5], [3, 1, 4, 1, 5, 2, 7, 7, 1, 0]) });
    expectTensor(r.out.get('v'), 'f32', [2, 2], [5, 4, 7, 7]);
    expectTensor(r.out.get('i'), 'i32', [2, 2], [4, 2, 1, 2]); // ties: the lower index first
    expectTensor(r.out.get('w'), 'f32', [1, 5], [3, 7, 7, 1, 5]);
  });
});

describe('blocks and models', () => {
  it('`if` on hyperparameters picks a branch at compile time', () => {
    const src = `
      block Scale(k: int, mode: double | square | keep = keep) {
        fn forward(x: f32[N]) -> f32[N] {
          return if mode == double { x * 2 } else if mode == square { x * x } else { x + k }
        }
      }
      model M(flag = true, n = 3) {
        d = Scale(1, mode = double)
        s = Scale(1, mode = square)
        k = Scale(n)
        fn forward(x: f32[2]) -> (a: f32[2], b: f32[2], c: f32[2], e: f32[2]) {
          let a = if flag and n > 2 { x } else { -x }
          let b = if n == 2 { x } else {
            let y = x * 10
            y + 1
          }
          return (a, b, d(x) + s(x), k(x))
        }
      }`;
    const r = run(src, { x: f32([2], [1, 3]) });
    expectTensor(r.out.get('a'), 'f32', [2], [1, 3]);
    expectTensor(r.out.get('b'), 'f32', [2], [11, 31]);
    expectTensor(r.out.get('c'), 'f32', [2], [3, 15]);
    expectTensor(r.out.get('e'), 'f32', [2], [4, 6]);
    expect(r.lowered.params).toEqual([]);
  });

  it('`repeat N` runs each instance with its own weights, in order', () => {
    const src = `
      block Layer(d: int) {
        param w: f32[d] = ones()
        param b: f32[] = zeros()
        fn forward(x: f32[B, d]) -> f32[B, d] { return x * w + b }
      }
      model M {
        layers = repeat 3 Layer(2)
        fn forward(x: f32[B, 2]) -> f32[B, 2] { return layers(x) }
      }`;
    const params = {
      'layers.0.w': f32([2], [1, 2]),
      'layers.0.b': f32([], [1]),
      'layers.1.w': f32([2], [3, 4]),
      'layers.1.b': f32([], [0]),
      'layers.2.w': f32([2], [1, 1]),
      'layers.2.b': f32([], [-1]),
    };
    const r = run(src, { x: f32([2, 2], [1, 1, 0, 2]) }, params);
    // [1 1] → [2 3] → [6 12] → [5 11]; [0 2] → [1 5] → [3 20] → [2 19]
    expectTensor(only(r), 'f32', [2, 2], [5, 11, 2, 19]);
    expect(r.lowered.params.map((p) => p.path)).toEqual(Object.keys(params));
    // Each param node carries the path of its instance.
    expect(printGraph(r.lowered.graph)).toContain('param "layers.1.w" ones() : f32[2] @"layers.1"');
  });

  it('`repeat N` threads tuples through the instances', () => {
    const src = `
      block Step {
        param w: f32[] = ones()
        fn forward(x: f32[2], acc: f32[]) -> (f32[2], f32[]) { return (x * w, acc + sum(x)) }
      }
      model M {
        steps = repeat 2 Step()
        fn forward(x: f32[2]) -> (y: f32[2], total: f32[]) {
          return steps(x, full([], 0.0))
        }
      }`;
    const r = run(src, { x: f32([2], [1, 2]) }, { 'steps.0.w': f32([], [2]), 'steps.1.w': f32([], [3]) });
    expectTensor(r.out.get('y'), 'f32', [2], [6, 12]);
    expectTensor(r.out.get('total'), 'f32', [], [9]); // 3 + 6
  });

  it('`stack N` gives instance i slice i of each argument and stacks the results', () => {
    const src = `
      block Expert(d: int) {
        param w: f32[d]
        fn forward(x: f32[T, d], s: f32[]) -> (f32[T, d], f32[]) { return (x * w + s, sum(w)) }
      }
      model M {
        experts = stack 2 Expert(2)
        fn forward(x: f32[2, T, 2], s: f32[2]) -> (y: f32[2, T, 2], norms: f32[2]) {
          return experts(x, s)
        }
      }`;
    const r = run(
      src,
      { x: f32([2, 1, 2], [1, 2, 3, 4]), s: f32([2], [10, 20]) },
      { 'experts.0.w': f32([2], [1, 2]), 'experts.1.w': f32([2], [-1, 0.5]) },
    );
    expectTensor(r.out.get('y'), 'f32', [2, 1, 2], [11, 14, 17, 22]);
    expectTensor(r.out.get('norms'), 'f32', [2], [3, -0.5]);
    expect(r.lowered.params.map((p) => p.path)).toEqual(['experts.0.w', 'experts.1.w']);
  });

  it("a child's param (`embed.table`) and a child's function", () => {
    const src = `
      import { Embedding } from "std/nn"
      block Scaled(d: int) {
        param g: f32[d] = ones()
        fn forward(x: f32[B, d]) -> f32[B, d] { return x * g }
        fn twice(x: f32[B, d]) -> f32[B, d] { return forward(x) * 2 }
      }
      model M {
        embed = Embedding(3, 2)
        sc = Scaled(2)
        fn forward(tokens: i32[B]) -> (logits: f32[B, 3], t: f32[B, 2]) {
          let h = embed(tokens)
          return (einsum("bd,vd->bv", h, embed.table), sc.twice(h))
        }
      }`;
    const r = run(
      src,
      { tokens: i32([2], [2, 0]) },
      { 'embed.table': f32([3, 2], [1, 0, 0, 1, 1, 1]), 'sc.g': f32([2], [3, 5]) },
    );
    // h = [[1 1] [1 0]]; h·tableᵀ = [[1 1 2] [1 0 1]]
    expectTensor(r.out.get('logits'), 'f32', [2, 3], [1, 1, 2, 1, 0, 1]);
    expectTensor(r.out.get('t'), 'f32', [2, 2], [6, 10, 6, 0]);
    // the tied table is one param node
    expect(printGraph(r.lowered.graph).match(/param "embed\.table"/g)).toHaveLength(1);
  });

  it('a function-typed hyperparameter, defaulted and passed to a child', () => {
    const src = `
      import { gelu, relu } from "std/act"
      block Act(act: fn = gelu) {
        fn forward(x: f32[N]) -> f32[N] { return act(x) }
      }
      model M(act: fn = relu) {
        a = Act()
        b = Act(act = act)
        fn forward(x: f32[3]) -> (g: f32[3], r: f32[3], s: f32[3]) {
          return (a(x), b(x), act(x) * 2)
        }
      }`;
    const r = run(src, { x: f32([3], [-1, 0, 1]) });
    // gelu(±1) = ±1/2 · (1 + erf(±1/√2)): erf(1/√2) = 0.6826894921370859
    expectTensor(r.out.get('g'), 'f32', [3], [-0.15865525393145707, 0, 0.8413447460685429]);
    expectTensor(r.out.get('r'), 'f32', [3], [0, 0, 1]);
    expectTensor(r.out.get('s'), 'f32', [3], [0, 0, 2]);
  });

  it('named and unnamed tuple results become output names', () => {
    const src = `
      model M {
        fn forward(x: f32[2]) -> (f32[2], f32[]) { return (x, sum(x)) }
        fn named(x: f32[2]) -> (first: f32[2], total: f32[]) { return (x * 2, sum(x)) }
      }`;
    const a = run(src, { x: f32([2], [1, 2]) });
    expect([...a.out.keys()]).toEqual(['output', 'output_1']);
    expectTensor(a.out.get('output_1'), 'f32', [], [3]);
    const b = run(src, { x: f32([2], [1, 2]) }, {}, { fn: 'named' });
    expect(b.lowered.graph.name).toBe('named');
    expect([...b.out.keys()]).toEqual(['first', 'total']);
    expectTensor(b.out.get('first'), 'f32', [2], [2, 4]);
    expect(b.lowered.functions).toEqual(['forward', 'named']);
  });

  it('inputs whose dims are linear patterns bind their symbols', () => {
    const src = `
      model M {
        fn forward(x: f32[B, 2 * T], y: f32[T + 1]) -> (pairs: f32[B, T], z: f32[T]) {
          let p = rearrange(x, "b (t two) -> b t two", two = 2)
          return (sum(p, -1), y[1:] - y[:-1])
        }
      }`;
    const r = run(src, { x: range([1, 6]), y: f32([4], [1, 4, 9, 16]) });
    expect(r.lowered.graph.dims).toEqual(['B', 'T']);
    expectTensor(r.out.get('pairs'), 'f32', [1, 3], [1, 5, 9]);
    expectTensor(r.out.get('z'), 'f32', [3], [3, 5, 7]);
  });
});

describe('training, buffers and optional params', () => {
  const src = `
    import { dropout } from "std/nn"
    block Counter(d: int) {
      buffer seen: f32[] = zeros()
      buffer total: f32[d] = zeros()
      fn forward(x: f32[B, d]) -> f32[B, d] {
        set seen = if training { seen + 1.0 } else { seen }
        set total = total + sum(x, 0)
        return if training { x - total } else { x + seen }
      }
    }
    model M {
      c = Counter(2)
      fn forward(x: f32[B, 2]) -> f32[B, 2] { return dropout(c(x), 0.5) }
    }`;
  const params = { 'c.seen': f32([], [5]), 'c.total': f32([2], [1, 2]) };
  const x = f32([2, 2], [1, 2, 3, 4]);

  it('inference: `training` is false, dropout is the identity, buffers update', () => {
    const r = run(src, { x }, params);
    // reads see the old buffer values: x + 5
    expectTensor(only(r), 'f32', [2, 2], [6, 7, 8, 9]);
    expect(r.lowered.graph.updates.map((u) => u.path)).toEqual(['c.seen', 'c.total']);
    expectTensor(r.updates.get('c.seen'), 'f32', [], [5]);
    expectTensor(r.updates.get('c.total'), 'f32', [2], [5, 8]);
    expect(printGraph(r.lowered.graph)).not.toContain('random');
    expect(r.lowered.params.map((p) => [p.path, p.role])).toEqual([
      ['c.seen', 'buffer'],
      ['c.total', 'buffer'],
    ]);
  });

  it('training: the other branch, and dropout zeroes or doubles each element', () => {
    const r = run(src, { x }, params, { training: true });
    expectTensor(r.updates.get('c.seen'), 'f32', [], [6]);
    expectTensor(r.updates.get('c.total'), 'f32', [2], [5, 8]);
    // x - total (old) = [[0 0] [2 2]], then each element is 0 or doubled
    const y = only(r);
    expect(y.shape).toEqual([2, 2]);
    [0, 0, 2, 2].forEach((v, i) => expect([0, 2 * v]).toContain(y.data[i]));
    expect(printGraph(r.lowered.graph)).toContain('random');
  });

  it('params with a false `if` do not exist', () => {
    const src = `
      block Lin(n: int, bias: bool = true) {
        param w: f32[n, n] = ones()
        param b: f32[n] = constant(0.5) if bias
        fn forward(x: f32[n]) -> f32[n] {
          let y = einsum("oi,i->o", w, x)
          return if bias { y + b } else { y }
        }
      }
      model M {
        with_b = Lin(2)
        without = Lin(2, bias = false)
        fn forward(x: f32[2]) -> (a: f32[2], b: f32[2]) { return (with_b(x), without(x)) }
      }`;
    const params = {
      'with_b.w': f32([2, 2], [1, 2, 3, 4]),
      'with_b.b': f32([2], [0.5, -0.5]),
      'without.w': f32([2, 2], [1, 0, 0, 1]),
    };
    const r = run(src, { x: f32([2], [1, 1]) }, params);
    expectTensor(r.out.get('a'), 'f32', [2], [3.5, 6.5]);
    expectTensor(r.out.get('b'), 'f32', [2], [1, 1]);
    expect(r.lowered.params.map((p) => p.path)).toEqual(['with_b.w', 'with_b.b', 'without.w']);
  });
});

describe('the param table', () => {
  it('lists every param and buffer of a nested model with its path, shape and initializer', () => {
    const src = `
      import { Linear } from "std/nn"
      block Inner(d: int, k: float = 0.5) {
        param scale: f32[d] = constant(k)
        buffer count: i32[] = zeros()
        fc = Linear(d, 2 * d, bias = false)
        head = Linear(2 * d, d)
        fn forward(x: f32[B, d]) -> f32[B, d] { return head(fc(x * scale)) }
      }
      model Net(d = 3, extra = false) {
        param emb: f32[4, d] = normal(std = 0.5)
        param bonus: f32[d] = uniform(-0.1, 0.1) if extra
        param w: f32[d, d]
        param b: f32[d]
        inner = Inner(d, k = 2.0)
        layers = repeat 2 Inner(d)
        maybe = Inner(d) if extra
        fn forward(x: f32[B, d]) -> f32[B, d] { return layers(inner(x)) }
      }`;
    const lowered = lower(src);
    const table = lowered.params.map((p) => ({
      path: p.path,
      role: p.role,
      type: `${p.dtype}[${p.shape.map(dimToString).join(', ')}]`,
      init: p.init,
    }));
    const inner = (prefix: string, k: number) => [
      { path: `${prefix}.scale`, role: 'param', type: 'f32[3]', init: { fn: 'constant', args: { value: k } } },
      { path: `${prefix}.count`, role: 'buffer', type: 'i32[]', init: { fn: 'zeros', args: {} } },
      { path: `${prefix}.fc.w`, role: 'param', type: 'f32[6, 3]', init: { fn: 'kaiming_uniform', args: {} } },
      { path: `${prefix}.head.w`, role: 'param', type: 'f32[3, 6]', init: { fn: 'kaiming_uniform', args: {} } },
      { path: `${prefix}.head.b`, role: 'param', type: 'f32[3]', init: { fn: 'zeros', args: {} } },
    ];
    expect(table).toEqual([
      { path: 'emb', role: 'param', type: 'f32[4, 3]', init: { fn: 'normal', args: { std: 0.5 } } },
      { path: 'w', role: 'param', type: 'f32[3, 3]', init: { fn: 'xavier_uniform', args: {} } },
      { path: 'b', role: 'param', type: 'f32[3]', init: { fn: 'zeros', args: {} } },
      ...inner('inner', 2),
      ...inner('layers.0', 0.5),
      ...inner('layers.1', 0.5),
    ]);
    // The initializers run on the table's entries as given.
    const scale = lowered.params.find((p) => p.path === 'inner.scale')!;
    expectTensor(initParam(scale, new Map(), 0), 'f32', [3], [2, 2, 2]);
    const count = lowered.params.find((p) => p.path === 'layers.1.count')!;
    expectTensor(initParam(count, new Map(), 0), 'i32', [], [0]);
    // The graph uses the params forward reaches (not emb, w, b or the buffers), with the same args.
    const used = printGraph(lowered.graph)
      .split('\n')
      .flatMap((l) => /param "([^"]+)"/.exec(l)?.[1] ?? []);
    expect(used.sort()).toEqual(
      ['inner', 'layers.0', 'layers.1']
        .flatMap((p) => [`${p}.scale`, `${p}.fc.w`, `${p}.head.w`, `${p}.head.b`])
        .sort(),
    );
  });

  it('with the optional members present', () => {
    const src = `
      model Net(extra = true) {
        param bonus: f32[2] = uniform(-0.1, high = 0.1) if extra
        param t: f32[2, 2] = trunc_normal(0.02) if not extra
        fn forward(x: f32[2]) -> f32[2] { return if extra { x + bonus } else { x } }
      }`;
    const lowered = lower(src);
    expect(lowered.params.map((p) => [p.path, p.init])).toEqual([
      ['bonus', { fn: 'uniform', args: { low: -0.1, high: 0.1 } }],
    ]);
  });
});

describe('lowering bugs found by these tests', () => {
  it('a dropout applied twice draws separate masks', () => {
    const src = `
      import { Dropout, dropout } from "std/nn"
      model M {
        drop = Dropout(0.5)
        fn forward(x: f32[64]) -> (a: f32[64], b: f32[64], c: f32[64], d: f32[64]) {
          return (drop(x), drop(x + 0.0), dropout(x, 0.5), dropout(x * 1.0, 0.5))
        }
      }`;
    const r = run(src, { x: f32([64], Array(64).fill(1)) }, {}, { training: true });
    const mask = (name: string) => [...r.out.get(name)!.data].map((v) => (v === 0 ? 0 : 1)).join('');
    for (const name of ['a', 'b', 'c', 'd'])
      expect([...r.out.get(name)!.data].every((v) => v === 0 || v === 2)).toBe(true);
    // Before the fix both calls at one site and path shared one `random` node (hash-consing).
    expect(new Set(['a', 'b', 'c', 'd'].map(mask)).size).toBe(4);
    const keys = printGraph(r.lowered.graph).match(/key: "[^"]*"/g);
    expect(keys).toHaveLength(4);
    expect(new Set(keys).size).toBe(4);
  });

  it('`repeat` passes compile-time arguments to every instance', () => {
    const src = `
      block L {
        param w: f32[] = ones()
        fn forward(x: f32[N], k: float = 1.0, m: f32[N]) -> (f32[N], f32[N]) { return (x * k * w, m + w) }
      }
      model M {
        layers = repeat 2 L()
        fn forward(x: f32[2], m: f32[2]) -> (y: f32[2], z: f32[2]) { return layers(x, 3.0, m) }
      }`;
    const r = run(
      src,
      { x: f32([2], [1, 2]), m: f32([2], [0, 0]) },
      { 'layers.0.w': f32([], [1]), 'layers.1.w': f32([], [2]) },
    );
    // x·3·1·3·2 and m + 1 + 2
    expectTensor(r.out.get('y'), 'f32', [2], [18, 36]);
    expectTensor(r.out.get('z'), 'f32', [2], [3, 3]);
  });

  it('`repeat` passes tensor arguments after the threaded ones to every instance unchanged', () => {
    // forward takes (x, mask, scale) and returns x: x threads, mask and scale reach every layer.
    const src = `
      block L {
        param w: f32[] = ones()
        fn forward(x: f32[B, T], mask: bool[B, T], scale: f32[]) -> f32[B, T] {
          return where(mask, x * w + scale, x)
        }
      }
      model M {
        layers = repeat 3 L()
        fn forward(x: f32[B, T], mask: bool[B, T]) -> (y: f32[B, T]) { return layers(x, mask, full([], 1.0)) }
      }`;
    const r = run(
      src,
      { x: f32([1, 3], [1, 2, 3]), mask: t('bool', [1, 3], [1, 0, 1]) },
      { 'layers.0.w': f32([], [2]), 'layers.1.w': f32([], [3]), 'layers.2.w': f32([], [-1]) },
    );
    // masked: ((x·2 + 1)·3 + 1)·-1 + 1; unmasked: x
    expectTensor(r.out.get('y'), 'f32', [1, 3], [-9, 2, -21]);
    // The mask is one graph input read by all three instances, not threaded through them.
    expect(r.lowered.graph.inputs.map((n) => n.args.name)).toEqual(['x', 'mask']);
  });

  it('`full` with a symbolic size as its value', () => {
    const src = `
      model M {
        fn forward(x: f32[B, T]) -> (lengths: i32[B], scaled: f32[B, T]) {
          return (full([B], T, dtype = i32), x / full([], size(x, 1)))
        }
      }`;
    const r = run(src, { x: f32([2, 4], [4, 8, 0, 2, 1, 1, 1, 1]) });
    expectTensor(r.out.get('lengths'), 'i32', [2], [4, 4]);
    expectTensor(r.out.get('scaled'), 'f32', [2, 4], [1, 2, 0, 0.5, 0.25, 0.25, 0.25, 0.25]);
  });

  it('a buffer that is set but never read is still in the graph', () => {
    // The IR requires an update's buffer to be a node of the graph (verify checks it).
    const src = `
      model M {
        buffer last: f32[2] = zeros()
        fn forward(x: f32[B, 2], s: float = 2.0) -> f32[B, 2] {
          set last = sum(x, 0)
          return x * s
        }
      }`;
    const r = run(src, { x: f32([2, 2], [1, 2, 3, 4]) }, { last: f32([2], [7, 7]) });
    expectTensor(only(r), 'f32', [2, 2], [2, 4, 6, 8]);
    expectTensor(r.updates.get('last'), 'f32', [2], [4, 6]);
    expect(printGraph(r.lowered.graph)).toContain('buffer "last" zeros() : f32[2]');
  });

  it('a size no input binds is FM0800 at its expression, not a graph that cannot run', () => {
    const src = `model M {
  fn forward(x: f32[B, T]) -> f32[B] {
    let head = x[:, :min(T, 3)]
    return sum(head, -1)
  }
}`;
    const host: Host = {
      read: (p) => (p === FILE ? new TextEncoder().encode(src) : nodeHost.read(p)),
      display: (p) => path.relative(ROOT, p),
    };
    const r = lowerFile(FILE, {}, host);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const [d] = r.diagnostics;
    expect(d?.code).toBe('FM0800');
    expect(d?.message).toContain('min_of_T_3');
    expect(src.slice(d!.span.start, d!.span.end)).toBe('x[:, :min(T, 3)]');
  });
});

describe('more of the language', () => {
  it('logical operators with weak bool scalars', () => {
    const src = `
      model M {
        fn forward(x: f32[3], m: bool[3]) -> (a: bool[3], b: bool[3], c: bool[3], d: bool[3]) {
          return (m and true, x > 0.0 or m, not m and x < 1.0, m == false)
        }
      }`;
    const r = run(src, { x: f32([3], [1, -1, 0.5]), m: t('bool', [3], [1, 0, 0]) });
    expectTensor(r.out.get('a'), 'bool', [3], [1, 0, 0]);
    expectTensor(r.out.get('b'), 'bool', [3], [1, 0, 1]);
    expectTensor(r.out.get('c'), 'bool', [3], [0, 1, 1]);
    expectTensor(r.out.get('d'), 'bool', [3], [0, 1, 1]);
  });

  it('member access through two levels of children', () => {
    const src = `
      block Inner {
        param w: f32[2] = ones()
        fn forward(x: f32[2]) -> f32[2] { return x * w }
        fn neg(x: f32[2]) -> f32[2] { return -forward(x) }
      }
      block Outer {
        inner = Inner()
        fn forward(x: f32[2]) -> f32[2] { return inner(x) }
      }
      model M {
        outer = Outer()
        fn forward(x: f32[2]) -> (a: f32[2], b: f32[2], c: f32[2], d: f32[2]) {
          return (outer.inner.w, outer.inner.neg(x), outer.inner(x), outer(x))
        }
      }`;
    const r = run(src, { x: f32([2], [1, -1]) }, { 'outer.inner.w': f32([2], [2, 3]) });
    expectTensor(r.out.get('a'), 'f32', [2], [2, 3]);
    expectTensor(r.out.get('b'), 'f32', [2], [-2, 3]);
    expectTensor(r.out.get('c'), 'f32', [2], [2, -3]);
    expectTensor(r.out.get('d'), 'f32', [2], [2, -3]);
    expect(r.lowered.params.map((p) => p.path)).toEqual(['outer.inner.w']);
  });

  it('a loss function that calls forward and std/loss', () => {
    const src = `
      import { cross_entropy } from "std/loss"
      model M {
        param scale: f32[] = ones()
        fn forward(x: f32[B, 2]) -> (logits: f32[B, 2]) { return x * scale }
        fn loss(x: f32[B, 2], labels: i32[B]) -> f32[] { return cross_entropy(forward(x), labels) }
      }`;
    const r = run(
      src,
      { x: f32([2, 2], [0, 0, 1, 1]), labels: i32([2], [1, -100]) },
      { scale: f32([], [1]) },
      { fn: 'loss' },
    );
    // -log softmax([0, 0])[1] = ln 2; the second row is ignored
    expectTensor(only(r), 'f32', [], [0.6931471805599453]);
  });

  it('BatchNorm1d: batch statistics and running-buffer updates in training, running statistics otherwise', () => {
    const src = `
      import { BatchNorm1d } from "std/nn"
      model M {
        bn = BatchNorm1d(1, eps = 0.0)
        fn forward(x: f32[N, 1, L]) -> f32[N, 1, L] { return bn(x) }
      }`;
    const params = {
      'bn.gamma': f32([1], [1]),
      'bn.beta': f32([1], [0]),
      'bn.running_mean': f32([1], [1]),
      'bn.running_var': f32([1], [4]),
    };
    const x = f32([2, 1, 1], [1, 3]);
    const train = run(src, { x }, params, { training: true });
    // mean 2, biased variance 1: (x - 2) / 1
    expectTensor(only(train), 'f32', [2, 1, 1], [-1, 1]);
    // 0.9·1 + 0.1·2; 0.9·4 + 0.1·(1·2/1), with momentum and 1 - momentum stored as f32
    expectTensor(train.updates.get('bn.running_mean'), 'f32', [1], [1.1]);
    expectTensor(train.updates.get('bn.running_var'), 'f32', [1], [3.8]);
    const infer = run(src, { x }, params);
    // (x - 1) / 2
    expectTensor(only(infer), 'f32', [2, 1, 1], [0, 1]);
    expectTensor(infer.updates.get('bn.running_mean'), 'f32', [1], [1]);
    expectTensor(infer.updates.get('bn.running_var'), 'f32', [1], [4]);
  });
});
