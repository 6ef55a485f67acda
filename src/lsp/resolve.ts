// Which declaration each name in a file refers to, for go-to-definition and for hovers on
// declarations. It walks the AST the parser built (no second parser) with the scoping rules
// of docs/language.md: function locals, then the function's parameters and dim variables,
// then the block's members and hyperparameters, then the file's declarations and imports
// (the Program's name table); builtins have no declaration.

import type * as A from '../frontend/ast.js';
import type { Module, Program, TopDecl } from '../frontend/program.js';
import type { Span } from '../frontend/source.js';

export type DefKind =
  | 'block'
  | 'model'
  | 'function'
  | 'const'
  | 'hyperparameter'
  | 'param'
  | 'buffer'
  | 'child'
  | 'let'
  | 'parameter'
  | 'dim';

export interface Def {
  readonly name: string;
  readonly kind: DefKind;
  /** The name at the declaration. */
  readonly span: Span;
  /** The declaration (AST node). */
  readonly node: TopDecl | A.HParam | A.Member | A.FnParam | A.LetStmt | A.Pattern | A.TensorTypeExpr;
  /** The block the name is declared in (members, hyperparameters, member functions' locals). */
  readonly owner: A.BlockDecl | undefined;
  /** For locals and parameters: the function they belong to. */
  readonly fn?: A.FnDecl;
}

export interface Ref {
  readonly span: Span;
  readonly def: Def;
}

export interface ImportRef {
  readonly span: Span;
  /** The absolute path the import names (it may not exist). */
  readonly abs: string;
  readonly decl: A.ImportDecl;
}

export interface FileIndex {
  readonly defs: Def[];
  readonly refs: Ref[];
  readonly imports: ImportRef[];
  /** `a.b` expressions: `b` is resolved from the checker's value of `a`. */
  readonly members: (A.Expr & { kind: 'Member' })[];
}

class Scope {
  private readonly names = new Map<string, Def>();
  constructor(readonly parent: Scope | undefined) {}
  define(d: Def): void {
    if (d.name !== '' && d.name !== '_') this.names.set(d.name, d);
  }
  lookup(name: string): Def | undefined {
    return this.names.get(name) ?? this.parent?.lookup(name);
  }
}

export function topDef(decl: TopDecl): Def {
  const kind: DefKind =
    decl.kind === 'Block' ? (decl.isModel ? 'model' : 'block') : decl.kind === 'Fn' ? 'function' : 'const';
  return { name: decl.name.name, kind, span: decl.name.span, node: decl, owner: undefined };
}

const within = (s: Span, offset: number): boolean => s.start <= offset && offset <= s.end;

/** The name (reference or declaration) at an offset of the file. */
export function nameAt(index: FileIndex, offset: number): { def: Def; span: Span; isDecl: boolean } | undefined {
  for (const d of index.defs) if (within(d.span, offset)) return { def: d, span: d.span, isDecl: true };
  for (const r of index.refs) if (within(r.span, offset)) return { def: r.def, span: r.span, isDecl: false };
  return undefined;
}

