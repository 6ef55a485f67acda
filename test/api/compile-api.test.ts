// The package's entry point: compile() from source text, CompileError with rendered
// diagnostics, and the RunError of a call that does not fit the function.

import { describe, expect, it } from 'vitest';
import { compile, CompileError, compileTrainer, load, RunError, Tensor, TensorError } from '../../src/index.js';
import { CACHE, thrown } from './helpers.js';

const SOURCE = `import { relu } from "std/act"
import { Linear } from "std/nn"

model Tiny(d = 4) {
  fc = Linear(d, 2)
  fn forward(x: f32[B, d]) -> (y: f32[B, 2]) {
    return relu(fc(x))
  }
}
`;

describe('compile', () => {
  const model = compile(SOURCE, { cacheDir: CACHE, seed: 1 });

  it('compiles source text, and runs it', () => {
    expect(model.name).toBe('Tiny');
    const x = new Tensor('f32', Float32Array.from([1, -2, 3, 0.5, 0, 0, 0, 0]), [2, 4]);
    const { y } = model.run({ x });
    expect(y!.dims).toEqual([2, 2]);
    expect(y!.dtype).toBe('f32');
    expect([...y!.data].every((v) => v >= 0)).toBe(true); // relu
  });

  it('reports a shape error as a CompileError with file:line:col and the code frame', () => {
    const bad = SOURCE.replace('(y: f32[B, 2])', '(y: f32[B, 3])');
    const e = thrown(() => compile(bad, { cacheDir: CACHE }));
    expect(e).toBeInstanceOf(CompileError);
    expect(e.message).toMatch(/<source>\.fm:7:12: error FM\d{4}: .*f32\[B, 2\].*f32\[B, 3\]/);
    expect(e.message).toContain(' 7 |     return relu(fc(x))');
    expect(e.message).toMatch(/\n {3}\| {12}\^+/);
  });

  it('throws RunError for calls that do not fit the function', () => {
    const f32 = (dims: number[]) => new Tensor('f32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
    const cases: [() => unknown, RegExp][] = [
      [
        () => model.run('backward', { x: f32([1, 4]) }),
        /Tiny has no compiled function 'backward'; compiled: 'forward'/,
      ],
      [() => model.run({}), /missing input 'x'/],
      [() => model.run({ x: f32([1, 4]), z: f32([1]) }), /unknown input 'z'; the inputs are 'x'/],
      [
        () => model.run({ x: new Tensor('i32', new Int32Array(4), [1, 4]) }),
        /input 'x' has dtype i32, expected f32\[B, 4\]/,
      ],
      [() => model.run({ x: f32([4]) }), /input 'x' has rank 1 \(\[4\]\), expected f32\[B, 4\]/],
      [() => model.run({ x: f32([2, 5]) }), /input 'x' axis 1: expected 4, got 5/],
      // A dim given in options that the input contradicts.
      [() => model.run({ x: f32([2, 4]) }, { dims: { B: 3 } }), /input 'x' axis 0: expected B = 3, got 2/],
    ];
    for (const [f, message] of cases) {
      const e = thrown(f);
      expect(e, String(message)).toBeInstanceOf(RunError);
      expect(e.message).toMatch(message);
    }
    expect(thrown(() => new Tensor('f32', new Float32Array(3), [2, 2]))).toBeInstanceOf(TensorError);
  });
});

describe('options that are no thread count or seed', () => {
  it('are a CompileError before anything is compiled (the runtime takes 1 to 65536 threads)', () => {
    for (const threads of [1e6, 65537, -1, 0, 1.5, NaN]) {
      const e = thrown(() => compile(SOURCE, { cacheDir: CACHE, threads }));
      expect(e).toBeInstanceOf(CompileError);
      expect(e.message).toBe(`threads must be an integer from 1 to 65536, got ${threads}`);
      expect(thrown(() => compileTrainer(SOURCE, { cacheDir: CACHE, threads }))).toBeInstanceOf(CompileError);
      expect(thrown(() => load('no-such-module', { threads }))).toBeInstanceOf(RunError);
    }
    for (const seed of [NaN, Infinity, 0.5, 2 ** 53]) {
      const e = thrown(() => compile(SOURCE, { cacheDir: CACHE, seed }));
      expect(e).toBeInstanceOf(CompileError);
      expect(e.message).toBe(`seed must be a safe integer, got ${seed}`);
    }
  });
});
