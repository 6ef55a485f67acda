// `fmc tune FILE [--dims ...]`: measures a few GEMM schedules (cache blocks, M split, register
// tile) on this machine for every GEMM kernel of a model function at the given dims, and
// stores the best per (CPU, kernel shape) in the tuning cache (src/runtime/tune-cache.ts),
// which compiled models then use. Each candidate compiles the whole function with every GEMM
// on that schedule; the runs alternate between candidates (so they see the same machine
// noise) and each GEMM kernel's launches are timed per run; per shape, the candidate with the
// least median time wins.

import { generate, buildExecutable, weightBuffers } from '../runtime/compile.js';
import { type GemmSchedule, SCHEDULES, hostSchedule } from '../kernels/schedule.js';
import { writeTuned } from '../runtime/tune-cache.js';
import { fromHost } from '../runtime/tensor.js';
import { benchDims, benchInputs } from './bench-measure.js';
import { EXIT, type Io } from './io.js';
import { CliError, type ModelOptions, parseDims, parseSeed, parseThreads, warnUnusedDims } from './model.js';
import { compileForCli } from './run-c.js';

export interface TuneOptions extends ModelOptions {
  readonly runs?: string;
  readonly threads?: string;
  readonly dryRun?: boolean;
}

/**
 * The deepest K block tried: the micro-kernel restarts its sums every MMA_CHUNK (512) k, and
 * deeper blocks outgrow L2 (A's block is MC × kcMax floats per thread: 2 MiB at KC 2048).
 */
const KC_LIMIT = 1024;

/** The schedules tried: the default, then one change each (blocks halved and doubled, the M split, the other tile). */
export function candidates(s: GemmSchedule): { name: string; schedule: GemmSchedule }[] {
  const roundTo = (v: number, m: number): number => Math.max(m, Math.round(v / m) * m);
  const out: { name: string; schedule: GemmSchedule }[] = [{ name: 'default', schedule: s }];
  const add = (name: string, change: Partial<GemmSchedule>): void => {
    out.push({ name, schedule: { ...s, ...change } });
  };
  // At the limit (AVX-512's 1024), a quarter instead of the double.
  const kcOther = s.KC * 2 <= KC_LIMIT ? s.KC * 2 : s.KC / 4;
  add(`KC=${kcOther}`, { KC: kcOther });
  add(`KC=${s.KC / 2}`, { KC: s.KC / 2 });
  add(`NC=${s.NC * 2}`, { NC: s.NC * 2 });
  add(`NC=${roundTo(s.NC / 2, s.NR)}`, { NC: roundTo(s.NC / 2, s.NR) });
  add(`MC=${roundTo(s.MC / 2, s.MR)}`, { MC: roundTo(s.MC / 2, s.MR) });
  add('MSPLIT=2', { MSPLIT: 2 });
  add('MSPLIT=8', { MSPLIT: 8 });
  if (s.MR === SCHEDULES.avx512.MR && s.NR === SCHEDULES.avx512.NR) add('tile 6×16', SCHEDULES.avx2);
  return out;
}

function count(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 10_000)
    throw new CliError(`--${flag}: expected an integer from 1 to 10000, found \`${text}\``, EXIT.usage);
  return n;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function tuneCommand(io: Io, file: string, opts: TuneOptions): Promise<number> {
  const runs = count('runs', opts.runs, 7);
  const threads = parseThreads(opts.threads) ?? 2;
  const given = parseDims(opts.dims);
  // An empty run takes no time: every candidate would "measure" 0 ms and one be stored as best.
  for (const [name, size] of given)
    if (size === 0)
      throw new CliError(
        `--dims ${name}=0: fmc tune times runs at these sizes, and an empty one times nothing`,
        EXIT.usage,
      );
  const seed = parseSeed(opts.seed);
  const compiled = compileForCli(io, file, { ...opts, seed, dims: given, threads });
  const m = compiled.modules[0]!;
  warnUnusedDims(io, m.graph, given);
  const { dims } = benchDims(m.graph, given);
  const inputs = Object.fromEntries([...benchInputs(m.graph, dims, seed)].map(([k, v]) => [k, fromHost(v)]));
  const weights = weightBuffers(compiled.weights);
  const tried = candidates(hostSchedule()).map((c, i) => {
    io.progress?.(`compiling candidate ${i + 1} (${c.name})`);
    // No tuned entry applies while measuring: every GEMM gets this candidate.
    const fn = generate(m, { gemm: c.schedule });
    const exe = buildExecutable(fn, weights, { threads });
    const shapes = fn.plan.launches.map((l) => fn.plan.kernels[l.kernel]!.schedule.shape);
    return { ...c, exe, shapes, times: new Map<string, number[]>() };
  });
  const keys = [...new Set(tried[0]!.shapes.filter((s): s is string => typeof s === 'string'))];
  if (keys.length === 0) {
    io.out(`${m.graph.name}: no GEMM kernels to tune\n`);
    return EXIT.ok;
  }
  const dimText = [...dims].map(([k, v]) => `${k}=${v}`).join(',');
  for (let r = 0; r < runs + 2; r++) {
    io.progress?.(`run ${r + 1} of ${runs + 2}`);
    for (const c of tried) {
      const timings = new Float64Array(c.shapes.length);
      c.exe.run(inputs, { timings });
      if (r < 2) continue; // warm-up (weights packed, caches filled)
      const per = new Map<string, number>();
      c.shapes.forEach((s, i) => typeof s === 'string' && per.set(s, (per.get(s) ?? 0) + timings[i]! / 1e6));
      for (const [s, ms] of per) c.times.set(s, [...(c.times.get(s) ?? []), ms]);
    }
  }
  const lines = [`${m.graph.name} at ${dimText}, ${threads} threads, median of ${runs} runs per candidate:`];
  for (const key of keys) {
    const ms = tried.map((c) => median(c.times.get(key) ?? [Infinity]));
    const best = ms.indexOf(Math.min(...ms));
    const measured = `${dimText}; ${tried.map((c, i) => `${c.name} ${ms[i]!.toFixed(3)} ms`).join(', ')}`;
    if (!opts.dryRun) writeTuned(key, tried[best]!.schedule, measured);
    lines.push(`  ${key}: default ${ms[0]!.toFixed(3)} ms, best ${tried[best]!.name} ${ms[best]!.toFixed(3)} ms`);
  }
  lines.push(opts.dryRun ? '(--dry-run: nothing stored)' : `stored ${keys.length} entries in the tuning cache`);
  io.out(`${lines.join('\n')}\n`);
  return EXIT.ok;
}
