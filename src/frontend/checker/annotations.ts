// Annotations: `@precision`, `@quantize`, `@sparse`, `@checkpoint` (docs/language.md,
// "Annotations"). Each is checked against the item it annotates and, for `@quantize` and
// `@sparse`, against the shapes of the params it applies to.

import type * as A from '../ast.js';
import { note, suggest } from '../diagnostics.js';
import { type Dim, dimConst, dimConstValue, dimDiv, dimIsInteger, dimMul, dimToString } from '../../ir/dims.js';
import type { Span } from '../source.js';
import { describe, FLOAT_DTYPES, isFloat, type TensorT, typeToString } from '../types.js';
import type { Ctx } from './context.js';
import { evalExpr } from './expr.js';
import { hasTopLevel } from './toplevel.js';

export interface ParamInfo {
  readonly path: string;
  readonly type: TensorT;
  readonly isBuffer: boolean;
  readonly span: Span;
}

export type AnnotationTarget =
  | { kind: 'param'; param: ParamInfo }
  | { kind: 'child'; name: string; params: readonly ParamInfo[] }
  | { kind: 'block'; name: string; isModel: boolean; params: readonly ParamInfo[] }
  | { kind: 'fn'; name: string }
  | { kind: 'other'; what: string };

type Kind = AnnotationTarget['kind'];
const ALLOWED: Readonly<Record<string, readonly Kind[]>> = {
  precision: ['block', 'child', 'fn'],
  quantize: ['param', 'child', 'block'],
  sparse: ['param', 'child', 'block'],
  checkpoint: ['child', 'block'],
};
const SPARSE_FORMS = 'either `n:m` or `block = b, density = p`';

export function checkAnnotations(ctx: Ctx, anns: readonly A.Annotation[], target: AnnotationTarget): void {
  const seen = new Map<string, A.Annotation>();
  for (const ann of anns) {
    const name = ann.name.name;
    const allowed = Object.hasOwn(ALLOWED, name) ? ALLOWED[name] : undefined;
    if (!allowed) {
      const s = suggest(name, Object.keys(ALLOWED));
      ctx.checker.error('FM0500', ann.span, [name], { help: s ? `did you mean \`@${s}\`?` : undefined });
      continue;
    }
    const first = seen.get(name);
    if (first) {
      ctx.checker.error('FM0506', ann.span, [name], { notes: [note('first given here', first.span)] });
      continue;
    }
    seen.set(name, ann);
    if (!allowed.includes(target.kind)) {
      ctx.checker.error('FM0501', ann.span, [name, targetText(target)]);
      continue;
    }
    const args = ann.args ?? [];
    if (name === 'precision') checkPrecision(ctx, ann, args);
    else if (name === 'quantize') checkQuantize(ctx, ann, args, target);
    else if (name === 'sparse') checkSparse(ctx, ann, args, target);
    else if (args.length > 0) ctx.checker.error('FM0507', ann.span, [name, 'no arguments']);
  }
}

function targetText(t: AnnotationTarget): string {
  if (t.kind === 'param') return t.param.isBuffer ? 'a buffer' : 'a param';
  if (t.kind === 'block') return t.isModel ? 'a model' : 'a block';
  return t.kind === 'child' ? 'a child block instance' : t.kind === 'fn' ? 'a function' : t.what;
}

const orList = (xs: readonly string[]) =>
  xs.length < 2 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]!}`;

/**
 * An option word given bare (`int4`) or as a compile-time value naming one (a dtype or enum
 * hyperparameter). `{ word }` on success, `{ bad, help }` for the caller to report, or
 * undefined when nothing is known (an error already reported, or a generic value).
 */
export function optionWord(
  ctx: Ctx,
  e: A.Expr,
  choices: readonly string[],
): { word: string } | { bad: string; help?: string } | undefined {
  const expected = `expected ${orList(choices.map((c) => `\`${c}\``))}`;
  if (e.kind === 'Name' && !ctx.scope.lookup(e.name) && !hasTopLevel(ctx, e.name)) {
    if (choices.includes(e.name)) return { word: e.name };
    const s = suggest(e.name, choices);
    return { bad: `${expected}, found \`${e.name}\``, ...(s ? { help: `did you mean \`${s}\`?` } : {}) };
  }
  const v = evalExpr(ctx, e);
  const word = v.kind === 'enum' || v.kind === 'name' || v.kind === 'dtype' ? v.value : '';
  if (v.kind === 'error' || word === undefined) return undefined; // reported, or generic
  if (choices.includes(word)) return { word };
  return { bad: `${expected}, found ${describe(v)}` };
}

