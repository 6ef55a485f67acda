// Finding and running the system C compiler for the compile cache (cache.ts). The compiler is
// always run directly (spawnSync with an argument list, never a shell), so the generated code's
// temp paths and the flags need no quoting. `$CC` is taken as one program name or path: a value
// with arguments ("ccache gcc") is reported as a compiler that is not found.

import { spawnSync } from 'node:child_process';
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { basename, delimiter, join, resolve } from 'node:path';
import { CompileCacheError } from './cache-error.js';

/** What the cache knows about one compiler. */
export interface CompilerInfo {
  /** The path that is executed: found on $PATH, symlinks kept (ccache dispatches on argv[0]). */
  path: string;
  /** Part of the cache key: the paths and the first line of `--version`. */
  identity: string;
  /** A short name for progress messages, e.g. "gcc 12.2.0". */
  label: string;
}

/** Compiler stderr lines quoted in a failure message. */
const MAX_ERROR_LINES = 30;

// Memoized per process and per compiler string: running `--version` costs a process start on
// every compile otherwise. A compiler upgraded while fmc runs is picked up by the next process.
const known = new Map<string, CompilerInfo>();

/** Locates `compiler` and asks it for its version; throws CompileCacheError when it can't. */
export function compilerInfo(compiler: string): CompilerInfo {
  const hit = known.get(compiler);
  if (hit !== undefined) return hit;
  const path = locate(compiler);
  // The real path tells apart compilers behind the same name (cc → gcc-12 or clang-16); the
  // version line tells apart a compiler replaced in place by an upgrade.
  const real = realpathSync(path);
  const line = versionLine(compiler, path);
  const where = real === path ? path : `${path} -> ${real}`;
  const info: CompilerInfo = { path, identity: `${where}: ${line}`, label: describe(real, line) };
  known.set(compiler, info);
  return info;
}

/** The compiler's resolved path and the first line of its `--version`; memoized per process. */
export function compilerIdentity(compiler: string): string {
  return compilerInfo(compiler).identity;
}

function notFound(compiler: string): CompileCacheError {
  return new CompileCacheError(
    `C compiler '${compiler}' not found; install gcc (apt-get install gcc) or set CC to a C compiler`,
  );
}

/** The compiler's path: as given when it names a path, else the first match on $PATH. */
function locate(compiler: string): string {
  if (compiler === '') throw notFound(compiler);
  if (compiler.includes('/')) {
    const path = resolve(compiler);
    if (isExecutable(path)) return path;
    throw notFound(compiler);
  }
  // Empty $PATH entries (meaning the current directory) are skipped on purpose: a compiler is
  // never picked up from wherever fmc happens to be run.
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, compiler);
    if (isExecutable(path)) return path;
  }
  throw notFound(compiler);
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function versionLine(compiler: string, path: string): string {
  const run = spawnSync(path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  if (run.error !== undefined) throw notFound(compiler);
  const line = `${run.stdout}\n${run.stderr}`.split('\n').find((l) => l.trim() !== '');
  if (run.status !== 0 || line === undefined) {
    throw new CompileCacheError(
      `C compiler '${compiler}' (${path}) did not answer --version (${exitText(run.status, run.signal)}); ` +
        'set CC to a gcc- or clang-compatible C compiler',
    );
  }
  return line.trim();
}

/** "gcc 12.2.0" from "cc (Debian 12.2.0-14+deb12u1) 12.2.0" and /usr/bin/x86_64-linux-gnu-gcc-12. */
function describe(realPath: string, line: string): string {
  const both = `${line} ${basename(realPath)}`;
  const name = /clang/i.test(both) ? 'clang' : /gcc|Free Software Foundation/i.test(both) ? 'gcc' : basename(realPath);
  const version = /version (\d+(?:\.\d+)+)/.exec(line)?.[1] ?? line.match(/\d+(?:\.\d+)+/g)?.at(-1);
  return version === undefined ? name : `${name} ${version}`;
}

/**
 * Runs the compiler on generated code. Any failure is fmc's bug, not the user's: the message
 * says so and quotes the start of the compiler's output so the report is actionable.
 */
export function runCompiler(info: CompilerInfo, args: readonly string[], workDir: string): void {
  const run = spawnSync(info.path, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error !== undefined && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw notFound(info.path);
  }
  if (run.error === undefined && run.status === 0) return;
  // The work directory is removed after the build, so its long name is noise in the report.
  const text = (run.stderr || run.stdout || String(run.error?.message ?? '')).trimEnd();
  // Out of space (in the cache, or in $TMPDIR where the compiler keeps its temporary files):
  // the machine's limit, not fmc's bug.
  const full = text.split('\n').find((l) => /No space left on device|Disk quota exceeded/i.test(l));
  if (full !== undefined) {
    throw new CompileCacheError(
      `the disk is full: the C compiler could not write its output (${full.split(`${workDir}/`).join('').trim()}); ` +
        'free some space, or point FMC_CACHE_DIR (the cache) or TMPDIR (its temporary files) at another disk',
    );
  }
  const output = text.split(`${workDir}/`).join('').split('\n');
  const shown = output.slice(0, MAX_ERROR_LINES);
  if (output.length > shown.length) shown.push(`... (${output.length - shown.length} more lines)`);
  const command = [info.path, ...args].join(' ').split(`${workDir}/`).join('');
  throw new CompileCacheError(
    `the C compiler failed on code generated by fmc (${exitText(run.status, run.signal)}). ` +
      'This is a bug in fmc, not in your model: please report it with this message.\n' +
      `$ ${command}\n${shown.join('\n')}`,
  );
}

function exitText(status: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `killed by ${signal}` : `exit status ${status ?? 'unknown'}`;
}
