// Shared by the data tests: a temporary folder removed after the file's tests.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A fresh temporary folder for this test file; `file(name, contents)` writes into it and returns the path. */
export function tempFiles(): { dir: string; file(name: string, contents: string | Uint8Array): string } {
  const dir = mkdtempSync(join(tmpdir(), 'fmc-data-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    file(name, contents) {
      const p = join(dir, name);
      writeFileSync(p, contents);
      return p;
    },
  };
}
