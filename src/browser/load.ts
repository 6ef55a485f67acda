// load() in a browser: a folder written by `fmc compile --target wgsl`, fetched over HTTP and
// checked as load() checks it in Node (manifest.ts, wgsl-load.ts: the same code): the format,
// every WGSL file's sha256 (WebCrypto) and the plan hash in its header, the weights' names,
// dtypes and shapes. The kernels run on `navigator.gpu` through the same device code as in
// Node (webgpu.ts, gpu-executable.ts). No Node imports.

import { type ReadManifest, matchWeights, parseManifest } from '../api/manifest.js';
import { MANIFEST_FILE, WEIGHTS_FILE, WGSL_FILE } from '../api/module-names.js';
import { type ModuleIo, readWgslFunction } from '../api/wgsl-load.js';
import { type HostTensor, shapeSize } from '../ir/value.js';
import { GpuExecutable } from '../runtime/gpu-executable.js';
import { PlanFormatError } from '../runtime/plan-json.js';
import { storeInto } from '../runtime/safetensors-codec.js';
import { readStoredSafetensors } from '../runtime/safetensors-read.js';
import { ELEMENT_BYTES } from '../runtime/tensor.js';
import { WebGpuError, loadProgram, requestGpuDevice } from '../runtime/webgpu.js';
import type { Gpu, GpuDevice } from '../runtime/webgpu-types.js';
import { WebModel } from './model.js';

/** The slice of `fetch` the loader uses (the page's own, or any that fits). */
export type Fetch = (url: string) => Promise<{
  readonly ok: boolean;
  readonly status: number;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

export interface BrowserLoadOptions {
  /** How files are fetched (default: the global fetch). */
  readonly fetch?: Fetch;
  /** The GPUDevice to run on (default: one of `navigator.gpu`'s adapter, with its storage limits). */
  readonly device?: GpuDevice;
}

interface Globals {
  fetch?: Fetch;
  location?: { href: string };
  navigator?: { gpu?: Gpu };
  crypto?: { subtle: { digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer> } };
}
const globals = globalThis as Globals;

/** The sha256 of each text's UTF-8 bytes (WebCrypto), as lowercase hex. */
async function digests(texts: readonly string[]): Promise<Map<string, string>> {
  const subtle = globals.crypto?.subtle;
  if (!subtle)
    throw new PlanFormatError('WebCrypto is not available here (a page must be served over https or from 127.0.0.1)');
  const enc = new TextEncoder();
  const hex = await Promise.all(
    texts.map(async (t) =>
      [...new Uint8Array(await subtle.digest('SHA-256', enc.encode(t)))]
        .map((b) => b.toString(16).padStart(2, '0'))
        .join(''),
    ),
  );
  return new Map(texts.map((t, i) => [t, hex[i]!]));
}

/** The GPUDevice of the page's adapter, or a WebGpuError saying why there is none. */
async function pageDevice(): Promise<GpuDevice> {
  const gpu = globals.navigator?.gpu;
  if (!gpu) throw new WebGpuError('this browser has no WebGPU (navigator.gpu is missing)');
  return requestGpuDevice(gpu);
}

/** The WGSL files a manifest names (only names of WGSL_FILE's form: no folders), by function. */
function kernelFiles(m: ReadManifest): string[] {
  return m.fns.flatMap(([, , src]) => {
    const kernels = (src as { kernels?: unknown } | undefined)?.kernels;
    if (!Array.isArray(kernels)) return [];
    return kernels.flatMap((k: { file?: unknown } | null) =>
      typeof k?.file === 'string' && WGSL_FILE.test(k.file) ? [k.file] : [],
    );
  });
}

/** Host weight buffers by path (plain ArrayBuffers: the browser has no aligned allocator, nor needs one). */
function hostBuffers(values: ReadonlyMap<string, HostTensor>): Map<string, ArrayBuffer> {
  const out = new Map<string, ArrayBuffer>();
  for (const [path, t] of values) {
    const buf = new ArrayBuffer(shapeSize(t.shape) * ELEMENT_BYTES[t.dtype]);
    storeInto(t, new Uint8Array(buf));
    out.set(path, buf);
  }
  return out;
}

/**
 * Loads the module folder at `url` (`new URL('./mnist/', location.href)`, or a path relative to
 * the page) and resolves with a model whose functions run on the page's GPU.
 */
export async function load(url: string | URL, opts: BrowserLoadOptions = {}): Promise<WebModel> {
  const base = new URL(String(url), globals.location?.href);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const get = opts.fetch ?? globals.fetch;
  if (!get) throw new PlanFormatError('no fetch here to read the module with');
  const fetched = async (file: string, what: string) => {
    let r: Awaited<ReturnType<Fetch>>;
    try {
      r = await get(file);
    } catch (e) {
      throw new PlanFormatError(`${file}: cannot read ${what}: ${(e as Error).message}`);
    }
    if (!r.ok) throw new PlanFormatError(`${file}: cannot read ${what}: HTTP ${r.status}`);
    return r;
  };
  const join = (root: string, file: string) => new URL(file, root).href;
  const manifestFile = join(base.href, MANIFEST_FILE);
  const manifest = parseManifest(await (await fetched(manifestFile, 'the module manifest')).text(), manifestFile);
  if (manifest.target !== 'wgsl')
    throw new PlanFormatError(
      `${manifestFile}: a module of the ${manifest.target === 'cuda' ? 'CUDA' : 'C'} target runs in Node only; compile it with --target wgsl`,
    );
  if (manifest.train) throw new PlanFormatError(`${manifestFile}: training runs in Node only`);
  const device = opts.device ? Promise.resolve(opts.device) : pageDevice();
  device.catch(() => {}); // awaited below; meanwhile, the files load
  const names = kernelFiles(manifest).map((f) => join(base.href, f));
  const texts = new Map(
    await Promise.all(
      names.map(async (f, i) => [f, await (await fetched(f, `WGSL kernel file ${i}`)).text()] as const),
    ),
  );
  const plans = manifest.fns.map(([, obj]) => `${JSON.stringify(obj)}\n`);
  const hashes = await digests([...texts.values(), ...plans]);
  const io: ModuleIo = {
    join,
    readText: (file, what) => {
      const t = texts.get(file);
      if (t === undefined) throw new PlanFormatError(`${file}: cannot read ${what}: not fetched`);
      return t;
    },
    sha256: (t) => {
      const h = hashes.get(t);
      if (h === undefined) throw new Error('internal: a text was hashed that was not fetched');
      return h;
    },
  };
  const fns = manifest.fns.map(([fn, obj, src]) => readWgslFunction(base.href, fn, obj, src, io));
  const weightsFile = join(base.href, WEIGHTS_FILE);
  const bytes = new Uint8Array(await (await fetched(weightsFile, 'the weights')).arrayBuffer());
  const tensors = readStoredSafetensors(bytes, weightsFile).tensors;
  const weights = hostBuffers(
    matchWeights(
      tensors,
      fns.map((f) => f.plan),
      manifest.dims,
      weightsFile,
    ),
  );
  const gpu = await device;
  const exes = fns.map(
    (f) => [f.fn, new GpuExecutable(f.plan, f.program, loadProgram(gpu, f.program), weights)] as const,
  );
  return new WebModel(manifest.model, new Map(exes));
}
