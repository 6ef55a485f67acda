// The compile cache for generated C code: keys, the private directory, hits that are verified
// before they are returned, every kind of tampering answered by a rebuild, compiler failures,
// and a build that races another build of the same key. Tests that compile need a C compiler
// (`cc`) and are skipped without one. Running as root, the ownership checks are exercised with
// chown; as another user they are not (a user can't give files away).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  C_FLAGS,
  CompileCacheError,
  type CCompileOptions,
  cacheKey,
  compileC,
  compilerIdentity,
  defaultCacheDir,
  fmcVersion,
  verifyArtifact,
} from '../../src/runtime/cache.js';

const PROBE = 'int fmc_probe(void){return 42;}\n';
// Fewer flags than C_FLAGS keep the builds quick; the flags are only passed through.
const FLAGS = ['-O1', '-shared', '-fPIC', '-std=c11'];
const hasCC = spawnSync('cc', ['--version']).status === 0;
const isRoot = process.getuid?.() === 0;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh private cache directory. */
function tempCache(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fmc-cache-test-'));
  chmodSync(dir, 0o700);
  dirs.push(dir);
  return dir;
}

/** compileC with test defaults, counting real compiles. */
function compile(cacheDir: string, source = PROBE, extra: CCompileOptions = {}) {
  const progress: string[] = [];
  const lib = compileC(source, {
    cacheDir,
    compiler: 'cc',
    flags: FLAGS,
    onProgress: (m) => progress.push(m),
    ...extra,
  });
  return { ...lib, progress };
}

const sidecar = (path: string) => JSON.parse(readFileSync(path.replace(/\.so$/, '.json'), 'utf8'));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Throws the error `f` throws, or fails. */
function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('cacheKey', () => {
  const base = { source: PROBE, flags: FLAGS, compilerIdentity: '/usr/bin/cc: cc 1.0' };

  it('is deterministic hex sha256 and depends on every part', () => {
    const key = cacheKey(base);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey({ ...base })).toBe(key);
    expect(cacheKey({ ...base, version: fmcVersion(), target: 'c' })).toBe(key);
    // A different CPU (a cache shared over NFS) never gets this build: -march=native.
    expect(cacheKey({ ...base, machine: 'x64|another cpu|sse2' })).not.toBe(key);
    const others = [
      { ...base, source: PROBE + ' ' },
      { ...base, flags: [...FLAGS, '-g'] },
      { ...base, compilerIdentity: '/usr/bin/cc: cc 1.1' },
      { ...base, version: '999.0.0' },
      { ...base, target: 'cuda' },
    ].map(cacheKey);
    expect(new Set([key, ...others]).size).toBe(6);
  });

  it('encodes fields unambiguously', () => {
    const id = { compilerIdentity: 'x' };
    expect(cacheKey({ ...id, source: '', flags: ['-a', 'b'] })).not.toBe(
      cacheKey({ ...id, source: '', flags: ['-a b'] }),
    );
    expect(cacheKey({ ...id, source: '', flags: ['-ab'] })).not.toBe(
      cacheKey({ ...id, source: '', flags: ['-a', 'b'] }),
    );
    expect(cacheKey({ ...id, source: 'b', flags: ['-a'] })).not.toBe(
      cacheKey({ ...id, source: '', flags: ['-a', 'b'] }),
    );
    expect(cacheKey({ ...id, source: '', flags: [] })).not.toBe(cacheKey({ ...id, source: '', flags: [''] }));
  });

  it('uses the version from package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(fmcVersion()).toBe(pkg.version);
  });
});

describe('defaultCacheDir', () => {
  it('prefers FMC_CACHE_DIR, then an absolute XDG_CACHE_HOME, then ~/.cache', () => {
    expect(defaultCacheDir({ FMC_CACHE_DIR: '/a', XDG_CACHE_HOME: '/b' })).toBe('/a');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/b' })).toBe('/b/fmc');
    expect(defaultCacheDir({ XDG_CACHE_HOME: 'relative' })).toMatch(/\/\.cache\/fmc$/);
    expect(defaultCacheDir({ FMC_CACHE_DIR: '' })).toMatch(/\/\.cache\/fmc$/);
  });

  it('has no -ffast-math in the default flags', () => {
    expect(C_FLAGS).toEqual(['-O3', '-march=native', '-fopenmp', '-shared', '-fPIC', '-std=c11']);
  });
});

describe('compiler', () => {
  it('reports a missing compiler clearly', () => {
    const e = errorOf(() => compileC(PROBE, { cacheDir: tempCache(), compiler: '/nonexistent/cc' }));
    expect(e).toBeInstanceOf(CompileCacheError);
    expect(e.message).toContain("C compiler '/nonexistent/cc' not found");
    expect(e.message).toContain('apt-get install gcc');
    expect(errorOf(() => compilerIdentity('fmc-no-such-compiler')).message).toContain('not found');
  });

  it('defaults to $CC', () => {
    const saved = process.env.CC;
    process.env.CC = '/nonexistent/cc-from-env';
    try {
      expect(errorOf(() => compileC(PROBE, { cacheDir: tempCache() })).message).toContain('cc-from-env');
    } finally {
      if (saved === undefined) delete process.env.CC;
      else process.env.CC = saved;
    }
  });

  it.skipIf(!hasCC)('identifies a compiler by path and version line, once per process', () => {
    const id = compilerIdentity('cc');
    expect(id).toMatch(/^\/.*: \S/);
    expect(id).toContain(spawnSync('cc', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]);
    expect(compilerIdentity('cc')).toBe(id);
  });
});

