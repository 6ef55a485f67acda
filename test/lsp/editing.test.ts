// The editing features of the language server in process, with exact results on small
// sources: completion (scope, members, named arguments, dims, types, std names with their
// import), signature help, inlay hints, references and rename (across files), quick fixes
// and the links from diagnostic codes to their docs.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Host, nodeHost } from '../../src/frontend/program.js';
import { codeActions } from '../../src/lsp/actions.js';
import { analyze, type Analysis } from '../../src/lsp/analysis.js';
import { completionAt } from '../../src/lsp/complete.js';
import { LineIndex } from '../../src/lsp/convert.js';
import { cursorAt } from '../../src/lsp/cursor.js';
import { docLink, readLinks, slug } from '../../src/lsp/doc-links.js';
import { importEdit } from '../../src/lsp/imports.js';
import { inlayHints } from '../../src/lsp/inlay.js';
import { badNewName, referencesTo, renameRefusal, targetAt } from '../../src/lsp/references.js';
import { signatureAt } from '../../src/lsp/signature.js';
import { ROOT } from './client.js';

const LIB = `import { Linear } from "std/nn"

block Mlp(d: int, hidden: int = 4 * d) {
  up = Linear(d, hidden)
  down = Linear(hidden, d)

  fn forward(x: f32[B, T, d]) -> f32[B, T, d] {
    let h = up(x)
    return down(h)
  }
}
`;

const MAIN = `import { Mlp } from "./lib"

model Net(d = 8) {
  mlp = Mlp(d, hidden = 16)

  fn forward(x: f32[B, T, d]) -> f32[B, T, d] {
    let y = mlp(x)
    let (a, b) = (y, mlp.down(mlp.up(x)))
    return a + b
  }
}
`;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-editing-'));
  fs.writeFileSync(path.join(dir, 'lib.fm'), LIB);
  fs.writeFileSync(path.join(dir, 'main.fm'), MAIN);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Analyzes `text` as main.fm of the temporary folder (lib.fm from disk). */
function check(text: string): { a: Analysis; lines: LineIndex } {
  const abs = path.join(dir, 'main.fm');
  const host: Host = {
    read: (p) => (p === abs ? new TextEncoder().encode(text) : nodeHost.read(p)),
    display: (p) => path.relative(dir, p),
  };
  return { a: analyze(abs, host), lines: new LineIndex(text) };
}

/** The offset just after the `n`th `needle` (or `delta` characters into it). */
function at(text: string, needle: string, delta = needle.length, n = 0): number {
  let off = -1;
  for (let i = 0; i <= n; i++) off = text.indexOf(needle, off + 1);
  expect(off, needle).toBeGreaterThanOrEqual(0);
  return off + delta;
}

function complete(text: string, needle: string, delta?: number) {
  const { a, lines } = check(text);
  return completionAt(a, a.root!, at(text, needle, delta), lines).items;
}

/** label → detail of the items of the given sort groups (0 args, 1 locals, 2 members, 3 file names). */
function labels(items: ReturnType<typeof complete>, groups = '0123'): string[] {
  return items.filter((i) => groups.includes(i.sortText![0]!)).map((i) => `${i.label}: ${i.detail}`);
}

