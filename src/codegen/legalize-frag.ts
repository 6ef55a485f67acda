// Typed tiles (fragments: KStmt 'frag', 'fragLoad', 'fragMma', 'fragEach') for targets without
// warp-level matrix instructions (WGSL): each lane keeps its elements in a local array laid
// out as PTX's m16n8k16 (src/ir/fragments.ts), and a product exchanges the lanes' elements
// through the warp's part of the shared staging array:
//   every lane writes its a and b elements to their places in the stage (f32, exact for f16
//   and bf16 values); barrier; every lane sums its 4 accumulator elements over k in f32
//   (fma, k in order); barrier (the stage is free again).
// The barriers are workgroup barriers: fragment statements are workgroup-uniform (ir/kernel.ts).
// CUDA renders fragments with its own instructions instead.

import { FRAG_ELEMENTS, FRAG_STAGE, WARP, fragPlaceExpr, laneParts } from '../ir/fragments.js';
import {
  type FragRole,
  type FragScalar,
  type KExpr,
  type KStmt,
  type Kernel,
  add,
  f32,
  int,
  ivar,
  ix,
  loop,
  mul,
} from '../ir/kernel.js';

interface Frag {
  readonly role: FragRole;
  readonly t: FragScalar;
}

/** Every name a kernel declares (lets, arrays, loop variables, fragments), to keep new ones apart. */
function declared(ss: readonly KStmt[], out: Set<string>): Set<string> {
  for (const s of ss) {
    if (s.k === 'for') (out.add(s.v), declared(s.body, out));
    else if (s.k === 'let' || s.k === 'array' || s.k === 'frag') out.add(s.name);
    else if (s.k === 'if') (declared(s.then, out), declared(s.else ?? [], out));
    else if (s.k === 'fragEach') ([s.row, s.col, s.value].forEach((n) => out.add(n)), declared(s.body, out));
  }
  return out;
}

const hasFragments = (ss: readonly KStmt[]): boolean =>
  ss.some(
    (s) =>
      s.k.startsWith('frag') ||
      (s.k === 'for' && hasFragments(s.body)) ||
      (s.k === 'if' && hasFragments([...s.then, ...(s.else ?? [])])),
  );

class Expander {
  private readonly frags = new Map<string, Frag>();
  private n = 0;
  private readonly lid: KExpr = { k: 'lid' };
  private readonly lane = laneParts(this.lid);

  constructor(private readonly taken: Set<string>) {}

