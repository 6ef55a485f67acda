// Compile caches the tests share between runs (test/global-setup.ts sends everything else
// to a per-run folder): <system tmp>/<name>-<uid>.

import os from 'node:os';
import path from 'node:path';

/** The cache folder `name` for this user, outside the run's temporary folder. */
export function testCacheDir(name: string): string {
  const root = process.env.FMC_TEST_CACHE_ROOT ?? os.tmpdir();
  return path.join(root, `${name}-${process.getuid?.() ?? 'user'}`);
}
