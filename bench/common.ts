// What the C benchmarks (gemm.ts, models.ts) share: flag parsing, a plain-text table, the
// JSON written under bench/out/ (gitignored), and a row from the shared measuring result.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_CONTEND } from '../src/cli/bench-contend.js';
import type { BenchResult } from '../src/cli/bench-measure.js';

/** The repository root (this file runs as dist/bench/common.js). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `--name value` flags with defaults; `--flag` alone means 'true'. Unknown flags stop the script. */
export function flags(defaults: Record<string, string>): Record<string, string> {
  const out = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)$/.exec(argv[i]!);
    if (!m || !(m[1]! in defaults)) {
      console.error(
        `unknown argument ${argv[i]}; flags: ${Object.keys(defaults)
          .map((k) => `--${k}`)
          .join(' ')}`,
      );
      process.exit(2);
    }
    const next = argv[i + 1];
    out[m[1]!] = next !== undefined && !next.startsWith('--') ? (i++, next) : 'true';
  }
  return out;
}

export function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`--${name}: expected a positive integer, found ${text}`);
    process.exit(2);
  }
  return n;
}

/** `--contend N`: busy processes beside each measurement (0 to MAX_CONTEND). */
export function contendFlag(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_CONTEND) {
    console.error(`--contend: expected an integer from 0 to ${MAX_CONTEND}, found ${text}`);
    process.exit(2);
  }
  return n;
}

/** Left-aligned first column, right-aligned numbers. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: readonly string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(fmt)].join('\n');
}

export function writeJson(name: string, data: unknown): string {
  const dir = path.join(ROOT, 'bench', 'out');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return path.relative(process.cwd(), file);
}

const ms = (x: number) => (x >= 100 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));

/** fmc ms, GFLOP/s, ORT ms, GFLOP/s, ratio, agreement: the columns both scripts print. */
export const RESULT_HEADER = ['fmc ms', 'GFLOP/s', 'ORT ms', 'GFLOP/s', 'ratio', 'runs', 'agree (worst |Δ|)'];

export function resultCells(r: BenchResult): string[] {
  const a = r.agreement;
  return [
    ms(r.fmc.medianMs),
    r.fmc.gflops.toFixed(1),
    r.ort ? ms(r.ort.medianMs) : '-',
    r.ort ? r.ort.gflops.toFixed(1) : '-',
    r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : '-',
    String(r.runs),
    a ? `${a.ok ? 'ok' : 'WRONG'} (${a.problem ?? a.worstAbs.toExponential(1)})` : '-',
  ];
}

export const RATIO_NOTE = 'ratio = ORT median / fmc median: 1.00× means as fast as ONNX Runtime; higher is faster';

/** The median of `xs`. */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A model whose `forward` is one Linear without bias, `y = x @ W.T` with W[n, k] (GEMM benchmarks). */
export const linearSource = (k: number, n: number): string => `import { Linear } from "std/nn"
model Gemv(k = ${k}, n = ${n}) {
  fc = Linear(k, n, bias = false)
  fn forward(x: f32[B, k]) -> (y: f32[B, n]) {
    return fc(x)
  }
}
`;
