// Benchmark: weight-only quantized GEMV at batch 1 (x[1, K] @ W[N, K].T, a Linear without
// bias) on the C target, f32 weights against int8 (per output channel) and int4 (groups of
// 128) dequantized inside the GEMM. The three compiled models run alternately in one
// process on the same input; the ratios are f32 median / quantized median (higher: faster).
//
//   node dist/bench/quantize.js [--k 4096] [--n 4096] [--runs 30] [--threads 2] [--group 128]

import { compile } from '../src/api/compile.js';
import { parseQuantSpec } from '../src/ir/quantize.js';
import type { QuantRule } from '../src/passes/pass.js';
import { Tensor } from '../src/runtime/tensor.js';
import { flags, positive, table, writeJson } from './common.js';

const source = (k: number, n: number): string => `import { Linear } from "std/nn"
model Gemv(k = ${k}, n = ${n}) {
  fc = Linear(k, n, bias = false)
  fn forward(x: f32[B, k]) -> (y: f32[B, n]) {
    return fc(x)
  }
}
`;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  const f = flags({ k: '4096', n: '4096', runs: '30', warmup: '3', threads: '2', group: '128' });
  const [K, N, runs, threads] = (['k', 'n', 'runs', 'threads'] as const).map((k) => positive(k, f[k]!)) as [
    number,
    number,
    number,
    number,
  ];
  const rule = (spec: string): QuantRule[] => {
    const s = spec === 'none' ? 'none' : parseQuantSpec(spec);
    if (typeof s === 'string' && s !== 'none') throw new Error(s);
    return [{ path: 'all', spec: s }];
  };
  const variants = [
    ['f32', 'none', 4 * K * N],
    ['int8', 'int8', K * N + 4 * N],
    [`int4 g${f.group}`, `int4:${f.group}`, (K * N) / 2 + (4 * K * N) / Number(f.group)],
  ] as const;
  const models = variants.map(([, spec]) =>
    compile(source(K, N), { isPath: false, threads, quantize: rule(spec), seed: 1 }),
  );
  const x = new Tensor('f32', Float32Array.from(Array.from({ length: K }, (_, i) => Math.sin(i))), [1, K]);
  const times: number[][] = variants.map(() => []);
  for (let r = -Number(f.warmup); r < runs; r++)
    models.forEach((m, i) => {
      const t0 = performance.now();
      m.run({ x });
      if (r >= 0) times[i]!.push(performance.now() - t0);
    });
  const base = median(times[0]!);
  const rows = variants.map(([name, , bytes], i) => {
    const ms = median(times[i]!);
    return [
      name,
      ms.toFixed(3),
      `${(bytes / 2 ** 20).toFixed(1)} MiB`,
      `${(bytes / 1e6 / ms).toFixed(1)} GB/s`,
      `${(base / ms).toFixed(2)}×`,
    ];
  });
  console.log(`GEMV 1×${K} @ ${K}×${N}, ${threads} threads, median of ${runs} alternating runs`);
  console.log(table(['weights', 'ms', 'weight bytes', 'weight GB/s', 'vs f32'], rows));
  const file = writeJson('quantize.json', { when: new Date().toISOString(), K, N, threads, runs, rows });
  console.log(`wrote ${file}`);
}

main();
