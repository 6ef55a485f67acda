// Graph → Plan: decides which nodes get a buffer (materialized), emits one kernel per
// materialized node in topological order (what outputs need first, then what only updates
// need) with everything else fused into it, writes updates in place where that is safe
// (in-place.ts), shares identical kernels (repeated layers render once), and lists the launches.
//
// Materialized: inputs, params, contractions, reductions, topk, scatter_add, outputs and
// updates, and nodes read more than once unless recomputing them is only index math.
// Operands of contractions and topk, which are read many times, are materialized unless
// they are such index math over a buffer (then the computed node below the index math is).

import { type Graph, type Node, type NodeOf, argsKey, liveNodes } from '../ir/graph.js';
import { numel } from '../ir/infer.js';
import type { Kernel, KStmt } from '../ir/kernel.js';
import type { OpName } from '../ir/ops.js';
import { KernelBuilder, PlanTables } from './builder.js';
import { planChecks } from './checks.js';
import { copyKernel, elementwiseKernel } from './elementwise.js';
import { einsumKernel } from './einsum.js';
import { Fuser } from './expr.js';
import { gemmKernel, isGemm } from './gemm.js';
import { inPlaceUpdates, launchOrder } from './in-place.js';
import type { Launch, Plan } from './plan.js';
import { reduceKernel } from './reduce.js';
import { cumsumKernel } from './scan.js';
import { type GemmSchedule, hostSchedule } from './schedule.js';
import { scatterAddKernel, topkKernel } from './select.js';

const ALWAYS = new Set(['input', 'param', 'einsum', 'reduce', 'topk', 'scatter_add', 'cumsum']);
const CONST = new Set(['full', 'iota', 'dim']);
const MOVEMENT = new Set(['reshape', 'permute', 'expand', 'slice', 'window', 'pad']);
/**
 * The most ops fused into one element expression along a chain of inputs. A longer chain
 * (thousands of `let`s, each used once) gets a buffer every this many ops, so kernel
 * expressions stay shallow: the expression trees are walked recursively here and in the C
 * renderer, and C compilers limit nesting too. No model comes near it.
 */
export const MAX_FUSED_DEPTH = 64;

/** Which nodes get a buffer. */
function chooseMaterialized(live: readonly Node[], roots: readonly Node[]): Set<Node> {
  const uses = new Map<Node, number>();
  for (const n of live) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  const m = new Set<Node>();
  const cheap = (n: Node): boolean =>
    !m.has(n) && (CONST.has(n.op) || (MOVEMENT.has(n.op) && (m.has(n.inputs[0]!) || cheap(n.inputs[0]!))));
  const isView = (n: Node): boolean => m.has(n) || cheap(n);
  // Fused ops along the deepest chain of inputs of each node that is not materialized.
  const depth = new Map<Node, number>();
  for (const n of live) {
    if (ALWAYS.has(n.op)) m.add(n);
    else if ((uses.get(n) ?? 0) > 1 && !cheap(n)) m.add(n);
    let d = 1;
    for (const i of n.inputs) if (!m.has(i)) d = Math.max(d, (depth.get(i) ?? 0) + 1);
    if (d >= MAX_FUSED_DEPTH) m.add(n);
    depth.set(n, d);
    // Operands read many times get a buffer; under movement ops (a convolution's pad and
    // window) the buffer goes below them, so the window stays a view and is not copied.
    // gcc 12 (-O2 and up with -fopenmp) miscompiles an `omp simd` loop whose load address is
    // computed from a comparison (a gather index `(int64_t)(x >= c)` reads -1 for true): an
    // index that a bool feeds is computed into a buffer of its own first.
    if ((n.op === 'gather' || n.op === 'scatter_add') && !m.has(n.inputs[1]!) && fedByBool(n.inputs[1]!, m))
      m.add(n.inputs[1]!);
    if (n.op === 'einsum' || n.op === 'topk')
      for (const i of n.inputs) {
        if (isView(i)) continue;
        let base = i;
        while (MOVEMENT.has(base.op)) base = base.inputs[0]!;
        m.add(base);
        if (!isView(i)) m.add(i);
      }
  }
  for (const r of roots) m.add(r);
  return m;
}

/** Whether a bool value is computed into `n` by the ops that would fuse into its reader. */
function fedByBool(n: Node, m: ReadonlySet<Node>): boolean {
  const seen = new Set<Node>();
  const stack = [n];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    if (x.type.dtype === 'bool') return true;
    if (x === n || !m.has(x)) stack.push(...x.inputs);
  }
  return false;
}

export interface LowerOptions {
  /** The GEMM blocking (default: chosen for this machine's CPU). */
  readonly gemm?: GemmSchedule;
}

