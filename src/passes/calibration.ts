// The calibration file of int8 activations (`fmc calibrate` writes it, `--calibration` reads
// it; docs/ir.md "int8 activations"): a small JSON object
//   { "format": "fmc-calibration", "version": 1, "model": "MLP", "fn": "forward",
//     "modelHash": "<sha256 of the function's graph as lowered, printed>",
//     "method": "max" | "percentile=99.99", "batches": 8, "samples": 1024, "data": "mnist",
//     "entries": { "fc1.w": { "range": 2.81, "scale": 0.0221 } },
//     "skipped": { "fc2.w": "why it keeps f32 activations" } }
// keyed by site (src/passes/quantize-act.ts: the weight's param path, `#1` for a second
// contraction reading it). `range` is the activation's recorded range (max |x| or the
// percentile of |x|) and `scale` = fround(range / 127), the s_x the compiled graph divides by.
// The hash is of the graph before any pass, so the same model at the same hyperparameters
// matches whatever the weights, quantization rules or target; another model does not.

import { createHash } from 'node:crypto';
import type { Graph } from '../ir/graph.js';
import type { Hints } from '../ir/module.js';
import { printGraph } from '../ir/print.js';
import { FileAccessError, readRegularText } from '../frontend/regular-file.js';
import type { QuantRule } from './pass.js';
import { specsOf } from './quantize.js';
import { contractionSites } from './quantize-act.js';

export interface CalibrationEntry {
  readonly range: number;
  readonly scale: number;
}

export interface Calibration {
  readonly format: 'fmc-calibration';
  readonly version: 1;
  readonly model: string;
  readonly fn: string;
  readonly modelHash: string;
  readonly method: string;
  readonly batches: number;
  readonly samples: number;
  readonly data: string;
  readonly entries: Readonly<Record<string, CalibrationEntry>>;
  readonly skipped: Readonly<Record<string, string>>;
}

/** A calibration file that cannot be used; the message names the file. */
export class CalibrationError extends Error {
  override name = 'CalibrationError';
}

/** The hash a calibration records: sha256 of the function's graph as lowered (printed canonically). */
export const modelHash = (g: Graph): string => createHash('sha256').update(printGraph(g)).digest('hex');

/** `max` or `percentile=P` (0 < P ≤ 100), or an error message. */
export function parseMethod(text: string): { kind: 'max' } | { kind: 'percentile'; p: number } | string {
  if (text === 'max') return { kind: 'max' };
  const m = /^percentile=(\d+(?:\.\d+)?)$/.exec(text);
  const p = m ? Number(m[1]) : NaN;
  if (p > 0 && p <= 100) return { kind: 'percentile', p };
  return `unknown calibration method '${text}' (max, percentile=99.99)`;
}

/** The scale of a range: fround(range / 127). */
export const scaleOf = (range: number): number => Math.fround(range / 127);

/** Reads and checks a calibration file: its format, and every entry's range and scale finite and positive. */
export function readCalibration(file: string): Calibration {
  const bad = (why: string): CalibrationError => new CalibrationError(`${file}: ${why}`);
  let c: Record<string, unknown>;
  try {
    // Only a regular file: a FIFO would block and /dev/zero would be read without end.
    c = JSON.parse(readRegularText(file)) as Record<string, unknown>;
  } catch (e) {
    const why = e instanceof FileAccessError ? e.why : e instanceof Error ? e.message : String(e);
    throw bad(`cannot read the calibration: ${why}`);
  }
  if (typeof c !== 'object' || c === null || c.format !== 'fmc-calibration')
    throw bad('not an fmc calibration file (fmc calibrate writes them)');
  if (c.version !== 1) throw bad(`calibration version ${String(c.version)}; this fmc reads version 1`);
  for (const k of ['model', 'fn', 'modelHash', 'method', 'data'])
    if (typeof c[k] !== 'string') throw bad(`"${k}" is missing or not a string`);
  const entries = c.entries;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries))
    throw bad('"entries" is missing or not an object');
  for (const [key, e] of Object.entries(entries as Record<string, unknown>)) {
    const { range, scale } = (e ?? {}) as { range?: unknown; scale?: unknown };
    for (const [name, v] of [
      ['range', range],
      ['scale', scale],
    ] as const)
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
        throw bad(`entry '${key}': ${name} ${JSON.stringify(v ?? null)} is not a finite positive number`);
  }
  return { skipped: {}, batches: 0, samples: 0, ...c } as unknown as Calibration;
}

/**
 * Checks that `c` (read from `file`) calibrates `calibrated` (the function `c.fn` as lowered)
 * and has an entry for every int8 site of `graphs` (as lowered) under `hints` and `rules`.
 */
export function checkCalibration(
  c: Calibration,
  file: string,
  calibrated: Graph,
  graphs: readonly Graph[],
  hints: Hints,
  rules: readonly QuantRule[],
): void {
  const g = calibrated;
  const keys = [...new Set(graphs.flatMap((x) => contractionSites(x, specsOf(hints, rules)).sites.map((s) => s.key)))];
  if (c.modelHash !== modelHash(g))
    throw new CalibrationError(
      `${file}: this calibration is of another model (${c.model}.${c.fn}, model hash ${c.modelHash.slice(0, 12)}…); ` +
        `${g.name} here hashes to ${modelHash(g).slice(0, 12)}…: run fmc calibrate on this model`,
    );
  const missing = keys.filter((k) => !(k in c.entries));
  if (missing.length > 0)
    throw new CalibrationError(
      `${file}: no calibration for ${missing.map((k) => `'${k}'`).join(', ')} (calibrated under other --quantize rules?)`,
    );
}
