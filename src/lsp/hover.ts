// Hovers: the checker's inferred type of the expression or binding under the cursor, with
// symbolic dims as the generic check sees them and the concrete ones of each instantiation;
// on a child block (or a block), its instance and parameter count.
//
// Which value is shown: an expression in a block or function is evaluated once generically
// (hyperparameters without defaults and dim variables stay symbols: `f32[B, T, d]`) and
// again for every instantiation or call (`f32[B, T, 512]`). The generic value is the
// truth for all uses, so it comes first; the instantiated values follow when they add
// something (up to six, each with the instantiation it comes from). Code that is checked
// only per instantiation (functions without declared results, blocks with an open dtype
// hyperparameter) has no generic value: a single instantiation is then shown as the value,
// several are listed.
//
// FLOPs: once the server's background lowering of the document's models is done (flops.ts),
// a child block (a call or its declaration) and a model also show their FLOPs per call of
// the model's `forward`; until then, and for text the lowering has not seen, nothing.

import type * as A from '../frontend/ast.js';
import { type Dim, dimMul } from '../ir/dims.js';
import type { Module } from '../frontend/program.js';
import type { Span } from '../frontend/source.js';
import type { BlockInstance, V } from '../frontend/types.js';
import { type Analysis, Instantiated, type ValueEntry } from './analysis.js';
import { childFlopsLines, type ModelFlops, modelFlopsLines } from './flops.js';
import { type Def, nameAt } from './resolve.js';
import { countParams, countText, valueIdentity, valueText } from './values.js';

export interface HoverResult {
  readonly markdown: string;
  readonly span: Span;
}

interface Shown {
  readonly generic: V | undefined;
  readonly instances: readonly Instantiated[];
  readonly more: number;
}

const NOTHING: Shown = { generic: undefined, instances: [], more: 0 };

/**
 * The hover at `offset` of module `m`. `flops`: the FLOPs of the document's lowered models
 * when the background lowering of this analysis is done (see flops.ts); hovers never wait
 * for it.
 */
export function hoverAt(
  a: Analysis,
  m: Module,
  offset: number,
  flops?: readonly ModelFlops[],
): HoverResult | undefined {
  const index = a.index(m);
  const text = (s: Span) => a.program.source(s.file)?.text.slice(s.start, s.end) ?? '';

  const imp = index.imports.find((i) => i.span.start <= offset && offset <= i.span.end);
  if (imp) {
    const target = a.program.modules.get(imp.abs);
    const names = target ? [...target.own.keys()] : [];
    const body = target
      ? `${target.path}\n\n${names.length} declaration${names.length === 1 ? '' : 's'}: ${names.map((n) => `\`${n}\``).join(', ')}`
      : `${imp.abs} (not found)`;
    return { markdown: body, span: imp.span };
  }

  const name = nameAt(index, offset);
  if (name) {
    const def = name.def;
    const entry = name.isDecl ? undefined : a.valueOf(name.span);
    const shown = entry && hasValue(entry) ? fromEntry(entry) : declValue(a, def);
    const parts = [fence(header(def, shown, text))];
    const child = childOf(shown);
    if (child) parts.push(...childLines(child));
    else if (def.kind === 'block' || def.kind === 'model') parts.push(...blockLines(a, def.node as A.BlockDecl));
    if (!name.isDecl && child) {
      // On `attn(...)`: the call's result too.
      const call = a.valueAt(
        name.span.file,
        offset,
        (e) => e.node.kind === 'Call' && e.node.callee.span.start === name.span.start,
      );
      if (call && hasValue(call)) parts.push(`Call result: ${valuesLine(fromEntry(call))}`);
    }
    if (flops && child) parts.push(...childFlopsLines(a, flops, def));
    else if (flops && def.kind === 'model') parts.push(...modelFlopsLines(flops, def.node as A.BlockDecl));
    parts.push(...instanceLines(shown));
    return { markdown: parts.join('\n\n'), span: name.span };
  }

  const entry = a.valueAt(m.path, offset);
  if (!entry || !hasValue(entry)) return undefined;
  const shown = fromEntry(entry);
  const parts = [fence(`${exprLabel(entry.node, text)}: ${primaryText(shown)}`)];
  const child = childOf(shown);
  if (child) parts.push(...childLines(child));
  parts.push(...instanceLines(shown));
  return { markdown: parts.join('\n\n'), span: entry.node.span };
}

/** The first line of a hover on a declaration: `(let) h: f32[B, d]`, a signature (for completion details). */
export function describeDef(a: Analysis, def: Def): string {
  const text = (s: Span) => a.program.source(s.file)?.text.slice(s.start, s.end) ?? '';
  return header(def, declValue(a, def), text);
}

/** The value a binding holds, as a hover leads with it (generic, or the only instantiation). */
export function bindingValue(a: Analysis, def: Def): V | undefined {
  return primary(declValue(a, def));
}

function hasValue(e: ValueEntry): boolean {
  return e.generic !== undefined || e.instances.length > 0;
}

function fromEntry(e: ValueEntry): Shown {
  return { generic: e.generic, instances: e.instances, more: e.more };
}

/** The value a hover leads with: the generic one, or the only instantiated one. */
function primary(s: Shown): V | undefined {
  if (s.generic) return s.generic;
  return s.instances.length === 1 && s.more === 0 ? s.instances[0]!.v : undefined;
}

function primaryText(s: Shown): string {
  const p = primary(s);
  if (p) return valueText(p);
  return s.instances.length ? 'depends on the instantiation' : 'unknown';
}

function valuesLine(s: Shown): string {
  const p = primary(s);
  return p ? `\`${valueText(p)}\`` : s.instances.map((i) => `\`${i.text}\``).join(', ');
}

