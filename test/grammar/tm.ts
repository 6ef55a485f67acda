// The TextMate grammar loaded the way VS Code loads it (vscode-textmate with the
// oniguruma regex engine), through vscode-tmgrammar-test's library: its assertion runner
// for test/grammar/cases/*.fm and its snapshot renderer for the golden token dumps.

import * as path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const ROOT = path.resolve(__dirname, '../..');
export const GRAMMAR_DIR = path.join(ROOT, 'grammar');
export const GRAMMAR = path.join(GRAMMAR_DIR, 'fm.tmLanguage.json');
export const SCOPE = 'source.fm';

interface Registry {
  loadGrammar(scope: string): Promise<unknown>;
}
export interface TestFailure {
  missing: string[];
  unexpected: string[];
  actual: string[];
  line: number;
  srcLine: number;
  start: number;
  end: number;
}
interface GrammarTestCase {
  metadata: { scope: string; description: string };
  source: string[];
  assertions: { sourceLineNumber: number; scopeAssertions: { scopes: string[]; exclude: string[] }[] }[];
}

const common = require('vscode-tmgrammar-test/dist/common/index.js') as {
  createRegistry(gs: { path: string; scopeName: string }[]): Registry;
};
const unit = require('vscode-tmgrammar-test/dist/unit/index.js') as {
  parseGrammarTestCase(text: string): GrammarTestCase;
  runGrammarTestCase(registry: Registry, tc: GrammarTestCase): Promise<TestFailure[]>;
};
interface AnnotatedLine {
  src: string;
  tokens: { startIndex: number; endIndex: number; scopes: string[] }[];
}
const snapshot = require('vscode-tmgrammar-test/dist/snapshot/index.js') as {
  getVSCodeTokens(registry: Registry, scope: string, source: string): Promise<AnnotatedLine[]>;
};

let registry: Registry | undefined;
function reg(): Registry {
  return (registry ??= common.createRegistry([{ path: GRAMMAR, scopeName: SCOPE }]));
}

export const parseTestCase = (text: string): GrammarTestCase => unit.parseGrammarTestCase(text);
export const runTestCase = (tc: GrammarTestCase): Promise<TestFailure[]> => unit.runGrammarTestCase(reg(), tc);

/**
 * The token dump of a file, in the vscode-tmgrammar-snap layout (`>line`, then `#^^^ scopes`
 * under each token) without the root scope and without tokens that have no other scope.
 */
export async function snap(text: string): Promise<string> {
  const out: string[] = [];
  for (const line of await snapshot.getVSCodeTokens(reg(), SCOPE, text)) {
    out.push(`>${line.src}`);
    for (const t of line.tokens) {
      const scopes = t.scopes.filter((s) => s !== SCOPE);
      const end = Math.min(t.endIndex, line.src.length);
      if (scopes.length === 0 || end <= t.startIndex) continue;
      out.push(`#${' '.repeat(t.startIndex)}${'^'.repeat(end - t.startIndex)} ${scopes.join(' ')}`);
    }
  }
  return `${out.join('\n')}\n`;
}
