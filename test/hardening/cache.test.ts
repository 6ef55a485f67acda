// The compile cache against what an adversarial pass found (issue 17, item 12): build folders
// of killed compiles are cleaned up, a foreign or empty library under a matching (forged)
// sidecar is rebuilt before anything dlopens it, and a full disk is said to be one.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type CCompileOptions, CompileCacheError, compileC, verifyArtifact } from '../../src/runtime/cache.js';
import { STALE_WORK_DIR_MS, libraryFacts, makeWorkDir, removeStaleWorkDirs } from '../../src/runtime/cache-store.js';
import { native } from '../../src/runtime/native.js';

const FLAGS = ['-O1', '-shared', '-fPIC', '-std=c11'];
const hasCC = spawnSync('cc', ['--version']).status === 0;
const KEY = 'a'.repeat(64);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fmc-cache-hardening-'));
  chmodSync(dir, 0o700);
  dirs.push(dir);
  return dir;
}

const compile = (cacheDir: string, source: string, extra: CCompileOptions = {}) =>
  compileC(source, { cacheDir, compiler: 'cc', flags: FLAGS, ...extra });

/** A library with the fmc ABI and `n` kernels (as the code generator writes it). */
function abiSource(n: number, tag = ''): string {
  const names = Array.from({ length: n }, (_, i) => `k${i}`);
  return [
    '#include <stdint.h>',
    `/* ${tag} */`,
    'typedef void (*fmc_kernel)(void *const *args, const int64_t *dims);',
    ...names.map((k) => `static void ${k}(void *const *a, const int64_t *d) { (void)a; (void)d; }`),
    'const int32_t fmc_abi_version = 1;',
    `const int32_t fmc_kernel_count = ${n};`,
    `const fmc_kernel fmc_kernels[${n}] = {${names.join(', ')}};`,
    'void fmc_set_threads(int32_t n) { (void)n; }',
    '',
  ].join('\n');
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Puts `bytes` at `path` with a sidecar that matches them: what a forger would write. */
function forge(path: string, key: string, bytes: Uint8Array): void {
  writeFileSync(path, bytes, { mode: 0o600 });
  const record = { key, sha256: sha256(bytes), size: bytes.length, compiler: 'x', flags: [], created: '' };
  writeFileSync(path.replace(/\.so$/, '.json'), JSON.stringify(record), { mode: 0o600 });
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('stale build folders', () => {
  it('are removed when their process is gone or they are a day old; live builds stay', async () => {
    const dir = tempDir();
    const mine = makeWorkDir(dir, KEY); // this process: alive
    const killed = makeWorkDir(dir, KEY);
    const dead = killed.replace(`.${process.pid}@`, `.${await deadPid()}@`);
    renameSync(killed, dead);
    writeFileSync(join(dead, `${KEY}.c`), 'int x;');
    // Another machine's build (a shared cache): its pid means nothing here, only its age does.
    const elsewhere = join(dir, `.${KEY}.${await deadPid()}@00000000.${'1'.repeat(16)}.tmp`);
    const oldElsewhere = join(dir, `.${KEY}.${await deadPid()}@00000000.${'2'.repeat(16)}.tmp`);
    // The form without a host (older fmc): judged by age.
    const legacy = join(dir, `.${KEY}.123.${'3'.repeat(16)}.tmp`);
    const oldLegacy = join(dir, `.${KEY}.123.${'4'.repeat(16)}.tmp`);
    const unrelated = join(dir, '.something.tmp');
    for (const d of [elsewhere, oldElsewhere, legacy, oldLegacy, unrelated]) spawnSync('mkdir', [d]);
    const dayAgo = (Date.now() - STALE_WORK_DIR_MS - 60_000) / 1000;
    for (const d of [oldElsewhere, oldLegacy]) utimesSync(d, dayAgo, dayAgo);

    expect(removeStaleWorkDirs(dir)).toBe(3);
    expect(existsSync(mine)).toBe(true);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(elsewhere)).toBe(true);
    expect(existsSync(oldElsewhere)).toBe(false);
    expect(existsSync(legacy)).toBe(true);
    expect(existsSync(oldLegacy)).toBe(false);
    expect(existsSync(unrelated)).toBe(true);
  });

  it.skipIf(!hasCC)('are removed by the next compile after builds were killed', async () => {
    const cache = tempDir();
    const c = join(cache, 'c');
    compile(cache, 'int fmc_probe(void){return 1;}\n'); // creates c/
    // Builds killed mid-compile leave their folders, as `kill -9` did (10 after 46 kills).
    for (let i = 0; i < 5; i++) {
      const work = makeWorkDir(c, KEY);
      renameSync(work, work.replace(`.${process.pid}@`, `.${await deadPid()}@`));
    }
    expect(readdirSync(c).filter((n) => n.endsWith('.tmp'))).toHaveLength(5);
    compile(cache, 'int fmc_probe(void){return 2;}\n');
    expect(readdirSync(c).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe.skipIf(!hasCC)('a cached library is checked before it is loaded', () => {
  it('rebuilds a foreign fmc library under a forged sidecar (another kernel count)', () => {
    const cache = tempDir();
    const foreign = compile(cache, abiSource(2, 'foreign'));
    const target = compile(tempDir(), abiSource(3, 'target'));
    const path = join(cache, 'c', `${target.key}.so`);
    forge(path, target.key, readFileSync(foreign.path));
    const again = compile(cache, abiSource(3, 'target'));
    expect(again).toMatchObject({ path, cached: false });
    expect(native().loadLibrary(again.path).kernelCount).toBe(3);
    expect(compile(cache, abiSource(3, 'target')).cached).toBe(true);
  });

  it('rebuilds a library of another key even with the same kernel count', () => {
    const cache = tempDir();
    const foreign = compile(cache, abiSource(2, 'one'));
    const key = compile(tempDir(), abiSource(2, 'two')).key;
    const path = join(cache, 'c', `${key}.so`);
    forge(path, key, readFileSync(foreign.path));
    expect(verifyArtifact(path, key)).toBe(false);
    expect(compile(cache, abiSource(2, 'two'))).toMatchObject({ path, cached: false });
  });

  it('rebuilds an empty library, or one that is not ELF, under a matching sidecar', () => {
    for (const bytes of [new Uint8Array(0), Buffer.from('#!/bin/sh\necho not a library\n')]) {
      const cache = tempDir();
      const built = compile(cache, abiSource(1));
      forge(built.path, built.key, bytes);
      expect(verifyArtifact(built.path, built.key)).toBe(false);
      const again = compile(cache, abiSource(1));
      expect(again.cached).toBe(false);
      expect(native().loadLibrary(again.path).kernelCount).toBe(1);
    }
  });

  it('reads the ABI integers and the source name from the ELF without loading it', () => {
    const built = compile(tempDir(), abiSource(4));
    const facts = libraryFacts(readFileSync(built.path))!;
    expect(facts.ints.get('fmc_abi_version')).toBe(1);
    expect(facts.ints.get('fmc_kernel_count')).toBe(4);
    expect(facts.files).toContain(`${built.key}.c`);
    // Damaged headers are "not a library", never a throw.
    const bytes = readFileSync(built.path);
    for (let cut = 0; cut < 200; cut += 7) expect(libraryFacts(bytes.subarray(0, cut))).toBeUndefined();
    for (let i = 0; i < 64; i++) {
      const b = Buffer.from(bytes);
      b.writeUInt32LE(0xffffffff, 0x20 + ((i * 4) % 40));
      libraryFacts(b);
    }
  });
});

describe('a full disk', () => {
  it('is reported as such when the C compiler cannot write, not as a bug in fmc', () => {
    const dir = tempDir();
    const cc = join(dir, 'fullcc');
    writeFileSync(
      cc,
      '#!/bin/sh\nif [ "$1" = --version ]; then echo "fullcc 1.0"; exit 0; fi\n' +
        'echo "/usr/bin/ld: final link failed: No space left on device" >&2\nexit 1\n',
      { mode: 0o755 },
    );
    let e: unknown;
    try {
      compile(join(dir, 'cache'), 'int f(void){return 0;}\n', { compiler: cc });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(CompileCacheError);
    expect((e as Error).message).toMatch(/^the disk is full: .*No space left on device/);
    expect((e as Error).message).not.toMatch(/bug in fmc/);
    expect(readdirSync(join(dir, 'cache', 'c'))).toEqual([]);
  });
});
