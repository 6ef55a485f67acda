// CST → AST. The only place that knows the shape of the Chevrotain CST. It tolerates the
// partial nodes that error recovery leaves behind (missing children become placeholders),
// and limits expression depth so later recursive stages cannot overflow the stack.

import type { CstNode, IToken } from 'chevrotain';
import type * as A from './ast.js';
import { type Diagnostic, diag, suggest } from './diagnostics.js';
import type { Span } from './source.js';

export const MAX_EXPR_DEPTH = 1000;

type Children = Record<string, (CstNode | IToken)[] | undefined>;

function isToken(x: CstNode | IToken): x is IToken {
  return (x as IToken).image !== undefined;
}

export class AstBuilder {
  readonly diagnostics: Diagnostic[] = [];
  private depthReported = false;

  constructor(
    private readonly fileName: string,
    private readonly textLength: number,
  ) {}

  // ---------------------------------------------------------------- helpers

  private c(n: CstNode): Children {
    return n.children as Children;
  }
  private toks(n: CstNode, key: string): IToken[] {
    return (this.c(n)[key] ?? []).filter(isToken);
  }
  private tok(n: CstNode, key: string, i = 0): IToken | undefined {
    return this.toks(n, key)[i];
  }
  private nodes(n: CstNode, key: string): CstNode[] {
    return (this.c(n)[key] ?? []).filter((x): x is CstNode => !isToken(x));
  }
  private node(n: CstNode, key: string, i = 0): CstNode | undefined {
    return this.nodes(n, key)[i];
  }

  private clampSpan(start: number, end: number): Span {
    const s = Number.isFinite(start) ? Math.max(0, Math.min(start, this.textLength)) : this.textLength;
    const e = Number.isFinite(end) ? Math.max(s, Math.min(end, this.textLength)) : s;
    return { file: this.fileName, start: s, end: e };
  }
  spanOf(x: CstNode | IToken | undefined, fallback?: Span): Span {
    if (!x) return fallback ?? this.clampSpan(this.textLength, this.textLength);
    if (isToken(x)) return this.clampSpan(x.startOffset, (x.endOffset ?? x.startOffset) + 1);
    const loc = x.location;
    if (!loc || !Number.isFinite(loc.startOffset)) return fallback ?? this.clampSpan(this.textLength, this.textLength);
    return this.clampSpan(loc.startOffset, (loc.endOffset ?? loc.startOffset) + 1);
  }

  private ident(t: IToken | undefined, fallback: Span): A.Ident {
    if (!t || !Number.isFinite(t.startOffset)) return { kind: 'Ident', name: '', span: fallback };
    return { kind: 'Ident', name: t.image, span: this.spanOf(t) };
  }

  /** Tokens of several keys, in source order. */
  private ordered(n: CstNode, keys: readonly string[]): IToken[] {
    return keys.flatMap((k) => this.toks(n, k)).sort((a, b) => a.startOffset - b.startOffset);
  }

  // ---------------------------------------------------------------- file

  file(n: CstNode): A.File {
    const items: A.Item[] = [];
    for (const it of this.nodes(n, 'item')) {
      const item = this.item(it);
      if (item) items.push(item);
    }
    return { kind: 'File', items, span: this.clampSpan(0, this.textLength) };
  }

  private item(n: CstNode): A.Item | undefined {
    const imp = this.node(n, 'importDecl');
    if (imp) return this.importDecl(imp);
    const anns = this.nodes(n, 'annotation').map((a) => this.annotation(a));
    const decl = this.node(n, 'declaration');
    if (!decl) return undefined;
    const c = this.node(decl, 'constDecl');
    if (c) return this.constDecl(c, anns);
    const f = this.node(decl, 'fnDecl');
    if (f) return this.fnDecl(f, anns);
    const b = this.node(decl, 'blockDecl');
    if (b) return this.blockDecl(b, anns);
    return undefined;
  }

  private importDecl(n: CstNode): A.ImportDecl {
    const span = this.spanOf(n);
    const str = this.tok(n, 'Str');
    const hasBraces = this.tok(n, 'LCurly') !== undefined;
    return {
      kind: 'Import',
      span,
      path: str ? this.str(str) : '',
      pathSpan: this.spanOf(str, span),
      names: hasBraces ? this.toks(n, 'Ident').map((t) => this.ident(t, span)) : undefined,
    };
  }

