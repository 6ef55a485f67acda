// The typed AST. Every node carries the span of the source it came from. The AST holds
// syntax only: names are strings here and are resolved by the binder and the checker.

import type { Span } from './source.js';

interface Node {
  readonly span: Span;
}

export interface Ident extends Node {
  readonly kind: 'Ident';
  readonly name: string;
}

// ---------------------------------------------------------------- file level

export interface File extends Node {
  readonly kind: 'File';
  readonly items: readonly Item[];
}

export type Item = ImportDecl | ConstDecl | FnDecl | BlockDecl;

export interface ImportDecl extends Node {
  readonly kind: 'Import';
  /** The quoted path, unescaped. */
  readonly path: string;
  readonly pathSpan: Span;
  /** `import { a, b } from "..."`: the selected names; undefined imports everything. */
  readonly names: readonly Ident[] | undefined;
}

export interface Annotation extends Node {
  readonly kind: 'Annotation';
  readonly name: Ident;
  /** undefined for `@checkpoint` without parentheses. */
  readonly args: readonly AnnotationArg[] | undefined;
}

export type AnnotationArg =
  | { readonly kind: 'Positional'; readonly value: Expr; readonly span: Span }
  | { readonly kind: 'Named'; readonly name: Ident; readonly value: Expr; readonly span: Span }
  | { readonly kind: 'Ratio'; readonly n: Expr; readonly m: Expr; readonly span: Span };

export interface ConstDecl extends Node {
  readonly kind: 'Const';
  readonly annotations: readonly Annotation[];
  readonly name: Ident;
  readonly type: HParamType | undefined;
  readonly value: Expr;
}

export interface BlockDecl extends Node {
  readonly kind: 'Block';
  readonly annotations: readonly Annotation[];
  /** `model` declarations are blocks that are compilation roots. */
  readonly isModel: boolean;
  readonly name: Ident;
  readonly hparams: readonly HParam[];
  readonly members: readonly Member[];
}

// ---------------------------------------------------------------- hyperparameters

export type HParamType =
  | { readonly kind: 'ScalarType'; readonly name: 'int' | 'float' | 'bool' | 'dtype' | 'fn'; readonly span: Span }
  | { readonly kind: 'EnumType'; readonly options: readonly Ident[]; readonly span: Span }
  /** `[int]`: a list of ints (a single int argument is a one-element list). */
  | { readonly kind: 'ListType'; readonly elem: Ident; readonly span: Span };

export interface HParam extends Node {
  readonly kind: 'HParam';
  readonly name: Ident;
  readonly type: HParamType | undefined;
  readonly default: Expr | undefined;
}

// ---------------------------------------------------------------- block members

export type Member = LetMember | RequireStmt | ParamDecl | ChildDecl | FnDecl | TrainDecl;

export interface LetMember extends Node {
  readonly kind: 'LetMember';
  readonly annotations: readonly Annotation[];
  readonly name: Ident;
  readonly value: Expr;
}

export interface RequireStmt extends Node {
  readonly kind: 'Require';
  readonly cond: Expr;
  readonly message: string | undefined;
}

export interface ParamDecl extends Node {
  readonly kind: 'Param';
  readonly annotations: readonly Annotation[];
  /** `buffer` declarations are non-learnable params. */
  readonly isBuffer: boolean;
  readonly name: Ident;
  readonly type: TensorTypeExpr;
  readonly init: Expr | undefined;
  readonly cond: Expr | undefined;
}

export interface ChildDecl extends Node {
  readonly kind: 'Child';
  readonly annotations: readonly Annotation[];
  readonly name: Ident;
  /** `repeat N Block(...)` / `stack N Block(...)`. */
  readonly multi: { readonly mode: 'repeat' | 'stack'; readonly count: Expr } | undefined;
  readonly block: Ident;
  readonly args: readonly Arg[];
  /** Span of the `Block(args)` call. */
  readonly callSpan: Span;
  readonly cond: Expr | undefined;
}

export interface TrainDecl extends Node {
  readonly kind: 'Train';
  readonly annotations: readonly Annotation[];
  readonly entries: readonly { readonly key: Ident; readonly value: Expr; readonly span: Span }[];
}

// ---------------------------------------------------------------- functions

export interface FnDecl extends Node {
  readonly kind: 'Fn';
  readonly annotations: readonly Annotation[];
  readonly name: Ident;
  readonly params: readonly FnParam[];
  readonly results: readonly FnResult[] | undefined;
  /** Whether the function returns a tuple (two or more results, or `()`). */
  readonly tupleResult: boolean;
  readonly body: readonly Stmt[];
  /** The closing brace, for "missing return" diagnostics. */
  readonly endSpan: Span;
}

