// The on-disk side of the C compile cache (cache.ts): the private directory, artifact
// verification and atomic installation.
//
// Trust model: a shared library is native code that fmc loads into its own process, so a file is
// only ever returned if it sits in a directory that only this user can write, is a regular file
// (not a symlink) owned by this user and not writable by anyone else, and its bytes hash to what
// the sidecar `<key>.json` recorded when fmc built it. The checks open the file once (O_NOFOLLOW)
// and hash the same open file, so the file checked is the file hashed. Parents of the cache
// directory are not checked (they may legitimately be anything, e.g. a shared home mount); a
// cache directory under a directory that others can write is protected by its own 0700 mode
// against everything but a swap of the directory itself, which is the user's setup to get right.

import { createHash, randomBytes } from 'node:crypto';
import {
  type Stats,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CompileCacheError } from './cache-error.js';

/** The sidecar `<key>.json` written next to each `<key>.so`. */
export interface ArtifactRecord {
  key: string;
  /** Hex sha256 of the .so bytes. */
  sha256: string;
  size: number;
  /** The compiler identity (cache-compiler.ts) that built it. */
  compiler: string;
  flags: string[];
  /** ISO 8601 time of the build. */
  created: string;
}

const KEY = /^[0-9a-f]{64}$/;

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The sidecar path of an artifact path (`<key>.so` → `<key>.json`). */
export function sidecarPath(soPath: string): string {
  return soPath.replace(/\.so$/, '.json');
}

function ownedByUs(st: Stats): boolean {
  // Windows has no uids; there the mode bits are not meaningful either, but fmc's C backend
  // (cc + dlopen) is POSIX-only.
  const uid = process.getuid?.();
  return uid === undefined || st.uid === uid;
}

/** `<cacheDir>/c`, created if needed; throws CompileCacheError if it or cacheDir is unsafe. */
export function ensurePrivateDir(cacheDir: string): string {
  const root = resolve(cacheDir);
  const dir = join(root, 'c');
  makeDir(root, true);
  checkPrivateDir(root);
  makeDir(dir, false);
  checkPrivateDir(dir);
  return dir;
}

function makeDir(dir: string, recursive: boolean): void {
  try {
    mkdirSync(dir, { recursive, mode: 0o700 });
  } catch (e) {
    // An existing path of any kind is judged by checkPrivateDir, which explains the refusal.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw new CompileCacheError(`cannot create cache directory ${dir}: ${(e as Error).message}`);
  }
}

function checkPrivateDir(dir: string): void {
  const st = lstatSync(dir);
  const refuse = (why: string) => new CompileCacheError(`refusing cache directory ${dir}: ${why}`);
  const elsewhere = 'remove it or point FMC_CACHE_DIR at a private directory';
  if (st.isSymbolicLink()) {
    throw refuse(`it is a symbolic link (to ${readlinkSync(dir)}), not a real directory; ${elsewhere}`);
  }
  if (!st.isDirectory()) throw refuse(`it is not a directory; ${elsewhere}`);
  if (!ownedByUs(st)) {
    throw refuse(`it is owned by uid ${st.uid}, not by this user (uid ${process.getuid?.()}); ${elsewhere}`);
  }
  if ((st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    throw refuse(`it is group/world accessible (mode ${mode}); fix with chmod 700 ${dir}`);
  }
}

/**
 * Whether `path` is a trustworthy artifact for `key`: named `<key>.so`, a regular file owned by
 * this user and writable only by it, with a sidecar of the same key whose size and sha256 match
 * the file's current bytes. Never throws. The loader calls it again right before dlopen.
 */
export function verifyArtifact(path: string, key: string): boolean {
  if (!KEY.test(key) || basename(path) !== `${key}.so`) return false;
  try {
    const record = parseRecord(readOwnedFile(sidecarPath(path)));
    if (record?.key !== key) return false;
    const bytes = readOwnedFile(path);
    return bytes !== undefined && bytes.length === record.size && sha256Hex(bytes) === record.sha256;
  } catch {
    return false;
  }
}

/** The file's bytes if it passes the ownership checks, else undefined; throws if it can't be opened. */
function readOwnedFile(path: string): Buffer | undefined {
  // O_NOFOLLOW refuses a symlink; O_NONBLOCK keeps a FIFO planted at the path from blocking open.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || !ownedByUs(st) || (st.mode & 0o022) !== 0) return undefined;
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

function parseRecord(bytes: Buffer | undefined): ArtifactRecord | undefined {
  if (bytes === undefined) return undefined;
  const r = JSON.parse(bytes.toString('utf8')) as Partial<ArtifactRecord> | null;
  const ok =
    typeof r === 'object' &&
    r !== null &&
    typeof r.key === 'string' &&
    typeof r.sha256 === 'string' &&
    KEY.test(r.sha256) &&
    typeof r.size === 'number';
  return ok ? (r as ArtifactRecord) : undefined;
}

/**
 * A fresh private work directory `<dir>/.<key>.<pid>.<random>.tmp` for one build. mkdir fails if
 * the name exists, so, like O_EXCL for a file, it is never shared with another build.
 */
export function makeWorkDir(dir: string, key: string): string {
  const work = join(dir, `.${key}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`);
  mkdirSync(work, { mode: 0o700 });
  return work;
}

/** Creates `path` (which must not exist) with mode 0600 and writes `data`. */
export function writeExclusive(path: string, data: string | Uint8Array): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeFileSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

/**
 * Moves a built `.so` and its sidecar from the work directory into place. Each rename is atomic
 * and replaces whatever was there (a stale or tampered file, or a symlink itself rather than its
 * target), so a concurrent reader sees an old or a new file, never a partial one. The .so goes
 * first: a reader between the two renames sees a sidecar that doesn't match and rebuilds, which
 * is wasted work but never a wrong answer. Two builds of one key give identical bytes (see
 * cache.ts), so the last rename wins without changing anything.
 */
export function installArtifact(workSo: string, workJson: string, soPath: string): void {
  try {
    renameSync(workSo, soPath);
    renameSync(workJson, sidecarPath(soPath));
  } catch (e) {
    throw new CompileCacheError(`cannot install ${soPath} into the cache: ${(e as Error).message}`);
  }
}

/** Best-effort removal of an artifact that failed verification, so it never lingers. */
export function removeArtifact(soPath: string): void {
  for (const path of [soPath, sidecarPath(soPath)]) {
    try {
      unlinkSync(path);
    } catch {
      // Already gone, or a directory someone made there: the next install reports that.
    }
  }
}

export function removeWorkDir(work: string): void {
  // `force` so that cleanup after a failure never hides the failure itself.
  rmSync(work, { recursive: true, force: true });
}