  private annotation(n: CstNode): A.Annotation {
    const span = this.spanOf(n);
    const hasParens = this.tok(n, 'LParen') !== undefined;
    const at = this.tok(n, 'AnnotationName');
    const name: A.Ident = at
      ? {
          kind: 'Ident',
          name: at.image.slice(1),
          span: this.clampSpan(at.startOffset + 1, at.startOffset + at.image.length),
        }
      : { kind: 'Ident', name: '', span };
    return {
      kind: 'Annotation',
      span,
      name,
      args: hasParens ? this.nodes(n, 'annotationArg').map((a) => this.annotationArg(a)) : undefined,
    };
  }

  private annotationArg(n: CstNode): A.AnnotationArg {
    const span = this.spanOf(n);
    const exprs = this.nodes(n, 'expr').map((e) => this.expr(e));
    const name = this.tok(n, 'Ident') ?? this.tok(n, 'Kw_block');
    if (name) return { kind: 'Named', span, name: this.ident(name, span), value: exprs[0] ?? errorExpr(span) };
    if (this.tok(n, 'Colon'))
      return { kind: 'Ratio', span, n: exprs[0] ?? errorExpr(span), m: exprs[1] ?? errorExpr(span) };
    return { kind: 'Positional', span, value: exprs[0] ?? errorExpr(span) };
  }

  private constDecl(n: CstNode, annotations: A.Annotation[]): A.ConstDecl {
    const span = this.spanOf(n);
    const t = this.node(n, 'hparamType');
    const e = this.node(n, 'expr');
    return {
      kind: 'Const',
      span,
      annotations,
      name: this.ident(this.tok(n, 'Ident'), span),
      type: t ? this.hparamType(t) : undefined,
      value: e ? this.expr(e) : errorExpr(span),
    };
  }

  private blockDecl(n: CstNode, annotations: A.Annotation[]): A.BlockDecl {
    const span = this.spanOf(n);
    return {
      kind: 'Block',
      span,
      annotations,
      isModel: this.tok(n, 'Kw_model') !== undefined,
      name: this.ident(this.tok(n, 'Ident'), span),
      hparams: this.nodes(n, 'hparam').map((h) => this.hparam(h)),
      members: this.nodes(n, 'member').flatMap((m) => this.member(m) ?? []),
    };
  }

  private hparam(n: CstNode): A.HParam {
    const span = this.spanOf(n);
    const t = this.node(n, 'hparamType');
    const e = this.node(n, 'expr');
    return {
      kind: 'HParam',
      span,
      name: this.ident(this.tok(n, 'Ident'), span),
      type: t ? this.hparamType(t) : undefined,
      default: e ? this.expr(e) : undefined,
    };
  }

