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
//   body    := '%'N '=' OP ['(' '%'N, ... ')'] ':' TYPE ['@' STRING]   (STRING: path[/scope])
//            | 'return' NAME '=' '%'N
//            | 'update' STRING '=' '%'N
//   OP      := HEAD ['.' WORD] POS* ['{' KEY ':' VALUE, ... '}']   each op's args are described,
//                                                                 in order, in op-args.ts
//   TYPE    := DTYPE '[' DIM, ... ']'                          (`f32[]` is a scalar)
//   NAME    := [A-Za-z_][A-Za-z0-9_.]* | STRING                STRING: a JSON string
//   NUMBER  := JS number text | 'nan' | 'inf' | '-inf' | '-0.0'
//   DIM     := what dimToString prints (dim-text.ts)
//
// For example `input "x" #0`, `buffer "bn.mean" zeros()`, `unary.exp`, `where`,
// `reduce.sum {axes: [1], keepdim: false}`, `slice {starts: [0, 1], steps: [1, 2]}`: all keys
// are always present, in their order. Args that equal part of the result type (a reshape's
// shape, a slice's sizes, a cast's dtype: the `type` entries of op-args.ts) are not
// repeated; the type after ':' gives them.
//
// Only live nodes are printed, numbered 0..n-1 in a canonical topological order that
// does not depend on node ids: the graph inputs first, then a depth-first post-order walk
// from the outputs and then the updates, visiting op inputs left to right.

import type { Dim } from './dims.js';
import { dimToString } from './dims.js';
import { type Graph, type KernelGroup, type Node, provenance, type TType } from './graph.js';
import { argEntries, type Codec, type CodecValues } from './op-args.js';

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

/** How each codec writes its value (see op-args.ts). */
const FORMAT: { readonly [C in Codec]: (v: CodecValues[C]) => string } = {
  int: formatNumber,
  ints: nums,
  number: formatNumber,
  string: formatString,
  bool: String,
  word: (w) => w,
  dim: dimToString,
  dims,
  dimPairs: (ps) => list(ps.map(dims)),
  init: ({ fn, args }) => {
    const keys = Object.keys(args).sort();
    return `${fn}(${keys.map((k) => `${formatName(k)}=${formatNumber(args[k]!)}`).join(', ')})`;
  },
};

const format = (c: Codec, v: unknown): string => (FORMAT[c] as (v: unknown) => string)(v);

/** The op and its args as op-args.ts describes them (`reduce.sum {axes: [1], keepdim: false}`). */
export function formatOp(n: Node): string {
  const args = n.args as Readonly<Record<string, unknown>>;
  let [head, suffix, pos] = [n.op as string, '', ''];
  const attrs: string[] = [];
  for (const a of argEntries(n.op)) {
    const v = args[a.key];
    if (a.in === 'head') head = v as string;
    else if (a.in === 'suffix') suffix = `.${v as string}`;
    else if (a.in === 'pos') pos += ` ${a.prefix ?? ''}${format(a.codec, v)}`;
    else if (a.in === 'attr') attrs.push(`${a.key}: ${format(a.codec, v)}`);
  }
  return `${head}${suffix}${pos}${attrs.length > 0 ? ` {${attrs.join(', ')}}` : ''}`;
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

/**
 * The kernel groups of a graph after the fusion pass, one comment line a kernel in launch
 * order, numbered as printGraph numbers the nodes (what `--dump-after fusion` adds below the
 * graph; comments, so the text still parses):
 *
 *   // kernels 3
 *   //   k0 gemm %5 epilogue [%6, %8] prologue [%4] -> %8
 *   //   k1 rows %9 members [%10, %11] -> %12
 *   //   k2 ew %13 -> %13
 *
 * `undefined` when the graph has no groups (before the fusion pass).
 */
export function printGroups(g: Graph): string | undefined {
  if (!g.groups) return undefined;
  const num = new Map(canonicalOrder(g).map((n, i) => [n, i] as const));
  const ref = (x: Node): string => `%${num.get(x) ?? `?${x.id}`}`;
  const refs = (label: string, xs: readonly Node[]): string =>
    xs.length > 0 ? ` ${label} ${list([...xs].sort((a, b) => num.get(a)! - num.get(b)!).map(ref))}` : '';
  const line = (k: KernelGroup, i: number): string =>
    `//   k${i} ${k.kind} ${ref(k.root)}${refs('members', k.members)}${refs('epilogue', k.epilogue)}${refs('prologue', k.prologue)} -> ${ref(k.store)}`;
  return [`// kernels ${g.groups.length}`, ...g.groups.map(line)].join('\n') + '\n';
}

/** Several graphs, one after another, separated by blank lines. */
export function printModule(gs: readonly Graph[]): string {
  return gs.map(printGraph).join('\n');
}
