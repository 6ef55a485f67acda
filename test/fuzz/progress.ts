// The counts of a fuzz run and its progress file (run.ts --resume DIR): a long run is done in
// pieces, each a contiguous range of seeds run by one invocation, so it can be spread over
// sessions. DIR/progress.json holds the run's seeds and options and the pieces done so far;
// it is rewritten (atomically) after every batch that extends the current piece, so a run
// that is stopped or killed loses at most the batches in flight, which the next piece runs
// again. `report` sums the pieces into the lines to paste into a note.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FailureKind, Stage } from './pipeline.js';
import type { CaseReport } from './worker.js';

export interface Counts {
  cases: number;
  graphs: number;
  /** Graphs compared on C; of them, built with the shipped flags. */
  compared: number;
  comparedShipped: number;
  comparedWgsl: number;
  wideI64: number;
  nonFinite: number;
  diagnostic: number;
  crash: number;
  hang: number;
  mismatch: number;
}

export const zeroCounts = (): Counts => ({
  cases: 0,
  graphs: 0,
  compared: 0,
  comparedShipped: 0,
  comparedWgsl: 0,
  wideI64: 0,
  nonFinite: 0,
  diagnostic: 0,
  crash: 0,
  hang: 0,
  mismatch: 0,
});

export function addCounts(to: Counts, from: Counts): void {
  for (const k of Object.keys(to) as (keyof Counts)[]) to[k] += from[k];
}

/** The counts of one case's report (its failures included). */
export function caseCounts(c: CaseReport): Counts {
  const n = zeroCounts();
  n.cases = 1;
  n.graphs = c.graphs;
  n.compared = c.compared;
  n.comparedShipped = c.shipped ? c.compared : 0;
  n.comparedWgsl = c.comparedWgsl;
  n.wideI64 = c.wideI64;
  n.nonFinite = c.nonFinite;
  for (const f of c.failures) n[f.kind]++;
  return n;
}

/** The options a run's pieces share (fixed when the progress file is created). */
export interface RunOptions {
  readonly batch: number;
  readonly cEvery: number;
  readonly wgslEvery: number;
  readonly shippedEvery: number;
}

export interface FailureNote {
  readonly seed: number;
  readonly kind: FailureKind;
  readonly stage: Stage;
  readonly fn?: string;
  readonly line: string;
}

export interface Piece {
  /** Seeds [from, to) done. */
  readonly from: number;
  to: number;
  readonly started: string;
  seconds: number;
  readonly counts: Counts;
  readonly failures: FailureNote[];
}

export interface Progress {
  readonly seed: number;
  readonly count: number;
  readonly options: RunOptions;
  readonly pieces: Piece[];
}

const FILE = 'progress.json';

export function readProgress(dir: string): Progress | undefined {
  const file = path.join(dir, FILE);
  if (!fs.existsSync(file)) return undefined;
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Progress;
  // Pieces run before WGSL integers became exact counted graphs not compared (`i32Wrap`).
  for (const piece of p.pieces) {
    const c = piece.counts as Counts & { i32Wrap?: number };
    if (c.i32Wrap !== undefined) ((c.wideI64 = c.i32Wrap), delete c.i32Wrap);
  }
  return p;
}

export function writeProgress(dir: string, p: Progress): void {
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `${FILE}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, `${JSON.stringify(p, null, 1)}\n`);
  fs.renameSync(tmp, path.join(dir, FILE));
}

/** The first seed no piece has run. */
export const nextSeed = (p: Progress): number => p.pieces.at(-1)?.to ?? p.seed;

const every = (k: number): string => (k === 1 ? 'every seed' : `every ${k}th seed`);
const flagsNote = (o: RunOptions): string =>
  o.shippedEvery === 1
    ? 'all with the shipped flags -O3 -march=native'
    : `${every(o.shippedEvery)} with the shipped flags -O3 -march=native, the others -O0`;

/** The counts in one line: what a note quotes. */
export function countsLine(n: Counts, seconds: number): string {
  return (
    `${n.cases} cases, crashes ${n.crash}, hangs ${n.hang}, mismatches ${n.mismatch}, diagnostics ${n.diagnostic}; ` +
    `${n.graphs} graphs, ${n.compared} compared on C (${n.comparedShipped} built with the shipped flags), ` +
    `${n.comparedWgsl} on WGSL (${n.wideI64} with i64 values beyond i32), ` +
    `${n.nonFinite} calls skipped as non-finite; ${seconds.toFixed(0)} s` +
    (seconds > 0 ? ` (${(n.cases / seconds).toFixed(2)} cases/s)` : '')
  );
}

/** The run's report: its seeds and options, each piece, the total. */
export function report(p: Progress): string {
  const total = zeroCounts();
  let seconds = 0;
  const lines = [
    `fuzz run of seeds ${p.seed}..${p.seed + p.count - 1}: ${nextSeed(p) - p.seed} of ${p.count} seeds done ` +
      `in ${p.pieces.length} piece(s); C on ${every(p.options.cEvery)} (${flagsNote(p.options)}), ` +
      (p.options.wgslEvery > 0 ? `WGSL on ${every(p.options.wgslEvery)}, ` : 'no WGSL, ') +
      `${p.options.batch} seeds a batch`,
  ];
  for (const [i, x] of p.pieces.entries()) {
    addCounts(total, x.counts);
    seconds += x.seconds;
    lines.push(
      `piece ${i + 1}: seeds ${x.from}..${x.to - 1} (started ${x.started}): ${countsLine(x.counts, x.seconds)}`,
    );
    for (const f of x.failures) lines.push(`  ${f.line}`);
  }
  lines.push(`total: ${countsLine(total, seconds)}`);
  return lines.join('\n');
}
