// The C target's GEMV for a weight-only quantized B (int8, or int4 two to a byte: the layout
// of src/ir/quantize.ts), read as 32-bit words. A GEMM whose B operand is exactly the
// quantize pass's dequantization of a [N, K] weight (dequantizedParams: the same graph,
// node for node) streams B's bytes four at a time instead of one value at a time: GCC 12
// widens an int8 vector lane by lane through 16-bit halves (two to three instructions a
// value, and vectors of 256 bits), while sign-extending a byte or a nibble of an int32 lane
// is one or two shifts at full width.
//
// Each row's words go in chunks of W lanes (a vector of W int32); lane l of chunk c holds E
// values (int8: 4 bytes, int4: 8 nibbles), sub-value e at its own k (kOf). A per-thread copy of
// A's row in that order (xp[c·W·E + e·W + l] = A[kOf(c, l, e)]) makes every load unit-stride;
// sub-value e of every lane lies in one quantization group, so its scale (and zero) is one
// value a chunk. Each value is still (q - zero) · scale in f32, the product the reference
// dequantization computes, fma'd into one of E·W partial sums; only the summation order is the
// kernel's own (added up pairwise at the end). K past the last whole chunk is read through the
// generic expression.

import { type Node, argsKey } from '../ir/graph.js';
import { type KExpr, type KStmt, add, f32, int, ivar, ix, loop, mul } from '../ir/kernel.js';
import { INT4_BLOCK, type QuantSpec, groupOf, parseQuantName } from '../ir/quantize.js';
import { Builder } from '../ir/build.js';
import { dequantize } from '../passes/quantize.js';
import type { GemmBuilder } from './gemm.js';

/** B's quantized params (graph nodes) and their layout. */
export interface QuantB {
  readonly q: Node;
  readonly scale: Node;
  readonly zero?: Node;
  readonly spec: QuantSpec;
  /** Values a group along K. */
  readonly g: number;
}

const sameNode = (a: Node, b: Node, seen = new Map<Node, Node>()): boolean => {
  if (seen.get(a) === b) return true;
  if (a.op !== b.op || a.inputs.length !== b.inputs.length) return false;
  if (argsKey(a.type) !== argsKey(b.type) || argsKey(a.args) !== argsKey(b.args)) return false;
  seen.set(a, b);
  return a.inputs.every((x, i) => sameNode(x, b.inputs[i]!, seen));
};

/**
 * B's quantized params when B (operand 1 of a GEMM with no batch letters, one N and one K
 * letter, read as B[n, k]) is the quantize pass's dequantization of an f32 [N, K] weight with
 * constant sizes; else undefined (the generic GEMV reads it).
 */
export function dequantizedParams(G: GemmBuilder): QuantB | undefined {
  const B = G.n.inputs[1]!;
  const { n, k, batch } = G.g;
  if (batch.length > 0 || n.length !== 1 || k.length !== 1 || G.spec.ins[1] !== n[0]! + k[0]!) return undefined;
  if (G.N.k !== 'const' || G.K.k !== 'const' || B.type.dtype !== 'f32') return undefined;
  const params = new Map<string, Node>();
  const walk = (x: Node, seen: Set<Node>): void => {
    if (seen.has(x)) return;
    seen.add(x);
    if (x.op === 'param') params.set(x.args.path, x);
    x.inputs.forEach((i) => walk(i, seen));
  };
  walk(B, new Set());
  const q = [...params.keys()].map(parseQuantName).find((p) => p?.part === 'q');
  if (!q) return undefined;
  const g = groupOf(q.spec, G.K.v);
  if (typeof g === 'string') return undefined;
  const b = new Builder();
  const expected = dequantize(b, b.param(q.path, 'f32', [G.N.v, G.K.v]), q.spec);
  if (!sameNode(expected, B)) return undefined;
  const byPart = (part: string): Node | undefined =>
    [...params.values()].find((p) => p.op === 'param' && parseQuantName(p.args.path)?.part === part);
  return {
    q: byPart('q')!,
    scale: byPart('scale')!,
    ...(q.spec.symmetric ? {} : { zero: byPart('zero')! }),
    spec: q.spec,
    g,
  };
}

