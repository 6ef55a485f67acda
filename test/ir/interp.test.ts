import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import { type Dim, dimAdd, dimConst, dimMul, dimSym } from '../../src/ir/dims.js';
import type { Dtype } from '../../src/ir/dtype.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import { erf } from '../../src/ir/interp-ops.js';
import { EvalError, bindDims, concreteShape, evaluate } from '../../src/ir/interp.js';
import type { OpArgs } from '../../src/ir/ops.js';
import { uniformStream } from '../../src/ir/philox.js';
import { type HostTensor, hostTensor } from '../../src/ir/value.js';

const c = dimConst;
const T = dimSym('T');
const tt = (dtype: Dtype, shape: number[], data: number[]): HostTensor => hostTensor(dtype, shape, data);
const f32 = (shape: number[], data: number[]) => tt('f32', shape, data);
const i32 = (shape: number[], data: number[]) => tt('i32', shape, data);
const bool = (shape: number[], data: number[]) => tt('bool', shape, data);
const none = new Map<string, number>();

/** A graph under construction with the values fed to its inputs, named x0, x1, ... */
class Fed extends Builder {
  readonly feeds = new Map<string, HostTensor>();
  /** An input fed with `x`, declared with `shape` (default: x's concrete shape). */
  in(x: HostTensor, shape?: readonly Dim[]): Node {
    const name = `x${this.inputs.length}`;
    this.feeds.set(name, x);
    return this.input(name, x.dtype, shape ?? x.shape);
  }
  /** The graph `f` of the inputs so far, with outputs y0, y1, ... */
  close(outs: readonly Node[], updates: readonly { path: string; node: Node }[] = []): Graph {
    return this.graph(
      'f',
      outs.map((node, i) => ({ name: `y${i}`, node })),
      updates,
    );
  }
  /** The kernels' own float64 semantics: float results unrounded (the dtype rounding is tested in test/hardening). */
  run(out: Node, dims = none): HostTensor {
    const b = { inputs: this.feeds, params: new Map(), dims };
    return evaluate(this.close([out]), b, { precision: 'float64' }).outputs.get('y0')!;
  }
}

function expectT(r: HostTensor, dtype: Dtype, shape: number[], data: number[]): void {
  expect(r.dtype).toBe(dtype);
  expect(r.shape).toEqual(shape);
  expect([...r.data]).toEqual(data);
}
function expectClose(r: HostTensor, data: number[], tol = 1e-12): void {
  expect(r.data.length).toBe(data.length);
  data.forEach((v, i) => {
    const got = r.data[i]!;
    if (!Number.isFinite(v)) expect(got).toBe(v);
    else expect(Math.abs(got - v)).toBeLessThanOrEqual(tol);
  });
}

const un = (fn: OpArgs['unary']['fn'], x: HostTensor): HostTensor => {
  const g = new Fed();
  return g.run(g.node('unary', { fn }, [g.in(x)]));
};
const bin = (fn: OpArgs['binary']['fn'], a: HostTensor, b: HostTensor): HostTensor => {
  const g = new Fed();
  return g.run(g.node('binary', { fn }, [g.in(a), g.in(b)]));
};

