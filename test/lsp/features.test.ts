// The language server's features in process: hovers (generic and instantiated values,
// tuples, parameter counts), definitions (locals, members, dims, imports, named
// arguments, `child.member`), the outline, and the LSP form of diagnostics.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diag, note } from '../../src/frontend/diagnostics.js';
import { type Host, nodeHost } from '../../src/frontend/program.js';
import { analyze, type Analysis } from '../../src/lsp/analysis.js';
import { LineIndex, toLspDiagnostic, Uris } from '../../src/lsp/convert.js';
import { hoverAt } from '../../src/lsp/hover.js';
import { definitionAt, documentSymbols } from '../../src/lsp/navigate.js';
import { ROOT } from './client.js';

const uris = new Uris(ROOT);

/** Analyzes `text` as if it were the file `rel` (other files from disk). */
function check(rel: string, text?: string): Analysis {
  const abs = path.join(ROOT, rel);
  const host: Host = {
    read: (p) => (p === abs && text !== undefined ? new TextEncoder().encode(text) : nodeHost.read(p)),
    display: (p) => uris.display(p),
  };
  return analyze(abs, host);
}

function offsetOf(a: Analysis, needle: string, delta = 0, n = 0): number {
  const text = a.root!.parse.source.text;
  let off = -1;
  for (let i = 0; i <= n; i++) off = text.indexOf(needle, off + 1);
  expect(off, needle).toBeGreaterThanOrEqual(0);
  return off + delta;
}

function hover(a: Analysis, needle: string, delta = 0, n = 0): string {
  return hoverAt(a, a.root!, offsetOf(a, needle, delta, n))?.markdown ?? '';
}

/** The text at the definition of what is at `needle`. */
function definition(a: Analysis, needle: string, delta = 0, n = 0): string | undefined {
  const t = definitionAt(a, a.root!, offsetOf(a, needle, delta, n));
  if (!t) return undefined;
  if ('file' in t) return `file ${path.relative(ROOT, t.file)}`;
  const src = a.program.source(t.span.file)!;
  const { line } = src.lineCol(t.span.start);
  return `${t.span.file}:${line}: ${src.text.slice(t.span.start, t.span.end)}`;
}

const SAMPLE = `import { Linear, LayerNorm } from "std/nn"
import "std/math"

const WIDTH = 4 * 16

fn pair(x: float[N, D]) -> (float[N, D], float[N, 2 * D]) {
  return (x, concat([x, x], -1))
}

block Head(d: int, classes: int = 10) {
  norm = LayerNorm(d)
  proj = Linear(d, classes)
  layers = repeat 3 Linear(d, d)
  param scale: f32[classes] = ones()

  fn forward(x: f32[B, d]) -> f32[B, classes] {
    let (a, b) = pair(x)
    let h = layers(norm(a))
    return proj(h) * scale + softmax(proj.forward(h), -1)
  }
}

model Net(d = WIDTH) {
  head = Head(d, classes = 5)

  fn forward(x: f32[B, d]) -> f32[B, 5] {
    return head(x)
  }
}
`;

