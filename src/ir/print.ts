// The canonical text form of graph IR: printGraph writes it, parse.ts reads it back.
//
//   graph forward(tokens: i32[B, T]) -> (logits: f32[B, T, 1000]) dims [B, T]
//     %0 = input "tokens" #0 : i32[B, T]
//     %1 = param "embed.table" normal(mean=0, std=0.02) : f32[1000, 64]
//     %2 = gather {axis: 0} (%1, %0) : f32[B, T, 64] @"embed"
//     %3 = buffer "bn.mean" zeros() : f32[64] @"bn"
//     %4 = unary.neg (%3) : f32[64] @"bn"
//     return logits = %2
//     update "bn.mean" = %4
//
// Grammar (one item per line; blank lines and lines starting with `//` are ignored):
//
//   module  := graph*
//   graph   := 'graph' NAME '(' sigs ')' '->' '(' sigs ')' ['dims' '[' NAME, ... ']']  then body lines
//   sigs    := [NAME ':' TYPE (',' NAME ':' TYPE)*]           the inputs and the outputs, in order
//   body    := '%'N '=' OP [ATTRS] ['(' '%'N, ... ')'] ':' TYPE ['@' STRING]   (STRING: path[/scope])
//            | 'return' NAME '=' '%'N
//            | 'update' STRING '=' '%'N
//   TYPE    := DTYPE '[' DIM, ... ']'                          (`f32[]` is a scalar)
//   NAME    := [A-Za-z_][A-Za-z0-9_.]* | STRING                STRING: a JSON string
//   NUMBER  := JS number text | 'nan' | 'inf' | '-inf' | '-0.0'
//   DIM     := what dimToString prints (dim-text.ts)
//
// Ops and their attributes (keys always all present, in this order):
//
//   input STRING '#'INDEX                 param STRING INIT      buffer STRING INIT
//     INIT := INITFN '(' [KEY '=' NUMBER, ...] ')'   (keys sorted)
//   full {value: NUMBER}                  dim {value: DIM}       iota {axis: INT}
//   random {seed: NUMBER, key: STRING}    unary.FN               binary.FN
//   where                                 reduce.sum|max {axes: [INT, ...], keepdim: true|false}
//   reshape   expand   cast               permute {axes: [INT, ...]}
//   pad {pads: [[DIM, DIM], ...], value: NUMBER}
//   slice {starts: [DIM, ...], steps: [INT, ...]}
//   window {axes: [...], size: [...], stride: [...], dilation: [...]}
//   concat {axis: INT}   gather {axis: INT}   scatter_add {axis: INT}   einsum {spec: STRING}
//   topk {k: INT, axis: INT, output: values|indices}      barrier {key: STRING}
//
// Args that equal part of the result type are not repeated: the type after ':' gives the
// dtype and shape of input, param, buffer, full and iota, the dtype of dim and cast, and
// the shape of random, reshape and expand; the sizes of slice are its result shape.
//
// Only live nodes are printed, numbered 0..n-1 in a canonical topological order that
// does not depend on node ids: the graph inputs first, then a depth-first post-order walk
// from the outputs and then the updates, visiting op inputs left to right.

import type { Dim } from './dims.js';
import { dimToString } from './dims.js';
import { type Graph, type Node, provenance, type TType } from './graph.js';

/** Numbers as the text format writes them: exact round trip, including NaN, ±Inf and -0. */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0.0';
  return String(x);
}

const BARE = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** A name: bare when it is an identifier, else a JSON string. */
export function formatName(s: string): string {
  return BARE.test(s) ? s : JSON.stringify(s);
}

export const formatString = (s: string): string => JSON.stringify(s);

const list = (xs: readonly string[]): string => `[${xs.join(', ')}]`;
const dims = (ds: readonly Dim[]): string => list(ds.map(dimToString));
const nums = (xs: readonly number[]): string => list(xs.map(formatNumber));

export function formatType(t: TType): string {
  return `${t.dtype}${dims(t.shape)}`;
}

/** The live nodes in canonical order (see the header): the numbering printGraph uses. */
export function canonicalOrder(g: Graph): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  const roots = [...g.inputs, ...g.outputs.map((o) => o.node), ...g.updates.map((u) => u.node)];
  for (const root of roots) {
    if (seen.has(root)) continue;
    seen.add(root);
    const stack: [Node, number][] = [[root, 0]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [n, i] = top;
      if (i < n.inputs.length) {
        top[1] = i + 1;
        const c = n.inputs[i]!;
        if (!seen.has(c)) {
          seen.add(c);
          stack.push([c, 0]);
        }
      } else {
        stack.pop();
        order.push(n);
      }
    }
  }
  return order;
}

