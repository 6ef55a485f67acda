// Benchmark: int8 activations. One Linear without bias (x[M, K] @ W[N, K].T) on the C target,
// three ways: f32 weights, weight-only int8 (dequantized inside the GEMM, f32 products), and
// int8 × int8 with i32 sums (calibrated activations: src/kernels/gemm-int8.ts), at M = 128 and
// at batch 1. The compiled models run alternately in one process on the same input; the ratio
// is the f32 median over the variant's (higher: faster).
//
//   node dist/bench/int8.js [--k 4096] [--n 4096] [--m 128] [--runs 20] [--threads 2]

import { calibrate } from '../src/api/calibrate.js';
import { compile } from '../src/api/compile.js';
import { hostTensor } from '../src/ir/value.js';
import type { QuantRule } from '../src/passes/pass.js';
import { Tensor } from '../src/runtime/tensor.js';
import { flags, linearSource as source, median, positive, table, writeJson } from './common.js';

const INT8: QuantRule[] = [{ path: 'all', spec: { dtype: 'int8', symmetric: true } }];

function main(): void {
  const f = flags({ k: '4096', n: '4096', m: '128', runs: '20', warmup: '2', threads: '2' });
  const [K, N, M, runs, threads] = (['k', 'n', 'm', 'runs', 'threads'] as const).map((k) => positive(k, f[k]!)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const text = source(K, N);
  const input = (m: number): Float32Array => Float32Array.from({ length: m * K }, (_, i) => Math.sin(i * 0.7));
  const calibration = calibrate(text, [new Map([['x', hostTensor('f32', [M, K], Float64Array.from(input(M)))]])], {
    isPath: false,
    seed: 1,
    quantize: INT8,
  });
  const opts = { isPath: false, threads, seed: 1 } as const;
  const variants = [
    ['f32', compile(text, { ...opts, quantize: [{ path: 'all', spec: 'none' }] })],
    ['int8 weights', compile(text, { ...opts, quantize: INT8 })],
    ['int8 × int8', compile(text, { ...opts, quantize: INT8, calibration: { file: 'bench', calibration } })],
  ] as const;
  const rows: string[][] = [];
  for (const m of [M, 1]) {
    const x = new Tensor('f32', input(m), [m, K]);
    const times: number[][] = variants.map(() => []);
    for (let r = -Number(f.warmup); r < runs; r++)
      variants.forEach(([, model], i) => {
        const t0 = performance.now();
        model.run({ x });
        if (r >= 0) times[i]!.push(performance.now() - t0);
      });
    const base = median(times[0]!);
    variants.forEach(([name], i) => {
      const ms = median(times[i]!);
      rows.push([
        `${m}`,
        name,
        ms.toFixed(3),
        `${((2 * m * N * K) / 1e6 / ms).toFixed(1)}`,
        `${(base / ms).toFixed(2)}×`,
      ]);
    });
  }
  console.log(`x[M, ${K}] @ W[${N}, ${K}].T, ${threads} threads, median of ${runs} alternating runs`);
  console.log(table(['M', 'variant', 'ms', 'GOP/s', 'vs f32'], rows));
  const file = writeJson('int8.json', { when: new Date().toISOString(), K, N, M, threads, runs, rows });
  console.log(`wrote ${file}`);
}

main();
