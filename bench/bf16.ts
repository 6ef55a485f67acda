// Benchmark: bf16 products on C. One Linear without bias (x[M, K] @ W[N, K].T) compiled five
// ways: f32; `--precision bf16` through the widening GEMM (FMC_BF16_DOT=0: operands rounded to
// bf16 and held in f32, B packed as f32 or, at batch 1, the f32 master weight read and rounded
// per use); `--precision bf16` through the pair-interleaved bf16 kernel (src/kernels/gemm-bf16.ts)
// as this CPU builds it (AMX tiles for the GEMM and vdpbf16ps for the GEMV where it has them),
// without AMX (-DFMC_NO_AMX: vdpbf16ps), and with its portable loop (-DFMC_NO_AVX512BF16).
// At M = 128 and at batch 1; the compiled models run alternately
// in one process on the same input, and each ratio is the f32 median over the variant's
// (higher: faster). `--clock cpu` times each run by the process's CPU time (user + system)
// instead of the wall clock: on a machine shared with other jobs, a run's wall time counts the
// time other processes held the cores; with `--threads 1` its CPU time does not.
//
//   node dist/bench/bf16.js [--k 4096] [--n 4096] [--m 128] [--runs 20] [--threads 2] [--clock wall|cpu]

import * as os from 'node:os';
import { compile } from '../src/api/compile.js';
import { C_FLAGS } from '../src/runtime/cache.js';
import { Tensor } from '../src/runtime/tensor.js';
import { flags, linearSource as source, median, positive, table, writeJson } from './common.js';

/** Compiles with FMC_BF16_DOT set to `dot` for the lowering (the switch gemm-bf16.ts reads). */
function compileWith(dot: '0' | '1', text: string, opts: Parameters<typeof compile>[1]): ReturnType<typeof compile> {
  const before = process.env.FMC_BF16_DOT;
  process.env.FMC_BF16_DOT = dot;
  try {
    return compile(text, opts);
  } finally {
    if (before === undefined) delete process.env.FMC_BF16_DOT;
    else process.env.FMC_BF16_DOT = before;
  }
}

function main(): void {
  const f = flags({ k: '4096', n: '4096', m: '128', runs: '20', warmup: '2', threads: '2', clock: 'wall' });
  if (f.clock !== 'wall' && f.clock !== 'cpu') {
    console.error(`--clock: expected wall or cpu, found ${f.clock}`);
    process.exit(2);
  }
  const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const clock = f.clock === 'cpu' ? cpuMs : () => performance.now();
  const num = (name: string): number => positive(name, f[name]!);
  const [K, N, M, runs, threads] = [num('k'), num('n'), num('m'), num('runs'), num('threads')];
  const text = source(K, N);
  const opts = { isPath: false, threads, seed: 1 } as const;
  const bf16 = { ...opts, precision: 'bf16' } as const;
  const variants = [
    ['f32', compileWith('1', text, opts)],
    ['bf16 widening', compileWith('0', text, bf16)],
    ['bf16 kernel', compileWith('1', text, bf16)],
    ['bf16 no AMX', compileWith('1', text, { ...bf16, flags: [...C_FLAGS, '-DFMC_NO_AMX'] })],
    ['bf16 portable', compileWith('1', text, { ...bf16, flags: [...C_FLAGS, '-DFMC_NO_AVX512BF16'] })],
  ] as const;
  const rows: string[][] = [];
  for (const m of [M, 1]) {
    const x = new Tensor(
      'f32',
      Float32Array.from({ length: m * K }, (_, i) => Math.sin(i * 0.7)),
      [m, K],
    );
    const times: number[][] = variants.map(() => []);
    for (let r = -Number(f.warmup); r < runs; r++)
      variants.forEach(([, model], i) => {
        const t0 = clock();
        model.run({ x });
        if (r >= 0) times[i]!.push(clock() - t0);
      });
    const [base, widening] = [median(times[0]!), median(times[1]!)];
    variants.forEach(([name], i) => {
      const ms = median(times[i]!);
      const gflops = (2 * m * N * K) / 1e6 / ms;
      rows.push([
        `${m}`,
        name,
        ms.toFixed(3),
        gflops.toFixed(1),
        `${(base / ms).toFixed(2)}×`,
        `${(widening / ms).toFixed(2)}×`,
      ]);
    });
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `x[M, ${K}] @ W[${N}, ${K}].T, ${threads} threads, ${cpu}, median of ${runs} alternating runs (${f.clock} clock)`,
  );
  console.log(table(['M', 'variant', 'ms', 'GFLOP/s', 'vs f32', 'vs widening'], rows));
  const file = writeJson('bf16.json', {
    when: new Date().toISOString(),
    cpu,
    K,
    N,
    M,
    threads,
    runs,
    clock: f.clock,
    rows,
  });
  console.log(`wrote ${file}`);
}

main();
