// The extension's snippets, expanded with their default placeholder values, are programs
// that check clean (the train snippet inside the model snippet).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProgram } from '../../src/frontend/check.js';
import { renderDiagnostic } from '../../src/frontend/diagnostics.js';
import { nodeHost, Program } from '../../src/frontend/program.js';

const ROOT = path.resolve(__dirname, '../..');
const snippets = JSON.parse(fs.readFileSync(path.join(ROOT, 'grammar', 'snippets', 'fm.json'), 'utf8')) as Record<
  string,
  { prefix: string; body: string[] }
>;

/** A snippet with every placeholder at its default (`${1:x}` → `x`, `$1` → the same). */
function expand(body: readonly string[]): string {
  let text = body.join('\n').replace(/\t/g, '  ');
  const values = new Map<string, string>();
  for (let m = /\$\{(\d+):([^{}]*)\}/.exec(text); m; m = /\$\{(\d+):([^{}]*)\}/.exec(text)) {
    if (!values.has(m[1]!)) values.set(m[1]!, m[2]!);
    text = text.slice(0, m.index) + m[2]! + text.slice(m.index + m[0].length);
  }
  return `${text.replace(/\$(\d+)/g, (_, n: string) => values.get(n) ?? '')}\n`;
}

function checkText(text: string): string {
  const abs = path.join(ROOT, 'test', 'grammar', 'snippet.fm');
  const program = new Program({
    read: (p) => (p === abs ? new TextEncoder().encode(text) : nodeHost.read(p)),
    display: (p) => path.relative(ROOT, p),
  });
  program.addFile(abs);
  return checkProgram(program)
    .map((d) => renderDiagnostic(d, (f) => program.source(f)))
    .join('\n');
}

describe('snippets', () => {
  it('has block, model and train snippets', () => {
    expect(Object.values(snippets).map((s) => s.prefix)).toEqual(expect.arrayContaining(['block', 'model', 'train']));
  });

  it.each(['block', 'fn'])('%s expands to a program that checks clean', (name) => {
    expect(checkText(expand(snippets[name]!.body))).toBe('');
  });

  it('model with train expands to a model that checks clean', () => {
    const model = expand(snippets.model!.body);
    const train = expand(snippets.train!.body)
      .split('\n')
      .map((l) => (l ? `  ${l}` : l))
      .join('\n');
    const text = `${model.slice(0, model.lastIndexOf('}'))}\n${train}}\n`;
    expect(text).toContain('train {');
    expect(checkText(text)).toBe('');
  });
});
