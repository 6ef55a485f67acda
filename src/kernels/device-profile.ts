// Device profiles: the limits of a WebGPU device that the WGSL target's kernels must fit,
// checked when compiling (limits.ts) rather than found when a pipeline fails to load. The
// built-ins are `default` (the WebGPU spec's minimums, which every adapter meets: what a model
// compiled for any browser must fit) and `swiftshader` (Chromium's CPU Vulkan, what the tests
// run on); a JSON file (`--device-profile FILE`) or a real adapter's limits give others.

/** The limits the compiler checks, by their WebGPU names (GPUSupportedLimits, features). */
export interface DeviceProfile {
  /** Shown in messages (`default`, `swiftshader`, a file's name, `adapter`). */
  readonly name: string;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  /** The `shader-f16` feature: f16 arithmetic in shaders. */
  readonly shaderF16: boolean;
}

export type LimitName = Exclude<keyof DeviceProfile, 'name' | 'shaderF16'>;

/** The WebGPU spec's minimum of each limit (an adapter never has less). */
export const SPEC_MINIMUMS: { readonly [K in LimitName]: number } = {
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxStorageBufferBindingSize: 134217728,
  maxBufferSize: 268435456,
  maxComputeWorkgroupsPerDimension: 65535,
};

export const LIMIT_NAMES = Object.keys(SPEC_MINIMUMS) as LimitName[];

export const PROFILES: { readonly [name: string]: DeviceProfile } = {
  default: { name: 'default', ...SPEC_MINIMUMS, shaderF16: false },
  swiftshader: {
    name: 'swiftshader',
    maxStorageBuffersPerShaderStage: 12,
    maxComputeWorkgroupStorageSize: 32768,
    maxComputeInvocationsPerWorkgroup: 256,
    maxStorageBufferBindingSize: 1073741824,
    maxBufferSize: 1073741824,
    maxComputeWorkgroupsPerDimension: 65535,
    shaderF16: false,
  },
};

export const DEFAULT_PROFILE = PROFILES.default!;

/** A profile file that is not valid: says what is wrong and where. */
export class ProfileError extends Error {
  override name = 'ProfileError';
}

/**
 * The runtime dispatches at most 65535 workgroups along x (the launch contract), so a profile
 * may not go below that; the others may go below the spec's minimums, to check a model against
 * a smaller budget than any real device has.
 */
const FLOOR: Partial<Record<LimitName, number>> = { maxComputeWorkgroupsPerDimension: 65535 };

/**
 * A profile from JSON text: an object whose keys are limit names (each a positive integer) and
 * `shaderF16` (a bool); a missing limit takes the spec's minimum, an unknown key is refused.
 */
export function parseProfile(text: string, name: string): DeviceProfile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ProfileError(`${name}: not JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ProfileError(
      `${name}: a device profile is a JSON object of limits, such as {"maxStorageBuffersPerShaderStage": 8}`,
    );
  const out: Record<string, number | boolean | string> = { ...DEFAULT_PROFILE, name };
  for (const [k, x] of Object.entries(v)) {
    if (k === 'shaderF16') {
      if (typeof x !== 'boolean') throw new ProfileError(`${name}: "shaderF16" must be true or false`);
      out[k] = x;
      continue;
    }
    if (!(LIMIT_NAMES as string[]).includes(k))
      throw new ProfileError(`${name}: unknown key "${k}"; the keys are ${[...LIMIT_NAMES, 'shaderF16'].join(', ')}`);
    const floor = FLOOR[k as LimitName] ?? 1;
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < floor)
      throw new ProfileError(`${name}: "${k}" must be an integer of at least ${floor}, not ${JSON.stringify(x)}`);
    out[k] = x;
  }
  return out as unknown as DeviceProfile;
}

/** A built-in profile by name; a ProfileError lists the names. */
export function builtinProfile(name: string): DeviceProfile {
  const p = PROFILES[name];
  if (!p)
    throw new ProfileError(
      `no built-in device profile "${name}"; the built-ins are ${Object.keys(PROFILES).join(', ')}`,
    );
  return p;
}

/** The profile of a real adapter: its limits (GPUSupportedLimits) and whether it has `shader-f16`. */
export function profileFromLimits(
  limits: Readonly<Record<string, number>>,
  hasF16: boolean,
  name = 'adapter',
): DeviceProfile {
  const out: Record<string, number | boolean | string> = { ...DEFAULT_PROFILE, name, shaderF16: hasF16 };
  for (const k of LIMIT_NAMES) if (typeof limits[k] === 'number') out[k] = limits[k]!;
  return out as unknown as DeviceProfile;
}
