// `--set name=value`: hyperparameter overrides of a model, checked and lowered with the
// new values; unknown names, bad values, wrong types and failing requirements reported
// with the overrides named.

import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFiles } from '../../src/frontend/check.js';
import type { HParamSet } from '../../src/frontend/checker/overrides.js';
import { type Diagnostic, renderDiagnostic } from '../../src/frontend/diagnostics.js';
import { lowerFile } from '../../src/frontend/lower.js';
import { type Host, nodeHost, type Program } from '../../src/frontend/program.js';
import { dimToString } from '../../src/ir/dims.js';
import { printGraph } from '../../src/ir/print.js';

const ROOT = path.resolve(__dirname, '../..');
const FILE = path.join(ROOT, 'test', 'frontend', 'set.fm');

const SRC = `import { gelu, relu } from "std/act"
import { Linear } from "std/nn"

block Heads(d: int, heads: int) {
  require d % heads == 0, "d must be divisible by heads"
  proj = Linear(d, d)
  fn forward(x: f32[B, d]) -> f32[B, d] {
    return proj(x)
  }
}

model Net(d = 64, hidden = 4 * d, heads = 4, act = gelu, bias = true, scale = 1.0, norm: pre | post = pre) {
  require hidden >= d, "hidden must be at least d"
  att = Heads(d, heads)
  up = Linear(d, hidden, bias = bias)
  down = Linear(hidden, d)
  fn forward(x: f32[B, d]) -> (y: f32[B, d]) {
    let h = if norm == pre { att(x) } else { x }
    return down(act(up(h))) * scale
  }
}
`;

function hostFor(src: string): Host {
  return {
    read: (p) => (p === FILE ? new TextEncoder().encode(src) : nodeHost.read(p)),
    display: (p) => path.relative(ROOT, p),
  };
}

function check(set: HParamSet, src = SRC): { ds: readonly Diagnostic[]; text: string; program: Program } {
  const { program, diagnostics } = checkFiles([FILE], hostFor(src), { set });
  const text = diagnostics.map((d) => renderDiagnostic(d, (f) => program.source(f))).join('\n\n');
  return { ds: diagnostics, text, program };
}

function lower(set: HParamSet, src = SRC) {
  const r = lowerFile(FILE, { set }, hostFor(src));
  if (!r.ok) throw new Error(r.diagnostics.map((d) => renderDiagnostic(d, (f) => r.program.source(f))).join('\n\n'));
  return r.lowered;
}

const shapes = (l: ReturnType<typeof lower>) =>
  Object.fromEntries(l.params.map((p) => [p.path, p.shape.map(dimToString).join('x')]));
const count = (l: ReturnType<typeof lower>) =>
  l.params.reduce((n, p) => n + p.shape.reduce((a, d) => a * Number(dimToString(d)), 1), 0);

