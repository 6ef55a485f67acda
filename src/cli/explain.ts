// `fmc explain FM0123`: what a diagnostic code means and when it is reported, from the
// tables of docs/diagnostics.md (shipped with the package), so the text cannot drift from
// the documentation.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { suggest } from '../frontend/diagnostics.js';
import { MESSAGES } from '../frontend/messages.js';
import { STD_DIR } from '../frontend/program.js';
import { EXIT, type Io } from './io.js';

/** The package root holds std/ and docs/. */
const DOC = path.join(path.dirname(STD_DIR), 'docs', 'diagnostics.md');

export interface Explanation {
  readonly code: string;
  readonly section: string;
  readonly message: string;
  readonly when: string;
}

/** Every code's row of docs/diagnostics.md, by code. */
export function readExplanations(text: string = fs.readFileSync(DOC, 'utf8')): Map<string, Explanation> {
  const out = new Map<string, Explanation>();
  let section = '';
  for (const line of text.split('\n')) {
    const h = /^## (.+)$/.exec(line);
    if (h) section = h[1]!.trim();
    // `| FM0200 | message | when |`; a cell may hold escaped pipes (`\|`).
    const row = /^\|\s*(FM\d{4})\s*\|(.*)\|\s*$/.exec(line);
    if (!row) continue;
    const cells = row[2]!.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
    out.set(row[1]!, { code: row[1]!, section, message: cells[0] ?? '', when: cells.slice(1).join(' | ') });
  }
  return out;
}

/** `fm200`, `0200`, `FM0200` → `FM0200`; undefined when it is not code-shaped. */
export function normalizeCode(s: string): string | undefined {
  const m = /^(?:fm)?(\d{1,4})$/i.exec(s.trim());
  return m ? `FM${m[1]!.padStart(4, '0')}` : undefined;
}

export function explainCommand(io: Io, given: string): number {
  const table = readExplanations();
  const code = normalizeCode(given);
  const e = code === undefined ? undefined : table.get(code);
  if (e === undefined) {
    const near = suggest(code ?? given, table.keys());
    io.err(`fmc: no diagnostic code \`${given}\`${near ? `; did you mean ${near}?` : ''} (see docs/diagnostics.md)\n`);
    return EXIT.usage;
  }
  const template = (MESSAGES as Record<string, string>)[e.code] ?? e.message;
  io.out(
    `${e.code}: ${template}\n\n${e.section}. Reported when: ${e.when}\n\n` +
      `{0}, {1}, ... stand for the names and values of each case. The full table: docs/diagnostics.md.\n`,
  );
  return EXIT.ok;
}

export function addExplainCommand(cmd: Command, io: Io, setCode: (c: number) => void): void {
  cmd
    .command('explain')
    .description('explain a diagnostic code (FM0123): its message and when it is reported')
    .argument('<code>', 'the code, as printed after `error` or `warning` (FM0123, or 123)')
    .addHelpText(
      'after',
      `
Examples:
  fmc explain FM0200
  fmc explain 403`,
    )
    .action((code: string) => setCode(explainCommand(io, code)));
}
