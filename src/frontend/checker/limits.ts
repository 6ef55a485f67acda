// The limits fmc puts on a program, so that no input makes it crash, hang or exhaust
// memory: each is a diagnostic with the construct that exceeds it and by how much. They
// are documented in docs/language.md (Limits); no model in models/ comes near any of them.

import { type Dim, dimConstFrac, dimToString } from '../../ir/dims.js';
import type { Span } from '../source.js';
import type { Ctx } from './context.js';

/** The most axes of a tensor (FM0426): NumPy's limit; kernels index every axis. */
export const MAX_RANK = 64;
/**
 * The most elements of any tensor whose shape is known (FM0427), so that byte sizes and
 * flat indices fit the targets' 64-bit integers: 2^60.
 */
export const MAX_TENSOR_ELEMENTS = 2n ** 60n;
/**
 * The largest dim of a tensor (FM0427): 2^53 - 1, the largest integer every size is exact in
 * where the runtime holds it (a JavaScript number).
 */
export const MAX_DIM = 2n ** 53n - 1n;
/** The most elements of one param or buffer (FM0427): its values are drawn and held in memory, 2^32. */
export const MAX_PARAM_ELEMENTS = 2n ** 32n;
/** The most block instances in one model, counting every instance of a `repeat` or `stack` (FM0317). */
export const MAX_BLOCK_INSTANCES = 100_000;
/** The most calls nested in one another, which lowering inlines (FM0318). */
export const MAX_CALL_DEPTH = 200;
/** The most function calls one call inlines, the calls inside it counted (FM0319). */
export const MAX_INLINED_CALLS = 1_000_000;
/** The most nodes of one lowered graph (FM0803). */
export const MAX_GRAPH_NODES = 1_000_000;

/**
 * The lowering budgets in effect: the limits above, which tests lower to reach them in
 * milliseconds (a graph of a million nodes takes seconds to build).
 */
export const BUDGETS = { graphNodes: MAX_GRAPH_NODES };

/** The product of dims when all are constant, else undefined. */
export function constProduct(dims: readonly Dim[]): bigint | undefined {
  let p = 1n;
  for (const d of dims) {
    const c = dimConstFrac(d);
    if (!c || c.den !== 1n) return undefined;
    p *= c.num < 0n ? -c.num : c.num;
  }
  return p;
}

/**
 * Reports a shape beyond MAX_RANK (FM0426), a constant dim beyond MAX_DIM (FM0427) or, when
 * its dims are constant, beyond `maxElements` elements (FM0427); `what` names the tensor in
 * the message.
 */
export function checkShapeLimits(
  ctx: Ctx,
  dims: readonly Dim[],
  span: Span,
  what = 'a tensor',
  maxElements = MAX_TENSOR_ELEMENTS,
): boolean {
  if (dims.length > MAX_RANK) {
    ctx.checker.error('FM0426', span, [dims.length, MAX_RANK]);
    return false;
  }
  for (const [i, d] of dims.entries()) {
    const c = dimConstFrac(d);
    if (c && c.num > MAX_DIM * c.den) {
      ctx.checker.error('FM0427', span, [`axis ${i} of ${what}`, dimToString(d), '2^53 - 1'], {
        help: 'a dim must be exact in the runtime, which holds sizes as JavaScript numbers',
      });
      return false;
    }
  }
  const n = constProduct(dims);
  if (n !== undefined && n > maxElements) {
    ctx.checker.error('FM0427', span, [what, `${n}`, powerText(maxElements)], {
      help:
        maxElements === MAX_PARAM_ELEMENTS
          ? 'the values of a param or buffer are drawn and held in memory'
          : 'element counts and byte sizes must fit the 64-bit indices of the targets',
    });
    return false;
  }
  return true;
}

/** `2^32` for a power of two, else the number. */
function powerText(n: bigint): string {
  const bits = n.toString(2);
  return /^10*$/.test(bits) && bits.length > 10 ? `2^${bits.length - 1}` : `${n}`;
}
