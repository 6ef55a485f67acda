// NVRTC compilation of a CUDA program through fmc's private cache: the image (PTX for
// `compute_XX`, or CUBIN for `sm_XX` where NVRTC has nvrtcGetCUBIN) is kept under
// `<cacheDir>/cuda/<key>.ptx|.cubin` with a sidecar `<key>.json` ({key, sha256, size, compiler,
// flags, created}), where the key is the sha256 of the source, the options (the architecture
// among them), the NVRTC library and version and fmc's version (cache.ts's cacheKey). Images
// are loaded only from this cache and only after verification, as the C libraries are
// (cache-store.ts): the sidecar's key, size and sha256 must match the bytes, the file must be
// this user's and writable only by it, and the bytes must be an image of the kind and
// architecture asked for. Anything else is compiled again and replaces it.

import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { cacheKey, defaultCacheDir } from './cache.js';
import {
  type ArtifactRecord,
  diskFullError,
  ensurePrivateDir,
  makeWorkDir,
  parseRecord,
  readOwnedFile,
  removeWorkDir,
  sha256Hex,
  writeExclusive,
} from './cache-store.js';
import { type NvrtcInfo, native } from './native.js';

/** NVRTC is missing or unusable (the message names the sonames tried), or it refused the source (`log`). */
export class CudaCompileError extends Error {
  override name = 'CudaCompileError';
  constructor(
    message: string,
    /** NVRTC's log when it refused the source. */
    readonly log?: string,
  ) {
    super(message);
  }
}

export type CudaImageKind = 'ptx' | 'cubin';

export interface CudaCompileOptions {
  /** The compute capability as major * 10 + minor (80, 90). */
  readonly arch: number;
  /** Default: 'cubin' where NVRTC can make one, else 'ptx'. */
  readonly kind?: CudaImageKind;
  /** Default: defaultCacheDir(); images go in `<cacheDir>/cuda/`. */
  readonly cacheDir?: string;
  /** The program's name in NVRTC's log (default 'fmc.cu'). */
  readonly name?: string;
}

export interface CudaImage {
  readonly kind: CudaImageKind;
  readonly arch: number;
  /** PTX text with its terminating NUL, or a CUBIN (ELF). */
  readonly bytes: Uint8Array;
  readonly key: string;
  /** Whether it came verified from the cache (no NVRTC call). */
  readonly cached: boolean;
  /** The verified cache file. */
  readonly path: string;
}

/** The options NVRTC gets besides the architecture: no host code in the program, C++17, line info for profilers. */
export const NVRTC_OPTIONS: readonly string[] = ['-default-device', '--std=c++17', '-lineinfo'];

/** The usable NVRTC, or a CudaCompileError naming what was tried. */
export function nvrtc(): NvrtcInfo {
  const info = native().nvrtcInfo();
  if (info.error !== '')
    throw new CudaCompileError(
      `the CUDA target needs NVRTC: ${info.error}. Install NVIDIA's NVRTC (Debian: libnvrtc11.2 from the non-free component; CUDA 12 or 13: libnvrtc.so.12 / .13)`,
    );
  return info;
}

/**
 * What to compile for a GPU of compute capability `capability`: a CUBIN for it where NVRTC
 * knows it and makes CUBINs; else PTX for the newest architecture NVRTC knows below it, which
 * the driver JIT-compiles for the GPU (PTX runs on newer GPUs). A GPU older than every
 * architecture NVRTC knows is a CudaCompileError.
 */
export function targetFor(capability: number, info: Pick<NvrtcInfo, 'archs' | 'cubin' | 'version'>) {
  if (info.archs.length === 0 || info.archs.includes(capability))
    return { arch: capability, kind: info.cubin ? ('cubin' as const) : ('ptx' as const) };
  const below = info.archs.filter((a) => a < capability);
  if (below.length === 0)
    throw new CudaCompileError(
      `NVRTC ${info.version} compiles for sm_${Math.min(...info.archs)} and newer; this GPU is sm_${capability}`,
    );
  return { arch: Math.max(...below), kind: 'ptx' as const };
}

