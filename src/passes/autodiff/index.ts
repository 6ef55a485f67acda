// Reverse-mode automatic differentiation of a graph with one float scalar result (a loss):
// the graph is copied, cotangents flow from the result back through GRAD_RULES in reverse
// topological order (a node read twice sums both contributions), and one output per
// param, `grad.<path>`, is added. Inside a `@checkpoint` block the backward reads values
// recomputed from the block's inputs behind a barrier, so hash-consing cannot merge the
// recomputation back into the forward (and the forward's activations of that block die early).

import { isFloat } from '../../ir/dtype.js';
import { type Graph, type Node, type NodeOf, liveNodes } from '../../ir/graph.js';
import { formatType } from '../../ir/print.js';
import { type Hints, NO_HINTS } from '../../ir/module.js';
import { copyGraph } from '../../ir/rewrite.js';
import { type Pass, PassError } from '../pass.js';
import { GRAD_RULES, type GradRule, type RuleCtx } from './rules.js';
import type { OpName } from '../../ir/ops.js';

export interface GradOptions {
  /** Param paths to differentiate with respect to (default: every float param the graph reads). */
  readonly wrt?: readonly string[];
  /** Hints of the model: `@checkpoint` blocks are recomputed in the backward. */
  readonly hints?: Hints;
}

/** The output name of a param's gradient. */
export const gradName = (path: string): string => `grad.${path}`;

const LEAVES = new Set<OpName>(['input', 'param', 'full', 'dim', 'iota', 'random']);

/** The params to differentiate: checked against the graph, a PassError for anything that has no gradient. */
function targets(live: readonly Node[], wrt: readonly string[] | undefined): NodeOf<'param'>[] {
  const params = new Map<string, NodeOf<'param'>>();
  for (const n of live) if (n.op === 'param') params.set(n.args.path, n);
  if (!wrt) return [...params.values()].filter((p) => p.args.role === 'param' && isFloat(p.type.dtype));
  return wrt.map((path) => {
    const p = params.get(path);
    if (!p) throw new PassError(`no gradient for "${path}": the function does not use a param of that name`);
    if (p.args.role === 'buffer')
      throw new PassError(
        `no gradient for "${path}": it is a buffer (state updated by \`set\`), not a learnable param`,
      );
    if (!isFloat(p.type.dtype))
      throw new PassError(
        `no gradient for "${path}": it is ${formatType(p.type)}, and only float values have gradients`,
      );
    return p;
  });
}

/** The block path whose `@checkpoint` region holds `path` (a repeat instance is its own region). */
function regionOf(path: string, checkpointed: readonly string[]): string | undefined {
  for (const h of checkpointed) {
    if (h !== '' && path !== h && !path.startsWith(`${h}.`)) continue;
    const rest = (h === '' ? path : path.slice(h.length + 1)).split('.');
    return h === '' || !/^\d+$/.test(rest[0] ?? '') ? h : `${h}.${rest[0]}`;
  }
  return undefined;
}

/** The graph of `g`'s value and the gradients of its scalar float result with respect to params. */
export function gradientGraph(g: Graph, opts: GradOptions = {}): Graph {
  if (g.outputs.length !== 1)
    throw new PassError(`\`${g.name}\` has ${g.outputs.length} results; gradients need exactly one (a scalar loss)`);
  const loss = g.outputs[0]!;
  if (!isFloat(loss.node.type.dtype) || loss.node.type.shape.length !== 0)
    throw new PassError(
      `\`${g.name}\` returns ${formatType(loss.node.type)}; gradients need a float scalar (a loss, shape [])`,
    );
  const { graph, builder: b } = copyGraph(g);
  const live = liveNodes(graph);
  const wrt = targets(live, opts.wrt);
  const want = new Set<Node>(wrt);
  // Nodes on a path from a wanted param to the result: only they need cotangents.
  const needs = new Set<Node>();
  for (const n of live) if (want.has(n) || (isFloat(n.type.dtype) && n.inputs.some((i) => needs.has(i)))) needs.add(n);

  const hints = opts.hints ?? NO_HINTS;
  const checkpointed = [...hints.blocks].filter(([, h]) => h.checkpoint).map(([p]) => p);
  const remat = new Map<Node, Node>();
  const recompute = (n: Node, region: string): Node => {
    if (LEAVES.has(n.op)) return n;
    if (regionOf(n.path, checkpointed) !== region)
      return b.within(region, 'remat', () => b.barrier(n, `remat:${region}`));
    const done = remat.get(n);
    if (done) return done;
    const ins = n.inputs.map((i) => recompute(i, region));
    const made = b.within(n.path, n.scope, () => b.node(n.op, n.args, ins));
    remat.set(n, made);
    return made;
  };
  const value = (n: Node): Node => {
    const region = checkpointed.length > 0 ? regionOf(n.path, checkpointed) : undefined;
    return region === undefined ? n : recompute(n, region);
  };

  const parts = new Map<Node, Node[]>();
  const give = (n: Node, ct: Node): void => {
    const list = parts.get(n);
    if (list) list.push(ct);
    else parts.set(n, [ct]);
  };
  const result = graph.outputs[0]!.node;
  give(result, b.full(1, result.type.dtype));
  for (let k = live.length - 1; k >= 0; k--) {
    const n = live[k]!;
    const list = parts.get(n);
    if (!list || !needs.has(n) || LEAVES.has(n.op)) continue;
    const scope = n.scope ? `${n.scope}/grad` : 'grad';
    b.within(n.path, scope, () => {
      const ct = list.reduce((acc, x) => b.add(acc, x));
      const c: RuleCtx = { b, x: (i) => value(n.inputs[i]!), y: () => value(n) };
      const rule = GRAD_RULES[n.op] as GradRule<OpName>;
      rule(n, ct, c).forEach((gi, i) => {
        const x = n.inputs[i]!;
        if (gi && needs.has(x)) give(x, gi);
      });
    });
  }
  const grads = wrt.map((p) => {
    const list = parts.get(p);
    const node = b.within(p.path, 'grad', () => (list ? list.reduce((acc, x) => b.add(acc, x)) : b.zerosLike(p)));
    return { name: gradName(p.args.path), node };
  });
  return b.graph(g.name, [...graph.outputs, ...grads], graph.updates, graph.inputs);
}

/** The autodiff pass: in every mode but `inference`, adds the gradients of the result to the graph. */
export const autodiff: Pass = {
  name: 'autodiff',
  run: (g, ctx) => (ctx.mode !== 'inference' ? gradientGraph(g, { wrt: ctx.options.wrt, hints: ctx.hints }) : g),
};
