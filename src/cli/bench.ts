// `fmc bench FILE --target c|wgsl [--vs onnxruntime]`: compiles once, times runs of one function on
// seeded inputs, and prints the numbers (bench-measure.ts does the measuring, shared with the
// scripts in bench/). A mismatch with ONNX Runtime exits 1: a fast wrong answer is no result.

import { EXIT, type Io } from './io.js';
import { MAX_CONTEND } from './bench-contend.js';
import { type BenchResult, benchDims, benchInputs, measure, type Stats } from './bench-measure.js';
import { CliError, type ModelOptions, parseDims, parseSeed, parseThreads, warnUnusedDims } from './model.js';
import { compileForCli } from './run-c.js';
import { jsonText } from './run.js';
import { cliProfile } from './device-profile.js';
import { bytes } from './inspect.js';

export interface BenchOptions extends ModelOptions {
  readonly target?: string;
  readonly vs?: string;
  readonly runs?: string;
  readonly warmup?: string;
  readonly threads?: string;
  readonly contend?: string;
  readonly profile?: boolean;
  readonly json?: boolean;
  /** `--device-profile NAME|FILE` (WGSL). */
  readonly deviceProfile?: string;
}

/** A flag's integer value in [min, 100000], or a usage error naming the flag. */
function count(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > 100_000)
    throw new CliError(`--${flag}: expected an integer from ${min} to 100000, found \`${text}\``, EXIT.usage);
  return n;
}

export async function benchCommand(io: Io, file: string, opts: BenchOptions): Promise<number> {
  const target = opts.target ?? 'c';
  if (target !== 'c' && target !== 'wgsl' && target !== 'cuda')
    throw new CliError(
      `--target ${target}: fmc bench times compiled code; the targets are c, wgsl and cuda`,
      EXIT.usage,
    );
  if (target !== 'c' && opts.profile)
    throw new CliError('--profile: per-kernel times are measured on the C target only', EXIT.usage);
  if (opts.vs !== undefined && opts.vs !== 'onnxruntime')
    throw new CliError(`--vs ${opts.vs}: the peers are onnxruntime`, EXIT.usage);
  const runs = count('runs', opts.runs, 20, 1);
  const warmup = count('warmup', opts.warmup, 3, 0);
  const threads = parseThreads(opts.threads) ?? 2;
  const contend = count('contend', opts.contend, 0, 0);
  if (contend > MAX_CONTEND)
    throw new CliError(`--contend: at most ${MAX_CONTEND} busy processes, found ${contend}`, EXIT.usage);
  const given = parseDims(opts.dims);
  const seed = parseSeed(opts.seed);
  const device = await cliProfile(io, opts.deviceProfile, target);
  const t0 = performance.now();
  const compiled = compileForCli(io, file, {
    ...opts,
    target,
    seed,
    dims: given,
    threads,
    ...(device ? { device } : {}),
  });
  const compileMs = performance.now() - t0;
  const g = compiled.lowered[0]!.graph;
  warnUnusedDims(io, g, given);
  const { dims, defaulted } = benchDims(g, given);
  if (defaulted.length > 0 && !opts.json) io.err(`fmc: note: ${defaulted.join(', ')} by default (set with --dims)\n`);
  io.progress?.(`timing ${runs} runs${opts.vs ? ` (and ${runs} of ${opts.vs})` : ''}`);
  const r = await measure(compiled, dims, benchInputs(g, dims, seed), {
    runs,
    warmup,
    threads,
    contend,
    vs: opts.vs === 'onnxruntime' ? 'onnxruntime' : undefined,
    profile: opts.profile === true,
  });
  io.progress?.('');
  const model = compiled.model.name;
  if (opts.json) io.out(`${jsonText({ model, target, seed, compileMs, ...r })}\n`);
  else printBench(io, model, target, seed, compileMs, r);
  if (r.agreement && !r.agreement.ok) {
    io.err(`fmc: ${model}.${r.fn}: the outputs of fmc and onnxruntime disagree (${disagreement(r)})\n`);
    return EXIT.user;
  }
  return EXIT.ok;
}

const ms = (x: number): string => (x >= 100 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const line = (s: Stats): string =>
  `median ${ms(s.medianMs)} ms  min ${ms(s.minMs)} ms  p90 ${ms(s.p90Ms)} ms  ${s.gflops.toFixed(1)} GFLOP/s`;

function disagreement(r: BenchResult): string {
  const a = r.agreement!;
  if (a.problem) return a.problem;
  const w = a.worst!;
  return `${w.output}[${w.index}] is ${w.fmc} in fmc, ${w.ort} in onnxruntime; allowed rtol ${a.rtol}, atol ${a.atol}`;
}

/** Kernel notes are user text (block paths): one line, printable, bounded. */
const clean = (s: string): string => {
  const t = s.replace(/[\x00-\x1f\x7f]+/g, ' ');
  return t.length > 70 ? `${t.slice(0, 69)}…` : t;
};

function printBench(io: Io, model: string, target: string, seed: number, compileMs: number, r: BenchResult): void {
  const dimText = Object.entries(r.dims)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  io.out(
    `${model}.${r.fn} on ${target} (${dimText || 'no dims'}; seed ${seed}; ${r.threads} thread${r.threads > 1 ? 's' : ''};${r.contend ? ` ${r.contend} busy process${r.contend > 1 ? 'es' : ''} beside;` : ''} ${r.runs} runs after ${r.warmup} warm-up)\n`,
  );
  io.out(`  compile      ${compileMs.toFixed(0)} ms (once; cached C builds are reused)\n`);
  io.out(`  FLOPs        ${(r.flops / 1e9).toPrecision(3)} G per run\n`);
  io.out(`  weights      ${bytes(r.weightBytes)} as bound (quantized and sparse weights as stored)\n`);
  io.out(`  fmc          ${line(r.fmc)}\n`);
  if (r.ort) {
    io.out(
      `  onnxruntime  ${line(r.ort)}  (export ${r.ort.exportMs.toFixed(0)} ms, session ${r.ort.sessionMs.toFixed(0)} ms)\n`,
    );
    if (r.ort.threads !== r.threads)
      io.out(`  note         onnxruntime ran ${r.ort.threads} intra-op threads: one per core, at most\n`);
    io.out(
      `  ratio        ${r.ratio!.toFixed(2)}× (onnxruntime median / fmc median: 1.00× means as fast as ONNX Runtime; higher is faster)\n`,
    );
    const a = r.agreement!;
    io.out(
      a.ok
        ? `  agreement    ok: worst |fmc - onnxruntime| ${a.worstAbs.toExponential(2)} (rtol ${a.rtol}, atol ${a.atol})\n`
        : `  agreement    MISMATCH: ${disagreement(r)}; the timings above are of a wrong result\n`,
    );
  }
  if (r.profile) {
    const p = r.profile;
    io.out(
      `top kernels (mean of ${p.runs} profiled runs; kernels take ${ms(p.kernelMs)} ms of the ${ms(r.fmc.medianMs)} ms median run):\n`,
    );
    const w = Math.max(...p.top.map((k) => k.kernel.length));
    for (const k of p.top)
      io.out(
        `  ${k.kernel.padEnd(w)}  ${ms(k.ms).padStart(8)} ms  ${(100 * k.share).toFixed(1).padStart(5)}%  ×${k.launches}  ${clean(k.note)}\n`,
      );
  }
}
