// A full disk while the compile cache writes (issue 17, item 12): ENOSPC from a write is
// "the disk is full (where)", a user error (exit 1), never "a bug in fmc" (exit 70).
// node:fs is mocked so that writes fail on demand, as on a full disk.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const fail = vi.hoisted(() => ({ code: '' }));

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const writeFileSync: typeof real.writeFileSync = (file, data, options) => {
    if (fail.code !== '') {
      const e = new Error(`${fail.code}: no space left on device, write`) as NodeJS.ErrnoException;
      e.code = fail.code;
      e.errno = -28;
      e.syscall = 'write';
      throw e;
    }
    real.writeFileSync(file, data, options);
  };
  return { ...real, default: { ...real, writeFileSync }, writeFileSync };
});

const { compileC, CompileCacheError } = await import('../../src/runtime/cache.js');
const { run } = await import('../../src/cli/main.js');

const hasCC = spawnSync('cc', ['--version']).status === 0;
const dirs: string[] = [];
afterEach(() => {
  fail.code = '';
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = fs.mkdtempSync(join(tmpdir(), 'fmc-disk-full-'));
  fs.chmodSync(d, 0o700);
  dirs.push(d);
  return d;
}

describe.skipIf(!hasCC)('a full disk in the compile cache', () => {
  for (const code of ['ENOSPC', 'EDQUOT']) {
    it(`${code} is a CompileCacheError that says so, and leaves no build folder`, () => {
      const cache = tempDir();
      fail.code = code;
      let e: unknown;
      try {
        compileC('int f(void){return 0;}\n', { cacheDir: cache, compiler: 'cc', flags: ['-shared', '-fPIC'] });
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(CompileCacheError);
      expect((e as Error).message).toMatch(
        code === 'ENOSPC' ? /^the disk is full \(.*\/c\)/ : /^the disk quota is exceeded \(.*\/c\)/,
      );
      fail.code = '';
      expect(fs.readdirSync(join(cache, 'c'))).toEqual([]);
    });
  }

  it('fmc compile: exit 1 and "the disk is full", not an internal error', async () => {
    const cache = tempDir();
    const old = process.env.FMC_CACHE_DIR;
    process.env.FMC_CACHE_DIR = cache;
    let err = '';
    try {
      fail.code = 'ENOSPC';
      const code = await run(['compile', 'models/mlp.fm', '-o', join(cache, 'out')], {
        out: () => undefined,
        err: (s) => (err += s),
        color: false,
      });
      expect(err).toMatch(/the disk is full/);
      expect(err).not.toMatch(/internal error|bug in fmc/);
      expect(code).toBe(1);
    } finally {
      if (old === undefined) delete process.env.FMC_CACHE_DIR;
      else process.env.FMC_CACHE_DIR = old;
    }
  });
});
