// The WGSL target's lowering with a device profile: Graph → Plan. The kernel groups (the
// fusion pass's; attention as the flash kernel of attention-gpu.ts) are split where a kernel would bind
// more storage buffers than the device has (fit-groups.ts), lowered for a GPU with grids
// (workgroups no larger than the device allows),
// and checked against every limit of the profile (limits.ts). What still does not fit is a
// problem naming the graph node that needs it (fitDevice: a DeviceLimitError); bindings whose
// sizes are symbolic become plan checks.

import type { Graph, Node } from '../ir/graph.js';
import { planGroups } from '../passes/fusion/index.js';
import type { DeviceProfile } from './device-profile.js';
import { fitGroups } from './fit-groups.js';
import { TILED, tiledBytes } from './gemm-tiled.js';
import { DEFAULT_WORKGROUP, bindPlanGrids } from './grid.js';
import { type LimitProblem, type LimitReport, checkLimits } from './limits.js';
import { lowerGraph } from './lower.js';
import type { Plan } from './plan.js';

/** Kernels that exceed a device profile where no split makes them fit. */
export class DeviceLimitError extends Error {
  override name = 'DeviceLimitError';
  constructor(
    readonly problems: readonly LimitProblem[],
    readonly profile: DeviceProfile,
  ) {
    super(
      problems
        .map(
          (p) =>
            `kernel ${p.kernel} needs ${p.needs} for ${p.limit} (device profile ${profile.name}: ${profile[p.limit]})`,
        )
        .join('; '),
    );
  }
}

export interface DeviceLowering {
  readonly plan: Plan;
  readonly report: LimitReport;
}

/**
 * `g` lowered for a GPU that has `profile`'s limits; `locate` names a node's `.fm` line in
 * run-time checks. What does not fit is in `report.problems` (fitDevice throws it).
 */
export function lowerForDevice(
  g: Graph,
  profile: DeviceProfile,
  locate: (n: Node | undefined) => string = () => '',
): DeviceLowering {
  const groups = g.groups ?? planGroups(g);
  const fitted = fitGroups(g, groups, profile.maxStorageBuffersPerShaderStage);
  const workgroup = Math.min(DEFAULT_WORKGROUP, profile.maxComputeInvocationsPerWorkgroup);
  // A tiled GEMM (when chosen) needs its workgroup and tiles to fit, else GEMMs run untiled.
  const tiles = tiledBytes(TILED) <= profile.maxComputeWorkgroupStorageSize;
  const tiled = tiles && TILED.T * TILED.T <= profile.maxComputeInvocationsPerWorkgroup ? {} : { tiled: false };
  const lowered = bindPlanGrids(lowerGraph({ ...g, groups: fitted }, { target: 'gpu', ...tiled }), { workgroup });
  const report = checkLimits(lowered, g, fitted, profile, locate);
  return { plan: { ...lowered, checks: [...lowered.checks, ...report.checks] }, report };
}

/** lowerForDevice, with what does not fit thrown as a DeviceLimitError. */
export function fitDevice(g: Graph, profile: DeviceProfile, locate?: (n: Node | undefined) => string): DeviceLowering {
  const r = lowerForDevice(g, profile, locate);
  if (r.report.problems.length > 0) throw new DeviceLimitError(r.report.problems, profile);
  return r;
}
