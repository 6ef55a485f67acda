// A Plan: what a compiled graph is at run time. Buffers (external ones bound by name,
// transients placed in one arena by the memory plan), kernels in kernel IR, and a launch
// list whose arguments are buffer ids; sizes and kernel dims are dim slots, symbolic
// expressions the host evaluates once the graph's dims are bound.

import type { Dim } from '../ir/dims.js';
import type { Dtype } from '../ir/dtype.js';
import type { Init } from '../ir/ops.js';
import type { Kernel } from '../ir/kernel.js';

/**
 * `packed`: a persistent buffer derived from param buffer `from` by the one kernel that uses
 * it (a GEMM's weight in its panel layout, packed once instead of at every call). The
 * runtime keeps it between runs and zeroes its first element whenever the param may have
 * changed; the kernel re-derives it when that element is 0.
 */
export type BufferKind = 'input' | 'param' | 'output' | 'transient' | 'packed';

export interface PlanBuffer {
  readonly id: number;
  readonly dtype: Dtype;
  /** Element count. */
  readonly size: Dim;
  readonly kind: BufferKind;
  /** packed: the param buffer it is derived from. */
  readonly from?: number;
}

export interface Launch {
  readonly kernel: number;
  /** Buffer ids, in the kernel's parameter order. */
  readonly args: readonly number[];
}

export interface PlanTensor {
  readonly name: string;
  readonly buffer: number;
  readonly dtype: Dtype;
  readonly shape: readonly Dim[];
}

export interface PlanParam {
  readonly path: string;
  readonly buffer: number;
  readonly role: 'param' | 'buffer';
  readonly dtype: Dtype;
  readonly shape: readonly Dim[];
  readonly init: Init;
}

/**
 * A condition the bound dims must meet before anything runs (the interpreter's run-time
 * checks): `value` ≥ 0, unless `unless` is given and is 0 (an empty slice reads nothing).
 */
export interface PlanCheck {
  readonly value: Dim;
  readonly unless?: Dim;
  /** What fails, for the error (block paths are user text; never rendered into code). */
  readonly what: string;
}

export interface Plan {
  /** The function's name (`forward`). */
  readonly name: string;
  /** The graph's symbolic dims, bound from input shapes at each call. */
  readonly dims: readonly string[];
  /** Dim slot i is `slots[i]`; kernels read it as `d[i]`. */
  readonly slots: readonly Dim[];
  readonly buffers: readonly PlanBuffer[];
  readonly kernels: readonly Kernel[];
  readonly launches: readonly Launch[];
  readonly inputs: readonly PlanTensor[];
  readonly outputs: readonly PlanTensor[];
  readonly params: readonly PlanParam[];
  /** Conditions on the bound dims, checked before the launches. */
  readonly checks: readonly PlanCheck[];
  /** Buffer updates (`set`): after the launches, `from` is copied into param `path`. */
  readonly updates: readonly { readonly path: string; readonly from: number }[];
  /** Whether a run may write params (updates, in place or copied): packed buffers are then re-derived. */
  readonly writesParams?: boolean;
}
