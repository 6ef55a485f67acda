// `fmc compile --target cuda -o DIR`: each function's CUDA program (`<fn>.cu`, one source per
// function, from the CUDA dialect) and its PTX (`<fn>.ptx`) compiled by NVRTC through the
// private cache, for this machine's GPU, or for compute_80 where there is none. The folder is
// for reading and for other tools (ptxas, Nsight); `load()` does not run it yet: the CUDA
// target runs from `compile()` and `fmc run --target cuda`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { locator, sourceLookup } from '../api/device-limits.js';
import type { Module as Lowered } from '../ir/module.js';
import { CudaCompileError, nvrtc, targetFor } from '../runtime/cuda-cache.js';
import { CUDA_BACKEND, compileCudaImage, generateCuda } from '../runtime/cuda-program.js';
import { native } from '../runtime/native.js';
import type { Io } from './io.js';
import { CliError, writeOutput } from './model.js';

/** The architecture to compile PTX for: the GPU's here (or the newest NVRTC knows below it), else 80. */
function targetArch(): { arch: number; why: string } {
  if (!native().cudaStatus().available) return { arch: 80, why: 'no GPU here' };
  const gpu = native().cudaOpen(0);
  try {
    const { arch } = targetFor(gpu.computeCapability, nvrtc());
    return { arch, why: `this machine's ${gpu.name}, sm_${gpu.computeCapability}` };
  } finally {
    gpu.close();
  }
}

/** Writes `<fn>.cu` and `<fn>.ptx` of each module into `out` and says what it wrote. */
export function writeCuda(io: Io, out: string, modules: readonly Lowered[]): void {
  const lookup = sourceLookup();
  const { arch, why } = targetArch();
  const files: [string, string | Uint8Array][] = [];
  let kernels = 0;
  for (const m of modules) {
    io.progress?.(`generating CUDA for ${m.model}.${m.graph.name}`);
    const program = generateCuda(m, CUDA_BACKEND, locator(m, lookup));
    io.progress?.(`compiling ${m.graph.name} with NVRTC for compute_${arch}`);
    let image;
    try {
      image = compileCudaImage(program, { arch, kind: 'ptx' });
    } catch (e) {
      if (e instanceof CudaCompileError) throw new CliError(e.message);
      throw e;
    }
    kernels += program.kernels.length;
    // The PTX without the NUL that ends it for the driver.
    files.push([`${m.graph.name}.cu`, program.source], [`${m.graph.name}.ptx`, image.bytes.subarray(0, -1)]);
  }
  io.progress?.('');
  try {
    fs.mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create ${out}: ${(e as Error).message}`);
  }
  for (const [name, data] of files) writeOutput(path.join(out, name), data);
  io.err(
    `fmc: wrote ${out} (${modules[0]!.model}: ${modules.length} function${modules.length === 1 ? '' : 's'}, ` +
      `${kernels} kernels, CUDA sources and PTX for compute_${arch} (${why}); not loadable by load() yet)\n`,
  );
}
