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
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
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

/** `<cacheDir>/<sub>` (`c`, `tune`), created if needed; throws CompileCacheError if it or cacheDir is unsafe. */
export function ensurePrivateDir(cacheDir: string, sub = 'c'): string {
  const root = resolve(cacheDir);
  const dir = join(root, sub);
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

/** What a cached library must declare, beyond its sidecar: from the C source it was built for. */
export interface ArtifactExpectation {
  /** `fmc_kernel_count` (generated sources declare it; undefined for any other source). */
  kernelCount?: number | undefined;
}

/** The kernel count a generated C source declares (`const int32_t fmc_kernel_count = N;`). */
export function declaredKernelCount(source: string): number | undefined {
  const m = /^const int32_t fmc_kernel_count = (\d+);$/m.exec(source);
  return m ? Number(m[1]) : undefined;
}

/**
 * Whether `path` is a trustworthy artifact for `key`: named `<key>.so`, a regular file owned by
 * this user and writable only by it, with a sidecar of the same key whose size and sha256 match
 * the file's current bytes. The bytes themselves are checked too, before anything loads them, so
 * a foreign library under a forged sidecar is rebuilt rather than dlopen'ed: on Linux they must
 * be an ELF shared object, one that fmc's cache built from `<key>.c` when its symbol table names
 * a file of that form, and, when `expect` says so, one that exports the fmc ABI version 1 and
 * the kernel count of its source. Never throws. The loader calls it again right before dlopen.
 */
export function verifyArtifact(path: string, key: string, expect: ArtifactExpectation = {}): boolean {
  if (!KEY.test(key) || basename(path) !== `${key}.so`) return false;
  try {
    const record = parseRecord(readOwnedFile(sidecarPath(path)));
    if (record?.key !== key) return false;
    const bytes = readOwnedFile(path);
    if (bytes === undefined || bytes.length !== record.size || sha256Hex(bytes) !== record.sha256) return false;
    return libraryMatches(bytes, key, expect);
  } catch {
    return false;
  }
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const CACHE_SOURCE = /^[0-9a-f]{64}\.c$/;

function libraryMatches(bytes: Buffer, key: string, expect: ArtifactExpectation): boolean {
  // Elsewhere (macOS: Mach-O) the bytes are not read; fmc's C target is tested on Linux.
  if (process.platform !== 'linux' && !bytes.subarray(0, 4).equals(ELF_MAGIC)) return true;
  const facts = libraryFacts(bytes);
  if (!facts) return false;
  // A build of another key (another model's library) names its own `<key>.c`.
  const sources = facts.files.filter((f) => CACHE_SOURCE.test(f));
  if (sources.length > 0 && !sources.includes(`${key}.c`)) return false;
  if (expect.kernelCount === undefined) return true;
  return facts.ints.get('fmc_abi_version') === 1 && facts.ints.get('fmc_kernel_count') === expect.kernelCount;
}

/** The file's bytes if it passes the ownership checks, else undefined; throws if it can't be opened. */
export function readOwnedFile(path: string): Buffer | undefined {
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

export function parseRecord(bytes: Buffer | undefined): ArtifactRecord | undefined {
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
 * A fresh private work directory `<dir>/.<key>.<pid>@<host>.<random>.tmp` for one build (host:
 * 8 hex digits of a hash of this machine's name, so that a cache shared between machines never
 * judges another machine's process ids). mkdir fails if the name exists, so, like O_EXCL for a
 * file, it is never shared with another build.
 */
export function makeWorkDir(dir: string, key: string): string {
  const work = join(dir, `.${key}.${process.pid}@${hostTag()}.${randomBytes(8).toString('hex')}.tmp`);
  mkdirSync(work, { mode: 0o700 });
  return work;
}

/** A work directory, with or without the host tag (fmc before it wrote none). */
const WORK_DIR = /^\.[0-9a-f]{64}\.(\d{1,10})(?:@([0-9a-f]{8}))?\.[0-9a-f]{16}\.tmp$/;
/** A work directory this old is stale whatever its process id says (no build takes a day). */
export const STALE_WORK_DIR_MS = 24 * 60 * 60 * 1000;

let host: string | undefined;
function hostTag(): string {
  return (host ??= sha256Hex(hostname()).slice(0, 8));
}

/** Whether process `pid` exists on this machine (EPERM: it does, as another user's). */
function processAlive(pid: number): boolean {
  if (!(pid > 0 && pid < 2 ** 31)) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the work directories of builds that will never finish: made on this machine by a
 * process that no longer exists (a compile killed mid-build), or older than STALE_WORK_DIR_MS.
 * Best effort and never throws; returns how many it removed.
 */
export function removeStaleWorkDirs(dir: string, now = Date.now()): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = WORK_DIR.exec(name);
    if (!m) continue;
    const work = join(dir, name);
    try {
      const st = lstatSync(work);
      if (!st.isDirectory() || !ownedByUs(st)) continue;
      const dead = m[2] === hostTag() && !processAlive(Number(m[1]));
      if (!dead && now - st.mtimeMs <= STALE_WORK_DIR_MS) continue;
      rmSync(work, { recursive: true, force: true });
      removed++;
    } catch {
      // Gone meanwhile, or not removable: the next sweep tries again.
    }
  }
  return removed;
}

/** A CompileCacheError for an out-of-space error (ENOSPC, EDQUOT) while writing under `dir`. */
export function diskFullError(e: unknown, dir: string): CompileCacheError | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return undefined;
  const what = code === 'EDQUOT' ? 'the disk quota is exceeded' : 'the disk is full';
  return new CompileCacheError(
    `${what} (${dir}): cannot write the compiled library (${(e as Error).message}); ` +
      'free some space, or point FMC_CACHE_DIR at another disk',
    { cause: e },
  );
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

/** What verification reads from a shared library's ELF headers, without loading it. */
export interface LibraryFacts {
  /** Values of the 32-bit integer symbols `fmc_abi_version` and `fmc_kernel_count`, where defined. */
  readonly ints: ReadonlyMap<string, number>;
  /** Names of the source files in the symbol table (STT_FILE), e.g. `<key>.c`. */
  readonly files: readonly string[];
}

const INT_SYMBOLS = new Set(['fmc_abi_version', 'fmc_kernel_count']);

/**
 * Reads an ELF shared object's symbol tables (32- or 64-bit, either byte order): the fmc ABI
 * integers and the recorded source file names. Undefined when the bytes are not a well-formed
 * ELF shared object (an empty file, another format, a truncated or damaged header).
 */
export function libraryFacts(bytes: Uint8Array): LibraryFacts | undefined {
  try {
    return readElf(bytes);
  } catch {
    return undefined; // a RangeError from DataView: an offset outside the file
  }
}

function readElf(bytes: Uint8Array): LibraryFacts | undefined {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 52 || dv.getUint32(0) !== 0x7f454c46) return undefined;
  const is64 = bytes[4] === 2;
  const le = bytes[5] === 1;
  if ((!is64 && bytes[4] !== 1) || (!le && bytes[5] !== 2)) return undefined;
  const u16 = (o: number) => dv.getUint16(o, le);
  const u32 = (o: number) => dv.getUint32(o, le);
  const word = (o: number) => (is64 ? Number(dv.getBigUint64(o, le)) : u32(o));
  if (u16(16) !== 3) return undefined; // ET_DYN
  const shoff = word(is64 ? 0x28 : 0x20);
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);
  if (shnum === 0 || shentsize < (is64 ? 64 : 40) || shoff + shnum * shentsize > bytes.length) return undefined;
  const sections = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + i * shentsize;
    return {
      type: u32(o + 4),
      addr: word(o + (is64 ? 16 : 12)),
      offset: word(o + (is64 ? 24 : 16)),
      size: word(o + (is64 ? 32 : 20)),
      link: u32(o + (is64 ? 40 : 24)),
      entsize: word(o + (is64 ? 56 : 36)),
    };
  });
  const cString = (o: number, end: number): string => {
    let e = o;
    while (e < end && bytes[e] !== 0) e++;
    if (e >= end) throw new RangeError('unterminated name');
    return Buffer.from(bytes.subarray(o, e)).toString('latin1');
  };
  const ints = new Map<string, number>();
  const files: string[] = [];
  for (const s of sections) {
    if (s.type !== 2 && s.type !== 11) continue; // SHT_SYMTAB, SHT_DYNSYM
    const strtab = sections[s.link];
    const entsize = is64 ? 24 : 16;
    if (!strtab || s.entsize !== entsize || s.offset + s.size > bytes.length) return undefined;
    const strEnd = strtab.offset + strtab.size;
    if (strEnd > bytes.length) return undefined;
    for (let o = s.offset + entsize; o + entsize <= s.offset + s.size; o += entsize) {
      const info = bytes[o + (is64 ? 4 : 12)]!;
      const shndx = u16(o + (is64 ? 6 : 14));
      const value = word(o + (is64 ? 8 : 4));
      const nameAt = strtab.offset + u32(o);
      if ((info & 0xf) === 4) {
        files.push(cString(nameAt, strEnd)); // STT_FILE
        continue;
      }
      const name = cString(nameAt, strEnd);
      if (!INT_SYMBOLS.has(name) || ints.has(name)) continue;
      const home = sections[shndx];
      if (!home || home.type === 8) continue; // undefined, or in .bss: no value in the file
      const at = home.offset + (value - home.addr);
      if (at < home.offset || at + 4 > home.offset + home.size) return undefined;
      ints.set(name, dv.getInt32(at, le));
    }
  }
  return { ints, files };
}
