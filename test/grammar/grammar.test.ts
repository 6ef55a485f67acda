// The TextMate grammar and the VS Code extension package in grammar/: the keyword and dtype
// lists equal the lexer's, the assertion files under cases/ pass and together cover every
// scope the grammar names, and the token dumps of every model and std file are goldens
// (golden/grammar/; `npm run golden:accept` re-accepts them after a grammar change).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DTYPE_CLASSES, DTYPES, KEYWORDS } from '../../src/frontend/lexer.js';
import { expectGolden } from '../golden/golden.js';
import { GRAMMAR, GRAMMAR_DIR, parseTestCase, ROOT, runTestCase, SCOPE, snap } from './tm.js';

interface Rule {
  name?: string;
  match?: string;
  begin?: string;
  end?: string;
  patterns?: Rule[];
  captures?: Record<string, Rule>;
  beginCaptures?: Record<string, Rule>;
  endCaptures?: Record<string, Rule>;
}
interface Grammar extends Rule {
  scopeName: string;
  repository: Record<string, Rule>;
}

const grammar = JSON.parse(fs.readFileSync(GRAMMAR, 'utf8')) as Grammar;
const manifest = JSON.parse(fs.readFileSync(path.join(GRAMMAR_DIR, 'package.json'), 'utf8')) as {
  name: string;
  publisher: string;
  engines: { vscode: string };
  main: string;
  contributes: {
    languages: { id: string; extensions: string[]; configuration: string }[];
    grammars: { language: string; scopeName: string; path: string }[];
    snippets: { language: string; path: string }[];
  };
};

/** The words of an alternation regex like `\b(a|b|c)\b`. */
function words(re: string | undefined): string[] {
  const m = /^\\b\(([\w|]+)\)\\b$/.exec(re ?? '');
  expect(m, `not a word list: ${re}`).not.toBeNull();
  return m![1]!.split('|');
}

/** Every scope name the grammar can give a token (`$1` names expanded to their alternatives). */
function allScopes(): Set<string> {
  const out = new Set<string>();
  const visit = (r: Rule, group?: string) => {
    const add = (name: string | undefined) => {
      if (!name) return;
      for (const part of name.split(/\s+/)) {
        if (!part.includes('$1')) out.add(part);
        else for (const w of (group ?? '').split('|')) out.add(part.replace('$1', w));
      }
    };
    const first = /\(([\w|]+)\)/.exec(r.match ?? r.begin ?? '')?.[1];
    add(r.name);
    for (const caps of [r.captures, r.beginCaptures, r.endCaptures])
      for (const c of Object.values(caps ?? {})) visit(c, first);
    for (const p of r.patterns ?? []) visit(p);
  };
  for (const r of [...(grammar.patterns ?? []), ...Object.values(grammar.repository)]) visit(r);
  return out;
}

describe('the grammar matches the lexer', () => {
  it('has exactly the lexer keywords', () => {
    const listed = (grammar.repository.keywords!.patterns ?? []).flatMap((p) => words(p.match));
    expect([...listed].sort()).toEqual([...KEYWORDS].sort());
    expect(new Set(listed).size).toBe(listed.length);
  });

  it('has exactly the lexer dtypes and dtype classes', () => {
    expect(words(grammar.repository.dtypes!.match)).toEqual([...DTYPES]);
    expect(words(grammar.repository['dtype-classes']!.match)).toEqual([...DTYPE_CLASSES]);
    // A tensor type starts with any of them.
    const begin = /^\\b\(([\w|]+)\)/.exec(grammar.repository['tensor-type']!.begin!)![1]!.split('|');
    expect(begin).toEqual([...DTYPES, ...DTYPE_CLASSES]);
  });
});

describe('grammar assertions (vscode-tmgrammar-test)', () => {
  const dir = path.join(__dirname, 'cases');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.fm'));

  it.each(files)('%s', async (f) => {
    const tc = parseTestCase(fs.readFileSync(path.join(dir, f), 'utf8'));
    expect(tc.metadata.scope).toBe(SCOPE);
    expect(tc.assertions.length).toBeGreaterThan(0);
    const failures = await runTestCase(tc);
    const shown = failures.map(
      (x) =>
        `${f}:${x.line + 1} [${x.start}, ${x.end}) \`${tc.source[x.srcLine]?.slice(x.start, x.end)}\`: ` +
        `missing ${JSON.stringify(x.missing)}, unexpected ${JSON.stringify(x.unexpected)}, actual ${JSON.stringify(x.actual)}`,
    );
    expect(shown).toEqual([]);
  });

  it('together assert every scope the grammar names', () => {
    const asserted = new Set<string>();
    for (const f of files) {
      const tc = parseTestCase(fs.readFileSync(path.join(dir, f), 'utf8'));
      for (const a of tc.assertions) for (const s of a.scopeAssertions) for (const x of s.scopes) asserted.add(x);
    }
    const missing = [...allScopes()].filter((s) => !asserted.has(s)).sort();
    expect(missing).toEqual([]);
  });
});

describe('grammar snapshots (golden/grammar)', () => {
  const sources = ['models', 'std'].flatMap((d) =>
    fs
      .readdirSync(path.join(ROOT, d))
      .filter((f) => f.endsWith('.fm'))
      .sort()
      .map((f) => `${d}/${f}`),
  );

  it.each(sources)('%s', async (rel) => {
    const text = fs.readFileSync(path.join(ROOT, rel), 'utf8');
    expectGolden(`grammar/${rel}.snap`, await snap(text));
  });

  it('has no stale snapshots', () => {
    const dir = path.join(ROOT, 'golden', 'grammar');
    const snaps = ['models', 'std'].flatMap((d) =>
      fs.existsSync(path.join(dir, d))
        ? fs
            .readdirSync(path.join(dir, d))
            .filter((f) => f.endsWith('.snap'))
            .map((f) => `${d}/${f.slice(0, -'.snap'.length)}`)
        : [],
    );
    expect(snaps.filter((s) => !sources.includes(s))).toEqual([]);
  });
});

describe('the extension manifest (grammar/package.json)', () => {
  it('contributes the fm language for *.fm with its configuration, grammar and snippets', () => {
    expect(manifest.publisher).toBeTruthy();
    expect(manifest.engines.vscode).toMatch(/^\^1\.\d+/);
    const lang = manifest.contributes.languages.find((l) => l.id === 'fm');
    expect(lang?.extensions).toEqual(['.fm']);
    const g = manifest.contributes.grammars.find((x) => x.language === 'fm');
    expect(g?.scopeName).toBe(grammar.scopeName);
    expect(path.resolve(GRAMMAR_DIR, g!.path)).toBe(GRAMMAR);
    const config = JSON.parse(fs.readFileSync(path.resolve(GRAMMAR_DIR, lang!.configuration), 'utf8')) as {
      comments: { lineComment: string; blockComment: string[] };
    };
    expect(config.comments).toEqual({ lineComment: '//', blockComment: ['/*', '*/'] });
    for (const s of manifest.contributes.snippets) expect(fs.existsSync(path.resolve(GRAMMAR_DIR, s.path))).toBe(true);
    expect(fs.existsSync(path.resolve(GRAMMAR_DIR, manifest.main))).toBe(true);
  });
});
