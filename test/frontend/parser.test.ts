// The grammar: Chevrotain's own validation of it (skipped in the shipped CLI for start-up
// time), precedence and the shapes of the AST for the constructs of docs/language.md.

import { describe, expect, it } from 'vitest';
import type * as A from '../../src/frontend/ast.js';
import { parseSource } from '../../src/frontend/parse.js';
import { FmParser } from '../../src/frontend/parser.js';

function strip(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(strip);
  if (x && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (!/span$|Span$/.test(k)) out[k] = strip(v);
    return out;
  }
  return x;
}

function expr(src: string): unknown {
  const r = parseSource('t.fm', `const X = ${src}`);
  expect(r.diagnostics.map((d) => d.message)).toEqual([]);
  return strip((r.ast.items[0] as A.ConstDecl).value);
}

const n = (name: string) => ({ kind: 'Name', name });

describe('the grammar', () => {
  it('passes Chevrotain validation (ambiguities, left recursion)', () => {
    process.env.FMC_VALIDATE_GRAMMAR = '1';
    try {
      expect(() => new FmParser()).not.toThrow();
    } finally {
      delete process.env.FMC_VALIDATE_GRAMMAR;
    }
  });

  it('has the documented precedence', () => {
    expect(expr('-x ** 2')).toEqual({
      kind: 'Unary',
      op: '-',
      operand: { kind: 'Binary', op: '**', left: n('x'), right: { kind: 'Int', value: 2, text: '2' } },
    });
    expect(expr('a + b * c')).toMatchObject({ op: '+', right: { op: '*' } });
    expect(expr('a - b - c')).toMatchObject({ op: '-', left: { op: '-' } });
    expect(expr('a ** b ** c')).toMatchObject({ op: '**', right: { op: '**' } });
    expect(expr('x @ w + b')).toMatchObject({ op: '+', left: { op: '@' } });
    expect(expr('not a == b and c or d')).toMatchObject({
      op: 'or',
      left: { op: 'and', left: { kind: 'Unary', op: 'not', operand: { op: '==' } } },
    });
    expect(expr('x |> f |> g(1, k = 2)')).toMatchObject({
      kind: 'Pipe',
      fn: n('g'),
      value: { kind: 'Pipe', fn: n('f'), value: n('x') },
    });
  });

  it('parses calls, indexing, slices and members', () => {
    expect(expr('f(a, k = 1)')).toMatchObject({
      kind: 'Call',
      args: [{ kind: 'PosArg' }, { kind: 'NamedArg', name: { name: 'k' } }],
    });
    expect(expr('x[:, -1, ::2, ..., 1:]')).toMatchObject({
      kind: 'Index',
      indices: [
        { kind: 'Slice' },
        { kind: 'IndexExpr' },
        { kind: 'Slice', step: { value: 2 } },
        { kind: 'IndexEllipsis' },
        { kind: 'Slice', start: { value: 1 } },
      ],
    });
    expect(expr('embed.table[0]')).toMatchObject({
      kind: 'Index',
      target: { kind: 'Member', name: { name: 'table' } },
    });
    expect(expr('(a, b)')).toMatchObject({ kind: 'Tuple' });
    expect(expr('(a)')).toMatchObject({ kind: 'Paren' });
    expect(expr('[..., h, d]')).toMatchObject({ kind: 'List', items: [{ kind: 'Ellipsis' }, n('h'), n('d')] });
    expect(expr('if c { let y = 1 y } else if d { 2 } else { 3 }')).toMatchObject({
      kind: 'If',
      then: { stmts: [{ kind: 'Let' }] },
      else: { kind: 'If' },
    });
  });

  it('tells annotations from matrix multiplication', () => {
    const r = parseSource(
      't.fm',
      'block B {\n  let n = 4\n  @checkpoint\n  x = L(n)\n  fn f(a: f32[N, N]) -> f32[N, N] { return a @ a }\n}',
    );
    expect(r.diagnostics).toEqual([]);
    const b = r.ast.items[0] as A.BlockDecl;
    expect(b.members.map((m) => m.kind)).toEqual(['LetMember', 'Child', 'Fn']);
    expect((b.members[1] as A.ChildDecl).annotations[0]!.name.name).toBe('checkpoint');
  });

  it('parses declarations with hyperparameters, params, children and results', () => {
    const src = `@precision(bf16)
model M(d = 8, kind: a | b = a, act: fn = relu) {
  @quantize(int4, group = 128) @sparse(2:4)
  param w: f32[d, d] = normal(std = 0.02) if d > 4
  buffer s: f32[] = zeros()
  layers = repeat 2 L(d)
  experts = stack 4 L(d, kind = b)
  fn forward(x: f32[B, d]) -> (y: f32[B, d]) { return x }
  fn two(x: f32[B, d]) -> (f32[B, d], f32[]) { let (a, _) = (x, x) return (a, s) }
  train { optimizer = adamw(lr = 3e-4), precision = bf16 }
}`;
    const r = parseSource('t.fm', src);
    expect(r.diagnostics).toEqual([]);
    const m = r.ast.items[0] as A.BlockDecl;
    expect(m.isModel).toBe(true);
    expect(m.hparams.map((h) => h.type?.kind ?? 'inferred')).toEqual(['inferred', 'EnumType', 'ScalarType']);
    const fns = m.members.filter((x): x is A.FnDecl => x.kind === 'Fn');
    expect(fns.map((f) => f.tupleResult)).toEqual([false, true]);
    expect(fns[0]!.results![0]!.name?.name).toBe('y');
    const w = m.members[0] as A.ParamDecl;
    expect(w.annotations.map((a) => a.args?.[0]?.kind)).toEqual(['Positional', 'Ratio']);
    expect(w.cond).toBeDefined();
    expect(m.members.filter((x) => x.kind === 'Child').map((c) => (c as A.ChildDecl).multi?.mode)).toEqual([
      'repeat',
      'stack',
    ]);
  });

  it('recovers and reports several errors in one file', () => {
    const r = parseSource(
      't.fm',
      'fn a() -> f32[] { return }\nfn b(x: ) -> f32[] { return 1 }\nblock C { param p f32[2] }\n',
    );
    expect(r.diagnostics.length).toBeGreaterThanOrEqual(3);
    expect(new Set(r.diagnostics.map((d) => r.source.lineCol(d.span.start).line))).toEqual(new Set([1, 2, 3]));
  });

  it('reports a float literal that overflows to Infinity as FM0106 at the literal, in a model and a train section', () => {
    const src =
      'model M(a = 1e400, b = 2.5e-400) {\n  fn forward(x: f32[4]) -> f32[4] { return x * a }\n  train {\n    clip = 1_0e400\n  }\n}\n';
    const r = parseSource('t.fm', src);
    const at = (d: (typeof r.diagnostics)[number]) => r.source.lineCol(d.span.start);
    expect(r.diagnostics.map((d) => [d.code, d.message, at(d).line, at(d).col])).toEqual([
      ['FM0106', 'invalid number literal `1e400`: too large (the limit is about 1.8e308)', 1, 13],
      ['FM0106', 'invalid number literal `1_0e400`: too large (the limit is about 1.8e308)', 4, 12],
    ]);
    expect(parseSource('t.fm', 'const X = 1.7976931348623157e308').diagnostics).toEqual([]);
  });
});
