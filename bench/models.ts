// Benchmark: every seed model (models/*.fm) and one BERT-style encoder layer, compiled by fmc
// for the C target against ONNX Runtime on the same exported graph and weights: batch 1,
// 128 tokens for sequence models (fixed-size image models at their own resolution), 2
// threads, runs alternating between the two. Slow models get fewer runs (a time budget per
// model, at least 5 runs) so the whole table takes minutes, not hours.
// Every model computes in f32 (`--precision f32`, overriding moe_lm's `@precision(bf16)`), as
// the fp32 comparison means; `@quantize` weights stay quantized on both sides. With
// `--precision bf16`, ORT runs the exported casts too, but a router that rounds its logits to
// bf16 flips top-k choices near ties, so moe_lm's outputs can disagree where neither is wrong.
//
//   node dist/bench/models.js [--runs 20] [--threads 2] [--budget-s 20] [--only bert,encoder] [--contend 2]
//     [--set dispatch=dense,top_k=1] [--dims B=8,T=512] [--precision f32|bf16|f16|model]

import * as fs from 'node:fs';
import * as path from 'node:path';
import { benchSource } from '../src/cli/bench-measure.js';
import {
  contendFlag,
  flags,
  positive,
  RATIO_NOTE,
  RESULT_HEADER,
  resultCells,
  ROOT,
  table,
  writeJson,
} from './common.js';

/**
 * One post-norm encoder layer as models/bert.fm builds it (batch 1, 128 tokens, d 256, 4
 * heads, FFN 1024), from the same std blocks, with the padding mask; without the FFN's block
 * sparsity and dropout, which change nothing at inference but the weights.
 */
export const ENCODER_SOURCE = `import { gelu } from "std/act"
import { MultiHeadAttention } from "std/attention"
import { FeedForward, LayerNorm } from "std/nn"

model EncoderLayer(d = 256, heads = 4, ffn = 1024) {
  attn = MultiHeadAttention(d, heads)
  norm1 = LayerNorm(d, eps = 1e-12)
  mlp = FeedForward(d, ffn, act = gelu)
  norm2 = LayerNorm(d, eps = 1e-12)

  fn forward(x: f32[B, T, d], valid: bool[B, T]) -> f32[B, T, d] {
    let h = norm1(x + attn.forward_padded(x, valid))
    return norm2(h + mlp(h))
  }
}
`;

// B and N (batch) 1, T 128; names a model does not use are ignored.
const DIMS = new Map([
  ['B', 1],
  ['N', 1],
  ['T', 128],
]);

async function main(): Promise<void> {
  const f = flags({
    runs: '20',
    warmup: '3',
    threads: '2',
    'budget-s': '20',
    only: '',
    contend: '0',
    set: '',
    dims: '',
    precision: 'f32',
  });
  // `model` keeps each model's own `@precision`.
  const precision = f.precision === 'model' ? undefined : f.precision;
  // `k=v,k2=v2` lists: hyperparameter overrides for every model, dims instead of the defaults.
  const pairs = (text: string): [string, string][] =>
    text ? text.split(',').map((kv) => kv.split('=', 2) as [string, string]) : [];
  const set = f.set ? Object.fromEntries(pairs(f.set)) : undefined;
  const dims = new Map([...DIMS, ...pairs(f.dims!).map(([k, v]) => [k, positive(k, v)] as const)]);
  const contend = contendFlag(f.contend!);
  const runs = positive('runs', f.runs!);
  const threads = positive('threads', f.threads!);
  const budgetMs = positive('budget-s', f['budget-s']!) * 1000;
  const cases: [string, string][] = fs
    .readdirSync(path.join(ROOT, 'models'))
    .filter((n) => n.endsWith('.fm'))
    .sort()
    .map((n) => [n.replace(/\.fm$/, ''), path.join(ROOT, 'models', n)]);
  cases.push(['encoder', ENCODER_SOURCE]);
  const only = f.only ? new Set(f.only.split(',')) : undefined;
  const rows: string[][] = [];
  const results = [];
  for (const [name, source] of cases) {
    if (only && !only.has(name)) continue;
    process.stderr.write(`${name}...\n`);
    try {
      const b = await benchSource(source, {
        dims,
        set,
        precision,
        runs,
        warmup: Number(f.warmup),
        threads,
        vs: 'onnxruntime',
        budgetMs,
        minRuns: 5,
        contend,
      });
      const used = Object.entries(b.result.dims)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      results.push({ name, model: b.model, compileMs: b.compileMs, ...b.result });
      rows.push([name, used, (b.compileMs / 1000).toFixed(1), ...resultCells(b.result)]);
    } catch (e) {
      // One model failing (an unsupported op, say) must not hide the others' numbers.
      const why = e instanceof Error ? e.message.split('\n')[0]! : String(e);
      results.push({ name, error: why });
      rows.push([name, '-', '-', `failed: ${why.slice(0, 80)}`, '', '', '', '', '', '']);
    }
  }
  console.log(
    `seed models on the C target vs ONNX Runtime, ${precision ?? 'their own precision'}, ${threads} threads, ${contend} busy processes beside (median; time budget ${budgetMs / 1000} s per model)${f.set ? `; --set ${f.set}` : ''}`,
  );
  console.log(table(['model', 'dims', 'compile s', ...RESULT_HEADER], rows));
  console.log(RATIO_NOTE);
  const file = writeJson('models.json', {
    when: new Date().toISOString(),
    precision: precision ?? 'model',
    threads,
    contend,
    budgetMs,
    results,
  });
  console.log(`wrote ${file}`);
}

await main();
