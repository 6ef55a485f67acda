// The precision pass: mixed precision by policy (`@precision(f16 | bf16)` on the model, a
// block, a child or a block's function; the train section's `precision` in the train modes).
//
// Each float node the model computes in f32 gets a compute dtype:
// - contractions (einsum: matmuls, convolutions) take f16/bf16 operands; the targets
//   accumulate in f32 (docs/ir.md) and round the result to the compute dtype;
// - elementwise chains (unary, binary, where, the model's own casts to f32) compute in it;
// - sums (reduce sum, cumsum, scatter_add) and everything inside a normalization or a loss
//   compute in f32: nodes of a block whose type is a norm (LayerNorm, RMSNorm, BatchNorm…,
//   by `Module.blocks`) and nodes built by the composites of F32_SCOPES (softmax,
//   log-softmax, mean, var, the losses…, by the node's call scope);
// - values that depend on no input, param or random draw (position tables, masks) stay f32;
// - movement ops (reshape, permute, slice, gather, concat, topk, reduce max…) keep the dtype
//   their data arrives in, so a cast moves to the leaf it reads (a param is cast at its
//   use, not after each view of it).
// Params, buffers and inputs keep their dtype (f32 master weights: the forward casts them at
// their use, and autodiff's rule for `cast` brings each gradient back to f32, so the
// optimizer and its state stay f32). Outputs and buffer updates are cast back to their
// declared dtype. Integer and bool values are untouched; a comparison of floats of two dtypes
// compares in the wider one. Nodes already in f16/bf16 in the source keep their dtype.
//
// Casts are plain `cast` nodes: the fusion pass computes them inside the kernels that read
// them (a GEMM converts while it packs), so a mixed-precision model has no cast kernels.
// A block or function annotated `@precision(f32)` inside an f16/bf16 model stays f32.
// It runs before `loss-scale` and autodiff, so the backward runs in the forward's precision.

import type { Builder } from '../ir/build.js';
import type { Dtype } from '../ir/dtype.js';
import { isFloat } from '../ir/dtype.js';
import type { Graph, Node } from '../ir/graph.js';
import { hintAt } from '../ir/module.js';
import { OP_NAMES, isCompare } from '../ir/ops.js';
import { type Rules, rewrite } from '../ir/rewrite.js';
import type { Pass, PassContext } from './pass.js';

/** Composites (std function names, as they appear in a node's call scope) that compute in f32. */
export const F32_SCOPES: ReadonlySet<string> = new Set([
  'softmax',
  'masked_softmax',
  'log_softmax',
  'logsumexp',
  'mean',
  'var',
  'normalize',
  'cross_entropy',
  'nll_loss',
  'kl_div',
  'mse',
  'load_balancing_loss',
]);

/** A block type that normalizes (LayerNorm, RMSNorm, BatchNorm1d, GroupNorm, a user's `MyNorm`). */
export const isNormType = (type: string): boolean => /norm/i.test(type);

const LEAVES: ReadonlySet<string> = new Set(['input', 'param', 'full', 'dim', 'iota', 'random']);
const VARYING_LEAVES: ReadonlySet<string> = new Set(['input', 'param', 'random']);
const SUMS: ReadonlySet<string> = new Set(['reduce', 'cumsum', 'scatter_add']);
const MOVES: ReadonlySet<string> = new Set([
  'reshape',
  'permute',
  'expand',
  'pad',
  'slice',
  'window',
  'concat',
  'gather',
  'topk',
  'barrier',
]);

/** The model-level compute dtype: the train section's `precision` in the train modes, else f32. */
function baseDtype(ctx: PassContext): Dtype {
  return (ctx.mode === 'train' || ctx.mode === 'accumulate') && ctx.train ? ctx.train.precision : 'f32';
}

/** Whether any `@precision` or the train section asks for f16/bf16 (else the pass changes nothing). */
function anyNarrow(ctx: PassContext): boolean {
  if (baseDtype(ctx) !== 'f32') return true;
  for (const h of ctx.hints.blocks.values()) if (h.precision && h.precision !== 'f32') return true;
  return false;
}

/** `x` in `d`: a cast, except that a widened value narrows back to itself and a constant is remade in `d`. */
export function castTo(b: Builder, x: Node, d: Dtype): Node {
  if (x.type.dtype === d) return x;
  if (x.op === 'cast' && x.inputs[0]!.type.dtype === d && isFloat(d) && x.type.dtype === 'f32') return x.inputs[0]!;
  if (x.op === 'full' && isFloat(x.type.dtype) && isFloat(d))
    return b.within(x.path, x.scope, () => b.full(Math.fround(x.args.value), d, x.type.shape));
  return b.cast(x, d);
}

