// A version per weight buffer, bumped whenever a run or the trainer may have written it: a
// packed buffer derived from a param is re-derived, and a GPU copy of a weight uploaded again,
// when the version it was made from is old.

const versions = new WeakMap<ArrayBuffer, number>();

/** The version of a weight buffer (0 until it first changes). */
export const versionOf = (b: ArrayBuffer): number => versions.get(b) ?? 0;

/** Marks weight buffers as changed (their packed forms are re-derived at the next run). */
export function weightsChanged(buffers: Iterable<ArrayBuffer>): void {
  for (const b of buffers) versions.set(b, versionOf(b) + 1);
}
