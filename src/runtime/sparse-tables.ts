// Compressed sparse weights checked where a plan is bound to them: a block table
// (src/ir/sparse-table.ts) whose index names a slot outside the table, or one slot twice, or
// 2:4 metadata (src/ir/sparse-format.ts) with a group whose positions do not increase, is
// refused with the weight's name before any kernel reads it (a module folder or weights file
// edited or damaged). The kernels never read out of bounds anyway (gemm-sparse-derive.ts skips
// a slot past the table; a 2-bit position stays within its group of 4), but would compute
// garbage.

import { dimConstValue } from '../ir/dims.js';
import { parseTableName, tableNames, tableProblem } from '../ir/sparse-table.js';
import { parseTwoFourName, twoFourProblem } from '../ir/sparse-format.js';
import type { PlanParam } from '../kernels/plan.js';
import { RunError } from './run-args.js';

/** Throws a RunError naming the weight when a block table among `params` is invalid. */
export function checkSparseWeights(params: readonly PlanParam[], weights: ReadonlyMap<string, ArrayBuffer>): void {
  const byPath = new Map(params.map((p) => [p.path, p]));
  for (const p of params) {
    const two = parseTwoFourName(p.path);
    if (two?.part === 'meta') {
      const [N = 0, words = 0] = p.shape.map((d) => dimConstValue(d) ?? 0);
      const buf = weights.get(p.path)!;
      const problem =
        buf.byteLength < N * words * 4
          ? `it has ${buf.byteLength} bytes, ${N * words * 4} expected`
          : twoFourProblem(new Uint32Array(buf, 0, N * words), N, 32 * words);
      if (problem) throw new RunError(`the 2:4 metadata of weight '${two.path}' (${p.path}) is invalid: ${problem}`);
    }
    const name = parseTableName(p.path);
    if (name?.part !== 'index') continue;
    const values = byPath.get(tableNames(name.path, name.b).values);
    const [R = 0, C = 0] = p.shape.map((d) => dimConstValue(d) ?? 0);
    const cap = values ? (dimConstValue(values.shape[0]!) ?? 0) : 0;
    const buf = weights.get(p.path)!;
    const problem =
      buf.byteLength < R * C * 4
        ? `its index has ${buf.byteLength} bytes, ${R * C * 4} expected`
        : tableProblem(new Int32Array(buf, 0, R * C), C, cap);
    if (problem) throw new RunError(`the block table of weight '${name.path}' (${p.path}) is invalid: ${problem}`);
  }
}