describe('hover', () => {
  const a = check('test/lsp/sample.fm', SAMPLE);

  it('checks the sample clean', () => {
    expect(a.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  });

  it('shows a let binding generically, then per instantiation', () => {
    const h = hover(a, 'let h', 4);
    expect(h).toContain('(let) h: f32[B, d]');
    expect(h).toContain('- `f32[B, 64]` in `Head(d = 64, classes = 5)`');
  });

  it('destructures tuple bindings', () => {
    expect(hover(a, '(a, b)', 1)).toContain('(let) a: f32[B, d]');
    expect(hover(a, '(a, b)', 4)).toContain('(let) b: f32[B, 2*d]');
  });

  it('shows any expression under the cursor, innermost first', () => {
    // `*` in `proj(h) * scale`: the product.
    // `classes` has a default, so the generic check uses it (10); Net instantiates 5.
    expect(hover(a, '* scale')).toContain('proj(h) * scale: f32[B, 10]');
    expect(hover(a, '* scale')).toContain('- `f32[B, 5]` in `Head(d = 64, classes = 5)`');
    expect(hover(a, 'proj.forward(h)', 5)).toContain('proj.forward: fn forward');
    expect(hover(a, 'concat(', 0)).toContain('builtin `concat`');
    expect(hover(a, 'softmax(', 0)).toContain('fn softmax(x: float[..., N]');
  });

  it('shows parameters, hyperparameters, consts and function parameters', () => {
    expect(hover(a, 'param scale', 6)).toContain('(param) scale: f32[10]');
    expect(hover(a, 'param scale', 6)).toContain('`f32[5]` in `Head(d = 64, classes = 5)`');
    expect(hover(a, 'classes: int', 0)).toContain('(hyperparameter) classes: int = 10');
    expect(hover(a, 'Head(d: int', 5)).toContain('(hyperparameter) d: int = d');
    expect(hover(a, 'const WIDTH', 6)).toContain('(const) WIDTH: int = 64');
    expect(hover(a, 'x: float[N', 0)).toContain('(parameter) x: float[N, D]');
    expect(hover(a, 'x: f32[B, d]', 0)).toContain('(parameter) x: f32[B, d]');
    expect(hover(a, 'x: f32[B, d]', 0)).toContain('- `f32[B, 64]` in `Head(d = 64, classes = 5)`');
  });

  it('shows child blocks with their parameter counts, repeat included', () => {
    const norm = hover(a, 'norm = LayerNorm', 0);
    expect(norm).toContain('(child) norm = LayerNorm(d = d, eps = 0.00001)');
    expect(norm).toContain('Parameters: 2*d');
    const layers = hover(a, 'layers(norm', 0);
    expect(layers).toContain('(child) layers = repeat 3 Linear(in_dim = d, out_dim = d, bias = true)');
    expect(layers).toContain('Parameters: 3*d**2 + 3*d = 3 × (d**2 + d) (repeat of 3)');
    expect(layers).toContain('Call result: `f32[B, d]`');
    const head = hover(a, 'head(x)', 0);
    // Head(d = 64, classes = 5): LayerNorm 128, proj 64·5 + 5, 3 × (64·64 + 64), scale 5.
    expect(head).toContain(`Parameters: ${(128 + 325 + 3 * 4160 + 5).toLocaleString('en-US')}`);
  });

  it('shows a block with its signature and the parameter counts of its instances', () => {
    const h = hover(a, 'block Head', 6);
    expect(h).toContain('block Head(d: int, classes: int = 10)');
    // Generically d is a symbol and classes its default 10: 2d + (10d + 10) + 3(d² + d) + 10.
    expect(h).toContain('Parameters: 3*d**2 + 15*d + 20');
    expect(h).toContain('- `Head(d = 64, classes = 5)`: 12,938');
    expect(hover(a, 'model Net', 6)).toContain('Parameters: 12,938');
  });

  it('shows the file an import names', () => {
    expect(hover(a, '"std/math"', 2)).toContain('std/math.fm');
  });

  it('shows nothing on keywords and whitespace', () => {
    expect(hover(a, 'return proj', 2)).toBe('');
  });
});

describe('definition', () => {
  const a = check('test/lsp/sample.fm', SAMPLE);

  it('finds locals, parameters, members and hyperparameters', () => {
    expect(definition(a, 'layers(norm(a))', 13)).toBe('test/lsp/sample.fm:17: a');
    expect(definition(a, 'proj(h)', 5)).toBe('test/lsp/sample.fm:18: h');
    expect(definition(a, 'layers(norm', 0)).toBe('test/lsp/sample.fm:13: layers');
    expect(definition(a, '* scale', 2)).toBe('test/lsp/sample.fm:14: scale');
    expect(definition(a, 'Linear(d, classes)', 10)).toBe('test/lsp/sample.fm:10: classes');
    expect(definition(a, 'pair(x)', 5)).toBe('test/lsp/sample.fm:16: x');
  });

  it('finds dim variables at their first occurrence in the signature', () => {
    expect(definition(a, 'float[N, 2 * D]', 13)).toBe('test/lsp/sample.fm:6: D');
  });

  it('finds blocks, functions and consts, here and in imported files', () => {
    expect(definition(a, 'Head(d, classes', 0)).toBe('test/lsp/sample.fm:10: Head');
    expect(definition(a, 'pair(x)', 0)).toBe('test/lsp/sample.fm:6: pair');
    expect(definition(a, 'd = WIDTH', 4)).toBe('test/lsp/sample.fm:4: WIDTH');
    expect(definition(a, 'LayerNorm(d)', 0)).toMatch(/^std\/nn\.fm:\d+: LayerNorm$/);
    expect(definition(a, '{ Linear, LayerNorm }', 3)).toMatch(/^std\/nn\.fm:\d+: Linear$/);
    expect(definition(a, 'softmax(', 0)).toMatch(/^std\/math\.fm:\d+: softmax$/);
  });

  it('finds named arguments and members of child blocks', () => {
    expect(definition(a, 'classes = 5', 0)).toBe('test/lsp/sample.fm:10: classes');
    expect(definition(a, 'proj.forward', 6)).toMatch(/^std\/nn\.fm:\d+: forward$/);
  });

  it('jumps from an import string to the file', () => {
    expect(definition(a, '"std/nn"', 1)).toBe('file std/nn.fm');
  });

  it('has nothing for builtins and keywords', () => {
    expect(definition(a, 'concat(', 0)).toBeUndefined();
    expect(definition(a, 'return (x', 1)).toBeUndefined();
  });
});

describe('document symbols', () => {
  it('outlines declarations with members nested', () => {
    const a = check('test/lsp/sample.fm', SAMPLE);
    const syms = documentSymbols(a.root!, new LineIndex(SAMPLE));
    const tree = (s: { name: string; detail?: string; children?: unknown[] }[]): unknown =>
      s.map((x) => (x.children?.length ? [x.name, tree(x.children as typeof s)] : x.name));
    expect(tree(syms)).toEqual([
      'WIDTH',
      'pair',
      ['Head', ['d', 'classes', 'norm', 'proj', 'layers', 'scale', ['forward', ['a', 'b', 'h']]]],
      ['Net', ['d', 'head', 'forward']],
    ]);
    const head = syms[2]!;
    expect(head.detail).toBe('block(d, classes)');
    expect(head.selectionRange).toEqual({ start: { line: 9, character: 6 }, end: { line: 9, character: 10 } });
    expect(head.children!.find((c) => c.name === 'layers')!.detail).toBe('repeat 3 Linear(d, d)');
    expect(head.children!.find((c) => c.name === 'scale')!.detail).toBe('param f32[classes]');
  });

  it('outlines every model and std file without throwing', () => {
    for (const dir of ['models', 'std'])
      for (const f of fs.readdirSync(path.join(ROOT, dir)).filter((x) => x.endsWith('.fm'))) {
        const a = check(`${dir}/${f}`);
        expect(documentSymbols(a.root!, new LineIndex(a.root!.parse.source.text)).length).toBeGreaterThan(0);
      }
  });
});

describe('every model and std file', () => {
  it('answers a hover and a definition at every identifier without throwing', () => {
    for (const dir of ['models', 'std'])
      for (const f of fs.readdirSync(path.join(ROOT, dir)).filter((x) => x.endsWith('.fm'))) {
        const a = check(`${dir}/${f}`);
        expect(a.diagnostics).toEqual([]);
        const text = a.root!.parse.source.text;
        for (const m of text.matchAll(/[A-Za-z_]\w*/g)) {
          hoverAt(a, a.root!, m.index);
          definitionAt(a, a.root!, m.index);
        }
      }
  });
});

describe('diagnostics in LSP form', () => {
  const a = check('test/lsp/sample.fm', SAMPLE);
  const r = { lines: (f: string) => a.lines(f), uri: (f: string) => uris.toUri(path.join(ROOT, f)) };
  const span = { file: 'test/lsp/sample.fm', start: SAMPLE.indexOf('WIDTH'), end: SAMPLE.indexOf('WIDTH') + 5 };

  it('keeps the code and message, with 0-based ranges', () => {
    const d = toLspDiagnostic(diag('FM0200', span, ['WIDTH']), r);
    expect(d).toMatchObject({ code: 'FM0200', source: 'fmc', severity: 1 });
    expect(d.range).toEqual({ start: { line: 3, character: 6 }, end: { line: 3, character: 11 } });
    expect(d.message).toBe(diag('FM0200', span, ['WIDTH']).message);
  });

  it('keeps the message of fmc check exactly; notes and help become related information', () => {
    const d = toLspDiagnostic(
      diag('FM0201', span, ['WIDTH'], {
        notes: [note('first defined here', { ...span, start: 0, end: 6 }), note('a note without a place')],
        help: 'rename one of them',
      }),
      r,
    );
    expect(d.message).toBe(diag('FM0201', span, ['WIDTH']).message);
    const uri = uris.toUri(path.join(ROOT, 'test/lsp/sample.fm'));
    const here = r.lines(span.file)!.range(span);
    expect(d.relatedInformation).toEqual([
      {
        location: { uri, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 6 } } },
        message: 'first defined here',
      },
      { location: { uri, range: here }, message: 'note: a note without a place' },
      { location: { uri, range: here }, message: 'help: rename one of them' },
    ]);
  });
});