const attrs = (kv: readonly (readonly [string, string])[]): string =>
  ` {${kv.map(([k, v]) => `${k}: ${v}`).join(', ')}}`;

/** The op and its attributes, without inputs or type (`reduce.sum {axes: [1], keepdim: false}`). */
export function formatOp(n: Node): string {
  switch (n.op) {
    case 'input':
      return `input ${formatString(n.args.name)} #${formatNumber(n.args.index)}`;
    case 'param': {
      const { path, role, init } = n.args;
      const keys = Object.keys(init.args).sort();
      const initArgs = keys.map((k) => `${formatName(k)}=${formatNumber(init.args[k]!)}`).join(', ');
      return `${role} ${formatString(path)} ${init.fn}(${initArgs})`;
    }
    case 'full':
      return `full${attrs([['value', formatNumber(n.args.value)]])}`;
    case 'dim':
      return `dim${attrs([['value', dimToString(n.args.value)]])}`;
    case 'iota':
      return `iota${attrs([['axis', formatNumber(n.args.axis)]])}`;
    case 'random':
      return `random${attrs([
        ['seed', formatNumber(n.args.seed)],
        ['key', formatString(n.args.key)],
      ])}`;
    case 'unary':
    case 'binary':
      return `${n.op}.${n.args.fn}`;
    case 'where':
    case 'reshape':
    case 'expand':
    case 'cast':
      return n.op;
    case 'reduce':
      return `reduce.${n.args.fn}${attrs([
        ['axes', nums(n.args.axes)],
        ['keepdim', String(n.args.keepdim)],
      ])}`;
    case 'permute':
      return `permute${attrs([['axes', nums(n.args.axes)]])}`;
    case 'pad':
      return `pad${attrs([
        ['pads', list(n.args.pads.map(dims))],
        ['value', formatNumber(n.args.value)],
      ])}`;
    case 'slice':
      return `slice${attrs([
        ['starts', dims(n.args.starts)],
        ['steps', nums(n.args.steps)],
      ])}`;
    case 'window':
      return `window${attrs([
        ['axes', nums(n.args.axes)],
        ['size', nums(n.args.size)],
        ['stride', nums(n.args.stride)],
        ['dilation', nums(n.args.dilation)],
      ])}`;
    case 'concat':
    case 'gather':
    case 'scatter_add':
      return `${n.op}${attrs([['axis', formatNumber(n.args.axis)]])}`;
    case 'einsum':
      return `einsum${attrs([['spec', formatString(n.args.spec)]])}`;
    case 'barrier':
      return `barrier${attrs([['key', formatString(n.args.key)]])}`;
    case 'topk':
      return `topk${attrs([
        ['k', formatNumber(n.args.k)],
        ['axis', formatNumber(n.args.axis)],
        ['output', n.args.output],
      ])}`;
  }
}

/** One node line without indentation (`%3 = binary.add (%2, %2) : f32[B, T, 64] @"embed"`). */
export function printNode(n: Node, num: ReadonlyMap<Node, number>): string {
  const ref = (x: Node): string => `%${num.get(x) ?? `?${x.id}`}`;
  const ins = n.inputs.length > 0 ? ` (${n.inputs.map(ref).join(', ')})` : '';
  const where = provenance(n);
  const path = where ? ` @${formatString(where)}` : '';
  return `${ref(n)} = ${formatOp(n)}${ins} : ${formatType(n.type)}${path}`;
}

/** The canonical text of one graph (see the header), ending with a newline. */
export function printGraph(g: Graph): string {
  const order = canonicalOrder(g);
  const num = new Map(order.map((n, i) => [n, i] as const));
  const sig = (name: string, n: Node): string => `${formatName(name)}: ${formatType(n.type)}`;
  const ins = g.inputs.map((n) => sig(n.args.name, n)).join(', ');
  const outs = g.outputs.map((o) => sig(o.name, o.node)).join(', ');
  const dimList = g.dims.length > 0 ? ` dims ${list(g.dims.map(formatName))}` : '';
  const lines = [`graph ${formatName(g.name)}(${ins}) -> (${outs})${dimList}`];
  for (const n of order) lines.push(`  ${printNode(n, num)}`);
  for (const o of g.outputs) lines.push(`  return ${formatName(o.name)} = %${num.get(o.node)}`);
  for (const u of g.updates) lines.push(`  update ${formatString(u.path)} = %${num.get(u.node)}`);
  return lines.join('\n') + '\n';
}

/** Several graphs, one after another, separated by blank lines. */
export function printModule(gs: readonly Graph[]): string {
  return gs.map(printGraph).join('\n');
}
