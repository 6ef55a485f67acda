// The seed models with smaller hyperparameters, for tests that run them many times on the
// float64 interpreter (gradients): the defaults in each `model Name(...)` header are
// replaced, and the variant is written next to nothing else (std imports resolve anyway).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Per seed model: the hyperparameter defaults to replace (every model is listed). */
export const SMALL: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  bert: { vocab: 60, max_len: 16, d: 32, heads: 4, ffn: 64, layers: 2 },
  cnn: { size: 16, width: 8, hidden: 32 },
  conformer: { features: 16, d: 32, heads: 4, ffn: 64, kernel: 7, layers: 2, classes: 40 },
  hybrid_vit: { image: 32, d: 32, heads: 4, mlp_dim: 64, layers: 2, classes: 20 },
  mlp: { pixels: 64, hidden1: 32, hidden2: 16 },
  moe_lm: { vocab: 60, d: 32, layers: 2, heads: 4, hidden: 48, experts: 4 },
  // @quantize(int4, group = 128) needs d and hidden to be multiples of 128.
  swa_lm: { vocab: 60, d: 128, layers: 2, heads: 4, kv_heads: 2, hidden: 256, window: 4 },
};

/** The source of a seed model with `overrides` as its hyperparameter defaults. */
export function smallSource(model: string, overrides: Readonly<Record<string, number>> = SMALL[model]!): string {
  const text = fs.readFileSync(path.join(ROOT, 'models', `${model}.fm`), 'utf8');
  const head = /\nmodel \w+\(([^)]*)\)/.exec(text);
  if (!head) throw new Error(`${model}: no model header`);
  let params = head[1]!;
  for (const [k, v] of Object.entries(overrides)) {
    const re = new RegExp(`(\\b${k}\\s*=\\s*)[0-9.e+-]+`);
    if (!re.test(params)) throw new Error(`${model}: no hyperparameter ${k} with a numeric default`);
    params = params.replace(re, `$1${v}`);
  }
  return text.slice(0, head.index) + head[0].replace(head[1]!, params) + text.slice(head.index + head[0].length);
}

/** Writes the small variant of `model` to a temp folder and returns its path. */
export function smallModelFile(model: string, overrides?: Readonly<Record<string, number>>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-small-'));
  const file = path.join(dir, `${model}.fm`);
  fs.writeFileSync(file, smallSource(model, overrides));
  return file;
}