describe('unary', () => {
  const x = f32([5], [0, 1, -1, 4, NaN]);
  it('IEEE special values', () => {
    expectT(un('neg', x), 'f32', [5], [-0, -1, 1, -4, NaN]);
    expectT(un('log', x), 'f32', [5], [-Infinity, 0, NaN, 1.3862943611198906, NaN]);
    expectT(un('sqrt', x), 'f32', [5], [0, 1, NaN, 2, NaN]);
    expectT(un('rsqrt', x), 'f32', [5], [Infinity, 1, NaN, 0.5, NaN]);
    expectT(un('recip', x), 'f32', [5], [Infinity, 1, -1, 0.25, NaN]);
    expectT(un('abs', x), 'f32', [5], [0, 1, 1, 4, NaN]);
    expectT(un('recip', f32([1], [-0])), 'f32', [1], [-Infinity]);
  });
  it('transcendentals in float64', () => {
    expectClose(un('exp', x), [1, Math.E, 1 / Math.E, 54.598150033144236, NaN], 1e-13);
    expectClose(un('sin', f32([2], [0, 1])), [0, 0.8414709848078965]);
    expectClose(un('cos', f32([2], [0, 1])), [1, 0.5403023058681398]);
    expectClose(un('tanh', f32([3], [1, Infinity, -Infinity])), [0.7615941559557649, 1, -1]);
    expectT(un('floor', f32([4], [-1.5, 2.75, 3, -Infinity])), 'f32', [4], [-2, 2, 3, -Infinity]);
    // Results are not rounded to f32: exp(1) keeps its float64 digits.
    expect(un('exp', f32([1], [1])).data[0]).toBe(Math.E);
  });
  it('erf to better than 1e-14 (reference values from the C library)', () => {
    const ref: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [-2, -0.9953222650189527],
      [3, 0.9999779095030014],
      [4.5, 0.9999999998033839],
      [5.5, 0.9999999999999927],
      [7, 1],
      [-Infinity, -1],
    ];
    for (const [x, y] of ref) expect(Math.abs(erf(x) - y)).toBeLessThan(1e-14);
    expect(erf(1e-10) / 1.1283791670955126e-10).toBeCloseTo(1, 14);
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(erf(NaN)).toBeNaN();
    expectClose(un('erf', f32([2], [0.5, -1])), [0.5204998778130465, -0.8427007929497149], 1e-15);
  });
  it('not on bool; neg and abs wrap on integers', () => {
    expectT(un('not', bool([2], [0, 1])), 'bool', [2], [1, 0]);
    expectT(un('neg', tt('i8', [3], [-128, 5, 0])), 'i8', [3], [-128, -5, 0]);
    expectT(un('abs', tt('i8', [2], [-128, -7])), 'i8', [2], [-128, 7]);
  });
});

