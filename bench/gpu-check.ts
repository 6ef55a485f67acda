// `scripts/gpu-check` runs this (dist/bench/gpu-check.js) on a machine with an NVIDIA GPU:
// the device (name, compute capability, driver, NVRTC); every seed model's forward on CUDA
// against the reference interpreter at small dims; the mlp and cnn train steps on CUDA against
// the same steps on C (test/runtime/train-twins.ts, the bounds of test/wgsl/train.test.ts);
// the fragment (tensor-core, mma.sync) GEMM against the interpreter for f16 and bf16, which
// validates the CPU shim's fragment layouts on hardware; the 2:4 sparse GEMM (mma.sp) against
// the interpreter on the same pruned weights, which validates the shim's mma.sp fragment and
// metadata layouts (gpu-bench-sparse.ts); then the benchmarks against PyTorch
// (gpu-bench.ts). Writes bench/out/gpu-check.json and prints a table; every part that fails
// or is skipped says why. Exit 0: every check passed; 1: a correctness check failed; 2: it
// could not run here (no GPU or driver: one line `no GPU: libcuda.so.1 not found ...`).

import { compileModel } from '../src/api/compile.js';
import { type Dtype, isFloat } from '../src/ir/dtype.js';
import { indexBound, randomInput } from '../src/ir/init.js';
import { evaluate } from '../src/ir/interp.js';
import type { HostTensor } from '../src/ir/value.js';
import { sharedGpu } from '../src/runtime/cuda-device.js';
import { native } from '../src/runtime/native.js';
import { type Tensor, fromHost, toHost } from '../src/runtime/tensor.js';
import { SMALL } from '../test/models/small-models.js';
import { TRAIN_CASES, withinBounds } from '../test/runtime/train-twins.js';
import { writeJson } from './common.js';
import { type BenchRow, type Row, benchmarks, fragmentExecutable, gemmGraph } from './gpu-bench.js';
import { SPARSE_SHAPES, checkSparse } from './gpu-bench-sparse.js';

/** A part's outcome: `fail` says what is wrong (absent: it passed), `note` what was seen. */
interface Outcome {
  readonly fail?: string;
  readonly note?: string;
}

const rows: Row[] = [];

/** Runs one check, recording it (an exception is a failure with its first lines). */
async function check(part: string, name: string, f: () => Promise<Outcome>): Promise<void> {
  const t0 = performance.now();
  let row: Row;
  try {
    const o = await f();
    const took = `${((performance.now() - t0) / 1e3).toFixed(1)} s`;
    row = o.fail
      ? { part, name, status: 'fail', detail: o.fail }
      : { part, name, status: 'pass', detail: [o.note, took].filter(Boolean).join(', ') };
  } catch (e) {
    const msg = (e as Error).message.split('\n').slice(0, 8).join(' | ');
    row = { part, name, status: 'fail', detail: `${(e as Error).name}: ${msg}` };
  }
  rows.push(row);
  console.log(`${row.status.padEnd(4)} ${part} ${name}: ${row.detail}`);
}

/** What differs between an output and its reference beyond the tolerance ('' when nothing). */
export function mismatch(got: HostTensor, want: HostTensor): string {
  if (got.shape.join() !== want.shape.join()) return `shape [${got.shape}], reference [${want.shape}]`;
  const tol: Partial<Record<Dtype, [number, number]>> = { f32: [1e-3, 1e-4], f16: [1e-3, 1e-3], bf16: [1.6e-2, 1e-2] };
  const [rtol, atol] = isFloat(want.dtype) ? (tol[want.dtype] ?? [1e-3, 1e-4]) : [0, 0];
  let bad = 0;
  let worst = 0;
  for (let i = 0; i < want.data.length; i++) {
    const [a, e] = [Number(got.data[i]), Number(want.data[i])];
    const d = Math.abs(a - e);
    if (Number.isNaN(e) ? !Number.isNaN(a) : !(d <= atol + rtol * Math.abs(e))) bad++;
    if (d > worst) worst = d;
  }
  return bad > 0 ? `${bad} of ${want.data.length} off, worst |Δ| ${worst.toExponential(1)}` : '';
}

const tensors = (m: ReadonlyMap<string, HostTensor>): Record<string, Tensor> =>
  Object.fromEntries([...m].map(([k, t]) => [k, fromHost(t)]));

