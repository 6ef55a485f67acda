// Training checkpoints that never corrupt. A checkpoint is one safetensors file in a folder,
// `step-<updates, 8 digits>.safetensors`, holding every persistent buffer of the train step
// (params, buffers, optimizer state, gradient accumulators) and, in its metadata under
// `fmc.checkpoint`, a JSON record of what produced it and where the run stands (the model,
// hyperparameter overrides, the train config, the step counters, the seed, the data files
// with their hashes and the data position, the metrics at that step).
//
// Writing: to a temporary file in the same folder (created exclusively), fsynced, renamed over
// the final name, then the folder fsynced, so a crash at any moment leaves either the old set
// of checkpoints or the old set plus a complete new one (and perhaps a temporary file, which
// the next save removes). Then only the newest `keep` are kept: the new one, and the others
// with the largest steps in their names (exactly: a name may hold more digits than a double).
// Reading takes the newest checkpoint that reads and validates (its name saying the step its
// record holds), and says why any newer one was passed over.

import { closeSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { mkdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { TrainConfig } from '../ir/module.js';
import type { HostTensor } from '../ir/value.js';
import { readSafetensorsFile } from './safetensors.js';
import { writeSafetensors } from './safetensors-write.js';
import type { TrainCounters } from './trainer.js';

/** What a checkpoint records besides the tensors (the `fmc.checkpoint` metadata, as JSON). */
export interface CheckpointInfo {
  readonly format: 'fmc-checkpoint-1';
  readonly model: string;
  readonly counters: TrainCounters;
  readonly seed: number;
  readonly config: TrainConfig;
  /** Hyperparameter overrides in effect (`--set`). */
  readonly set: Readonly<Record<string, unknown>>;
  /** Anything the caller adds: data files and hashes, the data position, metrics. */
  readonly extra: Readonly<Record<string, unknown>>;
  /** ISO time of writing. */
  readonly written: string;
}

export interface Checkpoint {
  readonly path: string;
  readonly info: CheckpointInfo;
  readonly tensors: ReadonlyMap<string, HostTensor>;
}

/** A checkpoint folder or file that cannot be written or read; the message names the file. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

const NAME = /^step-(\d{8,})\.safetensors$/;
const TMP = /^\.step-\d{8,}\.safetensors\.\d+\.tmp$/;
const META = 'fmc.checkpoint';

/** The file name of the checkpoint after `updates` optimizer steps. */
export const checkpointName = (updates: number): string => `step-${String(updates).padStart(8, '0')}.safetensors`;

/** Writes a checkpoint into `dir` (created if needed) and keeps the newest `keep`; returns its path. */
export function saveCheckpoint(
  dir: string,
  tensors: ReadonlyMap<string, HostTensor>,
  info: Omit<CheckpointInfo, 'format' | 'written'>,
  keep = 3,
): string {
  if (!Number.isSafeInteger(keep) || keep < 1)
    throw new CheckpointError(`keep must be a positive integer, got ${keep}`);
  const full: CheckpointInfo = { format: 'fmc-checkpoint-1', ...info, written: new Date().toISOString() };
  const name = checkpointName(info.counters.updates);
  const path = join(dir, name);
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  const bytes = writeSafetensors(tensors, { [META]: JSON.stringify(full) });
  try {
    mkdirSync(dir, { recursive: true });
    removeStaleTemporaries(dir);
    const fd = openSync(tmp, 'wx');
    try {
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    syncDir(dir);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or renamed
    }
    throw new CheckpointError(`${path}: cannot write the checkpoint: ${message(e)}`, { cause: e });
  }
  // The one just written is kept whatever the other names say; then the newest of the others
  // up to its step. Those past it are a run this one resumed before (an abandoned future,
  // which a later --resume of the folder would pick up instead): they go first.
  const written = stepOf(name);
  const others = listCheckpoints(dir).filter((n) => n !== name);
  const past = others.filter((n) => stepOf(n) <= written);
  const old = [...others.filter((n) => stepOf(n) > written), ...past.slice(0, Math.max(0, past.length - (keep - 1)))];
  for (const n of old) unlinkSync(join(dir, n));
  if (old.length > 0) syncDir(dir);
  return path;
}

/** The checkpoint file names in `dir`, oldest first. */
export function listCheckpoints(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new CheckpointError(`${dir}: cannot list checkpoints: ${message(e)}`, { cause: e });
  }
  return names
    .filter((n) => NAME.test(n))
    .map((n) => ({ n, step: stepOf(n) }))
    .sort((a, b) => (a.step < b.step ? -1 : a.step > b.step ? 1 : 0))
    .map((e) => e.n);
}

export interface LoadedCheckpoint extends Checkpoint {
  /** Newer checkpoints that were passed over, each with why. */
  readonly skipped: readonly string[];
}

/** The newest checkpoint in `dir` (a folder of checkpoints, or one checkpoint file) that reads and validates. */
export function loadCheckpoint(dirOrFile: string): LoadedCheckpoint {
  let isDir: boolean;
  try {
    isDir = statSync(dirOrFile).isDirectory();
  } catch (e) {
    throw new CheckpointError(`${dirOrFile}: ${message(e)}`, { cause: e });
  }
  if (!isDir) return { ...readCheckpoint(dirOrFile), skipped: [] };
  const names = listCheckpoints(dirOrFile).reverse();
  if (names.length === 0) throw new CheckpointError(`${dirOrFile}: no checkpoint (step-*.safetensors) in the folder`);
  const skipped: string[] = [];
  for (const n of names) {
    try {
      return { ...readCheckpoint(join(dirOrFile, n)), skipped };
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      skipped.push(e.message);
    }
  }
  throw new CheckpointError(`${dirOrFile}: no checkpoint could be read:\n  ${skipped.join('\n  ')}`);
}

/** Reads and validates one checkpoint file. */
export function readCheckpoint(path: string): Checkpoint {
  let tensors: ReadonlyMap<string, HostTensor>;
  let metadata: Readonly<Record<string, string>>;
  try {
    const c = readSafetensorsFile(path);
    tensors = c.tensors;
    metadata = c.metadata;
  } catch (e) {
    throw new CheckpointError(`${path}: ${message(e)}`, { cause: e });
  }
  const text = metadata[META];
  if (text === undefined) throw new CheckpointError(`${path}: not an fmc checkpoint (no "${META}" metadata)`);
  let info: CheckpointInfo;
  try {
    info = JSON.parse(text) as CheckpointInfo;
  } catch (e) {
    throw new CheckpointError(`${path}: the "${META}" metadata is not JSON: ${message(e)}`);
  }
  const problem = recordProblem(info);
  if (problem) throw new CheckpointError(`${path}: the checkpoint record is malformed (${problem})`);
  const named = NAME.exec(basename(path))?.[1];
  if (named !== undefined && BigInt(named) !== BigInt(info.counters.updates))
    throw new CheckpointError(
      `${path}: the file name says step ${BigInt(named)}, its record step ${info.counters.updates} (renamed or copied?)`,
    );
  return { path, info, tensors };
}

/** What is wrong with the shape of a checkpoint record, or undefined. */
function recordProblem(info: CheckpointInfo | null): string | undefined {
  const c = info?.counters;
  const count = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
  if (
    info?.format !== 'fmc-checkpoint-1' ||
    typeof info.model !== 'string' ||
    !c ||
    !count(c.micro) ||
    !count(c.updates) ||
    !(c.skipped === undefined || (count(c.skipped) && c.skipped <= c.updates))
  )
    return 'format, model or step counters';
  const cfg = info.config as Partial<TrainConfig> | undefined;
  if (
    !isObject(cfg) ||
    !isObject(cfg.optimizer) ||
    typeof cfg.optimizer.kind !== 'string' ||
    !(count(cfg.accumulate) && cfg.accumulate! >= 1)
  )
    return 'the train config: its optimizer or accumulate';
  if (!isObject(info.extra)) return '"extra" is not an object';
  return undefined;
}

/** A JSON object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function removeStaleTemporaries(dir: string): void {
  for (const n of readdirSync(dir)) {
    if (!TMP.test(n)) continue;
    const pid = Number(/\.(\d+)\.tmp$/.exec(n)![1]);
    if (pid !== process.pid && alive(pid)) continue;
    try {
      unlinkSync(join(dir, n));
    } catch {
      // removed by someone else
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The step in a checkpoint's name, exactly (a name may hold more digits than a double). */
const stepOf = (name: string): bigint => BigInt(NAME.exec(name)![1]!);
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
