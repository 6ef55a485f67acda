// Expressions: names, literals, operators (compile-time folding and tensor broadcasting),
// indexing, tuples and lists, compile-time `if`. Calls are in calls.ts.

import type * as A from '../ast.js';
import { suggest } from '../diagnostics.js';
import {
  type Dim,
  dimAdd,
  dimConst,
  dimConstValue,
  dimDiv,
  dimBeyondI64,
  DimTooComplex,
  dimEquals,
  dimIsInteger,
  dimSymbols,
  dimMod,
  dimMul,
  dimNeg,
  dimSub,
  dimToString,
} from '../../ir/dims.js';
import { DTYPES } from '../lexer.js';
import type { Span } from '../source.js';
import type { BinaryFn } from '../../ir/ops.js';
import { describe, type Dtype, ERROR, isFloat, isInt, tensor, type TensorT, typeToString, type V } from '../types.js';
import { binaryNode, emit, matmulNode, nodeOf } from './emit.js';
import { lowerBinding } from './lower-params.js';
import { evalCall } from './calls.js';
import { evalIndex } from './indexing.js';
import { childCtx, type Ctx } from './context.js';
import { hasTopLevel, resolveTopLevel } from './toplevel.js';
import { broadcast, broadcastShapes, originNotes } from './shapes.js';
import { checkShapeLimits } from './limits.js';
import { divisibleAtRunTime } from './requires.js';

export function evalExpr(ctx: Ctx, e: A.Expr): V {
  let v = evalExprKind(ctx, e);
  if (v.kind === 'tensor' && !checkShapeLimits(ctx, v.t.shape.dims, e.span)) v = ERROR;
  // Every compile-time integer fits in 64 bits, whichever operation made it (FM0316).
  if (v.kind === 'int') v = intValue(ctx, v.dim, e.span);
  ctx.checker.observer?.(e, v);
  return v;
}

function evalExprKind(ctx: Ctx, e: A.Expr): V {
  switch (e.kind) {
    case 'Int':
      return { kind: 'int', dim: dimConst(e.value) };
    case 'Float':
      return { kind: 'float', value: e.value };
    case 'Str':
      return { kind: 'str', value: e.value };
    case 'Bool':
      return { kind: 'bool', value: e.value };
    case 'Name':
      return lookupName(ctx, e.name, e.span);
    case 'Ellipsis':
      if (!ctx.fnEllipsis) {
        ctx.checker.error('FM0412', e.span, [
          'an expression',
          '`...` (only a function whose signature has `...` can use it)',
        ]);
        return ERROR;
      }
      return ctx.fnEllipsis;
    case 'Paren':
      return evalExpr(ctx, e.inner);
    case 'Tuple':
      return { kind: 'tuple', items: e.items.map((i) => evalExpr(ctx, i)) };
    case 'List':
      return { kind: 'list', items: e.items.map((i) => evalExpr(ctx, i)) };
    case 'Unary':
      return evalUnary(ctx, e.op, evalExpr(ctx, e.operand), e.span);
    case 'Binary':
      return evalBinary(ctx, e.op, evalExpr(ctx, e.left), evalExpr(ctx, e.right), e.opSpan, e.span);
    case 'Call':
      return evalCall(ctx, e.callee, evalExpr(ctx, e.callee), [], e.args, e.span);
    case 'Pipe':
      return evalCall(
        ctx,
        e.fn,
        evalExpr(ctx, e.fn),
        [{ value: evalExpr(ctx, e.value), span: e.value.span }],
        e.args,
        e.span,
      );
    case 'Index':
      return evalIndex(ctx, evalExpr(ctx, e.target), e.indices, e.span);
    case 'If':
      return evalIf(ctx, e);
    case 'Member':
      return evalMember(ctx, evalExpr(ctx, e.target), e);
  }
}

