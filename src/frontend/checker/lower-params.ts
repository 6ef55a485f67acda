// Params and buffers when lowering: their initializers, their nodes, and the table of
// every param in a model's instance tree (with `repeat`/`stack` copies as `name.0`, ...).

import type * as A from '../ast.js';
import { dimConstValue } from '../../ir/dims.js';
import type { Node } from '../../ir/graph.js';
import type { BlockInfo } from '../../ir/module.js';
import { INIT_ARGS, INIT_FNS, type Init, type OpArgs } from '../../ir/ops.js';
import type { Binding, BlockInstance, TensorT, V } from '../types.js';
import { type Checker, type Ctx, Scope, staticCtx } from './context.js';
import { LoweringError } from './emit.js';
import { evalExpr } from './expr.js';

export type ParamArgs = OpArgs['param'];

function instanceCtx(checker: Checker, inst: BlockInstance): Ctx {
  const scope = new Scope(undefined);
  for (const [k, b] of inst.scope) scope.define(k, b);
  return staticCtx(checker, inst.module, scope, inst);
}

/** The initializer a param declares, its arguments evaluated in the instance's scope. */
function initOf(checker: Checker, inst: BlockInstance, decl: A.ParamDecl, rank: number): Init {
  const e = decl.init;
  if (!e) return { fn: rank >= 2 ? 'xavier_uniform' : 'zeros', args: {} };
  const name = e.kind === 'Call' && e.callee.kind === 'Name' ? e.callee.name : '';
  const fn = INIT_FNS.find((f) => f === name);
  if (!fn || e.kind !== 'Call') throw new LoweringError(`unknown initializer \`${name}\``, e.span);
  const ctx = instanceCtx(checker, inst);
  const args: Record<string, number> = {};
  const names = INIT_ARGS[fn];
  e.args.forEach((a, i) => {
    const key = a.kind === 'PosArg' ? names[i] : a.name.name;
    const v = evalExpr(ctx, a.value);
    const x = v.kind === 'int' ? dimConstValue(v.dim) : v.kind === 'float' ? v.value : undefined;
    if (key === undefined || x === undefined)
      throw new LoweringError(`an initializer argument that is not a known number`, a.value.span);
    args[key] = x;
  });
  return { fn, args };
}

function paramDecl(inst: BlockInstance, name: string): A.ParamDecl | undefined {
  return inst.decl.members.find((m): m is A.ParamDecl => m.kind === 'Param' && m.name.name === name);
}

/** The `param` op args of member `name` of `inst`, at `path`. */
export function paramArgs(checker: Checker, inst: BlockInstance, name: string, t: TensorT, path: string): ParamArgs {
  const decl = paramDecl(inst, name);
  if (!decl) throw new Error(`lowering: no param \`${name}\` in ${inst.label}`);
  return {
    path,
    role: decl.isBuffer ? 'buffer' : 'param',
    dtype: t.dtype,
    shape: t.shape.dims,
    init: initOf(checker, inst, decl, t.shape.dims.length),
  };
}

/** The node of a param or buffer binding, or undefined when `b` is something else. */
export function paramNode(
  ctx: Ctx,
  inst: BlockInstance | undefined,
  name: string,
  b: Binding,
  path: string,
): V | undefined {
  const L = ctx.checker.lowering;
  if (!L || !inst || (b.what !== 'param' && b.what !== 'buffer') || b.value.kind !== 'tensor') return undefined;
  const args = paramArgs(ctx.checker, inst, name, b.value.t, path);
  const node: Node = L.builder.node('param', args, [], path.split('.').slice(0, -1).join('.'));
  return { kind: 'tensor', t: { ...b.value.t, node } };
}

export const joinPath = (a: string | undefined, b: string): string => (a ? `${a}.${b}` : b);

/** Every param and buffer of an instance tree, in declaration order. */
export function paramTable(checker: Checker, inst: BlockInstance, prefix = ''): ParamArgs[] {
  const out: ParamArgs[] = [];
  for (const [name, b] of inst.scope) {
    const path = joinPath(prefix, name);
    if ((b.what === 'param' || b.what === 'buffer') && b.value.kind === 'tensor') {
      out.push(paramArgs(checker, inst, name, b.value.t, path));
    } else if (b.value.kind === 'child') {
      const { inst: child, multi } = b.value.child;
      if (!multi) {
        out.push(...paramTable(checker, child, path));
        continue;
      }
      const n = dimConstValue(multi.count);
      if (n === undefined) throw new LoweringError(`the count of \`${name}\` must be known`, b.span);
      for (let i = 0; i < n; i++) out.push(...paramTable(checker, child, `${path}.${i}`));
    }
  }
  return out;
}

/** Every block instance of the model by path: its type, functions and `repeat`/`stack` count. */
export function blockTable(inst: BlockInstance, path = '', out = new Map<string, BlockInfo>()): Map<string, BlockInfo> {
  const fns = [...inst.scope].filter(([, b]) => b.what === 'function').map(([k]) => k);
  out.set(path, { type: inst.decl.name.name, fns });
  for (const [name, b] of inst.scope) {
    if (b.value.kind !== 'child') continue;
    const { inst: child, multi } = b.value.child;
    const at = joinPath(path, name);
    const n = multi ? dimConstValue(multi.count) : undefined;
    if (!multi || n === undefined) {
      blockTable(child, at, out);
      continue;
    }
    out.set(at, { type: child.decl.name.name, fns: [], count: n, mode: multi.mode });
    for (let i = 0; i < n; i++) blockTable(child, `${at}.${i}`, out);
  }
  return out;
}

/** When lowering, a member of instance `inst` at `path`: params become nodes, children and functions learn their path. */
export function lowerBinding(
  ctx: Ctx,
  inst: BlockInstance | undefined,
  path: string | undefined,
  name: string,
  b: Binding,
): V {
  const p = paramNode(ctx, inst, name, b, joinPath(path, name));
  if (p) return p;
  if (b.value.kind === 'child') return { ...b.value, path: joinPath(path, name) };
  if (b.value.kind === 'fn' && b.value.fn !== 'builtin-elementwise' && b.value.fn.owner)
    return { ...b.value, path: b.value.path ?? path };
  return b.value;
}
