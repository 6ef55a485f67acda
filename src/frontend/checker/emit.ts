// Lowering hooks: when a checker runs with a `Lowering`, every tensor value it computes
// also carries the graph IR node that computes it. The checker stays the one place that
// knows the language's rules; these helpers only attach nodes to the values it types.

import type { DimRequire } from '../../ir/module.js';
import { type Dim, dimConstValue, dimEquals, dimSymbols, dimToString } from '../../ir/dims.js';
import type { Dtype } from '../../ir/dtype.js';
import * as path from 'node:path';
import { GraphBuilder, type Node, type NodeOf } from '../../ir/graph.js';
import { SpanTable } from '../../ir/spans.js';
import { STD_DIR } from '../program.js';
import type { BinaryFn, OpArgs, OpName } from '../../ir/ops.js';
import type { Span } from '../source.js';
import type { TensorT, V } from '../types.js';
import type { Ctx } from './context.js';
import { BUDGETS } from './limits.js';

/** A construct the checker accepts but the IR cannot express (e.g. a symbolic window size). */
export class LoweringError extends Error {
  override name = 'LoweringError';
  constructor(
    message: string,
    readonly span: Span | undefined,
  ) {
    super(message);
  }
}

/** A lowering budget exceeded (FM0803): `what` says by how much, `limit` is the limit. */
export class LoweringBudget extends LoweringError {
  override name = 'LoweringBudget';
  constructor(
    message: string,
    readonly limit: number,
    span: Span | undefined,
  ) {
    super(message, span);
  }
}

/** State of one lowering: the node builder, `training`, and the buffer updates seen. */
export class Lowering {
  readonly builder = new GraphBuilder();
  /** Buffer updates by path (`set`), in order. */
  readonly updates = new Map<string, Node>();
  /** Run-time checks of `require`s over dims the inputs bind (requires.ts). */
  readonly requires: DimRequire[] = [];
  /** How many `random` nodes each call-site key has had: each evaluation draws afresh. */
  readonly randomKeys = new Map<string, number>();
  /** The dim symbols the model's inputs bind; a node using any other cannot run. */
  inputDims: ReadonlySet<string> = new Set();
  /** In the innermost `repeat`/`stack` being lowered: the nodes before it and its instances done. */
  done: { before: number; instances: number } | undefined;
  /** Calls inlined so far (at most MAX_INLINED_CALLS). */
  inlined = 0;
  /** The calls being inlined, outermost first: where a budget exceeded is reported. */
  readonly calls: { readonly name: string; readonly span: Span }[] = [];
  /** Where each node comes from: the innermost call or expression outside the std library. */
  readonly spans = new SpanTable();
  constructor(readonly training: boolean) {}
}

export type MakeNode = <K extends OpName>(op: K, args: OpArgs[K], inputs: readonly Node[]) => NodeOf<K>;

/** The node of a tensor value; lowering only runs on checked programs, so one is always there. */
export function nodeOf(t: TensorT | undefined): Node {
  if (!t?.node) throw new Error('lowering: a tensor value without a node');
  return t.node;
}

/**
 * Attaches the node `make` builds to the tensor value `v` (when lowering; otherwise `v` is
 * returned as is). The node's inferred type must equal the checker's type.
 */
export function emit(ctx: Ctx, v: V, make: (op: MakeNode) => Node): V {
  const L = ctx.checker.lowering;
  if (!L || v.kind !== 'tensor') return v;
  const path = ctx.path ?? '';
  const scope = ctx.callScope ?? '';
  const node = make((op, args, inputs) => L.builder.node(op, args, inputs, path, scope));
  if (node.id >= BUDGETS.graphNodes) {
    const call = L.calls[0];
    throw new LoweringBudget(
      `its graph has more than ${BUDGETS.graphNodes} nodes${call ? `, reached in the call of \`${call.name}\`` : ''}`,
      BUDGETS.graphNodes,
      call?.span ?? v.t.origin,
    );
  }
  recordSpan(L, node, v.t.origin);
  const t = node.type;
  const same =
    t.dtype === v.t.dtype &&
    t.shape.length === v.t.shape.dims.length &&
    t.shape.every((d, i) => dimEquals(d, v.t.shape.dims[i]!));
  if (!same) {
    const shown = `${t.dtype}[${t.shape.map(dimToString).join(', ')}]`;
    throw new Error(`lowering: ${node.op} gives ${shown} where the checker has ${v.t.dtype}[...]`);
  }
  // An opaque size (`min(T, 3)` of a symbolic T) has no run-time value in the IR.
  const unbound = [...symbolsOf([node.type.shape, node.args])].find((s) => !L.inputDims.has(s));
  if (unbound !== undefined)
    throw new LoweringError(`the size \`${unbound}\` is not computable from the input shapes`, v.t.origin);
  return { kind: 'tensor', t: { ...v.t, node } };
}

