// The browser loader (src/browser, bundled as fmc.js) on a module folder that
// `fmc compile --target wgsl` wrote, driven from Node: its fetch reads the folder, WebCrypto
// is Node's, and the GPUDevice is the `webgpu` package's. It gives what load() gives, and
// refuses what load() refuses (edited kernels, plans or weights, a C module, a kernel file
// name with a folder in it, which it never fetches). The runs are skipped, with the reason
// printed, where WebGPU has no adapter; the refusals need none.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { browserBundlePath } from '../../src/cli/browser-bundle.js';
import { type Fetch, load as browserLoad } from '../../src/browser/load.js';
import { load } from '../../src/api/load.js';
import { nodeGpuDevice, webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { fmc, tempDir } from '../api/helpers.js';

const why = await webgpuUnavailable();
if (why) console.warn(`skipping the runs of the browser loader: ${why}`);

const root = tempDir('browser-loader');
const MODULE = path.join(root, 'mlp');
const c = fmc('compile', 'models/mlp.fm', '--target', 'wgsl', '--browser', '-o', MODULE);
if (c.code !== 0) throw new Error(c.err);

// The other modules the refusals use: smaller weights, and the C target.
for (const [name, args] of [
  ['small', ['--target', 'wgsl', '--set', 'hidden1=8']],
  ['c', ['--target', 'c']],
] as const) {
  const r = fmc('compile', 'models/mlp.fm', ...args, '-o', path.join(root, name));
  if (r.code !== 0) throw new Error(r.err);
}

/** A copy of the module, edited by `edit`. */
function variant(name: string, edit: (dir: string) => void): string {
  const dir = path.join(root, name);
  fs.cpSync(MODULE, dir, { recursive: true });
  edit(dir);
  return dir;
}

/** A fetch of file: URLs that records what it was asked for. */
function diskFetch(asked: string[] = []): Fetch {
  return async (url) => {
    asked.push(url);
    const file = new URL(url);
    const bytes = fs.existsSync(file) ? fs.readFileSync(file) : undefined;
    return {
      ok: bytes !== undefined,
      status: bytes ? 200 : 404,
      text: async () => bytes!.toString('utf8'),
      arrayBuffer: async () => new Uint8Array(bytes!).buffer,
    };
  };
}

const open = (dir: string, asked?: string[]) => browserLoad(pathToFileURL(dir), { fetch: diskFetch(asked) });

describe('the browser loader', () => {
  it('is one ES module with no imports, written beside the module by --browser, and fmc/browser', async () => {
    const bundle = fs.readFileSync(path.join(MODULE, 'fmc.js'), 'utf8');
    expect(bundle).toBe(fs.readFileSync(browserBundlePath(), 'utf8'));
    expect(bundle).not.toMatch(/^\s*import\b|\brequire\(|from\s*["']node:/m);
    expect(bundle).toMatch(/export \{[^}]*\bload\b[^}]*\}/);
    // The package exports it as fmc/browser.
    const exp = (await import('fmc/browser')) as { load?: unknown; Tensor?: unknown };
    expect([typeof exp.load, typeof exp.Tensor]).toEqual(['function', 'function']);
  });

  it.skipIf(why !== '')('runs a module as load() runs it', async () => {
    const model = await browserLoad(pathToFileURL(MODULE), { fetch: diskFetch(), device: await nodeGpuDevice() });
    expect(model.name).toBe('MLP');
    expect(model.functions).toEqual(load(MODULE).functions);
    expect(model.inputs()).toEqual(load(MODULE).inputs());
    expect(model.outputs('forward')).toEqual([{ name: 'logits', dtype: 'f32', shape: ['B', 10] }]);
    const images = new Tensor(
      'f32',
      new Float32Array(3 * 784).map((_, i) => ((i * 13) % 29) / 29),
      [3, 784],
    );
    const got = await model.runAsync({ images });
    const want = await load(MODULE).runAsync({ images });
    expect([...got.logits!.data]).toEqual([...want.logits!.data]);
    expect(() => model.run()).toThrow(/use runAsync/);
    await expect(model.runAsync('nope', { images })).rejects.toThrow(/no compiled function 'nope'/);
  });

  it('refuses what load() refuses', async () => {
    const kernel = (dir: string) => path.join(dir, 'forward.k0.wgsl');
    const edited = variant('edited-kernel', (d) => fs.appendFileSync(kernel(d), '\n// edited\n'));
    await expect(open(edited)).rejects.toThrow(/forward\.k0\.wgsl: the WGSL source does not match plan\.json/);
    expect(() => load(edited)).toThrow(/the WGSL source does not match plan\.json/);

    const plan = variant('edited-plan', (d) => {
      const f = path.join(d, 'plan.json');
      fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('"workgroup": 64', '"workgroup": 32'));
    });
    await expect(open(plan)).rejects.toThrow(/plan\.json does not match the WGSL sources/);

    const weights = variant('other-weights', (d) =>
      fs.copyFileSync(path.join(root, 'small', 'weights.safetensors'), path.join(d, 'weights.safetensors')),
    );
    // (fc1's weight is stored as its @quantize(int8) q, an i8 tensor.)
    await expect(open(weights)).rejects.toThrow(/weights: tensor "[^"]+" is (f32|i8)\[[0-9, ]+\], the plan needs/);

    const asked: string[] = [];
    const escape = variant('escape', (d) => {
      const f = path.join(d, 'plan.json');
      fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('"file": "forward.k0.wgsl"', '"file": "../x.k0.wgsl"'));
    });
    await expect(open(escape, asked)).rejects.toThrow(/kernel 0 of 'forward' has no valid source entry/);
    expect(asked.filter((u) => u.includes('x.k0'))).toEqual([]);

    await expect(open(path.join(root, 'c'))).rejects.toThrow(/a module of the C target runs in Node only/);
    await expect(open(path.join(root, 'missing'))).rejects.toThrow(
      /plan\.json: cannot read the module manifest: HTTP 404/,
    );
  });
});
