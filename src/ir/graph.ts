// Graph IR nodes and graphs. Nodes are immutable and hash-consed by a builder: building
// the same op with the same args and inputs twice gives the same node (CSE for free).

import { type Dim, dimKey } from './dims.js';
import type { Dtype } from './dtype.js';
import { inferType } from './infer.js';
import type { Op, OpArgs, OpName } from './ops.js';

/** The type of a tensor: dtype plus dims (integers or symbolic expressions). */
export interface TType {
  readonly dtype: Dtype;
  readonly shape: readonly Dim[];
}

interface NodeBase {
  /** Position in creation order: inputs always have smaller ids. */
  readonly id: number;
  readonly inputs: readonly Node[];
  readonly type: TType;
  /** Provenance: the block path the node was built in (`blocks.3.attn`), '' at the top. */
  readonly path: string;
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
  /** Buffer updates (`set`), applied after a call. */
  readonly updates: readonly { readonly path: string; readonly node: Node }[];
}

/** Thrown on a malformed op (wrong arity, shapes or dtypes): a compiler bug, not a user error. */
export class IRError extends Error {
  override name = 'IRError';
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
  node<K extends OpName>(op: K, args: OpArgs[K], inputs: readonly Node[], path = ''): NodeOf<K> {
    const key = `${op}|${argsKey(args)}|${inputs.map((n) => n.id).join(',')}`;
    const found = this.nodes.get(key);
    if (found) return found as NodeOf<K>;
    for (const i of inputs) if (this.list[i.id] !== i) throw new IRError(`${op}: input %${i.id} is from another graph`);
    const type = inferType({ op, args } as Op, inputs);
    const n = { id: this.list.length, op, args, inputs, type, path } as unknown as NodeOf<K>;
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

/** The nodes `roots` depend on (themselves included), in topological order. */
export function reachableFrom(roots: readonly Node[]): Node[] {
  const seen = new Set<Node>();
  const stack = [...roots];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...n.inputs);
  }
  return [...seen].sort((a, b) => a.id - b.id);
}

/** Params and buffers a graph uses, in first-use order. */
export function graphParams(g: Graph): NodeOf<'param'>[] {
  return liveNodes(g).filter((n): n is NodeOf<'param'> => n.op === 'param');
}
