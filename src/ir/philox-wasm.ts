// Philox4x32-10 blocks as a WebAssembly function, assembled here from its instructions. JavaScript
// has no 32×32→64-bit multiply, so its Philox costs about 70 ns a block; WebAssembly's i64.mul gives
// both halves of the product in one instruction (about 11 ns a block, two blocks interleaved). It
// computes exactly what philox4x32 in philox.ts computes: integer arithmetic, then (w >>> 8)·2^-24
// (exact in f64), so the numbers are the same bits on every machine.
//
//   uniforms(k0, k1, s0, s1, blockLo, blockHi, nBlocks, low, span): for j < nBlocks (rounded up
//     to even), block b = blockHi·2^32 + blockLo + j, words w = philox4x32([b low, b high, s0, s1],
//     [k0, k1]); f64 at byte 32·j + 8·i of memory = low + span · u with u = (w[i] >>> 8) · 2^-24.
//   uniformsF32(...): the same, each value rounded to f32 (Math.fround). WebAssembly rounds every
//     operation to nearest and never fuses a multiply-add, like JavaScript: the same bits.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
/** Blocks computed side by side (independent multiply chains fill the pipeline). */
const LANES = 2;

const OP = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  f64Store: 0x39,
  i32Const: 0x41,
  i64Const: 0x42,
  f64Const: 0x44,
  i32Eqz: 0x45,
  i32GtS: 0x4a,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Xor: 0x73,
  i32ShrU: 0x76,
  i64Add: 0x7c,
  i64Mul: 0x7e,
  i64Or: 0x84,
  i64Shl: 0x86,
  i64ShrU: 0x88,
  f64Add: 0xa0,
  f64Mul: 0xa2,
  i32WrapI64: 0xa7,
  i64ExtendI32U: 0xad,
  f32DemoteF64: 0xb6,
  f64ConvertI32U: 0xb8,
  f64PromoteF32: 0xbb,
} as const;
const VOID = 0x40;
const I32 = 0x7f;
const I64 = 0x7e;
const F64 = 0x7c;

/** Signed LEB128 (the encoding of i32.const and i64.const immediates). */
function sleb(value: number): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && !(byte & 0x40)) || (v === -1n && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

/** Unsigned LEB128 (lengths, counts, indices, offsets). */
function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    const byte = value & 0x7f;
    value >>>= 7;
    out.push(value ? byte | 0x80 : byte);
  } while (value);
  return out;
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): number[] => vec([...Buffer.from(s, 'utf8')].map((b) => [b]));
const f64 = (x: number): number[] => [...new Uint8Array(new Float64Array([x]).buffer)];

// Locals: the 9 params, then b (i64), p and q per lane (i64), c0..c3 per lane, ka, kb, r, out (i32).
const [K0, K1, S0, S1, BLO, BHI, N, LOW, SPAN, B] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const P = (l: number) => 10 + 2 * l;
const Q = (l: number) => 11 + 2 * l;
const C = (l: number, w: number) => 10 + 2 * LANES + 4 * l + w;
const KA = 10 + 6 * LANES;
const [KB, R, OUT] = [KA + 1, KA + 2, KA + 3];

const get = (i: number) => [OP.localGet, i];
const set = (i: number) => [OP.localSet, i];
const lanes = (f: (l: number) => number[]) => Array.from({ length: LANES }, (_, l) => f(l)).flat();
/** M · c as a u64. */
const mul = (m: number, c: number) => [OP.i64Const, ...sleb(m), ...get(c), OP.i64ExtendI32U, OP.i64Mul];
const hi = (x: number) => [...get(x), OP.i64Const, 32, OP.i64ShrU, OP.i32WrapI64];
const lo = (x: number) => [...get(x), OP.i32WrapI64];
/** memory[out + offset] = low + span · (c >>> 8) · 2^-24, rounded to f32 if `f32`. */
const store = (f32: boolean) => (c: number, offset: number) => [
  ...[...get(OUT), ...get(LOW), ...get(SPAN), ...get(c)],
  ...[OP.i32Const, 8, OP.i32ShrU, OP.f64ConvertI32U, OP.f64Const, ...f64(2 ** -24), OP.f64Mul],
  ...[OP.f64Mul, OP.f64Add, ...(f32 ? [OP.f32DemoteF64, OP.f64PromoteF32] : [])],
  ...[OP.f64Store, 3, ...uleb(offset)],
];
const addTo = (local: number, op: number, immediate: number[]) => [...get(local), ...immediate, op, ...set(local)];