/** The instantiated values, when they say more than the primary one. */
function instanceLines(s: Shown): string[] {
  const row = (i: Instantiated) => `- \`${i.text}\` in \`${i.where}\``;
  const more = s.more ? [`- and ${s.more} more`] : [];
  if (!s.generic) {
    if (s.instances.length === 1 && s.more === 0) return [`In \`${s.instances[0]!.where}\`.`];
    if (s.instances.length === 0) return [];
    return [`Depends on the instantiation:\n${[...s.instances.map(row), ...more].join('\n')}`];
  }
  const g = valueText(s.generic);
  const list = s.instances.filter((i) => i.text !== g);
  if (list.length === 0) return [];
  return [`Instantiated:\n${[...list.map(row), ...more].join('\n')}`];
}

function fence(code: string): string {
  return '```fm\n' + code + '\n```';
}

function exprLabel(e: A.Expr, text: (s: Span) => string): string {
  const src = text(e.span).replace(/\s+/g, ' ');
  return src.length <= 40 ? src : `${src.slice(0, 37)}...`;
}

function childOf(s: Shown): (V & { kind: 'child' }) | undefined {
  const p = primary(s) ?? s.instances[0]?.v;
  return p?.kind === 'child' ? p : undefined;
}

function header(def: Def, s: Shown, text: (s: Span) => string): string {
  const n = def.node;
  switch (def.kind) {
    case 'block':
    case 'model':
      return signatureText(n as A.BlockDecl, text);
    case 'function':
      return n.kind === 'Fn' ? fnSignature(n, text) : `fn ${def.name}`;
    case 'dim':
      return `(dim variable) ${def.name}`;
    case 'child': {
      const c = childOf(s);
      return `(child) ${def.name} = ${c ? valueText(c) : n.kind === 'Child' ? text(n.callSpan) : '?'}`;
    }
    case 'parameter':
      // As declared: a generic body sees `float[N]` as a representative `f32[N]`.
      if (n.kind === 'FnParam') return `(parameter) ${text(n.span).replace(/\s+/g, ' ')}`;
      return `(parameter) ${def.name}: ${primaryText(s)}`;
    default:
      return `(${def.kind}) ${def.name}: ${primaryText(s)}`;
  }
}

export function signatureText(b: A.BlockDecl, text: (s: Span) => string): string {
  return `${b.isModel ? 'model' : 'block'} ${b.name.name}(${b.hparams.map((h) => text(h.span)).join(', ')})`;
}

export function fnSignature(f: A.FnDecl, text: (s: Span) => string): string {
  const params = f.params.map((p) => text(p.span)).join(', ');
  const results = f.results?.map((r) => text(r.span));
  const res = results ? ` -> ${f.tupleResult ? `(${results.join(', ')})` : results.join('')}` : '';
  return `fn ${f.name.name}(${params})${res}`.replace(/\s+/g, ' ');
}

