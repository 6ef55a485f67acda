// The module directory `fmc compile` writes and `load` reads:
//
//   plan.json            {format: 'fmc-module-1', fmc, model, dims, set?, train?, sources, functions, memory}
//   <fn>.c               each function's C source; its header holds the sha256 of its plan, and
//                        sources[fn] in plan.json names the file and holds the source's sha256
//   weights.safetensors  the params the functions use (i4 is stored as I8, one value a byte);
//                        not the optimizer state (`opt:...` params of a train step): zeros at load;
//                        quantized params and block tables (`<path>:bsr<b>.index` and `.values`,
//                        src/ir/sparse-table.ts) in place of the f32 weights they stand for
//   index.mjs, index.d.mts a typed ES module: `export default model`, one function per entry point,
//                        and `trainer()` when the module has a train step
//
// A WGSL module (`--target wgsl`, plan.json's "target": "wgsl") has `<fn>.k<i>.wgsl`, one file
// per kernel, instead of `<fn>.c` (sources[fn] lists them with their sha256s and how each
// kernel uses its buffers); its index.mjs functions return Promises, and it loads in Node and,
// with fmc.js (`--browser`), in a browser (docs/browser.md).
//
// A CUDA module (`--target cuda`, "target": "cuda") has `<fn>.cu`, each function's whole CUDA
// program (its first line holds the sha256 of its plan, as a C source's does), instead of
// `<fn>.c`; load() compiles it with NVRTC through the private cache for the GPU it runs on, and
// its index.mjs functions return Promises. `fmc compile` also writes `<fn>.ptx` beside it, for
// reading and for other tools; load() never reads it.
//
// `train` (fmc compile --train) names the train functions among `functions` — the step
// (`<loss>_step`), the accumulate step (`<loss>_accumulate`, when accumulate > 1) and the loss
// compiled for inference (to evaluate) — and records the train config they were built with
// and the seed a trainer keys dropout with by default.
//
// functions[fn] is the plan object itself. generate() hashed `JSON.stringify(plan) + '\n'`, and
// JSON.stringify(JSON.parse(s)) === s for any s that JSON.stringify wrote (numbers print
// shortest-round-trip, escapes are canonical, key order is kept), so load() rehashes the parsed
// object and plan.json may be pretty-printed, or even reformatted, without breaking the match.
// moduleFiles() asserts that fixpoint for every plan it writes.

import { createHash } from 'node:crypto';
import { concreteInt } from '../ir/interp.js';
import type { HostTensor } from '../ir/value.js';
import { planMemory } from '../kernels/memory.js';
import type { Plan } from '../kernels/plan.js';
import type { CompiledFunction } from '../runtime/compile.js';
import { writeSafetensors } from '../runtime/safetensors.js';
import { ELEMENT_BYTES } from '../runtime/tensor.js';
import type { CompiledWgsl } from '../runtime/wgsl-program.js';
import type { CompiledCuda } from '../runtime/cuda-program.js';
import { moduleDts, moduleJs } from './module-types.js';
import {
  type CudaSourceEntry,
  MANIFEST_FILE,
  MODULE_FORMAT,
  type ModuleTrain,
  OPTIMIZER_STATE_PREFIX,
  SOURCE_FILE,
  type SourceEntry,
  WEIGHTS_FILE,
  type WgslSourceEntry,
} from './module-names.js';

export * from './module-names.js';

/** The file of kernel `k` of the function whose C file would be `cFile`. */
const wgslFileName = (cFile: string, k: number): string => `${cFile.slice(0, -2)}.k${k}.wgsl`;

function wgslEntry(f: CompiledWgsl, cFile: string): WgslSourceEntry {
  return {
    kernels: f.program.kernels.map((k, i) => ({
      file: wgslFileName(cFile, i),
      sha256: sha256(f.sources[i]!),
      params: k.params,
    })),
    dimVec4s: f.program.dimVec4s,
  };
}

function cudaEntry(f: CompiledCuda, file: string): CudaSourceEntry {
  const kernels = f.plan.kernels.map((k) => ({ params: k.params.map(({ access, dtype }) => ({ access, dtype })) }));
  return { file, sha256: sha256(f.source), kernels };
}

export interface MemoryReport {
  readonly dims: Readonly<Record<string, number>>;
  readonly peakBytes: number;
  readonly lowerBound: number;
  readonly unsharedBytes: number;
}

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export interface Manifest {
  readonly format: typeof MODULE_FORMAT;
  readonly fmc: string;
  readonly model: string;
  /** The dims param shapes were made with (the --dims given; usually none are needed). */
  readonly dims: Readonly<Record<string, number>>;
  /** The hyperparameter overrides the model was compiled with (`fmc compile --set d=64`), as given; absent when none. */
  readonly set?: Readonly<Record<string, string>>;
  /** The train functions, when compiled with --train. */
  readonly train?: ModuleTrain;
  /** `wgsl` for a module of WGSL kernels, `cuda` for CUDA programs (absent: C). */
  readonly target?: 'wgsl' | 'cuda';
  readonly sources: Readonly<Record<string, SourceEntry | WgslSourceEntry | CudaSourceEntry>>;
  readonly functions: Readonly<Record<string, unknown>>;
  readonly memory: Readonly<Record<string, MemoryReport>>;
}

