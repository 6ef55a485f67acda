// Terminal escape injection (issue 17, item 13): raw ESC, BEL and other control characters in
// a .fm file or its name never reach the terminal in a rendered diagnostic; they are shown as
// `\u001b`-style escapes (docs/diagnostics.md). So are the bidirectional controls (a
// RIGHT-TO-LEFT OVERRIDE, U+202E, would reorder what follows it on screen: "Trojan Source").

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { checkFiles } from '../../src/frontend/check.js';
import { escapeControls, renderDiagnostic } from '../../src/frontend/diagnostics.js';

const ESC = '\x1b';
const BEL = '\x07';
/** C0 except newline and tab, DEL, C1, and the bidirectional controls. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

function write(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-esc-'));
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

function rendered(file: string): string {
  const { program, diagnostics } = checkFiles([file]);
  expect(diagnostics.length).toBeGreaterThan(0);
  return diagnostics.map((d) => renderDiagnostic(d, (f) => program.source(f))).join('\n\n');
}

async function cli(...argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await run(argv, { out: () => undefined, err: (s) => (err += s), color: false });
  return { code, err };
}

const PAYLOAD = `${ESC}]0;pwned${BEL}${ESC}[2J${ESC}[31m\u202e\u2066\u200f`;

const CASES: [string, string][] = [
  [
    'a require message',
    `block B(d: int) {\n  require d > 100, "too small ${PAYLOAD}"\n  fn forward(x: f32[N, d]) -> f32[N, d] {\n    return x\n  }\n}\n\nmodel M(d = 4) {\n  b = B(d)\n  fn forward(x: f32[N, d]) -> f32[N, d] {\n    return b(x)\n  }\n}\n`,
  ],
  ['an import path', `import { Linear } from "std/nn${PAYLOAD}"\n`],
  [
    'an einsum spec',
    `fn f(a: f32[2, 3], b: f32[3, 4]) -> f32[2, 4] {\n  return einsum("ij,jk->i${PAYLOAD}k", a, b)\n}\n`,
  ],
  ['a rearrange pattern', `fn f(a: f32[2, 3]) -> f32[3, 2] {\n  return rearrange(a, "i j -> j i${PAYLOAD}")\n}\n`],
  ['a stray control character', `fn f(a: f32[2]) -> f32[2] {\n  return a ${ESC}${BEL}\n}\n`],
];

describe('control characters in diagnostics', () => {
  for (const [what, text] of CASES) {
    it(`are escaped when they come from ${what}`, async () => {
      const file = write('m.fm', text);
      const out = rendered(file);
      expect(out).not.toMatch(CONTROL);
      expect(out).toContain('\\u001b');
      const bidi = text.includes('\u202e');
      if (bidi) expect(out).toContain('\\u202e\\u2066\\u200f');
      const r = await cli('check', file);
      expect(r.code).toBe(1);
      expect(r.err).not.toMatch(CONTROL);
      expect(r.err).toContain('\\u001b');
      if (bidi) expect(r.err).toContain('\\u202e\\u2066\\u200f');
    });
  }

  it('are escaped in file names (the location and the notes)', async () => {
    const file = write(`evil${ESC}[31m${BEL}.fm`, 'fn f(x: f32[2]) -> f32[3] {\n  return x\n}\n');
    const out = rendered(file);
    expect(out).not.toMatch(CONTROL);
    expect(out).toContain('evil\\u001b[31m\\u0007.fm:2:');
    const r = await cli('check', file);
    expect(r.err).not.toMatch(CONTROL);
    expect(r.err).toContain('evil\\u001b[31m\\u0007.fm');
    // A file that cannot be read is named the same way.
    const missing = await cli('check', path.join(path.dirname(file), `gone${ESC}[2J.fm`));
    expect(missing.err).not.toMatch(CONTROL);
    expect(missing.err).toContain('gone\\u001b[2J.fm');
  });

  it('keep the caret under the span when the line has escapes before it', () => {
    const file = write('m.fm', `fn f(x: f32[2]) -> f32[3] {\n  return x // ${ESC}\n}\n`);
    const lines = rendered(file).split('\n');
    const at = lines.findIndex((l) => l.includes('return x'));
    expect(lines[at]).toBe(' 2 |   return x // \\u001b');
    expect(lines[at + 1]).toBe('   |          ^');
  });

  it('escapes C0 (not newline or tab), DEL and C1, and nothing else', () => {
    expect(escapeControls(`a${ESC}b${BEL}c\x7f\x85\x9f\r\0`)).toBe(
      'a\\u001bb\\u0007c\\u007f\\u0085\\u009f\\u000d\\u0000',
    );
    expect(escapeControls('tab\there\nnext é ü ∑ 😀')).toBe('tab\there\nnext é ü ∑ 😀');
    // The bidirectional controls, each of them; the letters around them stay (Hebrew, Arabic).
    const bidi = '\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069';
    expect(escapeControls(`a${bidi}b`)).toBe(
      `a${[...bidi].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}b`,
    );
    expect(escapeControls('שלום مرحبا \u200d\u2060')).toBe('שלום مرحبا \u200d\u2060');
  });
});
