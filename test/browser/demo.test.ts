// The browser demo (fmc serve-demo) in headless Chromium: the page loads the module that
// `fmc compile --target wgsl --browser` wrote, through the same index.mjs Node imports, and
// computes on the page's WebGPU what fmc computes in Node (WGSL on Dawn) and what the reference
// interpreter computes. The server answers only for the demo's own files. Chromium's tests are
// skipped, with the reason printed, where Chromium or its WebGPU adapter is missing; the Node
// comparison where the `webgpu` package has no adapter.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lowerModel, readWeights } from '../../src/api/compile.js';
import { load } from '../../src/api/load.js';
import { DEMO_MODEL, buildDemo, demoRoutes, serveRoutes } from '../../src/cli/serve-demo.js';
import { evaluate } from '../../src/ir/interp.js';
import { withQuantized } from '../../src/ir/quantize.js';
import { webgpuUnavailable } from '../../src/runtime/node-webgpu.js';
import { piped } from '../../src/runtime/compile.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { CACHE, ROOT, tempDir } from '../api/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
/** The flag Chromium needs for WebGPU on Linux (its adapter there is SwiftShader without a GPU). */
const ARGS = ['--enable-unsafe-webgpu'];

const dir = tempDir('demo');
const errors: string[] = [];
buildDemo({ out: () => {}, err: (s) => void errors.push(s), color: false }, dir);
const server = await serveRoutes(demoRoutes(dir), 0);
afterAll(() => server.close());
const samples = JSON.parse(fs.readFileSync(path.join(dir, 'samples.json'), 'utf8')) as {
  label: number;
  pixels: number[];
}[];

type Browser = import('playwright-core').Browser;
type Page = import('playwright-core').Page;

