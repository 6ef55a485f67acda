// The CUDA runtime's TypeScript side (CudaExecutable and CudaDevice: argument checks, dims and
// grids, one arena per binding from the memory plan with offsets, params uploaded once, the
// launch records with buffer addresses, downloads of outputs and updated params) run without
// a GPU: the native device under it is replaced by one backed by the CUDA CPU shim
// (test/cuda/shim.ts) that keeps device memory in host arrays, addressed as the driver would,
// and runs each launch on the shim. The CUDA program is the dialect's real one; only
// runtime-native's cuda_device.cpp is not exercised. Compared with the reference interpreter.
// Skipped, with the reason printed, where there is no g++.

import { describe, expect, it } from 'vitest';
import { lowerModel } from '../../src/api/compile.js';
import { indexBound, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { piped, seededWeights, weightBuffers } from '../../src/runtime/compile.js';
import { CudaDevice } from '../../src/runtime/cuda-device.js';
import { CudaExecutable } from '../../src/runtime/cuda-executable.js';
import { generateCuda } from '../../src/runtime/cuda-program.js';
import type { NativeCudaDevice } from '../../src/runtime/native.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { MODEL_TOL, compare } from '../kernels/c-harness.js';
import { smallModelFile } from '../models/small-models.js';
import { ShimBinary, shimUnavailable } from './shim.js';

const why = shimUnavailable();
if (why) console.warn(`skipping the CUDA runtime on the shim device: ${why}`);

/** A NativeCudaDevice whose memory is host arrays and whose "image" is the CUDA source, run on the shim. */
class ShimGpu implements NativeCudaDevice {
  readonly name = 'CUDA CPU shim';
  readonly computeCapability = 80;
  private readonly blocks: { base: bigint; data: Uint8Array }[] = [];
  private next = 0x7f0000000000n;
  private readonly modules: { binary: ShimBinary; names: readonly string[] }[] = [];
  allocs = 0;
  frees = 0;
  uploads = 0;
  launches = 0;

  alloc(bytes: number): bigint {
    const size = Math.max(256, bytes);
    const base = this.next;
    this.next += BigInt(Math.ceil(size / 256) * 256 + 256);
    this.blocks.push({ base, data: new Uint8Array(size) });
    this.allocs++;
    return base;
  }

  /** The bytes from `address` to the end of its allocation (a RangeError outside every one). */
  private tail(address: bigint, bytes = 0): Uint8Array {
    const b = this.blocks.find((x) => address >= x.base && address + BigInt(bytes) <= x.base + BigInt(x.data.length));
    if (!b) throw new RangeError(`address 0x${address.toString(16)} (+${bytes}) is in no allocation`);
    return b.data.subarray(Number(address - b.base));
  }

  free(address: bigint): void {
    const i = this.blocks.findIndex((b) => b.base === address);
    if (i < 0) throw new RangeError('free: not an allocation of this device');
    this.blocks.splice(i, 1);
    this.frees++;
  }

  upload(address: bigint, bytes: Uint8Array): void {
    this.tail(address, bytes.length).set(bytes);
    this.uploads++;
  }

  download(address: bigint, bytes: number): ArrayBuffer {
    return this.tail(address, bytes).slice(0, bytes).buffer;
  }

  load(image: Uint8Array, names: readonly string[]): number {
    const source = new TextDecoder().decode(image);
    this.modules.push({ binary: ShimBinary.build([{ source, kernels: names }]), names });
    return this.modules.length - 1;
  }

  /**
   * Each launch is one shim job whose buffers are the argument addresses to the end of their
   * allocations; only the bytes a kernel changed are written back, so arena ranges passed to
   * one launch (disjoint, by the memory plan) never clobber each other.
   */
  launch(
    module: number,
    records: Int32Array,
    addresses: BigUint64Array,
    grids: Uint32Array,
    blocks: Uint32Array,
    dims: BigInt64Array,
    dimSlots: number,
  ): void {
    const m = this.modules[module]!;
    const slots = Array.from({ length: Math.max(1, dimSlots) }, (_, i) => dims[i] ?? 0n);
    for (let at = 0, n = 0; at < records.length; n++) {
      const k = records[at]!;
      const argc = records[at + 1]!;
      const views = Array.from(records.subarray(at + 2, at + 2 + argc), (id) => this.tail(addresses[id]!));
      at += 2 + argc;
      const grid: [number, number] = [grids[2 * n]!, grids[2 * n + 1]!];
      if (grid[0] === 0) continue;
      const before = views.map((v) => v.slice());
      const launch = { kernel: m.names[k]!, grid, workgroup: blocks[k]!, args: views.map((_, i) => i) };
      const got = m.binary.run([{ buffers: before, dims: slots, launches: [launch], order: 'forward' }])[0]!;
      got.forEach((g, i) => {
        const after = new Uint8Array(g.buffer, g.byteOffset, g.byteLength);
        for (let j = 0; j < after.length; j++) if (after[j] !== before[i]![j]) views[i]![j] = after[j]!;
      });
      this.launches++;
    }
  }

  synchronize(): void {}
  close(): void {}
}

describe.skipIf(why !== '')('CudaExecutable on a shim-backed device vs the interpreter', () => {
  it.each(['mlp', 'cnn'])(
    'runs %s forward twice (the second call reuses the binding and the uploaded params)',
    { timeout: 300_000 },
    async (model) => {
      const l = lowerModel(smallModelFile(model), { fns: ['forward'] })[0]!;
      const program = generateCuda(piped(l, { mode: 'inference' }));
      const gpu = new ShimGpu();
      const encoded = new TextEncoder().encode(program.source);
      const device = new CudaDevice(gpu, encoded, program.kernels, program.plan.slots.length);
      const g = l.graph;
      const dims = new Map(g.dims.map((d) => [d, 2]));
      const params = seededWeights(l, 3, dims);
      const exe = new CudaExecutable(program.plan, device, weightBuffers(params));
      for (const seed of [10, 11]) {
        const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, seed, indexBound(g, n))]));
        const ref = evaluate(g, { inputs, params, dims }, { precision: 'dtype' }).outputs;
        const tensors = Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)]));
        const out = await exe.runAsync(tensors);
        const problems = g.outputs.flatMap((o) =>
          compare(`${o.name} (seed ${seed})`, toHost(out[o.name]!), ref.get(o.name)!, MODEL_TOL),
        );
        expect(problems).toEqual([]);
      }
      expect(gpu.launches).toBe(2 * program.plan.launches.length);
      // One binding: an arena, the inputs and outputs (and packed buffers); the params once each.
      const own = program.plan.buffers.filter((b) => b.kind !== 'transient' && b.kind !== 'param').length;
      expect(gpu.allocs).toBe(1 + own + program.plan.params.length);
      // Transients live in the arena at distinct offsets.
      if (model === 'cnn') expect(program.plan.buffers.filter((b) => b.kind === 'transient').length).toBeGreaterThan(2);
    },
  );

  it(
    'applies buffer updates (cnn in training: BatchNorm running stats) to the host weights and keeps the device copies',
    { timeout: 300_000 },
    async () => {
      const l = lowerModel(smallModelFile('cnn'), { fns: ['forward'] }, true)[0]!;
      const program = generateCuda(piped(l, { mode: 'inference' }));
      // BatchNorm's running stats: updates the plan applies after the launches, or kernels that write the buffer in place.
      const plan = program.plan;
      const param = new Set(plan.params.map((p) => p.buffer));
      const inPlace = plan.launches.some((l) =>
        l.args.some((id, i) => param.has(id) && plan.kernels[l.kernel]!.params[i]!.access !== 'read'),
      );
      expect(plan.updates.length > 0 || inPlace).toBe(true);
      const gpu = new ShimGpu();
      const device = new CudaDevice(
        gpu,
        new TextEncoder().encode(program.source),
        program.kernels,
        program.plan.slots.length,
      );
      const g = l.graph;
      const dims = new Map(g.dims.map((d) => [d, 2]));
      let params = seededWeights(l, 3, dims);
      const weights = weightBuffers(params);
      const exe = new CudaExecutable(program.plan, device, weights);
      for (const seed of [10, 11]) {
        const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, seed, indexBound(g, n))]));
        const ref = evaluate(g, { inputs, params, dims }, { precision: 'dtype' });
        const out = await exe.runAsync(Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)])));
        const problems = g.outputs.flatMap((o) =>
          compare(`${o.name} (seed ${seed})`, toHost(out[o.name]!), ref.outputs.get(o.name)!, MODEL_TOL),
        );
        for (const [path, want] of ref.updates) {
          const got = { ...want, data: Float64Array.from(new Float32Array(weights.get(path)!)) };
          problems.push(...compare(`${path} after run ${seed}`, got, want, MODEL_TOL));
        }
        expect(problems).toEqual([]);
        // The next run starts from the updated buffers (the reference's too).
        params = new Map([...params, ...ref.updates]);
      }
    },
  );

  it('keeps 8 bindings of dims and frees the memory of an older one', { timeout: 300_000 }, async () => {
    const l = lowerModel(smallModelFile('mlp'), { fns: ['forward'] })[0]!;
    const program = generateCuda(piped(l, { mode: 'inference' }));
    const gpu = new ShimGpu();
    const device = new CudaDevice(
      gpu,
      new TextEncoder().encode(program.source),
      program.kernels,
      program.plan.slots.length,
    );
    const g = l.graph;
    const params = seededWeights(l, 3, new Map([['B', 1]]));
    const exe = new CudaExecutable(program.plan, device, weightBuffers(params));
    const own = 1 + program.plan.buffers.filter((b) => b.kind !== 'transient' && b.kind !== 'param').length;
    for (let b = 1; b <= 9; b++) {
      const dims = new Map([['B', b]]);
      const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, b, indexBound(g, n))]));
      const ref = evaluate(g, { inputs, params, dims }, { precision: 'dtype' }).outputs;
      const out = await exe.runAsync(Object.fromEntries([...inputs].map(([k, t]) => [k, fromHost(t)])));
      const problems = g.outputs.flatMap((o) =>
        compare(`${o.name} (B=${b})`, toHost(out[o.name]!), ref.get(o.name)!, MODEL_TOL),
      );
      expect(problems).toEqual([]);
      expect(gpu.frees).toBe(b <= 8 ? 0 : own);
    }
    expect(gpu.allocs).toBe(9 * own + program.plan.params.length);
  });
});
