// Cases a review found: bool scatter_add and einsum (sums of bools are `or`s), an update
// whose value is another buffer (updates are applied in order after the launches), a kernel
// with more than 64 buffers, and reads out of bounds that the plan's run-time checks stop.
// And one the fuzzer found: gcc 12 miscompiles a gather whose index is computed from a
// comparison inside the gather's `omp simd` loop (true read as -1).

import { describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import { Builder } from '../../src/ir/build.js';
import { RunError } from '../../src/runtime/executable.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { CACHE_DIR, assertClean, checkGraphs, ht } from './c-harness.js';

describe('C backend: review fixes', () => {
  it('a gather or scatter_add index computed from a comparison (fuzzer seed 201157, a gcc 12 miscompile)', () => {
    // One use of each index, so it fuses into its reader (the case gcc gets wrong).
    const model = compile(
      [
        'model G() {',
        '  fn forward(x: f32[2, 5]) -> f32[2, 2] {',
        '    return gather(x, cast(x[:, 0] >= 1.0, i32), axis = 1)',
        '  }',
        '  fn picked(x: f32[2, 5]) -> f32[2, 2] {',
        '    return gather(x, where(x[:, 0] >= 1.0, 1, 0), axis = 1)',
        '  }',
        '  fn scatter(x: f32[2, 5]) -> f32[2, 5] {',
        '    return scatter_add(x, cast(x[:, 0] >= 1.0, i32), full([2, 2], 1.0), axis = 1)',
        '  }',
        '}',
      ].join('\n'),
      { cacheDir: CACHE_DIR },
    );
    const x = Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 1.6, 1.7, 1.8, 1.9, 2);
    const first = (fn: string): number[] =>
      [...Object.values(model.run(fn, { x: new Tensor('f32', x, [2, 5]) }))[0]!.data] as number[];
    const want = [x[0]!, x[1]!, x[5]!, x[6]!];
    expect(first('forward')).toEqual(want);
    expect(first('picked')).toEqual(want);
    expect(first('scatter')).toEqual([...x].map((v, i) => (i % 5 < 2 ? Math.fround(v + 1) : v)));
  });

  it('bool scatter_add and einsum give 0/1 like the interpreter', () => {
    const g = new Builder();
    const x = g.input('x', 'bool', [3]);
    const idx = g.input('idx', 'i32', [4]);
    const src = g.input('src', 'bool', [4]);
    const m = g.input('m', 'bool', [2, 5]);
    const graph = g.graph('forward', {
      s: g.node('scatter_add', { axis: 0 }, [x, idx, src]),
      e: g.einsum('ij,ij->i', m, m),
      r: g.einsum('ij->j', m),
    });
    const { results } = checkGraphs([
      {
        graph,
        run: {
          inputs: {
            x: ht('bool', [3], [1, 0, 0]),
            idx: ht('i32', [4], [0, 0, 1, 1]),
            src: ht('bool', [4], [1, 1, 1, 0]),
            m: ht('bool', [2, 5], [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]),
          },
        },
      },
    ]);
    assertClean(graph, results[0]!.problems);
    expect([...results[0]!.c.s!.data]).toEqual([1, 1, 0]);
    expect([...results[0]!.c.e!.data]).toEqual([1, 0]);
  });

  it('an update whose value is another buffer takes its value from before the call', () => {
    const m = compile(
      `model Delay {
  buffer prev: f32[4] = zeros()
  buffer prev2: f32[4] = zeros()
  fn forward(x: f32[T]) -> f32[4] {
    set prev = x[:4]
    set prev2 = prev
    return prev2
  }
}
`,
      { cacheDir: CACHE_DIR },
    );
    const x = new Tensor('f32', Float32Array.from([1, 2, 3, 4, 5]), [5]);
    const outs = [0, 1, 2].map(() => [...(Object.values(m.run({ x }))[0]!.data as Float32Array)]);
    expect(outs).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [1, 2, 3, 4],
    ]);
  });

  it('runs a kernel of more than 64 buffers', () => {
    const g = new Builder();
    const xs = Array.from({ length: 70 }, (_, i) => g.input(`x${i}`, 'f32', [3]));
    const sum = xs.slice(1).reduce((acc, x) => g.add(acc, x), xs[0]!);
    const graph = g.graph('forward', { sum });
    const { results } = checkGraphs([{ graph }]);
    assertClean(graph, results[0]!.problems);
  });

  it('refuses sizes that would read out of bounds, before running', () => {
    const m = compile('model S {\n  fn forward(x: f32[T]) -> f32[4] {\n    return x[:4]\n  }\n}\n', {
      cacheDir: CACHE_DIR,
    });
    expect(m.run({ x: new Tensor('f32', new Float32Array(6), [6]) })).toBeDefined();
    expect(() => m.run({ x: new Tensor('f32', new Float32Array(2), [2]) })).toThrow(RunError);
    expect(() => m.run({ x: new Tensor('f32', new Float32Array(2), [2]) })).toThrow(
      /slice reads past the end of its input with T = 2/,
    );
  });
});
