// int8 × int8 GEMM with exact i32 sums (int8 activations: src/passes/quantize-act.ts): an
// i32 einsum of two operands cast from i8 (isInt8Contraction). C target; the GPU targets
// run it as the plain GEMM with i32 sums (gemm-plain.ts).
//
//   1. A's rows (the quantized activation, computed through the fuser: x / s_x, round, clamp)
//      are stored once as bytes in a transient buffer [batch · M, K];
//   2. B's rows as bytes [batch · N, K]: the weight's q param itself when the operand reads it
//      row by row (int8 weights), else unpacked into a transient (int4 nibbles);
//   3. each tile of 4 × 4 outputs is one `dot8` (KStmt: the C dialect's int8 dot products,
//      vpdpbusd with AVX-512 VNNI, src/codegen/c-dot8.ts) over 4 rows of each, and the group's
//      epilogue (cast to f32, times s_x · s_w[n], bias, activation) is applied to each sum
//      before the store.
// Threads split batch × blocks of NC columns; a thread's NC rows of B stay in cache while it
// runs down M. K must be constant (a weight's) and K·127·127 < 2^31 (the quantize pass checks).

import { type Dim, dimConst, dimConstValue, dimMul } from '../ir/dims.js';
import type { NodeOf } from '../ir/graph.js';
import { DOT8_TILE, type KExpr, type KStmt, add, int, ivar, ix, loop, mul } from '../ir/kernel.js';
import type { GemmBuilder } from './gemm.js';
import { plainGemm } from './gemm-plain.js';

const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });
const cdiv = (a: KExpr, b: KExpr): KExpr => ix('/', add(a, ix('-', b, int(1))), b);

/** The q param buffer B reads row by row ([N, K] bytes, n at n·K), or undefined. */
function directB(G: GemmBuilder): number | undefined {
  let x = G.n.inputs[1]!.inputs[0]!;
  while (x.op === 'reshape') x = x.inputs[0]!;
  const buf = G.f.buffers.get(x);
  if (x.op !== 'param' || x.type.dtype !== 'i8' || buf === undefined || x.type.shape.length !== 2) return undefined;
  const spec = G.spec.ins[1]!;
  const shape = G.n.inputs[1]!.type.shape.map((d) => dimConstValue(d));
  const j = shape.findIndex((d) => d !== 1);
  const [N, K] = x.type.shape.map((d) => dimConstValue(d));
  const big = (ls: readonly string[]): string[] => ls.filter((c) => dimConstValue(G.sizes.get(c)!) !== 1);
  const ok =
    shape[j] === N &&
    spec.slice(j + 1) === G.g.k.join('') &&
    big(G.g.n).join('') === spec[j] &&
    big(G.g.batch).length === 0 &&
    G.K.k === 'const' &&
    G.K.v === K;
  return ok ? buf : undefined;
}

/** Stores the rows of operand `which` (NB · rows of K values) as bytes into buffer param `into`. */
function packRows(G: GemmBuilder, which: 0 | 1, rows: KExpr, into: number): KStmt {
  const [r, b, i, k] = ['r', 'b', 'i', 'k'].map(G.v) as [string, string, string, string];
  const value = G.operand(which, ivar(b), ivar(i), ivar(k));
  return G.kb.parallel(
    r,
    mul(G.NB, rows),
    [
      let64(b, ix('/', ivar(r), rows)),
      let64(i, ix('%', ivar(r), rows)),
      loop(k, G.K, [{ k: 'store', buf: into, index: add(mul(ivar(r), G.K), ivar(k)), value }], 'simd'),
    ],
    mul(mul(G.NB, rows), G.K),
  );
}

export function int8Gemm(G: GemmBuilder, target: 'cpu' | 'gpu'): KStmt[] {
  const n = G.n as NodeOf<'einsum'>;
  if (target !== 'cpu') return plainGemm(G);
  if (G.K.k !== 'const') throw new Error(`internal: the int8 contraction %${n.id} has a symbolic K`);
  const K = G.K.v;
  const { kb } = G;
  const size = (ls: readonly string[]): Dim => ls.reduce((a, c) => dimMul(a, G.sizes.get(c)!), dimConst(1));
  const bytes = (ls: readonly string[]): number =>
    kb.param(kb.tables.buffer('i8', dimMul(size([...G.g.batch, ...ls]), dimConst(K)), 'transient'), 'readwrite');
  const qa = bytes(G.g.m);
  const stmts: KStmt[] = [packRows(G, 0, G.M, qa)];
  const direct = directB(G);
  let qb: number;
  if (direct !== undefined) qb = kb.param(direct, 'read');
  else {
    qb = bytes(G.g.n);
    stmts.push(packRows(G, 1, G.N, qb));
  }
  const { NC } = G.s;
  const T = DOT8_TILE;
  const [it, b, n0, nl, m, j, rows, cols, i, jj, acc] = [
    'it',
    'b',
    'n0',
    'nl',
    'm',
    'j',
    'rows',
    'cols',
    'i',
    'jj',
    'acc',
  ].map(G.v) as [string, string, string, string, string, string, string, string, string, string, string];
  const nBlocks = cdiv(G.N, int(NC));
  const col = add(ivar(n0), ivar(j));
  // A tile of up to T × T outputs: rows m.., columns n0 + j..; then each one's epilogue.
  const tile: KStmt[] = [
    let64(rows, ix('min', int(T), ix('-', G.M, ivar(m)))),
    let64(cols, ix('min', int(T), ix('-', ivar(nl), ivar(j)))),
    {
      k: 'dot8',
      acc,
      a: qa,
      aIndex: mul(add(mul(ivar(b), G.M), ivar(m)), G.K),
      lda: G.K,
      rows: ivar(rows),
      b: qb,
      bIndex: mul(add(mul(ivar(b), G.N), col), G.K),
      ldb: G.K,
      cols: ivar(cols),
      n: G.K,
    },
    loop(i, ivar(rows), [
      loop(
        jj,
        ivar(cols),
        G.store(
          { k: 'aload', name: acc, index: add(mul(ivar(i), int(T)), ivar(jj)), t: 'i64' },
          ivar(b),
          add(ivar(m), ivar(i)),
          add(col, ivar(jj)),
          true,
          undefined,
          'i64',
        ),
      ),
    ]),
  ];
  const body: KStmt[] = [
    let64(b, ix('/', ivar(it), nBlocks)),
    let64(n0, mul(ix('%', ivar(it), nBlocks), int(NC))),
    let64(nl, ix('min', int(NC), ix('-', G.N, ivar(n0)))),
    { k: 'array', name: acc, t: 'i32', size: T * T, space: 'local' },
    loop(m, G.M, [loop(j, ivar(nl), tile, 'serial', { step: T })], 'serial', { step: T }),
  ];
  stmts.push(kb.parallel(it, mul(G.NB, nBlocks), body, G.work()));
  return stmts;
}
