// Parsing of dim expressions: the inverse of `dimToString`.
//
//   expr  := ['-'] term (('+' | '-') term)*       a leading '-' negates the whole first term
//   term  := power (('*' | '/' | '%') power)*      left-associative; '%' is C-style mod
//   power := atom ['**' ['-'] INT]
//   atom  := INT | SYMBOL | '(' expr ')' | 'floor' '(' power ('*' power)* '/' power ')'
//   SYMBOL := [A-Za-z_][A-Za-z0-9_.]*
//
// Everything is rebuilt with the operations of dims.ts, so `parseDim(dimToString(d))` is
// `d` again (dimEquals). Two details keep the opaque atoms intact: the first term's '-'
// applies after '%' (`-T % 2` is `-(T % 2)`, as dimToString prints it), and dividing by a
// parenthesized product or by a power divides by each factor in turn, so `x/((T + 1)*(B + 1))`
// gives the two atoms 1/(T + 1) and 1/(B + 1), not one atom 1/(T*B + T + B + 1).

import {
  type Dim,
  DimTooComplex,
  dimAdd,
  dimConst,
  dimDiv,
  dimFloorDiv,
  dimMod,
  dimMul,
  dimNeg,
  dimSub,
  dimSym,
} from './dims.js';

/** A malformed dim expression; `offset` is the position in the parsed text. */
export class DimParseError extends Error {
  override name = 'DimParseError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Parses a whole string as one dim expression (surrounding spaces allowed). */
export function parseDim(text: string): Dim {
  const { dim, end } = parseDimAt(text, 0);
  const p = skipSpaces(text, end);
  if (p < text.length) throw new DimParseError(`unexpected '${text[p]}' after dim expression`, p);
  return dim;
}

/**
 * Parses the longest dim expression starting at `pos` (after optional spaces) and returns
 * it with the offset just after it: the caller goes on from `end` (`[B, T]` stops at ',').
 */
export function parseDimAt(text: string, pos: number): { dim: Dim; end: number } {
  const p = new DimParser(text, pos);
  const ast = p.expr(0);
  try {
    return { dim: evaluate(ast), end: p.end };
  } catch (e) {
    if (e instanceof DimParseError) throw e;
    if (e instanceof RangeError || e instanceof DimTooComplex) throw new DimParseError(e.message, ast.at);
    throw e;
  }
}

function skipSpaces(s: string, p: number): number {
  while (p < s.length && (s[p] === ' ' || s[p] === '\t')) p++;
  return p;
}

// ---------- syntax tree ----------

type Ast = { readonly at: number } & (
  | { readonly k: 'int'; readonly v: bigint }
  | { readonly k: 'sym'; readonly name: string }
  | { readonly k: 'paren'; readonly e: Ast }
  /** A sum chain; `neg` negates the first term. */
  | { readonly k: 'sum'; readonly neg: boolean; readonly first: Ast; readonly rest: readonly Link<'+' | '-'>[] }
  | { readonly k: 'prod'; readonly first: Ast; readonly rest: readonly Link<'*' | '/' | '%'>[] }
  | { readonly k: 'pow'; readonly base: Ast; readonly exp: number }
  | { readonly k: 'floor'; readonly num: Ast; readonly den: Ast }
);
type Link<Op> = { readonly op: Op; readonly e: Ast };

/** The largest `**` exponent accepted (a printed dim never comes near it). */
const MAX_EXP = 256;
/** The largest exponent of a non-monomial divisor, divided out one factor at a time. */
const MAX_DIV_EXP = 64;
/** The longest integer literal accepted. */
const MAX_DIGITS = 1000;
/** The deepest parenthesis nesting accepted (guards the recursion). */
const MAX_DEPTH = 100;

type Tok = { readonly t: string; readonly at: number; readonly end: number };

class DimParser {
  private tok: Tok;
  /** End offset of the last consumed token. */
  end: number;

  constructor(
    private readonly s: string,
    pos: number,
  ) {
    this.end = pos;
    this.tok = this.lex(pos);
  }

  private lex(pos: number): Tok {
    const s = this.s;
    const at = skipSpaces(s, pos);
    const c = s[at];
    if (c === undefined) return { t: '', at, end: at };
    if (c >= '0' && c <= '9') {
      let e = at;
      while (e < s.length && s[e]! >= '0' && s[e]! <= '9') e++;
      return { t: s.slice(at, e), at, end: e };
    }
    if (/[A-Za-z_]/.test(c)) {
      let e = at + 1;
      while (e < s.length && /[\w.]/.test(s[e]!)) e++;
      return { t: s.slice(at, e), at, end: e };
    }
    if (c === '*' && s[at + 1] === '*') return { t: '**', at, end: at + 2 };
    if ('+-*/%()'.includes(c)) return { t: c, at, end: at + 1 };
    return { t: '', at, end: at }; // not part of a dim: the caller's token
  }

  private peek(): string {
    return this.tok.t;
  }

  private next(): Tok {
    const t = this.tok;
    this.end = t.end;
    this.tok = this.lex(t.end);
    return t;
  }

  private fail(msg: string, at = this.tok.at): never {
    throw new DimParseError(msg, at);
  }

  private describe(t: Tok): string {
    return t.t === '' ? (t.at >= this.s.length ? 'end of text' : `'${this.s[t.at]}'`) : `'${t.t}'`;
  }

  private expect(t: string): void {
    if (this.peek() !== t) this.fail(`expected '${t}' in dim expression, found ${this.describe(this.tok)}`);
    this.next();
  }