describe('--set: hyperparameter overrides', () => {
  it('checks clean with and without overrides', () => {
    expect(check({}).ds).toEqual([]);
    expect(check({ d: 32, heads: 2 }).ds).toEqual([]);
  });

  it('changes shapes and the param count; later defaults follow (hidden = 4 * d)', () => {
    const base = lower({});
    expect(shapes(base)['up.w']).toBe('256x64');
    const small = lower({ d: 16 });
    expect(shapes(small)['up.w']).toBe('64x16');
    expect(shapes(small)['att.proj.w']).toBe('16x16');
    expect(small.graph.inputs[0]!.args.shape.map(dimToString)).toEqual(['B', '16']);
    // 16*16+16 (att) + 16*64+64 (up) + 64*16+16 (down)
    expect(count(small)).toBe(16 * 16 + 16 + 16 * 64 + 64 + 64 * 16 + 16);
    expect(count(base)).toBeGreaterThan(count(small));
  });

  it('takes values as text: expressions, earlier hyperparameters, bools, enums and functions', () => {
    expect(shapes(lower({ d: '2 * 8' }))['up.w']).toBe('64x16');
    expect(shapes(lower({ d: '8', hidden: '3 * d' }))['up.w']).toBe('24x8');
    expect(shapes(lower({ bias: false }))['up.b']).toBeUndefined();
    expect(shapes(lower({ bias: 'false' }))['up.b']).toBeUndefined();
    expect(shapes(lower({ norm: 'post' }))['att.proj.w']).toBe('64x64');
    const ops = (set: HParamSet) => printGraph(lower(set).graph);
    expect(ops({})).toContain('erf');
    expect(ops({ act: 'relu' })).not.toContain('erf');
    expect(ops({ act: 'relu' })).toContain('max');
    expect(ops({ scale: 2.5 })).toContain('2.5');
    expect(ops({})).not.toContain('2.5');
  });

  it('reports an unknown name with the model’s hyperparameters and the nearest one', () => {
    const { ds, text } = check({ hiden: 32 });
    expect(ds.map((d) => d.code)).toEqual(['FM0314']);
    expect(ds[0]!.span.file).toBe('--set');
    expect(text).toContain('cannot set `hiden`: model `Net` has no such hyperparameter');
    expect(text).toContain('`d`, `hidden`, `heads`, `act`, `bias`, `scale`, `norm`');
    expect(text).toContain('help: did you mean `hidden`?');
    expect(text).toMatch(/--set:1:1: error FM0314/);
  });

  it('reports a value that does not parse (FM0315) at the value', () => {
    const { ds, text } = check({ d: '2 *' });
    expect(ds.map((d) => d.code)).toEqual(['FM0315']);
    expect(text).toContain('invalid value for `d` (--set): expected');
    const empty = check({ d: '' });
    expect(empty.ds.map((d) => d.code)).toEqual(['FM0315']);
    expect(empty.text).toContain('the value is empty');
    expect(check({ d: Number.NaN }).text).toContain('NaN is not a finite number');
    expect(check({ d: '1\nconst x = 2' }).text).toContain('more than one line');
  });

  it('reports a wrong type with the declaration', () => {
    const { ds, text } = check({ heads: 2, d: 0.5 });
    expect(ds.map((d) => d.code)).toEqual(['FM0301']);
    expect(text).toMatch(/--set:2:3: error FM0301: expected int, found/);
    expect(text).toContain('note: hyperparameter `d` of model `Net` is declared here');
    expect(check({ bias: 3 }).ds.map((d) => d.code)).toEqual(['FM0301']);
    expect(check({ norm: 'middle' }).ds.map((d) => d.code)).toEqual(['FM0310']);
    expect(check({ act: 'silu' }).ds.map((d) => d.code)).toEqual(['FM0200']);
  });

  it('reports a require the override breaks, with the overrides in effect', () => {
    const { ds, text } = check({ heads: 3 });
    expect(ds.map((d) => d.code)).toEqual(['FM0308']);
    expect(text).toContain('requirement failed: d must be divisible by heads');
    expect(text).toContain('note: in Heads(');
    expect(text).toContain('= note: model `Net` is checked with --set heads=3');
    const own = check({ d: 8, hidden: 4 });
    expect(own.ds.map((d) => d.code)).toEqual(['FM0308']);
    expect(own.text).toContain('hidden must be at least d');
    expect(own.text).toContain('model `Net` is checked with --set d=8 --set hidden=4');
  });

  it('does not lower a model whose override fails', () => {
    const r = lowerFile(FILE, { set: { heads: 5 } }, hostFor(SRC));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.diagnostics.map((d) => d.code)).toEqual(['FM0308']);
  });

  it('applies to each model of a file that declares the name; an unknown one to none is FM0314', () => {
    const two = `${SRC}\nmodel Other(width = 8) {\n  fn forward(x: f32[B, width]) -> (y: f32[B, width]) {\n    return x\n  }\n}\n`;
    expect(check({ width: 4, d: 16 }, two).ds).toEqual([]);
    const r = check({ depth: 4 }, two);
    expect(r.ds.map((d) => d.code)).toEqual(['FM0314']);
    expect(r.text).toContain('no model checked has such a hyperparameter; `Net` has `d`');
    expect(r.text).toContain('`Other` has `width`');
    // Lowering one model: the name must be that model's.
    const l = lowerFile(FILE, { model: 'Other', set: { d: 16 } }, hostFor(two));
    expect(l.ok).toBe(false);
    if (!l.ok) expect(l.diagnostics[0]!.message).toContain('model `Other` has no such hyperparameter');
    const ok = lowerFile(FILE, { model: 'Other', set: { width: 4 } }, hostFor(two));
    expect(ok.ok && ok.lowered.graph.inputs[0]!.args.shape.map(dimToString)).toEqual(['B', '4']);
  });

  it('does not override a model used as a child block', () => {
    const nested = `${SRC}\nmodel Outer(d = 64) {\n  inner = Net(d)\n  fn forward(x: f32[B, d]) -> (y: f32[B, d]) {\n    return inner(x)\n  }\n}\n`;
    const l = lowerFile(FILE, { model: 'Outer', set: { d: 32 } }, hostFor(nested));
    expect(l.ok).toBe(true);
    if (l.ok)
      expect(l.lowered.params.find((p) => p.path === 'inner.up.w')!.shape.map(dimToString)).toEqual(['128', '32']);
  });
});
