// The rendered C as text: deterministic (the same graph gives the same bytes, within one
// lowering and across two), free of user text outside comments (hostile input, param,
// output and block names change nothing but comments, and still compile and compute the same),
// and exact float literals (NaN, ±Inf, -0, subnormals, the largest float come back bit for bit).

import { describe, expect, it } from 'vitest';
import { renderC } from '../../src/codegen/c.js';
import { Builder } from '../../src/ir/build.js';
import { dimConst } from '../../src/ir/dims.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import { bf16Bits, f16Bits, f32Bits } from '../../src/ir/value.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { planToJson } from '../../src/runtime/plan-json.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { CBatch, assertClean, ht, runAndCompare, seededParams } from './c-harness.js';

const stripComments = (c: string): string => c.replace(/\/\*[\s\S]*?\*\//g, '');

/** A small model-like graph whose every user-visible name comes from `name`. */
function namedGraph(name: (role: string) => string): Graph {
  const g = new Builder();
  const x = g.input(name('x'), 'f32', ['B', 6]);
  const ids = g.input(name('ids'), 'i32', ['B']);
  // Nodes other than inputs are attributed to the block path, which the kernels' notes print.
  return g.within(name('block'), '', () => {
    const w = g.param(name('weight'), 'f32', [6, 5]);
    const table = g.param(name('table'), 'f32', [4, 6]);
    const mean = g.param(name('running_mean'), 'f32', [5], 'buffer', { fn: 'zeros', args: {} });
    const h = g.add(x, g.node('gather', { axis: 0 }, [table, ids]));
    const y = g.einsum('bi,io->bo', g.tanh(h), w);
    const m = g.amax(y, [1], true);
    const e = g.exp(g.sub(y, m));
    const soft = g.div(e, g.sum(e, [1], true));
    const top = g.node('topk', { k: 2, axis: 1, output: 'indices' }, [soft]);
    const upd = g.add(mean, g.sum(y, [0]));
    return g.graph(
      'forward',
      [
        { name: name('probs'), node: soft },
        { name: name('top'), node: top },
        { name: name('logits'), node: y },
      ],
      [{ path: name('running_mean'), node: upd }],
    );
  });
}

const plain = (role: string): string => role;
// Comment closers, quotes, newlines, a preprocessor hash, a backslash, a trigraph, non-ASCII,
// and the marker "Zq" so any leak outside comments is found by a search.
const HOSTILE = [`*/ "'\n#define x ??/\\ \u00e9\u4e2d\u{1F600}`, '/*', '*/', '\\', '\r\n#include <x>', '??/', '"', "'"];
const hostile = (role: string): string => `Zq${role}${HOSTILE.join(`Zq${role}`)}Zq`;

/** The bytes of a tensor's elements (its buffer may hold more: outputs sit at an aligned offset). */
const bytesOf = (t: Tensor): Uint8Array => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

describe('rendered C', () => {
  it('is deterministic: the same plan twice, and two separate lowerings of the same graph', () => {
    const a = lowerGraph(namedGraph(plain));
    const b = lowerGraph(namedGraph(plain));
    const sa = renderC(a.kernels, 'h');
    expect(renderC(a.kernels, 'h')).toBe(sa);
    expect(renderC(b.kernels, 'h')).toBe(sa);
    expect(JSON.stringify(planToJson(b))).toBe(JSON.stringify(planToJson(a)));
  });

  it('computes bit-identical results on 1 and 2 threads (no order-dependent parallel reductions)', () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [64, 700]);
    const w = g.input('w', 'f32', [700, 96]);
    const h = g.exp(g.mul(x, g.full(0.01, 'f32', [])));
    const graph = g.graph('forward', {
      mm: g.einsum('ik,kj->ij', h, w),
      rows: g.sum(h, [1]),
      cols: g.sum(h, [0]),
      all: g.sum(h, [0, 1]),
      top: g.node('topk', { k: 4, axis: 1, output: 'indices' }, [x]),
    });
    const batch = CBatch.build([graph]);
    const exe = batch.executable(0, new Map());
    const data = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
    const inputs = {
      x: new Tensor(
        'f32',
        data(64 * 700, (i) => Math.sin(i * 0.37) * 3),
        [64, 700],
      ),
      w: new Tensor(
        'f32',
        data(700 * 96, (i) => Math.cos(i * 0.11)),
        [700, 96],
      ),
    };
    exe.setThreads(1);
    const one = exe.run(inputs);
    exe.setThreads(2);
    const two = exe.run(inputs);
    for (const name of Object.keys(one)) expect(bytesOf(two[name]!), name).toEqual(bytesOf(one[name]!));
  });

  it('is byte-identical outside comments with hostile names, and holds no user text', () => {
    const gp = namedGraph(plain);
    const gh = namedGraph(hostile);
    const sp = renderC(lowerGraph(gp).kernels, 'fmc');
    const sh = renderC(lowerGraph(gh).kernels, 'fmc');
    expect(stripComments(sh)).toBe(stripComments(sp));
    // Comments are single-line and escaped: no user text survives that could end one early or
    // start a directive, no trigraph, nothing outside ASCII.
    expect(sh).not.toContain('??');
    expect(/^[\x09\x0a\x20-\x7e]*$/.test(sh)).toBe(true);
    for (const c of sh.match(/\/\*[\s\S]*?\*\//g) ?? []) {
      expect(c.includes('\n'), c).toBe(false);
      expect(c.slice(2, -2).includes('/*') || c.slice(2, -2).includes('*/'), c).toBe(false);
    }
    const code = stripComments(sh);
    expect(code).not.toContain('Zq');
    expect(code).not.toMatch(/\\/);
    // Every line starting with # is one of the renderer's own directives.
    for (const line of code.split('\n').filter((l) => l.trim().startsWith('#')))
      expect(line.trim()).toMatch(
        /^#(include <(stdint|math|string|omp)\.h>|pragma (omp|GCC) |if |ifn?def |define FMC_(FN|WIDE)\b|endif|else)/,
      );
    // The user names do reach the comments (escaped), so provenance is kept.
    expect(sh).toMatch(/Zqblock/);
  });

  it('with hostile names compiles and computes the same numbers', () => {
    const gp = namedGraph(plain);
    const gh = namedGraph(hostile);
    const batch = CBatch.build([gp, gh]);
    const x = ht(
      'f32',
      [3, 6],
      Array.from({ length: 18 }, (_, i) => Math.sin(i) * 2),
    );
    const ids = ht('i32', [3], [0, 3, 9]);
    const params = seededParams(gp, new Map(), 4);
    const run = (i: number, g: Graph, name: (r: string) => string) => {
      const named = new Map([...params].map(([path, t]) => [name(path), t]));
      const r = runAndCompare(batch, i, { inputs: { [name('x')]: x, [name('ids')]: ids }, params: named });
      assertClean(g, r.problems);
      return r.c;
    };
    const cp = run(0, gp, plain);
    const ch = run(1, gh, hostile);
    for (const role of ['probs', 'top', 'logits']) expect(bytesOf(ch[hostile(role)]!)).toEqual(bytesOf(cp[role]!));
  });

  it('keeps generated identifiers only: every identifier in a kernel is C, a prelude function or generated', () => {
    const src = stripComments(renderC(lowerGraph(namedGraph(hostile)).kernels, 'fmc'));
    // Kernels and their outlined parallel loops (kN_name_pJ).
    const bodies = src.match(/^static void k\d+_[a-z0-9_]+\((const )?void[\s\S]*?^\}/gm) ?? [];
    expect(bodies.length).toBeGreaterThan(3);
    const idents = new Set(
      bodies
        .join('\n')
        .replace(/^\s*#.*$/gm, '')
        // Hex-float literals (0x1.8p+0f) are numbers, not identifiers.
        .replace(/0x[0-9a-f]+(\.[0-9a-f]*)?p[+-]?\d+f?/gi, '0')
        .match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [],
    );
    const C_WORDS = new Set(
      'static void const int int64_t int32_t int8_t uint8_t uint16_t float restrict for if else __attribute__ aligned fmaf __builtin_nanf __builtin_inff _Thread_local a d v struct'.split(
        ' ',
      ),
    );
    // Prelude calls, kernel names, buffer params, generated locals (prefix and counter), hex-float literals.
    const generated = /^(fmc_[a-z0-9_]+|k\d+_[a-z_]+(_p\d+)?|b\d+|[a-z][a-z0-9]*_?\d+|x[0-9a-f.]+p|[0-9]+(LL)?|f)$/;
    expect([...idents].filter((w) => !C_WORDS.has(w) && !generated.test(w))).toEqual([]);
  });
});

// ---------- float literals ----------

const F32_MAX = 3.4028234663852886e38;
const VALUES = [
  NaN,
  Infinity,
  -Infinity,
  -0,
  0,
  1.401298464324817e-45,
  -1.401298464324817e-45,
  1e-40,
  1.1754942e-38,
  F32_MAX,
  -F32_MAX,
  0.1,
  1 / 3,
  -2.5,
];

describe('float literals', () => {
  it('round-trip exactly through full (f32, f16, bf16), fused arithmetic and pad fills', () => {
    // One graph per value: kernel sharing inside a plan must not get a say here (see the next test).
    const graphs = VALUES.map((v) => {
      const g = new Builder();
      const x = g.input('x', 'f32', [2]);
      return g.graph('forward', {
        f32: g.full(v, 'f32', [2]),
        f16: g.full(v, 'f16', [2]),
        bf16: g.full(v, 'bf16', [2]),
        mul: g.mul(x, g.full(v, 'f32', [])),
        pad: g.node('pad', { pads: [[dimConst(1), dimConst(0)]], value: v }, [x]),
      });
    });
    const ints = new Builder();
    graphs.push(
      ints.graph('forward', {
        i64_min: ints.full(-(2 ** 63), 'i64', [1]),
        i64_big: ints.full(2 ** 62 + 2 ** 40, 'i64', [1]),
        i32_min: ints.full(-(2 ** 31), 'i32', [1]),
      }),
    );
    const batch = CBatch.build(graphs);
    const x = new Tensor('f32', Float32Array.of(1, -1), [2]);
    const f32 = (y: number): number => (Number.isNaN(y) ? 0x7fc00000 : f32Bits(y));
    const bits = (t: Tensor): number[] =>
      [...new Uint32Array((t.data as Float32Array).slice().buffer)].map((w) =>
        (w & 0x7fffffff) > 0x7f800000 ? 0x7fc00000 : w,
      );
    const halves = (t: Tensor): number[] => [...(t.data as Uint16Array)];
    VALUES.forEach((v, i) => {
      const c = batch.executable(i, new Map()).run({ x });
      const f = Math.fround(v);
      expect(bits(c['f32']!), `f32 ${v}`).toEqual([f32(f), f32(f)]);
      expect(halves(c['f16']!), `f16 ${v}`).toEqual([f16Bits(v), f16Bits(v)]);
      expect(halves(c['bf16']!), `bf16 ${v}`).toEqual([bf16Bits(v), bf16Bits(v)]);
      expect(bits(c['mul']!), `mul ${v}`).toEqual([f32(Math.fround(f)), f32(Math.fround(-f))]);
      expect(bits(c['pad']!), `pad ${v}`).toEqual([f32(f), f32(1), f32(-1)]);
    });
    const c = batch.executable(VALUES.length, new Map()).run({});
    expect([...(c['i64_min']!.data as BigInt64Array)]).toEqual([-(2n ** 63n)]);
    expect([...(c['i64_big']!.data as BigInt64Array)]).toEqual([2n ** 62n + 2n ** 40n]);
    expect([...(c['i32_min']!.data as Int32Array)]).toEqual([-(2 ** 31)]);
  });

  // Kernels are shared by a JSON.stringify key, which writes NaN, ±Infinity as null and -0 as 0.
  it('keeps NaN, +Inf, -Inf, -0 and 0 apart when identical kernels are shared', () => {
    const g = new Builder();
    const outs: Record<string, Node> = {};
    VALUES.slice(0, 5).forEach((v, i) => (outs[`v${i}`] = g.full(v, 'f32', [2])));
    const c = CBatch.build([g.graph('forward', outs)])
      .executable(0, new Map())
      .run({});
    const got = VALUES.slice(0, 5).map((_, i) => (c[`v${i}`]!.data as Float32Array)[0]!);
    expect(got.map(String)).toEqual(VALUES.slice(0, 5).map(String));
    expect(got.map((v) => Object.is(v, -0))).toEqual(VALUES.slice(0, 5).map((v) => Object.is(v, -0)));
  });
});