/** `child.name`: a param, buffer, function, child or let of a child block instance. */
function evalMember(ctx: Ctx, target: V, e: A.Expr & { kind: 'Member' }): V {
  if (target.kind === 'error' || e.name.name === '') return ERROR;
  if (target.kind !== 'child' || target.child.multi) {
    const what =
      target.kind === 'child'
        ? `\`${target.child.decl.name.name}\` (a ${target.child.multi!.mode} of blocks)`
        : describe(target);
    ctx.checker.error('FM0210', e.name.span, [what, e.name.name]);
    return ERROR;
  }
  const inst = target.child.inst;
  const b = inst.scope.get(e.name.name);
  if (!b || b.what === 'hyperparameter') {
    const s = suggest(
      e.name.name,
      [...inst.scope].filter(([, x]) => x.what !== 'hyperparameter').map(([k]) => k),
    );
    ctx.checker.error('FM0210', e.name.span, [`\`${target.child.decl.name.name}\``, e.name.name], {
      help: s ? `did you mean \`${s}\`?` : undefined,
    });
    return ERROR;
  }
  if (b.value.kind === 'absent') {
    ctx.checker.error('FM0210', e.name.span, [`\`${target.child.decl.name.name}\``, e.name.name], {
      notes: [{ message: 'it exists only when this condition holds', span: b.value.cond }],
    });
    return ERROR;
  }
  return ctx.checker.lowering ? lowerBinding(ctx, inst, target.path, e.name.name, b) : b.value;
}

export function lookupName(ctx: Ctx, name: string, span: Span): V {
  if (name === '') return ERROR; // a placeholder left by syntax error recovery
  const b = ctx.scope.lookup(name);
  if (b) {
    if (b.value.kind === 'absent') {
      ctx.checker.error('FM0200', span, [name], {
        notes: [
          { message: `\`${name}\` exists only when this condition holds, and here it does not`, span: b.value.cond },
        ],
      });
      return ERROR;
    }
    return ctx.checker.lowering ? lowerBinding(ctx, ctx.owner, ctx.path, name, b) : b.value;
  }
  const top = resolveTopLevel(ctx, name, span);
  if (top) return top;
  if ((DTYPES as readonly string[]).includes(name)) return { kind: 'dtype', value: name as Dtype };
  if (name === 'training') {
    if (!ctx.allowTensors) {
      ctx.checker.error('FM0300', span, [
        '`training`, which is known only inside functions (it decides what a function computes, not which members a block has)',
      ]);
      return ERROR;
    }
    return { kind: 'bool', value: ctx.checker.lowering?.training };
  }
  if (name === 'inf') return { kind: 'float', value: Infinity };
  if (name === 'nan') return { kind: 'float', value: NaN };
  // An option of an enum-typed value in scope (`dispatch == capacity`).
  for (const n of ctx.scope.allNames()) {
    const v = ctx.scope.lookup(n)?.value;
    if (v?.kind === 'enum' && v.options.includes(name)) return { kind: 'name', value: name };
  }
  const mod = ctx.checker.program.moduleByPath(ctx.module);
  // A failed import may have provided the name: its error is enough.
  if (mod?.incomplete) return ERROR;
  const s = ctx.checker.canSuggest()
    ? suggest(name, [...ctx.scope.allNames(), ...(mod?.names.keys() ?? [])])
    : undefined;
  const std = ctx.checker.program.stdModuleOf(name);
  const help = std
    ? `\`${name}\` is defined in \`${std}\`: add \`import "${std}"\``
    : s
      ? `did you mean \`${s}\`?`
      : undefined;
  ctx.checker.error('FM0200', span, [name], { help });
  return ERROR;
}

/** Whether a name resolves to anything, without reporting. */
export function isKnownName(ctx: Ctx, name: string): boolean {
  if (ctx.scope.lookup(name) || hasTopLevel(ctx, name)) return true;
  if ((DTYPES as readonly string[]).includes(name) || ['training', 'inf', 'nan'].includes(name)) return true;
  return ctx.scope.allNames().some((n) => {
    const v = ctx.scope.lookup(n)?.value;
    return v?.kind === 'enum' && v.options.includes(name);
  });
}

// ---------------------------------------------------------------- compile-time arithmetic