describe('completion', () => {
  it('offers the names in scope, innermost first, with their types', () => {
    const text = MAIN.replace('return a + b', 'return a + ');
    const got = labels(complete(text, 'return a + '));
    expect(got).toEqual([
      'b: (let) b',
      'a: (let) a',
      'y: (let) y',
      'B: (dim variable) B',
      'T: (dim variable) T',
      'x: (parameter) x: f32[B, T, d]',
      'd: (hyperparameter) d = 8',
      'mlp: (child) mlp = Mlp(d, hidden = 16)',
      'forward: fn forward(x: f32[B, T, d]) -> f32[B, T, d]',
      'Net: model Net(d = 8)',
      'Mlp: block Mlp(d: int, hidden: int = 4 * d)',
    ]);
  });

  it('gives the checker types of the bindings when the text checks', () => {
    const text = MAIN.replace('return a + b', 'return a + b + y');
    const items = complete(text, '+ b + y', 7);
    expect(labels(items, '1').slice(0, 3)).toEqual([
      'b: (let) b: f32[B, T, 8]',
      'a: (let) a: f32[B, T, 8]',
      'y: (let) y: f32[B, T, 8]',
    ]);
    // builtins, keywords and std names come after, in their own groups
    expect(items.find((i) => i.label === 'exp')?.sortText).toBe('4exp');
    expect(items.find((i) => i.label === 'softmax')?.sortText).toBe('6softmax');
    expect(items.find((i) => i.label === 'let')?.kind).toBe(14); // Keyword
  });

  it("after `child.`: the child block's members", () => {
    const text = MAIN.replace('return a + b', 'return mlp.');
    expect(labels(complete(text, 'return mlp.'))).toEqual([
      'up: (child) up = Linear(in_dim = d, out_dim = 4*d, bias = true)',
      'down: (child) down = Linear(in_dim = 4*d, out_dim = d, bias = true)',
      'forward: fn forward(x: f32[B, T, d]) -> f32[B, T, d]',
    ]);
  });

  it('at the start of an argument: the named arguments not given yet', () => {
    const text = MAIN.replace('let y = mlp(x)', 'let y = Mlp(d, ');
    const items = complete(text, 'let y = Mlp(d, ');
    expect(labels(items, '0')).toEqual(['d =: d: int', 'hidden =: hidden: int = 4 * d']);
    expect(items.find((i) => i.label === 'hidden =')?.textEdit).toMatchObject({ newText: 'hidden = ' });
    const given = MAIN.replace('mlp = Mlp(d, hidden = 16)', 'mlp = Mlp(hidden = 16, ');
    expect(labels(complete(given, 'hidden = 16, '), '0')).toEqual(['d =: d: int']);
  });

  it('in shape brackets: dim variables, int hyperparameters and constants', () => {
    const text = MAIN.replace('let y = mlp(x)', 'let y: f32[B, ');
    expect(labels(complete(text, 'f32[B, '))).toEqual([
      'B: (dim variable) B',
      'T: (dim variable) T',
      'd: (hyperparameter) d = 8',
    ]);
  });

  it('after `:`: dtypes, dtype classes and hyperparameter types', () => {
    const text = MAIN.replace('model Net(d = 8)', 'model Net(d = 8, t: ');
    const items = complete(text, 'd = 8, t: ');
    expect(items.map((i) => i.label)).toEqual([
      'f32',
      'f16',
      'bf16',
      'i8',
      'i4',
      'i32',
      'i64',
      'bool',
      'float',
      'int',
      'dtype',
      'fn',
    ]);
  });

  it('std names not imported, with the edit that imports them', () => {
    const text = MAIN.replace('return a + b', 'return a + b + Lay');
    const { a, lines } = check(text);
    const items = completionAt(a, a.root!, at(text, '+ Lay'), lines).items;
    const ln = items.find((i) => i.label === 'LayerNorm')!;
    expect(ln.detail).toBe('block LayerNorm(d: int, eps: float = 1e-5)');
    expect(ln.labelDetails).toEqual({ description: 'std/nn' });
    expect(ln.additionalTextEdits).toEqual([
      { range: lines.range({ start: 27, end: 27 }), newText: '\nimport { LayerNorm } from "std/nn"' },
    ]);
    // An import of the module is extended.
    const withNn = `import { Linear } from "std/nn"\n${text}`;
    const edit = completionAt(
      check(withNn).a,
      check(withNn).a.root!,
      at(withNn, '+ Lay'),
      new LineIndex(withNn),
    ).items.find((i) => i.label === 'LayerNorm')!.additionalTextEdits;
    expect(edit).toEqual([{ range: new LineIndex(withNn).range({ start: 15, end: 15 }), newText: ', LayerNorm' }]);
    // Imported names are not offered again from std.
    expect(items.filter((i) => i.label === 'Mlp')).toHaveLength(1);
  });

  it('nothing in comments and strings', () => {
    const text = MAIN.replace('return a + b', 'return a + b // a comment y');
    expect(complete(text, 'a comment y')).toEqual([]);
  });
});

describe('import edits', () => {
  const edit = (text: string, name: string, module: string) => {
    const { a } = check(text);
    const e = importEdit(a.root!, name, module);
    return e && text.slice(0, e.start) + e.newText + text.slice(e.end);
  };
  it('extends an import of the module, adds one after the imports, or before the first declaration', () => {
    expect(edit('import { Linear } from "std/nn"\n', 'GLU', 'std/nn')).toBe('import { Linear, GLU } from "std/nn"\n');
    expect(edit('import { Mlp } from "./lib"\n', 'GLU', 'std/nn')).toBe(
      'import { Mlp } from "./lib"\nimport { GLU } from "std/nn"\n',
    );
    expect(edit('// A model.\n\nconst k = 1\n', 'GLU', 'std/nn')).toBe(
      '// A model.\n\nimport { GLU } from "std/nn"\n\nconst k = 1\n',
    );
    expect(edit('import "std/nn"\n', 'GLU', 'std/nn')).toBeUndefined();
  });
});

