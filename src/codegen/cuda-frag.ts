// Typed tiles (fragments, docs/ir.md) in the CUDA dialect: the tensor cores' own registers.
// A lane holds an a fragment as 4 32-bit registers of two f16/bf16 bit patterns each (element
// 2j in the low half, 2j + 1 in the high half, as PTX packs .f16x2), a b fragment as 2, and an
// accumulator as 4 floats; loads put each element where src/ir/fragments.ts says PTX's
// mma.m16n8k16 expects it, and a product is one FMC_MMA_M16N8K16_* (prelude-cuda.ts: mma.sync
// on the GPU, the shim's emulation on the CPU); a sparse product (FragSparse, 2:4 weights) one
// FMC_MMA_SP_M16N8K32_* (mma.sp). The shared staging array the expansion for
// other targets uses (legalize-frag.ts) is not touched here.

import { FRAG_ELEMENTS, fragPlaceExpr, laneParts } from '../ir/fragments.js';
import { type KExpr, type KStmt, add, int, mul } from '../ir/kernel.js';
import { C_BASE } from './c.js';
import { type Dialect, bufName, checkIdent } from './render.js';

type FragStmt = Extract<KStmt, { k: 'frag' | 'fragLoad' | 'fragMma' | 'fragEach' }>;

const LID: KExpr = { k: 'lid' };

/** The bit pattern (uint16_t) of element i of a fragment load. */
function bits(s: Extract<KStmt, { k: 'fragLoad' }>, i: number, expr: (e: KExpr) => string): string {
  const { g, t } = laneParts(LID);
  const [r, c] = fragPlaceExpr(s.role, int(i), g, t);
  const index = expr(add(s.offset, add(mul(r, s.ld), c)));
  // A buffer holds the bits; an array holds values of the fragment's type (floats here).
  if (typeof s.src === 'number') return `${bufName(s.src)}[${index}]`;
  return C_BASE.storeConv(s.t, `${checkIdent(s.src)}[${index}]`, s.t);
}

export const cudaFragment: NonNullable<Dialect['fragment']> = (s: FragStmt, indent, expr, render) => {
  switch (s.k) {
    case 'frag':
      if (s.role === 'acc') return [`${indent}float ${checkIdent(s.name)}[4] = {0.0f, 0.0f, 0.0f, 0.0f};`];
      return [`${indent}uint32_t ${checkIdent(s.name)}[${FRAG_ELEMENTS[s.role] / 2}];`];
    case 'fragLoad': {
      const name = checkIdent(s.name);
      return Array.from({ length: FRAG_ELEMENTS[s.role] / 2 }, (_, j) => {
        const [lo, hi] = [bits(s, 2 * j, expr), bits(s, 2 * j + 1, expr)];
        return `${indent}${name}[${j}] = (uint32_t)(${lo}) | ((uint32_t)(${hi}) << 16);`;
      });
    }
    case 'fragMma': {
      const [acc, a, b] = [s.acc, s.a, s.b].map(checkIdent);
      if (s.sparse) {
        // mma.sp m16n8k32: B's two 16-row fragments as its 4 registers, the metadata and selector.
        const [b2, e] = [checkIdent(s.sparse.b2), checkIdent(s.sparse.meta)];
        const op = s.t === 'f16' ? 'FMC_MMA_SP_M16N8K32_F16F32' : 'FMC_MMA_SP_M16N8K32_BF16F32';
        return [
          `${indent}{`,
          `${indent}  uint32_t fmc_b4[4] = {${b}[0], ${b}[1], ${b2}[0], ${b2}[1]};`,
          `${indent}  ${op}(${acc}, ${a}, fmc_b4, ${e}, ${s.sparse.selector === 1 ? 1 : 0}, ${acc});`,
          `${indent}}`,
        ];
      }
      const op = s.t === 'f16' ? 'FMC_MMA_M16N8K16_F16F32' : 'FMC_MMA_M16N8K16_BF16F32';
      return [`${indent}${op}(${acc}, ${a}, ${b}, ${acc});`];
    }
    case 'fragEach': {
      const { g, t } = laneParts(LID);
      return Array.from({ length: FRAG_ELEMENTS.acc }, (_, i) => {
        const [r, c] = fragPlaceExpr('acc', int(i), g, t);
        return [
          `${indent}{`,
          `${indent}  long long ${checkIdent(s.row)} = ${expr(r)};`,
          `${indent}  long long ${checkIdent(s.col)} = ${expr(c)};`,
          `${indent}  float ${checkIdent(s.value)} = ${checkIdent(s.name)}[${i}];`,
          ...render(s.body, `${indent}  `),
          `${indent}}`,
        ];
      }).flat();
    }
  }
};