export interface ModuleParts {
  readonly version: string;
  readonly model: string;
  readonly functions: readonly CompiledFunction[];
  /** The WGSL target's functions instead of `functions` (`fmc compile --target wgsl`). */
  readonly wgsl?: readonly CompiledWgsl[];
  /** The CUDA target's functions instead of `functions` (`fmc compile --target cuda`). */
  readonly cuda?: readonly CompiledCuda[];
  readonly weights: ReadonlyMap<string, HostTensor>;
  readonly dims: ReadonlyMap<string, number>;
  readonly memory: readonly MemoryReport[];
  /** The `--set` overrides, recorded in plan.json. */
  readonly set?: Readonly<Record<string, string>>;
  /** The train functions among `functions` (--train). */
  readonly train?: ModuleTrain;
}

/** The arena plan of one function at concrete dims, for the summary and plan.json. */
export function memoryReport(plan: Plan, dims: ReadonlyMap<string, number>): MemoryReport {
  const bytes = (id: number) => concreteInt(plan.buffers[id]!.size, dims) * ELEMENT_BYTES[plan.buffers[id]!.dtype];
  const m = planMemory(plan, bytes);
  const used = Object.fromEntries([...dims].filter(([k]) => plan.dims.includes(k)));
  return { dims: used, peakBytes: m.peakBytes, lowerBound: m.lowerBound, unsharedBytes: m.unsharedBytes };
}

// Names Windows reserves for devices: a module folder should copy anywhere.
const DEVICE_NAMES = /^(con|prn|aux|nul|com\d|lpt\d)$/i;

/** `<fn>.c`, or `fn<i>.c` where the name would make a bad or (case-insensitively) clashing file name. */
export function sourceFileNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name, i) => {
    let file = `${name}.c`;
    if (!SOURCE_FILE.test(file) || DEVICE_NAMES.test(name) || taken.has(file.toLowerCase())) file = `fn${i}.c`;
    while (taken.has(file.toLowerCase())) file = `_${file}`;
    taken.add(file.toLowerCase());
    return file;
  });
}

/** The params the plans use, in the order of the weight map, without the optimizer state (zeros at load). */
function usedWeights(parts: ModuleParts): Map<string, HostTensor> {
  const used = new Set((parts.wgsl ?? parts.cuda ?? parts.functions).flatMap((f) => f.plan.params.map((p) => p.path)));
  return new Map([...parts.weights].filter(([path]) => used.has(path) && !path.startsWith(OPTIMIZER_STATE_PREFIX)));
}

/** Every file of the module with its bytes, plan.json last (a half-written folder fails the hash check). */
export function moduleFiles(parts: ModuleParts): [string, string | Uint8Array][] {
  const fns = parts.wgsl ?? parts.cuda ?? parts.functions;
  const names = fns.map((f) => f.plan.name);
  const files = sourceFileNames(names);
  const plans = fns.map((f) => {
    const obj: unknown = JSON.parse(f.planJson);
    if (`${JSON.stringify(obj)}\n` !== f.planJson) throw new Error(`internal: plan of '${f.plan.name}' is no fixpoint`);
    return obj;
  });
  // A CUDA program is `<fn>.cu` where the C source would be `<fn>.c`.
  const fileOf = (i: number) => (parts.cuda ? `${files[i]!}u` : files[i]!);
  // fromEntries defines own properties, so a function named __proto__ stays a key.
  const byName = <T>(values: readonly T[]) => Object.fromEntries(names.map((n, i) => [n, values[i]!]));
  const manifest: Manifest = {
    format: MODULE_FORMAT,
    fmc: parts.version,
    model: parts.model,
    dims: Object.fromEntries(parts.dims),
    ...(parts.set && Object.keys(parts.set).length > 0 ? { set: { ...parts.set } } : {}),
    ...(parts.train ? { train: parts.train } : {}),
    ...(parts.wgsl ? { target: 'wgsl' as const } : parts.cuda ? { target: 'cuda' as const } : {}),
    sources: parts.wgsl
      ? byName(parts.wgsl.map((f, i) => wgslEntry(f, files[i]!)))
      : parts.cuda
        ? byName(parts.cuda.map((f, i) => cudaEntry(f, fileOf(i))))
        : byName(parts.functions.map((f, i): SourceEntry => ({ file: files[i]!, sha256: sha256(f.source) }))),
    functions: byName(plans),
    memory: byName(parts.memory),
  };
  const weights: [string, Uint8Array] = [WEIGHTS_FILE, writeSafetensors(usedWeights(parts))];
  // A WGSL module's functions return Promises (runAsync): the same index.mjs runs in a browser.
  const sources = parts.wgsl
    ? parts.wgsl.flatMap((f, i) => f.sources.map((code, k): [string, string] => [wgslFileName(files[i]!, k), code]))
    : (parts.cuda ?? parts.functions).map((f, i): [string, string] => [fileOf(i), f.source]);
  // GPU modules' functions return Promises (runAsync).
  const gpu = parts.wgsl ? 'wgsl' : parts.cuda ? 'cuda' : undefined;
  const wgsl = gpu !== undefined;
  return [
    ...sources,
    weights,
    ['index.mjs', moduleJs(parts.version, parts.model, names, parts.train, gpu)],
    [
      'index.d.mts',
      moduleDts(
        parts.version,
        parts.model,
        fns.map((f) => f.plan),
        parts.train,
        wgsl,
      ),
    ],
    [MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`],
  ];
}