function num(v: V): number | undefined {
  if (v.kind === 'int') return dimConstValue(v.dim);
  if (v.kind === 'float') return v.value;
  return undefined;
}

function isScalar(v: V): v is Extract<V, { kind: 'int' | 'float' }> {
  return v.kind === 'int' || v.kind === 'float';
}

/** The help of FM0316. */
export const INT_RANGE_HELP =
  'compile-time integers (dims, ints, the coefficients of symbolic dims) range from -2^63 to 2^63 - 1, as in the targets';

/** An int value, or FM0316 at `span` when it is beyond the 64-bit integers. */
export function intValue(ctx: Ctx, dim: Dim, span: Span): V {
  const beyond = dimBeyondI64(dim);
  if (beyond === undefined) return { kind: 'int', dim };
  ctx.checker.error('FM0316', span, [beyond], { help: INT_RANGE_HELP });
  return ERROR;
}

function dimOp(ctx: Ctx, f: () => Dim, span: Span): V {
  try {
    return intValue(ctx, f(), span);
  } catch (e) {
    if (e instanceof DimTooComplex) {
      ctx.checker.error('FM0300', span, [`an expression whose expansion is too large (${e.message})`]);
      return ERROR;
    }
    if (e instanceof RangeError) {
      ctx.checker.error('FM0306', span);
      return ERROR;
    }
    throw e;
  }
}

function staticArith(ctx: Ctx, op: A.BinaryOp, a: V, b: V, span: Span, whole: Span): V {
  if (a.kind === 'int' && b.kind === 'int') {
    switch (op) {
      case '+':
        return dimOp(ctx, () => dimAdd(a.dim, b.dim), span);
      case '-':
        return dimOp(ctx, () => dimSub(a.dim, b.dim), span);
      case '*':
        return dimOp(ctx, () => dimMul(a.dim, b.dim), span);
      case '/': {
        const r = dimOp(ctx, () => dimDiv(a.dim, b.dim), span);
        if (r.kind === 'int' && dimIsInteger(r.dim) === false) {
          ctx.checker.error('FM0307', whole, [dimToString(r.dim), `${dimToString(a.dim)} / ${dimToString(b.dim)}`], {
            help: '`/` on integers is exact division; use `floordiv(a, b)` or `ceildiv(a, b)` to round, `float(a) / b` for a fraction',
          });
          return ERROR;
        }
        if (r.kind === 'int' && dimIsInteger(r.dim) === undefined && !inPattern(r.dim))
          divisibleAtRunTime(ctx, a.dim, b.dim, r.dim, whole);
        return r;
      }
      case '%':
        return dimOp(ctx, () => dimMod(a.dim, b.dim), span);
      case '**': {
        const e = dimConstValue(b.dim);
        if (e !== undefined && e >= 0 && e <= 64) {
          return dimOp(
            ctx,
            () => {
              let r = dimConst(1);
              for (let i = 0; i < e; i++) r = dimMul(r, a.dim);
              return r;
            },
            span,
          );
        }
        const x = dimConstValue(a.dim);
        return { kind: 'float', value: x !== undefined && e !== undefined ? x ** e : undefined };
      }
      default:
        break;
    }
  }
  const x = num(a);
  const y = num(b);
  const known = x !== undefined && y !== undefined;
  switch (op) {
    case '+':
      return { kind: 'float', value: known ? x + y : undefined };
    case '-':
      return { kind: 'float', value: known ? x - y : undefined };
    case '*':
      return { kind: 'float', value: known ? x * y : undefined };
    case '/':
      if (y === 0) {
        ctx.checker.error('FM0306', span);
        return ERROR;
      }
      return { kind: 'float', value: known ? x / y : undefined };
    case '%':
      return { kind: 'float', value: known ? x % y : undefined };
    case '**':
      return { kind: 'float', value: known ? x ** y : undefined };
    default:
      return ERROR;
  }
}

