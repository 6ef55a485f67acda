// Model.run against hostile arguments (issue 17, items 1 and 4). User code that runs while the
// arguments are read (getters, a Tensor subclass, toJSON on the dims option) used to change
// the inputs after their lengths were checked, and the kernels read out of bounds: each of the
// four reproducers runs in a child process, so that a crash fails its test instead of killing
// the runner. Then, in process: every property is read once, detached, resized and shared
// buffers, the native byte checks, the `outputs` option, and bool/i4 values.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, RunError, Tensor } from '../../src/index.js';
import { checkValues } from '../../src/runtime/run-args.js';
import { native } from '../../src/runtime/native.js';
import { CACHE, ROOT, thrown } from '../api/helpers.js';

const DIST = join(ROOT, 'dist', 'src', 'index.js');

// y = where(m, 2x, x) + 1 (x: f32[B, 4], m: bool[B, 4]); q passes an i4 through as i32.
const SOURCE = `model Pick(d = 4) {
  fn forward(x: f32[B, d], m: bool[B, d]) -> (y: f32[B, d]) {
    return where(m, x * 2.0, x) + 1.0
  }
  fn widen(q: i4[N]) -> (r: i32[N]) {
    return cast(q, i32)
  }
}
`;

const model = compile(SOURCE, { cacheDir: CACHE });
const f32 = (rows: number, fill = (i: number) => i) =>
  new Tensor(
    'f32',
    Float32Array.from({ length: rows * 4 }, (_, i) => fill(i)),
    [rows, 4],
  );
const bool = (rows: number, fill = (i: number) => i % 2) =>
  new Tensor(
    'bool',
    Uint8Array.from({ length: rows * 4 }, (_, i) => fill(i)),
    [rows, 4],
  );
const expected = (x: Tensor, m: Tensor) =>
  Array.from(x.data as Float32Array, (v, i) => ((m.data as Uint8Array)[i] ? 2 * v : v) + 1);

// The four reproducers of the issue. Each prints one JSON line: the error, or a checksum of y.
const PRELUDE = `
import { compile, Tensor } from ${JSON.stringify(DIST)};
const model = compile(${JSON.stringify(SOURCE)}, { cacheDir: process.env.FMC_CACHE_DIR });
const BIG = 1 << 20;
const x = (rows) => new Tensor('f32', Float32Array.from({ length: rows * 4 }, (_, i) => i % 7), [rows, 4]);
const m = (rows) => new Tensor('bool', Uint8Array.from({ length: rows * 4 }, (_, i) => i % 3 === 0 ? 1 : 0), [rows, 4]);
const report = (f) => {
  try {
    const { y } = f();
    let sum = 0;
    for (const v of y.data) sum += v;
    console.log(JSON.stringify({ dims: y.dims, sum }));
  } catch (e) {
    console.log(JSON.stringify({ error: e.name, message: e.message }));
  }
};
`;
const CASES: Record<string, string> = {
  // An inputs object whose getter gives a large tensor the first time and a small one after.
  getter: `let n = 0;
report(() => model.run({ m: m(BIG), get x() { return n++ === 0 ? x(BIG) : x(1); } }));`,
  // A Tensor subclass whose data is large the first time and small after.
  subclass: `class Shifty extends Tensor {
  reads = 0;
  get data() { return this.reads++ === 0 ? x(BIG).data : new Float32Array(4); }
}
report(() => model.run({ x: new Shifty('f32', new Float32Array(BIG * 4), [BIG, 4]), m: m(BIG) }));`,
  // A resizable ArrayBuffer shrunk from a getter of the dims option.
  dimsGetter: `const ab = new ArrayBuffer(BIG * 16, { maxByteLength: BIG * 16 });
new Float32Array(ab).set(x(BIG).data);
const opts = { get dims() { ab.resize(0); return undefined; } };
report(() => model.run({ x: new Tensor('f32', new Float32Array(ab), [BIG, 4]), m: m(BIG) }, opts));`,
  // The same from toJSON of the dims option (inherited, so not one of its dims).
  toJSON: `const ab = new ArrayBuffer(BIG * 16, { maxByteLength: BIG * 16 });
new Float32Array(ab).set(x(BIG).data);
const dims = Object.create({ toJSON() { ab.resize(0); return {}; } });
report(() => model.run({ x: new Tensor('f32', new Float32Array(ab), [BIG, 4]), m: m(BIG) }, { dims }));`,
};

/** Runs a reproducer in a child process: its exit status, signal and printed JSON. */
function reproduce(name: string): { status: number | null; signal: string | null; out: Record<string, unknown> } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `${PRELUDE}\n${CASES[name]}`], {
    encoding: 'utf8',
    env: { ...process.env, FMC_CACHE_DIR: CACHE },
    timeout: 60_000,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return {
    status: r.status,
    signal: r.signal,
    out: line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : { stdout: r.stdout, stderr: r.stderr },
  };
}

