// The demo page: a digit drawn on #pad becomes a 28 × 28 image as MNIST's digits were made
// (the ink's bounding box scaled to 20 × 20 pixels, its centre of mass put at the centre), and
// the compiled model classifies it on WebGPU. The model is the module's own index.mjs, the
// file Node imports too: its `import 'fmc'` is the browser bundle here (the page's import
// map). window.fmcDemo runs the model on given pixels (the browser test uses it).

import { Tensor } from 'fmc';

const $ = (id) => document.getElementById(id);
const pad = $('pad');
const padCtx = pad.getContext('2d', { willReadFrequently: true });
const status = $('status');

const ready = (async () => {
  if (!navigator.gpu) throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('WebGPU has no adapter here');
  const t0 = performance.now();
  const module = await import('./model/index.mjs');
  // The first run waits for the kernels' pipelines.
  await module.forward({ images: new Tensor('f32', new Float32Array(784), [1, 1, 28, 28]) });
  const info = adapter.info ?? {};
  return {
    forward: module.forward,
    adapter: [info.vendor, info.architecture, info.description].filter(Boolean).join(' '),
    loadMs: Math.round(performance.now() - t0),
    kernels: module.default.executable('forward').plan.kernels.length,
  };
})();

/** The model's logits for 784 pixels in [0, 1], and how long the run took. */
async function classify(pixels) {
  const { forward } = await ready;
  const t0 = performance.now();
  const out = await forward({ images: new Tensor('f32', Float32Array.from(pixels), [1, 1, 28, 28]) });
  return { logits: Array.from(out.logits.data), ms: performance.now() - t0 };
}

/** The drawing as MNIST's 28 × 28 (all zeros when nothing is drawn). */
function digitFromPad() {
  const { width, height } = pad;
  const img = padCtx.getImageData(0, 0, width, height).data;
  let [minX, minY, maxX, maxY, mass, cx, cy] = [width, height, -1, -1, 0, 0, 0];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const v = img[(y * width + x) * 4] / 255;
      if (v < 0.05) continue;
      [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
      mass += v;
      cx += v * x;
      cy += v * y;
    }
  if (maxX < 0) return new Float32Array(784);
  const [w, h] = [maxX - minX + 1, maxY - minY + 1];
  const s = 20 / Math.max(w, h);
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  const ctx = small.getContext('2d', { willReadFrequently: true });
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, 28, 28);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(pad, minX, minY, w, h, 14 - (cx / mass - minX) * s, 14 - (cy / mass - minY) * s, w * s, h * s);
  const px = ctx.getImageData(0, 0, 28, 28).data;
  return Float32Array.from({ length: 784 }, (_, i) => px[i * 4] / 255);
}

/** Shows the 28 × 28 input and the probabilities. */
function show(pixels, logits, ms) {
  const seen = $('seen').getContext('2d');
  const img = seen.createImageData(28, 28);
  pixels.forEach((v, i) => {
    img.data.set([v * 255, v * 255, v * 255, 255], i * 4);
  });
  seen.putImageData(img, 0, 0);
  const top = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - top));
  const sum = e.reduce((a, b) => a + b, 0);
  const best = logits.indexOf(top);
  $('bars').replaceChildren(
    ...e.map((v, d) => {
      const li = document.createElement('li');
      li.className = d === best ? 'top' : '';
      const p = (100 * v) / sum;
      li.innerHTML = `<span>${d}</span><span class="bar"><span style="width:${p.toFixed(1)}%"></span></span><span>${p.toFixed(1)} %</span>`;
      return li;
    }),
  );
  $('answer').textContent = pixels.some((v) => v > 0) ? String(best) : '…';
  $('answer').dataset.digit = String(best);
  ready.then((r) => {
    status.textContent = `WebGPU: ${r.adapter || 'an adapter'} · ${r.kernels} WGSL kernels · loaded in ${r.loadMs} ms · this run ${ms.toFixed(1)} ms`;
  });
}

let busy = false;
let again = false;
/** Classifies the drawing (once more after the current run when it changed meanwhile). */
async function update() {
  if (busy) return void (again = true);
  busy = true;
  try {
    const pixels = digitFromPad();
    const { logits, ms } = await classify(pixels);
    show(pixels, logits, ms);
  } finally {
    busy = false;
    if (again) {
      again = false;
      void update();
    }
  }
}

// Drawing: thick round white strokes, classified as they are drawn.
padCtx.fillStyle = '#000';
padCtx.fillRect(0, 0, pad.width, pad.height);
let last;
pad.addEventListener('pointerdown', (e) => {
  pad.setPointerCapture(e.pointerId);
  last = [e.offsetX, e.offsetY];
});
pad.addEventListener('pointermove', (e) => {
  if (!last) return;
  padCtx.strokeStyle = '#fff';
  padCtx.lineWidth = 20;
  padCtx.lineCap = padCtx.lineJoin = 'round';
  padCtx.beginPath();
  padCtx.moveTo(...last);
  padCtx.lineTo(e.offsetX, e.offsetY);
  padCtx.stroke();
  last = [e.offsetX, e.offsetY];
  void update();
});
pad.addEventListener('pointerup', () => {
  last = undefined;
  void update();
});
$('clear').addEventListener('click', () => {
  padCtx.fillRect(0, 0, pad.width, pad.height);
  void update();
});

/** Draws sample digit `i` on the pad (scaled up) and classifies it as drawn. */
async function showSample(samples, i) {
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  const ctx = small.getContext('2d');
  const img = ctx.createImageData(28, 28);
  samples[i].pixels.forEach((v, j) => img.data.set([v * 255, v * 255, v * 255, 255], j * 4));
  ctx.putImageData(img, 0, 0);
  padCtx.imageSmoothingEnabled = true;
  padCtx.drawImage(small, 0, 0, pad.width, pad.height);
  await update();
}

const samples = fetch('samples.json').then((r) => r.json());
samples.then((list) =>
  $('samples').replaceChildren(
    ...list.map((s, i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = String(s.label);
      b.addEventListener('click', () => void showSample(list, i));
      return b;
    }),
  ),
);

ready.then(
  (r) => {
    status.textContent = `WebGPU: ${r.adapter || 'an adapter'} · ${r.kernels} WGSL kernels · loaded in ${r.loadMs} ms`;
    document.body.dataset.state = 'ready';
  },
  (e) => {
    status.textContent = `The model cannot run here: ${e.message}`;
    document.body.dataset.state = 'error';
  },
);

window.fmcDemo = {
  ready: ready.then((r) => ({ adapter: r.adapter, loadMs: r.loadMs, kernels: r.kernels })),
  classify: async (pixels) => (await classify(pixels)).logits,
  showSample: async (i) => showSample(await samples, i),
  /** Resolves once the drawing's last change is classified. */
  idle: async () => {
    while (busy || again) await new Promise((r) => setTimeout(r, 20));
  },
};
