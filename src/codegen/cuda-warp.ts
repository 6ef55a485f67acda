// CUDA warp-shuffle reductions: Kernel → Kernel, run before the CUDA legalization. A workgroup
// tree reduction (src/kernels/reduce-gpu.ts combine: the partials in a shared array, then
// levels s = W/2, ..., 1 of `if (l < s) sh[l] = step(sh[l], sh[l + s])`, a barrier after
// each) keeps its levels of 32 and more as they are, and runs the rest in the first warp's
// registers (lanes l < 32: warp 0 as a whole, so the branch is warp-uniform):
//   v = step(sh[l], sh[l + 32]);  o = fmc_shfl_xor(v, s), v = step(v, o) for s = 16, ..., 1;
//   lane 0 stores v into sh[0]; one barrier; every invocation reads sh[0].
// With l ^ s = l + s for l < s, lanes l < s hold after level s exactly the tree's sh[l], so
// lane 0's v is the tree's result, bit for bit (the same adds in the same order as WGSL's
// shared-memory tree): 2 barriers for a workgroup of 64 instead of 7. fmc_shfl_xor is the
// prelude's macro over __shfl_xor_sync (prelude-cuda.ts), which the CPU shim implements.

import { type KExpr, type KStmt, type Kernel, cmp, int, lit, mapChildren } from '../ir/kernel.js';
import { type CombineMatch, matchCombine } from '../kernels/reduce-gpu.js';

const WARP = 32;

const same = (a: KExpr, b: KExpr): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The statements of a matched combine with its levels below a warp in registers. */
function warpCombine(ss: readonly KStmt[], m: CombineMatch): KStmt[] {
  const { sh, l, acc, t, W, levels } = m;
  const v = `${sh}_w`;
  const reg: KExpr = { k: 'var', name: v, t };
  const treeLevels = ss.slice(m.start + 3, m.start + 3 + 2 * Math.log2(W / (2 * WARP)));
  // The other lane's value first, into its own local: every lane must run the shuffle, and a
  // step may not evaluate its second operand (a bool sum's `||`, a select's branches).
  const shuffle = (s: number): KStmt[] => {
    const other = `${v}${s}`;
    const lane = (e: KExpr): KExpr => {
      if (e.k !== 'aload' || e.name !== sh) return mapChildren(e, lane);
      return same(e.index, l) ? reg : { k: 'var', name: other, t };
    };
    return [
      { k: 'let', name: other, t, value: { k: 'call', fn: 'fmc_shfl_xor', args: [reg, lit('i32', s)], t } },
      { k: 'set', name: v, value: lane(levels.get(s)!) },
    ];
  };
  const warp: KStmt[] = [{ k: 'let', name: v, t, value: levels.get(WARP)! }];
  for (let s = WARP / 2; s >= 1; s /= 2) warp.push(...shuffle(s));
  warp.push({ k: 'if', cond: cmp('==', l, int(0)), then: [{ k: 'astore', name: sh, index: int(0), value: reg }] });
  return [
    ...ss.slice(m.start, m.start + 3),
    ...treeLevels,
    { k: 'if', cond: cmp('<', l, int(WARP)), then: warp },
    { k: 'barrier' },
    { k: 'set', name: acc, value: { k: 'aload', name: sh, index: int(0), t } },
  ];
}

function rewrite(ss: readonly KStmt[], W: number): KStmt[] {
  const out: KStmt[] = [];
  for (let i = 0; i < ss.length;) {
    const m = matchCombine(ss, i);
    if (m && m.W === W && W >= 2 * WARP) {
      out.push(...warpCombine(ss, m));
      i = m.end;
      continue;
    }
    const s = ss[i++]!;
    if (s.k === 'for' || s.k === 'fragEach') out.push({ ...s, body: rewrite(s.body, W) });
    else if (s.k === 'if')
      out.push({ ...s, then: rewrite(s.then, W), ...(s.else ? { else: rewrite(s.else, W) } : {}) });
    else out.push(s);
  }
  return out;
}

/** The kernel with its workgroup tree reductions finished by warp shuffles (a tiled grid of the tree's size only). */
export function warpShuffles(k: Kernel): Kernel {
  const W = k.grid?.tiled ? k.grid.workgroup : 0;
  return W % WARP === 0 && W > 0 ? { ...k, body: rewrite(k.body, W) } : k;
}