describe.skipIf(!hasCC)('compileC', () => {
  it('builds once, then returns the verified cached library', () => {
    const cacheDir = tempCache();
    const first = compile(cacheDir);
    expect(first.cached).toBe(false);
    expect(first.path).toBe(join(cacheDir, 'c', `${first.key}.so`));
    expect(first.progress).toHaveLength(1);
    expect(first.progress[0]).toMatch(/^compiling 1 C file \(1 KB\) with \S+/);
    const bytes = readFileSync(first.path);
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from('\x7fELF', 'latin1'));
    expect(statSync(join(cacheDir, 'c')).mode & 0o777).toBe(0o700);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    const record = sidecar(first.path);
    expect(record).toMatchObject({ key: first.key, sha256: sha256(bytes), size: bytes.length, flags: FLAGS });
    expect(record.compiler).toBe(compilerIdentity('cc'));
    expect(readdirSync(join(cacheDir, 'c')).sort()).toEqual([`${first.key}.json`, `${first.key}.so`]);

    const mtime = statSync(first.path).mtimeMs;
    const second = compile(cacheDir);
    expect(second).toMatchObject({ path: first.path, key: first.key, cached: true, progress: [] });
    expect(statSync(first.path).mtimeMs).toBe(mtime);
  });

  it('keys by source and flags', () => {
    const cacheDir = tempCache();
    const a = compile(cacheDir);
    expect(compile(cacheDir, 'int fmc_probe(void){return 43;}\n').key).not.toBe(a.key);
    expect(compile(cacheDir, PROBE, { flags: [...FLAGS, '-g0'] }).key).not.toBe(a.key);
    expect(compile(tempCache()).key).toBe(a.key);
  });

  it('creates the cache directory and its parents privately', () => {
    const cacheDir = join(tempCache(), 'x', 'y');
    const lib = compile(cacheDir);
    expect(lib.cached).toBe(false);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(cacheDir, 'c')).mode & 0o777).toBe(0o700);
  });

  it('builds the same bytes twice, so racing builds of one key agree', () => {
    const a = readFileSync(compile(tempCache()).path);
    const b = readFileSync(compile(tempCache()).path);
    expect(sha256(a)).toBe(sha256(b));
  });

  it('survives another process installing the same key mid-build', () => {
    const cacheDir = tempCache();
    let inner: ReturnType<typeof compile> | undefined;
    // onProgress runs after the cache check and before the compile: a nested compileC there is
    // another process that checks, builds and installs while this one builds.
    const outer = compile(cacheDir, PROBE, {
      onProgress: () => {
        inner ??= compile(cacheDir);
      },
    });
    expect(inner?.cached).toBe(false);
    expect(outer.cached).toBe(false);
    expect(verifyArtifact(outer.path, outer.key)).toBe(true);
    expect(compile(cacheDir).cached).toBe(true);
    expect(readdirSync(join(cacheDir, 'c'))).toHaveLength(2);
  });

  /** Builds, damages the artifact with `damage`, and expects a rebuild that verifies. */
  function expectRebuild(damage: (path: string, cacheDir: string) => void): void {
    const cacheDir = tempCache();
    const first = compile(cacheDir);
    const good = readFileSync(first.path);
    damage(first.path, cacheDir);
    expect(verifyArtifact(first.path, first.key)).toBe(false);
    const again = compile(cacheDir);
    expect(again).toMatchObject({ path: first.path, key: first.key, cached: false });
    expect(again.progress).toHaveLength(1);
    expect(lstatSync(again.path).isFile()).toBe(true);
    expect(readFileSync(again.path)).toEqual(good);
    expect(sidecar(again.path).sha256).toBe(sha256(good));
    expect(verifyArtifact(again.path, again.key)).toBe(true);
    expect(compile(cacheDir).cached).toBe(true);
  }

  it('rebuilds a tampered library (one flipped byte)', () => {
    expectRebuild((path) => {
      const bytes = readFileSync(path);
      bytes[bytes.length >> 1]! ^= 0x01;
      writeFileSync(path, bytes);
    });
  });

  it('rebuilds a truncated library', () => {
    expectRebuild((path) => writeFileSync(path, readFileSync(path).subarray(0, 100)));
  });

  it('rebuilds a library without its sidecar', () => {
    expectRebuild((path) => unlinkSync(path.replace(/\.so$/, '.json')));
  });

  it('rebuilds a library whose sidecar has another hash, key or no JSON', () => {
    const edit = (f: (r: Record<string, unknown>) => void) => (path: string) => {
      const json = path.replace(/\.so$/, '.json');
      const record = JSON.parse(readFileSync(json, 'utf8'));
      f(record);
      writeFileSync(json, JSON.stringify(record));
    };
    expectRebuild(edit((r) => (r.sha256 = '0'.repeat(64))));
    expectRebuild(edit((r) => (r.key = '1'.repeat(64))));
    expectRebuild(edit((r) => (r.size = 1)));
    expectRebuild((path) => writeFileSync(path.replace(/\.so$/, '.json'), '{'));
  });

  it('rebuilds over a symlink, and never follows it', () => {
    let target = '';
    expectRebuild((path, cacheDir) => {
      // A valid-looking library elsewhere with a sidecar that matches it.
      target = join(cacheDir, 'elsewhere.so');
      writeFileSync(target, readFileSync(path));
      chmodSync(target, 0o600);
      unlinkSync(path);
      symlinkSync(target, path);
    });
    expect(lstatSync(target).isFile()).toBe(true);
  });

  it('rebuilds a library that others may write', () => {
    expectRebuild((path) => chmodSync(path, 0o664));
  });

  it.runIf(isRoot)('rebuilds a library owned by someone else', () => {
    expectRebuild((path) => chownSync(path, 12345, 12345));
  });

  it('refuses a cache directory that others can access', () => {
    const cacheDir = tempCache();
    chmodSync(cacheDir, 0o755);
    const e = errorOf(() => compile(cacheDir));
    expect(e).toBeInstanceOf(CompileCacheError);
    expect(e.message).toContain(`refusing cache directory ${cacheDir}`);
    expect(e.message).toContain(`(mode 0755); fix with chmod 700 ${cacheDir}`);
    chmodSync(cacheDir, 0o700);
    mkdirSync(join(cacheDir, 'c'), { mode: 0o700 });
    chmodSync(join(cacheDir, 'c'), 0o750);
    expect(errorOf(() => compile(cacheDir)).message).toContain('mode 0750');
  });

  it('refuses a cache directory that is a symlink, or its c directory as one', () => {
    const real = tempCache();
    const link = join(tempCache(), 'link');
    symlinkSync(real, link);
    const e = errorOf(() => compile(link));
    expect(e).toBeInstanceOf(CompileCacheError);
    expect(e.message).toMatch(/refusing cache directory .*link: it is a symbolic link/);
    const cacheDir = tempCache();
    symlinkSync(real, join(cacheDir, 'c'));
    expect(errorOf(() => compile(cacheDir)).message).toContain('symbolic link');
  });

  it('refuses a cache directory that is a file', () => {
    const file = join(tempCache(), 'file');
    writeFileSync(file, '');
    expect(errorOf(() => compile(file)).message).toContain('not a directory');
  });

  it.runIf(isRoot)('refuses a cache directory owned by someone else', () => {
    const cacheDir = tempCache();
    chownSync(cacheDir, 12345, 12345);
    expect(errorOf(() => compile(cacheDir)).message).toContain('owned by uid 12345');
  });

  it('reports a compiler failure as an fmc bug with the compiler output, leaving nothing behind', () => {
    const cacheDir = tempCache();
    const e = errorOf(() => compile(cacheDir, 'int fmc_probe(void){ return 42 }\n'));
    expect(e).toBeInstanceOf(CompileCacheError);
    expect(e.message).toContain('bug in fmc');
    // The compiler's own words (quotes depend on the locale), with the work directory elided.
    expect(e.message).toMatch(/\n[0-9a-f]{64}\.c:1:\d+: error: expected .;. before/);
    expect(e.message).toMatch(/\n\$ \S*cc -O1 -shared -fPIC -std=c11 -o [0-9a-f]{64}\.so [0-9a-f]{64}\.c -lm\n/);
    expect(readdirSync(join(cacheDir, 'c'))).toEqual([]);
  });

  it('caps the quoted compiler output at 30 lines', () => {
    const bad = Array.from({ length: 100 }, (_, i) => `int f${i}(void){ return x${i}; }`).join('\n');
    const e = errorOf(() => compile(tempCache(), bad));
    expect(e.message).toMatch(/\.\.\. \(\d+ more lines\)$/);
    expect(e.message.split('\n').length).toBeLessThanOrEqual(34);
  });

  it('verifyArtifact accepts only the named, recorded, untouched file', () => {
    const cacheDir = tempCache();
    const { path, key } = compile(cacheDir);
    expect(verifyArtifact(path, key)).toBe(true);
    expect(verifyArtifact(path, '0'.repeat(64))).toBe(false);
    expect(verifyArtifact(path, 'not-a-key')).toBe(false);
    expect(verifyArtifact(join(cacheDir, 'c', 'missing.so'), key)).toBe(false);
    const copy = join(cacheDir, 'c', 'copy.so');
    writeFileSync(copy, readFileSync(path));
    expect(verifyArtifact(copy, key)).toBe(false);
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from([0])]));
    expect(verifyArtifact(path, key)).toBe(false);
  });
});
