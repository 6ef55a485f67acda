// The tuning cache: the GEMM schedule `fmc tune` measured best, per (CPU, GEMM kernel shape).
// It lives beside the compile cache, as safe as it: `<cache dir>/tune`, a directory only this
// user can use (cache-store.ts checks it), one file per entry named by the sha256 of its
// CPU and shape (never user text), written 0600 through a temp file and a rename. An entry
// carries a checksum of its fields and is trusted only when it is a regular file of ours,
// not writable by others, whose checksum, CPU and shape match and whose schedule is one the
// GEMM lowering accepts; anything else is ignored with a warning, and lowering falls back to
// the default schedule. A tuned schedule changes the generated C source, so the compile
// cache's keys follow it.

import { constants, closeSync, fstatSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type GemmSchedule, SCHEDULES, hostSchedule } from '../kernels/schedule.js';
import { defaultCacheDir, machineIdentity } from './cache.js';
import { ensurePrivateDir, sha256Hex } from './cache-store.js';

const FORMAT = 'fmc-tune-1';

export interface TuneEntry {
  readonly format: string;
  /** The CPU (machineIdentity: architecture, /proc/cpuinfo model name, feature flags). */
  readonly cpu: string;
  /** The GEMM kernel shape (gemmShapeKey). */
  readonly shape: string;
  readonly schedule: GemmSchedule;
  /** What was measured: the dims, and the median time of each candidate tried (ms). */
  readonly measured: string;
  /** sha256 over the fields above. */
  readonly checksum: string;
}

const FIELDS = ['format', 'cpu', 'shape', 'schedule', 'measured'] as const;
const SCHEDULE_KEYS = ['MR', 'NR', 'KC', 'MC', 'NC', 'SMALL_M', 'MSPLIT'] as const;

const checksum = (e: Omit<TuneEntry, 'checksum'>): string =>
  sha256Hex(JSON.stringify(FIELDS.map((f) => (f === 'schedule' ? SCHEDULE_KEYS.map((k) => e.schedule[k]) : e[f]))));

/** The entry file of (cpu, shape): a hashed name, never the shape's text. */
function entryPath(dir: string, cpu: string, shape: string): string {
  return join(dir, `${sha256Hex(`${FORMAT}\n${cpu}\n${shape}`)}.json`);
}

/** Why a schedule is not one the lowering accepts, or undefined when it is. */
export function scheduleProblem(s: unknown): string | undefined {
  if (!s || typeof s !== 'object') return 'no schedule';
  const o = s as Record<string, unknown>;
  for (const k of SCHEDULE_KEYS) {
    const v = o[k];
    if (!Number.isSafeInteger(v) || (v as number) < 1 || (v as number) > 1 << 16) return `bad ${k}`;
  }
  const x = o as unknown as GemmSchedule;
  // Register tiles are the dialect's known shapes (their micro-kernels are known to fit).
  if (!Object.values(SCHEDULES).some((t) => t.MR === x.MR && t.NR === x.NR)) return `unknown tile ${x.MR}×${x.NR}`;
  if (x.MC % x.MR !== 0 || x.NC % x.NR !== 0) return 'blocks are not multiples of the tile';
  if (x.KC * (x.MC + x.NC) > 1 << 22) return 'blocks too large';
  return undefined;
}

export interface TuneCacheOptions {
  readonly cacheDir?: string;
  readonly cpu?: string;
  /** Where warnings about ignored entries go (default: stderr). */
  readonly warn?: (message: string) => void;
}

const warned = new Set<string>();
function defaultWarn(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.stderr.write(`fmc: warning: ${message}\n`);
}

/** Stores the tuned schedule of `shape` on this CPU. */
export function writeTuned(
  shape: string,
  schedule: GemmSchedule,
  measured: string,
  opts: TuneCacheOptions = {},
): string {
  const problem = scheduleProblem(schedule);
  if (problem) throw new Error(`internal: tuned schedule rejected: ${problem}`);
  const dir = ensurePrivateDir(opts.cacheDir ?? defaultCacheDir(), 'tune');
  const cpu = opts.cpu ?? machineIdentity();
  const plain = Object.fromEntries(SCHEDULE_KEYS.map((k) => [k, schedule[k]])) as unknown as GemmSchedule;
  const body = { format: FORMAT, cpu, shape, schedule: plain, measured };
  const path = entryPath(dir, cpu, shape);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ ...body, checksum: checksum(body) }, null, 1)}\n`, {
    mode: 0o600,
    flag: 'wx',
  });
  renameSync(tmp, path);
  return path;
}

/** The tuned schedule of `shape` on this CPU, or undefined (none, or an entry not to trust: warned). */
export function readTuned(shape: string, opts: TuneCacheOptions = {}): GemmSchedule | undefined {
  const warn = opts.warn ?? defaultWarn;
  let dir: string;
  try {
    dir = ensurePrivateDir(opts.cacheDir ?? defaultCacheDir(), 'tune');
  } catch (e) {
    warn(`tuning cache not used: ${(e as Error).message}`);
    return undefined;
  }
  const cpu = opts.cpu ?? machineIdentity();
  const path = entryPath(dir, cpu, shape);
  let text: string;
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      const uid = process.getuid?.();
      if (!st.isFile()) return (warn(`ignoring tuning cache entry ${path}: not a regular file`), undefined);
      if ((uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0)
        return (warn(`ignoring tuning cache entry ${path}: not owned by this user or writable by others`), undefined);
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    warn(`ignoring tuning cache entry ${path}: ${(e as Error).message}`);
    return undefined;
  }
  const bad = (why: string): undefined => (warn(`ignoring tuning cache entry ${path}: ${why}`), undefined);
  let e: TuneEntry;
  try {
    e = JSON.parse(text) as TuneEntry;
  } catch {
    return bad('not JSON');
  }
  if (!e || typeof e !== 'object' || e.format !== FORMAT) return bad('unknown format');
  const problem = scheduleProblem(e.schedule);
  if (problem) return bad(problem);
  if (typeof e.measured !== 'string' || e.checksum !== checksum(e)) return bad('checksum mismatch (edited or damaged)');
  if (e.cpu !== cpu || e.shape !== shape) return bad('entry of another CPU or shape');
  return Object.fromEntries(SCHEDULE_KEYS.map((k) => [k, e.schedule[k]])) as unknown as GemmSchedule;
}

/** This machine's schedule, choosing per GEMM shape from the tuning cache (when it has an entry). */
export function tunedHostSchedule(opts: TuneCacheOptions = {}): GemmSchedule {
  return { ...hostSchedule(), tuned: (shape) => readTuned(shape, opts) };
}
