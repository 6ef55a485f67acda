// Training data as fmc sees it: a Dataset is `size` samples of named fields, each field with a
// dtype and a per-sample shape; `batch(indices)` stacks the chosen samples into HostTensors with
// a leading batch axis. A dataset records where it came from (each file's path, sha256 and byte
// size) so a checkpoint can say what it was trained on. Every error is a DataError naming the
// file and, where there is one, the field.

import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Dtype } from '../ir/dtype.js';
import { type HostTensor, shapeSize, showDims } from '../ir/value.js';
import { quote } from '../runtime/safetensors-codec.js';

/** A bad data file, a field that does not fit, or a bad request. `message` is one line. */
export class DataError extends Error {
  override readonly name = 'DataError';
  /** The message without the file prefix. */
  readonly detail: string;
  /** The file (or built-in source) the error is about. */
  readonly file: string;
  /** The field or tensor the error is about, if any. */
  readonly field: string | undefined;
  constructor(file: string, detail: string, field?: string, options?: ErrorOptions) {
    super(`${file}: ${field === undefined ? '' : `field ${quote(field)}: `}${detail}`, options);
    this.detail = detail;
    this.file = file;
    this.field = field;
  }
}

export { quote };

/** One field of every sample. */
export interface FieldSpec {
  readonly name: string;
  readonly dtype: Dtype;
  /** The shape of one sample's value (`[]` for a scalar such as a class label). */
  readonly shape: readonly number[];
}

/** A file a dataset was read from. */
export interface SourceFile {
  readonly path: string;
  /** Lowercase hex SHA-256 of the file's bytes as read. */
  readonly sha256: string;
  readonly bytes: number;
}

export interface Dataset {
  /** What error messages name: the data file's path, or the built-in source (`mnist`, `iris`). */
  readonly where: string;
  readonly fields: readonly FieldSpec[];
  readonly size: number;
  /** Every file read to build the dataset, in reading order. */
  readonly sources: readonly SourceFile[];
  /**
   * The samples at `indices` (each in [0, size), repeats allowed), one HostTensor per field of
   * shape [indices.length, ...field.shape], in the order of `fields`.
   */
  batch(indices: readonly number[]): Map<string, HostTensor>;
}

/** Reads a whole regular file and its provenance; errors are DataErrors naming `path`. */
export function readSource(path: string): { bytes: Buffer; source: SourceFile } {
  let bytes: Buffer;
  try {
    // Only regular files: a device such as /dev/zero would be read forever.
    if (!statSync(path).isFile()) throw new DataError(path, 'not a regular file');
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(path, `cannot read the file: ${errorText(e)}`, undefined, { cause: e });
  }
  return { bytes, source: sourceOf(path, bytes) };
}

/** The provenance of `bytes` read from `path`. */
export const sourceOf = (path: string, bytes: Uint8Array): SourceFile => ({
  path,
  sha256: createHash('sha256').update(bytes).digest('hex'),
  bytes: bytes.length,
});

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** Throws unless every index is an integer in [0, size). */
export function checkIndices(ds: Pick<Dataset, 'where' | 'size'>, indices: readonly number[]): void {
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= ds.size) {
      throw new DataError(ds.where, `sample index ${i} is outside [0, ${ds.size})`);
    }
  }
}

/** A field with every sample's values, sample-major: sample i is data[i * n .. (i + 1) * n). */
export interface Column extends FieldSpec {
  readonly data: Float64Array;
}

/** A dataset held in memory as one column per field. */
export class ColumnDataset implements Dataset {
  readonly fields: readonly FieldSpec[];
  readonly size: number;
  private readonly columns: readonly Column[];

  /** Every column must hold `size` samples of its shape; a mismatch is a DataError naming the field. */
  constructor(
    readonly where: string,
    columns: readonly Column[],
    size: number,
    readonly sources: readonly SourceFile[],
  ) {
    for (const c of columns) {
      if (c.data.length !== size * shapeSize(c.shape)) {
        throw new DataError(
          where,
          `holds ${c.data.length} values, not ${size} samples of ${showDims(c.shape)}`,
          c.name,
        );
      }
    }
    this.columns = columns;
    this.fields = columns.map(({ name, dtype, shape }) => ({ name, dtype, shape }));
    this.size = size;
  }

  batch(indices: readonly number[]): Map<string, HostTensor> {
    checkIndices(this, indices);
    const out = new Map<string, HostTensor>();
    for (const c of this.columns) {
      const n = shapeSize(c.shape);
      const data = new Float64Array(indices.length * n);
      indices.forEach((s, b) => data.set(c.data.subarray(s * n, (s + 1) * n), b * n));
      out.set(c.name, { dtype: c.dtype, shape: [indices.length, ...c.shape], data });
    }
    return out;
  }
}

/**
 * The same samples with fields renamed (`{features: 'x', labels: 'y'}`): model inputs are matched
 * by name. Unnamed fields keep their names; a rename to a taken name or of a missing field is an error.
 */
export function renameFields(ds: Dataset, renames: Readonly<Record<string, string>>): Dataset {
  const names = new Set(ds.fields.map((f) => f.name));
  for (const from of Object.keys(renames)) {
    if (!names.has(from)) throw new DataError(ds.where, `cannot rename: no such field (fields: ${list(names)})`, from);
  }
  const to = (n: string): string => (Object.hasOwn(renames, n) ? renames[n]! : n);
  const seen = new Set<string>();
  for (const f of ds.fields) {
    if (seen.has(to(f.name))) throw new DataError(ds.where, `renaming gives two fields this name`, to(f.name));
    seen.add(to(f.name));
  }
  return {
    where: ds.where,
    fields: ds.fields.map((f) => ({ ...f, name: to(f.name) })),
    size: ds.size,
    sources: ds.sources,
    batch: (indices) => new Map([...ds.batch(indices)].map(([n, t]) => [to(n), t])),
  };
}

/** The same samples with only the fields named in `keep` (in their order in `ds.fields`). */
export function keepFields(ds: Dataset, keep: ReadonlySet<string>): Dataset {
  return {
    where: ds.where,
    fields: ds.fields.filter((f) => keep.has(f.name)),
    size: ds.size,
    sources: ds.sources,
    batch: (indices) => new Map([...ds.batch(indices)].filter(([n]) => keep.has(n))),
  };
}

/** Names for a message: `"a", "b"`. */
export const list = (names: Iterable<string>): string => [...names].map(quote).join(', ') || 'none';
