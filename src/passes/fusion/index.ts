// The fusion pass: decides what each kernel of the C target contains and attaches it to the
// graph as data (`Graph.groups`, src/ir/graph.ts), which the kernel lowering obeys. It runs
// last, after autodiff and simplify, so the backward graphs of training are fused too. The
// graph's nodes are unchanged. `ctx.options.fusion === false` keeps one kernel per buffered
// node (no epilogues, no row kernels): the kernels fmc made before this pass, for tests and
// for measuring what fusion buys.

import type { Pass } from '../pass.js';
import { planGroups } from './groups.js';

export const fusion: Pass = {
  name: 'fusion',
  run: (graph, ctx) => ({ ...graph, groups: planGroups(graph, { fusion: ctx.options.fusion ?? true }) }),
};

export { type FusionOptions, OP_KIND, bufferedNodes, planGroups, prologueOf } from './groups.js';
