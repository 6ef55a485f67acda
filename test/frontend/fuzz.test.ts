// The frontend never throws on any input: random and mutated sources (token deletions,
// insertions, swaps, replacements, truncations over the models and the std library) give
// only diagnostics, and every diagnostic's span lies inside its file.

import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProgram } from '../../src/frontend/check.js';
import { diagnosticToJson, renderDiagnostic, type Diagnostic } from '../../src/frontend/diagnostics.js';
import { fmLexer } from '../../src/frontend/lexer.js';
import { type Host, nodeHost, Program } from '../../src/frontend/program.js';

const ROOT = path.resolve(__dirname, '../..');
const corpusFiles = ['models', 'std'].flatMap((d) =>
  fs
    .readdirSync(path.join(ROOT, d))
    .filter((f) => f.endsWith('.fm'))
    .map((f) => path.join(ROOT, d, f)),
);
const corpus = corpusFiles.map((f) => ({ abs: f, text: fs.readFileSync(f, 'utf8') }));

/** Token boundaries of a text (comments included), for token-level mutations. */
function tokenRanges(text: string): [number, number][] {
  const r = fmLexer.tokenize(text);
  const all = [...r.tokens, ...(r.groups.comments ?? [])].sort((a, b) => a.startOffset - b.startOffset);
  return all.map((t) => [t.startOffset, t.startOffset + t.image.length]);
}
const ranges = corpus.map((c) => tokenRanges(c.text));
const vocabulary = [
  ...new Set(corpus.flatMap((c, i) => ranges[i]!.map(([s, e]) => c.text.slice(s, e)))),
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  '...',
  '@',
  '"',
  '/*',
  '*/',
  '//',
  ':',
  '|>',
  '->',
  '\u0000',
  '\ufffd',
  'é',
  '99999999999999999999',
  '1e999',
  '0x',
  '-0',
  '2:4',
  'repeat 0',
  'stack -1',
  '@sparse(3:2)',
  '@quantize(int4, group = 7)',
  'f32[]',
  'f32[...,...]',
  'T / 0',
  'd % 0',
  'x[100]',
  'x[::0]',
  '"std/nn"',
  'import "./missing"',
  'import "std/moe"',
];

type Mutation =
  | { op: 'delete'; at: number }
  | { op: 'insert'; at: number; tok: number }
  | { op: 'swap'; at: number }
  | { op: 'replace'; at: number; tok: number }
  | { op: 'duplicate'; at: number; len: number }
  | { op: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), tok: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), tok: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(text: string, m: Mutation): string {
  const rs = tokenRanges(text);
  if (rs.length === 0) return text;
  const [s, e] = rs[m.at % rs.length]!;
  const word = (i: number) => vocabulary[i % vocabulary.length]!;
  switch (m.op) {
    case 'delete':
      return text.slice(0, s) + text.slice(e);
    case 'insert':
      return `${text.slice(0, s)}${word(m.tok)} ${text.slice(s)}`;
    case 'replace':
      return text.slice(0, s) + word(m.tok) + text.slice(e);
    case 'swap': {
      const next = rs[(m.at % rs.length) + 1];
      if (!next) return text;
      return (
        text.slice(0, s) +
        text.slice(next[0], next[1]) +
        text.slice(e, next[0]) +
        text.slice(s, e) +
        text.slice(next[1])
      );
    }
    case 'duplicate': {
      const last = rs[Math.min(rs.length - 1, (m.at % rs.length) + m.len)]!;
      return text.slice(0, last[1]) + ' ' + text.slice(s, last[1]) + text.slice(last[1]);
    }
    case 'truncate':
      return text.slice(0, s);
  }
}

/** Serves `abs` from memory, everything else from disk. */
function memHost(abs: string, text: string): Host {
  return {
    read: (p) => (p === abs ? new TextEncoder().encode(text) : nodeHost.read(p)),
    display: (p) => path.relative(ROOT, p),
  };
}

function assertWellFormed(program: Program, ds: readonly Diagnostic[]): void {
  const lookup = (f: string) => program.source(f);
  for (const d of ds) {
    expect(d.code).not.toBe('FM9999');
    for (const span of [d.span, ...d.notes.flatMap((n) => (n.span ? [n.span] : []))]) {
      const src = program.source(span.file);
      expect(src, `no source for ${span.file}`).toBeDefined();
      expect(span.start).toBeGreaterThanOrEqual(0);
      expect(span.end).toBeGreaterThanOrEqual(span.start);
      expect(span.end).toBeLessThanOrEqual(src!.text.length);
    }
    expect(renderDiagnostic(d, lookup)).toMatch(/^[^\n]+:\d+:\d+: (error|warning) FM\d{4}: /);
    diagnosticToJson(d, lookup);
  }
}

function checkText(abs: string, text: string): void {
  const program = new Program(memHost(abs, text));
  program.addFile(abs);
  assertWellFormed(program, checkProgram(program));
}

describe('the frontend on hostile input', () => {
  it('never throws on mutated models and std files (7,000 cases)', () => {
    fc.assert(
      fc.property(fc.nat({ max: corpus.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, ms) => {
        const c = corpus[i]!;
        checkText(c.abs, ms.reduce(mutate, c.text));
      }),
      { numRuns: 7000, seed: 20261122 },
    );
  }, 600_000);

  it('never throws on random text (3,000 cases)', () => {
    const abs = path.join(ROOT, 'models', 'random.fm');
    const pieces = fc.oneof(fc.string(), fc.constantFrom(...vocabulary), fc.string({ unit: 'binary' }));
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 40 }), (parts) => checkText(abs, parts.join(' '))),
      { numRuns: 3000, seed: 7 },
    );
  }, 600_000);

  it('reports deep nesting instead of overflowing the stack', () => {
    const abs = path.join(ROOT, 'models', 'deep.fm');
    for (const text of [
      'const X = ' + '('.repeat(100_000) + '1',
      'const X = ' + '-'.repeat(100_000) + '1',
      'const X = 1' + ' + 1'.repeat(50_000),
      'const X = ' + 'not '.repeat(50_000) + 'true',
    ]) {
      const program = new Program(memHost(abs, text));
      program.addFile(abs);
      const ds = checkProgram(program);
      assertWellFormed(program, ds);
      expect(ds.map((d) => d.code)).toContain('FM0109');
    }
  });
});