/** Every seed model's forward at the small dims of the tests (B 2, T 5), in f32. */
async function forwards(): Promise<void> {
  for (const model of Object.keys(SMALL))
    await check('forward', model, async () => {
      const c = compileModel(`models/${model}.fm`, {
        target: 'cuda',
        set: SMALL[model]!,
        fns: ['forward'],
        precision: 'f32',
        seed: 3,
      });
      const g = c.lowered[0]!.graph;
      const dims = new Map(g.dims.map((d) => [d, ({ B: 2, T: 5 } as Record<string, number>)[d] ?? 1]));
      const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 10, indexBound(g, n))]));
      const ref = evaluate(g, { inputs, params: c.weights, dims }).outputs;
      const out = await c.model.runAsync('forward', tensors(inputs));
      const fail = g.outputs.map((o) => mismatch(toHost(out[o.name]!), ref.get(o.name)!)).filter(Boolean);
      return fail.length > 0 ? { fail: fail.join('; ') } : {};
    });
}

/** The mlp and cnn train steps, 5 updates on CUDA and on C. */
async function training(): Promise<void> {
  for (const [name, c, train, bounds] of TRAIN_CASES)
    await check('train', name.replace(/^the /, ''), async () => ({
      note: await withinBounds(name, c, 'cuda', train, bounds),
    }));
}

/** The fragment GEMM against the interpreter: sizes off the block, both layouts, f16 and bf16. */
async function fragments(): Promise<void> {
  const shapes = [
    [37, 45, 70],
    [128, 256, 96],
    [200, 64, 130],
  ];
  for (const d of ['f16', 'bf16'] as const)
    for (const s of shapes)
      for (const t of [false, true])
        await check('fragments', `${d} ${s.join('×')}${t ? ' (w transposed)' : ''}`, async () => {
          const g = gemmGraph(d, s, t);
          const { mma, exe } = fragmentExecutable(g);
          if (!mma) return { fail: 'the lowering made no mma.sync kernel for this GEMM' };
          const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, new Map(), 7)]));
          const ref = evaluate(g, { inputs, params: new Map(), dims: new Map() }).outputs;
          const out = await exe.runAsync(tensors(inputs));
          const fail = mismatch(toHost(out.y!), ref.get('y')!);
          return fail ? { fail } : {};
        });
}

/** The 2:4 sparse GEMM (mma.sp) against the interpreter on the same pruned weights: f16 and bf16, sizes off the block. */
async function sparse(): Promise<void> {
  for (const d of ['f16', 'bf16'] as const)
    for (const s of SPARSE_SHAPES)
      await check('mma.sp', `${d} ${s.join('×')}`, async () => {
        const fail = await checkSparse(d, s, mismatch);
        return fail ? { fail } : {};
      });
}

async function main(): Promise<number> {
  const status = native().cudaStatus();
  if (!status.available) {
    console.log(`no GPU: ${status.message}`);
    writeJson('gpu-check.json', { device: null, why: `no GPU: ${status.message}` });
    return 2;
  }
  const gpu = sharedGpu();
  const nv = native().nvrtcInfo();
  const cc = gpu.computeCapability;
  const device = {
    name: gpu.name,
    computeCapability: `${Math.floor(cc / 10)}.${cc % 10}`,
    driver: status.message,
    nvrtc: `${nv.library} ${nv.version}`,
  };
  console.log(
    `device: ${device.name}, compute capability ${device.computeCapability}; ${device.driver}; ${device.nvrtc}`,
  );
  const t0 = performance.now();
  await forwards();
  await training();
  await fragments();
  await sparse();
  const bench: BenchRow[] = await benchmarks((r) => rows.push(r));
  const seconds = (performance.now() - t0) / 1e3;
  const file = writeJson('gpu-check.json', { device, seconds, checks: rows, bench });
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(
    `\n${rows.map((r) => `${r.status.padEnd(5)}${r.part.padEnd(10)}${r.name.padEnd(width + 2)}${r.detail}`).join('\n')}`,
  );
  const failed = rows.filter((r) => r.status === 'fail' && r.part !== 'bench');
  console.log(`\n${failed.length} correctness check(s) failed; report: ${file} (${seconds.toFixed(0)} s)`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main();
