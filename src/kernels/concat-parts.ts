// Concat in parts (GPU device limits, fit-groups.ts): a `concat` whose inputs are more
// buffers than one kernel may bind is stored by one kernel per input, each copying its input
// into its slice of the output along the axis (two buffers a kernel, however many parts).
// A group of kind `concat_part` stores the concat; its one member is the input it copies, and
// `part` that input's position (an input may appear twice).

import { dimAdd, dimConst } from '../ir/dims.js';
import type { KernelGroup, NodeOf } from '../ir/graph.js';
import { type KStmt, add, dot } from '../ir/kernel.js';
import type { KernelBuilder } from './builder.js';
import { nest } from './elementwise.js';
import { type Fuser, stridesOf } from './expr.js';
import { registerKernelBuilder } from './lower.js';

export const CONCAT_PART = 'concat_part';

export interface ConcatPartGroup extends KernelGroup {
  readonly part: number;
}

/** The group copying input `part` of `n` into its slice. */
export const concatPart = (n: NodeOf<'concat'>, part: number): ConcatPartGroup => ({
  kind: CONCAT_PART,
  root: n,
  members: [n.inputs[part]!],
  epilogue: [],
  prologue: [],
  store: n,
  part,
});

function concatPartKernel(kb: KernelBuilder, f: Fuser, k: KernelGroup, out: number): KStmt[] {
  const n = k.store as NodeOf<'concat'>;
  const part = (k as ConcatPartGroup).part;
  const x = n.inputs[part]!;
  const axis = n.args.axis;
  const before = n.inputs.slice(0, part);
  const offset = kb.dim(before.reduce((a, i) => dimAdd(a, i.type.shape[axis]!), dimConst(0)));
  const o = kb.param(out, 'write');
  const st = stridesOf(n.type.shape, kb);
  return nest(kb, x.type.shape, (idx) => [
    {
      k: 'store',
      buf: o,
      index: dot(
        idx.map((e, i) => (i === axis ? add(e, offset) : e)),
        st,
      ),
      value: f.at(kb, x, idx),
    },
  ]);
}

registerKernelBuilder(CONCAT_PART, concatPartKernel);
