// A typed fmc module in use: `fmc compile models/mlp.fm -o examples/typed-module/mlp` wrote
// ./mlp (C sources, plan.json, weights, index.mjs and index.d.mts). Importing it builds the C
// through fmc's compile cache; `forward` is typed with the model's shapes, so passing
// f32[1, 783], or an i32 tensor, is a TypeScript error rather than a run-time one.

import { Tensor } from 'fmc';
import model, { forward } from './mlp/index.mjs';

// One 28x28 "image" with a deterministic pattern (real code would read an MNIST digit).
const batch = 1;
const pixels = new Float32Array(batch * 784).map((_, i) => ((i * 37) % 256) / 255);
// The `const` type parameter makes this a Tensor<'f32', readonly [1, 784]>.
const images = new Tensor('f32', pixels, [batch, 784]);

const { logits } = forward({ images });
// logits.dims is typed `readonly [number, 10]`: the class count is known statically.
const classes: 10 = logits.dims[1];
const first = [...logits.data.slice(0, 4)].map((v) => v.toFixed(4));
const best = logits.data.indexOf(Math.max(...logits.data));

console.log(`model ${model.name}: functions ${model.functions.join(', ')}`);
console.log(`logits: ${logits.dtype}[${logits.dims.join(', ')}] (${classes} classes)`);
console.log(`first values: ${first.join(', ')}`);
console.log(`predicted class: ${best}`);
