// Half-type legalization (src/codegen/legalize-half.ts), TVM style: a kernel before and the
// kernel expected after. f16/bf16 values stay typed inside arithmetic and are widened to f32,
// exactly, where they leave it.

import { describe, expect, it } from 'vitest';
import { legalizeHalves } from '../../src/codegen/legalize-half.js';
import type { Dtype } from '../../src/ir/dtype.js';
import type { KExpr, KStmt, Kernel } from '../../src/ir/kernel.js';

const kernel = (dtypes: Dtype[], body: KStmt[]): Kernel => ({
  name: 'k0_ew',
  params: dtypes.map((dtype, i) => ({ dtype, access: i === 0 ? 'write' : 'read' })),
  body,
  note: '',
  schedule: {},
});
const i: KExpr = { k: 'var', name: 'i', t: 'i64' };
const load = (buf: number, t: 'f16' | 'bf16' | 'f32'): KExpr => ({ k: 'load', buf, index: i, t });
const wide = (a: KExpr, from: 'f16' | 'bf16'): KExpr => ({ k: 'cast', from, to: 'f32', a, t: 'f32' });
/** An f16/bf16 load as legalized: an f32 load that changes compute type. */
const halfLoad = (buf: number, t: 'f16' | 'bf16'): KExpr => ({ k: 'cast', from: t, to: t, a: load(buf, 'f32'), t });

describe('legalizeHalves', () => {
  it('keeps arithmetic typed, reads storage as f32, widens at stores, compares and truth tests', () => {
    const x = load(1, 'f16');
    const sum: KExpr = { k: 'bin', fn: 'add', a: x, b: { k: 'const', t: 'f16', v: 1 }, t: 'f16' };
    const before = kernel(
      ['f16', 'f16', 'bf16'],
      [
        {
          k: 'if',
          cond: { k: 'un', fn: 'not', a: load(2, 'bf16'), t: 'bool' },
          then: [
            {
              k: 'store',
              buf: 0,
              index: i,
              value: { k: 'select', c: { k: 'cmp', op: '<', a: x, b: sum }, a: sum, b: x, t: 'f16' },
            },
          ],
        },
      ],
    );
    const lx = halfLoad(1, 'f16');
    const lsum: KExpr = { ...sum, a: lx } as KExpr;
    expect(legalizeHalves(before)).toEqual({
      ...before,
      body: [
        {
          k: 'if',
          cond: { k: 'un', fn: 'not', a: wide(halfLoad(2, 'bf16'), 'bf16'), t: 'bool' },
          then: [
            {
              k: 'store',
              buf: 0,
              index: i,
              value: wide(
                {
                  k: 'select',
                  c: { k: 'cmp', op: '<', a: wide(lx, 'f16'), b: wide(lsum, 'f16') },
                  a: lsum,
                  b: lx,
                  t: 'f16',
                },
                'f16',
              ),
            },
          ],
        },
      ],
    });
  });

  it('widens the operand of a cast to an integer or bool, and of compare fns; f32 kernels are unchanged', () => {
    const x = load(1, 'bf16');
    const before = kernel(
      ['i32', 'bf16', 'f32'],
      [
        { k: 'store', buf: 0, index: i, value: { k: 'cast', from: 'bf16', to: 'i32', a: x, t: 'i64' } },
        { k: 'let', name: 'b', t: 'bool', value: { k: 'bin', fn: 'lt', a: x, b: x, t: 'bool' } },
        { k: 'let', name: 'f', t: 'f32', value: { k: 'un', fn: 'exp', a: load(2, 'f32'), t: 'f32' } },
      ],
    );
    const w = wide(halfLoad(1, 'bf16'), 'bf16');
    expect(legalizeHalves(before).body).toEqual([
      { k: 'store', buf: 0, index: i, value: { k: 'cast', from: 'bf16', to: 'i32', a: w, t: 'i64' } },
      { k: 'let', name: 'b', t: 'bool', value: { k: 'bin', fn: 'lt', a: w, b: w, t: 'bool' } },
      before.body[2],
    ]);
  });
});
