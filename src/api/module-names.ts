// The names and entries of a module folder (module.ts describes its layout), without Node
// imports: the browser loader (src/browser) reads the same folders as load().

import type { Dtype } from '../ir/dtype.js';
import type { TrainConfig } from '../ir/module.js';
import type { WgslKernel } from '../runtime/webgpu.js';

export const MODULE_FORMAT = 'fmc-module-1';
export const MANIFEST_FILE = 'plan.json';
export const WEIGHTS_FILE = 'weights.safetensors';
/** What a source file name in plan.json may look like: no folders, no dots but the extension. */
export const SOURCE_FILE = /^[A-Za-z_][A-Za-z0-9_]{0,100}\.c$/;
/** A CUDA function's file: `<function file base>.cu`. */
export const CUDA_FILE = /^[A-Za-z_][A-Za-z0-9_]{0,100}\.cu$/;
/** A WGSL kernel's file: `<function file base>.k<index>.wgsl`. */
export const WGSL_FILE = /^[A-Za-z_][A-Za-z0-9_]{0,100}\.k[0-9]{1,6}\.wgsl$/;

/** The prefix of the optimizer state's param paths (`opt:<state>:<path>`), which the weights file leaves out. */
export const OPTIMIZER_STATE_PREFIX = 'opt:';

export interface SourceEntry {
  readonly file: string;
  /** sha256 of the file's bytes: the header's plan hash alone would not catch an edited body. */
  readonly sha256: string;
}

/** sources[fn] of a CUDA module: the program's file and sha256, and how each kernel uses its arguments. */
export interface CudaSourceEntry extends SourceEntry {
  readonly kernels: readonly { readonly params: readonly KernelArgument[] }[];
}

/** How a kernel uses one of its buffers (the plan.json of a module holds kernels without bodies). */
export interface KernelArgument {
  readonly access: 'read' | 'write' | 'readwrite';
  readonly dtype: Dtype;
}

/** sources[fn] of a WGSL module: each kernel's file, its sha256 and how it uses its buffers. */
export interface WgslSourceEntry {
  readonly kernels: readonly (SourceEntry & { readonly params: WgslKernel['params'] })[];
  readonly dimVec4s: number;
}

/** plan.json's `train`: the module's train functions (names in `functions`) and their config. */
export interface ModuleTrain {
  /** The train config in effect when the step was compiled (the model's section, defaults filled in). */
  readonly config: TrainConfig;
  readonly step: string;
  /** Present exactly when `config.accumulate > 1`. */
  readonly accumulate?: string;
  /** The loss compiled for inference. */
  readonly evaluate: string;
  /** The default seed of a trainer (the `--seed` the weights were made with). */
  readonly seed: number;
}
