// `[int]` hyperparameters: mean, var and size over several axes (numbers worked out by hand
// and run on the reference interpreter), block hyperparameters of list type, and the
// generic check of a declaration whose `[int]` parameter has no default.

import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDiagnostic } from '../../src/frontend/diagnostics.js';
import { lowerFile } from '../../src/frontend/lower.js';
import { checkFiles } from '../../src/frontend/check.js';
import { type Host, nodeHost } from '../../src/frontend/program.js';
import { evaluate } from '../../src/ir/interp.js';
import { type HostTensor, hostTensor } from '../../src/ir/value.js';

const ROOT = path.resolve(__dirname, '../..');
const FILE = path.join(ROOT, 'test', 'frontend', 'lists.fm');
const host = (src: string): Host => ({
  read: (p) => (p === FILE ? new TextEncoder().encode(src) : nodeHost.read(p)),
  display: (p) => path.relative(ROOT, p),
});

/** Lowers `src` and runs it on x = 0, 1, 2, ... of `shape`; the outputs by name. */
function run(src: string, shape: number[]): Map<string, HostTensor> {
  const r = lowerFile(FILE, {}, host(src));
  if (!r.ok) throw new Error(r.diagnostics.map((d) => renderDiagnostic(d, (f) => r.program.source(f))).join('\n\n'));
  const n = shape.reduce((a, b) => a * b, 1);
  const x = hostTensor('f32', shape, [...Array(n).keys()]);
  return evaluate(r.lowered.graph, { inputs: new Map([['x', x]]), params: new Map(), dims: new Map() }).outputs;
}

function expectClose(x: HostTensor | undefined, shape: number[], want: readonly number[]): void {
  expect(x?.shape).toEqual(shape);
  [...x!.data].forEach((v, i) => expect(Math.abs(v - want[i]!), `element ${i}: ${v} vs ${want[i]}`).toBeLessThan(1e-5));
  expect(x!.data.length).toBe(want.length);
}

/** The rendered diagnostics of checking `src`. */
function check(src: string): string {
  const r = checkFiles([FILE], host(src));
  return r.diagnostics.map((d) => renderDiagnostic(d, (f) => r.program.source(f))).join('\n');
}

// x[i, j, k] = 6i + 2j + k on [2, 3, 2]. Over i and k, row j holds 2j + {0, 1, 6, 7}: mean
// 2j + 3.5, squared deviations 12.25 + 6.25 + 6.25 + 12.25 = 37.
describe('mean and var over several axes', () => {
  it('reduce a list of axes, negative ones too, with keepdim and correction', () => {
    const out = run(
      `import { mean, var } from "std/math"
model M {
  fn forward(x: f32[2, 3, 2]) -> (m: f32[3], k: f32[1, 3, 1], v: f32[3], p: f32[3], s: f32[3], r: f32[3]) {
    return (mean(x, [0, 2]), mean(x, [0, -1], keepdim = true), var(x, [2, 0], correction = 1),
            var(x, [-3, -1]), sum(x, [0, 2]) / size(x, [2, 0]), mean(x, [-1, 0]))
  }
}`,
      [2, 3, 2],
    );
    expectClose(out.get('m'), [3], [3.5, 5.5, 7.5]);
    expectClose(out.get('k'), [1, 3, 1], [3.5, 5.5, 7.5]);
    expectClose(out.get('v'), [3], [37 / 3, 37 / 3, 37 / 3]);
    expectClose(out.get('p'), [3], [9.25, 9.25, 9.25]);
    expectClose(out.get('s'), [3], [3.5, 5.5, 7.5]);
    expectClose(out.get('r'), [3], [3.5, 5.5, 7.5]);
  });

  it('a single int still works, and the default is the last axis', () => {
    const out = run(
      `import { mean, var } from "std/math"
model M {
  fn forward(x: f32[2, 3, 2]) -> (one: f32[2, 2], last: f32[2, 3], v: f32[2, 1, 2]) {
    return (mean(x, 1), mean(x), var(x, axis = 1, keepdim = true))
  }
}`,
      [2, 3, 2],
    );
    // Over j: 6i + k + {0, 2, 4}: mean 6i + k + 2, squared deviations 4 + 0 + 4 = 8.
    expectClose(out.get('one'), [2, 2], [2, 3, 8, 9]);
    expectClose(out.get('last'), [2, 3], [0.5, 2.5, 4.5, 6.5, 8.5, 10.5]);
    expectClose(out.get('v'), [2, 1, 2], [8 / 3, 8 / 3, 8 / 3, 8 / 3]);
  });

  it('sizes on symbolic dims are the product of the run-time sizes', () => {
    const out = run(
      `import { mean, var } from "std/math"
model M {
  fn forward(x: f32[B, 3, C]) -> (m: f32[3], v: f32[3], n: f32[B, 3, C]) {
    return (mean(x, [0, 2]), var(x, [0, -1], correction = 1), x * 0.0 + size(x, [0, 2]) + size(x, []))
  }
}`,
      [2, 3, 2],
    );
    expectClose(out.get('m'), [3], [3.5, 5.5, 7.5]);
    expectClose(out.get('v'), [3], [37 / 3, 37 / 3, 37 / 3]);
    expectClose(out.get('n'), [2, 3, 2], Array(12).fill(5));
  });
});

