// load() of a WGSL module (plan.json's "target": "wgsl"): each function's kernels are WGSL
// files, each with its sha256 in sources[fn] and a header line holding the sha256 of the
// plan; how each kernel uses its buffers is recorded beside it (the pipelines' layouts).

import * as path from 'node:path';
import { isDtype } from '../ir/dtype.js';
import type { Plan } from '../kernels/plan.js';
import { PlanFormatError, planFromJson } from '../runtime/plan-json.js';
import type { WgslProgram } from '../runtime/webgpu.js';
import { checkWgslPlanMatches } from '../runtime/wgsl-program.js';
import { WGSL_FILE, sha256 } from './module.js';

type J = Record<string, unknown>;
const isObject = (v: unknown): v is J => !!v && typeof v === 'object' && !Array.isArray(v);
const ACCESS: readonly string[] = ['read', 'write', 'readwrite'];

/** One function of a WGSL module: its plan and program, every file checked against plan.json. */
export function readWgslFunction(
  root: string,
  fn: string,
  planObj: J,
  entry: unknown,
  readText: (file: string, what: string) => string,
): { fn: string; plan: Plan; program: WgslProgram } {
  const manifest = path.join(root, 'plan.json');
  const bad = (what: string) => new PlanFormatError(`${manifest}: ${what}`);
  if (!isObject(entry) || !Array.isArray(entry.kernels) || !Number.isSafeInteger(entry.dimVec4s))
    throw bad(`no valid WGSL source entry for function '${fn}'`);
  const dimVec4s = entry.dimVec4s as number;
  const kernels = entry.kernels.map((k: unknown, i) => {
    if (!isObject(k) || typeof k.file !== 'string' || !WGSL_FILE.test(k.file) || typeof k.sha256 !== 'string')
      throw bad(`kernel ${i} of '${fn}' has no valid source entry`);
    const params = Array.isArray(k.params) ? k.params : [];
    if (
      !Array.isArray(k.params) ||
      !params.every((p) => isObject(p) && ACCESS.includes(p.access as string) && isDtype(p.dtype as string))
    )
      throw bad(`kernel ${i} of '${fn}' has no valid params`);
    const file = path.join(root, k.file);
    const code = readText(file, `WGSL kernel ${i} of '${fn}'`);
    if (sha256(code) !== k.sha256)
      throw new PlanFormatError(`${file}: the WGSL source does not match plan.json (edited?); compile the model again`);
    return { name: `k${i}`, code, params: params as WgslProgram['kernels'][number]['params'] };
  });
  checkWgslPlanMatches(
    `${JSON.stringify(planObj)}\n`,
    kernels.map((k) => k.code),
    manifest,
  );
  const plan = planFromJson(planObj, kernels.length);
  if (plan.name !== fn) throw bad(`the plan of '${fn}' is named '${plan.name}'`);
  if (plan.slots.length > dimVec4s * 4 || dimVec4s < 1) throw bad(`'${fn}' has a bad dimVec4s`);
  if (plan.kernels.some((k) => !k.grid)) throw bad(`a kernel of '${fn}' has no grid`);
  return { fn, plan, program: { kernels: kernels.map((k, i) => ({ ...k, name: plan.kernels[i]!.name })), dimVec4s } };
}
