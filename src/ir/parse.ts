// Reads the text form of graph IR that print.ts writes (the grammar is at the top of
// print.ts). Every node is rebuilt with a GraphBuilder, so types are re-inferred and a
// printed type that disagrees with the inferred one is an error. Any malformed input gives
// an IRParseError with a line:col position, never another exception.

import { DimParseError, parseDimAt } from './dim-text.js';
import type { Dim } from './dims.js';
import { isDtype } from './dtype.js';
import { type Graph, GraphBuilder, type Node, type NodeOf, type TType } from './graph.js';
import { dimsEqual } from './infer.js';
import { type ArgEntry, argEntries, type Codec, type CodecValues, HEAD_WORDS } from './op-args.js';
import { INIT_FNS, type InitFn, type OpName } from './ops.js';
import { formatName, formatType } from './print.js';

/** A malformed graph text; `line` and `col` are 1-based. */
export class IRParseError extends Error {
  override name = 'IRParseError';
  constructor(
    readonly detail: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(`${line}:${col}: ${detail}`);
  }
}

/** Parses a text holding exactly one graph. */
export function parseGraph(text: string): Graph {
  const gs = parseModule(text);
  if (gs.length !== 1) throw new IRParseError(`expected one graph, found ${gs.length}`, 1, 1);
  return gs[0]!;
}

/** Parses any number of graphs, one after another (each with its own builder). */
export function parseModule(text: string): Graph[] {
  const lines = text.split(/\r\n|\r|\n/);
  const graphs: Graph[] = [];
  let cur: GraphParser | undefined;
  lines.forEach((line, i) => {
    const s = new Scanner(line, i + 1);
    s.ws();
    if (s.done() || line.startsWith('//', s.pos)) return;
    if (s.peekWord() === 'graph') {
      if (cur) graphs.push(cur.finish());
      cur = new GraphParser(s);
    } else if (!cur) s.fail("expected 'graph'");
    else cur.line(s);
  });
  if (cur) graphs.push(cur.finish());
  return graphs;
}

// ---------- scanning one line ----------

