// Comparisons at a tie. Two float values that the target and the reference compute in a
// different order (a sum of a layer norm's outputs, which is rounding noise; the mean of
// softmax columns against their max) can be equal in one and differ by an ulp in the other,
// so `x + noise == x` or `max(v) > v` flips. That is not a bug of either. The fuzzer's
// comparison evaluates the reference twice more with every float comparison whose operands
// are within a hair of each other decided one way, then the other (and every float cast to
// bool of a value within a millionth of 0, and every float subtraction of two values within a
// hair, replaced by plus, then minus, the hair): an output element that changes with that
// decision depends on a tie and is not compared (as shaken inputs mark ill-conditioned
// elements, pipeline.ts).

import type { Builder } from '../../src/ir/build.js';
import type { Dtype } from '../../src/ir/dtype.js';
import { isFloat } from '../../src/ir/dtype.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import { isCompare } from '../../src/ir/ops.js';
import { rewrite } from '../../src/ir/rewrite.js';

/** How close two operands must be to count as a tie: relative to their magnitude, plus an absolute floor for noise near 0. */
const TIE: Partial<Record<Dtype, { readonly rtol: number; readonly atol: number }>> = {
  f32: { rtol: 1e-5, atol: 1e-7 },
  f16: { rtol: 2e-3, atol: 1e-5 },
  bf16: { rtol: 1.6e-2, atol: 1e-5 },
};

/** |a − b| ≤ atol + rtol·max(|a|, |b|), computed in f32 (false where either is NaN). */
function near(b: Builder, x: Node, y: Node, dtype: Dtype): Node {
  const t = TIE[dtype] ?? TIE.f32!;
  const a = b.cast(x, 'f32');
  const c = b.cast(y, 'f32');
  const scale = b.binary('max', b.unary('abs', a), b.unary('abs', c));
  const bound = b.binary('add', b.binary('mul', scale, b.scalar(t.rtol, 'f32')), b.scalar(t.atol, 'f32'));
  return b.binary('le', b.unary('abs', b.binary('sub', a, c)), bound);
}

/**
 * x − y where x and y tie: a layer norm's x − mean over a row of equal values is 0 in one
 * order of the mean's sum and an ulp in another, the same ulp in every element of the row, so
 * the normalized row is a coherent offset that shaken inputs (which differ per element) do not
 * reproduce (seed 1091394). The tie is replaced by ± its hair (rtol · max(|x|, |y|)).
 */
function cancellation(b: Builder, x: Node, y: Node, dtype: Dtype, up: boolean): Node {
  const t = TIE[dtype] ?? TIE.f32!;
  const plain = b.binary('sub', x, y);
  const scale = b.binary('max', b.unary('abs', x), b.unary('abs', y));
  const hair = b.binary('mul', scale, b.scalar(up ? t.rtol : -t.rtol, dtype));
  return b.where(near(b, x, y, dtype), hair, plain);
}

/**
 * `g` with every float comparison (and cast to bool, a comparison with 0) answering `answer`
 * where its operands tie, or `undefined` when `g` compares no floats (nothing can tie).
 */
export function tieGraph(g: Graph, answer: boolean): Graph | undefined {
  let found = false;
  // `plain`, except `answer` where `tie` holds.
  const decided = (b: Builder, tie: Node, plain: Node): Node =>
    b.where(tie, b.full(answer ? 1 : 0, 'bool', plain.type.shape), plain);
  const r = rewrite(g, {
    binary: (n, [x, y], b) => {
      const dtype = n.inputs[0]!.type.dtype;
      if (n.args.fn === 'sub' && isFloat(dtype)) {
        found = true;
        return cancellation(b, x!, y!, dtype, answer);
      }
      if (!isCompare(n.args.fn) || !isFloat(dtype)) return undefined;
      found = true;
      const plain = b.binary(n.args.fn, x!, y!);
      return decided(b, near(b, x!, y!, dtype), plain);
    },
    // A float cast to bool is `x != 0`: a layer norm over equal values is 0 in one order of
    // sums and an ulp over eps's square root in another (seed 1058288), true in one of them.
    cast: (n, [x], b) => {
      const dtype = n.inputs[0]!.type.dtype;
      if (n.args.dtype !== 'bool' || !isFloat(dtype)) return undefined;
      found = true;
      const plain = b.cast(x!, 'bool');
      // Within a millionth of 0: the sum of a layer norm's outputs (exactly 0 in C, rounding
      // noise in the reference, seed 1090199) is noise at the magnitude of its terms.
      const noise = b.binary('le', b.unary('abs', b.cast(x!, 'f32')), b.scalar(1e-6, 'f32'));
      return decided(b, noise, plain);
    },
  });
  return found ? r.graph : undefined;
}
