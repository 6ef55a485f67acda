// Where graph nodes come from in the `.fm` source: a side table filled while the checker
// lowers a function (src/frontend/checker/emit.ts), for errors found after the graph stage
// (a kernel that does not fit a device's limits) that must point at the line that needs it.
// Nodes are keyed by id; a pass that rebuilds the graph gives its nodes new ids, so an entry
// is used only when the node there still has the same op and provenance, and otherwise the
// first span recorded for the node's provenance (block path and call scope) stands in.

import { type Node, provenance } from './graph.js';

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

  /** Where `n` (or, in a rebuilt graph, the nodes of its provenance) came from. */
  of(n: Node): SourceSpan | undefined {
    const e = this.byId.get(n.id);
    if (e && e.key === keyOf(n)) return e.span;
    return this.byProvenance.get(provenance(n));
  }

  get size(): number {
    return this.byId.size;
  }
}
