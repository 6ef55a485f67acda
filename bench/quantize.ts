// Benchmark: weight-only quantized GEMV at batch 1 (x[1, K] @ W[N, K].T, a Linear without
// bias) on the C target, f32 weights against int8 (per output channel), int4 (groups of 128)
// dequantized inside the GEMV, and bf16 weights (a bf16 param and input: what the GEMV reads
// for a model stored in bf16). For each size the compiled models run alternately in one
// process on the same input; ratios are f32 median / other median (higher: faster). A size
// whose f32 weight exceeds the last-level cache (lscpu's L3) is the memory-bound case.
//
//   node dist/bench/quantize.js [--sizes 4096x4096,8192x8192] [--runs 31] [--threads 2] [--group 128]
//                               [--variants f32,int8,int4,bf16]

import { cpus } from 'node:os';
import { compile } from '../src/api/compile.js';
import { parseQuantSpec } from '../src/ir/quantize.js';
import type { QuantRule } from '../src/passes/pass.js';
import { Tensor } from '../src/runtime/tensor.js';
import { bf16Bits } from '../src/ir/value.js';
import { flags, positive, table, writeJson } from './common.js';

const linear = (k: number, n: number): string => `import { Linear } from "std/nn"
model Gemv(k = ${k}, n = ${n}) {
  fc = Linear(k, n, bias = false)
  fn forward(x: f32[B, k]) -> (y: f32[B, n]) {
    return fc(x)
  }
}
`;

const bf16 = (k: number, n: number): string => `model Gemv(k = ${k}, n = ${n}) {
  param w: bf16[n, k] = kaiming_uniform()
  fn forward(x: bf16[B, k]) -> (y: bf16[B, n]) {
    return einsum("bi,oi->bo", x, w)
  }
}
`;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Variant {
  readonly name: string;
  readonly source: (k: number, n: number) => string;
  readonly quantize?: string;
  readonly bytes: (k: number, n: number) => number;
  readonly input: 'f32' | 'bf16';
}

function main(): void {
  const f = flags({
    sizes: '4096x4096,8192x8192',
    runs: '31',
    warmup: '3',
    threads: '2',
    group: '128',
    variants: 'f32,int8,int4,bf16',
  });
  const [runs, threads, group] = (['runs', 'threads', 'group'] as const).map((k) => positive(k, f[k]!)) as [
    number,
    number,
    number,
  ];
  const all: Record<string, Variant> = {
    f32: { name: 'f32', source: linear, bytes: (k, n) => 4 * k * n, input: 'f32' },
    int8: { name: 'int8', source: linear, quantize: 'int8', bytes: (k, n) => k * n + 4 * n, input: 'f32' },
    int4: {
      name: `int4 g${group}`,
      source: linear,
      quantize: `int4:${group}`,
      bytes: (k, n) => (k * n) / 2 + (4 * k * n) / group,
      input: 'f32',
    },
    bf16: { name: 'bf16', source: bf16, bytes: (k, n) => 2 * k * n, input: 'bf16' },
  };
  const variants = f.variants!.split(',').map((v) => {
    const x = all[v];
    if (!x) throw new Error(`unknown variant ${v} (${Object.keys(all).join(', ')})`);
    return x;
  });
  if (variants[0]?.name !== 'f32') throw new Error('the first variant must be f32 (the ratios are against it)');
  const rule = (spec: string | undefined): QuantRule[] => {
    if (spec === undefined) return [];
    const s = parseQuantSpec(spec);
    if (typeof s === 'string') throw new Error(s);
    return [{ path: 'all', spec: s }];
  };
  const out: object[] = [];
  console.log(`${cpus()[0]?.model ?? 'unknown CPU'}, ${threads} threads, median of ${runs} alternating runs`);
  for (const size of f.sizes!.split(',')) {
    const [K, N] = size.split('x').map((d) => positive('sizes', d)) as [number, number];
    const models = variants.map((v) =>
      compile(v.source(K, N), { isPath: false, threads, quantize: rule(v.quantize), seed: 1 }),
    );
    const xs = Float32Array.from(Array.from({ length: K }, (_, i) => Math.sin(i)));
    const xb = Uint16Array.from(xs, (v) => bf16Bits(v));
    const inputs = variants.map((v) => ({
      x: v.input === 'f32' ? new Tensor('f32', xs, [1, K]) : new Tensor('bf16', xb, [1, K]),
    }));
    const times: number[][] = variants.map(() => []);
    for (let r = -Number(f.warmup); r < runs; r++)
      models.forEach((m, i) => {
        const t0 = performance.now();
        m.run(inputs[i]!);
        if (r >= 0) times[i]!.push(performance.now() - t0);
      });
    const base = median(times[0]!);
    const rows = variants.map((v, i) => {
      const ms = median(times[i]!);
      const bytes = v.bytes(K, N);
      return [
        v.name,
        ms.toFixed(3),
        `${(bytes / 2 ** 20).toFixed(1)} MiB`,
        `${(bytes / 1e6 / ms).toFixed(1)} GB/s`,
        `${(base / ms).toFixed(2)}×`,
      ];
    });
    console.log(`\nGEMV 1×${K} @ ${K}×${N}`);
    console.log(table(['weights', 'ms', 'weight bytes', 'weight GB/s', 'vs f32'], rows));
    out.push({ K, N, rows });
    models.forEach((m) => m.dispose());
  }
  const file = writeJson('quantize.json', {
    when: new Date().toISOString(),
    cpu: cpus()[0]?.model,
    threads,
    runs,
    sizes: out,
  });
  console.log(`wrote ${file}`);
}

main();
