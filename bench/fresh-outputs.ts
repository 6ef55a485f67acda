// Benchmark: what a plain `run` (no `outputs` option) pays to write a large output into fresh
// memory, and what advising it huge pages saves. The model is a language model's head,
// logits = x @ W.T (W[vocab, d]: --vocab, --d) over --m tokens, whose f32 output (--m ×
// --vocab) is tens of MiB. Three ways alternate round by round on the same input:
//   - huge: `model.run({ x })` as shipped (hostAllocate advises a fresh output of 32 MiB or
//     more MADV_HUGEPAGE: one page fault per 2 MiB);
//   - 4 KiB: the same with the advice turned off (`FMC_HUGE_PAGES=0` does this for a process;
//     here the addon's adviseHugePages is replaced by a no-op for these runs);
//   - reused: `model.run({ x }, { outputs: previous })`, no fresh memory at all.
// Medians; the ratio is the 4 KiB median over the huge one (higher: the advice saves more).
//
//   node dist/bench/fresh-outputs.js [--m 512] [--d 512] [--vocab 32000] [--runs 15] [--threads 2]

import os from 'node:os';
import { compile } from '../src/api/compile.js';
import { native } from '../src/runtime/native.js';
import { Tensor } from '../src/runtime/tensor.js';
import { flags, linearSource, median, positive, table, writeJson } from './common.js';

function main(): void {
  const f = flags({ m: '512', d: '512', vocab: '32000', runs: '15', warmup: '2', threads: '2' });
  const [M, D, V, runs, threads] = (['m', 'd', 'vocab', 'runs', 'threads'] as const).map((k) => positive(k, f[k]!)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const model = compile(linearSource(D, V), { isPath: false, threads, seed: 1 });
  const x = new Tensor(
    'f32',
    Float32Array.from({ length: M * D }, (_, i) => Math.sin(i)),
    [M, D],
  );
  const addon = native();
  const advise = addon.adviseHugePages.bind(addon);
  let previous = model.run({ x });
  const ways = {
    huge: () => model.run({ x }),
    '4 KiB': () => {
      addon.adviseHugePages = () => 0;
      try {
        return model.run({ x });
      } finally {
        addon.adviseHugePages = advise;
      }
    },
    reused: () => model.run({ x }, { outputs: previous }),
  } as const;
  const names = Object.keys(ways) as (keyof typeof ways)[];
  const times = new Map(names.map((n) => [n, [] as number[]]));
  for (let r = -Number(f.warmup); r < runs; r++)
    for (const name of r % 2 === 0 ? names : [...names].reverse()) {
      const t0 = performance.now();
      const out = ways[name]();
      const ms = performance.now() - t0;
      if (r >= 0) times.get(name)!.push(ms);
      previous = out;
    }
  const med = new Map(names.map((n) => [n, median(times.get(n)!)]));
  const gflop = (2 * M * D * V) / 1e9;
  const mib = (M * V * 4) / 2 ** 20;
  console.log(
    `logits = x @ W.T: ${M} tokens, d ${D}, vocab ${V} (output ${mib.toFixed(1)} MiB), ${threads} threads, ` +
      `median of ${runs} alternating runs, ${os.cpus()[0]?.model ?? 'unknown CPU'}`,
  );
  console.log(
    table(
      ['output memory', 'ms', 'GFLOP/s', 'vs huge'],
      names.map((n) => [
        n === 'reused' ? 'reused (outputs option)' : `fresh, ${n} pages`,
        med.get(n)!.toFixed(2),
        ((gflop / med.get(n)!) * 1e3).toFixed(1),
        `${(med.get('huge')! / med.get(n)!).toFixed(2)}×`,
      ]),
    ),
  );
  const file = writeJson('fresh-outputs.json', {
    when: new Date().toISOString(),
    cpu: os.cpus()[0]?.model,
    M,
    D,
    V,
    threads,
    runs,
    medianMs: Object.fromEntries(med),
  });
  console.log(`written ${file}`);
}

main();
