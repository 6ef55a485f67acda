// The memory plan: transient buffers share one arena. A buffer lives from the first launch
// that uses it to the last (update sources until the end); two buffers whose lifetimes
// overlap never overlap in memory. Placement is greedy by size (largest first, lowest
// offset that fits), as TFLite's arena planner does. Sizes are concrete, so the plan is made
// when dims are bound and kept per binding.

import type { Plan } from './plan.js';

/** Every buffer starts on a 64-byte boundary (a cache line, an AVX-512 vector). */
export const ALIGN = 64;
const up = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

export interface MemoryPlan {
  /** Byte offset in the arena of each transient buffer, by buffer id. */
  readonly offsets: ReadonlyMap<number, number>;
  /** Arena size. */
  readonly peakBytes: number;
  /** The most bytes live at any one launch: no placement can do better. */
  readonly lowerBound: number;
  /** What one buffer per transient would take. */
  readonly unsharedBytes: number;
}

interface Life {
  id: number;
  bytes: number;
  first: number;
  last: number;
}

function lifetimes(plan: Plan, bytes: (id: number) => number): Life[] {
  const lives = new Map<number, Life>();
  plan.launches.forEach((l, t) => {
    for (const id of l.args) {
      if (plan.buffers[id]!.kind !== 'transient') continue;
      const life = lives.get(id);
      if (life) life.last = t;
      else lives.set(id, { id, bytes: up(bytes(id)), first: t, last: t });
    }
  });
  for (const u of plan.updates) {
    const life = lives.get(u.from);
    if (life) life.last = plan.launches.length;
  }
  return [...lives.values()];
}

export function planMemory(plan: Plan, bytes: (id: number) => number): MemoryPlan {
  const lives = lifetimes(plan, bytes);
  const order = [...lives].sort((a, b) => b.bytes - a.bytes || a.first - b.first || a.id - b.id);
  const placed: (Life & { offset: number })[] = [];
  const offsets = new Map<number, number>();
  let peak = 0;
  for (const b of order) {
    const clashes = placed.filter((p) => p.first <= b.last && b.first <= p.last).sort((x, y) => x.offset - y.offset);
    let offset = 0;
    for (const c of clashes) {
      if (offset + b.bytes <= c.offset) break;
      offset = Math.max(offset, c.offset + c.bytes);
    }
    placed.push({ ...b, offset });
    offsets.set(b.id, offset);
    peak = Math.max(peak, offset + b.bytes);
  }
  const live = new Array<number>(plan.launches.length + 1).fill(0);
  for (const b of lives) for (let t = b.first; t <= b.last; t++) live[t]! += b.bytes;
  return {
    offsets,
    peakBytes: peak,
    lowerBound: Math.max(0, ...live),
    unsharedBytes: lives.reduce((a, b) => a + b.bytes, 0),
  };
}

/** A memory plan in whole buffers: which buffer (slot) each transient uses, and their sizes. */
export interface SlotPlan extends MemoryPlan {
  readonly slotOf: ReadonlyMap<number, number>;
  readonly slotBytes: readonly number[];
}

/**
 * The memory plan of a target that cannot bind two ranges of one buffer to one launch when
 * either is written (WebGPU's usage scopes): transients share whole buffers instead of ranges of
 * one arena. Buffers whose lifetimes do not overlap share a slot (greedy by first use, the free
 * slot whose size fits best, else the largest free one, grown); `offsets` and `peakBytes` are
 * those of the slots laid end to end.
 */
export function planSlots(plan: Plan, bytes: (id: number) => number): SlotPlan {
  const lives = lifetimes(plan, bytes).sort((a, b) => a.first - b.first || b.bytes - a.bytes || a.id - b.id);
  const slots: { bytes: number; last: number }[] = [];
  const slotOf = new Map<number, number>();
  for (const b of lives) {
    let best = -1;
    slots.forEach((s, i) => {
      if (s.last >= b.first) return;
      const cur = slots[best];
      const fits = s.bytes >= b.bytes;
      if (!cur) best = i;
      else if (fits && (cur.bytes < b.bytes || s.bytes < cur.bytes)) best = i;
      else if (!fits && cur.bytes < b.bytes && s.bytes > cur.bytes) best = i;
    });
    if (best < 0) best = slots.push({ bytes: 0, last: -1 }) - 1;
    const s = slots[best]!;
    s.bytes = Math.max(s.bytes, b.bytes);
    s.last = b.last;
    slotOf.set(b.id, best);
  }
  const start: number[] = [];
  let peak = 0;
  for (const s of slots) (start.push(peak), (peak += s.bytes));
  const flat = planMemory(plan, bytes);
  return {
    offsets: new Map([...slotOf].map(([id, s]) => [id, start[s]!])),
    peakBytes: peak,
    lowerBound: flat.lowerBound,
    unsharedBytes: flat.unsharedBytes,
    slotOf,
    slotBytes: slots.map((s) => s.bytes),
  };
}
