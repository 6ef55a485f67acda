// WebGPU in Node: the `webgpu` package (Dawn), an optional peer dependency, imported at the
// first use. Where no Vulkan driver is configured (VK_ICD_FILENAMES unset) and Chromium's
// SwiftShader is installed, Dawn runs on it (a CPU implementation of Vulkan). The GPU object
// `create([])` returns is kept for the life of the process: Dawn crashes when it is collected
// while a device is in use. A browser uses `navigator.gpu` instead (webgpu.ts).

import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { type WgslProgram, WebGpuError, loadProgram, requestGpuDevice, type WebGpuDevice } from './webgpu.js';
import type { Gpu, GpuDevice } from './webgpu-types.js';

/** Where Debian's chromium package puts SwiftShader's Vulkan driver manifest. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let gpu: Promise<{ gpu: Gpu; device: GpuDevice }> | undefined;

/** The `webgpu` package's GPU object, or a WebGpuError saying what is missing. */
async function nodeGpu(): Promise<Gpu> {
  if (process.env.VK_ICD_FILENAMES === undefined && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    // Without one, the Vulkan loader prints "XDG_RUNTIME_DIR is invalid" on every start.
    if (process.env.XDG_RUNTIME_DIR === undefined) {
      const dir = join(tmpdir(), `fmc-xdg-${userInfo().uid}`);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      process.env.XDG_RUNTIME_DIR = dir;
    }
  }
  let pkg: { create(options: string[]): unknown; globals: object };
  try {
    const name = 'webgpu'; // not a literal import: TypeScript need not find the optional package
    pkg = (await import(name)) as typeof pkg;
  } catch (e) {
    throw new WebGpuError(
      `the WGSL target needs the \`webgpu\` package (Dawn for Node), which is not installed: npm install webgpu (${(e as Error).message.split('\n')[0]})`,
    );
  }
  return pkg.create([]) as Gpu;
}

/** The process's GPUDevice (made once): a WebGpuError names the missing package or adapter. */
export function nodeGpuDevice(): Promise<GpuDevice> {
  gpu ??= (async () => {
    const g = await nodeGpu();
    const device = await requestGpuDevice(g);
    return { gpu: g, device };
  })();
  // A failure is not cached: installing the package or a driver and trying again works.
  return gpu.then(
    (x) => x.device,
    (e: unknown) => {
      gpu = undefined;
      throw e;
    },
  );
}

/** A program's pipelines on the process's GPUDevice. */
export async function loadNodeProgram(program: WgslProgram): Promise<WebGpuDevice> {
  return loadProgram(await nodeGpuDevice(), program);
}

/** Why WebGPU cannot run here ('' when it can): tests print it when they skip. */
export async function webgpuUnavailable(): Promise<string> {
  try {
    await nodeGpuDevice();
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}