function bad(ctx: Ctx, ann: A.Annotation, span: Span, reason: string, help?: string): void {
  ctx.checker.error('FM0502', span, [ann.name.name, reason], { help });
}

function checkOption(ctx: Ctx, ann: A.Annotation, e: A.Expr, choices: readonly string[]): void {
  const r = optionWord(ctx, e, choices);
  if (r && 'bad' in r) bad(ctx, ann, e.span, r.bad, r.help);
}

/** A compile-time number (int or float), undefined when unknown (reported as FM0502 when not a number). */
function numberArg(
  ctx: Ctx,
  ann: A.Annotation,
  e: A.Expr,
  what: string,
): { n: number; int: boolean; text: string } | undefined {
  const v = evalExpr(ctx, e);
  if (v.kind === 'int') {
    const c = dimConstValue(v.dim);
    return c === undefined ? undefined : { n: c, int: Number.isInteger(c), text: `${c}` };
  }
  if (v.kind === 'float')
    return v.value === undefined ? undefined : { n: v.value, int: false, text: floatText(e, v.value) };
  if (v.kind !== 'error') bad(ctx, ann, e.span, `${what} must be a number, found ${describe(v)}`);
  return undefined;
}

/** A float argument as a message shows it: a literal as written (`16.0`), else a float (`16.0`, not `16`). */
function floatText(e: A.Expr, value: number): string {
  if (e.kind === 'Float') return e.text;
  return Number.isInteger(value) && Math.abs(value) < 1e21 ? `${value}.0` : `${value}`;
}

/** The named arguments by name; unknown and repeated names are reported. */
function splitArgs(
  ctx: Ctx,
  ann: A.Annotation,
  args: readonly A.AnnotationArg[],
  names: readonly string[],
): Map<string, A.Expr> {
  const named = new Map<string, A.Expr>();
  for (const a of args) {
    if (a.kind !== 'Named') continue;
    const n = a.name.name;
    if (!names.includes(n)) {
      const s = suggest(n, names);
      const expected = orList(names.map((x) => `\`${x}\``));
      bad(ctx, ann, a.name.span, `unknown argument \`${n}\` (expected ${expected})`, s && `did you mean \`${s}\`?`);
    } else if (named.has(n)) bad(ctx, ann, a.span, `\`${n}\` is given more than once`);
    else named.set(n, a.value);
  }
  return named;
}

function checkPrecision(ctx: Ctx, ann: A.Annotation, args: readonly A.AnnotationArg[]): void {
  const a = args[0];
  if (args.length !== 1 || a?.kind !== 'Positional') {
    ctx.checker.error('FM0507', ann.span, ['precision', 'one argument: f32, f16 or bf16']);
    return;
  }
  checkOption(ctx, ann, a.value, FLOAT_DTYPES);
}

/** The params an annotation applies to: the param itself, or every param of rank >= 2 inside. */
function paramsOf(ctx: Ctx, ann: A.Annotation, target: AnnotationTarget, floatOnly: boolean): readonly ParamInfo[] {
  const fits = (p: ParamInfo) => !p.isBuffer && p.type.shape.dims.length >= 2 && (!floatOnly || isFloat(p.type.dtype));
  if (target.kind === 'child' || target.kind === 'block') return target.params.filter(fits);
  if (target.kind !== 'param') return [];
  const p = target.param;
  if (fits(p)) return [p];
  const [what, only] = p.isBuffer
    ? ['a buffer', 'learnable params']
    : !floatOnly || isFloat(p.type.dtype)
      ? [`${typeToString(p.type)}, of rank ${p.type.shape.dims.length}`, 'params of rank 2 or more']
      : [typeToString(p.type), 'float params'];
  bad(ctx, ann, ann.span, `\`${p.path}\` is ${what}; \`@${ann.name.name}\` applies to ${only} only`);
  return [];
}

/** K: the product of a param's dims after the first. */
function reducedSize(p: ParamInfo): Dim {
  return p.type.shape.dims.slice(1).reduce(dimMul, dimConst(1));
}

/** false only when `d` is provably not a multiple of `n` (symbolic cases pass). */
const divides = (n: number, d: Dim) => dimIsInteger(dimDiv(d, dimConst(n))) !== false;

const declNote = (p: ParamInfo) => note(`\`${p.path}\` is declared here as ${typeToString(p.type)}`, p.span);