/** Lanes a chunk such that every sub-value of a chunk lies in one group, or undefined. */
function lanesFor(qb: QuantB, K: number): number | undefined {
  const whole = qb.g === K;
  const fits = (W: number): boolean =>
    qb.spec.dtype === 'int8' ? whole || qb.g % (4 * W) === 0 : whole || qb.g % (W === 16 ? 128 : 32) === 0;
  if (qb.spec.dtype === 'int8' && K % 4 !== 0) return undefined;
  return [16, 8].find(fits);
}

/** The dot products of a quantized GEMV (undefined: not this form), into G.store. */
export function quantGemv(G: GemmBuilder, qb: QuantB): KStmt[] | undefined {
  const K = (G.K as { v: number }).v;
  const W = lanesFor(qb, K);
  if (W === undefined) return undefined;
  const int4 = qb.spec.dtype === 'int4';
  const E = int4 ? 8 : 4;
  const bits = int4 ? 4 : 8;
  const chunk = W * E;
  const chunks = Math.floor(K / chunk);
  const Kc = chunks * chunk;
  const rowWords = (int4 ? (INT4_BLOCK / 2) * Math.ceil(K / INT4_BLOCK) : K) / 4;
  const G_ = K / qb.g;
  const { NC } = G.s;
  const names = fresh(G, ['it', 'n0', 'nl', 'm', 'j', 'c', 'l', 'kt', 'v', 'jx', 'xp', 'part']);
  const { it, n0, nl, m, j, c, l, kt: t, v, jx, xp, part } = names;
  const buf = (x: Node): number => G.kb.param(G.f.buffers.get(x)!, 'read');
  const [qBuf, sBuf] = [buf(qb.q), buf(qb.scale)];
  const zBuf = qb.zero ? buf(qb.zero) : undefined;
  /** The k of sub-value e (a number) of lane l in chunk c. */
  const kOf = (cc: KExpr, ll: KExpr, e: KExpr | number): KExpr => {
    const ee = typeof e === 'number' ? int(e) : e;
    if (!int4) return add(add(mul(cc, int(4 * W)), mul(ll, int(4))), ee);
    // Byte i = e / 2 of word (c·W + l): block c·W/8 + l/8, byte 4(l % 8) + i; high nibble (e odd) 32 further.
    const block = add(mul(cc, int(W / 8)), ix('/', ll, int(8)));
    const inBlock = add(mul(ix('%', ll, int(8)), int(4)), ix('/', ee, int(2)));
    return add(add(mul(block, int(INT4_BLOCK)), mul(ix('%', ee, int(2)), int(INT4_BLOCK / 2))), inBlock);
  };
  const n = add(ivar(n0), ivar(j));
  const f32of = (e: KExpr): KExpr => ({ k: 'cast', from: 'i32', to: 'f32', a: e, t: 'f32' });
  const word: KExpr = { k: 'var', name: v, t: 'i32' };
  const value = (e: number): KExpr => {
    // Sub-value e's bits at offset off: int8 byte e; int4 byte e/2, low nibble for even e.
    const off = int4 ? 8 * (e >> 1) + 4 * (e & 1) : 8 * e;
    const up = 32 - bits - off;
    const shifted: KExpr = up === 0 ? word : { k: 'bits', op: '<<', a: word, b: int(up) };
    return f32of({ k: 'bits', op: '>>', a: shifted, b: int(32 - bits) });
  };
  const group = (e: number): KExpr => add(mul(n, int(G_)), ix('/', kOf(ivar(c), int(0), e), int(qb.g)));
  const weight = (e: number): KExpr => {
    const z: KExpr =
      zBuf === undefined
        ? value(e)
        : {
            k: 'bin',
            fn: 'sub',
            a: value(e),
            b: { k: 'load', buf: zBuf, index: group(e), t: 'f32' },
            t: 'f32',
          };
    return { k: 'bin', fn: 'mul', a: z, b: { k: 'load', buf: sBuf, index: group(e), t: 'f32' }, t: 'f32' };
  };
  const at = (name: string, index: KExpr): KExpr => ({ k: 'aload', name, index, t: 'f32' });
  const lane = (e: number): KExpr => add(int(e * W), ivar(l));
  const body: KStmt[] = [
    {
      k: 'let',
      name: v,
      t: 'i32',
      value: { k: 'word', buf: qBuf, index: add(add(mul(n, int(rowWords)), mul(ivar(c), int(W))), ivar(l)) },
    },
    ...Array.from({ length: E }, (_, e): KStmt => ({
      k: 'astore',
      name: part,
      index: lane(e),
      value: { k: 'fma', a: at(xp, add(mul(ivar(c), int(chunk)), lane(e))), b: weight(e), c: at(part, lane(e)) },
    })),
  ];
  const b0 = int(0);
  const tail: KStmt = loop(
    t,
    int(K),
    [
      {
        k: 'astore',
        name: part,
        index: ix('-', ivar(t), int(Kc)),
        value: {
          k: 'fma',
          a: G.operand(0, b0, ivar(m), ivar(t)),
          b: G.operand(1, b0, n, ivar(t)),
          c: at(part, ix('-', ivar(t), int(Kc))),
        },
      },
    ],
    'serial',
    { lo: int(Kc) },
  );
  // Pairwise: part[i] += part[i + h] for h = chunk / 2 ... 1.
  const halves: KStmt[] = [];
  for (let h = chunk / 2; h >= 1; h /= 2)
    halves.push(
      loop(
        l,
        int(h),
        [{ k: 'astore', name: part, index: ivar(l), value: sum(at(part, ivar(l)), at(part, add(ivar(l), int(h)))) }],
        h >= 8 ? 'simd' : 'serial',
      ),
    );
  const dot: KStmt[] = [
    { k: 'array', name: part, t: 'f32', size: chunk, space: 'local' },
    loop(l, int(chunk), [{ k: 'astore', name: part, index: ivar(l), value: f32(0) }], 'simd'),
    loop(c, int(chunks), [loop(l, int(W), body, 'simd', { simdlen: W })]),
    ...(Kc < K ? [tail] : []),
    ...halves,
    ...G.store(at(part, int(0)), b0, ivar(m), n, true),
  ];
  // A's row m in the chunks' order, once per thread and row.
  const e = ix('%', ix('/', ivar(jx), int(W)), int(E));
  const fill = loop(jx, int(Kc), [
    {
      k: 'astore',
      name: xp,
      index: ivar(jx),
      value: G.operand(0, b0, ivar(m), kOf(ix('/', ivar(jx), int(chunk)), ix('%', ivar(jx), int(W)), e)),
    },
  ]);
  const nBlocks = Math.ceil((G.N as { v: number }).v / NC);
  const rows: KStmt[] = [
    G.kb.scratch(xp, 'f32', Math.max(Kc, 1)),
    { k: 'let', name: n0, t: 'i64', value: mul(ivar(it), int(NC)) },
    { k: 'let', name: nl, t: 'i64', value: ix('min', int(NC), ix('-', G.N, ivar(n0))) },
    loop(m, G.M, [fill, loop(j, ivar(nl), dot)]),
  ];
  return [G.kb.parallel(it, int(nBlocks), rows, G.work())];
}

/** Fresh kernel identifiers by prefix. */
const fresh = <P extends string>(G: GemmBuilder, ps: readonly P[]): Record<P, string> =>
  Object.fromEntries(ps.map((p) => [p, G.v(p)])) as Record<P, string>;

const sum = (a: KExpr, b: KExpr): KExpr => ({ k: 'bin', fn: 'add', a, b, t: 'f32' });
