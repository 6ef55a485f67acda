// The run-time conditions of a graph that kernels do not test element by element: every
// size is non-negative, slices read inside their input, gather indexes a non-empty axis,
// topk's k fits its axis. The interpreter raises EvalError on each; the compiled plan
// checks them once per binding, before any kernel could read out of bounds.

import { type Dim, dimAdd, dimConst, dimConstValue, dimKey, dimMul, dimSub, dimSym, dimSymbols } from '../ir/dims.js';
import type { Node } from '../ir/graph.js';
import { numel } from '../ir/infer.js';
import type { PlanCheck } from './plan.js';

const where = (n: Node): string => `${n.op}${n.path ? ` in ${n.path}` : ''}`;

export function planChecks(live: readonly Node[]): PlanCheck[] {
  const out = new Map<string, PlanCheck>();
  const add = (value: Dim, what: string, unless?: Dim): void => {
    const c = dimConstValue(value);
    if (c !== undefined && c >= 0) return;
    // A bare symbol is bound from an input's shape or checked by bindDims: never negative.
    if (
      value.terms.length === 1 &&
      dimSymbols(value).length === 1 &&
      dimKey(value) === dimKey(dimSym(dimSymbols(value)[0]!))
    )
      return;
    if (unless !== undefined && dimConstValue(unless) === 0) return;
    const key = `${dimKey(value)}|${unless ? dimKey(unless) : ''}`;
    if (!out.has(key)) out.set(key, { value, ...(unless ? { unless } : {}), what });
  };
  for (const n of live) {
    for (const d of n.type.shape) add(d, `a size of ${where(n)} is negative`);
    const x = n.inputs[0];
    if (n.op === 'slice' && x) {
      n.args.starts.forEach((start, k) => {
        const size = n.args.sizes[k]!;
        const last = dimAdd(start, dimMul(dimSub(size, dimConst(1)), dimConst(n.args.steps[k]!)));
        add(start, `${where(n)} starts before its input`, size);
        add(dimSub(dimSub(x.type.shape[k]!, dimConst(1)), last), `${where(n)} reads past the end of its input`, size);
      });
    }
    if (n.op === 'gather' && x)
      add(dimSub(x.type.shape[n.args.axis]!, dimConst(1)), `${where(n)} indexes an empty axis`, numel(n.type.shape));
    if (n.op === 'topk' && x)
      add(dimSub(x.type.shape[n.args.axis]!, dimConst(n.args.k)), `${where(n)}: k is larger than the axis`);
  }
  return [...out.values()];
}
