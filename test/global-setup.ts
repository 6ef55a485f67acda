// One temporary folder per test run: TMPDIR points into it for every test file (the forked
// workers and the processes they spawn inherit it), so whatever a test leaves in os.tmpdir()
// (a model's 160 MB ONNX export, CLI scratch folders, small-model sources) is removed when
// the run ends, passed or failed. The compile caches that are worth keeping between runs
// (testCacheDir, test/tmp-cache.ts) stay in the system's temporary folder.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const base = os.tmpdir();
  process.env.FMC_TEST_CACHE_ROOT ??= base;
  const root = fs.mkdtempSync(path.join(base, 'fmc-test-run-'));
  process.env.TMPDIR = root;
  return () => {
    process.env.TMPDIR = base;
    fs.rmSync(root, { recursive: true, force: true });
  };
}