  private hparamType(n: CstNode): A.HParamType {
    const span = this.spanOf(n);
    if (this.tok(n, 'Kw_fn')) return { kind: 'ScalarType', name: 'fn', span };
    const ids = this.toks(n, 'Ident').map((t) => this.ident(t, span));
    if (this.tok(n, 'LBrack')) {
      const elem = ids[0] ?? { kind: 'Ident', name: '', span };
      if (elem.name !== '' && elem.name !== 'int') {
        this.diagnostics.push(
          diag('FM0200', elem.span, [elem.name], { help: 'a list type is `[int]` (a list of ints)' }),
        );
      }
      return { kind: 'ListType', elem, span };
    }
    const only = ids.length === 1 ? ids[0]!.name : '';
    if (only === 'int' || only === 'float' || only === 'bool' || only === 'dtype') {
      return { kind: 'ScalarType', name: only, span };
    }
    if (ids.length === 1 && ids[0]!.name !== '') {
      // One name is not an enum (an enum lists two or more options): a misspelled type.
      const s = suggest(ids[0]!.name, ['int', 'float', 'bool', 'dtype', 'fn']);
      this.diagnostics.push(
        diag('FM0200', ids[0]!.span, [ids[0]!.name], {
          help: `${s ? `did you mean \`${s}\`? ` : ''}types are \`int\`, \`float\`, \`bool\`, \`dtype\`, \`fn\` or an enum \`a | b\``,
        }),
      );
    }
    return { kind: 'EnumType', options: ids, span };
  }

  // ---------------------------------------------------------------- members

  private member(n: CstNode): A.Member | undefined {
    const anns = this.nodes(n, 'annotation').map((a) => this.annotation(a));
    const letM = this.node(n, 'letMember');
    if (letM) {
      const span = this.spanOf(letM);
      const e = this.node(letM, 'expr');
      return {
        kind: 'LetMember',
        span,
        annotations: anns,
        name: this.ident(this.tok(letM, 'Ident'), span),
        value: e ? this.expr(e) : errorExpr(span),
      };
    }
    const req = this.node(n, 'requireStmt');
    if (req) {
      for (const a of anns) this.diagnostics.push(diag('FM0501', a.span, [a.name.name, 'a `require`']));
      return this.requireStmt(req);
    }
    const param = this.node(n, 'paramDecl');
    if (param) return this.paramDecl(param, anns);
    const fn = this.node(n, 'fnDecl');
    if (fn) return this.fnDecl(fn, anns);
    const train = this.node(n, 'trainDecl');
    if (train) return this.trainDecl(train, anns);
    const child = this.node(n, 'childDecl');
    if (child) return this.childDecl(child, anns);
    return undefined;
  }

  private requireStmt(n: CstNode): A.RequireStmt {
    const span = this.spanOf(n);
    const e = this.node(n, 'expr');
    const s = this.tok(n, 'Str');
    return {
      kind: 'Require',
      span,
      cond: e ? this.expr(e) : errorExpr(span),
      message: s ? this.str(s) : undefined,
    };
  }

  private paramDecl(n: CstNode, annotations: A.Annotation[]): A.ParamDecl {
    const span = this.spanOf(n);
    const t = this.node(n, 'tensorType');
    // The init expression comes before `if`; the condition after it.
    const ifTok = this.tok(n, 'Kw_if');
    const exprs = this.nodes(n, 'expr');
    const init = exprs.find((e) => !ifTok || (e.location?.startOffset ?? 0) < ifTok.startOffset);
    const cond = ifTok ? exprs.find((e) => (e.location?.startOffset ?? 0) > ifTok.startOffset) : undefined;
    return {
      kind: 'Param',
      span,
      annotations,
      isBuffer: this.tok(n, 'Kw_buffer') !== undefined,
      name: this.ident(this.tok(n, 'Ident'), span),
      type: t ? this.tensorType(t) : errorTensorType(span),
      init: init ? this.expr(init) : undefined,
      cond: cond ? this.expr(cond) : undefined,
    };
  }

  private childDecl(n: CstNode, annotations: A.Annotation[]): A.ChildDecl {
    const span = this.spanOf(n);
    const ids = this.toks(n, 'Ident');
    const mode = this.tok(n, 'Kw_repeat') ? 'repeat' : this.tok(n, 'Kw_stack') ? 'stack' : undefined;
    const ifTok = this.tok(n, 'Kw_if');
    const exprs = this.nodes(n, 'expr');
    const lparen = this.tok(n, 'LParen');
    const count = mode ? exprs.find((e) => !lparen || (e.location?.startOffset ?? 0) < lparen.startOffset) : undefined;
    const cond = ifTok ? exprs.find((e) => (e.location?.startOffset ?? 0) > ifTok.startOffset) : undefined;
    const blockTok = ids[1];
    const rparen = this.tok(n, 'RParen');
    const argsNode = this.node(n, 'args');
    return {
      kind: 'Child',
      span,
      annotations,
      name: this.ident(ids[0], span),
      multi: mode ? { mode, count: count ? this.expr(count) : errorExpr(span) } : undefined,
      block: this.ident(blockTok, span),
      args: argsNode ? this.args(argsNode) : [],
      callSpan: blockTok
        ? this.clampSpan(blockTok.startOffset, rparen ? rparen.startOffset + 1 : blockTok.endOffset! + 1)
        : span,
      cond: cond ? this.expr(cond) : undefined,
    };
  }

  private trainDecl(n: CstNode, annotations: A.Annotation[]): A.TrainDecl {
    const span = this.spanOf(n);
    const keys = this.toks(n, 'Ident');
    const values = this.nodes(n, 'expr');
    const entries = keys.map((k, i) => {
      const v = values[i];
      const key = this.ident(k, span);
      const value = v ? this.expr(v) : errorExpr(key.span);
      return { key, value, span: this.clampSpan(key.span.start, value.span.end) };
    });
    return { kind: 'Train', span, annotations, entries };
  }

  // ---------------------------------------------------------------- functions

  fnDecl(n: CstNode, annotations: A.Annotation[]): A.FnDecl {
    const span = this.spanOf(n);
    const rt = this.node(n, 'resultType');
    let results: A.FnResult[] | undefined;
    let tupleResult = false;
    if (rt) {
      const parenthesized = this.tok(rt, 'LParen') !== undefined;
      if (parenthesized) {
        results = this.nodes(rt, 'resultItem').map((r) => {
          const rs = this.spanOf(r);
          const t = this.node(r, 'tensorType');
          const id = this.tok(r, 'Ident');
          return {
            kind: 'FnResult',
            span: rs,
            name: id ? this.ident(id, rs) : undefined,
            type: t ? this.tensorType(t) : errorTensorType(rs),
          };
        });
      } else {
        const t = this.node(rt, 'tensorType');
        const rs = this.spanOf(rt);
        results = [{ kind: 'FnResult', span: rs, name: undefined, type: t ? this.tensorType(t) : errorTensorType(rs) }];
      }
    }
    const colon = this.tok(n, 'Colon');
    if (colon) {
      this.diagnostics.push(
        diag('FM0103', this.spanOf(colon), ['`->`', '`:`'], {
          help: 'result types are written `fn f(x: f32[N]) -> f32[N] { ... }`',
        }),
      );
    }
    // `-> (a: T)` is a single named result; only two or more (or none) make a tuple.
    tupleResult = results !== undefined && results.length !== 1;
    const rcurly = this.tok(n, 'RCurly');
    return {
      kind: 'Fn',
      span,
      annotations,
      name: this.ident(this.tok(n, 'Ident'), span),
      params: this.nodes(n, 'fnParam').map((p) => this.fnParam(p)),
      results,
      tupleResult,
      body: this.nodes(n, 'stmt').flatMap((s) => this.stmt(s) ?? []),
      endSpan: rcurly ? this.spanOf(rcurly) : this.clampSpan(span.end, span.end),
    };
  }

  private fnParam(n: CstNode): A.FnParam {
    const span = this.spanOf(n);
    const te = this.node(n, 'typeExpr');
    const tt = te && this.node(te, 'tensorType');
    const ht = te && this.node(te, 'hparamType');
    const e = this.node(n, 'expr');
    return {
      kind: 'FnParam',
      span,
      name: this.ident(this.tok(n, 'Ident'), span),
      type: tt ? this.tensorType(tt) : ht ? this.hparamType(ht) : errorTensorType(span),
      default: e ? this.expr(e) : undefined,
    };
  }

  tensorType(n: CstNode): A.TensorTypeExpr {
    const span = this.spanOf(n);
    const dims: A.DimExpr[] = this.nodes(n, 'expr').map((d) => {
      const e = this.expr(d);
      if (e.kind === 'Ellipsis') return { kind: 'DimEllipsis', span: e.span };
      if (e.kind === 'Name' && e.name === '_') return { kind: 'DimAny', span: e.span };
      return { kind: 'DimExpr', expr: e, span: e.span };
    });
    return { kind: 'TensorType', span, dtype: this.ident(this.tok(n, 'Ident'), span), dims };
  }

  private stmt(n: CstNode): A.Stmt | undefined {
    const letS = this.node(n, 'letStmt');
    if (letS) return this.letStmt(letS);
    const req = this.node(n, 'requireStmt');
    if (req) return this.requireStmt(req);
    const span = this.spanOf(n);
    const e = this.node(n, 'expr');
    const value = e ? this.expr(e) : errorExpr(span);
    if (this.tok(n, 'Kw_set')) return { kind: 'Set', span, target: this.ident(this.tok(n, 'Ident'), span), value };
    if (this.tok(n, 'Kw_return')) return { kind: 'Return', span, value };
    return undefined;
  }

  private letStmt(n: CstNode): A.LetStmt {
    const span = this.spanOf(n);
    const p = this.node(n, 'pattern');
    const t = this.node(n, 'tensorType');
    const e = this.node(n, 'expr');
    return {
      kind: 'Let',
      span,
      pattern: p ? this.pattern(p) : { kind: 'PatName', name: { kind: 'Ident', name: '', span }, span },
      type: t ? this.tensorType(t) : undefined,
      value: e ? this.expr(e) : errorExpr(span),
    };
  }

  private pattern(n: CstNode): A.Pattern {
    const span = this.spanOf(n);
    const inner = this.nodes(n, 'pattern');
    if (this.tok(n, 'LParen')) return { kind: 'PatTuple', span, items: inner.map((p) => this.pattern(p)) };
    return { kind: 'PatName', span, name: this.ident(this.tok(n, 'Ident'), span) };
  }

  // ---------------------------------------------------------------- expressions

  expr(n: CstNode): A.Expr {
    const base = this.node(n, 'orExpr');
    let e = base ? this.binaryChain(base, 'andExpr', ['Kw_or']) : errorExpr(this.spanOf(n));
    for (const p of this.nodes(n, 'postfixExpr')) {
      const f = this.postfix(p);
      const span = this.clampSpan(e.span.start, f.span.end);
      e =
        f.kind === 'Call'
          ? this.limit({ kind: 'Pipe', value: e, fn: f.callee, args: f.args, span }, e, f)
          : this.limit({ kind: 'Pipe', value: e, fn: f, args: [], span }, e, f);
    }
    return e;
  }

  private binaryChain(n: CstNode, operandKey: string, opKeys: readonly string[]): A.Expr {
    const operands = this.nodes(n, operandKey).map((o) => this.operand(o, operandKey));
    const ops = this.ordered(n, opKeys);
    let e = operands[0] ?? errorExpr(this.spanOf(n));
    for (let i = 1; i < operands.length; i++) {
      const right = operands[i]!;
      const opTok = ops[i - 1];
      const op = (
        opTok ? (opTok.image === 'or' || opTok.image === 'and' ? opTok.image : opTok.image) : '+'
      ) as A.BinaryOp;
      const span = this.clampSpan(e.span.start, right.span.end);
      e = this.limit({ kind: 'Binary', op, left: e, right, opSpan: this.spanOf(opTok, span), span }, e, right);
    }
    return e;
  }

  private operand(n: CstNode, key: string): A.Expr {
    switch (key) {
      case 'andExpr':
        return this.binaryChain(n, 'notExpr', ['Kw_and']);
      case 'notExpr': {
        const inner = this.node(n, 'notExpr');
        if (this.tok(n, 'Kw_not')) {
          const operand = inner ? this.operand(inner, 'notExpr') : errorExpr(this.spanOf(n));
          return this.limit({ kind: 'Unary', op: 'not', operand, span: this.spanOf(n) }, operand);
        }
        const cmp = this.node(n, 'cmpExpr');
        return cmp ? this.binaryChain(cmp, 'addExpr', ['CmpOp']) : errorExpr(this.spanOf(n));
      }
      case 'addExpr':
        return this.binaryChain(n, 'mulExpr', ['AddOp']);
      case 'mulExpr':
        return this.binaryChain(n, 'unaryExpr', ['MulOp']);
      case 'unaryExpr':
        return this.unary(n);
      default:
        return errorExpr(this.spanOf(n));
    }
  }

  private unary(n: CstNode): A.Expr {
    const inner = this.node(n, 'unaryExpr');
    if (this.tok(n, 'Minus')) {
      const operand = inner ? this.unary(inner) : errorExpr(this.spanOf(n));
      return this.limit({ kind: 'Unary', op: '-', operand, span: this.spanOf(n) }, operand);
    }
    const pow = this.node(n, 'powExpr');
    if (!pow) return errorExpr(this.spanOf(n));
    const pf = this.node(pow, 'postfixExpr');
    const left = pf ? this.postfix(pf) : errorExpr(this.spanOf(pow));
    const exp = this.node(pow, 'unaryExpr');
    if (!exp) return left;
    const right = this.unary(exp);
    const opTok = this.tok(pow, 'StarStar');
    const span = this.clampSpan(left.span.start, right.span.end);
    return this.limit({ kind: 'Binary', op: '**', left, right, opSpan: this.spanOf(opTok, span), span }, left, right);
  }

  private postfix(n: CstNode): A.Expr {
    const prim = this.node(n, 'primary');
    let e = prim ? this.primary(prim) : errorExpr(this.spanOf(n));
    // Interleave calls, index operations and member accesses in source order.
    const ops = this.ordered(n, ['LParen', 'LBrack', 'Dot']);
    const closers = this.ordered(n, ['RParen', 'RBrack']);
    const names = this.toks(n, 'Ident');
    const argsNodes = this.nodes(n, 'args');
    const items = this.nodes(n, 'indexItem');
    // Each list is in source order, so one cursor per list keeps this linear.
    let ai = 0;
    let ci = 0;
    let ni = 0;
    let ii = 0;
    for (let k = 0; k < ops.length; k++) {
      const open = ops[k]!;
      if (open.image === '.') {
        while (ni < names.length && names[ni]!.startOffset <= open.startOffset) ni++;
        const id = names[ni];
        const name = this.ident(id, this.spanOf(open));
        e = this.limit({ kind: 'Member', target: e, name, span: this.clampSpan(e.span.start, name.span.end) }, e);
        continue;
      }
      const close = closers[ci++];
      const end = close ? close.startOffset + 1 : this.spanOf(n).end;
      const span = this.clampSpan(e.span.start, end);
      if (open.image === '(') {
        const a = argsNodes[ai++];
        e = this.limit({ kind: 'Call', callee: e, args: a ? this.args(a) : [], span }, e);
      } else {
        const mine: CstNode[] = [];
        while (ii < items.length && (items[ii]!.location?.startOffset ?? -1) <= open.startOffset) ii++;
        while (ii < items.length && (items[ii]!.location?.startOffset ?? Infinity) < end) mine.push(items[ii++]!);
        const indices = mine.map((it) => this.indexItem(it));
        e = this.limit(
          { kind: 'Index', target: e, indices, span },
          e,
          ...indices.flatMap((i) => (i.kind === 'IndexExpr' ? [i.value] : [])),
        );
      }
    }
    return e;
  }

  private args(n: CstNode): A.Arg[] {
    return this.nodes(n, 'arg').map((a) => {
      const span = this.spanOf(a);
      const e = this.node(a, 'expr');
      const value = e ? this.expr(e) : errorExpr(span);
      const name = this.tok(a, 'Ident');
      return name ? { kind: 'NamedArg', span, name: this.ident(name, span), value } : { kind: 'PosArg', span, value };
    });
  }

  private indexItem(n: CstNode): A.IndexItem {
    const span = this.spanOf(n);
    const colons = this.toks(n, 'Colon');
    const exprs = this.nodes(n, 'expr');
    if (colons.length === 0) {
      const v = exprs[0] ? this.expr(exprs[0]) : errorExpr(span);
      if (v.kind === 'Ellipsis') return { kind: 'IndexEllipsis', span };
      return { kind: 'IndexExpr', span, value: v };
    }
    const c1 = colons[0]!.startOffset;
    const c2 = colons[1]?.startOffset ?? Infinity;
    const at = (lo: number, hi: number) => {
      const e = exprs.find((x) => {
        const s = x.location?.startOffset ?? -1;
        return s > lo && s < hi;
      });
      return e ? this.expr(e) : undefined;
    };
    return { kind: 'Slice', span, start: at(-1, c1), stop: at(c1, c2), step: at(c2, Infinity) };
  }

  private primary(n: CstNode): A.Expr {
    const span = this.spanOf(n);
    const t = this.tok(n, 'Int');
    if (t) return this.intLit(t, span);
    const f = this.tok(n, 'Float');
    if (f) return this.floatLit(f, span);
    const s = this.tok(n, 'Str');
    if (s) return { kind: 'Str', value: this.str(s), span };
    if (this.tok(n, 'Kw_true')) return { kind: 'Bool', value: true, span };
    if (this.tok(n, 'Kw_false')) return { kind: 'Bool', value: false, span };
    const id = this.tok(n, 'Ident');
    if (id) return { kind: 'Name', name: id.image, span };
    if (this.tok(n, 'Ellipsis')) return { kind: 'Ellipsis', span };
    const ifN = this.node(n, 'ifExpr');
    if (ifN) return this.ifExpr(ifN);
    const exprs = this.nodes(n, 'expr').map((e) => this.expr(e));
    if (this.tok(n, 'LBrack')) return this.limit({ kind: 'List', items: exprs, span }, ...exprs);
    if (exprs.length === 1 && this.toks(n, 'Comma').length === 0)
      return this.limit({ kind: 'Paren', inner: exprs[0]!, span }, exprs[0]!);
    return this.limit({ kind: 'Tuple', items: exprs, span }, ...exprs);
  }

  /** A string literal's value; escapes other than \" \\ \n \t are FM0107. */
  private str(t: IToken): string {
    for (const m of t.image.matchAll(/\\(.)/g)) {
      if (!'"\\nt'.includes(m[1]!)) {
        const at = t.startOffset + m.index;
        this.diagnostics.push(diag('FM0107', this.clampSpan(at, at + 2), [m[0]]));
      }
    }
    return unquote(t.image);
  }

  private intLit(t: IToken, span: Span): A.Expr {
    const text = t.image;
    const clean = text.replace(/_/g, '');
    if (/^0[xX]$/.test(clean)) {
      this.diagnostics.push(diag('FM0106', span, [text, 'no hexadecimal digits after `0x`']));
      return errorExpr(span);
    }
    const value = /^0[xX]/.test(clean) ? parseInt(clean.slice(2), 16) : Number(clean);
    if (!Number.isSafeInteger(value)) {
      this.diagnostics.push(diag('FM0106', span, [text, 'too large (the limit is 2^53 - 1)']));
      return errorExpr(span);
    }
    return { kind: 'Int', value, text, span };
  }

  private floatLit(t: IToken, span: Span): A.Expr {
    const value = Number(t.image.replace(/_/g, ''));
    if (!Number.isFinite(value)) {
      this.diagnostics.push(diag('FM0106', span, [t.image, 'too large (the limit is about 1.8e308)']));
      return errorExpr(span);
    }
    return { kind: 'Float', value, text: t.image, span };
  }

  private ifExpr(n: CstNode): A.IfExpr {
    const span = this.spanOf(n);
    const c = this.node(n, 'expr');
    const branches = this.nodes(n, 'branchBlock').map((b) => this.branch(b));
    const elseIf = this.node(n, 'ifExpr');
    const cond = c ? this.expr(c) : errorExpr(span);
    const then = branches[0] ?? { kind: 'Branch', stmts: [], value: errorExpr(span), span };
    const els = elseIf
      ? this.ifExpr(elseIf)
      : (branches[1] ?? { kind: 'Branch', stmts: [], value: errorExpr(span), span });
    const e: A.IfExpr = { kind: 'If', span, cond, then, else: els };
    return this.limit(e, cond, then.value, els.kind === 'If' ? els : els.value) as A.IfExpr;
  }

  private branch(n: CstNode): A.BranchBlock {
    const span = this.spanOf(n);
    const e = this.node(n, 'expr');
    return {
      kind: 'Branch',
      span,
      stmts: this.nodes(n, 'letStmt').map((l) => this.letStmt(l)),
      value: e ? this.expr(e) : errorExpr(span),
    };
  }

  // ---------------------------------------------------------------- depth limit

  private depths = new WeakMap<object, number>();

  /** Records the depth of `e`; past MAX_EXPR_DEPTH reports FM0109 once and cuts the tree. */
  private limit(e: A.Expr, ...children: A.Expr[]): A.Expr {
    let d = 0;
    for (const ch of children) d = Math.max(d, this.depths.get(ch) ?? 0);
    d += 1;
    if (d > MAX_EXPR_DEPTH) {
      if (!this.depthReported) {
        this.depthReported = true;
        this.diagnostics.push(diag('FM0109', e.span, [MAX_EXPR_DEPTH]));
      }
      return errorExpr(e.span);
    }
    this.depths.set(e, d);
    return e;
  }
}

/** A placeholder for an expression that failed to parse. */
export function errorExpr(span: Span): A.Expr {
  return { kind: 'Name', name: '', span };
}

function errorTensorType(span: Span): A.TensorTypeExpr {
  return { kind: 'TensorType', span, dtype: { kind: 'Ident', name: '', span }, dims: [] };
}

export function unquote(s: string): string {
  const body = s.startsWith('"') ? s.slice(1, s.endsWith('"') && s.length > 1 ? -1 : undefined) : s;
  return body.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}
