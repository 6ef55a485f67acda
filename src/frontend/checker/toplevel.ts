// File-level names seen from inside a module: constants (evaluated once), functions,
// blocks, and the builtins.

import type { Span } from '../source.js';
import { ERROR, type V } from '../types.js';
import { BUILTIN_NAMES } from './builtins.js';
import { type Ctx, staticCtx } from './context.js';
import { evalExpr } from './expr.js';
import { checkHParamValue } from './hparams.js';

/** Resolves a name declared at file level or imported, or a builtin; undefined if none. */
export function resolveTopLevel(ctx: Ctx, name: string, span: Span): V | undefined {
  const mod = ctx.checker.program.moduleByPath(ctx.module);
  const entry = mod?.names.get(name);
  if (entry) {
    if ('ambiguous' in entry) {
      ctx.checker.error('FM0208', span, [name, entry.ambiguous[0], entry.ambiguous[1]], {
        help: `import it by name from one of them: \`import { ${name} } from "..."\``,
      });
      return ERROR;
    }
    const d = entry.decl;
    if (d.kind === 'Fn') return { kind: 'fn', fn: { decl: d, owner: undefined, module: entry.module }, name };
    if (d.kind === 'Block') return { kind: 'block', decl: d, module: entry.module };
    const memo = ctx.checker.consts.get(d);
    if (memo === 'busy') {
      ctx.checker.error('FM0300', span, [`\`${name}\`, which is defined in terms of itself`]);
      return ERROR;
    }
    if (memo) return memo;
    ctx.checker.consts.set(d, 'busy');
    const cctx = staticCtx(ctx.checker, entry.module);
    let v = evalExpr(cctx, d.value);
    if (v.kind === 'tensor') {
      ctx.checker.error('FM0300', d.value.span, ['a tensor']);
      v = ERROR;
    } else if (d.type && v.kind !== 'error') {
      v = checkHParamValue(cctx, d.type, v, d.value.span);
    }
    ctx.checker.consts.set(d, v);
    return v;
  }
  if (BUILTIN_NAMES.has(name)) return { kind: 'builtin', name };
  return undefined;
}

/** Whether a name resolves at file level, without reporting anything. */
export function hasTopLevel(ctx: Ctx, name: string): boolean {
  return ctx.checker.program.moduleByPath(ctx.module)?.names.has(name) === true || BUILTIN_NAMES.has(name);
}