const stdFiles = new Map<string, boolean>();
function isStd(file: string): boolean {
  let std = stdFiles.get(file);
  if (std === undefined) stdFiles.set(file, (std = path.resolve(file).startsWith(STD_DIR + path.sep)));
  return std;
}

/** Records the span of `node`: the innermost of the calls and the expression that is user code. */
function recordSpan(L: Lowering, node: Node, origin: Span | undefined): void {
  const chain = [...L.calls.map((c) => c.span), ...(origin ? [origin] : [])];
  const span = [...chain].reverse().find((s) => !isStd(s.file)) ?? chain[0];
  if (span) L.spans.set(node, span);
}

/** The dim symbols in a value: dims, and dims nested in arrays and objects. */
function symbolsOf(v: unknown, out = new Set<string>()): Set<string> {
  if (typeof v !== 'object' || v === null) return out;
  if ('terms' in v && 'key' in v) for (const s of dimSymbols(v as Dim)) out.add(s);
  else for (const x of Object.values(v)) symbolsOf(x, out);
  return out;
}

/** A tensor operand as a node: tensors by their node, numbers as scalar constants of `dtype`. */
export function operandNode(op: MakeNode, v: V, dtype: Dtype): Node {
  if (v.kind === 'tensor') return nodeOf(v.t);
  if (v.kind === 'bool') return op('full', { value: v.value ? 1 : 0, dtype, shape: [] }, []);
  if (v.kind === 'float') {
    if (v.value === undefined) throw new LoweringError('a float value that is not known at compile time', undefined);
    return op('full', { value: v.value, dtype, shape: [] }, []);
  }
  if (v.kind === 'int') {
    const c = dimConstValue(v.dim);
    if (c !== undefined) return op('full', { value: c, dtype, shape: [] }, []);
    return op('dim', { value: v.dim, dtype }, []);
  }
  throw new Error(`lowering: ${v.kind} as a tensor operand`);
}

/** An elementwise binary node over two operands, at least one a tensor. */
export function binaryNode(op: MakeNode, fn: BinaryFn, a: V, b: V): Node {
  const dtype = a.kind === 'tensor' ? a.t.dtype : b.kind === 'tensor' ? b.t.dtype : 'f32';
  return op('binary', { fn }, [operandNode(op, a, dtype), operandNode(op, b, dtype)]);
}

/** A compile-time integer that the IR needs as a number (window sizes, topk's k). */
export function constInt(d: Dim, what: string, span: Span): number {
  const c = dimConstValue(d);
  if (c === undefined)
    throw new LoweringError(`${what} must be known at compile time, not \`${dimToString(d)}\``, span);
  return c;
}

/** `a @ b` as an einsum over batch letters A, B, ...; an operand whose batch dims broadcast is expanded first. */
export function matmulNode(mk: MakeNode, ta: TensorT, tb: TensorT, bdims: readonly Dim[], span: Span): Node {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.slice(0, bdims.length);
  if (letters.length < bdims.length) throw new LoweringError('a matrix multiply with more than 26 batch dims', span);
  const side = (t: TensorT, mat: string) => {
    const r = t.shape.dims.length - 2;
    const want = [...bdims.slice(bdims.length - r), ...t.shape.dims.slice(-2)];
    const same = want.every((d, i) => dimEquals(d, t.shape.dims[i]!));
    const node = same ? nodeOf(t) : mk('expand', { shape: want }, [nodeOf(t)]);
    return { node, spec: letters.slice(letters.length - r) + mat };
  };
  const [x, y] = [side(ta, 'ik'), side(tb, 'kj')];
  return mk('einsum', { spec: `${x.spec},${y.spec}->${letters}ij` }, [x.node, y.node]);
}
