// Hovers on `[int]` hyperparameters: the declaration's list type generically, and the list
// value of each instance.

import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Host, nodeHost } from '../../src/frontend/program.js';
import { analyze } from '../../src/lsp/analysis.js';
import { hoverAt } from '../../src/lsp/hover.js';
import { ROOT } from './client.js';

const TEXT = `import { mean } from "std/math"

block Center(axes: [int] = [0, 2]) {
  fn forward(x: f32[A, B, C]) -> f32[A, B, C] {
    return x - mean(x, axes, keepdim = true)
  }
}

model Net {
  both = Center()
  middle = Center(1)
  fn forward(x: f32[2, 3, 4]) -> f32[2, 3, 4] {
    return middle(both(x))
  }
}
`;

describe('hover on [int] hyperparameters', () => {
  const file = path.join(ROOT, 'test/lsp/lists.fm');
  const host: Host = {
    read: (p) => (p === file ? new TextEncoder().encode(TEXT) : nodeHost.read(p)),
    display: (p) => path.relative(ROOT, p),
  };
  const a = analyze(file, host);
  const hover = (needle: string, delta = 0) => hoverAt(a, a.root!, TEXT.indexOf(needle) + delta)?.markdown ?? '';

  it('shows the list type, and the values of the instances', () => {
    const h = hover('axes, keepdim', 1);
    expect(h).toContain('(hyperparameter) axes: [int] = [0, 2]');
    expect(h).toContain('- `[int] = [1]` in `Center(axes = [1])`');
    expect(hover('block Center', 6)).toContain('block Center(axes: [int] = [0, 2])');
    expect(hover('middle = Center', 1)).toContain('Center(axes = [1])');
  });
});
