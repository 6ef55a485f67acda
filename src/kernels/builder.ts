// Shared state of graph → kernel lowering: dim slots (one per distinct symbolic expression,
// plan-wide), buffers, and a per-kernel builder that maps buffers to kernel parameters and
// hands out fresh generated names.

import { type Dim, dimConstValue, dimKey } from '../ir/dims.js';
import type { Dtype } from '../ir/dtype.js';
import {
  type KExpr,
  type KParam,
  type KScalar,
  type KStmt,
  type Kernel,
  type KernelGrid,
  int,
  loop,
} from '../ir/kernel.js';
import type { BufferKind, PlanBuffer } from './plan.js';

/** Plan-wide tables: dim slots and buffers. */
export class PlanTables {
  readonly slots: Dim[] = [];
  readonly buffers: PlanBuffer[] = [];
  private readonly slotIndex = new Map<string, number>();

  /** A dim as a kernel expression: a literal when constant, else its slot. */
  dim(d: Dim): KExpr {
    const c = dimConstValue(d);
    if (c !== undefined && Number.isSafeInteger(c)) return int(c);
    const key = dimKey(d);
    let slot = this.slotIndex.get(key);
    if (slot === undefined) {
      slot = this.slots.length;
      this.slots.push(d);
      this.slotIndex.set(key, slot);
    }
    return { k: 'dim', slot };
  }

  buffer(dtype: Dtype, size: Dim, kind: BufferKind, from?: number): number {
    const id = this.buffers.length;
    this.buffers.push({ id, dtype, size, kind, ...(from !== undefined ? { from } : {}) });
    return id;
  }
}

/** Builds one kernel: its parameters (buffer ids in first-use order) and fresh names. */
export class KernelBuilder {
  private readonly params: KParam[] = [];
  private readonly bufs: number[] = [];
  private counter = 0;

  constructor(
    readonly tables: PlanTables,
    /** The machine the kernel is for: on 'gpu' every loop of an output nest is parallel (nest()). */
    readonly target: 'cpu' | 'gpu' = 'cpu',
    /** 'gpu': whether a kernel may take a workgroup per output (reduce-gpu.ts). */
    readonly workgroups = true,
  ) {}

  /** The kernel parameter index of buffer `id`, widening its access. */
  param(id: number, access: KParam['access']): number {
    const dtype = this.tables.buffers[id]!.dtype;
    let i = this.bufs.indexOf(id);
    if (i < 0) {
      i = this.bufs.length;
      this.bufs.push(id);
      this.params.push({ dtype, access });
    } else if (this.params[i]!.access !== access) {
      this.params[i] = { dtype, access: 'readwrite' };
    }
    return i;
  }

  /** A fresh generated identifier with a readable prefix (`i_3`, `acc_4`); never a buffer name (`b0`). */
  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  /** A fresh name for each prefix, in order: `const [i, acc] = kb.freshNames('i', 'acc')`. */
  freshNames<const P extends readonly string[]>(...prefixes: P): { [K in keyof P]: string } {
    return prefixes.map((p) => this.fresh(p)) as { [K in keyof P]: string };
  }

  dim(d: Dim): KExpr {
    return this.tables.dim(d);
  }

  /** Kernels launched before this one (a split reduction's partials: reduce-gpu.ts), finished. */
  readonly before: { readonly kernel: Kernel; readonly args: number[] }[] = [];

  /** A builder for another kernel of the same group (one of `before`). */
  another(): KernelBuilder {
    return new KernelBuilder(this.tables, this.target, this.workgroups);
  }

  /** A tiled GPU kernel's own launch grid (KernelGrid.tiled); grid binding leaves it. */
  grid: KernelGrid | undefined;

  /** The scheduling choices the kernel's builder made (a tuned GEMM's); they replace finish's. */
  schedule: object | undefined;

  /** CPU schedule data (Kernel.cpu), recorded by `parallel` and `scratch`. */
  private readonly cpuWork: Record<string, KExpr> = {};
  private readonly cpuScratch: string[] = [];

  /**
   * A parallel loop; with `work`, the C target runs it on one thread while that estimate (dims
   * and constants) is small. Schedule data, not IR: GPU targets ignore it.
   */
  parallel(
    v: string,
    hi: KExpr,
    body: readonly KStmt[],
    work?: KExpr,
    extra: Partial<Pick<Extract<KStmt, { k: 'for' }>, 'lo' | 'step' | 'collapse'>> = {},
  ): KStmt {
    if (work) {
      if (this.cpuWork[v] !== undefined) throw new Error(`internal: two parallel loops over ${v}`);
      this.cpuWork[v] = work;
    }
    return loop(v, hi, body, 'parallel', extra);
  }

  /** A local array that the C target keeps as per-thread scratch between calls (too big for a stack). */
  scratch(name: string, t: KScalar, size: number): KStmt {
    this.cpuScratch.push(name);
    return { k: 'array', name, t, size, space: 'local' };
  }

  /** The finished kernel and its launch arguments; `schedule` keeps its numbers and strings. */
  finish(
    kind: string,
    body: readonly KStmt[],
    note: string,
    schedule: object = {},
  ): { kernel: Kernel; args: number[] } {
    const plain = Object.fromEntries(
      Object.entries(this.schedule ?? schedule).filter(([, v]) => typeof v === 'number' || typeof v === 'string'),
    ) as Kernel['schedule'];
    const grid = this.grid ? { grid: this.grid } : {};
    const used = Object.keys(this.cpuWork).length > 0 || this.cpuScratch.length > 0;
    const cpu = used ? { cpu: { work: { ...this.cpuWork }, scratch: [...this.cpuScratch] } } : {};
    return {
      kernel: { name: kind, params: [...this.params], body, note, schedule: plain, ...grid, ...cpu },
      args: [...this.bufs],
    };
  }
}
