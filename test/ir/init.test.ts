import { describe, expect, it } from 'vitest';
import { type Dim, dimConst, dimSym } from '../../src/ir/dims.js';
import type { Dtype } from '../../src/ir/dtype.js';
import { GraphBuilder } from '../../src/ir/graph.js';
import { initParam, normalStream, randomInput } from '../../src/ir/init.js';
import type { InitFn, OpArgs } from '../../src/ir/ops.js';
import { philox4x32, streamKey, uniformStream } from '../../src/ir/philox.js';
import { roundTo } from '../../src/ir/value.js';

const c = dimConst;
const none = new Map<string, number>();

const param = (
  fn: InitFn,
  args: Record<string, number> = {},
  shape: Dim[] = [c(100), c(100)],
  path = 'blocks.0.w',
  dtype: Dtype = 'f32',
): OpArgs['param'] => ({ path, role: 'param', dtype, shape, init: { fn, args } });

function stats(xs: Float64Array): { mean: number; std: number; min: number; max: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  return { mean, std: Math.sqrt(variance), min: Math.min(...xs), max: Math.max(...xs) };
}

describe('philox', () => {
  it('matches the Random123 known-answer vectors', () => {
    expect(philox4x32([0, 0, 0, 0], [0, 0])).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    const ff = 0xffffffff;
    expect(philox4x32([ff, ff, ff, ff], [ff, ff])).toEqual([0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
    expect(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])).toEqual([
      0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1,
    ]);
  });
  it('keys streams by FNV-1a 64 of the seed bytes and the UTF-8 key', () => {
    // Reference values from an independent FNV-1a implementation over seed (8 bytes LE) + key.
    expect(streamKey(0, '')).toEqual([0x281a39c5, 0xa8c7f832]);
    expect(streamKey(0, 'a')).toEqual([0x248ff1ac, 0xe604613a]);
    expect(streamKey(1, 'param:w')).toEqual([0xe1c6da6e, 0x4a999e66]);
    expect(streamKey(-1, 'é')).toEqual([0x8aa57ba9, 0xe27227b7]);
    expect(() => streamKey(0.5, 'a')).toThrow(RangeError);
  });
  it('uniform streams: 24-bit values in [0, 1) from the counter blocks, prefix-stable', () => {
    const u = uniformStream(3, 'k', 10);
    const words = [0, 1, 2].flatMap((i) => philox4x32([i, 0, 0, 0], streamKey(3, 'k')));
    expect([...u]).toEqual(words.slice(0, 10).map((w) => Math.floor(w / 256) / 2 ** 24));
    expect([...uniformStream(3, 'k', 5)]).toEqual([...u.slice(0, 5)]);
    expect(uniformStream(3, 'k', 0).length).toBe(0);
    expect([...uniformStream(4, 'k', 10)]).not.toEqual([...u]);
    expect([...uniformStream(3, 'j', 10)]).not.toEqual([...u]);
    expect([...uniformStream(3, 'k', 10, 0)]).toEqual([...u]);
    const s7 = [0, 1, 2].flatMap((i) => philox4x32([i, 0, 7, 0], streamKey(3, 'k')));
    expect([...uniformStream(3, 'k', 10, 7)]).toEqual(s7.slice(0, 10).map((w) => Math.floor(w / 256) / 2 ** 24));
    expect(() => uniformStream(3, 'k', 10, 0.5)).toThrow(RangeError);
    // A piece of the stream from any start is that slice of the whole stream.
    for (const start of [0, 1, 3, 4, 5])
      expect([...uniformStream(3, 'k', 5, 0, start)]).toEqual([...u.slice(start, start + 5)]);
  });
  it('draws big normal params in pieces with the numbers of one whole stream', () => {
    const n = (1 << 21) + 3; // many pieces of uniform pairs and an odd tail
    const z = normalStream(9, 'big', n);
    const u = uniformStream(9, 'big', n + 1);
    for (const i of [0, 1, 2 * (1 << 20) - 1, 2 * (1 << 20), 2 * (1 << 20) + 1, n - 2, n - 1]) {
      const pair = Math.floor(i / 2);
      const r = Math.sqrt(-2 * Math.log(1 - u[2 * pair]!));
      const theta = 2 * Math.PI * u[2 * pair + 1]!;
      expect(z[i]).toBe(i % 2 === 0 ? r * Math.cos(theta) : r * Math.sin(theta));
    }
    const big = uniformStream(1, 'stats', 10000);
    const s = stats(big);
    expect(s.min).toBeGreaterThanOrEqual(0);
    expect(s.max).toBeLessThan(1);
    expect(Math.abs(s.mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(s.std - Math.sqrt(1 / 12))).toBeLessThan(0.01);
    expect(big.every((v) => Number.isInteger(v * 2 ** 24))).toBe(true);
  });
});

describe('initParam', () => {
  it('is deterministic in (seed, path) and independent of other params', () => {
    const a = initParam(param('normal'), none, 42);
    initParam(param('normal', {}, [c(7)], 'other'), none, 42);
    const b = initParam(param('normal'), none, 42);
    expect(Buffer.from(b.data.buffer).equals(Buffer.from(a.data.buffer))).toBe(true);
    expect([...initParam(param('normal', {}, undefined, 'blocks.1.w'), none, 42).data]).not.toEqual([...a.data]);
    expect([...initParam(param('normal'), none, 43).data]).not.toEqual([...a.data]);
    // The first elements do not depend on the param's size.
    const small = initParam(param('normal', {}, [c(3)]), none, 42);
    expect([...small.data]).toEqual([...a.data.slice(0, 3)]);
  });
  it('constants', () => {
    const shape = [c(2), c(2)];
    expect([...initParam(param('zeros', {}, shape), none, 0).data]).toEqual([0, 0, 0, 0]);
    expect([...initParam(param('ones', {}, shape), none, 0).data]).toEqual([1, 1, 1, 1]);
    expect([...initParam(param('constant', { value: 0.5 }, [c(3)]), none, 0).data]).toEqual([0.5, 0.5, 0.5]);
    expect([...initParam(param('constant', { value: 0.1 }, [c(1)]), none, 0).data]).toEqual([Math.fround(0.1)]);
    expect([...initParam(param('constant', { value: 1.5 }, [c(1)], 'n', 'i32'), none, 0).data]).toEqual([1]);
    const d = initParam(param('ones', {}, [dimSym('d')]), new Map([['d', 3]]), 0);
    expect(d.shape).toEqual([3]);
  });
  it('normal and uniform statistics (defaults and arguments)', () => {
    const n = stats(initParam(param('normal'), none, 1).data);
    expect(Math.abs(n.mean)).toBeLessThan(0.03);
    expect(Math.abs(n.std - 1)).toBeLessThan(0.03);
    const n2 = stats(initParam(param('normal', { mean: 3, std: 0.5 }), none, 1).data);
    expect(Math.abs(n2.mean - 3)).toBeLessThan(0.02);
    expect(Math.abs(n2.std - 0.5)).toBeLessThan(0.02);
    const u = stats(initParam(param('uniform'), none, 1).data);
    expect(u.min).toBeGreaterThanOrEqual(-1);
    expect(u.max).toBeLessThan(1);
    expect(Math.abs(u.mean)).toBeLessThan(0.03);
    expect(Math.abs(u.std - 1 / Math.sqrt(3))).toBeLessThan(0.02);
    const u2 = stats(initParam(param('uniform', { low: 2, high: 4 }), none, 1).data);
    expect(u2.min).toBeGreaterThanOrEqual(2);
    expect(u2.max).toBeLessThan(4);
    expect(Math.abs(u2.mean - 3)).toBeLessThan(0.03);
  });
  it('normal samples have the Gaussian shape', () => {
    const xs = initParam(param('normal'), none, 5).data;
    const within1 = xs.filter((x) => Math.abs(x) < 1).length / xs.length;
    const within2 = xs.filter((x) => Math.abs(x) < 2).length / xs.length;
    expect(Math.abs(within1 - 0.6827)).toBeLessThan(0.02);
    expect(Math.abs(within2 - 0.9545)).toBeLessThan(0.01);
  });
  it('trunc_normal: absolute bounds a = -2, b = 2 by default', () => {
    const t = stats(initParam(param('trunc_normal'), none, 2).data);
    expect(Math.abs(t.std - 0.02)).toBeLessThan(0.001);
    // std = 1 truncated at ±2: variance 1 - 4 phi(2) / (Phi(2) - Phi(-2)) = 0.7737, std 0.8796.
    const t1 = stats(initParam(param('trunc_normal', { std: 1 }), none, 2).data);
    expect(t1.min).toBeGreaterThanOrEqual(-2);
    expect(t1.max).toBeLessThanOrEqual(2);
    expect(Math.abs(t1.std - 0.8796)).toBeLessThan(0.02);
    const t2 = stats(initParam(param('trunc_normal', { std: 1, mean: 1, a: 0.5, b: 1.5 }), none, 2).data);
    expect(t2.min).toBeGreaterThanOrEqual(0.5);
    expect(t2.max).toBeLessThanOrEqual(1.5);
    expect(Math.abs(t2.mean - 1)).toBeLessThan(0.01);
  });
  it('xavier and kaiming use fan_in = dims after the first, fan_out = the first', () => {
    // [100, 100]: xavier_uniform bound sqrt(6 / 200), xavier_normal std sqrt(2 / 200) = 0.1.
    const xu = stats(initParam(param('xavier_uniform'), none, 3).data);
    expect(xu.max).toBeLessThanOrEqual(0.17320508075688773 * (1 + 1e-7)); // rounded to f32
    expect(xu.max).toBeGreaterThan(0.17);
    expect(Math.abs(xu.std - 0.1)).toBeLessThan(0.003);
    const xg = stats(initParam(param('xavier_uniform', { gain: 2 }), none, 3).data);
    expect(Math.abs(xg.std - 0.2)).toBeLessThan(0.006);
    const xn = stats(initParam(param('xavier_normal'), none, 3).data);
    expect(Math.abs(xn.std - 0.1)).toBeLessThan(0.003);
    // [64, 4, 64]: fan_in 256. kaiming_uniform bound sqrt(2) * sqrt(3 / 256), std sqrt(2 / 256) = 0.0884.
    const shape = [c(64), c(4), c(64)];
    const ku = stats(initParam(param('kaiming_uniform', {}, shape), none, 4).data);
    expect(Math.max(ku.max, -ku.min)).toBeLessThanOrEqual(0.15309310892394862 * (1 + 1e-7));
    expect(Math.abs(ku.std - 0.08838834764831845)).toBeLessThan(0.003);
    const kn = stats(initParam(param('kaiming_normal', {}, shape), none, 4).data);
    expect(Math.abs(kn.mean)).toBeLessThan(0.003);
    expect(Math.abs(kn.std - 0.08838834764831845)).toBeLessThan(0.003);
    // PyTorch's Linear default, kaiming_uniform(a = sqrt(5)) on [out, in = 400]: bound 1 / sqrt(400) = 0.05.
    const kl = stats(initParam(param('kaiming_uniform', { a: Math.sqrt(5) }, [c(30), c(400)]), none, 4).data);
    expect(kl.max).toBeLessThanOrEqual(0.05 * (1 + 1e-7));
    expect(kl.max).toBeGreaterThan(0.0499);
  });
  it('rounds to the param dtype', () => {
    const b = initParam(param('normal', {}, [c(1000)], 'w', 'bf16'), none, 9);
    expect(b.dtype).toBe('bf16');
    expect(b.data.every((v) => roundTo('bf16', v) === v)).toBe(true);
    const h = initParam(param('uniform', {}, [c(1000)], 'w', 'f16'), none, 9);
    expect(h.data.every((v) => roundTo('f16', v) === v)).toBe(true);
  });
});

describe('randomInput', () => {
  const b = new GraphBuilder();
  const input = (name: string, dtype: Dtype, shape: Dim[]) => b.node('input', { name, index: 0, dtype, shape }, []);
  it('floats are standard normal, rounded to the dtype, deterministic by name', () => {
    const x = randomInput(input('x', 'f32', [dimSym('B'), c(5000)]), new Map([['B', 2]]), 0);
    expect(x.shape).toEqual([2, 5000]);
    const s = stats(x.data);
    expect(Math.abs(s.mean)).toBeLessThan(0.03);
    expect(Math.abs(s.std - 1)).toBeLessThan(0.03);
    expect(x.data.every((v) => Math.fround(v) === v)).toBe(true);
    const again = randomInput(input('x', 'f32', [dimSym('B'), c(5000)]), new Map([['B', 2]]), 0);
    expect([...again.data]).toEqual([...x.data]);
    const y = randomInput(input('y', 'f32', [c(2), c(5000)]), none, 0);
    expect([...y.data]).not.toEqual([...x.data]);
    const h = randomInput(input('h', 'f16', [c(100)]), none, 0);
    expect(h.data.every((v) => roundTo('f16', v) === v)).toBe(true);
  });
  it('integers are uniform in [0, intHigh)', () => {
    const t = randomInput(input('tokens', 'i32', [c(10000)]), none, 1, 50257);
    expect(t.dtype).toBe('i32');
    expect(t.data.every((v) => Number.isInteger(v) && v >= 0 && v < 50257)).toBe(true);
    expect(Math.abs(stats(t.data).mean - 25128)).toBeLessThan(600);
    const d = randomInput(input('d', 'i8', [c(1000)]), none, 1);
    expect(new Set(d.data)).toEqual(new Set([0, 1]));
    expect(() => randomInput(input('e', 'i8', [c(4)]), none, 1, 1000)).toThrow(RangeError);
    expect(() => randomInput(input('e', 'i32', [c(4)]), none, 1, 0)).toThrow(RangeError);
  });
  it('bools are 0 or 1 with equal odds', () => {
    const m = randomInput(input('mask', 'bool', [c(10000)]), none, 2);
    expect(m.data.every((v) => v === 0 || v === 1)).toBe(true);
    expect(Math.abs(stats(m.data).mean - 0.5)).toBeLessThan(0.02);
  });
});
