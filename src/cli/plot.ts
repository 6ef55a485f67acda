// `fmc plot`: the loss curve of a training run. Reads a metrics JSONL file — one JSON object a
// line, `{"step": 1, "loss": 2.3, "lr": 3e-4}` for training steps and `{"step": 100, "val_loss":
// 2.1}` for validations — and writes train and validation loss against step as an SVG picture (or
// a self-contained HTML page holding it). The picture is a Vega-Lite spec rendered by Vega in
// Node with no browser and no canvas; vega is loaded only when a picture is drawn.

import type { Command } from 'commander';
import type { TopLevelSpec } from 'vega-lite';
import { FileAccessError, readRegularText } from '../frontend/regular-file.js';
import { writeOutput } from './model.js';
import { EXIT, type Io } from './io.js';

/** One loss value of a run. */
export interface MetricPoint {
  readonly step: number;
  readonly series: 'train' | 'validation';
  readonly loss: number;
}

/** A bad metrics file: `message` is `<file>:<line>: <detail>` (or `<file>: <detail>`). */
export class MetricsError extends Error {
  override readonly name = 'MetricsError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly detail: string,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${detail}`);
  }
}

export interface PlotOptions {
  /** A log-scale loss axis (every loss must then be positive). */
  readonly log?: boolean;
  readonly title?: string;
  /** The plot area in pixels; default 640 × 360. */
  readonly width?: number;
  readonly height?: number;
}

const SERIES = { loss: 'train', val_loss: 'validation' } as const;

/**
 * The loss points of a metrics JSONL text. Blank lines are skipped; every other line must be a
 * JSON object with a numeric `step`; `loss` and `val_loss`, where present, must be numbers (or
 * null: not plotted). Other keys are ignored. `file` names the text in errors.
 */
export function parseMetrics(text: string, file: string): MetricPoint[] {
  const points: MetricPoint[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const bad = (detail: string): MetricsError => new MetricsError(file, i + 1, detail);
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      throw bad(`not JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw bad('not a JSON object');
    const rec = obj as Record<string, unknown>;
    const step = rec.step;
    if (typeof step !== 'number') throw bad(`"step" must be a number, got ${JSON.stringify(step) ?? 'nothing'}`);
    for (const key of ['loss', 'val_loss'] as const) {
      const v = rec[key];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number') throw bad(`"${key}" must be a number or null, got ${JSON.stringify(v)}`);
      points.push({ step, series: SERIES[key], loss: v });
    }
  });
  if (points.length === 0) throw new MetricsError(file, undefined, 'holds no "loss" or "val_loss" values to plot');
  return points;
}

/** The Vega-Lite spec of the curves: a line per series, validation values also marked as points. */
export function lossCurveSpec(points: readonly MetricPoint[], opts: PlotOptions = {}): TopLevelSpec {
  const series = (['train', 'validation'] as const).filter((s) => points.some((p) => p.series === s));
  const encoding = {
    x: { field: 'step', type: 'quantitative', title: 'step' },
    y: {
      field: 'loss',
      type: 'quantitative',
      title: 'loss',
      // zero: false fits the axis to the losses (a log scale has no zero to include).
      scale: { type: opts.log ? 'log' : 'linear', zero: opts.log ? undefined : false },
    },
    color: { field: 'series', type: 'nominal', title: null, scale: { domain: series } },
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title === undefined ? {} : { title: opts.title }),
    width: opts.width ?? 640,
    height: opts.height ?? 360,
    background: 'white',
    data: { values: points.map((p) => ({ ...p })) },
    encoding,
    layer: [
      { mark: { type: 'line', interpolate: 'linear' }, transform: [{ filter: "datum.series === 'train'" }] },
      { mark: { type: 'line', point: true }, transform: [{ filter: "datum.series === 'validation'" }] },
    ],
  };
}

/** The loss curve as SVG text. `file` names the points' source in errors. */
export async function renderLossCurve(
  points: readonly MetricPoint[],
  opts: PlotOptions = {},
  file = 'metrics',
): Promise<string> {
  if (opts.log) {
    const p = points.find((q) => !(q.loss > 0));
    if (p)
      throw new MetricsError(
        file,
        undefined,
        `step ${p.step}: ${p.series} loss ${p.loss} cannot be drawn on a log scale`,
      );
  }
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(lossCurveSpec(points, opts)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A self-contained HTML page showing `svg`. */
export function htmlPage(svg: string, title: string): string {
  const esc = title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const head = `<head><meta charset="utf-8"><title>${esc}</title></head>`;
  return `<!doctype html>\n<html lang="en">\n${head}\n<body>\n${svg}\n</body>\n</html>\n`;
}

export interface PlotCliOptions extends PlotOptions {
  /** The output file: `.svg`, or `.html` for a page; default the metrics file with `.svg`. */
  readonly out?: string;
}

/** `fmc plot <metrics.jsonl>`: writes the picture and returns the exit code. */
export async function plotCommand(io: Io, file: string, opts: PlotCliOptions): Promise<number> {
  const out = opts.out ?? `${file.replace(/\.jsonl?$/, '')}.svg`;
  // The picture is SVG text or an HTML page around it: another name (m.png) would hold the wrong format.
  const ext = /\.(svg|html)$/i.exec(out)?.[1]?.toLowerCase();
  if (ext === undefined) {
    io.err(`fmc: -o ${out}: the picture is written as .svg, or .html for a page; give a name ending in one of them\n`);
    return EXIT.usage;
  }
  try {
    let text: string;
    try {
      text = readRegularText(file);
    } catch (e) {
      if (!(e instanceof FileAccessError)) throw e;
      throw new MetricsError(file, undefined, `cannot read the file: ${e.why}`);
    }
    const svg = await renderLossCurve(parseMetrics(text, file), opts, file);
    // As every output: through a temp file and a rename, never over a device or FIFO (writeOutput).
    writeOutput(out, ext === 'html' ? htmlPage(svg, opts.title ?? `loss: ${file}`) : svg);
  } catch (e) {
    if (!(e instanceof MetricsError)) throw e;
    io.err(`fmc: ${e.message}\n`);
    return EXIT.user;
  }
  io.out(`${out}\n`);
  return EXIT.ok;
}

/** Registers `fmc plot` on the program (main.ts calls this). */
export function addPlotCommand(program: Command, io: Io, setCode: (c: number) => void): void {
  program
    .command('plot')
    .description('draw the train and validation loss of a metrics JSONL file as an SVG (or HTML) picture')
    .argument('<metrics>', 'the metrics file: one JSON object a line, with "step" and "loss" or "val_loss"')
    .option('-o, --out <file>', 'the picture: .svg, or .html for a page (default: the metrics file with .svg)')
    .option('--log', 'a log-scale loss axis')
    .option('--title <text>', 'a title above the plot')
    .addHelpText(
      'after',
      `
Examples:
  fmc plot runs/lm/metrics.jsonl
  fmc plot --log -o loss.html runs/lm/metrics.jsonl`,
    )
    .action(async (file: string, opts: { out?: string; log?: boolean; title?: string }) => {
      setCode(await plotCommand(io, file, { ...opts, log: opts.log === true }));
    });
}