function checkQuantize(ctx: Ctx, ann: A.Annotation, args: readonly A.AnnotationArg[], target: AnnotationTarget): void {
  const pos = args.filter((a) => a.kind !== 'Named');
  const q = pos[0];
  if (pos.length !== 1 || q?.kind !== 'Positional') {
    ctx.checker.error('FM0507', ann.span, [
      'quantize',
      'one argument, int8 or int4, and optional `group = g` and `scheme = sym` or `asym`',
    ]);
    return;
  }
  checkOption(ctx, ann, q.value, ['int8', 'int4']);
  const named = splitArgs(ctx, ann, args, ['group', 'scheme']);
  const scheme = named.get('scheme');
  if (scheme) checkOption(ctx, ann, scheme, ['sym', 'asym']);
  const groupExpr = named.get('group');
  let group: number | undefined;
  if (groupExpr) {
    const g = numberArg(ctx, ann, groupExpr, 'the group size');
    if (g && (!g.int || g.n <= 0)) {
      bad(ctx, ann, groupExpr.span, `the group size must be a positive integer, found ${g.text}`);
      return;
    }
    group = g?.n;
  }
  const params = paramsOf(ctx, ann, target, true);
  if (group === undefined) return;
  const p = params.find((x) => !divides(group, reducedSize(x)));
  if (p) ctx.checker.error('FM0503', ann.span, [group, dimToString(reducedSize(p)), p.path], { notes: [declNote(p)] });
}

const targetName = (t: AnnotationTarget) => ('param' in t ? t.param.path : 'name' in t ? t.name : t.what);

function checkSparse(ctx: Ctx, ann: A.Annotation, args: readonly A.AnnotationArg[], target: AnnotationTarget): void {
  const ratio = args[0];
  if (ratio?.kind === 'Ratio' && args.length === 1) return checkNM(ctx, ann, ratio, target);
  const known = ['block', 'density'];
  if (args.every((a) => a.kind === 'Named')) {
    const named = splitArgs(ctx, ann, args, known);
    const b = named.get('block');
    const p = named.get('density');
    if (b && p) return checkBlockSparse(ctx, ann, b, p, target);
    if (args.some((a) => a.kind === 'Named' && !known.includes(a.name.name))) return; // reported
  }
  ctx.checker.error('FM0507', ann.span, ['sparse', SPARSE_FORMS]);
}

function checkBlockSparse(ctx: Ctx, ann: A.Annotation, b: A.Expr, p: A.Expr, target: AnnotationTarget): void {
  const name = targetName(target);
  const density = numberArg(ctx, ann, p, 'the density');
  if (density && !(density.n > 0 && density.n <= 1)) {
    ctx.checker.error('FM0505', p.span, [name, `density must be in (0, 1], found ${density.text}`]);
    return;
  }
  const size = numberArg(ctx, ann, b, 'the block size');
  if (!size) return;
  if (!size.int) return bad(ctx, ann, b.span, `the block size must be an integer, found ${size.text}`);
  if (size.n <= 0)
    return ctx.checker.error('FM0505', b.span, [name, `the block size must be positive, found ${size.text}`]);
  for (const x of paramsOf(ctx, ann, target, false)) {
    const dims = x.type.shape.dims.slice(-2);
    const d = dims.find((dim) => !divides(size.n, dim));
    if (d) {
      const reason = `block size ${size.n} does not divide dimension ${dimToString(d)} of ${typeToString(x.type)}`;
      return ctx.checker.error('FM0505', ann.span, [x.path, reason], { notes: [declNote(x)] });
    }
  }
}

function checkNM(
  ctx: Ctx,
  ann: A.Annotation,
  r: Extract<A.AnnotationArg, { kind: 'Ratio' }>,
  target: AnnotationTarget,
) {
  const n = numberArg(ctx, ann, r.n, '`n`');
  const m = numberArg(ctx, ann, r.m, '`m`');
  if (!n || !m) return;
  if (!n.int || !m.int) return bad(ctx, ann, r.span, `\`n:m\` must be integers, found ${n.text}:${m.text}`);
  const text = `${n.n}:${m.n}`;
  if (!(n.n > 0 && n.n < m.n)) {
    return ctx.checker.error('FM0504', r.span, [text, targetName(target), 'it needs 0 < n < m']);
  }
  const p = paramsOf(ctx, ann, target, false).find((x) => !divides(m.n, reducedSize(x)));
  if (p) {
    const reason = `${m.n} does not divide ${dimToString(reducedSize(p))}, the product of its dims after the first`;
    ctx.checker.error('FM0504', ann.span, [text, p.path, reason], { notes: [declNote(p)] });
  }
}
