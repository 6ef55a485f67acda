// What `fmc train` reports while it runs: a progress line on a terminal (step, loss,
// throughput, ETA), one JSON line per step otherwise, the metrics log (`metrics.jsonl`, one
// JSON object per line, appended as the run goes), and the loss curve drawn from that log.

import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Io } from './io.js';
import { htmlPage, parseMetrics, renderLossCurve } from './plot.js';

/** One update's numbers. */
export interface StepRecord {
  readonly step: number;
  readonly loss: number;
  readonly lr: number;
  readonly grad_norm: number;
  readonly samples_per_s: number;
  readonly epoch: number;
  /** With `loss_scale` set: the scale (for `dynamic`, after this step). */
  readonly loss_scale?: number;
  /** With `loss_scale = dynamic`: whether the update was skipped (a gradient was Inf or NaN). */
  readonly skipped?: boolean;
  /** With gradual pruning, steps after which the masks were updated: the share of the masked weights kept. */
  readonly density?: number;
}

/** One evaluation's numbers. */
export interface EvalRecord {
  readonly step: number;
  readonly val_loss: number;
  readonly val_accuracy?: number;
}

/**
 * metrics.jsonl in the output folder. On resume, lines past the checkpoint's step (written by
 * the run that was stopped after it) are dropped first, so the log reads as one run.
 */
export class MetricsLog {
  readonly file: string;

  constructor(dir: string, resumedAt?: number) {
    this.file = join(dir, 'metrics.jsonl');
    if (resumedAt === undefined) writeFileSync(this.file, '');
    else if (existsSync(this.file)) {
      const kept = readFileSync(this.file, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '' && stepOf(line) <= resumedAt);
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, kept.map((l) => `${l}\n`).join(''));
      renameSync(tmp, this.file);
    }
  }

  write(record: StepRecord | EvalRecord): void {
    appendFileSync(this.file, `${JSON.stringify(record)}\n`);
  }

  /** Draws the train and validation loss to loss.svg and loss.html next to the log. */
  async plot(title: string): Promise<string[]> {
    const text = readFileSync(this.file, 'utf8');
    if (!/"(val_)?loss"/.test(text)) return [];
    const points = parseMetrics(text, this.file);
    const svg = await renderLossCurve(points, { title, log: points.every((p) => p.loss > 0) }, this.file);
    const dir = join(this.file, '..');
    writeFileSync(join(dir, 'loss.svg'), svg);
    writeFileSync(join(dir, 'loss.html'), htmlPage(svg, title));
    return [join(dir, 'loss.svg'), join(dir, 'loss.html')];
  }
}

function stepOf(line: string): number {
  try {
    const v = (JSON.parse(line) as { step?: unknown }).step;
    return typeof v === 'number' ? v : Infinity;
  } catch {
    return Infinity;
  }
}

/** Shows progress: a status line on a terminal, else one JSON line per step on stdout. */
export class Progress {
  private readonly start = performance.now();
  private readonly startStep: number;

  constructor(
    private readonly io: Io,
    private readonly total: number,
    from: number,
    private readonly json: boolean,
  ) {
    this.startStep = from;
  }

  step(r: StepRecord): void {
    if (this.json || !this.io.progress) {
      this.io.out(`${JSON.stringify(r)}\n`);
      return;
    }
    const done = r.step - this.startStep;
    const secs = (performance.now() - this.start) / 1000;
    const eta = done > 0 ? (secs / done) * (this.total - r.step) : NaN;
    const width = 20;
    const filled = Math.round((width * r.step) / this.total);
    const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}`;
    this.io.progress(
      `step ${r.step}/${this.total} [${bar}] loss ${r.loss.toFixed(4)} | ` +
        `${Math.round(r.samples_per_s).toLocaleString('en-US')} samples/s | ETA ${duration(eta)}`,
    );
  }

  /** A line that stays (evaluations, checkpoints): clears the status line first. */
  note(text: string, record?: EvalRecord): void {
    if (this.json || !this.io.progress) {
      if (record) this.io.out(`${JSON.stringify(record)}\n`);
      else this.io.err(`fmc: ${text}\n`);
      return;
    }
    this.io.progress('');
    this.io.err(`fmc: ${text}\n`);
  }

  done(): void {
    this.io.progress?.('');
  }
}

/** `1h02m`, `3m05s`, `12s`. */
export function duration(secs: number): string {
  if (!Number.isFinite(secs)) return '?';
  if (secs < 10) return `${secs.toFixed(1)}s`;
  const s = Math.round(secs);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}
