// Device limits of the WGSL target, checked on a lowered plan (kernels with grids): what each
// kernel uses (storage buffers, workgroup storage, invocations per workgroup, its largest
// binding, workgroups per launch) against a device profile (device-profile.ts). What is over a
// limit where the sizes are known is a problem naming the graph node that needs it (the
// caller turns it into an FM diagnostic at that node's `.fm` line); a binding whose size is
// symbolic becomes a plan check, evaluated when the dims are bound.

import { type Dim, dimAdd, dimConst, dimConstValue, dimKey, dimMul, dimSub } from '../ir/dims.js';
import { DTYPE_BITS } from '../ir/dtype.js';
import { type Graph, type KernelGroup, type Node, liveNodes } from '../ir/graph.js';
import type { KExpr, KStmt, Kernel } from '../ir/kernel.js';
import type { DeviceProfile, LimitName } from './device-profile.js';
import type { Plan, PlanCheck } from './plan.js';

/** What one kernel of a plan uses (its largest binding over all its launches). */
export interface KernelUsage {
  readonly kernel: Kernel;
  /** The node its first launch is built around (when the launch is a group's). */
  readonly node?: Node;
  readonly buffers: number;
  readonly workgroupBytes: number;
  readonly workgroup: number;
  /** Bytes of its largest binding of known size (0: none). */
  readonly largestBinding: number;
  /** The byte count of a binding whose size is symbolic (the last one met), if any. */
  readonly symbolicBinding?: Dim;
  /** Workgroups of one launch when known. */
  readonly workgroups?: number;
}

/** A limit a kernel exceeds: which, by how much, and the node that needs it (when known). */
export interface LimitProblem {
  readonly limit: LimitName;
  readonly needs: number;
  readonly kernel: string;
  readonly node: Node | undefined;
  /** maxStorageBufferBindingSize / maxBufferSize: the buffer and what it holds. */
  readonly buffer?: number;
  readonly what?: string;
}

export interface LimitReport {
  readonly usages: readonly KernelUsage[];
  readonly problems: readonly LimitProblem[];
  /** Bindings whose size is known only once dims are bound. */
  readonly checks: readonly PlanCheck[];
}

/** Bytes of workgroup (shared) arrays: 4 bytes an element (f32, i32, bool words), 8 an i64 (two words on WGSL). */
function workgroupBytes(body: readonly KStmt[]): number {
  let n = 0;
  const visit = (ss: readonly KStmt[]): void => {
    for (const s of ss) {
      if (s.k === 'array' && s.space === 'shared') n += (s.t === 'i64' ? 8 : 4) * s.size;
      else if (s.k === 'for') visit(s.body);
      else if (s.k === 'if') {
        visit(s.then);
        visit(s.else ?? []);
      }
    }
  };
  visit(body);
  return n;
}

/** A kernel's invocation count as a dim expression, when it is made of + - * of consts and slots. */
function asDim(e: KExpr, slots: readonly Dim[]): Dim | undefined {
  if (e.k === 'const') return dimConst(e.v);
  if (e.k === 'dim') return slots[e.slot];
  if (e.k !== 'ix' || !['+', '-', '*'].includes(e.op)) return undefined;
  const [a, b] = [asDim(e.a, slots), asDim(e.b, slots)];
  if (!a || !b) return undefined;
  return e.op === '*' ? dimMul(a, b) : e.op === '+' ? dimAdd(a, b) : dimSub(a, b);
}

/** The node whose value each buffer holds: inputs, params, and each group's store. */
function bufferNodes(plan: Plan, g: Graph, groups: readonly KernelGroup[]): Map<number, Node> {
  const out = new Map<number, Node>();
  plan.inputs.forEach((t, i) => out.set(t.buffer, g.inputs[i]!));
  const params = new Map(plan.params.map((p) => [p.path, p.buffer]));
  for (const n of liveNodes(g)) if (n.op === 'param') out.set(params.get(n.args.path)!, n);
  groups.forEach((k, i) => {
    const l = plan.launches[i];
    if (!l) return;
    const kernel = plan.kernels[l.kernel]!;
    l.args.forEach((b, j) => {
      if (kernel.params[j]!.access !== 'read' && !out.has(b)) out.set(b, k.store);
    });
  });
  return out;
}