const archOption = (kind: CudaImageKind, arch: number): string =>
  `--gpu-architecture=${kind === 'cubin' ? 'sm' : 'compute'}_${arch}`;

/** Whether `bytes` are an image of `kind` for `arch`: PTX naming `.target sm_<arch>`, or an ELF CUBIN. */
function imageMatches(bytes: Uint8Array, kind: CudaImageKind, arch: number): boolean {
  if (kind === 'cubin') return bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
  const head = Buffer.from(bytes.subarray(0, 4096)).toString('latin1');
  return bytes[bytes.length - 1] === 0 && new RegExp(`^\\.target sm_${arch}\\b`, 'm').test(head);
}

/** The verified image `<dir>/<key>.<kind>`, or undefined. Never throws. */
function verified(dir: string, key: string, kind: CudaImageKind, arch: number): Uint8Array | undefined {
  try {
    const record = parseRecord(readOwnedFile(join(dir, `${key}.json`)));
    if (record?.key !== key) return undefined;
    const bytes = readOwnedFile(join(dir, `${key}.${kind}`));
    if (bytes === undefined || bytes.length !== record.size || sha256Hex(bytes) !== record.sha256) return undefined;
    return imageMatches(bytes, kind, arch) ? new Uint8Array(bytes) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The image of `source` for `opts.arch`: from the cache when a verified one exists, else
 * compiled by NVRTC now and installed. A CudaCompileError when NVRTC is missing or refuses
 * the source (its log in the error); a CompileCacheError for an unsafe cache directory.
 */
export function compileCuda(source: string, opts: CudaCompileOptions): CudaImage {
  const info = nvrtc();
  const kind = opts.kind ?? (info.cubin ? 'cubin' : 'ptx');
  if (kind === 'cubin' && !info.cubin) throw new CudaCompileError(`${info.library} cannot output CUBIN: ask for PTX`);
  const flags = [archOption(kind, opts.arch), ...NVRTC_OPTIONS];
  const key = cacheKey({
    source,
    flags,
    compilerIdentity: `nvrtc ${info.version} (${info.library})`,
    target: `cuda-${kind}`,
    machine: `sm_${opts.arch}`,
  });
  const dir = ensurePrivateDir(opts.cacheDir ?? defaultCacheDir(), 'cuda');
  const path = join(dir, `${key}.${kind}`);
  const hit = verified(dir, key, kind, opts.arch);
  if (hit) return { kind, arch: opts.arch, bytes: hit, key, cached: true, path };
  const out = native().nvrtcCompile(source, opts.name ?? 'fmc.cu', flags, kind === 'cubin');
  if (!out.ok || !out.image)
    throw new CudaCompileError(`NVRTC ${info.version} refused the program (${out.error ?? 'no image'})`, out.log);
  install(dir, path, key, out.image, info, flags);
  const bytes = verified(dir, key, kind, opts.arch);
  if (!bytes) throw new CudaCompileError(`the freshly compiled ${path} failed verification; try again`);
  return { kind, arch: opts.arch, bytes, key, cached: false, path };
}

/** Writes the image and its sidecar in a private work directory and renames both into place (image first). */
function install(dir: string, path: string, key: string, image: Uint8Array, info: NvrtcInfo, flags: string[]): void {
  const work = makeWorkDir(dir, key);
  try {
    const file = join(work, 'image');
    const json = join(work, 'sidecar.json');
    const record: ArtifactRecord = {
      key,
      sha256: sha256Hex(image),
      size: image.length,
      compiler: `nvrtc ${info.version} (${info.library})`,
      flags,
      created: new Date().toISOString(),
    };
    writeExclusive(file, image);
    writeExclusive(json, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(file, path);
    renameSync(json, join(dir, `${key}.json`));
  } catch (e) {
    throw diskFullError(e, dir) ?? e;
  } finally {
    removeWorkDir(work);
  }
}