/** The pass's view of one graph: which dtype each f32 node computes in. */
class Policy {
  private readonly norms: readonly string[];

  constructor(
    private readonly ctx: PassContext,
    private readonly base: Dtype,
  ) {
    this.norms = [...(ctx.blocks ?? new Map()).entries()].filter(([, i]) => isNormType(i.type)).map(([p]) => p);
  }

  /** The `@precision` that applies at a node's block path. */
  policy(n: Node): Dtype {
    return hintAt(this.ctx.hints, n.path, 'precision') ?? this.base;
  }

  /** Whether a node belongs to a normalization or loss (f32 whatever the policy). */
  fp32Only(n: Node): boolean {
    if (n.scope.split('/').some((s) => F32_SCOPES.has(s))) return true;
    return this.norms.some((p) => n.path === p || n.path.startsWith(`${p}.`));
  }

  /** The compute dtype of an elementwise or contraction node that was f32. */
  computeOf(n: Node, varying: boolean): Dtype {
    const p = this.policy(n);
    return p === 'f32' || !varying || this.fp32Only(n) ? 'f32' : p;
  }
}

/** Rewrites `g` to compute in the precision its hints ask for. */
export function applyPrecision(g: Graph, ctx: PassContext): Graph {
  const policy = new Policy(ctx, baseDtype(ctx));
  const varying = new Set<Node>();
  const rule = (n: Node, ins: readonly Node[], b: Builder): Node => {
    if (VARYING_LEAVES.has(n.op) || n.inputs.some((i) => varying.has(i))) varying.add(n);
    const made = retyped(n, ins, b, () => policy.computeOf(n, varying.has(n)));
    // Anything else (integer and bool ops, nodes already f16/bf16) reads its inputs in their old dtypes.
    return (
      made ??
      b.node(
        n.op,
        n.args,
        ins.map((x, i) => castTo(b, x, n.inputs[i]!.type.dtype)),
      )
    );
  };
  const rules = Object.fromEntries(OP_NAMES.map((op) => [op, rule])) as Rules;
  const { graph, builder: b } = rewrite(g, rules);
  // Outputs and updates keep their declared dtypes.
  const outputs = graph.outputs.map((o, i) => ({ name: o.name, node: castBack(b, o.node, g.outputs[i]!.node) }));
  const updates = graph.updates.map((u, i) => ({ path: u.path, node: castBack(b, u.node, g.updates[i]!.node) }));
  return b.graph(graph.name, outputs, updates, graph.inputs);
}

/**
 * `n` rebuilt on its rewritten inputs `ins` when it was an f32 node the policy retypes (or a
 * comparison or leaf); undefined otherwise. `compute` is its compute dtype.
 */
function retyped(n: Node, ins: readonly Node[], b: Builder, compute: () => Dtype): Node | undefined {
  const all = (d: Dtype): Node[] => ins.map((x) => (isFloat(x.type.dtype) ? castTo(b, x, d) : x));
  const floats = ins.filter((x) => isFloat(x.type.dtype)).map((x) => x.type.dtype);
  const same = floats.every((d) => d === floats[0]);
  const f32 = n.type.dtype === 'f32';
  if (LEAVES.has(n.op)) return b.node(n.op, n.args, ins);
  if (n.op === 'binary' && isCompare(n.args.fn)) return b.node(n.op, n.args, same ? ins : all('f32'));
  if (!f32) return undefined;
  if (n.op === 'cast') return castTo(b, ins[0]!, compute());
  if (n.op === 'einsum' || n.op === 'unary' || n.op === 'binary' || n.op === 'where')
    return b.node(n.op, n.args, all(compute()));
  // A max picks one of its values: it keeps their dtype, like a movement op.
  if (n.op === 'reduce' && n.args.fn === 'max') return b.node(n.op, n.args, ins);
  if (SUMS.has(n.op)) return b.node(n.op, n.args, all('f32'));
  if (MOVES.has(n.op)) return b.node(n.op, n.args, same ? ins : all(compute()));
  return undefined;
}

/** `x` (the rewritten `old`) in `old`'s dtype, with `old`'s provenance. */
function castBack(b: Builder, x: Node, old: Node): Node {
  return b.within(old.path, old.scope, () => castTo(b, x, old.type.dtype));
}

/** The precision pass (see the top of this file). */
export const precision: Pass = {
  name: 'precision',
  run: (g, ctx) => (anyNarrow(ctx) ? applyPrecision(g, ctx) : g),
};
