// What `run`, `inspect` and `export` share: lowering a model function with its
// diagnostics printed, `--dims` parsing and defaults, and the weights (a file or seeded).

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderDiagnostic } from '../frontend/diagnostics.js';
import { type Lowered, lowerFile } from '../frontend/lower.js';
import type { Dtype } from '../ir/dtype.js';
import type { Graph } from '../ir/graph.js';
import { initParam } from '../ir/init.js';
import type { SparseHint } from '../ir/module.js';
import { parseSparsity, pruneWeights } from '../ir/sparsity.js';
import { concreteShape } from '../ir/interp.js';
import type { HostTensor } from '../ir/value.js';
import { parseQuantName } from '../ir/quantize.js';
import { initProgress } from '../runtime/compile.js';
import { MAX_THREADS } from '../runtime/native.js';
import { readSafetensorsFile } from '../runtime/safetensors.js';
import { FileAccessError, outputTarget } from '../frontend/regular-file.js';
import { CompileError, weightsFrom } from '../api/compile.js';
import { EXIT, type Io } from './io.js';
import { splitPrecision } from './precision.js';
import { splitSet } from './set.js';

/** A user-facing failure: printed as `fmc: message`, exit code 1 (or 2 for usage). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number = EXIT.user,
  ) {
    super(message);
  }
}

export interface ModelOptions {
  readonly model?: string;
  readonly fn?: string;
  readonly dims?: string;
  readonly seed?: string;
  readonly weights?: string;
  /** `--set name=value`, repeatable: hyperparameter overrides (see parseSet). */
  readonly set?: readonly string[];
  /** `--precision f32|f16|bf16` (see parsePrecision). */
  readonly precision?: string;
  /** `--sparsity 2:4 | block=b,density=p | density=p` (see parseSparsityOption). */
  readonly sparsity?: string;
}

/** `--set` values (`['d=64']`) → overrides by name (see splitSet); a malformed one is a usage error. */
export function parseSet(list: readonly string[] | undefined, flag = '--set'): Record<string, string> | undefined {
  const r = splitSet(list, flag);
  if (r.error !== undefined) throw new CliError(r.error, EXIT.usage);
  return r.set;
}

/** `--precision` as a dtype (undefined when absent); a bad value is a usage error. */
export function parsePrecision(text: string | undefined): Dtype | undefined {
  const r = splitPrecision(text);
  if (r.error !== undefined) throw new CliError(r.error, EXIT.usage);
  return r.precision;
}

/** `--sparsity` as a hint (undefined when absent); a bad value is a usage error. */
export function parseSparsityOption(text: string | undefined): SparseHint | undefined {
  if (text === undefined) return undefined;
  const h = parseSparsity(text);
  if (typeof h === 'string') throw new CliError(h, EXIT.usage);
  return h;
}

/** Lowers the chosen function; diagnostics are printed and become a CliError. */
export function lowerForCli(io: Io, file: string, opts: ModelOptions): Lowered {
  io.progress?.(`checking and lowering ${file}`);
  const r = lowerFile(file, {
    model: opts.model,
    fn: opts.fn,
    set: parseSet(opts.set),
    precision: parsePrecision(opts.precision),
    sparsity: parseSparsityOption(opts.sparsity),
  });
  io.progress?.('');
  if (r.ok) return r.lowered;
  for (const d of r.diagnostics) io.err(`${renderDiagnostic(d, (f) => r.program.source(f))}\n\n`);
  const internal = r.diagnostics.some((d) => d.code === 'FM9999');
  throw new CliError(`cannot compile ${file}`, internal ? EXIT.internal : EXIT.user);
}

const WRITE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'its folder does not exist',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a folder',
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
};

/**
 * Writes a file through a temp name and a rename; failures are a CliError naming the file.
 * A symlink is written through (the file it points at is replaced, the link stays); a folder,
 * a device, a FIFO or a socket is refused, not replaced (outputTarget).
 */