/**
 * Checks the kernels of `plan` (lowered from `g` with `groups`, in launch order) against
 * `profile`; `locate` gives a node's `.fm` location for the run-time checks' messages.
 */
export function checkLimits(
  plan: Plan,
  g: Graph,
  groups: readonly KernelGroup[],
  profile: DeviceProfile,
  locate: (n: Node | undefined) => string = () => '',
): LimitReport {
  const nodeOf = bufferNodes(plan, g, groups);
  const problems: LimitProblem[] = [];
  const checks = new Map<string, PlanCheck>();
  const bindLimit: LimitName =
    profile.maxBufferSize < profile.maxStorageBufferBindingSize ? 'maxBufferSize' : 'maxStorageBufferBindingSize';
  const maxBinding = profile[bindLimit];
  const usage = plan.kernels.map((kernel) => ({
    kernel,
    buffers: kernel.params.length,
    workgroupBytes: workgroupBytes(kernel.body),
    workgroup: kernel.grid?.workgroup ?? 1,
    largestBinding: 0,
    symbolicBinding: undefined as Dim | undefined,
    workgroups: undefined as number | undefined,
    node: undefined as Node | undefined,
  }));
  const seen = new Set<number>();
  plan.launches.forEach((l, i) => {
    const u = usage[l.kernel]!;
    const root = groups[i]?.root;
    const name = u.kernel.name;
    if (!seen.has(l.kernel)) {
      seen.add(l.kernel);
      u.node = root;
      const over = (limit: LimitName, needs: number): void => {
        if (needs > profile[limit]) problems.push({ limit, needs, kernel: name, node: root });
      };
      over('maxStorageBuffersPerShaderStage', u.buffers);
      over('maxComputeWorkgroupStorageSize', u.workgroupBytes);
      over('maxComputeInvocationsPerWorkgroup', u.workgroup);
    }
    const inv = u.kernel.grid ? asDim(u.kernel.grid.invocations, plan.slots) : undefined;
    const n = inv && dimConstValue(inv);
    if (n !== undefined) {
      const groupsNeeded = Math.ceil(n / u.workgroup);
      u.workgroups = Math.max(u.workgroups ?? 0, groupsNeeded);
      // The runtime dispatches x = min(n, 65535) by y = ceil(n / x) workgroups.
      const y = Math.ceil(groupsNeeded / Math.min(groupsNeeded, 65535));
      if (y > profile.maxComputeWorkgroupsPerDimension)
        problems.push({ limit: 'maxComputeWorkgroupsPerDimension', needs: y, kernel: name, node: root });
    }
    for (const b of l.args) {
      const buf = plan.buffers[b]!;
      // In memory an i4 takes a byte, as a bool does (src/runtime/tensor.ts).
      const bytesPer = Math.max(1, DTYPE_BITS[buf.dtype] / 8);
      const bits = dimMul(buf.size, dimConst(bytesPer * 8));
      const c = dimConstValue(bits);
      const node = nodeOf.get(b) ?? root;
      const what = describe(node, plan, b);
      if (c !== undefined) {
        const bytes = Math.max(4, Math.ceil(c / 32) * 4);
        u.largestBinding = Math.max(u.largestBinding, bytes);
        if (bytes > maxBinding && !problems.some((p) => p.buffer === b))
          problems.push({ limit: bindLimit, needs: bytes, kernel: name, node, buffer: b, what });
        continue;
      }
      u.symbolicBinding = dimMul(buf.size, dimConst(bytesPer));
      const value = dimSub(dimConst(maxBinding * 8), bits);
      const key = dimKey(value);
      if (!checks.has(key)) {
        const at = locate(node);
        checks.set(key, {
          value,
          what: `${at ? `${at}: ` : ''}${what} in kernel ${name} needs more than the ${maxBinding} bytes of a binding on device profile \`${profile.name}\` (${bindLimit})`,
        });
      }
    }
  });
  return { usages: usage, problems, checks: [...checks.values()] };
}

/** What a buffer holds, for messages: an input, a param, or a node's value. */
function describe(n: Node | undefined, plan: Plan, buffer: number): string {
  const input = plan.inputs.find((t) => t.buffer === buffer);
  if (input) return `the input \`${input.name}\``;
  const param = plan.params.find((p) => p.buffer === buffer);
  if (param) return `the ${param.role} \`${param.path}\``;
  return n ? `the value of this ${n.op}` : `buffer ${buffer}`;
}
