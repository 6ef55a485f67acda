// Where graph nodes come from in the `.fm` source: a side table filled while the checker
// lowers a function (src/frontend/checker/emit.ts), for errors found after the graph stage
// (a kernel that does not fit a device's limits) that must point at the line that needs it.
// Nodes are keyed by id; a pass that rebuilds the graph through `rewrite` gives its nodes new
// ids, and the node each was made for is followed back (rewrite.ts originOf). An entry is used
// only when the node there still has the same op and provenance, and otherwise the first span
// recorded for the node's provenance (block path and call scope) stands in.

import { type Node, provenance } from './graph.js';
import { originOf } from './rewrite.js';

/** A range of a source file: the frontend's Span, without importing the frontend. */
export interface SourceSpan {
  readonly file: string;
  readonly start: number;
  readonly end: number;
}

interface Entry {
  readonly span: SourceSpan;
  readonly key: string;
}

const keyOf = (n: Pick<Node, 'op' | 'path' | 'scope'>): string => `${n.op}|${provenance(n)}`;

export class SpanTable {
  private readonly byId = new Map<number, Entry>();
  private readonly byProvenance = new Map<string, SourceSpan>();

  /** Records where `n` was first built (a hash-consed node built again keeps its first span). */
  set(n: Node, span: SourceSpan): void {
    if (this.byId.has(n.id)) return;
    this.byId.set(n.id, { span, key: keyOf(n) });
    const p = provenance(n);
    if (!this.byProvenance.has(p)) this.byProvenance.set(p, span);
  }

  /**
   * Where `n` came from: its own entry, or that of the node a rewrite made it for (followed
   * back through passes), or else the first span of its provenance.
   */
  of(n: Node): SourceSpan | undefined {
    for (let m: Node | undefined = n; m; m = originOf(m)) {
      const e = this.byId.get(m.id);
      if (e && e.key === keyOf(m)) return e.span;
    }
    return this.byProvenance.get(provenance(n));
  }

  get size(): number {
    return this.byId.size;
  }
}