describe('the four reproducers (child processes)', () => {
  // The checksum of y over the large inputs: sum of (m ? 2x : x) + 1.
  const BIG = 1 << 20;
  let sum = 0;
  for (let i = 0; i < BIG * 4; i++) sum += (i % 3 === 0 ? 2 : 1) * (i % 7) + 1;

  it.runIf(existsSync(DIST))('a getter on inputs: read once, correct results', () => {
    const r = reproduce('getter');
    expect(r.signal).toBeNull();
    expect(r.out).toEqual({ dims: [BIG, 4], sum });
    expect(r.status).toBe(0);
  });

  it.runIf(existsSync(DIST))('a Tensor subclass overriding data: read once, correct results', () => {
    const r = reproduce('subclass');
    expect(r.signal).toBeNull();
    expect(r.out).toEqual({ dims: [BIG, 4], sum });
  });

  it.runIf(existsSync(DIST))('a resizable buffer shrunk from a dims getter: a RunError', () => {
    const r = reproduce('dimsGetter');
    expect(r.signal).toBeNull();
    expect(r.out).toEqual({
      error: 'RunError',
      message: `input 'x' holds 0 elements, its dims [${BIG}, 4] need ${BIG * 4}`,
    });
  });

  it.runIf(existsSync(DIST))('a resizable buffer shrunk from dims.toJSON: never called, correct results', () => {
    const r = reproduce('toJSON');
    expect(r.signal).toBeNull();
    expect(r.out).toEqual({ dims: [BIG, 4], sum });
  });
});