function childLines(v: V & { kind: 'child' }): string[] {
  const c = countParams(v.child.inst);
  if (!c) return [];
  const m = v.child.multi;
  const lines = [
    m
      ? `Parameters: ${countLine(c.params, m.count)} (${m.mode} of ${valueTextDim(m.count)})`
      : `Parameters: ${countText(c.params)}`,
  ];
  if (c.buffers.terms.length)
    lines.push(`Buffers: ${m ? countLine(c.buffers, m.count) : countText(c.buffers)} elements`);
  return [lines.join('  \n')];
}

function valueTextDim(d: Dim): string {
  return valueText({ kind: 'int', dim: d }).replace(/^int = /, '');
}

function countLine(per: Dim, k: Dim): string {
  const each = countText(per);
  return `${countText(dimMul(per, k))} = ${valueTextDim(k)} × ${/[+-]/.test(each) ? `(${each})` : each}`;
}

/** Parameter counts of a block: its generic instance, then up to three concrete ones. */
function blockLines(a: Analysis, b: A.BlockDecl): string[] {
  const insts = a.instancesOf(b);
  const out: string[] = [];
  const generic = insts.find((i) => !i.site);
  const line = (i: BlockInstance) => {
    const c = countParams(i);
    return c ? countText(c.params) : '?';
  };
  if (generic) out.push(`Parameters: ${line(generic)}`);
  const concrete = insts.filter((i) => i.site);
  const seen = new Set<string>();
  const rows: string[] = [];
  for (const i of concrete) {
    if (seen.has(i.label)) continue;
    seen.add(i.label);
    if (rows.length < 3) rows.push(`- \`${i.label}\`: ${line(i)}`);
  }
  if (rows.length)
    out.push(
      `Instantiated:\n${rows.join('\n')}${seen.size > rows.length ? `\n- and ${seen.size - rows.length} more` : ''}`,
    );
  return out;
}

/** The value of a name at its declaration, from what the checker recorded. */
function declValue(a: Analysis, def: Def): Shown {
  const n = def.node;
  // Members and hyperparameters: the bindings of the owner's instances.
  const member =
    n.kind === 'LetMember' || n.kind === 'Param' || n.kind === 'Child' || n.kind === 'Fn' || n.kind === 'HParam';
  if (def.owner && !def.fn && member) return fromInstances(a.instancesOf(def.owner), def.name);
  switch (n.kind) {
    case 'Let': {
      const e = a.valueOf(n.value.span);
      if (!e) return NOTHING;
      const path = patternPath(n.pattern, def.span);
      const pick = (v: V | undefined): V | undefined => {
        let cur = v;
        for (const i of path ?? []) cur = cur?.kind === 'tuple' ? cur.items[i] : undefined;
        return cur;
      };
      return {
        generic: pick(e.generic),
        instances: e.instances.flatMap((i) => {
          const v = pick(i.v);
          return v ? [new Instantiated(v, valueIdentity(v), `in ${i.where}`)] : [];
        }),
        more: e.more,
      };
    }
    case 'Const': {
      const e = a.valueOf(n.value.span);
      return e ? fromEntry(e) : NOTHING;
    }
    case 'FnParam': {
      // The value the body sees: from a use of the parameter.
      const index = a.program.moduleByPath(def.span.file);
      if (!index) return NOTHING;
      for (const r of a.index(index).refs) {
        if (r.def.span.start !== def.span.start || r.def.span.file !== def.span.file) continue;
        const e = a.valueOf(r.span);
        if (e && hasValue(e)) return fromEntry(e);
      }
      return NOTHING;
    }
    default:
      return NOTHING;
  }
}

function fromInstances(insts: readonly BlockInstance[], name: string): Shown {
  let generic: V | undefined;
  const instances: Instantiated[] = [];
  let more = 0;
  for (const i of insts) {
    const v = i.scope.get(name)?.value;
    if (!v || v.kind === 'error' || v.kind === 'absent') continue;
    if (!i.site) {
      generic ??= v;
      continue;
    }
    const key = valueIdentity(v);
    if (instances.some((x) => x.key === key)) continue;
    if (instances.length >= 6) more++;
    else instances.push(new Instantiated(v, key, `in ${i.label}`));
  }
  return { generic, instances, more };
}

/** Where a name sits in a (tuple) pattern: the item indices leading to it. */
function patternPath(p: A.Pattern, at: Span): number[] | undefined {
  if (p.kind === 'PatName') return p.name.span.start === at.start ? [] : undefined;
  for (let i = 0; i < p.items.length; i++) {
    const sub = patternPath(p.items[i]!, at);
    if (sub) return [i, ...sub];
  }
  return undefined;
}
