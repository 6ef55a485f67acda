// Tokens of the .fm language (Chevrotain). The keyword and dtype lists exported here are
// the single source of truth; the TextMate grammar is tested against them.

import type { TokenType } from 'chevrotain';
import { createToken, Lexer } from './chevrotain.js';

export const KEYWORDS = [
  'import',
  'from',
  'as',
  'const',
  'block',
  'model',
  'param',
  'buffer',
  'fn',
  'let',
  'return',
  'set',
  'if',
  'else',
  'repeat',
  'stack',
  'train',
  'require',
  'true',
  'false',
  'and',
  'or',
  'not',
] as const;

export const DTYPES = ['f32', 'f16', 'bf16', 'i8', 'i4', 'i32', 'i64', 'bool'] as const;
export const DTYPE_CLASSES = ['float', 'int'] as const;

export const WhiteSpace = createToken({
  name: 'WhiteSpace',
  pattern: /[ \t\r\n\f\v\u00a0\ufeff]+/,
  group: Lexer.SKIPPED,
});
export const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\n]*/, group: 'comments' });
export const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, group: 'comments' });
/** Matches a `/*` with no closing `*\/`: reported as FM0101. */
export const UnterminatedComment = createToken({
  name: 'UnterminatedComment',
  pattern: /\/\*[\s\S]*/,
  group: 'errors',
});
export const Str = createToken({ name: 'Str', pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*"/ });
/** A string with no closing quote on its line: reported as FM0102. */
export const UnterminatedStr = createToken({
  name: 'UnterminatedStr',
  pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*\\?/,
  categories: [Str],
});
export const Float = createToken({
  name: 'Float',
  pattern: /\d[\d_]*\.\d[\d_]*(?:[eE][+-]?\d[\d_]*)?|\d[\d_]*[eE][+-]?\d[\d_]*/,
});
export const Int = createToken({ name: 'Int', pattern: /0[xX][0-9a-fA-F_]+|\d[\d_]*/ });
export const Ident = createToken({ name: 'Ident', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });
/** `@name` with no space: an annotation. A lone `@` is matrix multiplication. */
export const AnnotationName = createToken({
  name: 'AnnotationName',
  pattern: /@[A-Za-z_][A-Za-z0-9_]*/,
  label: 'an annotation',
});

function keyword(word: string): TokenType {
  return createToken({
    name: `Kw_${word}`,
    pattern: new RegExp(`${word}\\b`),
    longer_alt: Ident,
    label: `\`${word}\``,
  });
}
export const Kw = Object.fromEntries(KEYWORDS.map((w) => [w, keyword(w)])) as Record<
  (typeof KEYWORDS)[number],
  TokenType
>;

/** Operator classes: the parser consumes a class, the AST keeps the token's text. */
export const CmpOp = createToken({ name: 'CmpOp', pattern: Lexer.NA });
export const AddOp = createToken({ name: 'AddOp', pattern: Lexer.NA });
export const MulOp = createToken({ name: 'MulOp', pattern: Lexer.NA });

function punct(name: string, text: string, category?: TokenType): TokenType {
  const re = new RegExp(text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return createToken({ name, pattern: re, label: `\`${text}\``, ...(category ? { categories: [category] } : {}) });
}
export const Arrow = punct('Arrow', '->');
export const PipeOp = punct('PipeOp', '|>');
export const Ellipsis = punct('Ellipsis', '...');
export const StarStar = punct('StarStar', '**');
export const EqEq = punct('EqEq', '==', CmpOp);
export const NotEq = punct('NotEq', '!=', CmpOp);
export const LtEq = punct('LtEq', '<=', CmpOp);
export const GtEq = punct('GtEq', '>=', CmpOp);
export const Lt = punct('Lt', '<', CmpOp);
export const Gt = punct('Gt', '>', CmpOp);
export const Eq = punct('Eq', '=');
export const Plus = punct('Plus', '+', AddOp);
export const Minus = punct('Minus', '-', AddOp);
export const Star = punct('Star', '*', MulOp);
export const Slash = punct('Slash', '/', MulOp);
export const Percent = punct('Percent', '%', MulOp);
export const At = punct('At', '@', MulOp);
export const LParen = punct('LParen', '(');
export const RParen = punct('RParen', ')');
export const LBrack = punct('LBrack', '[');
export const RBrack = punct('RBrack', ']');
export const LCurly = punct('LCurly', '{');
export const RCurly = punct('RCurly', '}');
export const Comma = punct('Comma', ',');
export const Colon = punct('Colon', ':');
export const Dot = punct('Dot', '.');
export const Bar = punct('Bar', '|');

export const allTokens: TokenType[] = [
  CmpOp,
  AddOp,
  MulOp,
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  Str,
  UnterminatedStr,
  Float,
  Int,
  ...Object.values(Kw),
  Ident,
  Arrow,
  PipeOp,
  Ellipsis,
  StarStar,
  EqEq,
  NotEq,
  LtEq,
  GtEq,
  Lt,
  Gt,
  Eq,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  AnnotationName,
  At,
  LParen,
  RParen,
  LBrack,
  RBrack,
  LCurly,
  RCurly,
  Comma,
  Colon,
  Dot,
  Bar,
];

export const fmLexer = new Lexer(allTokens, {
  positionTracking: 'full',
  ensureOptimizations: false,
});
