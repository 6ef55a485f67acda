// WGSL legalization (src/codegen/legalize-wgsl.ts), TVM style: a kernel before and the
// kernel expected after.

import { describe, expect, it } from 'vitest';
import { legalizeWgsl } from '../../src/codegen/legalize-wgsl.js';
import type { Dtype } from '../../src/ir/dtype.js';
import type { BitOp, KExpr, KStmt, Kernel } from '../../src/ir/kernel.js';

const kernel = (dtypes: Dtype[], body: KStmt[]): Kernel => ({
  name: 'k0_ew',
  params: dtypes.map((dtype, i) => ({ dtype, access: i === 0 ? 'write' : 'read' })),
  body,
  note: '',
  schedule: {},
});
const c32 = (v: number): KExpr => ({ k: 'const', t: 'i32', v });
const c64 = (v: number): KExpr => ({ k: 'const', t: 'i64', v });
const bits = (op: BitOp, a: KExpr, b: KExpr): KExpr => ({ k: 'bits', op, a, b });
const i: KExpr = { k: 'var', name: 'i', t: 'i64' };
const i32v: KExpr = { k: 'var', name: 'i', t: 'i32' };

describe('legalizeWgsl', () => {
  it('i64 values compute in 64 bits: literals and loads as two words, fmc_add_l, stored as both words; the index in i32', () => {
    const before = kernel(
      ['i64', 'i64'],
      [
        {
          k: 'store',
          buf: 0,
          index: i,
          value: { k: 'bin', fn: 'add', a: { k: 'load', buf: 1, index: i, t: 'i64' }, b: c64(2 ** 40 + 7), t: 'i64' },
        },
      ],
    );
    const v: KExpr = { k: 'var', name: 'lgw_1', t: 'i64' };
    const lo: KExpr = { k: 'ix', op: '*', a: { k: 'var', name: 'lgw_0', t: 'i32' }, b: c32(2) };
    const at: KExpr = { k: 'ix', op: '*', a: i32v, b: c32(2) };
    const call = (fn: string, args: KExpr[], t: 'i32' | 'i64'): KExpr => ({ k: 'call', fn, args, t });
    expect(legalizeWgsl(before)).toEqual({
      ...before,
      params: [
        { dtype: 'i64', access: 'write', words: 'plain' },
        { dtype: 'i64', access: 'read', words: 'plain' },
      ],
      body: [
        { k: 'let', name: 'lgw_0', t: 'i32', value: i32v },
        {
          k: 'let',
          name: 'lgw_1',
          t: 'i64',
          value: call(
            'fmc_add_l',
            [
              call(
                'fmc_i64',
                [
                  { k: 'word', buf: 1, index: at },
                  { k: 'word', buf: 1, index: { k: 'ix', op: '+', a: at, b: c32(1) } },
                ],
                'i64',
              ),
              call('fmc_i64', [c32(7), c32(256)], 'i64'),
            ],
            'i64',
          ),
        },
        { k: 'wstore', buf: 0, index: lo, value: call('fmc_lo', [v], 'i32') },
        { k: 'wstore', buf: 0, index: { k: 'ix', op: '+', a: lo, b: c32(1) }, value: call('fmc_hi', [v], 'i32') },
      ],
    });
  });

  it('a local holds a value once any assignment is one; loop variables and indices stay i32', () => {
    const acc: KExpr = { k: 'var', name: 'acc', t: 'i64' };
    const before = kernel(
      ['i64', 'i32'],
      [
        { k: 'let', name: 'acc', t: 'i64', value: c64(0) },
        { k: 'let', name: 'n', t: 'i64', value: { k: 'ix', op: '+', a: i, b: c64(1) } },
        {
          k: 'for',
          v: 'j',
          lo: c64(0),
          hi: { k: 'var', name: 'n', t: 'i64' },
          step: 1,
          mode: 'serial',
          body: [
            {
              k: 'set',
              name: 'acc',
              value: {
                k: 'bin',
                fn: 'add',
                a: acc,
                b: { k: 'load', buf: 1, index: { k: 'var', name: 'j', t: 'i64' }, t: 'i64' },
                t: 'i64',
              },
            },
          ],
        },
        { k: 'store', buf: 0, index: acc, value: acc },
      ],
    );
    const body = legalizeWgsl(before).body;
    expect(body[0]).toEqual({
      k: 'let',
      name: 'acc',
      t: 'i64',
      value: { k: 'call', fn: 'fmc_i64', args: [c32(0), c32(0)], t: 'i64' },
    });
    expect(body[1]).toEqual({ k: 'let', name: 'n', t: 'i32', value: { k: 'ix', op: '+', a: i32v, b: c32(1) } });
    expect(body[2]).toMatchObject({ k: 'for', lo: c32(0), hi: { k: 'var', name: 'n', t: 'i32' } });
    // The value used as a store index is narrowed to its low word.
    const accv: KExpr = { k: 'var', name: 'acc', t: 'i64' };
    expect(body[3]).toEqual({
      k: 'let',
      name: 'lgw_0',
      t: 'i32',
      value: { k: 'call', fn: 'fmc_lo', args: [accv], t: 'i32' },
    });
  });

  it('f16 loads unpack a half word; bool stores are atomic byte updates; float compares test NaN by bits', () => {
    const before = kernel(
      ['bool', 'f16'],
      [
        {
          k: 'store',
          buf: 0,
          index: i,
          value: { k: 'cmp', op: '<', a: { k: 'load', buf: 1, index: i, t: 'f32' }, b: { k: 'const', t: 'f32', v: 0 } },
        },
      ],
    );
    const half = bits(
      '&',
      bits(
        '>>>',
        { k: 'word', buf: 1, index: { k: 'ix', op: '/', a: i32v, b: c32(2) } },
        bits('<<', bits('&', i32v, c32(1)), c32(4)),
      ),
      c32(0xffff),
    );
    const lt: KExpr = {
      k: 'call',
      fn: 'fmc_lt_f',
      args: [
        { k: 'call', fn: 'fmc_h2f', args: [half], t: 'f32' },
        { k: 'const', t: 'f32', v: 0 },
      ],
      t: 'bool',
    };
    const at: KExpr = { k: 'var', name: 'lgw_0', t: 'i32' };
    const shift = bits('<<', bits('&', at, c32(3)), c32(3));
    const after = legalizeWgsl(before);
    expect(after.params.map((p) => p.words)).toEqual(['atomic', 'plain']);
    expect(after.body).toEqual([
      { k: 'let', name: 'lgw_0', t: 'i32', value: i32v },
      { k: 'let', name: 'lgw_1', t: 'i32', value: { k: 'select', c: lt, a: c32(1), b: c32(0), t: 'i32' } },
      {
        k: 'wstore',
        buf: 0,
        index: { k: 'ix', op: '/', a: at, b: c32(4) },
        value: bits('<<', { k: 'var', name: 'lgw_1', t: 'i32' }, shift),
        mask: bits('<<', c32(0xff), shift),
      },
    ]);
  });

  it('CPU scratch arrays are refused (a kernel lowered for the CPU)', () => {
    const local = kernel(['f32'], [{ k: 'array', name: 'a', t: 'f32', size: 4, space: 'local' }]);
    expect(() => legalizeWgsl(local)).not.toThrow();
    const before = { ...local, cpu: { work: {}, scratch: ['a'] } };
    expect(() => legalizeWgsl(before)).toThrow(/target 'gpu'/);
  });
});