describe('the cursor', () => {
  it('reads calls, pipes, members and brackets from the tokens before it', () => {
    const c = cursorAt('let y = x |> f(a, k = 1, b', 26);
    expect(c.call).toMatchObject({ callee: 'f', argIndex: 3, given: ['k'], atArgStart: true });
    expect(c.word).toBe('b');
    expect(cursorAt('fn f(x: f32[', 12)).toMatchObject({ shape: true, call: undefined });
    expect(cursorAt('let y = x[', 10).shape).toBe(false);
    expect(cursorAt('let y = a.b', 11).member).toEqual({ target: 'a', targetStart: 8 });
    expect(cursorAt('import { Li } from "std/nn"', 11).importFrom).toBe('std/nn');
  });
});

describe('signature help', () => {
  const sig = (text: string, needle: string, delta?: number) => {
    const { a } = check(text);
    const h = signatureAt(a, a.root!, at(text, needle, delta));
    if (!h) return undefined;
    const s = h.signatures[0]!;
    const params = s.parameters!.map((p) => {
      const [from, to] = p.label as [number, number];
      return s.label.slice(from, to);
    });
    return { label: s.label, params, active: h.activeParameter, doc: s.documentation };
  };

  it("a block's hyperparameters, the active one by position or by name", () => {
    expect(sig(MAIN, 'mlp = Mlp(d', 11)).toEqual({
      label: 'block Mlp(d: int, hidden: int = 4 * d)',
      params: ['d: int', 'hidden: int = 4 * d'],
      active: 0,
      doc: undefined,
    });
    expect(sig(MAIN, 'hidden = 1', 10)?.active).toBe(1);
    const named = MAIN.replace('Mlp(d, hidden = 16)', 'Mlp(hidden = 16, d = 4)');
    expect(sig(named, 'd = 4', 4)?.active).toBe(0);
  });

  it("a child's call shows its block's forward; a std function its declaration", () => {
    expect(sig(MAIN, 'mlp(x', 5)).toMatchObject({
      label: 'mlp(x: f32[B, T, d]) -> f32[B, T, d]',
      params: ['x: f32[B, T, d]'],
      active: 0,
    });
    const std = MAIN.replace('return a + b', 'return leaky_relu(a, ');
    expect(sig(std, 'leaky_relu(a, ')).toEqual({
      label: 'leaky_relu(x: float[...], slope: float = 0.01) -> float[...]',
      params: ['x: float[...]', 'slope: float = 0.01'],
      active: 1,
      doc: 'from std/act (not imported yet)',
    });
    expect(sig(MAIN, 'fn forward(x', 12)).toBeUndefined(); // a declaration, not a call
  });

  it('an [int] parameter shows its list type and default', () => {
    const text = MAIN.replace('return a + b', 'return mean(a, ');
    expect(sig(text, 'mean(a, ')).toMatchObject({
      label: 'mean(x: float[..., N], axis: [int] = [-1], keepdim: bool = false)',
      params: ['x: float[..., N]', 'axis: [int] = [-1]', 'keepdim: bool = false'],
      active: 1,
    });
  });
});

describe('inlay hints', () => {
  it("the checker's type after each let name without a declared type", () => {
    const { a, lines } = check(MAIN);
    const hints = inlayHints(a, a.root!, lines, 0, MAIN.length).map((h) => [
      MAIN.slice(0, lines.offset(h.position)).split('\n').at(-1),
      h.label,
    ]);
    expect(hints).toEqual([
      ['    let y', ': f32[B, T, 8]'],
      ['    let (a', ': f32[B, T, 8]'],
      ['    let (a, b', ': f32[B, T, 8]'],
    ]);
    const typed = MAIN.replace('let y = mlp(x)', 'let y: f32[B, T, d] = mlp(x)');
    const t = check(typed);
    expect(inlayHints(t.a, t.a.root!, t.lines, 0, typed.length).map((h) => h.label)).toHaveLength(2);
    // Outside the requested range: none.
    expect(inlayHints(a, a.root!, lines, 0, at(MAIN, 'let y', 0))).toEqual([]);
  });
});

