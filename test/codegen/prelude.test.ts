// The C prelude against the reference interpreter: a harness (the prelude plus a main that maps
// raw 64-bit words from stdin to raw 64-bit words on stdout) is compiled with the system C
// compiler and fed grids of edge values; every result is compared bit for bit (or within a few
// ulp for the transcendental functions) with the interpreter's own functions. A second build
// with UBSan, where the compiler has it, must give the same words without a runtime error.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { C_PRELUDE, PRELUDE_FUNCTIONS } from '../../src/codegen/prelude-c.js';
import type { Dtype } from '../../src/ir/dtype.js';
import { UNARY, binary, castValue, intBinary, unary } from '../../src/ir/interp-ops.js';
import { ARITH_FNS, UNARY_FNS } from '../../src/ir/ops.js';
import { philox4x32, streamKey, uniformStream } from '../../src/ir/philox.js';
import {
  bf16Bits,
  bitsToBf16,
  bitsToF16,
  bitsToF32,
  f16Bits,
  f32Bits,
  hostTensor,
  roundTo,
} from '../../src/ir/value.js';

// ---------- the compiler ----------

function findCC(): string | undefined {
  for (const cc of [process.env.CC, 'cc', 'gcc', 'clang'])
    if (cc && spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0) return cc;
  return undefined;
}
const CC = findCC();
const hasCC = CC !== undefined;
if (!hasCC) console.warn('SKIPPED test/codegen/prelude.test.ts: no C compiler ($CC, cc, gcc or clang) on PATH');

// ---------- the harness ----------

const UNARY_F = UNARY_FNS.filter((f) => f !== 'not');
const UNARY_I = ['neg', 'abs'] as const;
const INT_DTYPES = ['i4', 'i8', 'i32', 'i64'] as const;
type IntDtype = (typeof INT_DTYPES)[number];
const BITS: Record<IntDtype, number> = { i4: 4, i8: 8, i32: 32, i64: 64 };
const C_RANGE: Record<IntDtype, string> = {
  i4: '-8, 7',
  i8: 'INT8_MIN, INT8_MAX',
  i32: 'INT32_MIN, INT32_MAX',
  i64: 'INT64_MIN, INT64_MAX',
};

/** One harness mode per line: M<arity>(name, expression of the words a, b, c giving a word). */
const MODES = [
  ...UNARY_F.map((f) => `M1("${f}_f", W(fmc_${f}_f(F(a))))`),
  ...UNARY_I.map((f) => `M1("${f}_i", U(fmc_${f}_i(S(a))))`),
  ...ARITH_FNS.map((f) => `M2("${f}_f", W(fmc_${f}_f(F(a), F(b))))`),
  ...ARITH_FNS.map((f) => `M2("${f}_i", U(fmc_${f}_i(S(a), S(b))))`),
  `M1("h2f", W(fmc_h2f((uint16_t)a)))`,
  `M1("f2h", fmc_f2h(F(a)))`,
  `M1("bf2f", W(fmc_bf2f((uint16_t)a)))`,
  `M1("f2bf", fmc_f2bf(F(a)))`,
  ...INT_DTYPES.map((d) => `M1("f2i_${d}", U(fmc_f2i(F(a), ${C_RANGE[d]})))`),
  ...INT_DTYPES.map((d) => `M1("wrap_${d}", U(fmc_wrap(S(a), ${BITS[d]})))`),
  `M3("uniform", W(fmc_uniform((uint32_t)a, (uint32_t)b, c, 0)))`,
  `M2("uniform_step", W(fmc_uniform(0x12345678u, 0x9abcdef0u, a, b)))`,
];

