// fmc in a browser: load() a folder written by `fmc compile --target wgsl` and run it on
// `navigator.gpu`. Bundled into one ES module, dist/browser/fmc.js (scripts/build-browser.mjs),
// which `fmc compile --target wgsl --browser` copies next to the module as fmc.js. A page maps
// the bare name `fmc` to it with an import map, so the module's own index.mjs imports the same
// way in Node and in the browser (docs/browser.md).

export { type BrowserLoadOptions, type Fetch, load } from './load.js';
export { WebModel } from './model.js';
export { Tensor, TensorError } from '../runtime/tensor.js';
export { RunError } from '../runtime/run-args.js';
export { WebGpuError } from '../runtime/webgpu.js';
export { PlanFormatError } from '../runtime/plan-json.js';
export { SafetensorsError } from '../runtime/safetensors-codec.js';