const NAME_RE = /[A-Za-z_][A-Za-z0-9_.]*/y;
const STRING_RE = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER_RE = /-?(?:nan|inf|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(?![\w.])/y;
const INT_RE = /\d+(?![\w.])/y;

const isOneOf = <T extends string>(xs: readonly T[], s: string): s is T => (xs as readonly string[]).includes(s);

class Scanner {
  pos = 0;
  constructor(
    readonly text: string,
    readonly lineNo: number,
  ) {}

  fail(msg: string, at = this.pos): never {
    throw new IRParseError(msg, this.lineNo, at + 1);
  }

  ws(): void {
    while (this.pos < this.text.length && (this.text[this.pos] === ' ' || this.text[this.pos] === '\t')) this.pos++;
  }

  done(): boolean {
    return this.pos >= this.text.length;
  }

  /** What is at the cursor, for messages. */
  found(): string {
    if (this.done()) return 'end of line';
    const m = /^(?:[A-Za-z_][\w.]*|\d+|\S)/.exec(this.text.slice(this.pos, this.pos + 41));
    const t = m ? m[0] : this.text[this.pos]!;
    return `'${t.length > 40 ? `${t.slice(0, 40)}...` : t}'`;
  }

  private match(re: RegExp): string | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  peekWord(): string | undefined {
    NAME_RE.lastIndex = this.pos;
    return NAME_RE.exec(this.text)?.[0];
  }

  /** Consumes `tok` (after spaces) when present. */
  eat(tok: string): boolean {
    this.ws();
    if (!this.text.startsWith(tok, this.pos)) return false;
    this.pos += tok.length;
    return true;
  }

  expect(tok: string, what = `'${tok}'`): void {
    if (!this.eat(tok)) this.fail(`expected ${what}, found ${this.found()}`);
  }

  word(what: string): string {
    this.ws();
    return this.match(NAME_RE) ?? this.fail(`expected ${what}, found ${this.found()}`);
  }

  /** One of `words` (`true`, `values`). */
  oneOf<T extends string>(words: readonly T[]): T {
    this.ws();
    const w = this.peekWord();
    if (!isOneOf(words, w ?? '')) this.fail(`expected ${words.join(' or ')}, found ${this.found()}`);
    this.pos += w!.length;
    return w as T;
  }

  keyword(kw: string): void {
    this.ws();
    const at = this.pos;
    if (this.match(NAME_RE) !== kw) this.fail(`expected '${kw}'`, at);
  }

  string(what: string): string {
    this.ws();
    const s = this.match(STRING_RE) ?? this.fail(`expected ${what} (a string in double quotes), found ${this.found()}`);
    return JSON.parse(s) as string;
  }

  /** An identifier or a string. */
  name(what: string): string {
    this.ws();
    if (this.text[this.pos] === '"') return this.string(what);
    return this.word(what);
  }

  number(what: string): number {
    this.ws();
    const s = this.match(NUMBER_RE) ?? this.fail(`expected ${what} (a number), found ${this.found()}`);
    if (s === 'nan') return NaN;
    if (s === 'inf') return Infinity;
    if (s === '-inf') return -Infinity;
    if (s === '-nan') this.fail(`bad number '-nan' (NaN is written nan)`, this.pos - s.length);
    return Number(s);
  }

  int(what: string): number {
    const at = (this.ws(), this.pos);
    const x = this.number(what);
    if (!Number.isSafeInteger(x)) this.fail(`${what} must be an integer, found ${this.text.slice(at, this.pos)}`, at);
    return x;
  }

  dim(): Dim {
    this.ws();
    try {
      const { dim, end } = parseDimAt(this.text, this.pos);
      this.pos = end;
      return dim;
    } catch (e) {
      if (e instanceof DimParseError) this.fail(e.message, e.offset);
      throw e;
    }
  }

  list<T>(item: () => T): T[] {
    this.expect('[');
    const out: T[] = [];
    if (this.eat(']')) return out;
    do out.push(item());
    while (this.eat(','));
    this.expect(']', "',' or ']'");
    return out;
  }

  type(): TType {
    this.ws();
    const at = this.pos;
    const dtype = this.word('a dtype');
    if (!isDtype(dtype)) this.fail(`unknown dtype '${dtype}'`, at);
    this.ws();
    if (this.text[this.pos] !== '[') this.fail(`expected '[' after the dtype, found ${this.found()}`);
    return { dtype, shape: this.list(() => this.dim()) };
  }

  ref(): number {
    this.ws();
    if (this.text[this.pos] !== '%') this.fail(`expected a node reference (%N), found ${this.found()}`);
    this.pos++;
    const s = this.match(INT_RE) ?? this.fail(`expected a node number after '%', found ${this.found()}`);
    return Number(s);
  }

  end(): void {
    this.ws();
    if (!this.done()) this.fail(`unexpected ${this.found()} at end of line`);
  }
}

// ---------- op args, as op-args.ts describes them ----------

/** How each codec reads its value; `what` names it in messages, `words` are a word's choices. */
const READ: { readonly [C in Codec]: (s: Scanner, what: string, words: readonly string[]) => CodecValues[C] } = {
  int: (s, what) => s.int(what),
  ints: (s, what) => s.list(() => s.int(what)),
  number: (s, what) => s.number(what),
  string: (s, what) => s.string(what),
  bool: (s) => s.oneOf(['true', 'false']) === 'true',
  word: (s, _what, words) => s.oneOf(words),
  dim: (s) => s.dim(),
  dims: (s) => s.list(() => s.dim()),
  dimPairs: (s) =>
    s.list(() => {
      s.ws();
      const at = s.pos;
      const pair = s.list(() => s.dim());
      if (pair.length !== 2) s.fail(`a pad is a pair [lo, hi], found ${pair.length} dims`, at);
      return [pair[0]!, pair[1]!] as const;
    }),
  init: (s, what) => {
    s.ws();
    const fnAt = s.pos;
    const fn = s.word(what);
    if (!isOneOf<InitFn>(INIT_FNS, fn)) return s.fail(`unknown init function '${fn}'`, fnAt);
    s.expect('(');
    const args: Record<string, number> = {};
    if (!s.eat(')')) {
      do {
        s.ws();
        const kAt = s.pos;
        const k = s.name('an init argument');
        if (Object.hasOwn(args, k)) s.fail(`repeated init argument '${k}'`, kAt);
        s.expect('=');
        args[k] = s.number(`the value of '${k}'`);
      } while (s.eat(','));
      s.expect(')', "',' or ')'");
    }
    return { fn, args };
  },
};

/**
 * Reads the args of `op` written after its head word (`head`, with `sub` after the dot);
 * returns how to complete them from the result type.
 */
function readArgs(s: Scanner, op: OpName, head: string, sub: string, opAt: number): (t: TType) => OpCall {
  const entries = argEntries(op);
  const got = new Map<string, unknown>();
  const read = (a: ArgEntry & { in: 'pos' | 'attr' }): unknown =>
    READ[a.codec](s, a.what ?? a.key, (a.in === 'attr' && a.words) || []);
  for (const a of entries) {
    if (a.in === 'head') got.set(a.key, head);
    else if (a.in === 'suffix') {
      const choices = a.words.length <= 2 ? ` (${a.words.join(' or ')})` : '';
      if (!a.words.includes(sub)) s.fail(`unknown ${a.what} '${sub}'${choices}`, opAt);
      got.set(a.key, sub);
    }
  }
  for (const a of entries) {
    if (a.in !== 'pos') continue;
    if (a.prefix) s.expect(a.prefix);
    got.set(a.key, read(a));
  }
  const attrs = entries.filter((a) => a.in === 'attr');
  attrs.forEach((a, i) => {
    if (i === 0) s.expect('{');
    else s.expect(',', `',' before '${a.key}'`);
    s.ws();
    const at = s.pos;
    if (s.peekWord() !== a.key) s.fail(`expected '${a.key}:', found ${s.found()}`, at);
    s.keyword(a.key);
    s.expect(':');
    got.set(a.key, read(a));
  });
  if (attrs.length > 0) s.expect('}', "',' or '}'");
  return (t) => ({
    name: op,
    args: Object.fromEntries(entries.map((a) => [a.key, a.in === 'type' ? t[a.part] : got.get(a.key)])),
  });
}

type OpCall = { readonly name: OpName; readonly args: unknown };

// ---------- graphs ----------

type Sig = { readonly name: string; readonly type: TType; readonly line: number; readonly col: number };

const typeEquals = (a: TType, b: TType): boolean => a.dtype === b.dtype && dimsEqual(a.shape, b.shape);

class GraphParser {
  private readonly b = new GraphBuilder();
  private readonly name: string;
  private readonly sigIns: Sig[];
  private readonly sigOuts: Sig[];
  private readonly dims: string[] = [];
  private readonly refs = new Map<number, Node>();
  private readonly inputs: NodeOf<'input'>[] = [];
  private readonly outputs: { name: string; node: Node }[] = [];
  private readonly updates: { path: string; node: Node }[] = [];
  private readonly at: { line: number; col: number };

  constructor(s: Scanner) {
    this.at = { line: s.lineNo, col: s.pos + 1 };
    s.keyword('graph');
    this.name = s.name('the graph name');
    this.sigIns = this.sigs(s);
    s.expect('->');
    this.sigOuts = this.sigs(s);
    s.ws();
    if (s.peekWord() === 'dims') {
      s.keyword('dims');
      this.dims = s.list(() => s.name('a dim name'));
    }
    s.end();
  }

  private sigs(s: Scanner): Sig[] {
    s.expect('(');
    const out: Sig[] = [];
    if (s.eat(')')) return out;
    do {
      s.ws();
      const col = s.pos + 1;
      const name = s.name('a name');
      s.expect(':');
      out.push({ name, type: s.type(), line: s.lineNo, col });
    } while (s.eat(','));
    s.expect(')', "',' or ')'");
    return out;
  }

  line(s: Scanner): void {
    s.ws();
    const word = s.peekWord();
    if (word === 'return' || word === 'update') {
      s.keyword(word);
      const name = word === 'return' ? s.name('an output name') : s.string('a buffer path');
      s.expect('=');
      const node = this.lookup(s);
      s.end();
      if (word === 'return') this.outputs.push({ name, node });
      else this.updates.push({ path: name, node });
      return;
    }
    if (s.text[s.pos] !== '%') s.fail(`expected a node line (%N = ...), 'return' or 'update', found ${s.found()}`);
    const defAt = s.pos;
    const id = s.ref();
    if (this.refs.has(id)) s.fail(`%${id} is already defined`, defAt);
    s.expect('=');
    this.refs.set(id, this.nodeLine(s));
  }

  private lookup(s: Scanner): Node {
    s.ws();
    const at = s.pos;
    const id = s.ref();
    return this.refs.get(id) ?? s.fail(`%${id} is not defined before this line`, at);
  }

  private nodeLine(s: Scanner): Node {
    s.ws();
    const opAt = s.pos;
    const word = s.word('an op');
    const dot = word.indexOf('.');
    const head = dot < 0 ? word : word.slice(0, dot);
    const sub = dot < 0 ? undefined : word.slice(dot + 1);
    const op = HEAD_WORDS.get(head);
    const dotted = op !== undefined && argEntries(op).some((a) => a.in === 'suffix');
    if (op === undefined || (sub !== undefined && !dotted)) s.fail(`unknown op '${word}'`, opAt);
    if (dotted && sub === undefined) s.fail(`expected ${head}.FN`, opAt);
    // Args are read first; those taken from the result type are filled in once it is read.
    const make = readArgs(s, op, head, sub ?? '', opAt);
    const inputs: Node[] = [];
    s.ws();
    if (s.text[s.pos] === '(') {
      s.expect('(');
      do inputs.push(this.lookup(s));
      while (s.eat(','));
      s.expect(')', "',' or ')'");
    }
    s.expect(':');
    s.ws();
    const typeAt = s.pos;
    const type = s.type();
    let path = '';
    if (s.eat('@')) path = s.string('a provenance path');
    s.end();
    const { name, args } = make(type);
    const before = this.b.all().length;
    let n: Node;
    try {
      const cut = path.indexOf('/');
      n =
        cut < 0
          ? this.b.node(name, args as never, inputs, path)
          : this.b.node(name, args as never, inputs, path.slice(0, cut), path.slice(cut + 1));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      return s.fail(`invalid ${word}: ${msg}`, opAt);
    }
    if (!typeEquals(n.type, type))
      s.fail(`type ${formatType(type)} does not match the inferred ${formatType(n.type)}`, typeAt);
    if (n.op === 'input') {
      if (this.b.all().length === before) s.fail('duplicate input', opAt);
      this.inputs.push(n);
    }
    return n;
  }

  finish(): Graph {
    const fail = (msg: string, at: { line: number; col: number } = this.at): never => {
      throw new IRParseError(msg, at.line, at.col);
    };
    const count = (k: number, what: string): string => `${k} ${what}${k === 1 ? '' : 's'}`;
    const check = (what: string, sigs: Sig[], got: readonly { name: string; type: TType }[]): void => {
      if (sigs.length !== got.length)
        fail(
          `the header lists ${count(sigs.length, what)} but the body has ${got.length}`,
          sigs[got.length] ?? this.at,
        );
      sigs.forEach((sig, i) => {
        const g = got[i]!;
        if (sig.name !== g.name || !typeEquals(sig.type, g.type))
          fail(
            `the header lists ${what} ${i} as ${formatName(sig.name)}: ${formatType(sig.type)} but the body has ` +
              `${formatName(g.name)}: ${formatType(g.type)}`,
            sig,
          );
      });
    };
    check(
      'input',
      this.sigIns,
      this.inputs.map((n) => ({ name: n.args.name, type: n.type })),
    );
    check(
      'output',
      this.sigOuts,
      this.outputs.map((o) => ({ name: o.name, type: o.node.type })),
    );
    return { name: this.name, dims: this.dims, inputs: this.inputs, outputs: this.outputs, updates: this.updates };
  }
}