describe('one snapshot of the arguments', () => {
  it('reads each property of the inputs, the tensors and the options exactly once', () => {
    const reads = new Map<string, number>();
    const count = (k: string) => reads.set(k, (reads.get(k) ?? 0) + 1);
    // dims is an own property of a Tensor (a class field): a getter in its place counts reads.
    const counted = (t: Tensor): Tensor => {
      const { data, dims } = t;
      Object.defineProperty(t, 'dims', { get: () => (count(`${t.dtype}.dims`), dims) });
      Object.defineProperty(t, 'data', { get: () => (count(`${t.dtype}.data`), data) });
      return t;
    };
    const x0 = f32(3);
    const m0 = bool(3);
    const x = counted(f32(3));
    const m = counted(bool(3));
    const inputs = new Proxy({ x, m } as Record<string, Tensor>, {
      get: (t, k: string) => (count(`inputs.${k}`), t[k]),
    });
    const given = { B: 3 };
    const opts = {
      get dims() {
        count('opts.dims');
        return new Proxy(given, { get: (t, k: string) => (count(`dims.${k}`), t[k as 'B']) });
      },
      get timings() {
        count('opts.timings');
        return undefined;
      },
      get outputs() {
        count('opts.outputs');
        return undefined;
      },
    };
    const { y } = model.run(inputs, opts);
    expect([...y!.data]).toEqual(expected(x0, m0));
    for (const k of ['inputs.x', 'inputs.m', 'f32.data', 'f32.dims', 'bool.data', 'bool.dims'])
      expect(reads.get(k), k).toBe(1);
    for (const k of ['opts.dims', 'opts.timings', 'opts.outputs', 'dims.B']) expect(reads.get(k), k).toBe(1);
  });

  it('refuses data that is not the dtype’s typed array, and dims that are not integers', () => {
    const fake = (data: unknown, dims: unknown = [1, 4]) => {
      const t = new (class extends Tensor {
        override get data() {
          return data as Float32Array;
        }
      })('f32', new Float32Array(4), [1, 4]);
      Object.defineProperty(t, 'dims', { value: dims });
      return t;
    };
    const m = bool(1);
    const cases: [Tensor, RegExp][] = [
      [fake([1, 2, 3, 4]), /input 'x': a f32 tensor's data must be a Float32Array, got object/],
      [fake(new Float64Array(4)), /must be a Float32Array, got Float64Array/],
      [fake(new Proxy(new Float32Array(4), {})), /must be a Float32Array, got object/],
      [fake(new Float32Array(4), [1, '4']), /input 'x': dim 1 is string, not a non-negative integer/],
      [fake(new Float32Array(4), [1, 4.5]), /dim 1 is 4.5/],
      [fake(new Float32Array(4), { length: 2, 0: 1, 1: 4 }), /dims must be an array, got object/],
      [
        fake(new Float32Array(4), new Proxy([1, 4], { get: (t, k) => (k === 'length' ? 1e9 : t[k as never]) })),
        /has rank 1000000000, expected/,
      ],
      [fake(new Float32Array(3)), /input 'x' holds 3 elements, its dims \[1, 4\] need 4/],
    ];
    for (const [x, message] of cases) {
      const e = thrown(() => model.run({ x, m }));
      expect(e, String(message)).toBeInstanceOf(RunError);
      expect(e.message).toMatch(message);
    }
  });

  it('refuses a buffer transferred (detached) by a getter, after the data was read', () => {
    const ab = new ArrayBuffer(64);
    const x = new Tensor('f32', new Float32Array(ab, 0, 4), [1, 4]);
    const opts = {
      get dims() {
        structuredClone(ab, { transfer: [ab] });
        return undefined;
      },
    };
    expect(thrown(() => model.run({ x, m: bool(1) }, opts)).message).toBe(
      "input 'x' holds 0 elements, its dims [1, 4] need 4",
    );
  });

  it('copies inputs on resizable and growable shared buffers, so they run correctly', () => {
    const ab = new ArrayBuffer(48, { maxByteLength: 1024 });
    const x = new Tensor('f32', new Float32Array(ab, 16, 4), [1, 4]);
    x.data.set([1, 2, 3, 4]);
    const sab = new SharedArrayBuffer(4, { maxByteLength: 64 } as never);
    const m = new Tensor('bool', new Uint8Array(sab), [1, 4]);
    m.data.set([1, 0, 1, 0]);
    expect([...model.run({ x, m }).y!.data]).toEqual([3, 3, 7, 5]);
    // Grown (a length-tracking view) and shrunk (a fixed view past the end) before the call.
    const grow = new ArrayBuffer(16, { maxByteLength: 64 });
    const tracking = new Float32Array(grow);
    tracking.set([1, 1, 1, 1]);
    const xt = new Tensor('f32', tracking, [1, 4]);
    grow.resize(32);
    expect(thrown(() => model.run({ x: xt, m })).message).toBe("input 'x' holds 8 elements, its dims [1, 4] need 4");
  });

  it('has the native call check the bytes each view needs against the buffer as it is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmc-run-bytes-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const src = join(dir, 'k.c');
    writeFileSync(
      src,
      [
        '#include <stdint.h>',
        'static void k(void *const *a, const int64_t *d) { (void)d; ((float *)a[0])[0] = 1; }',
        'const int32_t fmc_abi_version = 1;',
        'const int32_t fmc_kernel_count = 1;',
        'void (*const fmc_kernels[1])(void *const *, const int64_t *) = {k};',
        'void fmc_set_threads(int32_t n) { (void)n; }',
      ].join('\n'),
    );
    execFileSync('cc', ['-shared', '-fPIC', '-o', join(dir, 'k.so'), src]);
    const addon = native();
    const lib = addon.loadLibrary(join(dir, 'k.so'));
    const ab = new ArrayBuffer(64, { maxByteLength: 64 });
    const launch = Int32Array.of(0, 1, 0);
    const none = new BigInt64Array(0);
    addon.run(lib, launch, [ab], Float64Array.of(60), none, undefined, Float64Array.of(4));
    expect(new Float32Array(ab)[15]).toBe(1);
    ab.resize(62);
    expect(() => addon.run(lib, launch, [ab], Float64Array.of(60), none, undefined, Float64Array.of(4))).toThrow(
      /views\[0\] holds 62 bytes, the kernels need 4\.0* from offset 60/,
    );
    for (const bad of [-1, 0.5, Number.NaN])
      expect(() => addon.run(lib, launch, [ab], Float64Array.of(0), none, undefined, Float64Array.of(bad))).toThrow(
        /views\[0\]/,
      );
    expect(() => addon.run(lib, launch, [ab], Float64Array.of(0), none, undefined, new Float64Array(2))).toThrow(
      /viewBytes.length/,
    );
    expect(addon.alignOffset(new ArrayBuffer(100)) % 1).toBe(0);
    lib.close();
  });
});