function staticCompare(op: A.BinaryOp, a: V, b: V): V {
  if (a.kind === 'int' && b.kind === 'int' && (op === '==' || op === '!=') && dimEquals(a.dim, b.dim)) {
    return { kind: 'bool', value: op === '==' };
  }
  const x = num(a);
  const y = num(b);
  if (x === undefined || y === undefined) return { kind: 'bool', value: undefined };
  const r =
    op === '=='
      ? x === y
      : op === '!='
        ? x !== y
        : op === '<'
          ? x < y
          : op === '<='
            ? x <= y
            : op === '>'
              ? x > y
              : x >= y;
  return { kind: 'bool', value: r };
}

function namedValue(v: V): string | undefined {
  if (v.kind === 'enum' || v.kind === 'name') return v.value;
  if (v.kind === 'dtype') return v.value;
  return undefined;
}

// ---------------------------------------------------------------- operators

export function evalUnary(ctx: Ctx, op: '-' | 'not', v: V, span: Span): V {
  if (v.kind === 'error') return v;
  if (op === '-') {
    if (v.kind === 'int') return { kind: 'int', dim: dimNeg(v.dim) };
    if (v.kind === 'float') return { kind: 'float', value: v.value === undefined ? undefined : -v.value };
    if (v.kind === 'tensor' && v.t.dtype !== 'bool')
      return emit(ctx, tensor(v.t.dtype, v.t.shape, span), (op) => op('unary', { fn: 'neg' }, [nodeOf(v.t)]));
  } else {
    if (v.kind === 'bool') return { kind: 'bool', value: v.value === undefined ? undefined : !v.value };
    if (v.kind === 'tensor' && v.t.dtype === 'bool')
      return emit(ctx, tensor('bool', v.t.shape, span), (op) => op('unary', { fn: 'not' }, [nodeOf(v.t)]));
  }
  ctx.checker.error('FM0419', span, [op === '-' ? '-' : 'not', describe(v)]);
  return ERROR;
}

const ARITH = new Set<A.BinaryOp>(['+', '-', '*', '/', '%', '**']);
const COMPARE = new Set<A.BinaryOp>(['==', '!=', '<', '<=', '>', '>=']);

export function evalBinary(ctx: Ctx, op: A.BinaryOp, a: V, b: V, opSpan: Span, span: Span): V {
  if (a.kind === 'error' || b.kind === 'error') return ERROR;
  if (op === '@') return matmul(ctx, a, b, span);
  if (op === 'and' || op === 'or') return logical(ctx, op, a, b, span);
  if (a.kind !== 'tensor' && b.kind !== 'tensor') {
    if (isScalar(a) && isScalar(b))
      return ARITH.has(op) ? staticArith(ctx, op, a, b, opSpan, span) : staticCompare(op, a, b);
    if (COMPARE.has(op) && (op === '==' || op === '!=')) {
      const x = namedValue(a);
      const y = namedValue(b);
      if (a.kind === 'bool' && b.kind === 'bool') {
        const known = a.value !== undefined && b.value !== undefined;
        return { kind: 'bool', value: known ? (a.value === b.value) === (op === '==') : undefined };
      }
      if (
        (a.kind === 'enum' || a.kind === 'name' || a.kind === 'dtype') &&
        (b.kind === 'enum' || b.kind === 'name' || b.kind === 'dtype')
      ) {
        return { kind: 'bool', value: x === undefined || y === undefined ? undefined : (x === y) === (op === '==') };
      }
    }
    ctx.checker.error('FM0419', opSpan, [op, `${describe(a)} and ${describe(b)}`]);
    return ERROR;
  }
  // At least one tensor: the other may be a weak scalar.
  const ta = tensorOperand(ctx, a, b, op, opSpan);
  const tb = tensorOperand(ctx, b, a, op, opSpan);
  if (!ta || !tb) return ERROR;
  if (ta.dtype !== tb.dtype) {
    ctx.checker.error('FM0401', opSpan, [typeToString(ta), typeToString(tb)], {
      notes: originNotes(ta, tb),
      help: 'convert one side with `cast(x, dtype)`',
    });
    return ERROR;
  }
  if (ARITH.has(op) && ta.dtype === 'bool') {
    ctx.checker.error('FM0419', opSpan, [op, 'bool tensors']);
    return ERROR;
  }
  const shape = broadcast(ctx, ta, tb, span);
  if (!shape) return ERROR;
  const out = tensor(COMPARE.has(op) ? 'bool' : ta.dtype, shape, span);
  return emit(ctx, out, (mk) => binaryNode(mk, BINARY_FN[op]!, a, b));
}

