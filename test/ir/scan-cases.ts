// cumsum along every axis of a tensor in each of the four directions (inclusive or
// exclusive, forward or reverse): the outputs the C and ONNX tests compare.

import type { Builder } from '../../src/ir/build.js';
import type { Node } from '../../src/ir/graph.js';

/** Outputs `<prefix><axis>[e][r]`: e for exclusive, r for reverse. */
export function everyScan(g: Builder, x: Node, prefix: string): Record<string, Node> {
  const out: Record<string, Node> = {};
  for (let axis = 0; axis < x.type.shape.length; axis++)
    for (const exclusive of [false, true])
      for (const reverse of [false, true])
        out[`${prefix}${axis}${exclusive ? 'e' : ''}${reverse ? 'r' : ''}`] = g.cumsum(x, axis, exclusive, reverse);
  return out;
}
