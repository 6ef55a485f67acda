// The canonical text of a module's hints and train config, printed above a graph dump:
//
//   // hint block "blocks" checkpoint
//   // hint block "lm_head" precision(f32)
//   // hint param "fc1.w" quantize(int8, symmetric) sparse(2:4)
//   // train optimizer = adamw(lr = 0.0003, betas = (0.9, 0.95), eps = 1e-8, weight_decay = 0.1), ...
//
// Block lines, then param lines, each sorted by path (numeric segments by value, so
// `blocks.2` comes before `blocks.10`); a line's kinds in the order precision, quantize,
// sparse, checkpoint. Paths are JSON strings (they are user text), numbers are exact
// (formatNumber). Every line is a `//` comment, so parse.ts reads a dump that includes
// them; the text is for reading and golden tests, not parsed back.

import type { Hint, Module, Optimizer, Schedule, TrainConfig } from './module.js';
import { formatName, formatNumber, formatString } from './print.js';

/** The hint and train lines of `m`, each ending in a newline; '' when there are none. */
export function printHints(m: Pick<Module, 'hints' | 'train'>): string {
  const lines: string[] = [];
  for (const [what, map] of [
    ['block', m.hints.blocks],
    ['param', m.hints.params],
  ] as const) {
    const paths = [...map.keys()].sort(comparePaths);
    for (const p of paths) {
      const text = hintText(map.get(p)!);
      if (text) lines.push(`// hint ${what} ${formatString(p)} ${text}`);
    }
  }
  if (m.train) lines.push(`// train ${trainText(m.train)}`);
  return lines.map((l) => `${l}\n`).join('');
}

/** Orders dotted paths segment by segment, numeric segments by value. */
export function comparePaths(a: string, b: string): number {
  const xs = a === '' ? [] : a.split('.');
  const ys = b === '' ? [] : b.split('.');
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (x === y) continue;
    const numeric = /^\d+$/.test(x) && /^\d+$/.test(y);
    if (numeric && Number(x) !== Number(y)) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return xs.length - ys.length;
}

const n = formatNumber;

/** `precision(f32) quantize(int4, group = 128, symmetric) sparse(2:4) checkpoint`, the kinds set. */
export function hintText(h: Hint): string {
  const parts: string[] = [];
  if (h.precision) parts.push(`precision(${h.precision})`);
  if (h.quantize) {
    const q = h.quantize;
    const group = q.group !== undefined ? `, group = ${n(q.group)}` : '';
    parts.push(`quantize(${q.dtype}${group}, ${q.symmetric ? 'symmetric' : 'asymmetric'})`);
  }
  if (h.sparse) {
    const s = h.sparse;
    parts.push(
      s.kind === 'n:m' ? `sparse(${n(s.n)}:${n(s.m)})` : `sparse(block = ${n(s.block)}, density = ${n(s.density)})`,
    );
  }
  if (h.checkpoint) parts.push('checkpoint');
  return parts.join(' ');
}

function optimizerText(o: Optimizer): string {
  if (o.kind === 'sgd') {
    return `sgd(lr = ${n(o.lr)}, momentum = ${n(o.momentum)}, nesterov = ${o.nesterov}, weight_decay = ${n(o.weightDecay)})`;
  }
  const betas = `(${n(o.betas[0])}, ${n(o.betas[1])})`;
  return `${o.kind}(lr = ${n(o.lr)}, betas = ${betas}, eps = ${n(o.eps)}, weight_decay = ${n(o.weightDecay)})`;
}

function scheduleText(s: Schedule): string {
  switch (s.kind) {
    case 'constant':
      return 'constant()';
    case 'linear':
      return `linear(warmup = ${n(s.warmup)}, steps = ${n(s.steps)})`;
    case 'cosine':
      return `cosine(warmup = ${n(s.warmup)}, steps = ${n(s.steps)}, min_lr = ${n(s.minLr)})`;
    case 'step':
      return `step(every = ${n(s.every)}, gamma = ${n(s.gamma)})`;
  }
}

/** Every setting, defaults included, in the order of TrainConfig; unset optional ones left out. */
export function trainText(t: TrainConfig): string {
  const scale = typeof t.lossScale === 'number' ? n(t.lossScale) : t.lossScale;
  const items = [
    `optimizer = ${optimizerText(t.optimizer)}`,
    `schedule = ${scheduleText(t.schedule)}`,
    `loss = ${formatName(t.loss)}`,
    `precision = ${t.precision}`,
    `loss_scale = ${scale}`,
    `accumulate = ${n(t.accumulate)}`,
  ];
  if (t.clip !== undefined) items.push(`clip = ${n(t.clip)}`);
  if (t.batch !== undefined) items.push(`batch = ${n(t.batch)}`);
  if (t.steps !== undefined) items.push(`steps = ${n(t.steps)}`);
  if (t.prune)
    items.push(`prune = gradual(start = ${n(t.prune.start)}, end = ${n(t.prune.end)}, every = ${n(t.prune.every)})`);
  return items.join(', ');
}
