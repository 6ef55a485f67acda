// Graph → Plan: obeys the kernel groups of the fusion pass (src/passes/fusion/; a graph
// that arrives without them, as tests and tools lower graphs directly, gets them from the
// same function), gives inputs, params and every group's stored node a buffer, emits one
// kernel per group in launch order with everything else computed inline, writes updates in
// place where that is safe (in-place.ts), shares identical kernels (repeated layers render
// once), and lists the launches.

import { type Graph, type KernelGroup, type Node, type NodeOf, argsKey, liveNodes } from '../ir/graph.js';
import { numel } from '../ir/infer.js';
import type { Kernel, KStmt } from '../ir/kernel.js';
import { bufferedNodes, planGroups } from '../passes/fusion/index.js';
import { launchOrder } from '../passes/fusion/order.js';
import { KernelBuilder, PlanTables } from './builder.js';
import { planChecks } from './checks.js';
import { copyKernel, elementwiseKernel } from './elementwise.js';
import { einsumKernel } from './einsum.js';
import { Fuser } from './expr.js';
import { attentionKernel } from './attention.js';
import { attentionGpuKernel } from './attention-gpu.js';
import { type AttentionMatch, matchAttentionAt } from '../passes/fusion/attention-match.js';
import { gemmKernel } from './gemm-select.js';
import { directConv } from './conv-direct.js';
import { directWeightGrad } from './conv-wgrad.js';
import { DEFAULT_GPU_TILED, TILED, type TiledSchedule } from './gemm-tiled.js';
import { inPlaceUpdates } from './in-place.js';
import type { Launch, Plan } from './plan.js';
import { reduceKernel } from './reduce.js';
import { rowsKernel } from './rows.js';
import { cumsumKernel } from './scan.js';
import { type GemmSchedule, hostSchedule } from './schedule.js';
import { scatterAddKernel, topkKernel } from './select.js';

export { MAX_FUSED_DEPTH } from '../passes/fusion/materialize.js';

/** Each op's kernel kind when it is a kernel alone (the fusion pass's table). */
export { OP_KIND as KERNELS } from '../passes/fusion/index.js';

export interface LowerOptions {
  /** The GEMM blocking (default: chosen for this machine's CPU). */
  readonly gemm?: GemmSchedule;
  /** For a graph without groups: fuse epilogues and rows (default true), as the fusion pass does. */
  readonly fusion?: boolean;
  /** For a graph without groups: attention as one kernel (default: unless FMC_ATTENTION=0). */
  readonly attention?: boolean;
  /**
   * The kind of machine the kernels run on (default cpu). On 'gpu' the kernels use no
   * thread-local arrays, no `mma` and no packed plan buffers: a GEMM computes one output
   * element per parallel iteration (gemm-plain.ts) and attention is the tiled flash kernel of
   * attention-gpu.ts (taken apart into GEMMs and row kernels when `workgroups` is false).
   */
  readonly target?: 'cpu' | 'gpu';
  /**
   * 'gpu': how GEMM groups run: tiled through workgroup memory (gemm-tiled.ts; the schedule
   * given, or TILED for true), or one output element per invocation (false). Default:
   * DEFAULT_GPU_TILED, or tiled when the environment has FMC_GPU_TILED=1.
   */
  readonly tiled?: TiledSchedule | boolean;
  /**
   * 'gpu': whether GEMMs of f16 or bf16 operands run on typed tiles (gemm-frag.ts: m16n8k16
   * fragments, tensor cores on CUDA). Default false, or true when the environment has
   * FMC_GPU_FRAGMENTS=1; WGSL expands fragments through workgroup memory (slow on SwiftShader).
   */
  readonly fragments?: boolean;
  /** With fragments: weights the sparsity pass marked 2:4 on mma.sp (CUDA only). */
  readonly sparseFragments?: boolean;
  /**
   * 'gpu': whether reductions with a long reduced extent take a workgroup per output
   * (reduce-gpu.ts: workgroup memory and barriers). Default true; false keeps them loop nests
   * that a C dialect can also render (test/kernels/gpu-lower.test.ts).
   */
  readonly workgroups?: boolean;
}

