// Calls of `repeat` and `stack` children when lowering: every instance runs with its own
// weights (`layers.0`, `layers.1`, ...); a stack slices its arguments and stacks the results.

import { type Dim, dimConst } from '../../ir/dims.js';
import type { Span } from '../source.js';
import { ERROR, type FnRef, tensor, type V } from '../types.js';
import { type Args, type ArgV, bindParams, callFn } from './calls.js';
import { evalSignature } from './functions.js';
import type { Ctx } from './context.js';
import { constInt, emit, LoweringBudget, nodeOf } from './emit.js';
import { BUDGETS } from './limits.js';

interface MultiCall {
  readonly fwd: FnRef;
  readonly multi: { readonly mode: 'repeat' | 'stack'; readonly count: Dim };
  readonly a: Args;
  readonly span: Span;
  readonly label: string;
  readonly path: string;
}

/** When lowering, `repeat` and `stack` run each instance (`path.0`, `path.1`, ...) with its own weights. */
export function lowerMulti(
  ctx: Ctx,
  fwd: FnRef,
  multi: { readonly mode: 'repeat' | 'stack'; readonly count: Dim },
  a: Args,
  span: Span,
  label: string,
  path: string,
): V {
  const n = constInt(multi.count, `the count of a ${multi.mode}`, span);
  const saved = ctx.checker.lowering?.done;
  try {
    const r = lowerInstances(ctx, { fwd, multi, a, span, label, path }, n);
    ctx.checker.lowering!.done = saved;
    return r;
  } catch (e) {
    // The graph-node budget ran out inside: say how many nodes all the instances would take.
    const L = ctx.checker.lowering;
    if (!(e instanceof LoweringBudget) || e.limit !== BUDGETS.graphNodes || !L || L.done === undefined) throw e;
    const { before, instances } = L.done;
    L.done = undefined;
    const each = Math.max(1, (BUDGETS.graphNodes - before) / Math.max(1, instances));
    const about = Math.round(before + each * n);
    throw new LoweringBudget(
      `\`${label.replace(/\.forward$/, '')}\` (${multi.mode} ${n}) would build about ${about} graph nodes; ${BUDGETS.graphNodes} were reached at instance ${instances} of ${n}`,
      BUDGETS.graphNodes,
      span,
    );
  }
}

/** The `n` instances of a `repeat` or `stack` call, one after another. */
function lowerInstances(ctx: Ctx, call: MultiCall, n: number): V {
  const { fwd, multi, a, span, label, path } = call;
  const L = ctx.checker.lowering!;
  const before = L.builder.all().length;
  if (multi.mode === 'repeat') {
    // The results feed the next instance's leading tensor parameters, in order; the other
    // tensor arguments (`layers(x, mask)`) and compile-time ones (`layers(x, 0.5)`) go to
    // every instance unchanged.
    const sig = evalSignature(ctx.checker, fwd);
    if (!sig) return ERROR;
    const params = sig.params.map((p) => ({ name: p.name, hasDefault: p.hasDefault, type: p.decl.type }));
    const bound = bindParams(ctx, label, params, a, span);
    if (!bound.ok) return ERROR;
    let args = a;
    let r: V = ERROR;
    for (let i = 0; i < n; i++) {
      L.done = { before, instances: i };
      r = callFn(ctx, fwd, args, span, label, `${path}.${i}`);
      if (r.kind === 'error') return r;
      const results = r.kind === 'tuple' ? [...r.items] : [r];
      const named = new Map<string, ArgV & { nameSpan: Span }>();
      sig.params.forEach((p, k) => {
        const value = p.tensor && results.length > 0 ? results.shift() : bound.args[k]?.value;
        if (value) named.set(p.name, { value, span, nameSpan: span });
      });
      args = { pos: [], named };
    }
    return r;
  }
  // stack: instance i takes slice i of every tensor argument; results are stacked on a new axis 0.
  const slice = (arg: ArgV, i: number): ArgV => {
    if (arg.value.kind !== 'tensor') return arg;
    const t = arg.value.t;
    const dims = t.shape.dims;
    const one = tensor(t.dtype, { prefix: undefined, dims: dims.slice(1) }, t.origin);
    const value = emit(ctx, one, (mk) => {
      const starts = dims.map((_, k) => dimConst(k === 0 ? i : 0));
      const sizes = dims.map((d, k) => (k === 0 ? dimConst(1) : d));
      const s = mk('slice', { starts, sizes, steps: dims.map(() => 1) }, [nodeOf(t)]);
      return mk('reshape', { shape: dims.slice(1) }, [s]);
    });
    return { ...arg, value };
  };
  const results: V[] = [];
  for (let i = 0; i < n; i++) {
    L.done = { before, instances: i };
    const named = new Map([...a.named].map(([k, v]) => [k, { ...slice(v, i), nameSpan: v.nameSpan }]));
    const r = callFn(ctx, fwd, { pos: a.pos.map((p) => slice(p, i)), named }, span, label, `${path}.${i}`);
    if (r.kind === 'error') return r;
    results.push(r);
  }
  const stackAll = (items: V[]): V => {
    const first = items[0]!;
    if (first.kind !== 'tensor') return first;
    const t = first.t;
    const out = tensor(t.dtype, { prefix: undefined, dims: [multi.count, ...t.shape.dims] }, span);
    return emit(ctx, out, (mk) => {
      const lifted = items.map((v) =>
        mk('reshape', { shape: [dimConst(1), ...t.shape.dims] }, [nodeOf((v as V & { kind: 'tensor' }).t)]),
      );
      return mk('concat', { axis: 0 }, lifted);
    });
  };
  const r0 = results[0]!;
  if (r0.kind !== 'tuple') return stackAll(results);
  return {
    kind: 'tuple',
    items: r0.items.map((_, k) => stackAll(results.map((r) => (r as V & { kind: 'tuple' }).items[k]!))),
  };
}
