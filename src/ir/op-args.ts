// How each op's arguments are written in the text form: one description per op, which
// print.ts (formatOp) and parse.ts both follow. An op line is
//
//   HEAD ['.' SUFFIX] POS* [' {' KEY ': ' VALUE (', ' KEY ': ' VALUE)* '}']
//
// HEAD is the op's name, or the value of a `head` arg (a param's role: `param` or
// `buffer`); SUFFIX is the value of a `suffix` arg (`unary.exp`); each `pos` arg follows,
// after a space and its prefix (`input "x" #0`); `attr` args are written in braces, as
// `key: value`; `type` args are not written at all but taken from the result type after
// ':'. Args are written in the order their entries are listed below, and the description
// of an op has an entry for every one of its args (the types below require both: a new op
// or a new arg does not compile until it is described here).

import type { Dim } from './dims.js';
import type { Dtype } from './dtype.js';
import { BINARY_FNS, type Init, OP_NAMES, type OpArgs, type OpName, UNARY_FNS } from './ops.js';

/** The value each codec reads and writes. */
export interface CodecValues {
  /** An integer (`3`). */
  int: number;
  /** A list of integers (`[0, 2]`). */
  ints: readonly number[];
  /** Any number, NaN, ±Inf and -0 included (`nan`, `-inf`, `-0.0`, `1.5`). */
  number: number;
  /** A JSON string (`"x"`). */
  string: string;
  /** `true` or `false`. */
  bool: boolean;
  /** One of the words listed with the arg (`values`). */
  word: string;
  /** A dim expression (`floor(T/2) + 1`). */
  dim: Dim;
  /** A list of dims (`[B, 2*T]`). */
  dims: readonly Dim[];
  /** A list of [lo, hi] dim pairs (`[[0, 0], [1, 1]]`). */
  dimPairs: readonly (readonly [Dim, Dim])[];
  /** An initializer with its arguments, keys sorted (`normal(mean=0, std=0.02)`). */
  init: Init;
}
export type Codec = keyof CodecValues;

/** The codecs that can write a value of type T. */
type CodecFor<T> = { [C in Codec]: [T] extends [CodecValues[C]] ? C : never }[Codec];
/** The part of the result type an arg of type T can be taken from. */
type TypePart<T> = [T] extends [Dtype] ? 'dtype' : [T] extends [readonly Dim[]] ? 'shape' : never;

/** Where and how one arg of type T is written. `what` names the arg in parse errors. */
export type ArgText<T> =
  | { readonly in: 'type'; readonly part: TypePart<T> }
  | { readonly in: 'head'; readonly words: readonly T[] }
  | { readonly in: 'suffix'; readonly words: readonly T[]; readonly what: string }
  | { readonly in: 'pos'; readonly codec: CodecFor<T>; readonly prefix?: string; readonly what: string }
  | { readonly in: 'attr'; readonly codec: Exclude<CodecFor<T>, 'word'>; readonly what?: string }
  | { readonly in: 'attr'; readonly codec: 'word' & CodecFor<T>; readonly words: readonly T[] };

/** The description of one op's args: an entry per arg, in the order they are written. */
export type OpText<K extends OpName> = { readonly [P in keyof OpArgs[K]]-?: ArgText<OpArgs[K][P]> };

/** One entry of a description with its arg's name, untyped: what the printer and the parser loop over. */
export type ArgEntry = { readonly key: string } & (
  | { readonly in: 'type'; readonly part: 'dtype' | 'shape' }
  | { readonly in: 'head'; readonly words: readonly string[] }
  | { readonly in: 'suffix'; readonly words: readonly string[]; readonly what: string }
  | { readonly in: 'pos'; readonly codec: Codec; readonly prefix?: string; readonly what: string }
  | { readonly in: 'attr'; readonly codec: Codec; readonly what?: string; readonly words?: readonly string[] }
);

const dtype = { in: 'type', part: 'dtype' } as const;
const shape = { in: 'type', part: 'shape' } as const;
const axis = { in: 'attr', codec: 'int', what: 'the axis' } as const;
const axes = { in: 'attr', codec: 'ints', what: 'an axis' } as const;

export const OP_TEXT: { readonly [K in OpName]: OpText<K> } = {
  input: {
    name: { in: 'pos', codec: 'string', what: 'the input name' },
    index: { in: 'pos', codec: 'int', prefix: '#', what: 'the input index' },
    dtype,
    shape,
  },
  param: {
    path: { in: 'pos', codec: 'string', what: 'the path' },
    role: { in: 'head', words: ['param', 'buffer'] },
    dtype,
    shape,
    init: { in: 'pos', codec: 'init', what: 'an init function' },
  },
  full: { value: { in: 'attr', codec: 'number', what: 'the fill value' }, dtype, shape },
  dim: { value: { in: 'attr', codec: 'dim' }, dtype },
  iota: { axis, dtype, shape },
  random: {
    seed: { in: 'attr', codec: 'number', what: 'the seed' },
    key: { in: 'attr', codec: 'string', what: 'the key' },
    shape,
  },
  unary: { fn: { in: 'suffix', words: UNARY_FNS, what: 'unary function' } },
  binary: { fn: { in: 'suffix', words: BINARY_FNS, what: 'binary function' } },
  where: {},
  reduce: {
    fn: { in: 'suffix', words: ['sum', 'max'], what: 'reduction' },
    axes,
    keepdim: { in: 'attr', codec: 'bool' },
  },
  reshape: { shape },
  permute: { axes },
  expand: { shape },
  pad: {
    pads: { in: 'attr', codec: 'dimPairs' },
    value: { in: 'attr', codec: 'number', what: 'the pad value' },
  },
  slice: {
    starts: { in: 'attr', codec: 'dims' },
    sizes: shape,
    steps: { in: 'attr', codec: 'ints', what: 'a step' },
  },
  window: {
    axes,
    size: { in: 'attr', codec: 'ints', what: 'a window size' },
    stride: { in: 'attr', codec: 'ints', what: 'a stride' },
    dilation: { in: 'attr', codec: 'ints', what: 'a dilation' },
  },
  concat: { axis },
  einsum: { spec: { in: 'attr', codec: 'string', what: 'the einsum spec' } },
  gather: { axis },
  scatter_add: { axis },
  cumsum: { axis, exclusive: { in: 'attr', codec: 'bool' }, reverse: { in: 'attr', codec: 'bool' } },
  cast: { dtype },
  topk: {
    k: { in: 'attr', codec: 'int', what: 'k' },
    axis,
    output: { in: 'attr', codec: 'word', words: ['values', 'indices'] },
  },
  barrier: { key: { in: 'attr', codec: 'string', what: 'the barrier key' } },
};

const ENTRIES: ReadonlyMap<OpName, readonly ArgEntry[]> = new Map(
  OP_NAMES.map((op) => [op, Object.entries(OP_TEXT[op]).map(([key, t]) => ({ key, ...t }) as ArgEntry)]),
);

/** The entries of an op's description, in the order they are written. */
export const argEntries = (op: OpName): readonly ArgEntry[] => ENTRIES.get(op)!;

/** The op each head word names (`buffer` → param, `unary` → unary), for the parser. */
export const HEAD_WORDS: ReadonlyMap<string, OpName> = new Map(
  OP_NAMES.flatMap((op) => {
    const head = argEntries(op).find((a) => a.in === 'head');
    return (head?.in === 'head' ? head.words : [op]).map((w) => [w, op] as const);
  }),
);
