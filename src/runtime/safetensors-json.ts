// A strict JSON parser for safetensors headers. `JSON.parse` would do most of the work, but it
// keeps the last of duplicate keys silently, rounds integers beyond 2^53 and turns 1e400 into
// Infinity; a header is untrusted input, so this parser rejects duplicate keys, keeps numbers
// as their source text (the caller decides what an integer is), rejects lone surrogates in
// strings (as the reference implementation does) and bounds nesting, so it never recurses deep.

/** A JSON number, kept as its source text. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** Objects are Maps in source order (so keys like `__proto__` are plain keys). */
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | Map<string, JsonValue>;

/**
 * A syntax error, thrown by the parser and caught by the reader. Not an Error subclass on
 * purpose: hostile headers make it common, and it needs no stack trace.
 */
export class JsonSyntaxError {
  constructor(readonly message: string) {}
}

/** A safetensors header nests three deep; anything much deeper is malformed. */
const MAX_DEPTH = 32;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const PLAIN = /[^"\\\u0000-\u001f]*/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const LONE_SURROGATE = /\p{Cs}/u;
const LITERALS: readonly (readonly [string, JsonValue])[] = [
  ['true', true],
  ['false', false],
  ['null', null],
];
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * Parses `text` as one JSON value followed only by spaces (0x20, the padding safetensors
 * allows); any other trailing character is an error.
 */
export function parseHeaderJson(text: string): JsonValue {
  const p = new Parser(text);
  const v = p.value(0);
  while (p.pos < text.length && text.charCodeAt(p.pos) === 0x20) p.pos++;
  if (p.pos < text.length) p.fail(`unexpected ${p.describe()} after the JSON value`);
  return v;
}

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  fail(message: string): never {
    throw new JsonSyntaxError(`${message} at character ${this.pos}`);
  }

  describe(): string {
    return this.pos >= this.s.length ? 'end of header' : JSON.stringify(this.s.charAt(this.pos));
  }

  private ws(): void {
    const s = this.s;
    for (; this.pos < s.length; this.pos++) {
      const c = s.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    }
  }

  private expect(c: string): void {
    this.ws();
    if (this.s.charAt(this.pos) !== c) this.fail(`expected ${JSON.stringify(c)} but found ${this.describe()}`);
    this.pos++;
  }

  value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.fail('JSON nested too deeply');
    this.ws();
    const c = this.s.charAt(this.pos);
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    for (const [word, v] of LITERALS) {
      if (this.s.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.s);
    if (m === null) this.fail(`unexpected ${this.describe()}`);
    this.pos += m[0].length;
    return new JsonNumber(m[0]);
  }

  private object(depth: number): Map<string, JsonValue> {
    const out = new Map<string, JsonValue>();
    this.pos++; // '{'
    this.ws();
    if (this.s.charAt(this.pos) === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s.charAt(this.pos) !== '"') this.fail(`expected a key string but found ${this.describe()}`);
      const at = this.pos;
      const key = this.string();
      if (out.has(key)) {
        this.pos = at;
        this.fail(`duplicate key ${JSON.stringify(key)}`);
      }
      this.expect(':');
      out.set(key, this.value(depth + 1));
      this.ws();
      const c = this.s.charAt(this.pos++);
      if (c === '}') return out;
      if (c !== ',') {
        this.pos--;
        this.fail(`expected "," or "}" but found ${this.describe()}`);
      }
    }
  }

  private array(depth: number): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++; // '['
    this.ws();
    if (this.s.charAt(this.pos) === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s.charAt(this.pos++);
      if (c === ']') return out;
      if (c !== ',') {
        this.pos--;
        this.fail(`expected "," or "]" but found ${this.describe()}`);
      }
    }
  }

  private string(): string {
    const s = this.s;
    const start = this.pos++; // '"'
    let out = '';
    let escaped = false;
    for (;;) {
      PLAIN.lastIndex = this.pos;
      const run = PLAIN.exec(s)![0];
      out += run;
      this.pos += run.length;
      if (this.pos >= s.length) this.fail('unterminated string');
      const c = s.charAt(this.pos);
      if (c === '"') break;
      if (c !== '\\') this.fail('control character in string');
      escaped = true;
      const e = s.charAt(this.pos + 1);
      if (e === 'u') {
        const hex = s.slice(this.pos + 2, this.pos + 6);
        if (!HEX4.test(hex)) this.fail('bad \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 6;
      } else {
        const r = Object.hasOwn(ESCAPES, e) ? ESCAPES[e] : undefined;
        if (r === undefined) this.fail(`bad escape ${JSON.stringify('\\' + e)}`);
        out += r;
        this.pos += 2;
      }
    }
    this.pos++; // '"'
    if (escaped && LONE_SURROGATE.test(out)) {
      this.pos = start;
      this.fail('string with a lone surrogate escape');
    }
    return out;
  }
}
