// Comparisons at a tie. Two float values that the target and the reference compute in a
// different order (a sum of a layer norm's outputs, which is rounding noise; the mean of
// softmax columns against their max) can be equal in one and differ by an ulp in the other,
// so `x + noise == x` or `max(v) > v` flips. That is not a bug of either. The fuzzer's
// comparison evaluates the reference twice more with every float comparison whose operands
// are within a hair of each other decided one way, then the other (and every float cast to
// bool of a value within a millionth of 0, and every float subtraction of two values within a
// hair, replaced by plus, then minus, the hair; and topk's indices among values within a hair,
// ranked by index first to last, then last to first): an output element that changes with that
// decision depends on a tie and is not compared (as shaken inputs mark ill-conditioned
// elements, pipeline.ts).

import type { Builder } from '../../src/ir/build.js';
import type { Dtype } from '../../src/ir/dtype.js';
import { isFloat } from '../../src/ir/dtype.js';
import { type Graph, type Node, liveNodes } from '../../src/ir/graph.js';
import { dimConstValue } from '../../src/ir/dims.js';
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
 * where its operands tie, and topk's indices ranking tied values by index (or by `rotate`d
 * index, below), or `undefined` when `g` compares or ranks no floats (nothing can tie).
 */
export function tieGraph(g: Graph, answer: boolean, rotate = 0): Graph | undefined {
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
    // topk's indices among values within a hair of each other: softmax rows summed over a
    // block are each 4 but for rounding, so which comes first is the order of the sums (seed
    // 2004586). The values are nudged by a key of their index, more than a hair a step, so
    // near-equal ones are ranked by the key: the index, first first (answer) or last first;
    // or, with `rotate` r, (index + r) mod n, first first: for a group of tied values one r
    // moves every one of its ranks (topkRotations), as no single order can (the middle of
    // three keeps its place when reversed). The values output is left alone: near-equal
    // values are the same within tolerance whatever their order.
    topk: (n, [x], b) => {
      const dtype = n.inputs[0]!.type.dtype;
      if (n.args.output !== 'indices' || !isFloat(dtype)) return undefined;
      found = true;
      const t = TIE[dtype] ?? TIE.f32!;
      const shape = x!.type.shape;
      const axis = n.args.axis < 0 ? n.args.axis + shape.length : n.args.axis;
      const v = b.cast(x!, 'f32');
      const step = b.binary(
        'add',
        b.binary('mul', b.unary('abs', v), b.scalar(2 * t.rtol, 'f32')),
        b.scalar(2 * t.atol, 'f32'),
      );
      const index = b.iota(axis, 'i32', shape);
      const size = dimConstValue(shape[axis]!);
      const key =
        rotate > 0 && size !== undefined
          ? b.binary('mod', b.binary('add', index, b.scalar(rotate, 'i32')), b.scalar(size, 'i32'))
          : index;
      const sign = rotate > 0 || answer ? -1 : 1;
      const nudge = b.binary('mul', b.binary('mul', step, b.cast(key, 'f32')), b.scalar(sign, 'f32'));
      return b.topk(b.binary('add', v, nudge), n.args.k, axis, 'indices');
    },
  });
  return found ? r.graph : undefined;
}

/** The rotations of tieGraph's topk rule for `g`: 1 .. n − 1 for its longest topk axis of n values. */
export function topkRotations(g: Graph): number[] {
  let n = 0;
  for (const x of liveNodes(g))
    if (x.op === 'topk' && x.args.output === 'indices') {
      const shape = x.inputs[0]!.type.shape;
      const axis = x.args.axis < 0 ? x.args.axis + shape.length : x.args.axis;
      n = Math.max(n, dimConstValue(shape[axis]!) ?? 0);
    }
  return Array.from({ length: Math.max(0, n - 1) }, (_, i) => i + 1);
}