const HARNESS = `${C_PRELUDE}
#include <stdio.h>
#include <stdlib.h>

static float F(uint64_t w) { return fmc_bits_f32((uint32_t)w); }
static uint64_t W(float x) { return fmc_f32_bits(x); }
static int64_t S(uint64_t w) { return fmc_u2i(w); }
static uint64_t U(int64_t v) { return (uint64_t)v; }

#define M1(name, expr) if (!strcmp(mode, name)) { for (size_t i = 0; i < n; i++) { uint64_t a = in[i]; out[i] = (expr); } m = n; } else
#define M2(name, expr) if (!strcmp(mode, name)) { for (size_t i = 0; i < n / 2; i++) { uint64_t a = in[2 * i], b = in[2 * i + 1]; out[i] = (expr); } m = n / 2; } else
#define M3(name, expr) if (!strcmp(mode, name)) { for (size_t i = 0; i < n / 3; i++) { uint64_t a = in[3 * i], b = in[3 * i + 1], c = in[3 * i + 2]; out[i] = (expr); } m = n / 3; } else

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  const char *mode = argv[1];
  size_t cap = 1024, n = 0, r, m = 0;
  uint64_t *in = malloc(cap * sizeof *in);
  while (in && (r = fread(in + n, sizeof *in, cap - n, stdin)) > 0)
    if ((n += r) == cap) in = realloc(in, (cap *= 2) * sizeof *in);
  uint64_t *out = malloc((n + 1) * sizeof *out);
  if (!in || !out) return 3;
${MODES.map((l) => `  ${l}`).join('\n')}
  { fprintf(stderr, "unknown mode %s\\n", mode); return 2; }
  fwrite(out, sizeof *out, m, stdout);
  return 0;
}
`;

let dir = '';
let bin = '';
let ubsan: string | undefined;

function compile(out: string, flags: string[]): { ok: boolean; err: string } {
  const r = spawnSync(CC!, [...flags, '-o', out, join(dir, 'harness.c'), '-lm'], { encoding: 'utf8' });
  return { ok: r.status === 0, err: `${r.stderr}${r.error?.message ?? ''}` };
}

function exec(b: string, mode: string, input: Buffer): Buffer {
  return execFileSync(b, [mode], { input, maxBuffer: 1 << 28 });
}

/** Runs a harness mode on words; with UBSan available, the sanitized build must agree word for word. */
function run(mode: string, words: readonly bigint[]): bigint[] {
  const input = Buffer.from(BigUint64Array.from(words).buffer);
  const out = exec(bin, mode, input);
  if (ubsan) expect(exec(ubsan, mode, input).equals(out), `UBSan build differs on ${mode}`).toBe(true);
  return [...new BigUint64Array(Uint8Array.from(out).buffer)];
}

// ---------- values ----------

/** A deterministic uint32 generator (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const fw = (x: number): bigint => BigInt(f32Bits(x));
const wf = (w: bigint): number => bitsToF32(Number(w & 0xffffffffn));
const iw = (v: bigint): bigint => BigInt.asUintN(64, v);
const wi = (w: bigint): bigint => BigInt.asIntN(64, w);

const F32_GRID: number[] = (() => {
  const v = [
    0,
    2 ** -149, // smallest subnormal
    2 ** -126 - 2 ** -149, // largest subnormal
    2 ** -126, // smallest normal
    1e-38,
    1e-20,
    1e-7,
    0.1,
    0.3,
    0.5,
    0.99999994,
    1,
    1.0000001,
    1.5,
    2,
    2.5,
    3,
    Math.PI,
    7,
    10,
    88.7,
    100,
    1e6 + 0.5,
    2 ** 23 - 0.5,
    2 ** 23,
    2 ** 24,
    1e20,
    1e30,
    3.4028234663852886e38, // largest finite
    Infinity,
  ];
  const grid = [...v, ...v.map((x) => -x), NaN, -103.5, -87.3].map(Math.fround);
  return grid;
})();

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const I64_GRID: bigint[] = (() => {
  const v = [0n, 1n, 2n, 3n, 7n, 8n, 9n, 63n, 64n, 127n, 128n, 255n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n + 5n];
  v.push(2n ** 53n, 2n ** 53n + 1n, 2n ** 62n, I64_MAX - 1n, I64_MAX);
  const g = rng(7);
  for (let i = 0; i < 6; i++) v.push((BigInt(g()) << 32n) | BigInt(g()), BigInt(g() % 1000));
  const all = [...v, ...v.map((x) => -x), I64_MIN].map((x) => BigInt.asIntN(64, x));
  return [...new Set(all)];
})();

const pairs = <T>(xs: readonly T[]): [T, T][] => xs.flatMap((a) => xs.map((b): [T, T] => [a, b]));
const show = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));
/** Distance in f32 ulps (over the ordered bit patterns, -0 = +0). */
function ulps(a: number, b: number): number {
  const key = (x: number): number => {
    const u = f32Bits(x);
    return u >= 0x80000000 ? -(u - 0x80000000) : u;
  };
  return Math.abs(key(a) - key(b));
}