/** Chromium with the demo open and its model ready, or why not. */
async function openDemo(): Promise<{ browser: Browser; page: Page } | string> {
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} is not installed (apt-get install chromium)`;
  let browser: Browser;
  try {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  } catch (e) {
    return `Chromium does not start: ${(e as Error).message.split('\n')[0]}`;
  }
  const page = await browser.newPage({ viewport: { width: 800, height: 500 } });
  await page.goto(server.url);
  const adapter = await page.evaluate(async () => {
    const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return gpu ? ((await gpu.requestAdapter()) ? '' : 'Chromium has no WebGPU adapter') : 'navigator.gpu is missing';
  });
  if (adapter) {
    await browser.close();
    return adapter;
  }
  return { browser, page };
}

const opened = await openDemo();
if (typeof opened === 'string') console.warn(`skipping the demo in headless Chromium: ${opened}`);
afterAll(() => (typeof opened === 'string' ? undefined : opened.browser.close()));
const nodeWhy = await webgpuUnavailable();
if (nodeWhy) console.warn(`skipping the comparison with WGSL in Node: ${nodeWhy}`);

/** Fixed inputs: the ten sample digits, a blank image and a pattern. */
const inputs = [
  ...samples.map((s) => s.pixels),
  new Array<number>(784).fill(0),
  Array.from({ length: 784 }, (_, i) => ((i * 37) % 101) / 101),
].map((px) => px.map(Math.fround));

describe('the demo server', () => {
  const get = (p: string, headers: Record<string, string> = {}, method = 'GET') =>
    new Promise<{ status: number; type: string }>((resolve, reject) => {
      const req = http.request(server.url, { path: p, method, headers }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, type: String(res.headers['content-type']) });
      });
      req.on('error', reject);
      req.end();
    });

  it('serves the page, the samples and the module, and nothing else', async () => {
    expect(errors.join('')).toMatch(/^fmc: wrote /);
    expect(await get('/')).toEqual({ status: 200, type: 'text/html; charset=utf-8' });
    expect((await get('/model/fmc.js')).status).toBe(200);
    expect((await get('/model/index.mjs')).type).toBe('text/javascript; charset=utf-8');
    expect((await get('/model/plan.json')).status).toBe(200);
    expect((await get('/samples.json')).status).toBe(200);
    for (const p of [
      '/../package.json',
      '/model/../../package.json',
      '/%2e%2e/package.json',
      '/model/%2e%2e%2fsamples.json',
      '/model/',
      '//etc/passwd',
      '/demo.js/',
      '/index.html%00',
    ])
      expect((await get(p)).status, p).toBe(404);
    expect((await get('/', { host: 'attacker.example' })).status).toBe(403);
    expect((await get('/', {}, 'POST')).status).toBe(405);
  });
});

describe('fmc serve-demo', () => {
  it('builds the demo, prints its address and serves the page until stopped', { timeout: 120_000 }, async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'fmc.js'), 'serve-demo', '--port', '0'], {
      cwd: ROOT,
      env: { ...process.env, FMC_CACHE_DIR: CACHE },
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /the demo is at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`fmc serve-demo exited with ${code}: ${out}`)));
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<canvas id="pad"');
      expect((await fetch(`${url}model/plan.json`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});

describe.skipIf(typeof opened === 'string')('the demo in headless Chromium', () => {
  const page = () => (opened as { page: Page }).page;

  it(
    'computes what fmc computes in Node and what the reference interpreter computes',
    { timeout: 180_000 },
    async () => {
      const ready = await page().evaluate(() =>
        (window as unknown as { fmcDemo: { ready: Promise<{ kernels: number }> } }).fmcDemo.ready.then(
          (r) => r,
          (e: Error) => ({ error: e.message }),
        ),
      );
      // The page runs the compiled module's forward: as many kernels as the module Node loads.
      expect(ready).toMatchObject({ kernels: expect.any(Number) });
      const kernels = (ready as { kernels: number }).kernels;
      const compiled = nodeWhy ? undefined : load(path.join(dir, 'model')).executable('forward').plan.kernels.length;
      if (compiled === undefined) expect(kernels).toBeGreaterThan(0);
      else expect(kernels).toBe(compiled);
      const inBrowser: number[][] = [];
      for (const px of inputs)
        inBrowser.push(
          await page().evaluate(
            (p) => (window as unknown as { fmcDemo: { classify(p: number[]): Promise<number[]> } }).fmcDemo.classify(p),
            px,
          ),
        );

      const [l] = lowerModel(DEMO_MODEL.file, { set: { channels: 1, size: 28, hidden: 64 }, fns: ['forward'] });
      // The compiled graph: fc1 carries @quantize(int8), so its int8 weights are derived as the module's are.
      const g = piped(l!, {}).graph;
      const params = withQuantized([g], readWeights(l!, DEMO_MODEL.weights, new Map()));
      const node = nodeWhy ? undefined : load(path.join(dir, 'model'));
      for (const [k, px] of inputs.entries()) {
        const got = inBrowser[k]!;
        expect(got.length).toBe(10);
        // The interpreter takes seconds an image: every third digit, the blank and the pattern.
        if (k % 3 === 0 || k >= 10) {
          const image = { dtype: 'f32' as const, shape: [1, 1, 28, 28], data: Float64Array.from(px) };
          const bind = { inputs: new Map([['images', image]]), params, dims: new Map<string, number>() };
          const ref = evaluate(g, bind).outputs.get('logits')!.data;
          got.forEach((v, i) =>
            expect(Math.abs(v - ref[i]!), `input ${k}, logit ${i}`).toBeLessThan(1e-4 + 1e-4 * Math.abs(ref[i]!)),
          );
        }
        if (node) {
          const out = await node.runAsync({ images: new Tensor('f32', Float32Array.from(px), [1, 1, 28, 28]) });
          [...out.logits!.data].forEach((v, i) =>
            expect(Math.abs(v - got[i]!), `input ${k}, logit ${i}`).toBeLessThan(1e-5),
          );
        }
      }
      // The trained weights know the ten sample digits (which training may have seen: a sanity check).
      const predicted = inBrowser.slice(0, 10).map((l) => l.indexOf(Math.max(...l)));
      expect(predicted).toEqual(samples.map((s) => s.label));
    },
  );

  it('classifies a digit drawn on the canvas', { timeout: 120_000 }, async () => {
    const p = page();
    const box = (await p.locator('#pad').boundingBox())!;
    // A "3", drawn with the mouse as a person would.
    const stroke = [
      [90, 70],
      [140, 55],
      [185, 75],
      [180, 115],
      [140, 135],
      [185, 160],
      [190, 205],
      [145, 230],
      [90, 215],
    ];
    await p.mouse.move(box.x + stroke[0]![0]!, box.y + stroke[0]![1]!);
    await p.mouse.down();
    for (const [x, y] of stroke.slice(1)) await p.mouse.move(box.x + x!, box.y + y!, { steps: 6 });
    await p.mouse.up();
    await p.evaluate(() => (window as unknown as { fmcDemo: { idle(): Promise<void> } }).fmcDemo.idle());
    expect(await p.textContent('#answer')).toBe('3');
    const shot = process.env.FMC_DEMO_SCREENSHOT;
    if (shot) await p.screenshot({ path: shot });
  });
});
