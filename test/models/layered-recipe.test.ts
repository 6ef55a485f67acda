// The layered recipe of issue 15, "attention int8, feed-forward int4, residual path f16", as
// three annotations: the compiled graph reads int8 attention weights and int4 feed-forward
// weights (never their f32 ones), computes the layer's adds and contractions in f16 and the
// rest in f32, `fmc inspect` counts the stored bytes, and C agrees with the reference within
// f16's rtol, norm-wise (test/models/compressed-models.test.ts has every seed model × every
// compression).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { dimConstValue } from '../../src/ir/dims.js';
import { graphParams, liveNodes } from '../../src/ir/graph.js';
import { QUICK_FLAGS } from '../fuzz/pipeline.js';
import { CACHE_DIR, normRel, tolFor } from '../kernels/c-harness.js';
import { runBoth } from './run-both.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/fmc.js');

// A small pre-norm decoder layer (swa_lm's, without the window).
const LAYERED = `
import { MultiHeadAttention } from "std/attention"
import { Embedding, Linear, RMSNorm, SwiGLU } from "std/nn"

@precision(f16)
block Layer(d: int, heads: int, hidden: int) {
  attn_norm = RMSNorm(d)
  @quantize(int8)
  attn = MultiHeadAttention(d, heads, causal = true, use_rope = true, bias = false)
  ffn_norm = RMSNorm(d)
  @quantize(int4, group = 128)
  ffn = SwiGLU(d, hidden)

  fn forward(x: f32[B, T, d]) -> f32[B, T, d] {
    let h = x + attn(attn_norm(x))
    return h + ffn(ffn_norm(h))
  }
}

model Layered(vocab = 60, d = 128, layers = 2, heads = 4, hidden = 256) {
  embed = Embedding(vocab, d)
  blocks = repeat layers Layer(d, heads, hidden)
  norm = RMSNorm(d)
  lm_head = Linear(d, vocab, bias = false)

  fn forward(tokens: i32[B, T]) -> (logits: f32[B, T, vocab]) {
    return lm_head(norm(blocks(embed(tokens))))
  }
}
`;

describe('the layered recipe: attention int8, feed-forward int4, residual path f16', () => {
  it('stores and computes each part as annotated, and runs on C as the reference does', { timeout: 120_000 }, () => {
    const compiled = compileModel(LAYERED, { fns: ['forward'], cacheDir: CACHE_DIR, seed: 3, flags: QUICK_FLAGS });
    const g = compiled.modules[0]!.graph;
    const params = new Map(
      graphParams(g).map((p) => [
        p.args.path,
        { dtype: p.args.dtype, shape: p.args.shape.map((d) => dimConstValue(d)) },
      ]),
    );
    for (const l of [0, 1]) {
      // Attention: q, k, v, o as int8 per output channel (i8 [N, K] and an f32 scale per row).
      for (const w of ['q', 'k', 'v', 'o']) {
        const p = `blocks.${l}.attn.${w}.w`;
        expect(params.has(p), p).toBe(false);
        expect(params.get(`${p}:int8.q`)).toMatchObject({ dtype: 'i8', shape: [128, 128] });
        expect(params.get(`${p}:int8.scale`)).toMatchObject({ dtype: 'f32', shape: [128, 1] });
      }
      // Feed-forward: int4 in groups of 128, two values a byte (K / 2 bytes a row).
      for (const [w, N, K] of [
        ['gate', 256, 128],
        ['up', 256, 128],
        ['down', 128, 256],
      ] as const) {
        const p = `blocks.${l}.ffn.${w}.w`;
        expect(params.has(p), p).toBe(false);
        expect(params.get(`${p}:int4g128.q`)).toMatchObject({ dtype: 'i8', shape: [N, K / 2] });
        expect(params.get(`${p}:int4g128.scale`)).toMatchObject({ dtype: 'f32', shape: [N, K / 128] });
      }
      // The residual path (the layer's own adds) and every contraction inside the layer are f16.
      const own = liveNodes(g).filter((n) => n.path === `blocks.${l}`);
      const adds = own.filter((n) => n.op === 'binary' && n.args.fn === 'add');
      expect(adds.length).toBeGreaterThanOrEqual(2);
      for (const n of adds) expect(n.type.dtype).toBe('f16');
      const inner = liveNodes(g).filter((n) => n.op === 'einsum' && n.path.startsWith(`blocks.${l}.`));
      expect(inner.filter((n) => n.path.includes('.attn')).length).toBeGreaterThan(0);
      expect(inner.filter((n) => n.path.includes('.ffn')).length).toBeGreaterThan(0);
      for (const n of inner) expect(n.type.dtype, n.path).toBe('f16');
    }
    // Outside the layers: f32 weights and compute.
    expect(params.get('lm_head.w')).toMatchObject({ dtype: 'f32' });
    expect(params.get('embed.table')).toMatchObject({ dtype: 'f32' });
    for (const n of liveNodes(g).filter((n) => n.op === 'einsum' && n.path === 'lm_head'))
      expect(n.type.dtype).toBe('f32');
    // On C as in the reference, within f16's rtol (norm-wise, as the precision variants).
    for (const { name, got, want } of runBoth(compiled, [])) {
      const rel = normRel(got.data, want.data);
      console.log(`layered recipe ${name}: ‖C − ref‖ / ‖ref‖ = ${rel.toExponential(2)}`);
      expect(rel).toBeLessThanOrEqual(tolFor('f16').rtol);
    }
  });

  it('fmc inspect shows the attention at int8 bytes and the feed-forward at int4 bytes', { timeout: 60_000 }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-layered-'));
    const file = path.join(dir, 'layered.fm');
    fs.writeFileSync(file, LAYERED);
    const r = spawnSync(process.execPath, [BIN, 'inspect', file, '--json'], { encoding: 'utf8', timeout: 50_000 });
    expect(r.status, r.stderr).toBe(0);
    const rows = (JSON.parse(r.stdout) as { rows: { path: string; weightBytes: number; quantizedBytes: number }[] })
      .rows;
    const row = (p: string) => rows.find((x) => x.path === p)!;
    // Attention: four 128×128 f32 weights → a byte each and an f32 scale per row.
    expect(row('blocks.0.attn')).toMatchObject({
      weightBytes: 4 * 4 * 128 * 128,
      quantizedBytes: 4 * (128 * 128 + 4 * 128),
    });
    // Feed-forward: gate and up 256×128, down 128×256 → half a byte each and an f32 scale per 128.
    expect(row('blocks.0.ffn')).toMatchObject({
      weightBytes: 4 * 3 * 256 * 128,
      quantizedBytes: (3 * (256 * 128)) / 2 + 4 * (2 * 256 + 128 * 2),
    });
    // The norms (f32, rank 1) and the output projection are stored as declared.
    expect(row('blocks.0.attn_norm').quantizedBytes).toBe(row('blocks.0.attn_norm').weightBytes);
    expect(row('lm_head').quantizedBytes).toBe(row('lm_head').weightBytes);
  });
});