describe('RunOptions.outputs', () => {
  it('writes into the given tensors and returns them', () => {
    const x = f32(2);
    const m = bool(2);
    const first = model.run({ x, m });
    const again = model.run({ x: f32(2, (i) => -i), m }, { outputs: first });
    expect(again.y).toBe(first.y);
    expect([...again.y!.data]).toEqual(
      expected(
        f32(2, (i) => -i),
        m,
      ),
    );
    const mine = new Tensor('f32', new Float32Array(8), [2, 4]);
    expect(model.run({ x, m }, { outputs: { y: mine } }).y).toBe(mine);
    expect([...mine.data]).toEqual(expected(x, m));
  });

  it('refuses outputs of the wrong kind, shape or place', () => {
    const x = f32(2);
    const m = bool(2);
    const shared = new ArrayBuffer(64);
    const cases: [unknown, RegExp][] = [
      [{ z: f32(2) }, /unknown output 'z'; the outputs are 'y'/],
      [{ y: f32(3) }, /output 'y' has dims \[3, 4\], this call gives \[2, 4\]/],
      [{ y: bool(2) }, /output 'y' has dtype bool, expected f32\[B, 4\]/],
      [{ y: 'y' }, /output 'y' is not a Tensor/],
      [{ y: x }, /output 'y' shares memory with an input/],
      [
        { y: new Tensor('f32', new Float32Array(new ArrayBuffer(32, { maxByteLength: 64 })), [2, 4]) },
        /output 'y' is on a resizable ArrayBuffer: outputs are written in place/,
      ],
      [
        { y: new Tensor('f32', new Float32Array(new SharedArrayBuffer(32)), [2, 4]) },
        /output 'y' is on a SharedArrayBuffer/,
      ],
      [null, /outputs must be an object/],
    ];
    for (const [outputs, message] of cases) {
      const e = thrown(() => model.run({ x, m }, { outputs: outputs as Record<string, Tensor> }));
      expect(e, String(message)).toBeInstanceOf(RunError);
      expect(e.message).toMatch(message);
    }
    // An input and an output side by side in one buffer do not overlap.
    const xs = new Tensor('f32', new Float32Array(shared, 0, 8), [2, 4]);
    xs.data.set(x.data);
    const y = new Tensor('f32', new Float32Array(shared, 32, 8), [2, 4]);
    model.run({ x: xs, m }, { outputs: { y } });
    expect([...y.data]).toEqual(expected(x, m));
  });
});

describe('bool and i4 input values', () => {
  it('rejects a bool other than 0/1, naming the input and the first bad element', () => {
    const x = f32(2);
    for (const [value, at] of [
      [2, 5],
      [255, 0],
      [128, 7],
    ] as const) {
      const m = bool(2, (i) => (i === at ? value : i === 7 ? 3 : 0));
      const e = thrown(() => model.run({ x, m }));
      expect(e).toBeInstanceOf(RunError);
      const where = `[${Math.floor(at / 4)}, ${at % 4}]`;
      expect(e.message).toBe(`input 'm' element ${at} (${where}) is ${value}: a bool holds 0 or 1`);
    }
  });

  it('rejects an i4 outside [-8, 7] and passes the range through', () => {
    const q = (values: number[]) => new Tensor('i4', Int8Array.from(values), [values.length]);
    const { r } = model.run('widen', { q: q([-8, -1, 0, 7]) });
    expect([...r!.data]).toEqual([-8, -1, 0, 7]);
    expect(thrown(() => model.run('widen', { q: q([0, 1, 100]) })).message).toBe(
      "input 'q' element 2 ([2]) is 100: an i4 holds -8 to 7",
    );
    expect(thrown(() => model.run('widen', { q: q([-9]) })).message).toBe(
      "input 'q' element 0 ([0]) is -9: an i4 holds -8 to 7",
    );
  });

  it('finds the first bad element at every offset and position, and classifies every byte', () => {
    const buffer = new ArrayBuffer(64);
    const u8 = new Uint8Array(buffer);
    const firstBad = (dtype: 'bool' | 'i4', offset: number, bytes: number): number => {
      try {
        checkValues('v', { buffer, offset, bytes, inPlace: true }, dtype, [bytes]);
        return -1;
      } catch (e) {
        return Number(/element (\d+)/.exec((e as Error).message)![1]);
      }
    };
    for (const dtype of ['bool', 'i4'] as const) {
      const bad = dtype === 'bool' ? 2 : 8;
      for (let offset = 0; offset < 4; offset++)
        for (let bytes = 0; bytes <= 40; bytes++) {
          u8.fill(0);
          expect(firstBad(dtype, offset, bytes)).toBe(-1);
          for (let at = 0; at < bytes; at++) {
            u8.fill(0);
            u8[offset + at] = bad;
            if (at + 5 < bytes) u8[offset + at + 5] = bad; // a later one is not reported
            u8[offset + bytes] = bad; // nor one just past the end
            expect(firstBad(dtype, offset, bytes), `${dtype} offset ${offset} bytes ${bytes} at ${at}`).toBe(at);
          }
        }
      // Every byte value, at each lane of a word and in the tail.
      for (let b = 0; b < 256; b++) {
        const ok = dtype === 'bool' ? b <= 1 : b <= 7 || b >= 248;
        for (const lane of [0, 1, 2, 3, 9]) {
          u8.fill(0);
          u8[lane] = b;
          expect(firstBad(dtype, 0, 10), `${dtype} byte ${b} lane ${lane}`).toBe(ok ? -1 : lane);
        }
      }
    }
  });
});
