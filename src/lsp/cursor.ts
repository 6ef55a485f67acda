// What surrounds the cursor, read from the tokens before it (the compiler's lexer): the word
// being typed, `target.` before it, the call whose arguments it is in (callee, argument
// index, named arguments given), a type's shape brackets, an import's braces. Completion and
// signature help use it; the text may not parse (it is being typed), the tokens always do.

import type { IToken } from 'chevrotain';
import { DTYPE_CLASSES, DTYPES, fmLexer } from '../frontend/lexer.js';

export interface CallContext {
  /** The called name (`Linear`, `proj`, `f`), or the member name of `a.f(`. */
  readonly callee: string;
  readonly calleeStart: number;
  /** `a` of `a.f(`. */
  readonly receiver: string | undefined;
  /** Offset of the `(`. */
  readonly open: number;
  /** The index of the argument at the cursor (positional count, the piped value included). */
  readonly argIndex: number;
  /** The argument at the cursor is `name = ...`: its name. */
  readonly named: string | undefined;
  /** Names given as `name = ` in this call. */
  readonly given: readonly string[];
  /** The cursor is where an argument starts (a named argument may be written there). */
  readonly atArgStart: boolean;
  /** `fn f(` / `block B(` / `model M(`: a declaration's parameter list, not a call. */
  readonly declaration: boolean;
}

export interface Cursor {
  readonly offset: number;
  /** Start of the identifier the cursor is in or after (== offset when none). */
  readonly wordStart: number;
  readonly word: string;
  /** In a comment or a string: nothing to complete. */
  readonly inert: boolean;
  /** `target.word`: the target's name. */
  readonly member: { readonly target: string; readonly targetStart: number } | undefined;
  readonly call: CallContext | undefined;
  /** Inside the shape brackets of a tensor type (`f32[B, |]`). */
  readonly shape: boolean;
  /** Right after `:` or `->` outside brackets of an index: a type is expected. */
  readonly type: boolean;
  /** Inside `import { ... }`: the module path written after the braces, when there is one. */
  readonly importFrom: string | undefined | null;
}

const TYPE_NAMES = new Set<string>([...DTYPES, ...DTYPE_CLASSES]);

/** The cursor context at `offset` of `text`. */
export function cursorAt(text: string, offset: number): Cursor {
  const lexed = fmLexer.tokenize(text.slice(0, offset));
  const tokens = lexed.tokens;
  const name = (t: IToken | undefined) => t?.tokenType.name;
  const last = tokens.at(-1);
  const end = (t: IToken) => t.startOffset + t.image.length;

  // The word at the cursor: an identifier or keyword token ending exactly there.
  let wordTok: IToken | undefined;
  if (last && end(last) === offset && /^[A-Za-z_]\w*$/.test(last.image)) wordTok = last;
  const before = wordTok ? tokens.slice(0, -1) : tokens;
  const comments = (lexed.groups as Record<string, IToken[] | undefined>).comments ?? [];
  const lastComment = comments.at(-1);
  const inComment =
    lastComment !== undefined &&
    end(lastComment) === offset &&
    (lastComment.image.startsWith('//') || !lastComment.image.endsWith('*/'));
  const unterminated =
    lexed.errors.length > 0 && lexed.errors.at(-1)!.offset + (lexed.errors.at(-1)!.length ?? 0) >= offset;
  const inString =
    last !== undefined &&
    end(last) === offset &&
    last.image.startsWith('"') &&
    (last.image.length === 1 || !last.image.endsWith('"'));
  const inert = inComment || inString || (unterminated && !wordTok);

  const prev = before.at(-1);
  const member =
    name(prev) === 'Dot' && name(before.at(-2)) === 'Ident'
      ? { target: before.at(-2)!.image, targetStart: before.at(-2)!.startOffset }
      : undefined;

  // The innermost open bracket.
  const stack: number[] = [];
  before.forEach((t, i) => {
    const n = name(t);
    if (n === 'LParen' || n === 'LBrack' || n === 'LCurly') stack.push(i);
    else if (n === 'RParen' || n === 'RBrack' || n === 'RCurly') stack.pop();
  });
  const openIdx = stack.at(-1);
  const open = openIdx === undefined ? undefined : before[openIdx]!;
  const ahead = before[openIdx === undefined ? -1 : openIdx - 1];

  let call: CallContext | undefined;
  let shape = false;
  let importFrom: string | undefined | null = null;
  if (open && openIdx !== undefined && name(open) === 'LParen' && name(ahead) === 'Ident') {
    call = callContext(before, openIdx, name);
  } else if (open && openIdx !== undefined && name(open) === 'LBrack' && name(ahead) === 'Ident') {
    const beforeName = name(before[openIdx - 2]);
    shape = TYPE_NAMES.has(ahead!.image) || beforeName === 'Colon' || beforeName === 'Arrow';
  } else if (open && openIdx !== undefined && name(open) === 'LCurly' && name(ahead) === 'Kw_import') {
    importFrom = /^[\w\s,]*\}\s*from\s*"([^"\n]*)"/.exec(text.slice(offset))?.[1];
  }
  const typeExpected =
    (name(prev) === 'Colon' || name(prev) === 'Arrow') && !(open && name(open) === 'LBrack' && !shape);
  return {
    offset,
    wordStart: wordTok ? wordTok.startOffset : offset,
    word: wordTok ? wordTok.image : '',
    inert,
    member,
    call,
    shape,
    type: typeExpected,
    importFrom,
  };
}

function callContext(
  before: IToken[],
  openIdx: number,
  name: (t: IToken | undefined) => string | undefined,
): CallContext {
  const calleeTok = before[openIdx - 1]!;
  const pre = before[openIdx - 2];
  const receiver =
    name(pre) === 'Dot' && name(before[openIdx - 3]) === 'Ident' ? before[openIdx - 3]!.image : undefined;
  const declaration = ['Kw_fn', 'Kw_block', 'Kw_model'].includes(name(pre) ?? '');
  // A piped call (`x |> f(...)`): the piped value is the first argument.
  const piped = name(pre) === 'PipeOp' ? 1 : 0;
  let depth = 0;
  let argIndex = 0;
  let argStart = openIdx + 1;
  const given: string[] = [];
  for (let i = openIdx + 1; i < before.length; i++) {
    const n = name(before[i]);
    if (n === 'LParen' || n === 'LBrack' || n === 'LCurly') depth++;
    else if (n === 'RParen' || n === 'RBrack' || n === 'RCurly') depth--;
    else if (depth === 0 && n === 'Comma') {
      argIndex++;
      argStart = i + 1;
    } else if (depth === 0 && n === 'Eq' && name(before[i - 1]) === 'Ident' && i - 1 === argStart)
      given.push(before[i - 1]!.image);
  }
  const arg = before.slice(argStart);
  const named = name(arg[0]) === 'Ident' && name(arg[1]) === 'Eq' ? arg[0]!.image : undefined;
  return {
    callee: calleeTok.image,
    calleeStart: calleeTok.startOffset,
    receiver,
    open: before[openIdx]!.startOffset,
    argIndex: argIndex + piped,
    named,
    given,
    atArgStart: arg.length === 0,
    declaration,
  };
}