/** Failures listed (at most 20) so a mismatch names its inputs. */
function expectNone(fails: string[]): void {
  expect(fails.slice(0, 20), `${fails.length} mismatches`).toEqual([]);
}

// ---------- tests ----------

describe('C prelude text', () => {
  it('defines exactly PRELUDE_FUNCTIONS, each FMC_FN, with only stdint/math/string included', () => {
    const defined = [...C_PRELUDE.matchAll(/^FMC_FN [a-z0-9_]+ \*?(fmc_[a-z0-9_]+)\(/gm)].map((m) => m[1]);
    expect(defined).toEqual([...PRELUDE_FUNCTIONS]);
    expect([...C_PRELUDE.matchAll(/#include\s*<([^>]+)>/g)].map((m) => m[1])).toEqual([
      'stdint.h',
      'math.h',
      'string.h',
    ]);
    expect(C_PRELUDE).toContain('#ifndef FMC_FN\n#define FMC_FN static inline\n#endif');
    for (const f of UNARY_F) expect(PRELUDE_FUNCTIONS).toContain(`fmc_${f}_f`);
    for (const f of ARITH_FNS) expect(PRELUDE_FUNCTIONS).toEqual(expect.arrayContaining([`fmc_${f}_f`, `fmc_${f}_i`]));
  });
});

describe.skipIf(!hasCC)('C prelude vs the interpreter', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fmc-prelude-'));
    writeFileSync(join(dir, 'harness.c'), HARNESS);
    writeFileSync(join(dir, 'prelude.c'), C_PRELUDE);
    bin = join(dir, 'harness');
    const main = compile(bin, ['-O3', '-march=native', '-std=c11', '-Wall', '-Wextra', '-Werror']);
    if (!main.ok) throw new Error(`harness does not compile:\n${main.err}`);
    const san = ['-O1', '-std=c11', '-fsanitize=undefined,float-cast-overflow', '-fno-sanitize-recover=all'];
    if (compile(join(dir, 'harness-ubsan'), san).ok) ubsan = join(dir, 'harness-ubsan');
    else console.warn('prelude.test.ts: no UBSan in this C compiler; the undefined-behaviour check is skipped');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('compiles cleanly with strict warnings (C11, and C++ where a C++ compiler exists)', () => {
    const strict = ['-Wall', '-Wextra', '-Wpedantic', '-Wconversion', '-Wdouble-promotion', '-Wshadow', '-Werror'];
    const c = spawnSync(CC!, ['-std=c11', ...strict, '-fsyntax-only', join(dir, 'prelude.c')], { encoding: 'utf8' });
    expect(c.stderr).toBe('');
    expect(c.status).toBe(0);
    const cxx = process.env.CXX ?? 'c++';
    if (spawnSync(cxx, ['--version'], { stdio: 'ignore' }).status === 0) {
      const r = spawnSync(cxx, ['-std=c++17', '-x', 'c++', ...strict, '-fsyntax-only', join(dir, 'prelude.c')], {
        encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  const EXACT_F = new Set(['neg', 'abs', 'floor', 'recip', 'sqrt', 'add', 'sub', 'mul', 'div', 'mod', 'max', 'min']);
  /** Exact (bits, NaN-ness for NaN) or within 2 ulp for the transcendental functions. */
  function floatMismatch(fn: string, got: number, want: number): boolean {
    if (Number.isNaN(got) || Number.isNaN(want)) return Number.isNaN(got) !== Number.isNaN(want);
    if (EXACT_F.has(fn)) return !Object.is(got, want);
    if (!Number.isFinite(got) || !Number.isFinite(want)) return got !== want && ulps(got, want) > 2;
    return ulps(got, want) > 2;
  }

  it('unary float functions', () => {
    const g = rng(13);
    const xs = [
      ...F32_GRID,
      ...Array.from({ length: 3000 }, () => bitsToF32(g())).filter((x) => !Number.isNaN(x)),
      ...Array.from({ length: 3000 }, (_, i) => Math.fround(((g() / 2 ** 32) * 2 - 1) * 10 ** ((i % 6) - 2))),
    ];
    const fails: string[] = [];
    for (const fn of UNARY_F) {
      const got = run(`${fn}_f`, xs.map(fw)).map(wf);
      xs.forEach((x, i) => {
        const want = Math.fround(UNARY[fn](x));
        if (floatMismatch(fn, got[i]!, want)) fails.push(`${fn}(${show(x)}): C ${show(got[i]!)}, interp ${show(want)}`);
      });
    }
    expectNone(fails);
  });

  it('exp, log, tanh and erf densely, and where their formulas switch, saturate or go subnormal', () => {
    const sweep = (lo: number, hi: number, n: number): number[] =>
      Array.from({ length: n + 1 }, (_, i) => Math.fround(lo + ((hi - lo) * i) / n));
    /** x (rounded to f32, positive) and its k f32 neighbours on each side. */
    const near = (x: number, k = 64): number[] => {
      const b = f32Bits(Math.fround(x));
      return Array.from({ length: 2 * k + 1 }, (_, i) => bitsToF32(b - k + i));
    };
    const both = (xs: number[]): number[] => [...xs, ...xs.map((x) => -x)];
    const pow2 = Array.from({ length: 277 }, (_, i) => near(2 ** (i - 149), 2)).flat();
    const cases: Record<'exp' | 'log' | 'tanh' | 'erf', number[]> = {
      // overflow to inf at 88.7228, subnormal results below -87.3365, 0 below -103.972
      exp: [...sweep(-110, 95, 40000), ...both(near(88.72284)), ...both(near(87.33654)), ...both(near(103.97208))],
      // k = 0 around 1, the reduction's switch at sqrt(2) / 2 (and times powers of 2), subnormal inputs
      log: [
        ...sweep(0, 4, 40000),
        ...near(1, 2000),
        ...near(Math.SQRT1_2),
        ...near(Math.SQRT2),
        ...near(3 * 2 ** -140),
        ...pow2,
      ],
      // the polynomial / exp switch at 0.625, tanh = 1 from 9.0109
      tanh: [...sweep(-12, 12, 40000), ...both(near(0.625)), ...both(near(9.0109)), ...both(near(10)), ...pow2],
      // the polynomial / 1 - exp switch at 0.921875, erf = 1 from 3.9192, the clamp at 4
      erf: [...sweep(-5, 5, 40000), ...both(near(0.921875)), ...both(near(3.9192)), ...both(near(4)), ...pow2],
    };
    const fails: string[] = [];
    for (const [fn, xs] of Object.entries(cases) as [keyof typeof cases, number[]][]) {
      const got = run(`${fn}_f`, xs.map(fw)).map(wf);
      xs.forEach((x, i) => {
        const want = Math.fround(UNARY[fn](x));
        if (floatMismatch(fn, got[i]!, want)) fails.push(`${fn}(${show(x)}): C ${show(got[i]!)}, interp ${show(want)}`);
      });
    }
    expectNone(fails);
  });

  it('binary float functions, all pairs of the grid', () => {
    const ps = pairs(F32_GRID);
    const ta = hostTensor(
      'f32',
      [ps.length],
      ps.map((p) => p[0]),
    );
    const tb = hostTensor(
      'f32',
      [ps.length],
      ps.map((p) => p[1]),
    );
    const fails: string[] = [];
    for (const fn of ARITH_FNS) {
      const got = run(
        `${fn}_f`,
        ps.flatMap(([a, b]) => [fw(a), fw(b)]),
      ).map(wf);
      const want = binary(fn, ta, tb, [ps.length]).data;
      ps.forEach(([a, b], i) => {
        const w = Math.fround(want[i]!);
        if (floatMismatch(fn, got[i]!, w)) fails.push(`${fn}(${show(a)}, ${show(b)}): C ${show(got[i]!)}, interp ${w}`);
      });
    }
    expectNone(fails);
  });

  /** The interpreter's integer semantics, exact on all of int64 (its i64 values are doubles). */
  const exactInt: Record<(typeof ARITH_FNS)[number], (a: bigint, b: bigint) => bigint> = {
    add: (a, b) => a + b,
    sub: (a, b) => a - b,
    mul: (a, b) => a * b,
    div: (a, b) => (b === 0n ? 0n : a / b),
    mod: (a, b) => (b === 0n ? 0n : a % b),
    pow: (a, b) => {
      if (b < 0n) return a === 1n ? 1n : a === -1n ? (b % 2n === 0n ? 1n : -1n) : 0n;
      let r = 1n;
      for (let [x, e] = [a, b]; e > 0n; e >>= 1n, x = BigInt.asIntN(64, x * x))
        if (e & 1n) r = BigInt.asIntN(64, r * x);
      return r;
    },
    max: (a, b) => (a > b ? a : b),
    min: (a, b) => (a < b ? a : b),
  };
  const inRange = (d: IntDtype, v: bigint): boolean => BigInt.asIntN(BITS[d], v) === v;
  const asDouble = (v: bigint): boolean => BigInt(Number(v)) === v;

  it('binary int functions: intBinary on every dtype, and exact int64', () => {
    const ps = pairs(I64_GRID);
    const fails: string[] = [];
    for (const fn of ARITH_FNS) {
      const got = run(
        `${fn}_i`,
        ps.flatMap(([a, b]) => [iw(a), iw(b)]),
      ).map(wi);
      ps.forEach(([a, b], i) => {
        const c = got[i]!;
        const exact = BigInt.asIntN(64, exactInt[fn](a, b));
        if (c !== exact) fails.push(`${fn}_i(${a}, ${b}): C ${c}, int64 ${exact}`);
        // The interpreter itself: narrow dtypes wrap the int64 result; i64 is compared as doubles.
        for (const d of INT_DTYPES) {
          if (!inRange(d, a) || !inRange(d, b) || (d === 'i64' && (!asDouble(a) || !asDouble(b)))) continue;
          const want = intBinary(fn, d, Number(a), Number(b));
          const mine = Number(BigInt.asIntN(BITS[d], c));
          if (!Object.is(mine + 0, want + 0)) fails.push(`${fn} ${d} (${a}, ${b}): C ${mine}, interp ${want}`);
        }
      });
    }
    expectNone(fails);
  });

  it('unary int functions (neg, abs) wrap', () => {
    const fails: string[] = [];
    for (const fn of UNARY_I) {
      const got = run(`${fn}_i`, I64_GRID.map(iw)).map(wi);
      I64_GRID.forEach((x, i) => {
        const exact = BigInt.asIntN(64, fn === 'neg' ? -x : x < 0n ? -x : x);
        if (got[i] !== exact) fails.push(`${fn}_i(${x}): C ${got[i]}, int64 ${exact}`);
      });
      for (const d of INT_DTYPES) {
        // i64 as doubles; the interpreter cannot hold -INT64_MIN = 2^63 wrapped (it keeps 2^63).
        const xs = I64_GRID.filter((x) => inRange(d, x) && (d !== 'i64' || (asDouble(x) && x !== I64_MIN)));
        const want = unary(fn, hostTensor(d, [xs.length], xs.map(Number))).data;
        xs.forEach((x, i) => {
          const mine = Number(BigInt.asIntN(BITS[d], got[I64_GRID.indexOf(x)]!));
          if (mine !== want[i]) fails.push(`${fn} ${d} (${x}): C ${mine}, interp ${want[i]}`);
        });
      }
    }
    expectNone(fails);
  });

  it('fmc_wrap matches roundTo for i4, i8, i32 (and is the identity for i64)', () => {
    const g = rng(11);
    const xs = [...I64_GRID, ...Array.from({ length: 200 }, () => BigInt(g()) - 2n ** 31n)];
    const fails: string[] = [];
    for (const d of INT_DTYPES) {
      const got = run(`wrap_${d}`, xs.map(iw)).map(wi);
      xs.forEach((x, i) => {
        const exact = BigInt.asIntN(BITS[d], x);
        if (got[i] !== exact) fails.push(`wrap ${d} (${x}): C ${got[i]}, exact ${exact}`);
        if (d !== 'i64' && asDouble(x) && Number(got[i]) !== roundTo(d as Dtype, Number(x)))
          fails.push(`wrap ${d} (${x}): C ${got[i]}, roundTo ${roundTo(d as Dtype, Number(x))}`);
      });
    }
    expectNone(fails);
  });

  it('fmc_f2i matches castValue from f32 for every int dtype', () => {
    const g = rng(5);
    const xs = [
      NaN,
      Infinity,
      -Infinity,
      0,
      -0,
      0.99,
      -0.99,
      7.9,
      -7.9,
      8,
      -8,
      -8.5,
      -9,
      127.5,
      -128.5,
      128,
      -129,
      2 ** 31 - 128,
      2 ** 31,
      -(2 ** 31),
      -(2 ** 31) - 256,
      2 ** 53,
      2 ** 62,
      2 ** 63,
      -(2 ** 63),
      2 ** 64,
      1e20,
      -1e20,
      3.4028234663852886e38,
      ...Array.from({ length: 300 }, (_, i) => bitsToF32(g()) / 2 ** (i % 100)),
    ].map(Math.fround);
    const fails: string[] = [];
    for (const d of INT_DTYPES) {
      const got = run(`f2i_${d}`, xs.map(fw)).map(wi);
      xs.forEach((x, i) => {
        const want = castValue('f32', d, x);
        if (!Object.is(Number(got[i]) + 0, want + 0)) fails.push(`f2i ${d} (${show(x)}): C ${got[i]}, interp ${want}`);
      });
    }
    // Saturation is exact in int64 (the interpreter's i64 bounds are doubles).
    expect(run('f2i_i64', [fw(2 ** 63), fw(Infinity), fw(-Infinity), fw(-(2 ** 63))]).map(wi)).toEqual([
      I64_MAX,
      I64_MAX,
      I64_MIN,
      I64_MIN,
    ]);
    expectNone(fails);
  });

  const all16 = Array.from({ length: 65536 }, (_, h) => h);

  it('f16 and bf16 bits to float, all 65536 patterns', () => {
    const fails: string[] = [];
    for (const [mode, ref] of [
      ['h2f', bitsToF16],
      ['bf2f', bitsToBf16],
    ] as const) {
      const got = run(mode, all16.map(BigInt)).map(wf);
      all16.forEach((h, i) => {
        const want = ref(h);
        const ok = Number.isNaN(want) ? Number.isNaN(got[i]!) : Object.is(got[i]!, want);
        if (!ok) fails.push(`${mode}(0x${h.toString(16)}): C ${show(got[i]!)}, interp ${show(want)}`);
      });
    }
    expectNone(fails);
  });

  it('float to f16 and bf16 bits: random f32 patterns, ties and specials', () => {
    const g = rng(3);
    // f32 bit patterns (NaN payloads reach C intact; JavaScript sees every NaN as one NaN).
    const specials = [0, -0, Infinity, -Infinity, 65504, 65519.996, 65520, 2 ** -24, 2 ** -25, 2 ** -26];
    const bits: number[] = specials.map((x) => f32Bits(x));
    bits.push(0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fa00000, 0x7f80ffff, 0x7fffffff, 0xffffffff);
    for (let i = 0; i < 100000; i++) bits.push(g());
    // Exponents near f16's range, where rounding happens at every bit position.
    for (let i = 0; i < 20000; i++) bits.push(((g() & 0x80000000) | (0x32800000 + (g() % 0x15800000))) >>> 0);
    // f16 ties and their f32 neighbours, over every finite f16 step (normal and subnormal).
    for (let h = 0; h < 0x7c00; h++) {
      const mid = h === 0x7bff ? 65520 : (bitsToF16(h) + bitsToF16(h + 1)) / 2;
      const b = f32Bits(mid);
      for (const v of [b - 1, b, b + 1]) bits.push(v, (v | 0x80000000) >>> 0);
    }
    // bf16 ties: low half exactly 0x8000, and neighbours.
    for (let i = 0; i < 5000; i++) {
      const b = (g() & 0xffff0000) >>> 0;
      for (const low of [0x7fff, 0x8000, 0x8001]) bits.push((b | low) >>> 0);
    }
    const fails: string[] = [];
    for (const [mode, ref, isNaN16] of [
      ['f2h', f16Bits, (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0],
      ['f2bf', bf16Bits, (h: number) => (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0],
    ] as const) {
      const got = run(mode, bits.map(BigInt)).map(Number);
      bits.forEach((b, i) => {
        const x = bitsToF32(b);
        const want = ref(x);
        const ok = Number.isNaN(x) ? isNaN16(got[i]!) && isNaN16(want) : got[i] === want;
        if (!ok)
          fails.push(
            `${mode}(${show(x)} = 0x${b.toString(16)}): C 0x${got[i]!.toString(16)}, interp 0x${want.toString(16)}`,
          );
      });
    }
    expectNone(fails);
  });

  it('fmc_uniform matches uniformStream and philox4x32 at large indices', () => {
    const streams: [number, string][] = [
      [0, 'x'],
      [-123456789, 'blocks.3.attn.q.weight'],
    ];
    const far = [2n ** 32n * 4n, 2n ** 32n, 2n ** 40n + 2n, 2n ** 53n].flatMap((c) =>
      Array.from({ length: 16 }, (_, j) => c - 8n + BigInt(j)),
    );
    for (const [seed, key] of streams) {
      const [k0, k1] = streamKey(seed, key);
      const first = uniformStream(seed, key, 1000);
      const got = run('uniform', Array.from(first, (_, i) => [BigInt(k0), BigInt(k1), BigInt(i)]).flat()).map(wf);
      expect(got).toEqual([...first]);
      const want = far.map((i) => {
        const block = i / 4n;
        const w = philox4x32([Number(block & 0xffffffffn), Number(block >> 32n), 0, 0], [k0, k1]);
        return (w[Number(i % 4n)]! >>> 8) / 2 ** 24;
      });
      expect(
        run(
          'uniform',
          far.flatMap((i) => [BigInt(k0), BigInt(k1), i]),
        ).map(wf),
      ).toEqual(want);
    }
  });

  it('fmc_uniform at a step: the step is the high half of the Philox counter (as uniformStream)', () => {
    const key: [number, number] = [0x12345678, 0x9abcdef0];
    const cases = [0n, 1n, 7n, 2n ** 32n + 3n, 2n ** 53n - 1n].flatMap((s) =>
      [0n, 5n, 2n ** 33n + 1n].map((i) => [i, s]),
    );
    const want = cases.map(([i, s]) => {
      const block = i! / 4n;
      const w = philox4x32(
        [Number(block & 0xffffffffn), Number(block >> 32n), Number(s! & 0xffffffffn), Number(s! >> 32n)],
        key,
      );
      return (w[Number(i! % 4n)]! >>> 8) / 2 ** 24;
    });
    expect(run('uniform_step', cases.flat()).map(wf)).toEqual(want);
    expect(new Set(want.filter((_, j) => j % 3 === 0)).size).toBe(5);
  });
});
