// `fmc plot`: metrics JSONL parsing with line-numbered errors, and the loss curve rendered by
// Vega in Node: an SVG holding both series (their legend labels), a log scale, an HTML page.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  htmlPage,
  lossCurveSpec,
  MetricsError,
  parseMetrics,
  plotCommand,
  renderLossCurve,
} from '../../src/cli/plot.js';
import type { Io } from '../../src/cli/io.js';

const dir = mkdtempSync(join(tmpdir(), 'fmc-plot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const METRICS = [
  '{"step":1,"loss":2.3,"lr":0.001}',
  '{"step":2,"loss":1.9,"lr":0.001}',
  '',
  '{"step":3,"loss":1.5}',
  '{"step":3,"val_loss":1.7}',
  '{"step":4,"loss":null,"note":"skipped"}',
  '{"step":6,"loss":1.1,"val_loss":1.4}',
].join('\n');

function capture(): Io & { text: { out: string; err: string } } {
  const text = { out: '', err: '' };
  return { text, out: (s) => void (text.out += s), err: (s) => void (text.err += s), color: false };
}

/** The text of every <text> element of an SVG. */
const texts = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);

/** Whether the tags of an XML text nest properly (an XML-ish well-formedness check). */
function wellFormed(xml: string): boolean {
  const open: string[] = [];
  for (const [, close, name, self] of xml.matchAll(/<(\/?)([A-Za-z][\w:-]*)(?:"[^"]*"|'[^']*'|[^'">])*?(\/?)>/g)) {
    if (self) continue;
    if (!close) open.push(name!);
    else if (open.pop() !== name) return false;
  }
  return open.length === 0 && !/<(?![A-Za-z/])/.test(xml.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, ''));
}

describe('parseMetrics', () => {
  it('reads train and validation losses by step, skipping blank lines, nulls and other keys', () => {
    expect(parseMetrics(METRICS, 'm.jsonl')).toEqual([
      { step: 1, series: 'train', loss: 2.3 },
      { step: 2, series: 'train', loss: 1.9 },
      { step: 3, series: 'train', loss: 1.5 },
      { step: 3, series: 'validation', loss: 1.7 },
      { step: 6, series: 'train', loss: 1.1 },
      { step: 6, series: 'validation', loss: 1.4 },
    ]);
  });

  it.each([
    ['{"step":1,"loss":2}\n{"step":2,"loss":', 'm.jsonl:2: not JSON'],
    ['{"step":1,"loss":2}\n\n[1,2]\n', 'm.jsonl:3: not a JSON object'],
    ['{"loss":2}', 'm.jsonl:1: "step" must be a number, got nothing'],
    ['{"step":"1","loss":2}', 'm.jsonl:1: "step" must be a number, got "1"'],
    ['{"step":1,"loss":"2.0"}', 'm.jsonl:1: "loss" must be a number or null, got "2.0"'],
    ['{"step":1,"lr":0.1}\n', 'm.jsonl: holds no "loss" or "val_loss" values to plot'],
  ])('rejects %j with the line number', (text, message) => {
    expect(() => parseMetrics(text, 'm.jsonl')).toThrow(MetricsError);
    expect(() => parseMetrics(text, 'm.jsonl')).toThrow(message);
  });
});

describe('renderLossCurve', () => {
  it('draws both series as an SVG with a legend entry for each', async () => {
    const points = parseMetrics(METRICS, 'm.jsonl');
    const svg = await renderLossCurve(points, { title: 'my run' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    const labels = texts(svg);
    expect(labels).toContain('train');
    expect(labels).toContain('validation');
    expect(labels).toContain('my run');
    expect(labels).toContain('step');
    expect(labels).toContain('loss');
    expect(wellFormed(svg)).toBe(true);
    expect(wellFormed(svg.replace('</g>', ''))).toBe(false);
    // Two line paths: one per series.
    expect(svg.match(/class="mark-line role-mark/g)).toHaveLength(2);
  });

  it('leaves the validation series out of the legend when there is none', async () => {
    const svg = await renderLossCurve(parseMetrics('{"step":1,"loss":2}\n{"step":2,"loss":1}', 'm'));
    expect(texts(svg)).toContain('train');
    expect(texts(svg)).not.toContain('validation');
  });

  it('uses a log scale on request, and refuses a non-positive loss there', async () => {
    expect(lossCurveSpec([], { log: true }).encoding).toMatchObject({ y: { scale: { type: 'log' } } });
    const points = parseMetrics('{"step":1,"loss":100}\n{"step":2,"loss":0.01}', 'm');
    const svg = await renderLossCurve(points, { log: true });
    expect(texts(svg)).toEqual(expect.arrayContaining(['0.01', '100']));
    const zero = parseMetrics('{"step":1,"loss":1}\n{"step":5,"val_loss":0}', 'm');
    await expect(renderLossCurve(zero, { log: true }, 'm.jsonl')).rejects.toThrow(
      'm.jsonl: step 5: validation loss 0 cannot be drawn on a log scale',
    );
  });
});

describe('plotCommand', () => {
  it('writes the SVG next to the metrics file and an HTML page on request', async () => {
    const file = join(dir, 'metrics.jsonl');
    writeFileSync(file, METRICS);
    const io = capture();
    expect(await plotCommand(io, file, {})).toBe(0);
    expect(io.text.out).toBe(`${join(dir, 'metrics.svg')}\n`);
    expect(readFileSync(join(dir, 'metrics.svg'), 'utf8')).toMatch(/^<svg[\s\S]*>validation<\/text>/);
    const html = join(dir, 'loss.html');
    expect(await plotCommand(io, file, { out: html, title: 'a <b> run' })).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>[\s\S]*<title>a &#60;b&#62; run<\/title>[\s\S]*<svg/);
    expect(htmlPage('<svg></svg>', 'x')).toContain('<body>\n<svg></svg>\n</body>');
  });

  it('exits 1 naming the file and line of a bad record', async () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, '{"step":1,"loss":2}\n{"step":2,"loss":1,}\n');
    const io = capture();
    expect(await plotCommand(io, file, {})).toBe(1);
    expect(io.text.err).toMatch(new RegExp(`^fmc: ${file}:2: not JSON: `));
    expect(await plotCommand(io, join(dir, 'none.jsonl'), {})).toBe(1);
    expect(io.text.err).toContain('none.jsonl: cannot read the file');
  });

  it('refuses an -o name that is neither .svg nor .html as a usage error, writing nothing', async () => {
    const file = join(dir, 'metrics.jsonl');
    writeFileSync(file, METRICS);
    const io = capture();
    const png = join(dir, 'loss.png');
    expect(await plotCommand(io, file, { out: png })).toBe(2);
    expect(io.text.err).toContain(`fmc: -o ${png}: the picture is written as .svg, or .html for a page`);
    expect(existsSync(png)).toBe(false);
    const upper = join(dir, 'loss.HTML');
    expect(await plotCommand(io, file, { out: upper })).toBe(0);
    expect(readFileSync(upper, 'utf8')).toMatch(/^<!doctype html>/);
  });
});
