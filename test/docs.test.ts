// The docs are true: the README's tour checks clean, and every diagnostic code is
// documented in docs/diagnostics.md.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProgram } from '../src/frontend/check.js';
import { renderDiagnostic } from '../src/frontend/diagnostics.js';
import { MESSAGES } from '../src/frontend/messages.js';
import { nodeHost, Program } from '../src/frontend/program.js';
import { BINARY_FNS, OP_NAMES, UNARY_FNS } from '../src/ir/ops.js';

const ROOT = path.resolve(__dirname, '..');

describe('docs', () => {
  it('README tour checks clean', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```\n(import[\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThan(0);
    for (const text of blocks) {
      const abs = path.join(ROOT, 'docs', 'tour.fm');
      const program = new Program({
        read: (p) => (p === abs ? new TextEncoder().encode(text) : nodeHost.read(p)),
        display: (p) => path.relative(ROOT, p),
      });
      program.addFile(abs);
      const ds = checkProgram(program);
      expect(ds.map((d) => renderDiagnostic(d, (f) => program.source(f))).join('\n')).toBe('');
    }
  });

  it('docs/diagnostics.md lists every code', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'diagnostics.md'), 'utf8');
    const missing = Object.keys(MESSAGES).filter((c) => !doc.includes(`| ${c} |`));
    expect(missing).toEqual([]);
    // Each row's message column is the template from src/frontend/messages.ts.
    for (const [code, template] of Object.entries(MESSAGES)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| ${code} |`))!;
      expect(row.split(' | ')[1]!.trim(), code).toBe(template);
    }
  });
});

describe('the std table in docs/language.md', () => {
  it('lists exactly the declarations of each std file', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'language.md'), 'utf8');
    const stdDir = path.join(ROOT, 'std');
    for (const f of fs.readdirSync(stdDir).filter((x) => x.endsWith('.fm'))) {
      const row = new RegExp(`\\| \`std/${f.replace('.', '\\.')}\` +\\| \`([^\`]*)\``).exec(doc);
      expect(row, `docs/language.md has no row for std/${f}`).not.toBeNull();
      const documented = row![1]!.split(/\s+/).sort();
      const text = fs.readFileSync(path.join(stdDir, f), 'utf8');
      const declared = [...text.matchAll(/^(?:fn|block|const|model) ([A-Za-z_]\w*)/gm)].map((m) => m[1]!).sort();
      expect(documented, `std/${f}`).toEqual(declared);
    }
  });
});

describe('the op table in docs/ir.md', () => {
  it('lists exactly the primitive ops of the IR, and their unary and binary functions', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'ir.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z_]+)` +\|/gm)].map((m) => m[1]!);
    expect(rows).toEqual([...OP_NAMES]);
    const fns = (op: string) =>
      /`([a-z ]+)`/.exec(
        doc
          .split('\n')
          .find((l) => l.startsWith(`| \`${op}\``))!
          .split('|')[4]!,
      )![1]!;
    expect(fns('unary').split(' ')).toEqual([...UNARY_FNS]);
    expect(fns('binary').split(' ')).toEqual([...BINARY_FNS]);
  });
});

describe('the README', () => {
  it('quotes the golden output of the error it shows', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const golden = fs.readFileSync(path.join(ROOT, 'golden', 'errors', '081-conv-channels.txt'), 'utf8');
    const quoted = /```\n(test\/golden\/errors\/081[\s\S]*?)```/.exec(readme)![1]!;
    expect(golden.startsWith(quoted)).toBe(true);
  });
});