  private fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}${this.n++}`;
    while (this.taken.has(name));
    this.taken.add(name);
    return name;
  }

  private frag(name: string): Frag {
    const f = this.frags.get(name);
    if (!f) throw new Error(`internal: fragment '${name}' used before its declaration`);
    return f;
  }

  /** Element `i` of fragment `name` (an expression of i64), read as f32. */
  private element(name: string, i: KExpr): KExpr {
    const { t } = this.frag(name);
    const v: KExpr = { k: 'aload', name, index: i, t };
    return t === 'f32' ? v : { k: 'cast', from: t, to: 'f32', a: v, t: 'f32' };
  }

  stmts(ss: readonly KStmt[]): KStmt[] {
    return ss.flatMap((s) => this.stmt(s));
  }

  private stmt(s: KStmt): KStmt[] {
    const { g, t } = this.lane;
    switch (s.k) {
      case 'for':
        return [{ ...s, body: this.stmts(s.body) }];
      case 'if':
        return [{ ...s, then: this.stmts(s.then), ...(s.else ? { else: this.stmts(s.else) } : {}) }];
      case 'frag': {
        this.frags.set(s.name, { role: s.role, t: s.t });
        const size = FRAG_ELEMENTS[s.role];
        const decl: KStmt = { k: 'array', name: s.name, t: s.t, size, space: 'local' };
        if (s.role !== 'acc') return [decl];
        const i = this.fresh('fi');
        return [decl, loop(i, int(size), [{ k: 'astore', name: s.name, index: ivar(i), value: f32(0) }], 'unroll')];
      }
      case 'fragLoad': {
        const { role, t: et } = s;
        const f = this.frag(s.name);
        if (f.role !== role || f.t !== et) throw new Error(`internal: fragment '${s.name}' loaded as another kind`);
        const i = this.fresh('fi');
        const [r, c] = fragPlaceExpr(role, ivar(i), g, t);
        const index = add(s.offset, add(mul(r, s.ld), c));
        const value: KExpr =
          typeof s.src === 'number'
            ? { k: 'load', buf: s.src, index, t: et }
            : { k: 'aload', name: s.src, index, t: et };
        return [loop(i, int(FRAG_ELEMENTS[role]), [{ k: 'astore', name: s.name, index: ivar(i), value }], 'unroll')];
      }
      case 'fragMma':
        if (s.sparse) throw new Error('internal: a 2:4-sparse fragment product (mma.sp) reached a target without it');
        return this.mma(s);
      case 'fragEach': {
        const i = this.fresh('fi');
        const [r, c] = fragPlaceExpr('acc', ivar(i), g, t);
        const body: KStmt[] = [
          { k: 'let', name: s.row, t: 'i64', value: r },
          { k: 'let', name: s.col, t: 'i64', value: c },
          { k: 'let', name: s.value, t: 'f32', value: this.element(s.name, ivar(i)) },
          ...this.stmts(s.body),
        ];
        return [loop(i, int(FRAG_ELEMENTS.acc), body, 'unroll')];
      }
      default:
        return [s];
    }
  }

  /** acc += a·b through the warp's part of the stage (see the file's comment). */
  private mma(s: Extract<KStmt, { k: 'fragMma' }>): KStmt[] {
    const { g, t } = this.lane;
    const base = mul(ix('/', this.lid, int(WARP)), int(FRAG_STAGE));
    const B0 = 16 * 16; // the b tile follows the a tile
    const put = (name: string, role: 'a' | 'b'): KStmt => {
      const i = this.fresh('fi');
      const [r, c] = fragPlaceExpr(role, ivar(i), g, t);
      const at = role === 'a' ? add(mul(r, int(16)), c) : add(int(B0), add(mul(r, int(8)), c));
      const store: KStmt = { k: 'astore', name: s.stage, index: add(base, at), value: this.element(name, ivar(i)) };
      return loop(i, int(FRAG_ELEMENTS[role]), [store], 'unroll');
    };
    const [i, k, sum] = [this.fresh('fi'), this.fresh('fk'), this.fresh('fs')];
    const [r, c] = fragPlaceExpr('acc', ivar(i), g, t);
    const stage = (index: KExpr): KExpr => ({ k: 'aload', name: s.stage, index: add(base, index), t: 'f32' });
    const product: KStmt = {
      k: 'set',
      name: sum,
      value: {
        k: 'fma',
        a: stage(add(mul(r, int(16)), ivar(k))),
        b: stage(add(int(B0), add(mul(ivar(k), int(8)), c))),
        c: { k: 'var', name: sum, t: 'f32' },
      },
    };
    return [
      put(s.a, 'a'),
      put(s.b, 'b'),
      { k: 'barrier' },
      loop(
        i,
        int(FRAG_ELEMENTS.acc),
        [
          { k: 'let', name: sum, t: 'f32', value: this.element(s.acc, ivar(i)) },
          loop(k, int(16), [product], 'unroll'),
          { k: 'astore', name: s.acc, index: ivar(i), value: { k: 'var', name: sum, t: 'f32' } },
        ],
        'unroll',
      ),
      { k: 'barrier' },
    ];
  }
}

/** The kernel with its fragment statements expanded into plain kernel IR (unchanged without any). */
export function expandFragments(k: Kernel): Kernel {
  if (!hasFragments(k.body)) return k;
  return { ...k, body: new Expander(declared(k.body, new Set())).stmts(k.body) };
}