const BINARY_FN: Partial<Record<A.BinaryOp, BinaryFn>> = {
  '+': 'add',
  '-': 'sub',
  '*': 'mul',
  '/': 'div',
  '%': 'mod',
  '**': 'pow',
  '==': 'eq',
  '!=': 'ne',
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
};

/** The tensor type of an operand; a scalar takes the other side's dtype and rank 0. */
function tensorOperand(ctx: Ctx, v: V, other: V, op: A.BinaryOp, span: Span): TensorT | undefined {
  if (v.kind === 'tensor') return v.t;
  const o = other.kind === 'tensor' ? other.t : undefined;
  if (!o) return undefined;
  const scalarShape = { prefix: undefined, dims: [] };
  if (v.kind === 'int' && o.dtype !== 'bool') return { dtype: o.dtype, shape: scalarShape, origin: undefined };
  if (v.kind === 'float' && isFloat(o.dtype)) return { dtype: o.dtype, shape: scalarShape, origin: undefined };
  if (v.kind === 'bool' && o.dtype === 'bool') return { dtype: 'bool', shape: scalarShape, origin: undefined };
  ctx.checker.error('FM0419', span, [op, `${typeToString(o)} and ${describe(v)}`], {
    help: isInt(o.dtype) && v.kind === 'float' ? 'cast the tensor to a float dtype first' : undefined,
  });
  return undefined;
}

function logical(ctx: Ctx, op: 'and' | 'or', a: V, b: V, span: Span): V {
  if (a.kind === 'bool' && b.kind === 'bool') {
    if (op === 'and')
      return { kind: 'bool', value: a.value === false || b.value === false ? false : a.value && b.value };
    return {
      kind: 'bool',
      value:
        a.value === true || b.value === true
          ? true
          : a.value === undefined || b.value === undefined
            ? undefined
            : false,
    };
  }
  return evalLogicalTensor(ctx, op, a, b, span);
}

function evalLogicalTensor(ctx: Ctx, op: 'and' | 'or', a: V, b: V, span: Span): V {
  const ok = (v: V) => (v.kind === 'tensor' && v.t.dtype === 'bool') || v.kind === 'bool';
  if (!ok(a) || !ok(b) || (a.kind !== 'tensor' && b.kind !== 'tensor')) {
    ctx.checker.error('FM0419', span, [op, `${describe(a)} and ${describe(b)}`]);
    return ERROR;
  }
  const ta =
    a.kind === 'tensor' ? a.t : { dtype: 'bool' as const, shape: { prefix: undefined, dims: [] }, origin: undefined };
  const tb =
    b.kind === 'tensor' ? b.t : { dtype: 'bool' as const, shape: { prefix: undefined, dims: [] }, origin: undefined };
  const shape = broadcast(ctx, ta, tb, span);
  return shape ? emit(ctx, tensor('bool', shape, span), (mk) => binaryNode(mk, op, a, b)) : ERROR;
}

