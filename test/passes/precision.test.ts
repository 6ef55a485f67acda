// The precision pass's graphs: where the casts go (params cast at their use, no cast between
// two nodes of one dtype), contractions and elementwise chains in the compute dtype, norms,
// softmax, losses and sums in f32, a block annotated `@precision(f32)` untouched, outputs and
// updates in their declared dtypes, and f32 master weights in a train step. An IR dump of a
// small model after the pass is a golden file (golden/ir/precision-swa_lm.txt).

import { describe, expect, it } from 'vitest';
import { lowerFile } from '../../src/frontend/lower.js';
import type { Dtype } from '../../src/ir/dtype.js';
import { type Graph, type Node, liveNodes } from '../../src/ir/graph.js';
import { printGraph } from '../../src/ir/print.js';
import type { Mode } from '../../src/passes/pass.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { expectGolden } from '../golden/golden.js';
import { smallModelFile } from '../models/small-models.js';

function piped(
  model: string,
  fn: string,
  precision: Dtype | undefined,
  mode: Mode = 'inference',
  after = 'precision',
): Graph {
  const r = lowerFile(smallModelFile(model), { fn, precision, training: mode === 'train' });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  let out: Graph | undefined;
  runPipeline(r.lowered, { target: 'c', mode, after: (p, g) => void (p === after ? (out = g) : undefined) });
  return out!;
}

const floatNodes = (g: Graph, keep: (n: Node) => boolean): Node[] =>
  liveNodes(g).filter((n) => keep(n) && ['f32', 'f16', 'bf16'].includes(n.type.dtype));
const dtypesOf = (ns: readonly Node[]): Set<string> => new Set(ns.map((n) => n.type.dtype));

describe('precision pass', () => {
  const g = piped('swa_lm', 'forward', 'bf16');

  it('contractions and elementwise chains compute in bf16, their params cast at the use', () => {
    const blocks = (n: Node): boolean => n.path.startsWith('blocks.') && !/norm/.test(n.path);
    expect(dtypesOf(floatNodes(g, (n) => blocks(n) && n.op === 'einsum'))).toEqual(new Set(['bf16']));
    expect(dtypesOf(floatNodes(g, (n) => n.path.endsWith('.ffn') && n.op === 'binary'))).toEqual(new Set(['bf16']));
    for (const p of liveNodes(g).filter((n) => n.op === 'param')) expect(p.type.dtype).toBe('f32');
    // A param reaches a bf16 einsum through one cast of its own (movement ops aside).
    const q = liveNodes(g).find((n) => n.op === 'einsum' && n.path === 'blocks.0.attn.q')!;
    expect(q.inputs[1]!.op).toBe('cast');
    expect(q.inputs[1]!.inputs[0]!.op).toBe('param');
  });

  it('norms, softmax, the position tables and sums stay f32', () => {
    expect(dtypesOf(floatNodes(g, (n) => /norm$/.test(n.path) && n.op !== 'cast'))).toEqual(new Set(['f32']));
    expect(dtypesOf(floatNodes(g, (n) => n.scope.endsWith('masked_softmax') && n.op !== 'cast'))).toEqual(
      new Set(['f32']),
    );
    expect(dtypesOf(floatNodes(g, (n) => n.op === 'reduce' && n.args.fn === 'sum'))).toEqual(new Set(['f32']));
    // RoPE's sin and cos tables depend on no input: computed in f32, cast where they meet q and k.
    expect(dtypesOf(floatNodes(g, (n) => n.op === 'unary' && (n.args.fn === 'sin' || n.args.fn === 'cos')))).toEqual(
      new Set(['f32']),
    );
  });

  it('a block annotated @precision(f32) stays f32, and the outputs keep their dtype', () => {
    expect(dtypesOf(floatNodes(g, (n) => n.path === 'lm_head'))).toEqual(new Set(['f32']));
    expect(g.outputs.map((o) => o.node.type.dtype)).toEqual(['f32']);
  });

  it('no cast of a cast back and forth, no cast to the same dtype', () => {
    for (const n of liveNodes(g).filter((x) => x.op === 'cast')) {
      const x = n.inputs[0]!;
      expect(x.type.dtype).not.toBe(n.type.dtype);
      if (x.op === 'cast') expect(x.inputs[0]!.type.dtype).not.toBe(n.type.dtype);
    }
  });

  it('f32 and unannotated models are left as they are', () => {
    const f32 = piped('mlp', 'forward', undefined);
    expect(liveNodes(f32).every((n) => n.type.dtype !== 'bf16' && n.type.dtype !== 'f16')).toBe(true);
  });

  it('the cast kernels of a bf16 model: none (casts are computed inside the kernels that read them)', () => {
    const fused = piped('swa_lm', 'forward', 'bf16', 'inference', 'fusion');
    const kinds = fused.groups!.filter(
      (k) => k.kind === 'ew' && k.store.op === 'cast' && k.store.inputs[0]!.op === 'param',
    );
    expect(kinds).toEqual([]);
    // Attention stays one flash kernel in bf16 (it keeps p in f32); f16 runs it unfused.
    expect(fused.groups!.filter((k) => k.kind === 'attention')).toHaveLength(2);
    const f16 = piped('swa_lm', 'forward', 'f16', 'inference', 'fusion');
    expect(f16.groups!.filter((k) => k.kind === 'attention')).toHaveLength(0);
    const mlp = piped('mlp', 'forward', 'bf16', 'inference', 'fusion');
    expect(mlp.groups!.map((k) => k.kind)).toEqual(['gemm', 'gemm', 'gemm']);
  });

  it('a train step keeps f32 master weights: params, gradients, optimizer state and updates', () => {
    const step = piped('mlp', 'loss', 'bf16', 'train', 'simplify');
    expect(liveNodes(step).some((n) => n.op === 'einsum' && n.type.dtype === 'bf16')).toBe(true);
    for (const u of step.updates) expect(u.node.type.dtype, u.path).toBe('f32');
    for (const o of step.outputs) expect(o.node.type.dtype, o.name).toBe('f32');
    expect(step.updates.some((u) => u.path === 'fc1.w')).toBe(true);
  });

  it('IR after the pass (golden)', () => {
    expectGolden('ir/precision-mlp-bf16.txt', printGraph(piped('mlp', 'loss', 'bf16')));
  });
});
