// Packing a weight-only quantized B (gemm-quant.ts's QuantB: int8, or int4 two to a byte in
// src/ir/quantize.ts's blocks of 64) into the packed GEMM's NR-wide panels, for products of
// more rows than a GEMV. The generic pack reads B through the quantize pass's dequantization
// expression, which decodes a nibble with float arithmetic and index divisions per element
// (about 12 ns a value here: at M = 128 the pack cost six times the product). This one walks
// each row of the weight along K in runs over which the byte address is contiguous and the
// scale (and zero) is one value: int8 runs are the quantization groups; int4 runs are the 32
// values of one half of a block (one nibble of 32 consecutive bytes), which needs groups of a
// multiple of 32. Each value is (q - zero) · scale in f32, as the dequantization computes it,
// so the packed panels hold the same floats as before.

import { type KExpr, type KStmt, add, cmp, int, ivar, ix, loop, mul } from '../ir/kernel.js';
import { INT4_BLOCK } from '../ir/quantize.js';
import type { GemmBuilder } from './gemm.js';
import type { PackArgs } from './gemm-pack.js';
import type { QuantB } from './gemm-quant.js';

const let64 = (name: string, value: KExpr): KStmt => ({ k: 'let', name, t: 'i64', value });
const f32v = (name: string): KExpr => ({ k: 'var', name, t: 'f32' });
const bin = (fn: 'mul' | 'sub', a: KExpr, b: KExpr): KExpr => ({ k: 'bin', fn, a, b, t: 'f32' });

/** The pack of B's block [pc, pc + kc) × rows as panels, or undefined when the runs do not fit the groups. */
export function quantPack(G: GemmBuilder, qb: QuantB, a: PackArgs): KStmt[] | undefined {
  const K = (G.K as { v: number }).v;
  const int4 = qb.spec.dtype === 'int4';
  // Values a run: contiguous bytes, one scale.
  const R = int4 ? INT4_BLOCK / 2 : qb.g;
  if (int4 && qb.g % R !== 0) return undefined;
  const rowBytes = int4 ? (INT4_BLOCK / 2) * Math.ceil(K / INT4_BLOCK) : K;
  const groups = K / qb.g;
  const { buf, rows, pc, kc, width, at, stride } = a;
  const [p, r, n, j, ks, ke, base, k, s, z] = G.kb.freshNames('p', 'r', 'n', 'j', 'ks', 'ke', 'qb', 'k', 's', 'z');
  const param = (x: QuantB['q']): number => G.kb.param(G.f.buffers.get(x)!, 'read');
  const [qBuf, sBuf] = [param(qb.q), param(qb.scale)];
  const zBuf = qb.zero ? param(qb.zero) : undefined;
  const dst = (kk: KExpr, value: KExpr): KStmt => {
    const index = add(add(at, add(mul(ivar(p), stride), mul(ix('-', kk, pc), int(width)))), ivar(r));
    return typeof buf === 'number' ? { k: 'store', buf, index, value } : { k: 'astore', name: buf, index, value };
  };
  // The run's first value's group; its scale and zero.
  const group = add(mul(ivar(n), int(groups)), ix('/', mul(ivar(j), int(R)), int(qb.g)));
  const byte: KExpr = { k: 'load', buf: qBuf, index: add(ivar(base), ivar(k)), t: 'i32' };
  // int4: run j is nibble j % 2 of bytes (j / 2)·32 ... + 31 of the row: value k at byte
  // (j / 2)·32 + k - 32j; the low nibble's sign comes down from bit 31 (<< 28, >> 28).
  const q: KExpr = int4
    ? {
        k: 'bits',
        op: '>>',
        a: { k: 'bits', op: '<<', a: byte, b: ix('-', int(28), mul(ix('%', ivar(j), int(2)), int(4))) },
        b: int(28),
      }
    : byte;
  const qf: KExpr = { k: 'cast', from: 'i32', to: 'f32', a: q, t: 'f32' };
  const w = bin('mul', zBuf === undefined ? qf : bin('sub', qf, f32v(z)), f32v(s));
  const runBase = int4
    ? add(
        mul(ivar(n), int(rowBytes)),
        ix('-', mul(ix('/', ivar(j), int(2)), int(INT4_BLOCK / 2)), mul(ivar(j), int(R))),
      )
    : mul(ivar(n), int(rowBytes));
  const end = ix('min', add(pc, kc), int(K));
  const run: KStmt[] = [
    let64(ks, ix('max', mul(ivar(j), int(R)), pc)),
    let64(ke, ix('min', add(mul(ivar(j), int(R)), int(R)), end)),
    let64(base, runBase),
    { k: 'let', name: s, t: 'f32', value: { k: 'load', buf: sBuf, index: group, t: 'f32' } },
    ...(zBuf === undefined
      ? []
      : [{ k: 'let', name: z, t: 'f32', value: { k: 'load', buf: zBuf, index: group, t: 'f32' } } as KStmt]),
    loop(k, ivar(ke), [dst(ivar(k), w)], 'serial', { lo: ivar(ks) }),
  ];
  const row: KStmt = {
    k: 'if',
    cond: cmp('<', add(ivar(p), ivar(r)), rows),
    then: [
      let64(n, add(a.r0, add(ivar(p), ivar(r)))),
      loop(j, ix('/', add(end, int(R - 1)), int(R)), run, 'serial', { lo: ix('/', pc, int(R)) }),
    ],
    else: [loop(k, add(pc, kc), [dst(ivar(k), { k: 'const', t: 'f32', v: 0 })], 'serial', { lo: pc })],
  };
  const body = [loop(r, int(width), [row])];
  return [
    a.outer === 'parallel'
      ? G.kb.parallel(p, rows, body, mul(rows, kc), { step: width })
      : loop(p, rows, body, 'serial', { step: width }),
  ];
}