export function matmul(ctx: Ctx, a: V, b: V, span: Span): V {
  if (a.kind !== 'tensor' || b.kind !== 'tensor') {
    ctx.checker.error('FM0412', span, ['two tensors for `@`', `${describe(a)} and ${describe(b)}`]);
    return ERROR;
  }
  const ta = a.t;
  const tb = b.t;
  const fail = (why: string) => {
    ctx.checker.error('FM0405', span, [typeToString(ta), typeToString(tb), why], { notes: originNotes(ta, tb) });
    return ERROR;
  };
  if (ta.dtype !== tb.dtype) return fail(`dtypes ${ta.dtype} and ${tb.dtype} differ`);
  if (ta.dtype === 'bool') return fail('bool tensors cannot be multiplied');
  if (ta.shape.dims.length < 2 || tb.shape.dims.length < 2) return fail('both operands need at least 2 dims');
  const [n, k1] = ta.shape.dims.slice(-2) as [Dim, Dim];
  const [k2, m] = tb.shape.dims.slice(-2) as [Dim, Dim];
  if (!dimEquals(k1, k2)) return fail(`the inner dims ${dimToString(k1)} and ${dimToString(k2)} differ`);
  const batch = broadcastShapes(
    { prefix: ta.shape.prefix, dims: ta.shape.dims.slice(0, -2) },
    { prefix: tb.shape.prefix, dims: tb.shape.dims.slice(0, -2) },
  );
  if (!('shape' in batch)) return fail(`the batch dims ${batch.a} and ${batch.b} do not broadcast`);
  const bdims = batch.shape.dims;
  const out = tensor(ta.dtype, { prefix: batch.shape.prefix, dims: [...bdims, n, m] }, span);
  return emit(ctx, out, (mk) => matmulNode(mk, ta, tb, bdims, span));
}

// ---------------------------------------------------------------- compile-time if

function evalIf(ctx: Ctx, e: A.IfExpr): V {
  const c = evalExpr(ctx, e.cond);
  if (c.kind === 'error') return ERROR;
  if (c.kind !== 'bool') {
    ctx.checker.error('FM0417', e.cond.span, [describe(c), '`if`']);
    return ERROR;
  }
  const branch = (b: A.BranchBlock | A.IfExpr): V => {
    if (b.kind === 'If') return evalIf(ctx, b);
    const inner = childCtx(ctx);
    for (const s of b.stmts) bindLet(inner, s);
    return evalExpr(inner, b.value);
  };
  if (c.value === true) return branch(e.then);
  if (c.value === false) return branch(e.else);
  const a = branch(e.then);
  const b = branch(e.else);
  if (
    a.kind === 'tensor' &&
    b.kind === 'tensor' &&
    (a.t.dtype !== b.t.dtype || !sameDims(a.t.shape.dims, b.t.shape.dims))
  ) {
    ctx.checker.error('FM0418', e.span, [typeToString(a.t), typeToString(b.t)]);
  } else if (a.kind !== b.kind && a.kind !== 'error' && b.kind !== 'error') {
    ctx.checker.error('FM0418', e.span, [describe(a), describe(b)]);
  }
  return a;
}

function sameDims(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => dimEquals(d, b[i]!));
}

// ---------------------------------------------------------------- let

/** Binds a `let` statement's names in the context's scope. */
export function bindLet(ctx: Ctx, s: A.LetStmt, checkType?: (v: V, t: A.TensorTypeExpr) => void): void {
  const v = evalExpr(ctx, s.value);
  if (s.type && checkType && v.kind !== 'error') checkType(v, s.type);
  bindPattern(ctx, s.pattern, v);
}

function bindPattern(ctx: Ctx, p: A.Pattern, v: V): void {
  if (p.kind === 'PatName') {
    if (p.name.name === '_' || p.name.name === '') return;
    ctx.scope.define(p.name.name, {
      value: v.kind === 'tensor' ? { kind: 'tensor', t: { ...v.t, origin: v.t.origin ?? p.span } } : v,
      span: p.name.span,
      what: 'let binding',
    });
    return;
  }
  if (v.kind === 'error') {
    for (const it of p.items) bindPattern(ctx, it, ERROR);
    return;
  }
  if (v.kind !== 'tuple' || v.items.length !== p.items.length) {
    ctx.checker.error('FM0413', p.span, [describe(v), p.items.length]);
    for (const it of p.items) bindPattern(ctx, it, ERROR);
    return;
  }
  p.items.forEach((it, i) => bindPattern(ctx, it, v.items[i]!));
}

/** Whether a dim is in a signature's pattern space (dim variables `v.T`, static params `s.d`). */
const inPattern = (d: Dim): boolean => dimSymbols(d).some((n) => /^[vs]\./.test(n));