export function lowerGraph(g: Graph, opts: LowerOptions = {}): Plan {
  const gemm = opts.gemm ?? hostSchedule();
  const live = liveNodes(g);
  const roots = [...g.outputs.map((o) => o.node), ...g.updates.map((u) => u.node)];
  const mat = chooseMaterialized(live, roots);
  const tables = new PlanTables();
  const buffers = new Map<Node, number>();
  const inputs = g.inputs.map((n) => {
    const buffer = tables.buffer(n.type.dtype, numel(n.type.shape), 'input');
    buffers.set(n, buffer);
    return { name: n.args.name, buffer, dtype: n.type.dtype, shape: n.type.shape };
  });
  const params = live
    .filter((n): n is NodeOf<'param'> => n.op === 'param')
    .map((n) => {
      const buffer = tables.buffer(n.type.dtype, numel(n.type.shape), 'param');
      buffers.set(n, buffer);
      const { path, role, dtype, shape, init } = n.args;
      return { path, buffer, role, dtype, shape, init };
    });
  // Outputs get their own buffers; a node that is already one (an input, a param, another output) is copied.
  const copies: { node: Node; buffer: number }[] = [];
  const outputs = g.outputs.map(({ name, node }) => {
    let buffer = buffers.get(node);
    if (buffer === undefined) {
      buffer = tables.buffer(node.type.dtype, numel(node.type.shape), 'output');
      buffers.set(node, buffer);
    } else {
      buffer = tables.buffer(node.type.dtype, numel(node.type.shape), 'output');
      copies.push({ node, buffer });
    }
    return { name, buffer, dtype: node.type.dtype, shape: node.type.shape };
  });
  // Launch order, and the updates whose kernels write straight into their persistent buffer.
  const order = launchOrder(live, g);
  const inPlace = inPlaceUpdates(g, order, mat, kindOf);
  for (const [u, p] of inPlace) buffers.set(u, buffers.get(p)!);
  for (const n of live) {
    if (mat.has(n) && !buffers.has(n)) buffers.set(n, tables.buffer(n.type.dtype, numel(n.type.shape), 'transient'));
  }
  const fuser = new Fuser(buffers);
  const kernels: Kernel[] = [];
  const byKey = new Map<string, number>();
  const launches: Launch[] = [];
  const emit = (kind: string, build: (kb: KernelBuilder) => KStmt[], note: string): void => {
    const kb = new KernelBuilder(tables);
    const body = build(kb);
    const { kernel, args } = kb.finish(kind, body, note, kind === 'gemm' ? { ...gemm } : {});
    // argsKey keeps NaN, ±Inf and -0 apart (plain JSON would merge them with null and 0).
    const key = argsKey([kernel.params, kernel.body]);
    let index = byKey.get(key);
    if (index === undefined) {
      index = kernels.length;
      byKey.set(key, index);
      kernels.push({ ...kernel, name: `k${index}_${kind}` });
    }
    launches.push({ kernel: index, args });
  };
  for (const n of order) {
    const out = buffers.get(n);
    if (out === undefined || n.op === 'input' || n.op === 'param') continue;
    const note = `${n.op} %${n.id}${n.path ? ` in ${n.path}` : ''}`;
    emit(kindOf(n), (kb) => kernelFor(kb, fuser, n, out, gemm), note);
  }
  for (const { node, buffer } of copies) emit('copy', (kb) => copyKernel(kb, fuser, node, buffer), 'output copy');
  // Updates are applied one after another once the launches are done, so an update whose
  // value is another param or buffer (`set b = a` beside `set a = x`) copies it first.
  const updates = g.updates
    .filter((u) => !(u.node.op === 'param' && u.node.args.path === u.path) && !inPlace.has(u.node))
    .map((u) => {
      let from = buffers.get(u.node)!;
      if (u.node.op === 'param' || u.node.op === 'input') {
        const copy = tables.buffer(u.node.type.dtype, numel(u.node.type.shape), 'transient');
        emit('copy', (kb) => copyKernel(kb, fuser, u.node, copy), 'update copy');
        from = copy;
      }
      return { path: u.path, from };
    });
  return {
    name: g.name,
    dims: g.dims,
    slots: tables.slots,
    buffers: tables.buffers,
    kernels,
    launches,
    inputs,
    outputs,
    params,
    checks: planChecks(live),
    updates,
  };
}

/** How a materialized node of one op gets its kernel: the kernel's kind (its name's suffix) and body. */
interface KernelRule<K extends OpName> {
  readonly kind: (n: NodeOf<K>) => string;
  readonly build: (kb: KernelBuilder, f: Fuser, n: NodeOf<K>, out: number, gemm: GemmSchedule) => KStmt[];
}

/** Any other op's value is computed element by element, as the fuser computes it inline. */
const ew: KernelRule<OpName> = { kind: () => 'ew', build: (kb, f, n, out) => elementwiseKernel(kb, f, n, out) };
/** Inputs and params are buffers filled by the caller: they have no kernel. */
const noKernel: KernelRule<OpName> = {
  kind: (n) => n.op,
  build: (_kb, _f, n) => {
    throw new Error(`internal: ${n.op} %${n.id} is filled by the caller and has no kernel`);
  },
};

/** Each op's kernel. */
export const KERNELS: { readonly [K in OpName]: KernelRule<K> } = {
  input: noKernel,
  param: noKernel,
  full: ew,
  dim: ew,
  iota: ew,
  random: ew,
  unary: ew,
  binary: ew,
  where: ew,
  reduce: { kind: () => 'reduce', build: reduceKernel },
  reshape: ew,
  permute: ew,
  expand: ew,
  pad: ew,
  slice: ew,
  window: ew,
  concat: ew,
  einsum: {
    kind: (n) => (isGemm(n) ? 'gemm' : 'einsum'),
    build: (kb, f, n, out, gemm) => (isGemm(n) ? gemmKernel(kb, f, n, out, gemm) : einsumKernel(kb, f, n, out)),
  },
  gather: ew,
  scatter_add: { kind: () => 'scatter_add', build: scatterAddKernel },
  cumsum: { kind: () => 'cumsum', build: cumsumKernel },
  cast: ew,
  topk: { kind: () => 'topk', build: topkKernel },
  barrier: ew,
};

const rule = (n: Node): KernelRule<OpName> => KERNELS[n.op] as KernelRule<OpName>;

function kindOf(n: Node): string {
  return rule(n).kind(n);
}

function kernelFor(kb: KernelBuilder, f: Fuser, n: Node, out: number, gemm: GemmSchedule): KStmt[] {
  return rule(n).build(kb, f, n, out, gemm);
}