export function lowerGraph(g: Graph, opts: LowerOptions = {}): Plan {
  const tiled = opts.tiled ?? (DEFAULT_GPU_TILED || process.env.FMC_GPU_TILED === '1');
  const fragments = opts.fragments ?? process.env.FMC_GPU_FRAGMENTS === '1';
  const gemm = {
    ...(opts.gemm ?? hostSchedule()),
    gpuTiled: tiled === true ? TILED : tiled,
    ...(fragments ? { gpuFragments: true } : {}),
    ...(fragments && opts.sparseFragments ? { gpuSparseFragments: true } : {}),
  };
  const live = liveNodes(g);
  const target = opts.target ?? 'cpu';
  let groups = g.groups ?? planGroups(g, { fusion: opts.fusion ?? true, attention: opts.attention });
  if (target === 'gpu' && opts.workgroups === false && groups.some((k) => k.kind === 'attention'))
    groups = planGroups(g, { fusion: opts.fusion ?? true, attention: false });
  const mat = bufferedNodes(g, groups);
  // Groups belong to the graph they were planned on: a pass that rebuilt it must drop them.
  for (const r of [...g.outputs, ...g.updates]) {
    if (!mat.has(r.node))
      throw new Error(`internal: the kernel groups do not store result %${r.node.id} (stale groups?)`);
  }
  const groupOf = new Map(groups.map((k) => [k.store, k]));
  const kindOf = (n: Node): string => groupOf.get(n)?.kind ?? n.op;
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
  const launch = (kind: string, kernel: Kernel, args: number[]): void => {
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
  const emit = (kind: string, build: (kb: KernelBuilder) => KStmt[], note: string): void => {
    const kb = new KernelBuilder(tables, target, opts.workgroups ?? true);
    const body = build(kb);
    const { kernel, args } = kb.finish(kind, body, note, kind === 'gemm' && target === 'cpu' ? { ...gemm } : {});
    for (const b of kb.before) launch(kind, b.kernel, b.args);
    launch(kind, kernel, args);
  };
  for (const k of groups) {
    const out = buffers.get(k.store)!;
    emit(k.kind, (kb) => builderOf(k.kind)(kb, fuser, k, out, gemm, target), noteOf(k));
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

/** Where a kernel came from, for its comment: the root op and node, what else it fuses, the block path. */
function noteOf(k: KernelGroup): string {
  const n = k.root;
  const more = k.members.length + k.epilogue.length;
  const fused = more > 0 ? ` + ${more} fused, stores %${k.store.id}` : '';
  return `${n.op} %${n.id}${fused}${n.path ? ` in ${n.path}` : ''}`;
}

/** Builds the body of one group's kernel, storing into buffer `out`. */
export type GroupBuilder = (
  kb: KernelBuilder,
  f: Fuser,
  k: KernelGroup,
  out: number,
  gemm: GemmSchedule,
  target: 'cpu' | 'gpu',
) => KStmt[];

/** Kernel builders by group kind; a matcher that adds a kind (attention) registers its builder here. */
const BUILDERS = new Map<string, GroupBuilder>([
  ['ew', (kb, f, k, out) => elementwiseKernel(kb, f, k.store, out)],
  ['reduce', (kb, f, k, out) => reduceKernel(kb, f, k.store as NodeOf<'reduce'>, out)],
  [
    'gemm',
    (kb, f, k, out, gemm, target) =>
      directConv(kb, f, k.root as NodeOf<'einsum'>, out, k.epilogue) ??
      directWeightGrad(kb, f, k.root as NodeOf<'einsum'>, out, k.epilogue) ??
      gemmKernel(kb, f, k.root as NodeOf<'einsum'>, out, gemm, k.epilogue, target),
  ],
  ['einsum', (kb, f, k, out) => einsumKernel(kb, f, k.store as NodeOf<'einsum'>, out)],
  ['rows', (kb, f, k, out) => rowsKernel(kb, f, k, out)],
  [
    'attention',
    (kb, f, k, out, gemm, target) =>
      target === 'gpu'
        ? attentionGpuKernel(kb, f, attentionOf(k), out)
        : attentionKernel(kb, f, attentionOf(k), out, gemm),
  ],
  ['topk', (kb, f, k, out) => topkKernel(kb, f, k.store as NodeOf<'topk'>, out)],
  ['scatter_add', (kb, f, k, out) => scatterAddKernel(kb, f, k.store as NodeOf<'scatter_add'>, out)],
  ['cumsum', (kb, f, k, out) => cumsumKernel(kb, f, k.store as NodeOf<'cumsum'>, out)],
]);

export function registerKernelBuilder(kind: string, build: GroupBuilder): void {
  BUILDERS.set(kind, build);
}

/** The attention chain of an `attention` group, as the fusion pass matched it. */
function attentionOf(k: KernelGroup): AttentionMatch {
  const m = k.store.op === 'einsum' ? matchAttentionAt(k.store, new Map(), new Set()) : undefined;
  if (!m) throw new Error(`internal: the attention group storing %${k.store.id} no longer matches`);
  return m;
}

function builderOf(kind: string): GroupBuilder {
  const b = BUILDERS.get(kind);
  if (!b) throw new Error(`internal: no kernel builder for groups of kind ${kind}`);
  return b;
}