/** One Philox round on every lane, then the key schedule step. */
const round = [
  ...lanes((l) => [
    ...mul(M0, C(l, 0)),
    ...set(P(l)),
    ...mul(M1, C(l, 2)),
    ...set(Q(l)),
    ...[...hi(Q(l)), ...get(C(l, 1)), OP.i32Xor, ...get(KA), OP.i32Xor, ...set(C(l, 0))],
    ...[...lo(Q(l)), ...set(C(l, 1))],
    ...[...hi(P(l)), ...get(C(l, 3)), OP.i32Xor, ...get(KB), OP.i32Xor, ...set(C(l, 2))],
    ...[...lo(P(l)), ...set(C(l, 3))],
  ]),
  ...addTo(KA, OP.i32Add, [OP.i32Const, ...sleb(W0 | 0)]),
  ...addTo(KB, OP.i32Add, [OP.i32Const, ...sleb(W1 | 0)]),
];

/** The counter of lane l: block b + l. */
const counter = (l: number) => [
  ...[...get(B), OP.i64Const, l, OP.i64Add, OP.i32WrapI64, ...set(C(l, 0))],
  ...[...get(B), OP.i64Const, l, OP.i64Add, OP.i64Const, 32, OP.i64ShrU, OP.i32WrapI64, ...set(C(l, 1))],
  ...[...get(S0), ...set(C(l, 2)), ...get(S1), ...set(C(l, 3))],
];

const body = (f32: boolean) => [
  ...[...get(BHI), OP.i64ExtendI32U, OP.i64Const, 32, OP.i64Shl, ...get(BLO), OP.i64ExtendI32U, OP.i64Or, ...set(B)],
  ...[OP.block, VOID, ...get(N), OP.i32Eqz, OP.brIf, 0],
  ...[OP.loop, VOID, ...lanes(counter), ...get(K0), ...set(KA), ...get(K1), ...set(KB), OP.i32Const, 10, ...set(R)],
  ...[OP.loop, VOID, ...round, ...get(R), OP.i32Const, 1, OP.i32Sub, OP.localTee, R, OP.brIf, 0, OP.end],
  ...lanes((l) => [0, 1, 2, 3].flatMap((w) => store(f32)(C(l, w), 32 * l + 8 * w))),
  ...addTo(OUT, OP.i32Add, [OP.i32Const, ...sleb(32 * LANES)]),
  ...addTo(B, OP.i64Add, [OP.i64Const, LANES]),
  ...[...get(N), OP.i32Const, LANES, OP.i32Sub, OP.localTee, N, OP.i32Const, 0, OP.i32GtS, OP.brIf, 0],
  ...[OP.end, OP.end, OP.end],
];

function moduleBytes(): Uint8Array {
  const code = (f32: boolean) => {
    const bytes = [
      ...vec([
        [1 + 2 * LANES, I64],
        [4 * LANES + 4, I32],
      ]),
      ...body(f32),
    ];
    return [...uleb(bytes.length), ...bytes];
  };
  const params = [...Array.from({ length: 7 }, () => [I32]), [F64], [F64]];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, vec([[0x60, ...vec(params), 0]])), // type 0: (i32 × 7, f64, f64) -> ()
    ...section(3, vec([[0], [0]])), // two functions of type 0
    ...section(5, vec([[0x00, 1]])), // one memory, at least one page
    ...section(
      7,
      vec([
        [...name('uniforms'), 0x00, 0],
        [...name('uniformsF32'), 0x00, 1],
        [...name('memory'), 0x02, 0],
      ]),
    ),
    ...section(10, vec([code(false), code(true)])),
  ]);
}

type Fill = (
  k0: number,
  k1: number,
  s0: number,
  s1: number,
  bLo: number,
  bHi: number,
  n: number,
  low: number,
  span: number,
) => void;

export interface PhiloxKernel {
  /** Fill the memory from byte 0 (see the top of this file); nBlocks ≤ capacity / 4. */
  uniforms: Fill;
  uniformsF32: Fill;
  /** The memory as f64s; grown with `reserve`, so take it again after a reserve. */
  view(): Float64Array;
  /** Makes room for at least `values` f64s (4 per block, plus the odd block of the last pair). */
  reserve(values: number): void;
}

/** The part of the WebAssembly API used here (tsconfig's lib "ES2022" declares none of it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

let kernel: PhiloxKernel | null | undefined;

/** The compiled kernel, or null where WebAssembly is unavailable (node --jitless). */
export function philoxKernel(): PhiloxKernel | null {
  if (kernel !== undefined) return kernel;
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wasm) return (kernel = null);
  const instance = new wasm.Instance(new wasm.Module(moduleBytes()));
  const memory = instance.exports['memory'] as WasmMemory;
  let view = new Float64Array(memory.buffer);
  kernel = {
    uniforms: instance.exports['uniforms'] as Fill,
    uniformsF32: instance.exports['uniformsF32'] as Fill,
    view: () => view,
    reserve(values) {
      const bytes = 8 * (values + 4 * LANES);
      if (bytes > memory.buffer.byteLength) {
        memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
        view = new Float64Array(memory.buffer);
      }
    },
  };
  return kernel;
}
