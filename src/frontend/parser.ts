// The .fm grammar as a Chevrotain CstParser with error recovery. Rules are class fields;
// the grammar holds no semantics: ast-builder.ts turns the CST into the typed AST.

import type { CstNode, IParserErrorMessageProvider, IToken, ParserMethod, TokenType } from 'chevrotain';
import { CstParser, EOF } from './chevrotain.js';
import * as T from './lexer.js';

/** What a user is told was expected when a rule has no viable alternative. */
const RULE_DESCRIPTIONS: Record<string, string> = {
  file: 'a declaration (`import`, `const`, `fn`, `block` or `model`)',
  item: 'a declaration (`import`, `const`, `fn`, `block` or `model`)',
  declaration: 'a declaration (`const`, `fn`, `block` or `model`)',
  member: 'a block member (`param`, `buffer`, `let`, `require`, `fn`, `train` or `name = Block(...)`)',
  stmt: 'a statement (`let`, `set`, `require` or `return`)',
  hparamType: 'a type (`int`, `float`, `bool`, `dtype`, `fn`, `[int]` or `a | b`)',
  typeExpr: 'a type',
  importDecl: 'a module path or `{ names }`',
  pattern: 'a name or `(a, b)`',
  primary: 'an expression',
  expr: 'an expression',
  ifExpr: 'an expression',
  resultType: 'a result type',
  annotationArg: 'an annotation argument',
};
for (const r of [
  'orExpr',
  'andExpr',
  'notExpr',
  'cmpExpr',
  'addExpr',
  'mulExpr',
  'unaryExpr',
  'powExpr',
  'postfixExpr',
  'arg',
  'indexItem',
  'branchBlock',
]) {
  RULE_DESCRIPTIONS[r] = 'an expression';
}

export function describeToken(tok: IToken): string {
  if (tok.tokenType === EOF) return 'end of file';
  const img = tok.image.length > 20 ? `${tok.image.slice(0, 20)}…` : tok.image;
  return `\`${img.replace(/[\u0000-\u001f`]/g, '?')}\``;
}

function describeType(t: TokenType): string {
  if (t === EOF) return 'end of file';
  if (t === T.Ident) return 'a name';
  if (t === T.Str) return 'a string';
  if (t === T.Int) return 'an integer';
  if (t === T.Float) return 'a number';
  return typeof t.LABEL === 'string' ? t.LABEL : t.name;
}