export function indexFile(program: Program, m: Module): FileIndex {
  const index: FileIndex = { defs: [], refs: [], imports: [], members: [] };
  const defTop = new Map<TopDecl, Def>();
  const top = new Scope(undefined);
  for (const [name, entry] of m.names) {
    if (!('decl' in entry)) continue;
    const own = entry.module === m.path;
    const d = topDef(entry.decl);
    if (own) defTop.set(entry.decl, d);
    top.define({ ...d, name });
  }
  const def = (d: Def, scope: Scope): Def => {
    if (d.name === '') return d;
    index.defs.push(d);
    scope.define(d);
    return d;
  };
  const ref = (id: { name: string; span: Span }, scope: Scope): Def | undefined => {
    const d = scope.lookup(id.name);
    if (d) index.refs.push({ span: id.span, def: d });
    return d;
  };

  const walkArgs = (args: readonly A.Arg[], scope: Scope, target: Def | undefined) => {
    for (const a of args) {
      if (a.kind === 'NamedArg') {
        const p = target ? paramOf(target, a.name.name) : undefined;
        if (p) index.refs.push({ span: a.name.span, def: p });
      }
      walkExpr(a.value, scope);
    }
  };

  const walkExpr = (e: A.Expr, scope: Scope): void => {
    switch (e.kind) {
      case 'Name':
        ref(e, scope);
        return;
      case 'Unary':
        walkExpr(e.operand, scope);
        return;
      case 'Binary':
        walkExpr(e.left, scope);
        walkExpr(e.right, scope);
        return;
      case 'Call': {
        walkExpr(e.callee, scope);
        const target = e.callee.kind === 'Name' ? scope.lookup(e.callee.name) : undefined;
        walkArgs(e.args, scope, target);
        return;
      }
      case 'Pipe': {
        walkExpr(e.value, scope);
        walkExpr(e.fn, scope);
        const target = e.fn.kind === 'Name' ? scope.lookup(e.fn.name) : undefined;
        walkArgs(e.args, scope, target);
        return;
      }
      case 'Index':
        walkExpr(e.target, scope);
        for (const i of e.indices) {
          if (i.kind === 'IndexExpr') walkExpr(i.value, scope);
          else if (i.kind === 'Slice') for (const x of [i.start, i.stop, i.step]) if (x) walkExpr(x, scope);
        }
        return;
      case 'Member':
        walkExpr(e.target, scope);
        index.members.push(e);
        return;
      case 'Tuple':
      case 'List':
        for (const i of e.items) walkExpr(i, scope);
        return;
      case 'Paren':
        walkExpr(e.inner, scope);
        return;
      case 'If':
        walkIf(e, scope);
        return;
      default:
        return;
    }
  };

  const walkIf = (e: A.IfExpr, scope: Scope, owner?: A.BlockDecl, fn?: A.FnDecl): void => {
    walkExpr(e.cond, scope);
    const branch = (b: A.BranchBlock) => {
      const inner = new Scope(scope);
      for (const s of b.stmts) walkLet(s, inner, owner, fn);
      walkExpr(b.value, inner);
    };
    branch(e.then);
    if (e.else.kind === 'If') walkIf(e.else, scope, owner, fn);
    else branch(e.else);
  };

  const walkLet = (s: A.LetStmt, scope: Scope, owner: A.BlockDecl | undefined, fn: A.FnDecl | undefined) => {
    walkExpr(s.value, scope);
    if (s.type) walkType(s.type, scope, undefined);
    const bind = (p: A.Pattern) => {
      if (p.kind === 'PatName') def({ name: p.name.name, kind: 'let', span: p.name.span, node: s, owner, fn }, scope);
      else for (const it of p.items) bind(it);
    };
    bind(s.pattern);
  };

  /** A tensor type; in a signature (`dims` given), unknown upper-case names declare dim variables. */
  const walkType = (
    t: A.TensorTypeExpr,
    scope: Scope,
    dims: { scope: Scope; owner?: A.BlockDecl; fn?: A.FnDecl } | undefined,
  ) => {
    ref(t.dtype, scope);
    for (const d of t.dims) {
      if (d.kind !== 'DimExpr') continue;
      if (dims) {
        // The checker's rule: an upper-case name that is not otherwise defined is a dim variable.
        forNames(d.expr, (n) => {
          if (/^[A-Z]/.test(n.name) && !scope.lookup(n.name))
            def({ name: n.name, kind: 'dim', span: n.span, node: t, owner: dims.owner, fn: dims.fn }, dims.scope);
        });
      }
      walkExpr(d.expr, scope);
    }
  };

  const walkAnnotations = (anns: readonly A.Annotation[], scope: Scope) => {
    for (const a of anns)
      for (const arg of a.args ?? []) {
        if (arg.kind === 'Ratio') {
          walkExpr(arg.n, scope);
          walkExpr(arg.m, scope);
        } else walkExpr(arg.value, scope);
      }
  };

  const walkFn = (f: A.FnDecl, parent: Scope, owner: A.BlockDecl | undefined) => {
    walkAnnotations(f.annotations, parent);
    const sig = new Scope(parent);
    for (const p of f.params) {
      if (p.type.kind === 'TensorType') walkType(p.type, sig, { scope: sig, owner, fn: f });
      if (p.default) walkExpr(p.default, sig);
    }
    for (const p of f.params)
      def({ name: p.name.name, kind: 'parameter', span: p.name.span, node: p, owner, fn: f }, sig);
    for (const r of f.results ?? []) walkType(r.type, sig, { scope: sig, owner, fn: f });
    const body = new Scope(sig);
    for (const s of f.body) {
      switch (s.kind) {
        case 'Let':
          walkLet(s, body, owner, f);
          break;
        case 'Set':
          ref(s.target, body);
          walkExpr(s.value, body);
          break;
        case 'Return':
          walkExpr(s.value, body);
          break;
        case 'Require':
          walkExpr(s.cond, body);
          break;
      }
    }
  };

  const walkBlock = (b: A.BlockDecl) => {
    walkAnnotations(b.annotations, top);
    const scope = new Scope(top);
    for (const h of b.hparams) {
      if (h.default) walkExpr(h.default, scope);
      def({ name: h.name.name, kind: 'hyperparameter', span: h.name.span, node: h, owner: b }, scope);
    }
    // Members are visible in the whole block (functions are checked after all members).
    for (const mem of b.members) {
      if (mem.kind === 'Require' || mem.kind === 'Train') continue;
      def({ name: mem.name.name, kind: memberKind(mem), span: mem.name.span, node: mem, owner: b }, scope);
    }
    for (const mem of b.members) {
      switch (mem.kind) {
        case 'LetMember':
          walkAnnotations(mem.annotations, scope);
          walkExpr(mem.value, scope);
          break;
        case 'Require':
          walkExpr(mem.cond, scope);
          break;
        case 'Param':
          walkAnnotations(mem.annotations, scope);
          walkType(mem.type, scope, undefined);
          if (mem.init) walkExpr(mem.init, scope);
          if (mem.cond) walkExpr(mem.cond, scope);
          break;
        case 'Child': {
          walkAnnotations(mem.annotations, scope);
          if (mem.multi) walkExpr(mem.multi.count, scope);
          const target = ref(mem.block, scope);
          walkArgs(mem.args, scope, target);
          if (mem.cond) walkExpr(mem.cond, scope);
          break;
        }
        case 'Fn':
          walkFn(mem, scope, b);
          break;
        case 'Train':
          walkAnnotations(mem.annotations, scope);
          for (const e of mem.entries) walkExpr(e.value, scope);
          break;
      }
    }
  };

  for (const item of m.parse.ast.items) {
    if (item.kind === 'Import') {
      const abs = item.path === '' ? '' : program.resolvePath(item.path, m.abs);
      index.imports.push({ span: item.pathSpan, abs, decl: item });
      const target = program.modules.get(abs);
      for (const id of item.names ?? []) {
        const decl = target?.own.get(id.name);
        if (decl) index.refs.push({ span: id.span, def: topDef(decl) });
      }
      continue;
    }
    const d = defTop.get(item);
    if (d) index.defs.push(d);
    else if (item.name.name !== '') index.defs.push(topDef(item)); // a duplicate declaration
    if (item.kind === 'Const') {
      walkAnnotations(item.annotations, top);
      walkExpr(item.value, top);
    } else if (item.kind === 'Fn') walkFn(item, top, undefined);
    else walkBlock(item);
  }
  return index;
}

