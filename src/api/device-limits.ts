// The WGSL target compiled for a device profile, as the API and the CLI use it: a function's
// module lowered to fit the profile (src/kernels/fit-device.ts) and rendered, where what
// cannot fit becomes FM diagnostics (FM0805, FM0806) at the `.fm` line of the op that needs it,
// thrown as a CompileError holding their rendered text, as any other compile error is.

import * as fs from 'node:fs';
import { type Diagnostic, diag, note, renderDiagnostic, type SourceLookup } from '../frontend/diagnostics.js';
import { SourceFile, type Span } from '../frontend/source.js';
import type { Node } from '../ir/graph.js';
import type { Module as Lowered } from '../ir/module.js';
import { type DeviceProfile, builtinProfile, DEFAULT_PROFILE, ProfileError } from '../kernels/device-profile.js';
import { DeviceLimitError, type DeviceLowering, fitDevice } from '../kernels/fit-device.js';
import type { LimitProblem } from '../kernels/limits.js';
import { renderWgsl } from '../codegen/wgsl.js';
import { type CompiledWgsl, compileWgslProgram } from '../runtime/wgsl-program.js';
import { CompileError } from './compile.js';

/** A profile as the API takes it: a built-in's name or a profile object (an unknown name is a CompileError). */
export function resolveProfile(p: DeviceProfile | string | undefined): DeviceProfile {
  if (p === undefined) return DEFAULT_PROFILE;
  if (typeof p !== 'string') return p;
  try {
    return builtinProfile(p);
  } catch (e) {
    if (e instanceof ProfileError) throw new CompileError(`deviceProfile: ${e.message}`);
    throw e;
  }
}

/** Source files by their display name: read from disk once (the CLI's files), or given (`extra`). */
export function sourceLookup(extra: ReadonlyMap<string, string> = new Map()): SourceLookup {
  const cache = new Map<string, SourceFile | undefined>();
  return (file) => {
    if (!cache.has(file)) {
      let text = extra.get(file);
      try {
        text ??= fs.readFileSync(file, 'utf8');
      } catch {
        // no frame for a file that cannot be read again
      }
      cache.set(file, text === undefined ? undefined : new SourceFile(file, text));
    }
    return cache.get(file);
  };
}

const WHAT: Partial<Record<LimitProblem['limit'], string>> = {
  maxStorageBuffersPerShaderStage: 'storage buffers',
  maxComputeWorkgroupStorageSize: 'bytes of workgroup storage',
  maxComputeInvocationsPerWorkgroup: 'invocations per workgroup',
  maxComputeWorkgroupsPerDimension: 'rows of workgroups in one launch',
};

function limitDiagnostic(p: LimitProblem, profile: DeviceProfile, m: Lowered, fallback: Span): Diagnostic {
  const span = (p.node && m.spans?.of(p.node)) ?? fallback;
  const limit = profile[p.limit];
  const notes = [
    note(
      `in kernel ${p.kernel} of ${m.model}.${m.graph.name} (fmc compile --target wgsl --explain-limits shows each kernel)`,
    ),
  ];
  if (p.what !== undefined)
    return diag('FM0806', span, [cap(p.what), p.needs, limit, profile.name, p.limit], {
      notes,
      help: 'use smaller sizes, or a device profile with larger buffers (--device-profile)',
    });
  return diag('FM0805', span, [p.needs, WHAT[p.limit] ?? p.limit, limit, profile.name, p.limit], {
    notes,
    help: 'write the expression in parts, or compile for a device profile with more (--device-profile)',
  });
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** `file:line:col` of a node's `.fm` source, for run-time check messages ('' when unknown). */
export function locator(m: Lowered, lookup: SourceLookup): (n: Node | undefined) => string {
  return (n) => {
    const s = n && m.spans?.of(n);
    const src = s && lookup(s.file);
    if (!s || !src) return '';
    const { line, col } = src.lineCol(s.start);
    return `${s.file}:${line}:${col}`;
  };
}

/** The rendered FM diagnostics of the problems of a module's kernels. */
export function limitDiagnostics(
  m: Lowered,
  problems: readonly LimitProblem[],
  profile: DeviceProfile,
  lookup: SourceLookup,
): string {
  const fallback = m.graph.outputs.map((o) => m.spans?.of(o.node)).find((s) => s !== undefined);
  const at = fallback ?? { file: m.model, start: 0, end: 0 };
  const text = problems.map((p) => renderDiagnostic(limitDiagnostic(p, profile, m, at), lookup));
  return [...new Set(text)].join('\n\n');
}

/** A module lowered to fit `profile`; what does not fit is a CompileError with FM diagnostics. */
export function lowerWgslForDevice(m: Lowered, profile: DeviceProfile, lookup: SourceLookup): DeviceLowering {
  try {
    return fitDevice(m.graph, profile, locator(m, lookup));
  } catch (e) {
    if (!(e instanceof DeviceLimitError)) throw e;
    throw new CompileError(limitDiagnostics(m, e.problems, profile, lookup));
  }
}

/** A module compiled for WGSL on a device with `profile`'s limits. */
export function generateWgslFor(m: Lowered, profile: DeviceProfile, lookup: SourceLookup): CompiledWgsl {
  const { plan } = lowerWgslForDevice(m, profile, lookup);
  return compileWgslProgram({ ...plan, checks: [...(m.requires ?? []), ...plan.checks] }, (p) =>
    renderWgsl(p, undefined, { shaderF16: profile.shaderF16 }),
  );
}
