// `fmc compile --target cuda -o DIR`: each function's CUDA program (`<fn>.cu`, one source per
// function, from the CUDA dialect), which the module folder holds and `load()` compiles for the
// GPU it runs on, and its PTX (`<fn>.ptx`) compiled by NVRTC through the private cache, for
// this machine's GPU, or for compute_80 where there is none: written beside it for reading and
// for other tools (ptxas, Nsight), and a compile check of every kernel here.

import { locator, sourceLookup } from '../api/device-limits.js';
import type { Module as Lowered } from '../ir/module.js';
import { CudaCompileError, nvrtc, targetFor } from '../runtime/cuda-cache.js';
import { type CompiledCuda, CUDA_BACKEND, compileCudaImage, generateCuda } from '../runtime/cuda-program.js';
import { native } from '../runtime/native.js';
import type { Io } from './io.js';
import { CliError } from './model.js';

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

/** Each module's CUDA program and its PTX (NVRTC, through the private cache), for the folder `fmc compile` writes. */
export function cudaForCli(io: Io, modules: readonly Lowered[]): CudaForCli {
  const lookup = sourceLookup();
  const { arch, why } = targetArch();
  const programs = modules.map((m) => {
    io.progress?.(`generating CUDA for ${m.model}.${m.graph.name}`);
    return generateCuda(m, CUDA_BACKEND, locator(m, lookup));
  });
  const ptx = programs.map((program) => {
    io.progress?.(`compiling ${program.plan.name} with NVRTC for compute_${arch}`);
    try {
      // The PTX without the NUL that ends it for the driver.
      return compileCudaImage(program, { arch, kind: 'ptx' }).bytes.subarray(0, -1);
    } catch (e) {
      if (e instanceof CudaCompileError) throw new CliError(e.message);
      throw e;
    }
  });
  io.progress?.('');
  return { programs, ptx, note: `PTX for compute_${arch} (${why})` };
}

export interface CudaForCli {
  readonly programs: readonly CompiledCuda[];
  /** Each program's PTX, written beside its `.cu` for reading (load() compiles the source). */
  readonly ptx: readonly Uint8Array[];
  /** What the PTX is for, for the summary line. */
  readonly note: string;
}