describe('binary', () => {
  it('broadcasts', () => {
    expectT(
      bin('add', f32([2, 3], [1, 2, 3, 4, 5, 6]), f32([3], [10, 20, 30])),
      'f32',
      [2, 3],
      [11, 22, 33, 14, 25, 36],
    );
    expectT(bin('mul', f32([2, 1], [1, 2]), f32([1, 3], [1, 10, 100])), 'f32', [2, 3], [1, 10, 100, 2, 20, 200]);
    expectT(bin('sub', f32([], [1]), f32([2], [3, 4])), 'f32', [2], [-2, -3]);
  });
  it('float division and remainder', () => {
    const a = f32([6], [7, -7, 7, -7, 5.5, 1]);
    const b = f32([6], [2, 2, -2, -2, 2, 0]);
    expectT(bin('div', a, b), 'f32', [6], [3.5, -3.5, -3.5, 3.5, 2.75, Infinity]);
    expectT(bin('mod', a, b), 'f32', [6], [1, -1, 1, -1, 1.5, NaN]);
    expectT(bin('div', f32([2], [0, -1]), f32([2], [0, 0])), 'f32', [2], [NaN, -Infinity]);
  });
  it('C integer division and remainder; division by zero gives 0', () => {
    const a = i32([6], [7, -7, 7, -7, 5, -2147483648]);
    const b = i32([6], [2, 2, -2, -2, 0, -1]);
    expectT(bin('div', a, b), 'i32', [6], [3, -3, -3, 3, 0, -2147483648]);
    expectT(bin('mod', a, b), 'i32', [6], [1, -1, 1, -1, 0, 0]);
  });
  it('integers wrap to their width', () => {
    const i8 = (d: number[]) => tt('i8', [d.length], d);
    expectT(bin('add', i8([100, 127, -128]), i8([100, 1, -1])), 'i8', [3], [-56, -128, 127]);
    expectT(bin('sub', i8([-128]), i8([1])), 'i8', [1], [127]);
    expectT(bin('mul', i8([16, 20]), i8([16, 20])), 'i8', [2], [0, -112]);
    // (2^31 - 1)^2 = 2^62 - 2^32 + 1: float64 would lose the low bits.
    expectT(bin('mul', i32([1], [2147483647]), i32([1], [2147483647])), 'i32', [1], [1]);
    expectT(bin('add', tt('i4', [2], [7, -8]), tt('i4', [2], [1, -1])), 'i4', [2], [-8, 7]);
  });
  it('pow', () => {
    expectT(bin('pow', f32([3], [2, 2, -8]), f32([3], [10, -1, 0.5])), 'f32', [3], [1024, 0.5, NaN]);
    const a = i32([5], [3, 2, -1, 2, 0]);
    expectT(bin('pow', a, i32([5], [4, -1, -3, 31, 0])), 'i32', [5], [81, 0, -1, -2147483648, 1]);
    expectT(bin('pow', tt('i8', [1], [2]), tt('i8', [1], [7])), 'i8', [1], [-128]);
  });
  it('max and min propagate NaN', () => {
    const a = f32([4], [1, NaN, -Infinity, 0]);
    const b = f32([4], [2, 0, NaN, -0]);
    expectT(bin('max', a, b), 'f32', [4], [2, NaN, NaN, 0]);
    expectT(bin('min', a, b), 'f32', [4], [1, NaN, NaN, -0]);
    expectT(bin('max', i32([2], [-5, 7]), i32([2], [3, -9])), 'i32', [2], [3, 7]);
  });
  it('compares give bool; NaN is unordered', () => {
    const a = f32([4], [1, NaN, 2, 0]);
    const b = f32([4], [1, NaN, 3, -0]);
    expectT(bin('eq', a, b), 'bool', [4], [1, 0, 0, 1]);
    expectT(bin('ne', a, b), 'bool', [4], [0, 1, 1, 0]);
    expectT(bin('lt', a, b), 'bool', [4], [0, 0, 1, 0]);
    expectT(bin('le', a, b), 'bool', [4], [1, 0, 1, 1]);
    expectT(bin('gt', a, b), 'bool', [4], [0, 0, 0, 0]);
    expectT(bin('ge', a, b), 'bool', [4], [1, 0, 0, 1]);
    expectT(bin('eq', bool([2], [1, 0]), bool([2], [1, 1])), 'bool', [2], [1, 0]);
  });
  it('logic on bools, broadcasting', () => {
    const a = bool([2, 1], [0, 1]);
    const b = bool([2], [0, 1]);
    expectT(bin('and', a, b), 'bool', [2, 2], [0, 0, 0, 1]);
    expectT(bin('or', a, b), 'bool', [2, 2], [0, 1, 1, 1]);
  });
});

describe('where, reduce', () => {
  it('where broadcasts the three operands', () => {
    const g = new Fed();
    const y = g.node('where', {}, [g.in(bool([2, 1], [1, 0])), g.in(f32([3], [1, 2, 3])), g.in(f32([], [-1]))]);
    expectT(g.run(y), 'f32', [2, 3], [1, 2, 3, -1, -1, -1]);
  });
  const red = (x: HostTensor, fn: 'sum' | 'max', axes: number[], keepdim = false): HostTensor => {
    const g = new Fed();
    return g.run(g.node('reduce', { fn, axes, keepdim }, [g.in(x)]));
  };
  const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  it('sum and max over axes, with keepdim', () => {
    expectT(red(x, 'sum', [1]), 'f32', [2], [6, 15]);
    expectT(red(x, 'sum', [1], true), 'f32', [2, 1], [6, 15]);
    expectT(red(x, 'sum', [0]), 'f32', [3], [5, 7, 9]);
    expectT(red(x, 'max', [0, 1]), 'f32', [], [6]);
    expectT(red(x, 'max', [0, 1], true), 'f32', [1, 1], [6]);
    expectT(red(f32([2, 2], [1, NaN, 3, 2]), 'max', [1]), 'f32', [2], [NaN, 3]);
    expectT(red(f32([2], [Infinity, -Infinity]), 'sum', [0]), 'f32', [], [NaN]);
  });
  it('empty reductions: sum 0, max -inf (integers: their minimum)', () => {
    const e = f32([2, 0], []);
    expectT(red(e, 'sum', [1]), 'f32', [2], [0, 0]);
    expectT(red(e, 'max', [1]), 'f32', [2], [-Infinity, -Infinity]);
    expectT(red(tt('i8', [0], []), 'max', [0]), 'i8', [], [-128]);
    expectT(red(e, 'sum', [0]), 'f32', [0], []);
  });
  it('integer sums wrap', () => {
    expectT(red(tt('i8', [2], [100, 100]), 'sum', [0]), 'i8', [], [-56]);
  });
});

