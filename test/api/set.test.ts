// compile(..., { set }): hyperparameter overrides through the API, and their errors as
// CompileErrors with the rendered diagnostic.

import { describe, expect, it } from 'vitest';
import { compile, CompileError, Tensor } from '../../src/index.js';
import { lowerModel } from '../../src/api/compile.js';
import { dimToString } from '../../src/ir/dims.js';
import { CACHE, thrown } from './helpers.js';

const SOURCE = `import { gelu, relu } from "std/act"
import { Linear } from "std/nn"

model Tiny(d = 4, out = 2, act = gelu) {
  require out <= 8, "at most 8 outputs"
  fc = Linear(d, out)
  fn forward(x: f32[B, d]) -> (y: f32[B, out]) {
    return act(fc(x))
  }
}
`;

describe('compile with set', () => {
  it('compiles the model with the overrides', () => {
    const model = compile(SOURCE, { cacheDir: CACHE, set: { d: 3, out: '2 + 3', act: 'relu' } });
    const x = new Tensor('f32', Float32Array.from([1, -2, 3, 0.5, 0, -1]), [2, 3]);
    const { y } = model.run({ x });
    expect(y!.dims).toEqual([2, 5]);
    expect([...y!.data].every((v) => v >= 0)).toBe(true); // relu, not gelu
  });

  it('lowers with the overrides (param shapes)', () => {
    const [l] = lowerModel(SOURCE, { set: { d: 6 } });
    expect(l!.params.find((p) => p.path === 'fc.w')!.shape.map(dimToString)).toEqual(['2', '6']);
  });

  it('reports an unknown name, a wrong type and a failed require as CompileErrors', () => {
    const unknown = thrown(() => compile(SOURCE, { cacheDir: CACHE, set: { dd: 3 } }));
    expect(unknown).toBeInstanceOf(CompileError);
    expect(unknown.message).toContain('--set:1:1: error FM0314: cannot set `dd`');
    expect(unknown.message).toContain('help: did you mean `d`?');
    const type = thrown(() => compile(SOURCE, { cacheDir: CACHE, set: { d: true } }));
    expect(type.message).toContain('error FM0301: expected int, found bool');
    const req = thrown(() => compile(SOURCE, { cacheDir: CACHE, set: { out: 9 } }));
    expect(req.message).toContain('error FM0308: requirement failed: at most 8 outputs');
    expect(req.message).toContain('note: model `Tiny` is checked with --set out=9');
  });
});