describe('references and rename', () => {
  const refs = (text: string, needle: string, delta: number, n = 0) => {
    const { a } = check(text);
    const t = targetAt(a, a.root!, at(text, needle, delta, n))!;
    return {
      a,
      t,
      spans: referencesTo(a, t).map((s) => {
        const src = s.file === 'main.fm' ? text : LIB;
        return `${s.file}:${src.slice(0, s.start).split('\n').length}:${src.slice(s.start, s.end)}`;
      }),
    };
  };

  it('a child: its declaration and uses, `child.member` resolved through the checker', () => {
    expect(refs(MAIN, 'mlp(x)', 1).spans).toEqual(['main.fm:4:mlp', 'main.fm:7:mlp', 'main.fm:8:mlp', 'main.fm:8:mlp']);
  });

  it('across files: a member of an imported block, a hyperparameter named in a call, a block', () => {
    expect(refs(MAIN, 'mlp.up', 5).spans).toEqual(['lib.fm:4:up', 'lib.fm:8:up', 'main.fm:8:up']);
    expect(refs(MAIN, 'hidden = 16', 1).spans).toEqual([
      'lib.fm:3:hidden',
      'lib.fm:4:hidden',
      'lib.fm:5:hidden',
      'main.fm:4:hidden',
    ]);
    expect(refs(MAIN, 'Mlp(d', 1).spans).toEqual(['lib.fm:3:Mlp', 'main.fm:1:Mlp', 'main.fm:4:Mlp']);
  });

  it('a dim variable and a local, with shadowing respected', () => {
    expect(refs(MAIN, 'f32[B', 4).spans).toEqual(['main.fm:6:B', 'main.fm:6:B']);
    const shadow = `fn f(x: f32[N]) -> f32[N] {\n  let y = x\n  let x = y * 2.0\n  return x\n}\n`;
    expect(refs(shadow, 'return x', 7).spans).toEqual(['main.fm:3:x', 'main.fm:4:x']);
  });

  it('refuses std declarations and names that are not identifiers', () => {
    const { a, t } = refs(
      MAIN.replace('import { Mlp } from "./lib"', 'import { Mlp } from "./lib"\nimport { GLU } from "std/nn"'),
      'GLU',
      1,
    );
    expect(renameRefusal(a, t)).toBe(
      '`GLU` is declared in the standard library (' +
        path.relative(dir, path.join(ROOT, 'std', 'nn.fm')) +
        '), which is not renamed',
    );
    const own = refs(MAIN, 'mlp(x)', 1);
    expect(renameRefusal(own.a, own.t)).toBeUndefined();
    expect(badNewName('2x')).toMatch(/not an identifier/);
    expect(badNewName('model')).toMatch(/keyword/);
    expect(badNewName('f16')).toMatch(/dtype/);
    expect(badNewName('net_2')).toBeUndefined();
  });
});

describe('quick fixes', () => {
  const fixes = (text: string) => {
    const { a, lines } = check(text);
    return codeActions(a, a.root!, lines, 'file:///main.fm', 0, text.length, (d) => ({
      range: lines.range(d.span),
      message: d.message,
      code: d.code,
    })).map((c) => {
      const e = c.edit!.changes!['file:///main.fm']![0]!;
      const start = lines.offset(e.range.start);
      return [
        c.title,
        c.diagnostics![0]!.code,
        text.slice(0, start) + e.newText + text.slice(lines.offset(e.range.end)),
      ];
    });
  };

  it('did you mean: replaces the name', () => {
    const text = MAIN.replace('let y = mlp(x)', 'let y = mlpp(x)');
    // The help's suggestion (the checker's, which ignores case): `Mlp`.
    expect(fixes(text)).toEqual([['Change `mlpp` to `Mlp`', 'FM0200', MAIN.replace('mlp(x)', 'Mlp(x)')]]);
    const arg = MAIN.replace('hidden = 16', 'hiden = 16');
    expect(fixes(arg)).toEqual([['Change `hiden` to `hidden`', 'FM0304', MAIN]]);
  });

  it('a std name used without its import: adds the import', () => {
    const text = MAIN.replace('return a + b', 'return gelu(a) + b');
    expect(fixes(text)).toEqual([
      [
        'Import `gelu` from "std/act"',
        'FM0200',
        text.replace('"./lib"\n', '"./lib"\nimport { gelu } from "std/act"\n'),
      ],
    ]);
  });
});

describe('links from diagnostic codes', () => {
  it('point to the section of docs/diagnostics.md that lists the code', () => {
    const page = pathToFileURL(path.join(ROOT, 'docs', 'diagnostics.md')).href;
    expect(docLink('FM0200')).toBe(`${page}#names-and-imports`);
    expect(docLink('FM0422')).toBe(`${page}#dtypes-and-shapes`);
    expect(docLink('FM0001')).toBeUndefined();
    expect(slug('Compile-time values and hyperparameters')).toBe('compile-time-values-and-hyperparameters');
  });

  it('to the repository when package.json names one', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-links-'));
    try {
      fs.mkdirSync(path.join(root, 'docs'));
      fs.writeFileSync(path.join(root, 'docs', 'diagnostics.md'), '## Names\n\n| FM0200 | x | y |\n');
      fs.writeFileSync(path.join(root, 'package.json'), '{"repository": {"url": "git+https://github.com/o/fmc.git"}}');
      expect(readLinks(root).get('FM0200')).toBe('https://github.com/o/fmc/blob/HEAD/docs/diagnostics.md#names');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
