// Benchmark: one fp32 GEMM (a @ b) compiled by fmc for the C target against ONNX Runtime's
// MatMul on the same exported graph, both with 2 threads, timed alternately (median of 20
// runs by default), next to the machine's FMA peak on the same threads (bench/peak.ts) and
// the share of it each reaches.
//
//   node dist/bench/gemm.js [--sizes 512,1024,2048] [--runs 20] [--threads 2] [--contend 2] [--peak 0]

import { compileModel } from '../src/api/compile.js';
import { benchInputs, measure } from '../src/cli/bench-measure.js';
import { contendFlag, flags, positive, RATIO_NOTE, RESULT_HEADER, resultCells, table, writeJson } from './common.js';
import { measurePeak } from './peak.js';

/** The GEMM as a model: symbolic M, K, N, so one compiled library serves every size. */
export const GEMM_SOURCE = `model Gemm {
  fn forward(a: f32[M, K], b: f32[K, N]) -> f32[M, N] {
    return a @ b
  }
}
`;

async function main(): Promise<void> {
  const f = flags({ sizes: '1024', runs: '20', warmup: '3', threads: '2', contend: '0', peak: '1' });
  const contend = contendFlag(f.contend!);
  const sizes = f.sizes!.split(',').map((s) => positive('sizes', s));
  const runs = positive('runs', f.runs!);
  const threads = positive('threads', f.threads!);
  const warmup = Number(f.warmup);
  const t0 = performance.now();
  const compiled = compileModel(GEMM_SOURCE, { threads });
  const compileMs = performance.now() - t0;
  const g = compiled.lowered[0]!.graph;
  const peak = f.peak === '0' ? undefined : await measurePeak(threads);
  const pct = (gflops: number | undefined): string =>
    peak && gflops !== undefined ? `${((100 * gflops) / peak.gflops).toFixed(0)}%` : '-';
  console.log(
    `GEMM fp32, ${threads} threads, ${contend} busy processes beside, median of ${runs} interleaved runs; compiled in ${compileMs.toFixed(0)} ms`,
  );
  const rows: string[][] = [];
  const results = [];
  for (const n of sizes) {
    const dims = new Map([
      ['M', n],
      ['K', n],
      ['N', n],
    ]);
    process.stderr.write(`gemm ${n}³...\n`);
    const r = await measure(compiled, dims, benchInputs(g, dims, 0), {
      runs,
      warmup,
      threads,
      contend,
      vs: 'onnxruntime',
    });
    results.push({ size: n, ...r });
    rows.push([`${n}×${n}×${n}`, ...resultCells(r), pct(r.fmc.gflops), pct(r.ort?.gflops)]);
  }
  console.log(table(['M×K×N', ...RESULT_HEADER, 'fmc/peak', 'ORT/peak'], rows));
  if (peak)
    console.log(
      `FMA peak ${peak.gflops.toFixed(1)} GFLOP/s on ${peak.threads} threads (${peak.vectorBits}-bit vectors; best of 5, bench/peak.ts)`,
    );
  console.log(RATIO_NOTE);
  const file = writeJson('gemm.json', { when: new Date().toISOString(), threads, contend, compileMs, peak, results });
  console.log(`wrote ${file}`);
}

await main();
