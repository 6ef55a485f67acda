// The compile cache for generated C code: one C translation unit per compiled model, built into a
// shared library with the system C compiler and kept under `<cacheDir>/c/<key>.so`, where the key
// is a sha256 of everything the library's bytes depend on (source, flags, compiler identity, fmc
// version, target). Compiled artifacts are only ever loaded from this cache, and only after
// verification (cache-store.ts explains the trust model).
//
// Layout of `<cacheDir>/c/` (mode 0700, owned by this user):
//   <key>.so     the library (mode 0600)
//   <key>.json   its sidecar: {key, sha256, size, compiler, flags, created}
//   .<key>.<pid>@<host>.<random>.tmp/   a build in progress (removed when the build ends; one
//                whose process died, e.g. killed mid-build, is removed by the next compile)
//
// Concurrency: processes building the same key each build in their own work directory and
// rename into place; the C file in every work directory is named `<key>.c`, because the compiler
// records the source's file name in the library's symbol table and a random name would make two
// builds of one key differ byte for byte. With identical bytes, whichever rename lands last wins
// and every process returns a valid path.

import { chmodSync, readFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostCpuFlags } from '../kernels/schedule.js';
import { CompileCacheError } from './cache-error.js';
import { type CompilerInfo, compilerIdentity, compilerInfo, runCompiler } from './cache-compiler.js';
import {
  type ArtifactRecord,
  declaredKernelCount,
  diskFullError,
  ensurePrivateDir,
  installArtifact,
  makeWorkDir,
  removeArtifact,
  removeStaleWorkDirs,
  removeWorkDir,
  sha256Hex,
  verifyArtifact,
  writeExclusive,
} from './cache-store.js';

export { CompileCacheError, compilerIdentity, verifyArtifact };

/**
 * The default C flags. No -ffast-math: generated code must match the interpreter's IEEE results
 * (NaN/Inf handling, no reassociation beyond what the code generator chose). `-lm` is always
 * appended after the source file.
 */
export const C_FLAGS: readonly string[] = ['-O3', '-march=native', '-fopenmp', '-shared', '-fPIC', '-std=c11'];

export interface CCompileOptions {
  /** Default: $FMC_CACHE_DIR, else $XDG_CACHE_HOME/fmc, else ~/.cache/fmc. Artifacts go in <cacheDir>/c/. */
  cacheDir?: string;
  /** A program name (looked up on $PATH) or path. Default: $CC, else 'cc'. */
  compiler?: string;
  /** Default: C_FLAGS. */
  flags?: readonly string[];
  /** Told when a real compile starts, e.g. "compiling 1 C file (84 KB) with gcc 12.2.0". */
  onProgress?: (message: string) => void;
}

export interface CompiledLibrary {
  /** The verified `<cacheDir>/c/<key>.so`. */
  path: string;
  key: string;
  /** True when the library came verified from the cache, false when it was just built. */
  cached: boolean;
}

/** The inputs of a cache key; version defaults to fmc's own, target to 'c'. */
export interface CacheKeyParts {
  source: string;
  flags: readonly string[];
  compilerIdentity: string;
  version?: string;
  target?: string;
  /** The CPU the library is built for (`-march=native`); default: this machine's. */
  machine?: string;
}

/**
 * This machine's CPU as `-march=native` sees it (architecture, model name and feature flags),
 * so a cache shared between machines (an NFS home) never hands one CPU another's build.
 */
let machine: string | undefined;
export function machineIdentity(): string {
  if (machine !== undefined) return machine;
  machine = [process.arch, cpus()[0]?.model ?? '', hostCpuFlags()].join('|');
  return machine;
}

/**
 * Hex sha256 of the parts. Each field is hashed as an 8-byte big-endian length and its UTF-8
 * bytes, and the flags are preceded by their count, so no two different inputs (flags ['-a', 'b']
 * vs ['-a b'], or text moved between source and flags) share an encoding.
 */
export function cacheKey(parts: CacheKeyParts): string {
  const fields = [
    'fmc-compile-cache-v1',
    parts.target ?? 'c',
    parts.version ?? fmcVersion(),
    parts.compilerIdentity,
    parts.machine ?? machineIdentity(),
    String(parts.flags.length),
    ...parts.flags,
    parts.source,
  ];
  const chunks: Buffer[] = [];
  for (const field of fields) {
    const bytes = Buffer.from(field, 'utf8');
    const length = Buffer.alloc(8);
    length.writeBigUInt64BE(BigInt(bytes.length));
    chunks.push(length, bytes);
  }
  return sha256Hex(Buffer.concat(chunks));
}

