// The public Model's metadata and lifetime: inputs()/outputs() give names, dtypes and dims
// (numbers, or the symbolic dims' text) per function; dispose() and `using` end the model,
// after which every call is a RunError.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunError, Tensor, compile } from '../../src/index.js';

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-meta-'));
const FILE = path.join(DIR, 'meta.fm');
fs.writeFileSync(
  FILE,
  `model Meta(d = 4) {
  param w: f32[d, d]
  fn forward(x: f32[B, T, d], mask: bool[B, T]) -> (y: f32[B, T, d], n: i32[B]) {
    return (einsum("btd,de->bte", x, w), sum(cast(mask, i32), 1))
  }
  fn twice(x: f32[2 * N]) -> f32[N, 2] { return reshape(x, [N, 2]) }
}
`,
);

describe('Model metadata and dispose', () => {
  it('describes each function', () => {
    const m = compile(FILE, { seed: 0 });
    expect(m.inputs()).toEqual([
      { name: 'x', dtype: 'f32', shape: ['B', 'T', 4] },
      { name: 'mask', dtype: 'bool', shape: ['B', 'T'] },
    ]);
    expect(m.outputs()).toEqual([
      { name: 'y', dtype: 'f32', shape: ['B', 'T', 4] },
      { name: 'n', dtype: 'i32', shape: ['B'] },
    ]);
    expect(m.inputs('twice')).toEqual([{ name: 'x', dtype: 'f32', shape: ['2*N'] }]);
    expect(m.outputs('twice')).toEqual([{ name: 'output', dtype: 'f32', shape: ['N', 2] }]);
    expect(() => m.inputs('nosuch')).toThrow(RunError);
  });

  it('ends with dispose() or `using`', () => {
    const x = new Tensor('f32', new Float32Array(4), [4]);
    let kept: ReturnType<typeof compile> | undefined;
    {
      using m = compile(FILE, { seed: 0 });
      kept = m;
      expect(m.run('twice', { x }).output!.dims).toEqual([2, 2]);
    }
    expect(() => kept!.run('twice', { x })).toThrow(new RunError('Meta was disposed'));
    expect(() => kept!.inputs()).toThrow(RunError);
    kept.dispose(); // twice is harmless
  });
});
