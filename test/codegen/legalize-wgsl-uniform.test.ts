// WGSL legalization of a Philox draw (src/codegen/legalize-wgsl.ts), TVM style: the step is
// the high half of the counter, 64 bits on C and on WGSL (an integer value is two words
// there); it reaches fmc_uniform as its two words, read from the i64 buffer (the train
// step's `train.step`: the seed is the high word) or split from a constant.

import { describe, expect, it } from 'vitest';
import { legalizeWgsl } from '../../src/codegen/legalize-wgsl.js';
import type { KExpr, Kernel } from '../../src/ir/kernel.js';

const c32 = (v: number): KExpr => ({ k: 'const', t: 'i32', v });
const i32v: KExpr = { k: 'var', name: 'i', t: 'i32' };

function draw(step: KExpr): Kernel {
  return {
    name: 'k0_ew',
    params: [
      { dtype: 'f32', access: 'write' },
      { dtype: 'i64', access: 'read' },
    ],
    body: [{ k: 'store', buf: 0, index: i32v, value: { k: 'uniform', k0: 0x9abcdef0, k1: 7, index: i32v, step } }],
    note: '',
    schedule: {},
  };
}

/** The value stored by the legalized kernel. */
function stored(k: Kernel): KExpr {
  const s = legalizeWgsl(k).body.find((x) => x.k === 'store');
  if (!s || s.k !== 'store') throw new Error('no store');
  return s.value;
}

describe('legalizeWgsl: fmc_uniform', () => {
  it('takes both words of an i64 step read from a buffer', () => {
    const at: KExpr = { k: 'ix', op: '*', a: c32(0), b: c32(2) };
    expect(stored(draw({ k: 'load', buf: 1, index: { k: 'const', t: 'i64', v: 0 }, t: 'i64' }))).toEqual({
      k: 'call',
      fn: 'fmc_uniform',
      args: [
        c32(0x9abcdef0),
        c32(7),
        i32v,
        { k: 'word', buf: 1, index: at },
        { k: 'word', buf: 1, index: { k: 'ix', op: '+', a: at, b: c32(1) } },
      ],
      t: 'f32',
    });
  });

  it('splits a constant step into its words (2^32 · 5 + 3: high 5, low 3)', () => {
    const v = stored(draw({ k: 'const', t: 'i64', v: 2 ** 32 * 5 + 3 }));
    expect(v).toMatchObject({ k: 'call', fn: 'fmc_uniform' });
    expect((v as Extract<KExpr, { k: 'call' }>).args.slice(3)).toEqual([c32(3), c32(5)]);
  });
});