export const errorMessages: IParserErrorMessageProvider = {
  // Expecting the end of the file means something stray sits between declarations.
  buildMismatchTokenMessage: ({ expected, actual }) =>
    `${expected === EOF ? RULE_DESCRIPTIONS.item : describeType(expected)}\u0000${describeToken(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) =>
    `${RULE_DESCRIPTIONS.item}\u0000${describeToken(firstRedundant)}`,
  buildNoViableAltMessage: ({ actual, ruleName }) =>
    `${RULE_DESCRIPTIONS[ruleName] ?? 'something else'}\u0000${describeToken(actual[0] ?? ({ tokenType: EOF, image: '' } as IToken))}`,
  buildEarlyExitMessage: ({ actual, ruleName }) =>
    `${RULE_DESCRIPTIONS[ruleName] ?? 'something else'}\u0000${describeToken(actual[0] ?? ({ tokenType: EOF, image: '' } as IToken))}`,
};

export class FmParser extends CstParser {
  constructor() {
    super(T.allTokens, {
      recoveryEnabled: true,
      errorMessageProvider: errorMessages,
      maxLookahead: 3,
      nodeLocationTracking: 'onlyOffset',
      // Grammar validation costs start-up time on every run; the tests run it (see
      // test/frontend/parser.test.ts), so the shipped CLI skips it.
      skipValidations: process.env.FMC_VALIDATE_GRAMMAR !== '1',
    });
    this.performSelfAnalysis();
  }

  /** `operand (op operand)*`: one left-associative precedence level. */
  private leftAssoc(operand: ParserMethod<[], CstNode>, op: TokenType): void {
    this.subrule(1, operand);
    this.MANY(() => {
      this.consume(1, op);
      this.subrule(2, operand);
    });
  }

  private identThen(next: TokenType): boolean {
    return this.LA(1).tokenType === T.Ident && this.LA(2).tokenType === next;
  }

  /** `x, x, x` with an optional trailing comma before `closer`; at most once per rule. */
  private commaList(rule: ParserMethod<[], CstNode>, closer: TokenType): void {
    this.OPTION9(() => {
      this.subrule(6, rule);
      this.MANY9({
        GATE: () => this.LA(1).tokenType === T.Comma && this.LA(2).tokenType !== closer,
        DEF: () => {
          this.CONSUME9(T.Comma);
          this.subrule(7, rule);
        },
      });
      this.OPTION8(() => this.CONSUME8(T.Comma));
    });
  }

  file = this.RULE('file', () => {
    this.MANY(() => this.SUBRULE(this.item));
  });

  item = this.RULE('item', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.importDecl) },
      {
        ALT: () => {
          this.MANY(() => this.SUBRULE(this.annotation));
          this.SUBRULE(this.declaration);
        },
      },
    ]);
  });

  declaration = this.RULE('declaration', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.constDecl) },
      { ALT: () => this.SUBRULE(this.fnDecl) },
      { ALT: () => this.SUBRULE(this.blockDecl) },
    ]);
  });

  importDecl = this.RULE('importDecl', () => {
    this.CONSUME(T.Kw.import);
    this.OR([
      { ALT: () => this.CONSUME(T.Str) },
      {
        ALT: () => {
          this.CONSUME(T.LCurly);
          this.MANY_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.Ident) });
          this.CONSUME(T.RCurly);
          this.CONSUME(T.Kw.from);
          this.CONSUME2(T.Str);
        },
      },
    ]);
  });

  annotation = this.RULE('annotation', () => {
    this.CONSUME(T.AnnotationName);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.annotationArg) });
      this.CONSUME(T.RParen);
    });
  });

  annotationArg = this.RULE('annotationArg', () => {
    this.OR([
      {
        GATE: () => this.identThen(T.Eq),
        ALT: () => {
          this.CONSUME(T.Ident);
          this.CONSUME(T.Eq);
          this.SUBRULE(this.expr);
        },
      },
      {
        // `@sparse(block = 32, ...)`: `block` is a keyword but also an argument name here.
        GATE: () => this.LA(1).tokenType === T.Kw.block && this.LA(2).tokenType === T.Eq,
        ALT: () => {
          this.CONSUME(T.Kw.block);
          this.CONSUME2(T.Eq);
          this.SUBRULE4(this.expr);
        },
      },
      {
        ALT: () => {
          this.SUBRULE2(this.expr);
          this.OPTION(() => {
            this.CONSUME(T.Colon);
            this.SUBRULE3(this.expr);
          });
        },
      },
    ]);
  });

  constDecl = this.RULE('constDecl', () => {
    this.CONSUME(T.Kw.const);
    this.CONSUME(T.Ident);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.hparamType);
    });
    this.CONSUME(T.Eq);
    this.SUBRULE(this.expr);
  });

  blockDecl = this.RULE('blockDecl', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Kw.block) }, { ALT: () => this.CONSUME(T.Kw.model) }]);
    this.CONSUME(T.Ident);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.commaList(this.hparam, T.RParen);
      this.CONSUME(T.RParen);
    });
    this.CONSUME(T.LCurly);
    this.MANY2(() => this.SUBRULE(this.member));
    this.CONSUME(T.RCurly);
  });

  hparam = this.RULE('hparam', () => {
    this.CONSUME(T.Ident);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.hparamType);
    });
    this.OPTION2(() => {
      this.CONSUME(T.Eq);
      this.SUBRULE(this.expr);
    });
  });

  hparamType = this.RULE('hparamType', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Kw.fn) },
      {
        ALT: () => {
          this.CONSUME(T.LBrack);
          this.CONSUME3(T.Ident);
          this.CONSUME(T.RBrack);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Ident);
          this.MANY(() => {
            this.CONSUME(T.Bar);
            this.CONSUME2(T.Ident);
          });
        },
      },
    ]);
  });

  member = this.RULE('member', () => {
    this.MANY(() => this.SUBRULE(this.annotation));
    this.OR([
      { ALT: () => this.SUBRULE(this.letMember) },
      { ALT: () => this.SUBRULE(this.requireStmt) },
      { ALT: () => this.SUBRULE(this.paramDecl) },
      { ALT: () => this.SUBRULE(this.fnDecl) },
      { ALT: () => this.SUBRULE(this.trainDecl) },
      { ALT: () => this.SUBRULE(this.childDecl) },
    ]);
  });

  letMember = this.RULE('letMember', () => {
    this.CONSUME(T.Kw.let);
    this.CONSUME(T.Ident);
    this.CONSUME(T.Eq);
    this.SUBRULE(this.expr);
  });

  requireStmt = this.RULE('requireStmt', () => {
    this.CONSUME(T.Kw.require);
    this.SUBRULE(this.expr);
    this.OPTION(() => {
      this.CONSUME(T.Comma);
      this.CONSUME(T.Str);
    });
  });

  paramDecl = this.RULE('paramDecl', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Kw.param) }, { ALT: () => this.CONSUME(T.Kw.buffer) }]);
    this.CONSUME(T.Ident);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.tensorType);
    this.OPTION(() => {
      this.CONSUME(T.Eq);
      this.SUBRULE(this.expr);
    });
    this.OPTION2(() => {
      this.CONSUME(T.Kw.if);
      this.SUBRULE2(this.expr);
    });
  });

  childDecl = this.RULE('childDecl', () => {
    this.CONSUME(T.Ident);
    this.CONSUME(T.Eq);
    this.OPTION(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Kw.repeat) }, { ALT: () => this.CONSUME(T.Kw.stack) }]);
      this.SUBRULE(this.expr);
    });
    this.CONSUME2(T.Ident);
    this.CONSUME(T.LParen);
    this.SUBRULE(this.args);
    this.CONSUME(T.RParen);
    this.OPTION2(() => {
      this.CONSUME(T.Kw.if);
      this.SUBRULE2(this.expr);
    });
  });

  trainDecl = this.RULE('trainDecl', () => {
    this.CONSUME(T.Kw.train);
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.CONSUME(T.Ident);
      this.CONSUME(T.Eq);
      this.SUBRULE(this.expr);
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  fnDecl = this.RULE('fnDecl', () => {
    this.CONSUME(T.Kw.fn);
    this.CONSUME(T.Ident);
    this.CONSUME(T.LParen);
    this.commaList(this.fnParam, T.RParen);
    this.CONSUME(T.RParen);
    this.OPTION2(() => {
      // `:` is accepted here only to report it well (a Python habit); see ast-builder.
      this.OR([{ ALT: () => this.CONSUME(T.Arrow) }, { ALT: () => this.CONSUME(T.Colon) }]);
      this.SUBRULE(this.resultType);
    });
    this.CONSUME(T.LCurly);
    this.MANY2(() => this.SUBRULE(this.stmt));
    this.CONSUME(T.RCurly);
  });

  fnParam = this.RULE('fnParam', () => {
    this.CONSUME(T.Ident);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr);
    this.OPTION(() => {
      this.CONSUME(T.Eq);
      this.SUBRULE(this.expr);
    });
  });

  typeExpr = this.RULE('typeExpr', () => {
    this.OR([
      { GATE: () => this.identThen(T.LBrack), ALT: () => this.SUBRULE(this.tensorType) },
      { ALT: () => this.SUBRULE(this.hparamType) },
    ]);
  });

  tensorType = this.RULE('tensorType', () => {
    this.CONSUME(T.Ident);
    this.CONSUME(T.LBrack);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expr) });
    this.CONSUME(T.RBrack);
  });

  resultType = this.RULE('resultType', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.commaList(this.resultItem, T.RParen);
          this.CONSUME(T.RParen);
        },
      },
      { ALT: () => this.SUBRULE2(this.tensorType) },
    ]);
  });

  resultItem = this.RULE('resultItem', () => {
    this.OPTION({
      GATE: () => this.identThen(T.Colon),
      DEF: () => {
        this.CONSUME(T.Ident);
        this.CONSUME(T.Colon);
      },
    });
    this.SUBRULE(this.tensorType);
  });

  stmt = this.RULE('stmt', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.letStmt) },
      {
        ALT: () => {
          this.CONSUME(T.Kw.set);
          this.CONSUME(T.Ident);
          this.CONSUME(T.Eq);
          this.SUBRULE(this.expr);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Kw.return);
          this.SUBRULE2(this.expr);
        },
      },
      { ALT: () => this.SUBRULE(this.requireStmt) },
    ]);
  });

  letStmt = this.RULE('letStmt', () => {
    this.CONSUME(T.Kw.let);
    this.SUBRULE(this.pattern);
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.SUBRULE(this.tensorType);
    });
    this.CONSUME(T.Eq);
    this.SUBRULE(this.expr);
  });

  pattern = this.RULE('pattern', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Ident) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.pattern) });
          this.CONSUME(T.RParen);
        },
      },
    ]);
  });

  // ---------------------------------------------------------------- expressions

  expr = this.RULE('expr', () => {
    this.SUBRULE(this.orExpr);
    this.MANY(() => {
      this.CONSUME(T.PipeOp);
      this.SUBRULE(this.postfixExpr);
    });
  });

  orExpr = this.RULE('orExpr', () => this.leftAssoc(this.andExpr, T.Kw.or));

  andExpr = this.RULE('andExpr', () => this.leftAssoc(this.notExpr, T.Kw.and));

  notExpr = this.RULE('notExpr', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Kw.not);
          this.SUBRULE(this.notExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.cmpExpr) },
    ]);
  });

  cmpExpr = this.RULE('cmpExpr', () => this.leftAssoc(this.addExpr, T.CmpOp));

  addExpr = this.RULE('addExpr', () => this.leftAssoc(this.mulExpr, T.AddOp));

  mulExpr = this.RULE('mulExpr', () => this.leftAssoc(this.unaryExpr, T.MulOp));

  unaryExpr = this.RULE('unaryExpr', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Minus);
          this.SUBRULE(this.unaryExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.powExpr) },
    ]);
  });

  powExpr = this.RULE('powExpr', () => {
    this.SUBRULE(this.postfixExpr);
    this.OPTION(() => {
      this.CONSUME(T.StarStar);
      this.SUBRULE(this.unaryExpr);
    });
  });

  postfixExpr = this.RULE('postfixExpr', () => {
    this.SUBRULE(this.primary);
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(T.LParen);
            this.SUBRULE(this.args);
            this.CONSUME(T.RParen);
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.LBrack);
            this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.indexItem) });
            this.CONSUME(T.RBrack);
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Dot);
            this.CONSUME(T.Ident);
          },
        },
      ]);
    });
  });

  args = this.RULE('args', () => {
    this.commaList(this.arg, T.RParen);
  });

  arg = this.RULE('arg', () => {
    this.OR([
      {
        GATE: () => this.identThen(T.Eq),
        ALT: () => {
          this.CONSUME(T.Ident);
          this.CONSUME(T.Eq);
          this.SUBRULE(this.expr);
        },
      },
      { ALT: () => this.SUBRULE2(this.expr) },
    ]);
  });

  /** `e`, `a:b`, `a:b:s`, `:`, `::2`, `...` (an Ellipsis primary). */
  indexItem = this.RULE('indexItem', () => {
    this.OPTION(() => this.SUBRULE(this.expr));
    this.OPTION2(() => {
      this.CONSUME(T.Colon);
      this.OPTION3(() => this.SUBRULE2(this.expr));
      this.OPTION4(() => {
        this.CONSUME2(T.Colon);
        this.OPTION5(() => this.SUBRULE3(this.expr));
      });
    });
  });

  primary = this.RULE('primary', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Int) },
      { ALT: () => this.CONSUME(T.Float) },
      { ALT: () => this.CONSUME(T.Str) },
      { ALT: () => this.CONSUME(T.Kw.true) },
      { ALT: () => this.CONSUME(T.Kw.false) },
      { ALT: () => this.CONSUME(T.Ident) },
      { ALT: () => this.CONSUME(T.Ellipsis) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expr) });
          this.CONSUME(T.RParen);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.LBrack);
          this.MANY_SEP2({ SEP: T.Comma, DEF: () => this.SUBRULE2(this.expr) });
          this.CONSUME(T.RBrack);
        },
      },
      { ALT: () => this.SUBRULE(this.ifExpr) },
    ]);
  });

  ifExpr = this.RULE('ifExpr', () => {
    this.CONSUME(T.Kw.if);
    this.SUBRULE(this.expr);
    this.SUBRULE(this.branchBlock);
    this.CONSUME(T.Kw.else);
    this.OR([{ ALT: () => this.SUBRULE2(this.ifExpr) }, { ALT: () => this.SUBRULE2(this.branchBlock) }]);
  });

  branchBlock = this.RULE('branchBlock', () => {
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.letStmt));
    this.SUBRULE(this.expr);
    this.CONSUME(T.RCurly);
  });
}

/** One parser instance serves every file (Chevrotain parsers are reusable). */
let instance: FmParser | undefined;
export function fmParser(): FmParser {
  instance ??= new FmParser();
  return instance;
}
