// The sparsity pass: in the train and accumulate modes a param with a sparse hint (`@sparse`,
// `--sparsity`; src/ir/sparsity.ts) is used as `w · mask`, where the mask is the buffer
// `sparse:mask:<path>` that pruneWeights computes from the weights' magnitudes where they are
// bound. Every use of the param is rewritten, so autodiff's gradient of a pruned weight is
// exactly 0 and the optimizer's state there stays 0; sparse-updates.ts masks the update
// itself too. The other modes read the weights as bound, already pruned (pruneWeights sets
// the pruned ones to 0, and training keeps them there), so they multiply nothing: inference's
// GEMMs still pack their weights once, not at every call, and `grad` is the gradient of the
// function as written with respect to every weight (what `fmc run --grad` reports).
// The mask is a buffer (role `buffer`, init `ones`: unpruned where nobody binds it), never
// differentiated and never updated.

import type { NodeOf } from '../ir/graph.js';
import { maskPath, sparseHintOf } from '../ir/sparsity.js';
import { rewrite } from '../ir/rewrite.js';
import type { Builder } from '../ir/build.js';
import type { Pass, PassContext } from './pass.js';

/** The mask buffer of param node `p`. */
export const maskOf = (b: Builder, p: NodeOf<'param'>): NodeOf<'param'> =>
  b.param(maskPath(p.args.path), p.args.dtype, p.args.shape, 'buffer', { fn: 'ones', args: {} });

/** Whether any param could have a sparse hint (else the pass changes nothing). */
const anySparse = (ctx: PassContext): boolean =>
  [...ctx.hints.params.values(), ...ctx.hints.blocks.values()].some((h) => h.sparse !== undefined);

export const sparsity: Pass = {
  name: 'sparsity',
  run: (g, ctx) => {
    if ((ctx.mode !== 'train' && ctx.mode !== 'accumulate') || !anySparse(ctx)) return g;
    return rewrite(g, {
      param: (n, _, b) => {
        if (!sparseHintOf(ctx.hints, n.args)) return undefined;
        const w = b.node('param', n.args, []);
        return b.within(n.path, 'sparse', () => b.mul(w, maskOf(b, w)));
      },
    }).graph;
  },
};
