// Benchmark: sparse GEMMs on the C target against the dense f32 GEMM, `y = x @ W.T` (a Linear
// without bias, W[N, K]), at batch 1 (the GEMV) and at M = --m rows. The block-sparse model
// prunes W to b×b blocks at --density (magnitude pruning, as `--sparsity block=b,density=p`
// does), holds it as a block table and multiplies only the kept blocks
// (src/kernels/gemm-sparse.ts); the 2:4 model (`--sparsity 2:4`) holds W as its kept values and
// 2-bit positions, read in place by the batch-1 GEMV (src/kernels/gemm-2of4.ts) and decoded
// while packing at M rows; the dense one multiplies all of W. The models run alternately in one
// process on the same input, after warm-up runs (the first run derives the sparse pointers and
// packs the dense weight); the ratio is dense median / sparse median (higher: faster).
//
//   node dist/bench/sparse.js [--k 4096] [--n 4096] [--m 128] [--block 32] [--density 0.5]
//                             [--runs 30] [--threads 2]

import { compile } from '../src/api/compile.js';
import { twoFourBytes } from '../src/ir/sparse-format.js';
import { tableBytes } from '../src/ir/sparse-table.js';
import { Tensor } from '../src/runtime/tensor.js';
import { flags, linearSource, median, positive, table, writeJson } from './common.js';

function main(): void {
  const f = flags({
    k: '4096',
    n: '4096',
    m: '128',
    block: '32',
    density: '0.5',
    runs: '30',
    warmup: '3',
    threads: '2',
  });
  const [K, N, M, block, runs, threads] = (['k', 'n', 'm', 'block', 'runs', 'threads'] as const).map((k) =>
    positive(k, f[k]!),
  ) as [number, number, number, number, number, number];
  const density = Number(f.density);
  const blocks = Math.round(density * (N / block) * (K / block));
  const hints = [undefined, { kind: 'block', block, density } as const, { kind: 'n:m', n: 2, m: 4 } as const];
  const models = hints.map((sparsity) =>
    compile(linearSource(K, N), { isPath: false, threads, seed: 1, ...(sparsity ? { sparsity } : {}) }),
  );
  const input = (rows: number): Tensor =>
    new Tensor(
      'f32',
      Float32Array.from({ length: rows * K }, (_, i) => Math.sin(i)),
      [rows, K],
    );
  const rows: string[][] = [];
  for (const m of [1, M]) {
    const x = input(m);
    const times: number[][] = [[], [], []];
    for (let r = -Number(f.warmup); r < runs; r++)
      models.forEach((model, i) => {
        const t0 = performance.now();
        model.run({ x });
        if (r >= 0) times[i]!.push(performance.now() - t0);
      });
    const [dense, sparse, twoFour] = times.map(median) as [number, number, number];
    const gflop = (2 * m * N * K) / 1e9;
    rows.push(
      [
        `dense f32, M ${m}`,
        dense.toFixed(3),
        `${((4 * N * K) / 2 ** 20).toFixed(1)} MiB`,
        ((gflop / dense) * 1e3).toFixed(1),
        '1.00×',
      ],
      [
        `${block}×${block} blocks at ${density}, M ${m}`,
        sparse.toFixed(3),
        `${(tableBytes(N, K, block, blocks) / 2 ** 20).toFixed(1)} MiB`,
        (((gflop * density) / sparse) * 1e3).toFixed(1),
        `${(dense / sparse).toFixed(2)}×`,
      ],
      [
        `2:4, M ${m}`,
        twoFour.toFixed(3),
        `${(twoFourBytes(N, K) / 2 ** 20).toFixed(1)} MiB`,
        ((gflop / 2 / twoFour) * 1e3).toFixed(1),
        `${(dense / twoFour).toFixed(2)}×`,
      ],
    );
  }
  console.log(`y = x @ W.T, W ${N}×${K}, ${threads} threads, median of ${runs} alternating runs`);
  console.log(table(['weights', 'ms', 'weight bytes', 'GFLOP/s done', 'vs dense'], rows));
  const file = writeJson('sparse.json', {
    when: new Date().toISOString(),
    K,
    N,
    M,
    block,
    density,
    threads,
    runs,
    rows,
  });
  console.log(`wrote ${file}`);
}

main();