describe('positions', () => {
  it('count lines the LSP way (\\n, \\r\\n and a lone \\r)', () => {
    const li = new LineIndex('a\r\nbc\rd\ne');
    expect(li.position(3)).toEqual({ line: 1, character: 0 });
    expect(li.position(6)).toEqual({ line: 2, character: 0 });
    expect(li.position(8)).toEqual({ line: 3, character: 0 });
    expect(li.offset({ line: 1, character: 99 })).toBe(5);
    expect(li.offset({ line: 9, character: 0 })).toBe(9);
  });

  it('names untitled documents under the root', () => {
    const u = new Uris('/ws');
    expect(u.toPath('untitled:Untitled-1')).toBe('/ws/Untitled-1.fm');
    expect(u.toUri('/ws/Untitled-1.fm')).toBe('untitled:Untitled-1');
    expect(u.display('/ws/models/a.fm')).toBe('models/a.fm');
    expect(u.display('/elsewhere/a.fm')).toBe('/elsewhere/a.fm');
  });
});

describe('broken files (test/golden/errors)', () => {
  it('answer hovers, definitions and the outline at every identifier without throwing', () => {
    const dir = path.join(ROOT, 'test', 'golden', 'errors');
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.fm'))) {
      const a = check(`test/golden/errors/${f}`);
      if (!a.root) continue;
      const text = a.root.parse.source.text;
      documentSymbols(a.root, new LineIndex(text));
      for (const m of text.matchAll(/[A-Za-z_]\w*|"/g)) {
        hoverAt(a, a.root, m.index);
        definitionAt(a, a.root, m.index);
      }
    }
  });
});
