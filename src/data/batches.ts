// Batches for training: a held-out validation split, a fresh shuffle of the training samples each
// epoch, fixed-size batches, and a position {epoch, offset} that a checkpoint saves so a resumed
// run sees exactly the batches an uninterrupted one would (docs/data.md).
//
// Everything is a function of the seed: the split is the first V samples of the dataset's indices
// shuffled with key "split" (V from the options), then both parts sorted ascending; epoch e visits
// the training samples in their order shuffled with key "epoch <e>" (shuffle.ts). Batch k of an
// epoch is samples [k·B, (k + 1)·B) of that order; the last partial batch is dropped, so an epoch
// is floor(training samples / B) batches and every batch has exactly B samples.

import type { HostTensor } from '../ir/value.js';
import { DataError, type Dataset } from './dataset.js';
import { shuffled } from './shuffle.js';

/** Where a run is: the next batch is batch `offset` (0-based) of epoch `epoch` (0-based). JSON-safe. */
export interface BatchPosition {
  readonly epoch: number;
  readonly offset: number;
}

/** Held-out samples: a fraction of the dataset (rounded to the nearest count) or a count. */
export type ValidationSplit = { readonly fraction: number } | { readonly count: number };

export interface BatchOptions {
  /** B: samples per batch. */
  readonly batchSize: number;
  /** The seed of the split and of every epoch's shuffle (a safe integer). */
  readonly seed: number;
  /** Default: no validation samples. */
  readonly validation?: ValidationSplit;
  /** Shuffle the training samples each epoch (default true); false visits them in ascending order. */
  readonly shuffle?: boolean;
}

export interface Batch {
  /** The dataset indices of the samples, in batch order. */
  readonly indices: readonly number[];
  readonly tensors: Map<string, HostTensor>;
}

/** A training batch and the position it was taken from. */
export interface TrainBatch extends Batch {
  readonly epoch: number;
  readonly offset: number;
}

export class Batches {
  /** The training samples' indices, ascending. */
  readonly train: readonly number[];
  /** The validation samples' indices, ascending; disjoint from `train`, together all samples. */
  readonly validation: readonly number[];
  readonly batchSize: number;
  /** Batches per epoch: floor(train.length / batchSize), at least 1. */
  readonly batchesPerEpoch: number;
  private readonly seed: number;
  private readonly shuffle: boolean;
  private epoch = 0;
  private offset = 0;
  private cached: { epoch: number; order: readonly number[] } | undefined;

  constructor(
    readonly dataset: Dataset,
    opts: BatchOptions,
  ) {
    const bad = (detail: string): DataError => new DataError(dataset.where, detail);
    const { batchSize: b, seed } = opts;
    if (!Number.isSafeInteger(b) || b < 1) throw bad(`batch size ${b} is not a positive integer`);
    if (!Number.isSafeInteger(seed)) throw bad(`seed ${seed} is not a safe integer`);
    const v = validationCount(dataset.size, opts.validation, bad);
    const order = shuffled(
      Array.from({ length: dataset.size }, (_, i) => i),
      seed,
      'split',
    );
    this.validation = order.slice(0, v).sort((x, y) => x - y);
    this.train = order.slice(v).sort((x, y) => x - y);
    if (this.train.length < b) {
      throw bad(
        `${this.train.length} training samples (${dataset.size} less ${v} for validation) make no batch of ${b}`,
      );
    }
    this.batchSize = b;
    this.batchesPerEpoch = Math.floor(this.train.length / b);
    this.seed = seed;
    this.shuffle = opts.shuffle ?? true;
  }

  /** The position of the batch `next()` returns. */
  get position(): BatchPosition {
    return { epoch: this.epoch, offset: this.offset };
  }

  /** Continues from a saved position: the next batch is batch `offset` of epoch `epoch`. */
  seek(p: BatchPosition): this {
    const ok = (x: unknown, max: number): boolean =>
      Number.isSafeInteger(x) && (x as number) >= 0 && (x as number) < max;
    if (!ok(p.epoch, Number.MAX_SAFE_INTEGER) || !ok(p.offset, this.batchesPerEpoch)) {
      throw new DataError(
        this.dataset.where,
        `cannot seek to ${JSON.stringify(p)}: epoch must be an integer ≥ 0 and offset an integer in [0, ${this.batchesPerEpoch})`,
      );
    }
    this.epoch = p.epoch;
    this.offset = p.offset;
    return this;
  }

  /** The training samples in the order epoch `epoch` visits them (all of them, the dropped tail included). */
  order(epoch: number): readonly number[] {
    if (this.cached?.epoch !== epoch) {
      const order = this.shuffle ? shuffled(this.train, this.seed, `epoch ${epoch}`) : this.train;
      this.cached = { epoch, order };
    }
    return this.cached.order;
  }

  /** The batch at the current position; the position moves on (to the next epoch after its last batch). */
  next(): TrainBatch {
    const { epoch, offset } = this;
    const b = this.batchSize;
    const indices = this.order(epoch).slice(offset * b, (offset + 1) * b);
    if (++this.offset === this.batchesPerEpoch) [this.epoch, this.offset] = [epoch + 1, 0];
    return { epoch, offset, indices, tensors: this.dataset.batch(indices) };
  }

  /**
   * The validation samples in ascending index order, in batches of `batchSize` (default the
   * training batch size); the last batch holds the remainder and may be smaller, so every
   * validation sample is seen once. Does not move the training position.
   */
  validationBatches(batchSize = this.batchSize): Generator<Batch> {
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new DataError(this.dataset.where, `validation batch size ${batchSize} is not a positive integer`);
    }
    const { dataset, validation } = this;
    return (function* () {
      for (let at = 0; at < validation.length; at += batchSize) {
        const indices = validation.slice(at, at + batchSize);
        yield { indices, tensors: dataset.batch(indices) };
      }
    })();
  }
}

function validationCount(size: number, split: ValidationSplit | undefined, bad: (d: string) => DataError): number {
  if (split === undefined) return 0;
  if ('fraction' in split) {
    const f = split.fraction;
    if (!(f >= 0 && f < 1)) throw bad(`validation fraction ${f} is not in [0, 1)`);
    return Math.round(f * size);
  }
  const n = split.count;
  if (!Number.isSafeInteger(n) || n < 0 || n >= size) {
    throw bad(`validation count ${n} is not an integer in [0, ${size}) (the dataset has ${size} samples)`);
  }
  return n;
}
