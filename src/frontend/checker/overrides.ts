// `--set name=value`: a model's hyperparameters overridden from outside the file. Each
// value is a compile-time expression in the language (`64`, `2 * 64`, `4 * d`, `relu`,
// `bf16`, `post`), parsed here and evaluated where the default would be: in the model's
// module, after the hyperparameters declared before it. The overrides live in a virtual
// source named `--set` (one `name=value` line each), so their diagnostics point at the
// text the user gave. Only a model checked as a root (not one used as a child block) is
// overridden.

import type * as A from '../ast.js';
import { type Diagnostic, diag, note, suggest } from '../diagnostics.js';
import { parseSource } from '../parse.js';
import type { Program } from '../program.js';
import { SourceFile, type Span } from '../source.js';
import { ERROR, type V } from '../types.js';
import type { Checker, Ctx } from './context.js';
import { evalExpr } from './expr.js';
import { checkHParamValue, enumArg } from './hparams.js';

/** A value as the API takes it: a number or bool, or the text of a compile-time expression. */
export type HParamValue = number | boolean | string;
/** Hyperparameter overrides by name (`{ d: 64, act: 'relu' }`). */
export type HParamSet = Readonly<Record<string, HParamValue>>;

/** The display name of the virtual source that holds the overrides. */
export const SET_FILE = '--set';

/** One override: its value parsed (undefined when its text is invalid, already reported). */
export interface Override {
  readonly name: string;
  readonly text: string;
  readonly expr: A.Expr | undefined;
}

/** The overrides of each model they apply to. */
export interface Overrides {
  /** The name of their source (SET_FILE, or the flag that gave them: `--teacher-set`). */
  readonly source: string;
  readonly byModel: ReadonlyMap<A.BlockDecl, ReadonlyMap<string, Override>>;
}

/** The text a value is parsed from (`true`, `0.5`, `2 * 64`). */
export function valueSource(v: HParamValue): string {
  return typeof v === 'string' ? v : String(v);
}

const PREFIX = 'const _ = ';

/**
 * Parses the overrides and matches them with the models of the root files (`model` picks
 * one by name). An override applies to every such model that declares the name; a name
 * none of them declares is FM0314, a value that does not parse FM0315.
 */
export function prepareOverrides(
  program: Program,
  set: HParamSet | undefined,
  model: string | undefined,
  source = SET_FILE,
): { overrides: Overrides | undefined; diagnostics: Diagnostic[] } {
  const entries = Object.entries(set ?? {});
  if (entries.length === 0) return { overrides: undefined, diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  // One line per override; a value with a line break is shown on one line and refused.
  const lines = entries.map(([name, v]) => `${name}=${valueSource(v).replace(/[\r\n]+/g, ' ')}`);
  const src = new SourceFile(source, lines.join('\n'));
  program.addSource(src);
  let at = 0;
  const parsed = entries.map(([name, v], i): { o: Override; nameSpan: Span } => {
    const start = at;
    at += lines[i]!.length + 1;
    const nameSpan = src.span(start, start + name.length);
    const text = valueSource(v);
    const valueStart = start + name.length + 1;
    const valueSpan = src.span(valueStart, valueStart + lines[i]!.length - name.length - 1);
    const bad = (why: string, span = valueSpan): { o: Override; nameSpan: Span } => {
      diagnostics.push(diag('FM0315', span, [name, why]));
      return { o: { name, text, expr: undefined }, nameSpan };
    };
    if (typeof v === 'number' && !Number.isFinite(v)) return bad(`${v} is not a finite number`);
    if (text.trim() === '') return bad('the value is empty');
    if (/[\r\n]/.test(text)) return bad('the value is more than one line');
    const r = parseSource(source, PREFIX + text);
    const shift = valueStart - PREFIX.length;
    const item = r.ast.items[0];
    const syntax = r.diagnostics.find((d) => d.severity === 'error');
    if (syntax) {
      const s = Math.min(Math.max(syntax.span.start + shift, valueStart), valueSpan.end);
      const e = Math.min(Math.max(syntax.span.end + shift, s), valueSpan.end);
      return bad(syntax.message, src.span(s, e));
    }
    if (r.ast.items.length !== 1 || item?.kind !== 'Const' || item.type)
      return bad('expected one compile-time expression');
    return { o: { name, text, expr: shiftSpans(item.value, shift) }, nameSpan };
  });

  const models = program.roots.flatMap((m) =>
    m.broken
      ? []
      : m.parse.ast.items.filter(
          (d): d is A.BlockDecl => d.kind === 'Block' && d.isModel && (model === undefined || d.name.name === model),
        ),
  );
  // A root that did not parse: its models are not checked, so neither are their names.
  if (models.length === 0 && program.roots.some((m) => m.broken)) return { overrides: undefined, diagnostics };
  // No model of that name: lowering reports it (FM0801).
  if (models.length === 0 && model !== undefined) return { overrides: undefined, diagnostics };
  const byModel = new Map<A.BlockDecl, Map<string, Override>>();
  const names = (d: A.BlockDecl) => d.hparams.map((h) => h.name.name);
  const list = (xs: readonly string[]) => xs.map((x) => `\`${x}\``).join(', ') || 'none';
  for (const { o, nameSpan } of parsed) {
    const targets = models.filter((d) => names(d).includes(o.name));
    if (targets.length === 0) {
      const s = suggest(
        o.name,
        models.flatMap((d) => names(d)),
      );
      const help = s ? `did you mean \`${s}\`?` : undefined;
      const only = models.length === 1 ? models[0]! : undefined;
      const why =
        models.length === 0
          ? 'the files checked declare no model'
          : only
            ? `model \`${only.name.name}\` has no such hyperparameter; its hyperparameters: ${list(names(only))}`
            : `no model checked has such a hyperparameter; ${models.map((d) => `\`${d.name.name}\` has ${list(names(d))}`).join('; ')}`;
      diagnostics.push(
        diag('FM0314', nameSpan, [o.name, why], {
          help,
          notes: only ? [note(`model \`${only.name.name}\` is declared here`, only.name.span)] : [],
        }),
      );
      continue;
    }
    for (const d of targets) {
      const m = byModel.get(d) ?? new Map<string, Override>();
      m.set(o.name, o);
      byModel.set(d, m);
    }
  }
  return { overrides: { source, byModel }, diagnostics };
}