export interface FnParam extends Node {
  readonly kind: 'FnParam';
  readonly name: Ident;
  readonly type: TensorTypeExpr | HParamType;
  readonly default: Expr | undefined;
}

export interface FnResult extends Node {
  readonly kind: 'FnResult';
  readonly name: Ident | undefined;
  readonly type: TensorTypeExpr;
}

export interface TensorTypeExpr extends Node {
  readonly kind: 'TensorType';
  /** A dtype name (`f32`), a dtype class (`float`, `int`) or a dtype hyperparameter. */
  readonly dtype: Ident;
  readonly dims: readonly DimExpr[];
}

export type DimExpr =
  | { readonly kind: 'DimEllipsis'; readonly span: Span }
  | { readonly kind: 'DimAny'; readonly span: Span }
  | { readonly kind: 'DimExpr'; readonly expr: Expr; readonly span: Span };

// ---------------------------------------------------------------- statements

export type Stmt = LetStmt | SetStmt | ReturnStmt | RequireStmt;

export type Pattern =
  | { readonly kind: 'PatName'; readonly name: Ident; readonly span: Span }
  | { readonly kind: 'PatTuple'; readonly items: readonly Pattern[]; readonly span: Span };

export interface LetStmt extends Node {
  readonly kind: 'Let';
  readonly pattern: Pattern;
  readonly type: TensorTypeExpr | undefined;
  readonly value: Expr;
}

export interface SetStmt extends Node {
  readonly kind: 'Set';
  readonly target: Ident;
  readonly value: Expr;
}

export interface ReturnStmt extends Node {
  readonly kind: 'Return';
  readonly value: Expr;
}

// ---------------------------------------------------------------- expressions

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '@' | '**' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or';

export type Expr =
  | { readonly kind: 'Int'; readonly value: number; readonly text: string; readonly span: Span }
  | { readonly kind: 'Float'; readonly value: number; readonly text: string; readonly span: Span }
  | { readonly kind: 'Str'; readonly value: string; readonly span: Span }
  | { readonly kind: 'Bool'; readonly value: boolean; readonly span: Span }
  | { readonly kind: 'Name'; readonly name: string; readonly span: Span }
  | { readonly kind: 'Ellipsis'; readonly span: Span }
  | { readonly kind: 'Unary'; readonly op: '-' | 'not'; readonly operand: Expr; readonly span: Span }
  | {
      readonly kind: 'Binary';
      readonly op: BinaryOp;
      readonly left: Expr;
      readonly right: Expr;
      readonly opSpan: Span;
      readonly span: Span;
    }
  | { readonly kind: 'Call'; readonly callee: Expr; readonly args: readonly Arg[]; readonly span: Span }
  | {
      readonly kind: 'Pipe';
      readonly value: Expr;
      readonly fn: Expr;
      readonly args: readonly Arg[];
      readonly span: Span;
    }
  | { readonly kind: 'Index'; readonly target: Expr; readonly indices: readonly IndexItem[]; readonly span: Span }
  | { readonly kind: 'Member'; readonly target: Expr; readonly name: Ident; readonly span: Span }
  | { readonly kind: 'Tuple'; readonly items: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'List'; readonly items: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'Paren'; readonly inner: Expr; readonly span: Span }
  | IfExpr;

export interface IfExpr extends Node {
  readonly kind: 'If';
  readonly cond: Expr;
  readonly then: BranchBlock;
  readonly else: BranchBlock | IfExpr;
}

export interface BranchBlock extends Node {
  readonly kind: 'Branch';
  readonly stmts: readonly LetStmt[];
  readonly value: Expr;
}

export type Arg =
  | { readonly kind: 'PosArg'; readonly value: Expr; readonly span: Span }
  | { readonly kind: 'NamedArg'; readonly name: Ident; readonly value: Expr; readonly span: Span };

export type IndexItem =
  | { readonly kind: 'IndexExpr'; readonly value: Expr; readonly span: Span }
  | {
      readonly kind: 'Slice';
      readonly start: Expr | undefined;
      readonly stop: Expr | undefined;
      readonly step: Expr | undefined;
      readonly span: Span;
    }
  | { readonly kind: 'IndexEllipsis'; readonly span: Span };

export type ExprKind = Expr['kind'];