export function writeOutput(file: string, data: string | Uint8Array): void {
  let target: string;
  try {
    target = outputTarget(file);
  } catch (e) {
    if (e instanceof FileAccessError) throw new CliError(`cannot write ${file}: ${e.why}`);
    throw e;
  }
  // A fresh temp name, created exclusively: a file or link planted at it is never written through.
  const tmp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  let created = false;
  try {
    const fd = fs.openSync(tmp, 'wx', 0o644);
    created = true;
    try {
      fs.writeFileSync(fd, data);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } catch (e) {
    if (created) fs.rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const why = WRITE_ERRORS[code] ?? (e instanceof Error ? e.message : String(e));
    throw new CliError(`cannot write ${file}: ${why}`);
  }
}

/** `B=2,T=16` → a map; malformed text is a usage error. */
export function parseDims(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (!text) return out;
  for (const part of text.split(',')) {
    const m = /^\s*([A-Za-z_][\w.]*)\s*=\s*(\d+)\s*$/.exec(part);
    if (!m) throw new CliError(`--dims: expected NAME=SIZE[,NAME=SIZE...], found \`${part}\``, EXIT.usage);
    const n = Number(m[2]);
    if (!Number.isSafeInteger(n)) throw new CliError(`--dims: ${m[1]} is too large`, EXIT.usage);
    if (out.has(m[1]!)) throw new CliError(`--dims: ${m[1]} is given twice`, EXIT.usage);
    out.set(m[1]!, n);
  }
  return out;
}

export function parseSeed(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) > 2 ** 32 - 1)
    throw new CliError(`--seed: expected an integer from 0 to 4294967295, found \`${text}\``, EXIT.usage);
  return Number(text);
}

/** `--threads N` (undefined when absent): an integer from 1 to MAX_THREADS, the runtime's bound; else a usage error. */
export function parseThreads(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_THREADS)
    throw new CliError(`--threads: expected an integer from 1 to ${MAX_THREADS}, found \`${text}\``, EXIT.usage);
  return n;
}

/** The most elements the reference interpreter takes in inputs and weights (2 GiB as float64). */
export const MAX_ELEMENTS = 2 ** 28;

/** Refuses dims whose inputs and weights would not fit the reference interpreter. */
export function checkSize(l: Lowered, dims: ReadonlyMap<string, number>): void {
  let total = 0;
  const shapes = [...l.graph.inputs.map((n) => n.args.shape), ...l.params.map((p) => p.shape)];
  for (const s of shapes) total += concreteShape(s, dims).reduce((a, b) => a * b, 1);
  if (total > MAX_ELEMENTS)
    throw new CliError(
      `the inputs and weights at ${[...dims].map(([k, v]) => `${k}=${v}`).join(', ') || 'these sizes'} hold ${total.toLocaleString('en-US')} values, more than the reference interpreter takes (${MAX_ELEMENTS.toLocaleString('en-US')}); use smaller --dims`,
    );
}

/** Size a dim gets when `--dims` does not give it: 2 for a batch (`B`, `N`), 16 otherwise. */
export const defaultDim = (name: string): number => (name === 'B' || name === 'N' ? 2 : 16);

/** Warns about `--dims` names the graph does not use (one command line serves several models). */
export function warnUnusedDims(io: Io, g: Graph, given: ReadonlyMap<string, number>): void {
  for (const name of given.keys())
    if (!g.dims.includes(name))
      io.err(
        `fmc: warning: --dims ${name}: \`${g.name}\` has no dim named ${name} (it uses ${g.dims.join(', ') || 'none'})\n`,
      );
}

/** The given dims plus defaults for the graph's other dims (with a note saying so). */
export function withDefaults(io: Io, g: Graph, given: ReadonlyMap<string, number>, quiet = false): Map<string, number> {
  const dims = new Map(given);
  const defaulted: string[] = [];
  for (const d of g.dims) {
    if (dims.has(d)) continue;
    dims.set(d, defaultDim(d));
    defaulted.push(`${d}=${defaultDim(d)}`);
  }
  if (defaulted.length > 0 && !quiet) io.err(`fmc: note: ${defaulted.join(', ')} by default (set with --dims)\n`);
  return dims;
}

/** Param values: from a safetensors file (checked against the model) or seeded initializers. */
export function loadParams(
  l: Lowered,
  dims: ReadonlyMap<string, number>,
  seed: number,
  weights?: string,
  io?: Io,
): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  if (!weights) {
    const tick = initProgress(l.params, dims, io?.progress);
    l.params.forEach((p, i) => (tick(i), out.set(p.path, initParam(p, dims, seed))));
    pruneWeights(out, l);
    return out;
  }
  const file = readSafetensorsFile(weights).tensors;
  const known = new Set(l.params.map((p) => p.path));
  for (const k of file.keys())
    if (!known.has(k) && !known.has(parseQuantName(k)?.path ?? ''))
      io?.err(`fmc: warning: ${weights}: tensor "${k}" is not a param of ${l.model}; ignored\n`);
  try {
    const read = weightsFrom(l, file, weights, dims);
    pruneWeights(read, l);
    return read;
  } catch (e) {
    if (e instanceof CompileError) throw new CliError(e.message);
    throw e;
  }
}