let version: string | undefined;

/**
 * fmc's version from its package.json, found by walking up from this module: src/runtime/ under
 * vitest, dist/src/runtime/ when compiled. A new fmc release never reuses an old build, which
 * matters when the generated code includes headers shipped with fmc.
 */
export function fmcVersion(): string {
  if (version !== undefined) return version;
  version = 'unknown';
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'fmc' && typeof pkg.version === 'string') return (version = pkg.version);
    } catch {
      // No (readable) package.json here: keep walking up.
    }
    const up = dirname(dir);
    if (up === dir) return version;
    dir = up;
  }
}

/** $FMC_CACHE_DIR, else $XDG_CACHE_HOME/fmc (when absolute, as the XDG spec asks), else ~/.cache/fmc. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const own = env.FMC_CACHE_DIR;
  if (own) return resolve(own);
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'fmc');
  return join(homedir(), '.cache', 'fmc');
}

/**
 * The shared library for `source`, from the cache when a verified build exists, else built now.
 * Throws CompileCacheError for an unsafe cache directory, a missing compiler or a failed compile.
 *
 * The caller dlopens the returned path right away. Between the check here and the dlopen there
 * is a small window; only this user can write the private directory, so the window matters only
 * against this user's own processes, and the loader can close most of it by calling
 * verifyArtifact(path, key) immediately before dlopen.
 */
export function compileC(source: string, opts: CCompileOptions = {}): CompiledLibrary {
  const compiler = opts.compiler ?? (process.env.CC || 'cc');
  const flags = [...(opts.flags ?? C_FLAGS)];
  const info = compilerInfo(compiler);
  const key = cacheKey({ source, flags, compilerIdentity: info.identity });
  const dir = ensurePrivateDir(opts.cacheDir ?? defaultCacheDir());
  if (!swept.has(dir)) {
    swept.add(dir);
    removeStaleWorkDirs(dir);
  }
  const path = join(dir, `${key}.so`);
  // A generated source's library must export its kernel count: a foreign library under a
  // forged sidecar fails here, before anything dlopens it, and is rebuilt.
  const expect = { kernelCount: declaredKernelCount(source) };
  if (verifyArtifact(path, key, expect)) return { path, key, cached: true };
  removeStaleWorkDirs(dir);
  // Whatever is at the path failed verification (or is missing). It is not deleted first: the
  // install renames over it atomically, so a concurrent process mid-install never loses its file.
  try {
    build(path, key, source, flags, info, opts.onProgress);
  } catch (e) {
    // Unless another process installed a good build meanwhile, the bad files go (best effort).
    if (!verifyArtifact(path, key, expect)) removeArtifact(path);
    throw diskFullError(e, dir) ?? e;
  }
  // Re-checked after the install, like a cache hit, so no path is returned unverified (a
  // nondeterministic compiler racing another process could pair one's .so with the other's sidecar).
  if (!verifyArtifact(path, key, expect)) {
    removeArtifact(path);
    throw new CompileCacheError(`the freshly built ${path} failed verification; try again`);
  }
  return { path, key, cached: false };
}

/** Cache directories whose stale work directories this process removed already. */
const swept = new Set<string>();

/** Compiles in a private work directory, then installs the .so and its sidecar. */
function build(
  path: string,
  key: string,
  source: string,
  flags: readonly string[],
  info: CompilerInfo,
  onProgress: ((message: string) => void) | undefined,
): void {
  const work = makeWorkDir(dirname(path), key);
  try {
    const c = join(work, `${key}.c`);
    const so = join(work, `${key}.so`);
    const json = join(work, `${key}.json`);
    writeExclusive(c, source);
    writeExclusive(so, ''); // claims the output name; the linker replaces the file
    onProgress?.(`compiling 1 C file (${kilobytes(Buffer.byteLength(source))}) with ${info.label}`);
    runCompiler(info, [...flags, '-o', so, c, '-lm'], work);
    const bytes = readFileSync(so);
    const record: ArtifactRecord = {
      key,
      sha256: sha256Hex(bytes),
      size: bytes.length,
      compiler: info.identity,
      flags: [...flags],
      created: new Date().toISOString(),
    };
    chmodSync(so, 0o600); // the linker recreates its output with 0755 & ~umask
    writeExclusive(json, `${JSON.stringify(record, null, 2)}\n`);
    installArtifact(so, json, path);
  } finally {
    removeWorkDir(work);
  }
}

function kilobytes(bytes: number): string {
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
