// Golden files: committed expected outputs under golden/. A changed output fails with a
// diff; `npm run golden:accept` (FMC_ACCEPT=1) writes the new outputs for review.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';

export const ROOT = path.resolve(__dirname, '../..');
const ACCEPT = process.env.FMC_ACCEPT === '1';

function diff(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const out: string[] = [];
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) continue;
    if (a[i] !== undefined) out.push(`- ${i + 1}: ${a[i]}`);
    if (b[i] !== undefined) out.push(`+ ${i + 1}: ${b[i]}`);
    if (out.length > 40) break;
  }
  return out.join('\n');
}

/** Compares `actual` with golden/<name>, or writes it when accepting. */
export function expectGolden(name: string, actual: string): void {
  const file = path.join(ROOT, 'golden', name);
  if (ACCEPT) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  if (!fs.existsSync(file)) {
    expect.fail(`missing golden file golden/${name}; run \`npm run golden:accept\` and review it`);
  }
  const expected = fs.readFileSync(file, 'utf8');
  if (expected !== actual) {
    expect.fail(`golden/${name} differs (- expected, + actual):\n${diff(expected, actual)}\nIf the change is intended, run \`npm run golden:accept\` and review the diff.`);
  }
}