/** The hyperparameter or parameter `name` of the block or function a definition names. */
function paramOf(target: Def, name: string): Def | undefined {
  const n = target.node;
  if (n.kind === 'Block') {
    const h = n.hparams.find((x) => x.name.name === name);
    return h ? { name, kind: 'hyperparameter', span: h.name.span, node: h, owner: n } : undefined;
  }
  if (n.kind === 'Fn') {
    const p = n.params.find((x) => x.name.name === name);
    return p ? { name, kind: 'parameter', span: p.name.span, node: p, owner: target.owner, fn: n } : undefined;
  }
  return undefined;
}

/** Calls `f` on every name in a dim expression (arithmetic, parentheses, calls). */
function forNames(e: A.Expr, f: (n: A.Expr & { kind: 'Name' }) => void): void {
  if (e.kind === 'Name') f(e);
  else if (e.kind === 'Binary') {
    forNames(e.left, f);
    forNames(e.right, f);
  } else if (e.kind === 'Unary') forNames(e.operand, f);
  else if (e.kind === 'Paren') forNames(e.inner, f);
  else if (e.kind === 'Call') for (const a of e.args) forNames(a.value, f);
}

/** The kind of definition a named block member is (a `let`, a param or buffer, a child, a function). */
export function memberKind(mem: Exclude<A.BlockDecl['members'][number], { kind: 'Require' | 'Train' }>): DefKind {
  if (mem.kind === 'LetMember') return 'let';
  if (mem.kind === 'Param') return mem.isBuffer ? 'buffer' : 'param';
  return mem.kind === 'Child' ? 'child' : 'function';
}
