// The cumsum primitive on the reference interpreter: inclusive, exclusive and reverse prefix
// sums along any axis, integer wrap-around, exact i64, and the rounding of 'dtype' precision
// (running sums in f32, outputs rounded to their dtype).

import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/build.js';
import type { Dtype } from '../../src/ir/dtype.js';
import { IRError } from '../../src/ir/graph.js';
import { evaluate, type Precision } from '../../src/ir/interp.js';
import { type HostTensor, hostTensor, i64Tensor } from '../../src/ir/value.js';

function run(x: HostTensor, axis: number, exclusive = false, reverse = false, precision: Precision = 'dtype') {
  const b = new Builder();
  const y = b.cumsum(b.input('x', x.dtype, x.shape), axis, exclusive, reverse);
  const g = b.graph('f', { y });
  return evaluate(g, { inputs: new Map([['x', x]]), params: new Map() }, { precision }).outputs.get('y')!;
}
const t = (dtype: Dtype, shape: number[], data: number[]) => hostTensor(dtype, shape, data);

describe('cumsum', () => {
  const x = t('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
  it('along the last axis: inclusive, exclusive, reverse', () => {
    expect([...run(x, 1).data]).toEqual([1, 3, 6, 4, 9, 15]);
    expect([...run(x, 1, true).data]).toEqual([0, 1, 3, 0, 4, 9]);
    expect([...run(x, 1, false, true).data]).toEqual([6, 5, 3, 15, 11, 6]);
    expect([...run(x, 1, true, true).data]).toEqual([5, 3, 0, 11, 6, 0]);
  });
  it('along the first axis', () => {
    expect([...run(x, 0).data]).toEqual([1, 2, 3, 5, 7, 9]);
    expect([...run(x, 0, true, true).data]).toEqual([4, 5, 6, 0, 0, 0]);
  });
  it('narrow integers wrap at every partial sum; i64 is exact beyond 2^53', () => {
    const r = run(t('i8', [4], [100, 100, -100, 50]), 0);
    expect(r.dtype).toBe('i8');
    expect([...r.data]).toEqual([100, -56, 100, -106]);
    const big = run(i64Tensor([3], BigInt64Array.of(2n ** 62n, 2n ** 62n, 1n)), 0);
    expect([...big.exact!]).toEqual([2n ** 62n, -(2n ** 63n), -(2n ** 63n) + 1n]);
  });
  it("'dtype' precision keeps the running sum in f32 and rounds each output to its dtype", () => {
    // 2^24 + 1 is not an f32: the f32 running sum stays at 2^24, float64 does not.
    const big = t('f32', [3], [2 ** 24, 1, 1]);
    expect([...run(big, 0).data]).toEqual([2 ** 24, 2 ** 24, 2 ** 24]);
    expect([...run(big, 0, false, false, 'float64').data]).toEqual([2 ** 24, 2 ** 24 + 1, 2 ** 24 + 2]);
    // f16 sums in f32 (2048, 2049, 2050), each output rounded to f16 (2049 is not an f16).
    const half = run(t('f16', [3], [2048, 1, 1]), 0);
    expect([...half.data]).toEqual([2048, 2048, 2050]);
  });
  it('is not defined on bool', () => {
    const b = new Builder();
    expect(() => b.cumsum(b.input('m', 'bool', [3]), 0)).toThrow(IRError);
  });
});