describe('layout ops', () => {
  const one = <K extends OpName>(op: K, args: OpArgs[K], x: HostTensor): HostTensor => {
    const g = new Fed();
    return g.run(g.node(op, args, [g.in(x)]));
  };
  const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  it('reshape is row-major, including empty tensors', () => {
    expectT(one('reshape', { shape: [c(3), c(2)] }, x), 'f32', [3, 2], [1, 2, 3, 4, 5, 6]);
    expectT(one('reshape', { shape: [c(6)] }, x), 'f32', [6], [1, 2, 3, 4, 5, 6]);
    expectT(one('reshape', { shape: [c(3), c(0)] }, f32([0, 3], [])), 'f32', [3, 0], []);
  });
  it('permute', () => {
    expectT(one('permute', { axes: [1, 0] }, x), 'f32', [3, 2], [1, 4, 2, 5, 3, 6]);
    const y = one('permute', { axes: [2, 0, 1] }, f32([2, 1, 3], [1, 2, 3, 4, 5, 6]));
    expectT(y, 'f32', [3, 2, 1], [1, 4, 2, 5, 3, 6]);
  });
  it('expand (NumPy)', () => {
    expectT(one('expand', { shape: [c(2), c(3)] }, f32([3], [1, 2, 3])), 'f32', [2, 3], [1, 2, 3, 1, 2, 3]);
    expectT(one('expand', { shape: [c(2), c(3)] }, f32([2, 1], [1, 2])), 'f32', [2, 3], [1, 1, 1, 2, 2, 2]);
    expectT(one('expand', { shape: [c(2)] }, f32([], [7])), 'f32', [2], [7, 7]);
  });
  it('pad, negative widths crop', () => {
    const v = f32([3], [1, 2, 3]);
    expectT(one('pad', { pads: [[c(1), c(2)]], value: 9 }, v), 'f32', [6], [9, 1, 2, 3, 9, 9]);
    expectT(one('pad', { pads: [[c(-1), c(1)]], value: 0 }, v), 'f32', [3], [2, 3, 0]);
    expectT(one('pad', { pads: [[c(-1), c(-2)]], value: 0 }, v), 'f32', [0], []);
    const p2 = one(
      'pad',
      {
        pads: [
          [c(0), c(1)],
          [c(1), c(-1)],
        ],
        value: -Infinity,
      },
      x,
    );
    expectT(p2, 'f32', [3, 3], [-Infinity, 1, 2, -Infinity, 4, 5, -Infinity, -Infinity, -Infinity]);
  });
  it('slice with steps', () => {
    const v = f32([6], [0, 1, 2, 3, 4, 5]);
    expectT(one('slice', { starts: [c(1)], sizes: [c(3)], steps: [2] }, v), 'f32', [3], [1, 3, 5]);
    expectT(one('slice', { starts: [c(4)], sizes: [c(0)], steps: [1] }, v), 'f32', [0], []);
    const s2 = one('slice', { starts: [c(1), c(0)], sizes: [c(1), c(2)], steps: [1, 2] }, x);
    expectT(s2, 'f32', [1, 2], [4, 6]);
  });
  it('window with stride and dilation', () => {
    const v = f32([7], [0, 1, 2, 3, 4, 5, 6]);
    const w1 = one('window', { axes: [0], size: [3], stride: [2], dilation: [1] }, v);
    expectT(w1, 'f32', [3, 3], [0, 1, 2, 2, 3, 4, 4, 5, 6]);
    const w2 = one('window', { axes: [0], size: [2], stride: [3], dilation: [2] }, v);
    expectT(w2, 'f32', [2, 2], [0, 2, 3, 5]);
    const m = f32([2, 4], [1, 2, 3, 4, 5, 6, 7, 8]);
    const w3 = one('window', { axes: [1], size: [2], stride: [2], dilation: [1] }, m);
    expectT(w3, 'f32', [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const w4 = one('window', { axes: [0, 1], size: [2, 3], stride: [1, 1], dilation: [1, 1] }, m);
    expectT(w4, 'f32', [1, 2, 2, 3], [1, 2, 3, 5, 6, 7, 2, 3, 4, 6, 7, 8]);
  });
  it('concat, with an empty piece', () => {
    const g = new Fed();
    const y = g.node('concat', { axis: 0 }, [g.in(f32([2], [1, 2])), g.in(f32([0], [])), g.in(f32([3], [3, 4, 5]))]);
    expectT(g.run(y), 'f32', [5], [1, 2, 3, 4, 5]);
    const h = new Fed();
    const z = h.node('concat', { axis: 1 }, [h.in(f32([2, 1], [1, 2])), h.in(x)]);
    expectT(h.run(z), 'f32', [2, 4], [1, 1, 2, 3, 2, 4, 5, 6]);
  });
});

describe('einsum, gather, scatter_add, cast, topk', () => {
  const es = (spec: string, ...xs: HostTensor[]): HostTensor => {
    const g = new Fed();
    return g.run(g.node('einsum', { spec }, [...xs.map((x) => g.in(x))]));
  };
  it('einsum', () => {
    const a = f32([2, 2], [1, 2, 3, 4]);
    const b = f32([2, 2], [5, 6, 7, 8]);
    expectT(es('ij,jk->ik', a, b), 'f32', [2, 2], [19, 22, 43, 50]);
    expectT(es('ij->ji', a), 'f32', [2, 2], [1, 3, 2, 4]);
    expectT(es('ij->', a), 'f32', [], [10]);
    expectT(es('i,j->ij', f32([2], [1, 2]), f32([3], [1, 10, 100])), 'f32', [2, 3], [1, 10, 100, 2, 20, 200]);
    expectT(es('ij,ij->i', a, b), 'f32', [2], [17, 53]);
    const ba = f32([2, 1, 2], [1, 2, 3, 4]);
    const bb = f32([2, 2, 1], [1, 1, 2, 3]);
    expectT(es('bij,bjk->bik', ba, bb), 'f32', [2, 1, 1], [3, 18]);
    expectT(es('ij,jk->ik', f32([1, 0], []), f32([0, 2], [])), 'f32', [1, 2], [0, 0]);
    expectT(es('i,i->', tt('i8', [2], [100, 10]), tt('i8', [2], [2, 3])), 'i8', [], [-26]); // 230 wraps
  });
  it('gather clamps indices', () => {
    const g = new Fed();
    const y = g.node('gather', { axis: 0 }, [g.in(f32([4], [10, 20, 30, 40])), g.in(i32([2, 2], [0, 3, -1, 9]))]);
    expectT(g.run(y), 'f32', [2, 2], [10, 40, 10, 40]);
    const h = new Fed();
    const z = h.node('gather', { axis: 1 }, [h.in(f32([2, 3], [1, 2, 3, 4, 5, 6])), h.in(i32([2], [2, 0]))]);
    expectT(h.run(z), 'f32', [2, 2], [3, 1, 6, 4]);
  });
  it('scatter_add drops out-of-range indices', () => {
    const g = new Fed();
    const ins = [g.in(f32([4], [0, 0, 0, 100])), g.in(i32([5], [1, 1, -1, 4, 3])), g.in(f32([5], [1, 2, 3, 4, 5]))];
    expectT(g.run(g.node('scatter_add', { axis: 0 }, [...ins])), 'f32', [4], [0, 3, 0, 105]);
    const h = new Fed();
    const x = h.in(f32([2, 2], [0, 0, 0, 0]));
    const y = h.node('scatter_add', { axis: 1 }, [x, h.in(i32([3], [1, 1, 0])), h.in(f32([2, 3], [1, 2, 3, 4, 5, 6]))]);
    expectT(h.run(y), 'f32', [2, 2], [3, 3, 6, 9]);
  });
  const cast = (x: HostTensor, dtype: Dtype): HostTensor => {
    const g = new Fed();
    return g.run(g.node('cast', { dtype }, [g.in(x)]));
  };
  it('cast: float to int truncates, saturates, NaN to 0', () => {
    const x = f32([8], [1.9, -1.9, NaN, 300, -300, Infinity, -Infinity, 0.5]);
    expectT(cast(x, 'i8'), 'i8', [8], [1, -1, 0, 127, -128, 127, -128, 0]);
    expectT(cast(x, 'i32'), 'i32', [8], [1, -1, 0, 300, -300, 2147483647, -2147483648, 0]);
  });
  it('cast: int to int wraps, to bool is x != 0, to float rounds to nearest even', () => {
    expectT(cast(i32([3], [300, -129, 128]), 'i8'), 'i8', [3], [44, 127, -128]);
    expectT(cast(f32([4], [0, -0, NaN, 0.25]), 'bool'), 'bool', [4], [0, 0, 1, 1]);
    expectT(cast(i32([3], [16777217, 16777219, -16777217]), 'f32'), 'f32', [3], [16777216, 16777220, -16777216]);
    expectT(cast(f32([2], [1 + 2 ** -11, 1 + 3 * 2 ** -11]), 'f16'), 'f16', [2], [1, 1 + 2 ** -9]);
    expectT(cast(bool([2], [1, 0]), 'f32'), 'f32', [2], [1, 0]);
  });
  const topk = (x: HostTensor, k: number, axis: number, output: 'values' | 'indices'): HostTensor => {
    const g = new Fed();
    return g.run(g.node('topk', { k, axis, output }, [g.in(x)]));
  };
  it('topk: sorted descending, ties by lower index, NaN first', () => {
    const x = f32([5], [3, 1, 3, 2, 3]);
    expectT(topk(x, 2, 0, 'values'), 'f32', [2], [3, 3]);
    expectT(topk(x, 4, 0, 'indices'), 'i32', [4], [0, 2, 4, 3]);
    expectT(topk(f32([3], [1, NaN, 2]), 2, 0, 'indices'), 'i32', [2], [1, 2]);
    const m = f32([3, 2], [1, 6, 5, 2, 3, 4]);
    expectT(topk(m, 2, 0, 'values'), 'f32', [2, 2], [5, 6, 3, 4]);
    expectT(topk(m, 2, 0, 'indices'), 'i32', [2, 2], [1, 0, 2, 2]);
    expectT(topk(m, 1, 1, 'indices'), 'i32', [3, 1], [1, 0, 1]);
  });
});

describe('sources', () => {
  it('full, iota, dim', () => {
    const g = new Fed();
    const full = g.node('full', { value: NaN, dtype: 'f32', shape: [c(2)] }, []);
    const fi = g.node('full', { value: 300, dtype: 'i8', shape: [] }, []);
    const iota = g.node('iota', { axis: 1, dtype: 'i32', shape: [c(2), c(3)] }, []);
    const d = g.node('dim', { value: dimAdd(dimMul(c(2), T), c(1)), dtype: 'i32' }, []);
    const r = evaluate(g.close([full, fi, iota, d]), {
      inputs: new Map(),
      params: new Map(),
      dims: new Map([['T', 4]]),
    });
    expectT(r.outputs.get('y0')!, 'f32', [2], [NaN, NaN]);
    expectT(r.outputs.get('y1')!, 'i8', [], [44]);
    expectT(r.outputs.get('y2')!, 'i32', [2, 3], [0, 1, 2, 0, 1, 2]);
    expectT(r.outputs.get('y3')!, 'i32', [], [9]);
  });
  it('random is the uniform stream of (seed, key)', () => {
    const g = new Fed();
    const y = g.run(g.node('random', { seed: 7, key: 'drop', shape: [c(3), c(5)] }, []));
    expectT(y, 'f32', [3, 5], [...uniformStream(7, 'drop', 15)]);
    expect(y.data.every((v) => v >= 0 && v < 1 && Math.fround(v) === v)).toBe(true);
  });
});

describe('graphs, dims and errors', () => {
  it('runs one graph at two sizes of a symbolic dim', () => {
    const g = new Fed();
    const x = g.in(f32([3], [1, 2, 3]), [T]);
    const s = g.node('reduce', { fn: 'sum', axes: [0], keepdim: false }, [x]);
    const p = g.node('pad', { pads: [[c(1), c(1)]], value: 0 }, [x]);
    const w = g.node('window', { axes: [0], size: [2], stride: [1], dilation: [1] }, [x]);
    const graph = g.close([s, p, w]);
    const r3 = evaluate(graph, { inputs: g.feeds, params: new Map(), dims: none }).outputs;
    expectT(r3.get('y0')!, 'f32', [], [6]);
    expectT(r3.get('y1')!, 'f32', [5], [0, 1, 2, 3, 0]);
    expectT(r3.get('y2')!, 'f32', [2, 2], [1, 2, 2, 3]);
    const inputs = new Map([['x0', f32([5], [1, 2, 3, 4, 5])]]);
    const r5 = evaluate(graph, { inputs, params: new Map(), dims: none }).outputs;
    expectT(r5.get('y0')!, 'f32', [], [15]);
    expectT(r5.get('y1')!, 'f32', [7], [0, 1, 2, 3, 4, 5, 0]);
    expectT(r5.get('y2')!, 'f32', [4, 2], [1, 2, 2, 3, 3, 4, 4, 5]);
    // A window longer than the axis gives a negative size: a user error.
    const one = new Map([['x0', f32([0], [])]]);
    expect(() => evaluate(graph, { inputs: one, params: new Map(), dims: none })).toThrow(EvalError);
  });
  it('slices with symbolic starts', () => {
    const g = new Fed();
    const x = g.in(f32([4], [1, 2, 3, 4]), [T]);
    const y = g.node('slice', { starts: [dimAdd(T, c(-2))], sizes: [c(2)], steps: [1] }, [x]);
    expectT(g.run(y), 'f32', [2], [3, 4]);
  });
  const graphOf = (...shapes: Dim[][]): Graph => {
    const g = new Fed();
    shapes.forEach((s) => g.in(f32([], [0]), s));
    return g.close([]);
  };
  it('bindDims solves plain and linear dims', () => {
    const B = dimSym('B');
    const g = graphOf([B, dimMul(c(2), T)], [dimAdd(T, c(1))]);
    const m = bindDims(
      g,
      new Map([
        ['x0', [4, 6]],
        ['x1', [4]],
      ]),
    );
    expect([...m].sort()).toEqual([
      ['B', 4],
      ['T', 3],
    ]);
    const given = bindDims(g, new Map([['x1', [4]]]), new Map([['B', 9]]));
    expect(given.get('T')).toBe(3);
    expect(given.get('B')).toBe(9);
    // T bound by the second input solves the first one's product.
    const prod = graphOf([dimMul(T, B)], [T]);
    const pm = bindDims(
      prod,
      new Map([
        ['x0', [6]],
        ['x1', [2]],
      ]),
    );
    expect(pm.get('B')).toBe(3);
  });
  it('bindDims reports contradictions and unsolvable dims', () => {
    const g = graphOf([T], [T]);
    const feeds = new Map([
      ['x0', [3]],
      ['x1', [4]],
    ]);
    expect(() => bindDims(g, feeds)).toThrow(/input 'x1' axis 0: expected T = 3, got 4/);
    expect(() => bindDims(g, new Map([['x0', [3]]]), new Map([['T', 5]]))).toThrow(
      /input 'x0' axis 0: expected T = 5, got 3/,
    );
    expect(() => bindDims(graphOf([dimMul(c(2), T)]), new Map([['x0', [7]]]))).toThrow(/cannot bind dim 'T'.*2\*T = 7/);
    expect(() => bindDims(graphOf([dimMul(T, T)]), new Map([['x0', [9]]]))).toThrow(EvalError);
    expect(() => bindDims(graphOf([T, c(2)]), new Map([['x0', [3]]]))).toThrow(/rank 1, expected 2/);
    expect(() => bindDims(graphOf([T]), new Map([['x0', [3]]]), new Map([['T', -1]]))).toThrow(EvalError);
  });
  it('concreteShape', () => {
    expect(concreteShape([T, dimMul(c(2), T), c(5)], new Map([['T', 3]]))).toEqual([3, 6, 5]);
    expect(() => concreteShape([T], none)).toThrow(/dim 'T' is not bound/);
    expect(() => concreteShape([dimAdd(T, c(-4))], new Map([['T', 3]]))).toThrow(EvalError);
  });
  it('rejects missing and mis-typed inputs and params, and unbound dims', () => {
    const g = new Fed();
    const x = g.in(f32([2], [1, 2]));
    const graph = g.close([g.node('unary', { fn: 'neg' }, [x])]);
    const run = (inputs: Map<string, HostTensor>) => () => evaluate(graph, { inputs, params: new Map(), dims: none });
    expect(run(new Map())).toThrow(/missing input 'x0'/);
    expect(run(new Map([['x0', f32([3], [1, 2, 3])]]))).toThrow(/expected 2, got 3/);
    expect(run(new Map([['x0', tt('f16', [2], [1, 2])]]))).toThrow(/dtype f16, expected f32/);
    const h = new Fed();
    const i = h.in(i32([1], [1]));
    const hg = h.close([h.node('unary', { fn: 'neg' }, [i])]);
    const bad = { dtype: 'i32' as const, shape: [1], data: Float64Array.of(0.5) };
    expect(() => evaluate(hg, { inputs: new Map([['x0', bad]]), params: new Map(), dims: none })).toThrow(/not a i32/);
    const k = new Fed();
    const full = k.node('full', { value: 1, dtype: 'f32', shape: [dimSym('S')] }, []);
    expect(() => k.run(full)).toThrow(/dim 'S' is not bound/);
    const p = k.node(
      'param',
      {
        path: 'w',
        role: 'param',
        dtype: 'f32',
        shape: [c(2)],
        init: { fn: 'zeros', args: {} },
      },
      [],
    );
    expect(() => k.run(p)).toThrow(/missing param 'w'/);
  });
  it('params, buffer updates, and only live nodes are evaluated', () => {
    const g = new Fed();
    const init = { fn: 'zeros' as const, args: {} };
    const w = g.node('param', { path: 'w', role: 'param', dtype: 'f32', shape: [c(2)], init }, []);
    const steps = g.node('param', { path: 'steps', role: 'buffer', dtype: 'i32', shape: [], init }, []);
    g.node('param', { path: 'unused', role: 'param', dtype: 'f32', shape: [c(2)], init }, []); // dead: never asked for
    const one = g.node('full', { value: 1, dtype: 'i32', shape: [] }, []);
    const y = g.node('binary', { fn: 'mul' }, [g.in(f32([2], [3, 4])), w]);
    const graph = g.close([y], [{ path: 'steps', node: g.node('binary', { fn: 'add' }, [steps, one]) }]);
    const params = new Map([
      ['w', f32([2], [2, 0.5])],
      ['steps', i32([], [41])],
    ]);
    const r = evaluate(graph, { inputs: g.feeds, params, dims: none });
    expectT(r.outputs.get('y0')!, 'f32', [2], [6, 2]);
    expectT(r.updates.get('steps')!, 'i32', [], [42]);
    params.set('w', f32([3], [1, 2, 3]));
    expect(() => evaluate(graph, { inputs: g.feeds, params, dims: none })).toThrow(/param 'w' has shape \[3\]/);
  });
});