  expr(depth: number): Ast {
    if (depth > MAX_DEPTH) this.fail('dim expression nested too deeply');
    const at = this.tok.at;
    const neg = this.peek() === '-';
    if (neg) this.next();
    const first = this.term(depth);
    const rest: Link<'+' | '-'>[] = [];
    while (this.peek() === '+' || this.peek() === '-') {
      const op = this.next().t as '+' | '-';
      rest.push({ op, e: this.term(depth) });
    }
    return !neg && rest.length === 0 ? first : { k: 'sum', neg, first, rest, at };
  }

  private term(depth: number): Ast {
    const at = this.tok.at;
    const first = this.power(depth);
    const rest: Link<'*' | '/' | '%'>[] = [];
    while (this.peek() === '*' || this.peek() === '/' || this.peek() === '%') {
      const op = this.next().t as '*' | '/' | '%';
      rest.push({ op, e: this.power(depth) });
    }
    return rest.length === 0 ? first : { k: 'prod', first, rest, at };
  }

  private power(depth: number): Ast {
    const at = this.tok.at;
    const base = this.atom(depth);
    if (this.peek() !== '**') return base;
    this.next();
    let sign = 1;
    if (this.peek() === '-') {
      this.next();
      sign = -1;
    }
    const t = this.tok;
    if (!/^\d+$/.test(t.t)) this.fail(`expected an integer exponent after '**', found ${this.describe(t)}`);
    const v = Number(t.t);
    if (v > MAX_EXP) this.fail(`exponent ${t.t} is too large`);
    this.next();
    return { k: 'pow', base, exp: sign * v, at };
  }

  private atom(depth: number): Ast {
    const t = this.tok;
    if (/^\d/.test(t.t)) {
      if (t.t.length > MAX_DIGITS) this.fail(`integer with more than ${MAX_DIGITS} digits`);
      this.next();
      return { k: 'int', v: BigInt(t.t), at: t.at };
    }
    if (/^[A-Za-z_]/.test(t.t)) {
      this.next();
      if (t.t === 'floor' && this.peek() === '(') {
        if (depth >= MAX_DEPTH) this.fail('dim expression nested too deeply');
        this.next();
        const first = this.power(depth + 1);
        const rest: Link<'*'>[] = [];
        while (this.peek() === '*') {
          this.next();
          rest.push({ op: '*', e: this.power(depth + 1) });
        }
        this.expect('/');
        const den = this.power(depth + 1);
        this.expect(')');
        const num: Ast = rest.length === 0 ? first : { k: 'prod', first, rest, at: first.at };
        return { k: 'floor', num, den, at: t.at };
      }
      return { k: 'sym', name: t.t, at: t.at };
    }
    if (t.t === '(') {
      this.next();
      const e = this.expr(depth + 1);
      this.expect(')');
      return { k: 'paren', e, at: t.at };
    }
    return this.fail(`expected a dim expression, found ${this.describe(t)}`);
  }
}

// ---------- evaluation ----------

const ONE = dimConst(1);

function bigConst(v: bigint): Dim {
  let r = dimConst(0);
  const digits = v.toString();
  for (let i = 0; i < digits.length; i += 15) {
    const part = digits.slice(i, i + 15);
    r = dimAdd(dimMul(r, dimConst(10 ** part.length)), dimConst(Number(part)));
  }
  return r;
}

/** x**e by squaring (e >= 0). */
function pow(x: Dim, e: number): Dim {
  let r = ONE;
  let b = x;
  for (let k = e; k > 0; k = Math.floor(k / 2)) {
    if (k % 2 === 1) r = dimMul(r, b);
    if (k > 1) b = dimMul(b, b);
  }
  return r;
}

function evaluate(a: Ast): Dim {
  switch (a.k) {
    case 'int':
      return bigConst(a.v);
    case 'sym':
      return dimSym(a.name);
    case 'paren':
      return evaluate(a.e);
    case 'pow':
      return a.exp >= 0 ? pow(evaluate(a.base), a.exp) : divide(ONE, { ...a, exp: -a.exp });
    case 'floor':
      return dimFloorDiv(evaluate(a.num), evaluate(a.den));
    case 'sum': {
      let r = evaluate(a.first);
      if (a.neg) r = dimNeg(r);
      for (const { op, e } of a.rest) r = op === '+' ? dimAdd(r, evaluate(e)) : dimSub(r, evaluate(e));
      return r;
    }
    case 'prod': {
      let r = evaluate(a.first);
      for (const { op, e } of a.rest)
        r = op === '*' ? dimMul(r, evaluate(e)) : op === '/' ? divide(r, e) : dimMod(r, evaluate(e));
      return r;
    }
  }
}

/** x / d, dividing by each factor of a parenthesized product or of a power in turn (see the header). */
function divide(x: Dim, d: Ast): Dim {
  if (d.k === 'paren') return divide(x, d.e);
  if (d.k === 'prod' && d.rest.every((l) => l.op === '*')) {
    let r = divide(x, d.first);
    for (const l of d.rest) r = divide(r, l.e);
    return r;
  }
  if (d.k === 'pow' && d.exp > 0) {
    const base = evaluate(d.base);
    if (base.terms.length === 1) return dimDiv(x, pow(base, d.exp));
    if (d.exp > MAX_DIV_EXP) throw new DimParseError(`exponent ${d.exp} of a divisor is too large`, d.at);
    let r = x;
    for (let i = 0; i < d.exp; i++) r = dimDiv(r, base);
    return r;
  }
  return dimDiv(x, evaluate(d));
}
