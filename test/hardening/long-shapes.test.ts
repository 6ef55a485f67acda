// A tensor of a huge rank in a weights file (100,001 dims of 1) is named in an error by its
// first 8 dims and its rank, not by all of them (a 300 KB line before): the weights'
// shape check (weightsFrom), the quantized weights' (withQuantized) and a host tensor's size.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lowerModel, weightsFrom } from '../../src/api/compile.js';
import { Builder } from '../../src/ir/build.js';
import { withQuantized } from '../../src/ir/quantize.js';
import { type HostTensor, hostTensor, showDims } from '../../src/ir/value.js';
import { quantize } from '../../src/passes/quantize.js';
import { NO_HINTS } from '../../src/ir/module.js';

const DEEP: HostTensor = { dtype: 'f32', shape: Array<number>(100_001).fill(1), data: new Float64Array(1) };
const SHOWN = '[1, 1, 1, 1, 1, 1, 1, 1, … (100001 dims)]';

/** The message of what `f` throws. */
function thrown(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('nothing thrown');
}

describe('long shapes in messages', () => {
  it('shows the first 8 dims and the rank', () => {
    expect(showDims(DEEP.shape)).toBe(SHOWN);
    expect(showDims([2, 3])).toBe('[2, 3]');
    expect(showDims(Array<number>(8).fill(2))).toBe('[2, 2, 2, 2, 2, 2, 2, 2]');
  });

  it('weights of the wrong shape', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-long-shape-'));
    const file = path.join(dir, 'm.fm');
    fs.writeFileSync(file, 'model M() {\n  param w: f32[8]\n  fn forward(x: f32[8]) -> f32[8] { return x * w }\n}\n');
    const l = lowerModel(file)[0]!;
    const m = thrown(() => weightsFrom(l, new Map([['w', DEEP]]), 'w.safetensors', new Map()));
    expect(m).toBe(`w.safetensors: tensor "w" is f32${SHOWN}, but M needs f32[8]`);
  });

  it('quantized weights and a host tensor of the wrong shape', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', [2, 4]);
    const g = quantize.run(b.graph('f', { y: b.einsum('bk,nk->bn', x, b.param('w', 'f32', [4, 4])) }), {
      target: 'reference',
      mode: 'inference',
      hints: NO_HINTS,
      options: { quantize: [{ path: 'w', spec: { dtype: 'int8', symmetric: true } }] },
    });
    const q = { ...DEEP, dtype: 'i8' as const };
    expect(thrown(() => withQuantized([g], new Map([['w:int8.q', q]])))).toBe(
      `tensor "w:int8.q" is i8${SHOWN}, the model needs i8[4, 4]`,
    );
    expect(thrown(() => hostTensor('f32', DEEP.shape, [1, 2]))).toBe(`2 values for shape ${SHOWN}`);
  });
});
