// Benchmark: sliding-window attention (window W = 256) against the sequence length T, per
// token. One causal MultiHeadAttention layer (d 256, 4 heads of 64) with std's sliding-window
// mask, batch 1, compiled by fmc twice: with attention as one flash-style kernel (whose key
// tiles stop at the window, so the time per token should stay flat in T) and with attention
// fusion off (FMC_ATTENTION=0: the T×T scores are materialized, so the time per token grows
// with T); and ONNX Runtime on the exported graph (which materializes T×T too). The unfused
// peers are capped (--max-unfused, --max-ort): at T = 8192 each T×T buffer is 256 MiB.
// Runs alternate between the peers (rotating who goes first); medians.
//
//   node dist/bench/swa.js [--lengths 512,1024,2048,4096,8192] [--runs 5] [--threads 2]
//                          [--window 256] [--max-unfused 4096] [--max-ort 2048]

import * as os from 'node:os';
import { type CompiledModel, compileModel } from '../src/api/compile.js';
import { benchInputs } from '../src/cli/bench-measure.js';
import { openOrt } from '../src/cli/bench-ort.js';
import { fromHost, type Tensor } from '../src/runtime/tensor.js';
import { flags, positive, table, writeJson } from './common.js';

export const SWA_SOURCE = `import { MultiHeadAttention } from "std/attention"

model SlidingWindowAttention(d = 256, heads = 4, window = 256) {
  attn = MultiHeadAttention(d, heads, causal = true, window = window, bias = false)

  fn forward(x: f32[B, T, d]) -> f32[B, T, d] {
    return attn(x)
  }
}
`;

function compileWith(attention: boolean, threads: number, window: number): CompiledModel {
  const before = process.env.FMC_ATTENTION;
  if (attention) delete process.env.FMC_ATTENTION;
  else process.env.FMC_ATTENTION = '0';
  try {
    return compileModel(SWA_SOURCE, { fns: ['forward'], seed: 0, threads, set: { window } });
  } finally {
    if (before === undefined) delete process.env.FMC_ATTENTION;
    else process.env.FMC_ATTENTION = before;
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};

/** Largest |a - b| over the first output. */
function maxDiff(a: Record<string, Tensor>, b: Record<string, { data: unknown }>): number {
  const name = Object.keys(a)[0]!;
  const x = a[name]!.data as ArrayLike<number>;
  const y = b[name]!.data as ArrayLike<number>;
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  return worst;
}

async function main(): Promise<void> {
  const f = flags({
    lengths: '512,1024,2048,4096,8192',
    runs: '5',
    threads: '2',
    window: '256',
    'max-unfused': '4096',
    'max-ort': '2048',
  });
  const runs = positive('runs', f.runs!);
  const threads = positive('threads', f.threads!);
  const window = positive('window', f.window!);
  const lengths = f.lengths!.split(',').map((t) => positive('lengths', t));
  const fused = compileWith(true, threads, window);
  const unfused = compileWith(false, threads, window);
  const kernels = (c: CompiledModel) => c.functions[0]!.plan.kernels.map((k) => k.name.replace(/^k\d+_/, ''));
  if (!kernels(fused).includes('attention') || kernels(unfused).includes('attention'))
    throw new Error('expected one attention kernel with fusion on and none with it off');
  const g = fused.lowered[0]!.graph;
  const rows: string[][] = [];
  const results = [];
  for (const T of lengths) {
    process.stderr.write(`T=${T}...\n`);
    const dims = new Map([
      ['B', 1],
      ['T', T],
    ]);
    const inputs = benchInputs(g, dims, 0);
    const tensors = Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)]));
    const bound = { B: 1, T };
    const peers: { name: string; run: () => Promise<Record<string, { data: unknown }>> }[] = [];
    const outs = new Map<string, Record<string, { data: unknown }>>();
    for (const [name, c, cap] of [
      ['fused', fused, Infinity],
      ['unfused', unfused, Number(f['max-unfused'])],
    ] as const) {
      if (T > cap) continue;
      const exe = c.model.executable('forward');
      exe.setThreads(threads);
      peers.push({ name, run: async () => exe.run(tensors, { dims: bound }) });
    }
    const ort = T <= Number(f['max-ort']) ? await openOrt(g, fused.weights, inputs, threads) : undefined;
    if (ort) peers.push({ name: 'ort', run: () => ort.run() });
    const times = new Map(peers.map((p) => [p.name, [] as number[]]));
    try {
      for (const p of peers) outs.set(p.name, await p.run()); // warm-up
      for (let r = 0; r < runs; r++)
        for (let k = 0; k < peers.length; k++) {
          const p = peers[(k + r) % peers.length]!;
          const t0 = performance.now();
          outs.set(p.name, await p.run());
          times.get(p.name)!.push(performance.now() - t0);
        }
    } finally {
      await ort?.release();
    }
    const ms = (name: string): number | undefined => (times.has(name) ? median(times.get(name)!) : undefined);
    const cell = (x: number | undefined, scale = 1): string => (x === undefined ? '-' : (x * scale).toFixed(2));
    const fusedOut = outs.get('fused') as Record<string, Tensor>;
    const diffs = [...outs.keys()].filter((n) => n !== 'fused').map((n) => maxDiff(fusedOut, outs.get(n)!));
    const worst = diffs.length ? Math.max(...diffs) : undefined;
    const [a, b, c] = [ms('fused'), ms('unfused'), ms('ort')];
    results.push({ T, window, fusedMs: a, unfusedMs: b, ortMs: c, maxDiff: worst });
    rows.push([
      String(T),
      cell(a),
      cell(a, 1000 / T),
      cell(b),
      cell(b, 1000 / T),
      cell(c),
      cell(c, 1000 / T),
      b !== undefined && a !== undefined ? `${(b / a).toFixed(2)}×` : '-',
      worst === undefined ? '-' : worst.toExponential(1),
    ]);
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `sliding-window attention (d 256, 4 heads of 64, W ${window}, batch 1), ${threads} threads, ${cpu}; median of ${runs} alternating runs`,
  );
  console.log(
    table(
      ['T', 'fused ms', 'µs/token', 'unfused ms', 'µs/token', 'ORT ms', 'µs/token', 'unfused/fused', 'max |Δ|'],
      rows,
    ),
  );
  console.log(
    'fused: attention as one kernel; unfused: FMC_ATTENTION=0 (T×T scores materialized); ORT: the exported graph',
  );
  console.log(`wrote ${writeJson('swa.json', { when: new Date().toISOString(), threads, cpu, results })}`);
}

await main();
