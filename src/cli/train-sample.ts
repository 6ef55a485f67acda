// Text a trained character-level language model writes: starting from the first window of
// the data, `forward` gives the next token's logits at the last position; a token is drawn
// from softmax(logits / 0.8) with seeded Philox numbers, appended, and the window slides on.

import type { Vocabulary } from '../data/index.js';
import { uniformStream } from '../ir/philox.js';
import type { StepExecutable } from '../runtime/trainer.js';
import { Tensor } from '../runtime/tensor.js';
import type { OpenedData } from './train-data.js';

const TEMPERATURE = 0.8;

export async function sampleText(
  forward: StepExecutable,
  data: OpenedData,
  decode: (tokens: ArrayLike<number>, v: Vocabulary) => string,
  count: number,
  seed: number,
): Promise<string> {
  const input = forward.plan.inputs[0]!;
  const prompt = data.dataset.batch([0]).get(input.name);
  if (!prompt || prompt.shape.length !== 2) throw new Error(`forward's input '${input.name}' is not a token window`);
  const window = prompt.shape[1]!;
  const tokens = Array.from(prompt.data);
  const u = uniformStream(seed, 'fmc train --sample', count);
  for (let i = 0; i < count; i++) {
    const x = Int32Array.from(tokens.slice(-window));
    const out = Object.values(await forward.runAsync({ [input.name]: new Tensor('i32', x, [1, x.length]) }))[0]!;
    const vocab = out.dims.at(-1)!;
    const z = (out.data as Float32Array).subarray((x.length - 1) * vocab, x.length * vocab);
    const max = Math.max(...z);
    const p = Array.from(z, (v) => Math.exp((v - max) / TEMPERATURE));
    let r = u[i]! * p.reduce((a, b) => a + b, 0);
    let k = 0;
    while (k < vocab - 1 && (r -= p[k]!) > 0) k++;
    tokens.push(k);
  }
  return decode(tokens, data.vocabulary!);
}
