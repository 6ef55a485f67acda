// `fmc compile --target wgsl`: each function compiled for the device profile, what cannot fit
// printed as FM diagnostics (src/api/device-limits.ts), and `--explain-limits`: the table of
// what each kernel uses against the profile (device-profile.ts), printed before any error.

import { CompileError } from '../api/compile.js';
import { generateWgslFor, limitDiagnostics, locator, sourceLookup } from '../api/device-limits.js';
import type { Module as Lowered } from '../ir/module.js';
import { DEFAULT_PROFILE, type DeviceProfile } from '../kernels/device-profile.js';
import { lowerForDevice } from '../kernels/fit-device.js';
import type { CompiledWgsl } from '../runtime/wgsl-program.js';
import { describeProfile, limitsTable } from './device-profile.js';
import { EXIT, type Io } from './io.js';
import { CliError } from './model.js';

const lookup = sourceLookup();

/** Prints rendered diagnostics and fails as a model that does not compile. */
function fail(io: Io, file: string, text: string): never {
  io.err(`${text}\n\n`);
  throw new CliError(`cannot compile ${file}`, EXIT.user);
}

/** One function compiled for WGSL on `profile` (default: the WebGPU minimums). */
export function wgslForCli(io: Io, file: string, m: Lowered, profile = DEFAULT_PROFILE): CompiledWgsl {
  try {
    return generateWgslFor(m, profile, lookup);
  } catch (e) {
    if (e instanceof CompileError) fail(io, file, e.message);
    throw e;
  }
}

/** `--explain-limits`: each function's table on stdout; then what does not fit, as errors. */
export function explainLimits(
  io: Io,
  file: string,
  modules: readonly Lowered[],
  profile: DeviceProfile = DEFAULT_PROFILE,
): void {
  io.out(`device profile ${profile.name}: ${describeProfile(profile)}\n`);
  const problems: string[] = [];
  for (const m of modules) {
    const locate = locator(m, lookup);
    const { report } = lowerForDevice(m.graph, profile, locate);
    io.out(`\n${limitsTable(`${m.model}.${m.graph.name}`, report, profile, locate)}`);
    if (report.problems.length > 0) problems.push(limitDiagnostics(m, report.problems, profile, lookup));
  }
  if (problems.length > 0) fail(io, file, problems.join('\n\n'));
}