/** The override of a model's hyperparameter, when the model is checked as a root. */
export function overrideOf(checker: Checker, decl: A.BlockDecl, name: string): Override | undefined {
  return decl.isModel ? checker.overrides?.byModel.get(decl)?.get(name) : undefined;
}

/**
 * Evaluates an override where the hyperparameter's default would be evaluated; its errors
 * (a wrong type, an unknown name in the value) get a note pointing at the declaration.
 */
export function overrideValue(
  ctx: Ctx,
  decl: A.BlockDecl,
  h: A.HParam,
  type: A.HParamType | undefined,
  o: Override,
): V {
  if (!o.expr) return ERROR;
  const checker = ctx.checker;
  const before = checker.diagnostics.length;
  const e = o.expr;
  let v: V;
  if (type?.kind === 'EnumType' && e.kind === 'Name' && !ctx.scope.lookup(e.name)) {
    // A bare word for an enum: one of its options (`--set norm=post`), else FM0310.
    v = enumArg(type, e) ?? ERROR;
    if (v.kind === 'error')
      checker.error('FM0310', e.span, [e.name, type.options.map((x) => `\`${x.name}\``).join(', ')]);
  } else {
    v = evalExpr(ctx, e);
  }
  if (v.kind === 'tensor') {
    checker.error('FM0300', o.expr.span, ['a tensor']);
    v = ERROR;
  }
  if (type) v = checkHParamValue(ctx, type, v, o.expr.span);
  const declared = note(`hyperparameter \`${h.name.name}\` of model \`${decl.name.name}\` is declared here`, h.span);
  addNote(checker, before, declared);
  return v;
}

/** `--set d=64 --set layers=2`: the overrides in effect for a model, for notes. */
export function overridesText(checker: Checker, decl: A.BlockDecl): string | undefined {
  const m = checker.overrides?.byModel.get(decl);
  if (!m || m.size === 0) return undefined;
  const flag = checker.overrides!.source;
  return [...m.values()].map((o) => `${flag} ${o.name}=${o.text}`).join(' ');
}

/**
 * Runs the check of a root model; every error it finds outside the `--set` text (a failed
 * `require`, a shape that no longer fits) gets a note saying which overrides were in effect.
 */
export function withOverrides(checker: Checker, decl: A.BlockDecl, f: () => void): void {
  const text = decl.isModel ? overridesText(checker, decl) : undefined;
  const before = checker.diagnostics.length;
  f();
  if (text === undefined) return;
  addNote(
    checker,
    before,
    note(`model \`${decl.name.name}\` is checked with ${text}`),
    (d) => d.span.file !== (checker.overrides?.source ?? SET_FILE),
  );
}

function addNote(
  checker: Checker,
  from: number,
  n: ReturnType<typeof note>,
  which: (d: Diagnostic) => boolean = () => true,
): void {
  const ds = checker.diagnostics;
  for (let i = from; i < ds.length; i++) {
    const d = ds[i]!;
    if (d.severity !== 'error' || d.code === 'FM0108' || !which(d)) continue;
    if (d.notes.some((x) => x.message === n.message)) continue;
    // After the "in X, instantiated here" notes: the overrides are the outermost context.
    ds[i] = { ...d, notes: [...d.notes, n] };
  }
}

/** A copy of a parsed expression with every span moved by `delta` (into the `--set` source). */
function shiftSpans<T>(node: T, delta: number): T {
  if (Array.isArray(node)) return node.map((x: unknown) => shiftSpans(x, delta)) as T;
  if (node === null || typeof node !== 'object') return node;
  const o = node as Record<string, unknown>;
  if (typeof o.file === 'string' && typeof o.start === 'number' && typeof o.end === 'number')
    return { ...o, start: o.start + delta, end: o.end + delta } as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = shiftSpans(v, delta);
  return out as T;
}