describe('[int] hyperparameters', () => {
  it('of a block: typed, inferred from a list default, and given one int', () => {
    const out = run(
      `import { mean } from "std/math"
block Center(axes: [int] = [0, 2], scale = [1]) {
  fn forward(x: f32[A, B, C]) -> f32[A, B, C] {
    return (x - mean(x, axes, keepdim = true)) * size(x, scale)
  }
}
model M {
  both = Center()
  middle = Center(1, scale = [0, 2])
  fn forward(x: f32[2, 3, 2]) -> (b: f32[2, 3, 2], m: f32[2, 3, 2]) {
    return (both(x), middle(x))
  }
}`,
      [2, 3, 2],
    );
    // both: x - (2j + 3.5), times 3; middle: x - (6i + k + 2), times 4.
    const at = (f: (i: number, j: number, k: number) => number) =>
      [0, 1].flatMap((i) => [0, 1, 2].flatMap((j) => [0, 1].map((k) => f(i, j, k))));
    expectClose(
      out.get('b'),
      [2, 3, 2],
      at((i, j, k) => 3 * (6 * i + k - 3.5)),
    );
    expectClose(
      out.get('m'),
      [2, 3, 2],
      at((_i, j) => 4 * (2 * j - 2)),
    );
  });

  it('without a default: checked by name generically, fully at each call', () => {
    const fn = `import { mean } from "std/math"
fn center(x: f32[R, K], axes: [int]) -> f32[R, K] {
  return x - mean(x, axes, keepdim = true)
}
`;
    // Generically the axes are unknown: no error ...
    expect(check(fn)).toBe('');
    // ... but a name error is still found, and a call with axes out of range is an error there.
    expect(check(fn.replace('return x -', 'return y -'))).toMatch(/FM0200: cannot find `y`/);
    const bad = `${fn}
model M {
  fn forward(x: f32[2, 3]) -> f32[2, 3] {
    return center(x, [0, 2])
  }
}`;
    const text = check(bad);
    expect(text).toMatch(/FM0407: axis 2 is out of range for a tensor of rank 2/);
    expect(text).toMatch(/note: in this call of `center`/);
    expect(text.match(/error FM/g)).toHaveLength(1);
    // The body is compared with the declared results at each call.
    const wrong = check(bad.replace('return x - mean', 'return mean').replace('[0, 2]', '[0]'));
    expect(wrong).toMatch(/error FM0\d+: .*f32\[1, 3\]/);
    expect(wrong).toMatch(/note: in this call of `center`/);
    expect(wrong.match(/error FM/g)).toHaveLength(1);
  });
});
