// Graph IR nodes and graphs. Nodes are immutable and hash-consed by a builder: building
// the same op with the same args and inputs twice gives the same node (CSE for free).

import { type Dim, dimKey, dimSymbols } from './dims.js';
import { inferType } from './infer.js';
import type { Op, OpArgs, OpName } from './ops.js';
import { IRError, type TType } from './type.js';

export { IRError, type TType } from './type.js';

interface NodeBase {
  /** Position in creation order: inputs always have smaller ids. */
  readonly id: number;
  readonly inputs: readonly Node[];
  readonly type: TType;
  /** Provenance: the block path the node was built in (`blocks.3.attn`), '' at the top. */
  readonly path: string;
  /**
   * The call scope inside that block: the composite functions, outermost first, whose
   * bodies built the node (`attention/masked_softmax`), '' when built by the block's own
   * code. Passes find whole composites by it (`blocks.2.attn/attention`).
   */
  readonly scope: string;
}
export type Node = Op & NodeBase;
export type NodeOf<K extends OpName> = Node & { readonly op: K };

/** A model function lowered to a graph. */
export interface Graph {
  /** The function's name (`forward`). */
  readonly name: string;
  /** Symbolic dims the graph's shapes use, bound when it is called. */
  readonly dims: readonly string[];
  /** Input nodes, in the function's parameter order. */
  readonly inputs: readonly NodeOf<'input'>[];
  /** Results by name. */
  readonly outputs: readonly { readonly name: string; readonly node: Node }[];
  /** Updates of buffers (`set`) and, in a train step, of params and optimizer state; applied after a call. */
  readonly updates: readonly { readonly path: string; readonly node: Node }[];
  /**
   * What each kernel computes, in launch order, as the fusion pass decided it
   * (src/passes/fusion/); absent before that pass. A pass that rebuilds the graph drops it.
   */
  readonly groups?: readonly KernelGroup[];
}

/**
 * One kernel of the C target, as data: the node it is built around, the nodes computed
 * inside it and the node whose value it stores. Every node that has a buffer (inputs and
 * params aside) is the `store` of exactly one group; every other node is computed inside the
 * kernels that read it.
 */
export interface KernelGroup {
  /**
   * How the kernel is built, and its name's suffix: `ew` (a loop over the stored node),
   * `reduce`, `gemm` (blocked, with `epilogue`), `einsum`, `rows` (reductions over the last
   * axis with their neighbours, one pass per row), `topk`, `scatter_add`, `copy`; a matcher
   * may add kinds of its own (`attention`).
   */
  readonly kind: string;
  /** The node the kernel is built around (the contraction, the first reduction, the stored node). */
  readonly root: Node;
  /** Further nodes computed inside the kernel with buffers of their own never made (rows: reductions and row values). */
  readonly members: readonly Node[];
  /** Elementwise nodes applied to the root's value before the store, in topological order (the last is `store`). */
  readonly epilogue: readonly Node[];
  /** Nodes without a buffer that the kernel computes inline where it reads them (movement, elementwise, constants). */
  readonly prologue: readonly Node[];
  /** The node whose value the kernel writes to its buffer. */
  readonly store: Node;
}

/** Canonical text of op args, for hash-consing (dims by their normal-form key). */
export function argsKey(args: object): string {
  return JSON.stringify(args, (_k, v: unknown) => {
    if (v && typeof v === 'object' && 'terms' in v && 'key' in v) return `#${dimKey(v as Dim)}`;
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (typeof v === 'number' && Object.is(v, -0)) return '-0';
    return v;
  });
}

/** Builds hash-consed nodes. One builder per lowering; nodes from different builders never mix. */
export class GraphBuilder {
  private readonly nodes = new Map<string, Node>();
  private readonly list: Node[] = [];

  /** Creates (or finds) the node `op(args)(inputs)`; its type is inferred and checked. */
  node<K extends OpName>(op: K, args: OpArgs[K], inputs: readonly Node[], path = '', scope = ''): NodeOf<K> {
    const key = `${op}|${argsKey(args)}|${inputs.map((n) => n.id).join(',')}`;
    const found = this.nodes.get(key);
    if (found) return found as NodeOf<K>;
    for (const i of inputs) if (this.list[i.id] !== i) throw new IRError(`${op}: input %${i.id} is from another graph`);
    const type = inferType(
      { op, args } as Op,
      inputs.map((i) => i.type),
    );
    const n = { id: this.list.length, op, args, inputs, type, path, scope } as unknown as NodeOf<K>;
    this.nodes.set(key, n);
    this.list.push(n);
    return n;
  }

  /** Every node built so far, in creation (topological) order. */
  all(): readonly Node[] {
    return this.list;
  }
}

/** The nodes a graph reaches from its outputs and updates, in topological order (inputs always included). */
export function liveNodes(g: Graph): Node[] {
  return reachableFrom([...g.inputs, ...g.outputs.map((o) => o.node), ...g.updates.map((u) => u.node)]);
}

/**
 * The nodes `roots` depend on (themselves included), in topological order; `stop` nodes are
 * included but not looked past.
 */
export function reachableFrom(roots: readonly Node[], stop: (n: Node) => boolean = () => false): Node[] {
  const seen = new Set<Node>();
  const stack = [...roots];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (!stop(n)) stack.push(...n.inputs);
  }
  return [...seen].sort((a, b) => a.id - b.id);
}

/** The provenance of a node as one string: `blocks.2.attn/attention/masked_softmax`. */
export const provenance = (n: Pick<Node, 'path' | 'scope'>): string => (n.scope ? `${n.path}/${n.scope}` : n.path);

/** The dim symbols the shapes and args of `nodes` use, sorted: a graph's `dims`. */
export function usedSymbols(nodes: readonly Node[]): string[] {
  const out = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    if ('terms' in v && 'key' in v) for (const s of dimSymbols(v as Dim)) out.add(s);
    else for (const x of Object.values(v)) visit(x);
  };
  for (const n of nodes) {
    visit(n.type.shape);
    visit(n.args);
  }
  return [...out].sort();
}

/** Params and buffers a graph uses, in first-use order. */
export function graphParams(g: Graph): NodeOf<'param'>[] {
  return liveNodes(g).filter((n): n is NodeOf<'param'> => n.op === 'param');
}
