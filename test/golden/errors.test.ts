// Golden error baselines: every file under test/golden/errors/ is checked with the CLI's
// renderer and the text a user sees is compared with golden/errors/<name>.txt. Together
// the cases use every diagnostic code.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCommand } from '../../src/cli/check.js';
import type { Io } from '../../src/cli/io.js';
import { MESSAGES } from '../../src/frontend/messages.js';
import { expectGolden, ROOT } from './golden.js';

const CASES = path.join(ROOT, 'test', 'golden', 'errors');
const GENERATED = path.join(ROOT, 'test', 'golden', 'generated');

/** Cases too large or too odd to commit as files; written on the fly. */
const generated: Record<string, () => string | Uint8Array | undefined> = {
  'too-large.fm': () => `const X = 1\n${'// padding\n'.repeat(400_000)}`,
  'nul-byte.fm': () => new Uint8Array([...new TextEncoder().encode('const X = 1\nconst Y = '), 0, ...new TextEncoder().encode(' 2\n')]),
  'bad-utf8.fm': () => new Uint8Array([...new TextEncoder().encode('const X = "caf'), 0xc3, 0x28, ...new TextEncoder().encode('"\n')]),
  'missing-file.fm': () => undefined,
};

/** Command-line options a case asks for in a line `// args: --set d=3 --set act=relu`. */
function caseArgs(file: string): { set?: string[] } {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'latin1') : '';
  const line = /^\/\/ args: (.*)$/m.exec(text)?.[1];
  if (!line) return {};
  const words = line.trim().split(/\s+/);
  const set = words.flatMap((w, i) => (words[i - 1] === '--set' ? [w] : []));
  return { set };
}

function run(file: string): { text: string; code: number } {
  let text = '';
  const io: Io = { out: (s) => (text += s), err: (s) => (text += s), color: false };
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const code = checkCommand(io, [path.relative(ROOT, file)], { json: false, ...caseArgs(file) });
    return { text: `${text}exit code: ${code}\n`, code };
  } finally {
    process.chdir(cwd);
  }
}

const files = fs.readdirSync(CASES).filter((f) => f.endsWith('.fm')).sort();
const seen = new Set<string>();

describe('golden error baselines', () => {
  it('has at least 40 invalid programs', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });
  for (const f of files) {
    it(f, () => {
      const { text, code } = run(path.join(CASES, f));
      for (const m of text.matchAll(/ (?:error|warning) (FM\d{4}):/g)) seen.add(m[1]!);
      expect(code, 'an invalid program exits 1').toBe(1);
      expect(text).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // never a stack trace
      expectGolden(`errors/${f.replace(/\.fm$/, '.txt')}`, text);
    });
  }
  for (const [name, make] of Object.entries(generated)) {
    it(`generated: ${name}`, () => {
      fs.mkdirSync(GENERATED, { recursive: true });
      const file = path.join(GENERATED, name);
      const content = make();
      fs.rmSync(file, { force: true });
      if (content !== undefined) fs.writeFileSync(file, content);
      const { text, code } = run(file);
      for (const m of text.matchAll(/ (?:error|warning) (FM\d{4}):/g)) seen.add(m[1]!);
      expect(code).toBe(1);
      expectGolden(`errors/generated-${name.replace(/\.fm$/, '.txt')}`, text);
    });
  }
  it('uses every diagnostic code (except the internal-error code)', () => {
    // FM08xx come from compiling a model, not from `fmc check`: test/golden/compile.test.ts covers them.
    const missing = Object.keys(MESSAGES).filter((c) => c !== 'FM9999' && !c.startsWith('FM08') && !seen.has(c));
    expect(missing, `codes without a golden case: ${missing.join(', ')}`).toEqual([]);
  });
});
