// The graph verifier: checks the invariants every pass may rely on and reports all
// violations at once. Graphs built through a GraphBuilder satisfy the per-node ones by
// construction; the verifier catches passes that build nodes by hand or mix builders, and
// graph-level mistakes (inputs, outputs, dims, buffer updates).

import { type Dim, dimSymbols } from './dims.js';
import { type Graph, IRError, type Node, type TType, argsKey, liveNodes } from './graph.js';
import { dimsEqual, inferType } from './infer.js';
import { OP_NAMES, type Op } from './ops.js';
import { formatName, formatType } from './print.js';

const typeEquals = (a: TType, b: TType): boolean => a.dtype === b.dtype && dimsEqual(a.shape, b.shape);
const isDim = (v: unknown): v is Dim =>
  typeof v === 'object' && v !== null && 'terms' in v && 'key' in v && typeof v.key === 'string';
const describe = (n: Node): string => `%${n.id} (${String(n.op)})`;
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Every symbol in a value: dims, and dims nested in arrays and objects. */
function collectSymbols(v: unknown, out: Set<string>): void {
  if (isDim(v)) for (const s of dimSymbols(v)) out.add(s);
  else if (Array.isArray(v)) for (const x of v) collectSymbols(x, out);
  else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) collectSymbols(x, out);
}

/** The problems found in `g`, one line each; empty when it is well formed. */
export function verifyProblems(g: Graph): string[] {
  const problems: string[] = [];
  const bad = (msg: string): void => void problems.push(msg);
  const live = liveNodes(g);

  // Nodes: one object per id, inputs first, stored type = inferred type.
  const byId = new Map<number, Node>();
  for (const n of live) {
    const other = byId.get(n.id);
    if (other && other !== n) bad(`two different nodes have id %${n.id} (mixed builders?)`);
    byId.set(n.id, n);
  }
  for (const n of live) {
    for (const i of n.inputs)
      if (!(i.id < n.id)) bad(`${describe(n)}: input %${i.id} does not precede it (ids must increase)`);
    if (typeof n.path !== 'string') bad(`${describe(n)}: path is not a string`);
    if (!OP_NAMES.includes(n.op)) {
      bad(`${describe(n)}: unknown op`);
      continue;
    }
    try {
      const t = inferType(
        { op: n.op, args: n.args } as Op,
        n.inputs.map((i) => i.type),
      );
      if (!typeEquals(t, n.type))
        bad(`${describe(n)}: stored type ${formatType(n.type)} but its op and inputs give ${formatType(t)}`);
    } catch (e) {
      bad(`${describe(n)}: ${message(e)}`);
    }
  }

  // Graph inputs: input ops, indices 0..n-1 in order, unique names, and no others live.
  const inputNames = new Set<string>();
  g.inputs.forEach((n, i) => {
    if (n.op !== 'input') return bad(`graph input ${i} is ${describe(n)}, not an input op`);
    if (n.args.index !== i) bad(`graph input ${i} (${formatName(n.args.name)}) has index ${n.args.index}`);
    if (inputNames.has(n.args.name)) bad(`two graph inputs are named ${formatName(n.args.name)}`);
    inputNames.add(n.args.name);
  });
  const inputSet = new Set<Node>(g.inputs);
  for (const n of live) if (n.op === 'input' && !inputSet.has(n)) bad(`${describe(n)} is not one of the graph inputs`);

  // Outputs: unique, non-empty names.
  const outNames = new Set<string>();
  for (const o of g.outputs) {
    if (o.name === '') bad('an output has an empty name');
    else if (outNames.has(o.name)) bad(`two outputs are named ${formatName(o.name)}`);
    outNames.add(o.name);
  }

  // Dims: exactly the symbols of the live shapes and args.
  const used = new Set<string>();
  for (const n of live) {
    collectSymbols(n.type.shape, used);
    collectSymbols(n.args, used);
  }
  const declared = new Set(g.dims);
  if (declared.size !== g.dims.length) bad(`dims [${g.dims.join(', ')}] has repeats`);
  const missing = [...used].filter((s) => !declared.has(s)).sort();
  const extra = [...declared].filter((s) => !used.has(s)).sort();
  if (missing.length > 0) bad(`dims lacks ${missing.join(', ')}, used by the graph's shapes`);
  if (extra.length > 0) bad(`dims lists ${extra.join(', ')}, used by no live node`);

  // Params: one role, type and init per path.
  const params = new Map<string, Node & { op: 'param' }>();
  for (const n of live) {
    if (n.op !== 'param') continue;
    const p = params.get(n.args.path);
    if (!p) params.set(n.args.path, n);
    else if (p.args.role !== n.args.role || !typeEquals(p.type, n.type) || argsKey(p.args) !== argsKey(n.args))
      bad(`${describe(p)} and ${describe(n)} are both ${JSON.stringify(n.args.path)} but differ in role, type or init`);
  }

  // Updates: each to a distinct param or buffer the graph uses (buffers by `set`, params and
  // optimizer state by a train step), with its type.
  const updated = new Set<string>();
  for (const u of g.updates) {
    const what = `update ${JSON.stringify(u.path)}`;
    if (updated.has(u.path)) bad(`${what} is repeated`);
    updated.add(u.path);
    const p = params.get(u.path);
    if (!p) bad(`${what}: no param or buffer with that path in the graph`);
    else if (!typeEquals(p.type, u.node.type))
      bad(`${what}: value ${describe(u.node)} is ${formatType(u.node.type)} but the buffer is ${formatType(p.type)}`);
  }
  return problems;
}

/** Throws an IRError listing every problem of `g` (see verifyProblems). */
export function verify(g: Graph): void {
  const problems = verifyProblems(g);
  if (problems.length === 0) return;
  const head = `graph ${formatName(g.name)}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  throw new IRError(`${head}\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}
