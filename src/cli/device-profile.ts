// `--device-profile NAME|FILE` of `fmc compile/run/bench --target wgsl`: the device limits the
// WGSL kernels must fit (a built-in: default, swiftshader; `adapter`: this machine's WebGPU
// adapter; else a JSON file of limits), and the table of `fmc compile --explain-limits`: what
// each kernel uses against the profile, the kernels near or over a limit marked.

import * as fs from 'node:fs';
import { dimToString } from '../ir/dims.js';
import {
  type DeviceProfile,
  PROFILES,
  ProfileError,
  builtinProfile,
  parseProfile,
  profileFromLimits,
} from '../kernels/device-profile.js';
import type { KernelUsage, LimitReport } from '../kernels/limits.js';
import { FileAccessError, readRegularText } from '../frontend/regular-file.js';
import { EXIT, type Io } from './io.js';
import { CliError } from './model.js';

/** The profile `--device-profile` names (undefined: not given); only the WGSL target takes one. */
export async function cliProfile(
  io: Io,
  given: string | undefined,
  target: string,
): Promise<DeviceProfile | undefined> {
  if (given === undefined) return undefined;
  if (target !== 'wgsl')
    throw new CliError(`--device-profile: only the WGSL target has device limits (--target wgsl)`, EXIT.usage);
  if (given === 'adapter') {
    const { nodeGpuDevice } = await import('../runtime/node-webgpu.js');
    const device = await nodeGpuDevice();
    // The device fmc runs on asks for the adapter's limits and its shader-f16 where it has it.
    const p = profileFromLimits(device.limits, device.features.has('shader-f16'));
    io.err(`fmc: device profile: this machine's WebGPU adapter (${describeProfile(p)})\n`);
    return p;
  }
  if (PROFILES[given] && !fs.existsSync(given)) return builtinProfile(given);
  let text: string;
  try {
    text = readRegularText(given);
  } catch (e) {
    if (!(e instanceof FileAccessError)) throw e;
    const why = e.why;
    throw new CliError(
      `--device-profile ${given}: ${why} (give a JSON file, adapter, or a built-in: ${Object.keys(PROFILES).join(', ')})`,
      EXIT.usage,
    );
  }
  try {
    return parseProfile(text, given);
  } catch (e) {
    if (e instanceof ProfileError) throw new CliError(`--device-profile ${e.message}`);
    throw e;
  }
}

const bytes = (n: number): string =>
  n >= 1 << 20 && n % (1 << 20) === 0
    ? `${n / (1 << 20)} MiB`
    : n >= 1024 && n % 1024 === 0
      ? `${n / 1024} KiB`
      : `${n} B`;

/** One line: every limit of a profile. */
export function describeProfile(p: DeviceProfile): string {
  return (
    `${p.maxStorageBuffersPerShaderStage} storage buffers, ${bytes(p.maxComputeWorkgroupStorageSize)} workgroup storage, ` +
    `${p.maxComputeInvocationsPerWorkgroup} invocations per workgroup, ${bytes(p.maxStorageBufferBindingSize)} per binding, ` +
    `${bytes(p.maxBufferSize)} per buffer, ${p.maxComputeWorkgroupsPerDimension} workgroups per dimension, ` +
    `${p.shaderF16 ? '' : 'no '}shader-f16`
  );
}

/** A use of a limit: `used/limit`, and whether it is over it or near it (at least 3/4). */
function use(used: number, limit: number): { text: string; mark: 'over' | 'near' | '' } {
  return { text: `${used}/${limit}`, mark: used > limit ? 'over' : used * 4 >= limit * 3 ? 'near' : '' };
}

function row(u: KernelUsage, p: DeviceProfile, locate: (n: KernelUsage['node']) => string): string[] {
  const cells = [
    ['buffers', use(u.buffers, p.maxStorageBuffersPerShaderStage)],
    ['workgroup storage', use(u.workgroupBytes, p.maxComputeWorkgroupStorageSize)],
    ['invocations', use(u.workgroup, p.maxComputeInvocationsPerWorkgroup)],
  ] as const;
  const binding = use(u.largestBinding, Math.min(p.maxStorageBufferBindingSize, p.maxBufferSize));
  const atRun = u.symbolicBinding && `${dimToString(u.symbolicBinding)} B (at run)`;
  const largest =
    atRun && u.largestBinding > 0 ? `${bytes(u.largestBinding)}, ${atRun}` : (atRun ?? bytes(u.largestBinding));
  const marks = [...cells.map(([name, c]) => [name, c.mark] as const), ['largest binding', binding.mark] as const]
    .filter(([, m]) => m)
    .map(([name, m]) => `${m === 'over' ? 'OVER' : 'near'}: ${name}`);
  return [u.kernel.name, ...cells.map(([, c]) => c.text), largest, locate(u.node), marks.join(', ')];
}

/** The --explain-limits table of one function; `locate` gives the `.fm` line of a kernel's node. */
export function limitsTable(
  title: string,
  report: LimitReport,
  p: DeviceProfile,
  locate: (n: KernelUsage['node']) => string,
): string {
  const head = ['kernel', 'buffers', 'workgroup storage', 'invocations', 'largest binding', 'for', ''];
  const rows = [head, ...report.usages.map((u) => row(u, p, locate))];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd());
  const checks = report.checks.length;
  const tail = checks > 0 ? [`  ${checks} binding size${checks === 1 ? '' : 's'} checked when dims are bound`] : [];
  const n = report.usages.length;
  return [`${title}: ${n} kernel${n === 1 ? '' : 's'}`, ...lines, ...tail, ''].join('\n');
}
