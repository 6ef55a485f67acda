// Where each lane of a warp holds each element of an m16n8k16 fragment (KStmt 'frag'): the
// layout of PTX's mma.sync.aligned.m16n8k16.row.col for .f16/.bf16 operands and an f32
// accumulator (PTX ISA, "Matrix Fragments for mma.m16n8k16"). With g = lane / 4 (the group)
// and t = lane % 4 (the thread in the group):
//   a (16×16, 8 elements a0..a7): row g + 8·((i >> 1) & 1), column 2t + (i & 1) + 8·(i >> 2);
//   b (16×8, 4 elements b0..b3): row (k) 2t + (i & 1) + 8·(i >> 1), column (n) g;
//   acc (16×8, 4 elements c0..c3): row g + 8·(i >> 1), column 2t + (i & 1).
// Every target uses this one layout: CUDA's tensor-core instructions need it, and the
// expansion for targets without them (src/codegen/legalize-frag.ts) follows it, so a
// fragment's elements are the same numbers on every target.

import { type FragRole, type KExpr, add, int, ix, mul } from './kernel.js';

/** Elements per lane of each kind of fragment. */
export const FRAG_ELEMENTS: Readonly<Record<FragRole, number>> = { a: 8, b: 4, acc: 4 };

/** Rows and columns of each kind of fragment's tile. */
export const FRAG_TILE: Readonly<Record<FragRole, readonly [number, number]>> = {
  a: [16, 16],
  b: [16, 8],
  acc: [16, 8],
};

/** Lanes of a warp (the invocations that hold one fragment between them). */
export const WARP = 32;

/** Elements of the shared staging array per warp that the expansion needs (an a and a b tile). */
export const FRAG_STAGE = 16 * 16 + 16 * 8;

/**
 * Row and column of element `i` of the lane whose group and thread are `g` and `t` (i64
 * expressions; with constants the result folds to constants).
 */
export function fragPlaceExpr(role: FragRole, i: KExpr, g: KExpr, t: KExpr): [KExpr, KExpr] {
  const bit0 = ix('%', i, int(2)); // i & 1
  const half = ix('/', i, int(2)); // i >> 1
  switch (role) {
    case 'a':
      return [
        add(g, mul(int(8), ix('%', half, int(2)))),
        add(add(mul(int(2), t), bit0), mul(int(8), ix('/', i, int(4)))),
      ];
    case 'b':
      return [add(add(mul(int(2), t), bit0), mul(int(8), half)), g];
    case 'acc':
      return [add(g, mul(int(8), half)), add(mul(int(2), t), bit0)];
  }
}

/** Row and column of element i of a lane, as numbers (tests, emulations). */
export function fragPlace(role: FragRole, i: number, lane: number): [number, number] {
  const [r, c] = fragPlaceExpr(role, int(i), int(lane >> 2), int(lane & 3));
  if (r.k !== 'const' || c.k !== 'const') throw new Error('internal: a fragment place did not fold');
  return [r.v, c.v];
}

/** The group and thread of a lane from the local index: (lid % 32) / 4 and lid % 4. */
export function laneParts(lid: KExpr): { g: KExpr; t: KExpr } {
  return { g: ix('/', ix('%', lid, int(WARP)), int(4)), t: ix('%', lid, int(4)) };
}
